"""The composition root: build every service once, from settings or from objects passed in.

Nothing is built at import time. Whatever :func:`build_services` creates itself (the SQL
engine, the Twilio and SMTP clients, the Langflow client) it also closes in
:meth:`Services.close`; objects passed in stay the caller's to close.
"""

from __future__ import annotations

from pathlib import Path

from walker_channels.app.config import WebConfig, WebhookProcessing
from walker_channels.app.runtime import EmailServices, Hook, Services, StoreSet
from walker_channels.app.settings import Settings
from walker_channels.app.sweeper import Sweeper
from walker_channels.clock import SystemClock
from walker_channels.exceptions import ConfigurationError
from walker_channels.models import Channel
from walker_channels.ports import (
    AgentRunner,
    BriefDataSource,
    Clock,
    MessageTransport,
    ReviewNotifier,
)
from walker_channels.routing import RoutingPolicy
from walker_channels.services import (
    ConversationService,
    DeliveryTracker,
    OutboundSender,
    ProactiveSender,
    ReviewService,
    ServiceConfig,
)

STATUS_CALLBACK_PATH = "/api/v1/channels/whatsapp/status"


def build_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    stores: StoreSet | None = None,
    agent: AgentRunner | None = None,
    whatsapp_transport: MessageTransport | None = None,
    email_transport: MessageTransport | None = None,
    brief_data: BriefDataSource | None = None,
    email_agent: AgentRunner | None = None,
    email_templates: str | Path | None = None,
    service_config: ServiceConfig | None = None,
    web_config: WebConfig | None = None,
    review_notifier: ReviewNotifier | None = None,
) -> Services:
    """Build the services; every keyword replaces the part the settings would have built.

    ``settings`` defaults to :class:`Settings` read from the environment. Without an email
    transport (``SMTP_HOST`` or ``email_transport``) the email endpoints are not served.
    """
    settings = settings if settings is not None else Settings()
    start: list[Hook] = []
    close: list[Hook] = []
    config = service_config or service_config_from(settings)
    stores = stores or _sql_stores(settings, start, close)
    services = _assemble(
        config=config,
        web=web_config or settings.web_config(),
        clock=clock or SystemClock(),
        stores=stores,
        agent=agent or _langflow_agent(settings, close),
        whatsapp=whatsapp_transport or _twilio_transport(settings, close),
        notifier=review_notifier,
    )
    services.email = _email(
        settings,
        close,
        transport=email_transport,
        services=services,
        data=brief_data,
        agent=email_agent or services.agent,
        templates=email_templates,
    )
    # With queue processing the web process only accepts: a worker process sweeps.
    queued = settings.walker_webhook_processing is WebhookProcessing.QUEUE
    if settings.walker_sweep_interval > 0 and not queued:
        sweeper = Sweeper(
            conversations=services.conversations,
            review=services.review,
            interval=settings.walker_sweep_interval,
        )
        start.append(sweeper.start)
        close.append(sweeper.stop)
    services.on_start, services.on_close = start, close
    return services


def _assemble(
    *,
    config: ServiceConfig,
    web: WebConfig,
    clock: Clock,
    stores: StoreSet,
    agent: AgentRunner,
    whatsapp: MessageTransport,
    notifier: ReviewNotifier | None,
) -> Services:
    events = stores.events
    sender = OutboundSender(
        transports={Channel.WHATSAPP: whatsapp},
        ledger=stores.ledger,
        events=events,
        clock=clock,
        config=config,
    )
    return Services(
        config=config,
        web=web,
        clock=clock,
        stores=stores,
        agent=agent,
        transports={Channel.WHATSAPP: whatsapp},
        sender=sender,
        conversations=ConversationService(
            config=config,
            tenants=stores.tenants,
            events=events,
            queue=stores.inbox,
            agent=agent,
            approvals=stores.approvals,
            sender=sender,
            clock=clock,
        ),
        review=ReviewService(
            config=config,
            approvals=stores.approvals,
            events=events,
            sender=sender,
            clock=clock,
            notifier=notifier,
        ),
        proactive=ProactiveSender(config=config, events=events, sender=sender, clock=clock),
        delivery=DeliveryTracker(ledger=stores.ledger, events=events),
    )


