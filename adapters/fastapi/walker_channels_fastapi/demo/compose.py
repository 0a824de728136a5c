"""The demo's services: real ones from the plan's settings, with stand-ins where none is set.

:func:`build_demo` calls :func:`~walker_channels.web.build_services` with the plan's settings,
so a configured Twilio, SMTP server or Langflow flow is used as in production; only what is
missing is replaced (the simulated Twilio, emails printed instead of sent, the echo agent).
Framework-neutral: ``walker_channels_fastapi.demo`` serves the result.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from walker_channels.agents import echo_agent
from walker_channels.app import Services, build_services
from walker_channels.clock import SystemClock
from walker_channels.email import ConsoleEmailTransport
from walker_channels.exceptions import ConfigurationError
from walker_channels.meta import META_WHATSAPP
from walker_channels.models import Address, AgentRequest, Channel, Principal
from walker_channels.ports import AgentRunner, Clock
from walker_channels.sql import SqlTenantResolver
from walker_channels.testing.simulated_twilio import SimulatedTwilio
from walker_channels_fastapi.demo.config import DEMO_TENANT, SIMULATED_ACCOUNT_SID, DemoPlan
from walker_channels_fastapi.demo.status_reports import DeliveryReporter

DEMO_SUPERUSER = Principal(user_id="demo", is_superuser=True)
LOW_CONFIDENCE_WORD = "refund"


@dataclass(frozen=True)
class Demo:
    """The demo's services and its stand-ins (``None`` where a real provider is configured)."""

    plan: DemoPlan
    services: Services
    simulator: SimulatedTwilio | None
    reporter: DeliveryReporter | None
    emails: list[EmailMessage] | None
    """The emails printed instead of sent."""

    def caller(self, bearer_token: str | None) -> Principal | None:
        """The demo superuser for the plan's API token, else nobody."""
        expected = self.plan.api_token.encode()
        if not bearer_token or not expected:
            return None
        return DEMO_SUPERUSER if hmac.compare_digest(bearer_token.encode(), expected) else None


def build_demo(plan: DemoPlan, *, clock: Clock | None = None) -> Demo:
    """Build (not start) the demo's services; starting them also seeds the demo tenant."""
    clock = clock or SystemClock()
    console = ConsoleEmailTransport(clock=clock) if plan.simulated_email else None

    async def seed(services: Services) -> None:
        await seed_tenant(services, tenant_numbers(plan))

    services = build_services(
        plan.settings,
        clock=clock,
        agent=None if plan.langflow_agent else demo_agent(plan.confidence),
        email_transport=console,
        on_start=[seed],
    )
    simulator, reporter = None, None
    if plan.simulated_twilio:
        simulator = SimulatedTwilio(
            account_sid=SIMULATED_ACCOUNT_SID, auth_token=plan.twilio_token, clock=clock
        )
        reporter = DeliveryReporter(simulator, auth_token=plan.twilio_token)
    emails = console.outbox if console is not None else None
    return Demo(plan, services, simulator, reporter, emails)


def demo_agent(confidence: float | None) -> AgentRunner:
    """The echo agent: at ``confidence``, or unsure (0.2) only when the text mentions refunds."""
    if confidence is not None:
        return echo_agent(confidence=confidence)

    def score(request: AgentRequest) -> float:
        return 0.2 if LOW_CONFIDENCE_WORD in request.text.lower() else 0.9

    return echo_agent(confidence=score)


def tenant_numbers(plan: DemoPlan) -> list[Address]:
    """The demo tenant's numbers: its WhatsApp number, its SMS number when it has one, its
    Meta phone number id when the ``META_*`` settings serve that channel, and its Telegram bot
    when the ``TELEGRAM_*`` settings do."""
    numbers = [Address(channel=Channel.WHATSAPP, value=plan.business_number)]
    if plan.sms_number is not None:
        numbers.append(Address(channel=Channel.SMS, value=plan.sms_number))
    meta = plan.settings.meta_config()
    if meta is not None:  # WhatsApp over Meta's Cloud API: the tenant owns its phone number id
        numbers.append(Address(channel=META_WHATSAPP, value=meta.phone_number_id))
    telegram = plan.settings.telegram_config()
    if telegram is not None:  # the tenant owns the bot, by the bot's id
        numbers.append(telegram.bot_address)
    return numbers


async def seed_tenant(services: Services, numbers: Sequence[Address]) -> None:
    """Give the demo tenant its numbers (again on every start: it is idempotent)."""
    tenants = services.stores.tenants
    if not isinstance(tenants, SqlTenantResolver):
        raise ConfigurationError("the demo seeds its tenant in the SQL store it builds itself")
    for number in numbers:
        await tenants.add_number(DEMO_TENANT, number)
