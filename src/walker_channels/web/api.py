"""The HTTP API as a whole: every endpoint, and the one way a request is answered.

:meth:`HttpApi.handle` checks access, runs the handler and turns any error into its JSON
answer, so both adapters behave the same by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from walker_channels.app.config import WebConfig
from walker_channels.app.runtime import Services
from walker_channels.exceptions import ConfigurationError
from walker_channels.models import Principal
from walker_channels.ports import TenantRegistry
from walker_channels.services.dead_letters import DeadLetters
from walker_channels.web.admin_endpoints import AdminEndpoints
from walker_channels.web.auth import require_access
from walker_channels.web.channel_endpoints import SendEndpoints
from walker_channels.web.channel_webhook_endpoints import ChannelWebhookEndpoints
from walker_channels.web.consent_endpoints import ConsentEndpoints
from walker_channels.web.conversation_endpoints import ConversationEndpoints
from walker_channels.web.dead_letter_endpoints import DeadLetterEndpoints
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.errors import error_response
from walker_channels.web.health_endpoints import HealthEndpoints
from walker_channels.web.limits import check_declared_length
from walker_channels.web.outbound_endpoints import OutboundEndpoints
from walker_channels.web.privacy_endpoints import PrivacyEndpoints
from walker_channels.web.requests import Headers, NeutralRequest, NeutralResponse
from walker_channels.web.tenant_endpoints import TenantEndpoints
from walker_channels.web.twilio_endpoints import TWILIO_CHANNELS, TwilioEndpoints


class _Group(Protocol):
    def endpoints(self) -> list[Endpoint]: ...


class HttpApi:
    """Every endpoint of walker-channels, framework-neutral.

    ``pages`` are the reviewer console's HTML pages: adapters serve them like the endpoints,
    but leave them out of the API's documentation.
    """

    def __init__(
        self, endpoints: Sequence[Endpoint], config: WebConfig, pages: Sequence[Endpoint] = ()
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.config = config
        self.pages = tuple(pages)

    @classmethod
    def from_services(cls, services: Services, *, prefix: str = "") -> HttpApi:
        """Every endpoint the services support (SMS and email ones only with their transport).

        ``prefix`` is where the adapter serves them: the console's links and cookies need it.
        """
        groups: list[_Group] = []
        for spec in services.channels.values():
            if spec.webhook is not None:
                groups.append(
                    ChannelWebhookEndpoints(
                        spec,
                        spec.webhook,
                        conversations=services.conversations,
                        delivery=services.delivery,
                        dispatcher=services.dispatcher,
                        clock=services.clock,
                    )
                )
                groups.append(SendEndpoints(spec, services.proactive))
            elif spec.name in TWILIO_CHANNELS:  # Twilio's signed form webhooks, and /send
                twilio = TwilioEndpoints(
                    channel=spec.name,
                    config=services.web,
                    conversations=services.conversations,
                    delivery=services.delivery,
                    clock=services.clock,
                    dispatcher=services.dispatcher,
                )
                groups += [twilio, SendEndpoints(spec, services.proactive)]
        if services.email is not None:
            from walker_channels.web.email_endpoints import EmailEndpoints

            email = services.email
            groups.append(
                EmailEndpoints(emails=email.emails, briefs=email.briefs, scheduler=email.scheduler)
            )
        groups.append(
            AdminEndpoints(
                monitoring=services.stores.monitoring, review=services.review, clock=services.clock
            )
        )
        # After the admin group: its /conversations/stats and /whatsapp paths come first.
        groups.append(ConversationEndpoints(services.handoff))
        groups.append(OutboundEndpoints(sender=services.sender, review=services.review))
        groups.append(PrivacyEndpoints(services.privacy))
        if isinstance(services.stores.tenants, TenantRegistry):  # a host's own resolver: none
            groups.append(TenantEndpoints(services.stores.tenants))
        if services.consent is not None:
            groups.append(ConsentEndpoints(services.consent, services.stores.tenant_settings))
        groups.append(HealthEndpoints(queue=services.stores.inbox, clock=services.clock))
        groups.append(DeadLetterEndpoints(_dead_letters(services)))
        endpoints = [endpoint for group in groups for endpoint in group.endpoints()]
        return cls(endpoints, services.web, pages=_console(services, prefix))

    @property
    def max_body_bytes(self) -> int:
        """The largest request body accepted (larger ones get 413)."""
        return self.config.max_body_bytes

    def check_headers(self, headers: Headers) -> None:
        """Checks an adapter runs before reading the body (a declared length over the limit)."""
        check_declared_length(headers, self.config.max_body_bytes)

    async def handle(
        self, endpoint: Endpoint, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Answer ``request``: access check, handler, and every error mapped to a response."""
        try:
            caller = require_access(endpoint.access, principal)
            return await endpoint.handler(request, caller)
        except Exception as exc:  # the HTTP boundary answers every error; 500s are logged
            return error_response(exc, where=endpoint.name)

    def refuse(self, endpoint: Endpoint, error: Exception) -> NeutralResponse:
        """The answer to an error an adapter met before :meth:`handle` (reading the body)."""
        return error_response(error, where=endpoint.name)


def _dead_letters(services: Services) -> DeadLetters:
    return DeadLetters(
        approvals=services.stores.approvals,
        conversations=services.stores.conversations,
        agent=services.agent,
        review=services.review,
        config=services.config,
        clock=services.clock,
    )


def _console(services: Services, prefix: str) -> list[Endpoint]:
    if not services.web.console_path:
        return []
    try:
        from walker_channels.web.console import console_pages
    except ModuleNotFoundError as exc:
        if exc.name != "jinja2":
            raise
        raise ConfigurationError(
            'the reviewer console needs Jinja2: pip install "walker-channels[fastapi]" (or '
            "[flask]), or set WALKER_CONSOLE_PATH to an empty value to serve no console"
        ) from None
    return console_pages(services, prefix=prefix)