def service_config_from(settings: Settings) -> ServiceConfig:
    """The services' settings: the pseudonym key and the confidence threshold."""
    if settings.walker_pseudonym_key is None:
        raise ConfigurationError(
            "set WALKER_PSEUDONYM_KEY: a long random secret that keeps people's pseudonyms "
            "stable (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return ServiceConfig(
        pseudonym_key=settings.walker_pseudonym_key,
        routing=RoutingPolicy(threshold=settings.walker_confidence_threshold),
    )


def _sql_stores(settings: Settings, start: list[Hook], close: list[Hook]) -> StoreSet:
    from walker_channels.sql import SqlStores

    stores = SqlStores.from_url(settings.walker_database_url)
    if settings.walker_migrate_on_start:
        start.append(stores.upgrade)
    close.append(stores.dispose)
    return stores


def _langflow_agent(settings: Settings, close: list[Hook]) -> AgentRunner:
    from walker_channels.agents import LangflowConfig, LangflowRunner

    if not (settings.langflow_base_url and settings.langflow_flow_id):
        raise ConfigurationError(
            "no agent is configured: set LANGFLOW_BASE_URL and LANGFLOW_FLOW_ID, "
            "or pass agent= to build_services"
        )
    runner = LangflowRunner(
        LangflowConfig(
            base_url=settings.langflow_base_url,
            api_key=settings.langflow_api_key,
            flow_id=settings.langflow_flow_id,
        )
    )
    close.append(runner.aclose)
    return runner


def _twilio_transport(settings: Settings, close: list[Hook]) -> MessageTransport:
    from walker_channels.twilio import TwilioConfig, TwilioTransport

    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise ConfigurationError(
            "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_WHATSAPP_FROM, or pass whatsapp_transport= to build_services"
        )
    callback = settings.walker_status_callback_url or (
        settings.walker_public_url.rstrip("/") + STATUS_CALLBACK_PATH
        if settings.walker_public_url
        else None
    )
    transport = TwilioTransport(
        TwilioConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            channel=Channel.WHATSAPP,
            api_base_url=settings.twilio_api_base_url,
            sender=settings.twilio_whatsapp_from,
            status_callback=callback,
        )
    )
    close.append(transport.aclose)
    return transport


def _email(
    settings: Settings,
    close: list[Hook],
    *,
    transport: MessageTransport | None,
    services: Services,
    data: BriefDataSource | None,
    agent: AgentRunner,
    templates: str | Path | None,
) -> EmailServices | None:
    if transport is None and not settings.smtp_host:
        return None
    from walker_channels.services.email import (
        BriefScheduler,
        ConversationBriefData,
        DailyBriefService,
        EmailOutbox,
        EmailService,
        TemplateCatalog,
    )

    outbox = EmailOutbox(
        transport=transport or _smtp_transport(settings, close),
        events=services.stores.events,
        clock=services.clock,
        pseudonym_key=services.config.pseudonym_key,
    )
    catalog = TemplateCatalog(templates or settings.walker_email_templates)
    briefs = DailyBriefService(
        outbox=outbox,
        templates=catalog,
        data=data or ConversationBriefData(services.stores.monitoring),
        agent=agent,
        clock=services.clock,
    )
    return EmailServices(
        emails=EmailService(outbox=outbox, templates=catalog),
        briefs=briefs,
        scheduler=BriefScheduler(
            store=services.stores.schedules, briefs=briefs, clock=services.clock
        ),
    )


def _smtp_transport(settings: Settings, close: list[Hook]) -> MessageTransport:
    from walker_channels.email import SmtpConfig, SmtpSecurity, SmtpTransport

    if not settings.smtp_from:
        raise ConfigurationError("set SMTP_FROM, the sender address of every email")
    transport = SmtpTransport(
        SmtpConfig(
            host=settings.smtp_host or "",
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            security=SmtpSecurity(settings.smtp_security),
        )
    )
    close.append(transport.aclose)
    return transport
