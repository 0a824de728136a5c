"""The composition root: build every service once, from settings or from objects passed in.

Nothing is built at import time. Whatever :func:`build_services` creates itself (the SQL
engine, the Twilio and SMTP clients, the Langflow client) it registers with the services'
lifecycle, which closes it in :meth:`Services.close`; objects passed in stay the caller's to
close. The result is finished: nothing is assigned to it afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from walker_channels.app.config import WebConfig, WebhookProcessing
from walker_channels.app.runtime import EmailServices, Lifecycle, Services, StartHook, StoreSet
from walker_channels.app.settings import Settings
from walker_channels.app.sweeper import Sweeper
from walker_channels.app.wakeup import wakeup_for
from walker_channels.channels import (
    BUILT_IN_LABELS,
    DEFAULT_ADDRESS_RULES,
    DEFAULT_SERVICE_WINDOWS,
    ChannelSpec,
    any_address,
)
from walker_channels.clock import SystemClock
from walker_channels.dispatch import (
    BackgroundDispatcher,
    InlineDispatcher,
    PollingDispatcher,
)
from walker_channels.exceptions import ConfigurationError
from walker_channels.models import Channel
from walker_channels.ports import (
    AgentRunner,
    BriefDataSource,
    ChannelEvents,
    Clock,
    Dispatcher,
    MessageTransport,
    Pacer,
    RollupSource,
    SentimentScorer,
)
from walker_channels.services import (
    ConsentService,
    ConversationService,
    DeliveryTracker,
    HandoffService,
    OutboundSender,
    PrivacyService,
    ProactiveSender,
    ReviewService,
    ServiceConfig,
)
from walker_channels.telemetry import Telemetry, default_telemetry


def build_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    stores: StoreSet | None = None,
    agent: AgentRunner | None = None,
    whatsapp_transport: MessageTransport | None = None,
    sms_transport: MessageTransport | None = None,
    email_transport: MessageTransport | None = None,
    brief_data: BriefDataSource | None = None,
    email_agent: AgentRunner | None = None,
    email_templates: str | Path | None = None,
    service_config: ServiceConfig | None = None,
    web_config: WebConfig | None = None,
    events_hooks: ChannelEvents | None = None,
    on_start: Sequence[StartHook] = (),
    dispatcher: Dispatcher | None = None,
    channels: Sequence[ChannelSpec] = (),
    telemetry: Telemetry | None = None,
    sentiment: SentimentScorer | None = None,
) -> Services:
    """Build the services; every keyword replaces the part the settings would have built.

    ``settings`` defaults to :class:`Settings` read from the environment. SMS is served when
    ``TWILIO_SMS_FROM`` (or ``sms_transport``) is set; email when ``SMTP_HOST`` (or
    ``email_transport``) is. ``on_start`` hooks run, after the migrations, when the services
    start (seed a tenant's number, say); each gets the services. ``events_hooks`` hears
    drafts, handoffs, failed deliveries and messages (see :class:`ChannelEvents`).
    ``dispatcher`` gets every message a webhook accepts (a task engine's, say); without one,
    ``WALKER_WEBHOOK_PROCESSING`` picks a built-in (:mod:`walker_channels.dispatch`).
    ``channels`` adds channels (or replaces a built-in one): each spec's webhook is served at
    ``/api/v1/channels/{name}/webhook`` and its transport answers on it.
    ``telemetry`` traces and counts the flow (default: OpenTelemetry's global providers).
    ``sentiment`` scores inbound messages (default: the one ``WALKER_SENTIMENT`` names, if any).
    """
    settings = settings if settings is not None else Settings()
    config = service_config or settings.service_config()
    lifecycle = Lifecycle()
    telemetry = telemetry or default_telemetry()
    clock = clock or SystemClock()
    stores = stores or _sql_stores(settings, lifecycle, migrate=settings.walker_migrate_on_start)
    agent = agent or _langflow_agent(settings, lifecycle)
    transports = _transports(
        settings, lifecycle, whatsapp=whatsapp_transport, sms=sms_transport, email=email_transport
    )
    configured = [
        spec
        for spec in (_meta_channel(settings, lifecycle), _telegram_channel(settings, lifecycle))
        if spec is not None
    ]
    specs = _channel_specs(transports, [*configured, *channels])
    consent = ConsentService(
        config=config,
        store=stores.consent,
        settings=stores.tenant_settings,
        events=stores.events,
        clock=clock,
    )
    sender = OutboundSender(
        transports={name: spec.transport for name, spec in specs.items()},
        service_windows={
            name: spec.service_window for name, spec in specs.items() if spec.service_window
        },
        ledger=stores.ledger,
        clock=clock,
        config=config,
        hooks=events_hooks,
        tenant_pacer=_tenant_pacer(settings, lifecycle),
        telemetry=telemetry,
        consent=consent,
    )
    # Reviewer emails hear drafts and handoffs, which the sender itself never reports.
    events_hooks = _with_reviewer_emails(settings, sender, events_hooks)
    proactive = ProactiveSender(
        config=config,
        events=stores.events,
        sender=sender,
        clock=clock,
        tenant_settings=stores.tenant_settings,
    )
    handoff = HandoffService(
        config=config,
        conversations=stores.conversations,
        events=stores.events,
        proactive=proactive,
        clock=clock,
        hooks=events_hooks,
    )
    review = ReviewService(
        config=config,
        approvals=stores.approvals,
        events=stores.events,
        sender=sender,
        clock=clock,
        hooks=events_hooks,
        telemetry=telemetry,
        tenant_settings=stores.tenant_settings,
    )
    conversations = ConversationService(
        config=config,
        tenants=stores.tenants,
        events=stores.events,
        queue=stores.inbox,
        agent=agent,
        approvals=stores.approvals,
        sender=sender,
        clock=clock,
        conversations=stores.conversations,
        handoff=handoff,
        hooks=events_hooks,
        telemetry=telemetry,
        sentiment=sentiment if sentiment is not None else _sentiment_scorer(settings),
        consent=consent,
        accepts=stores.accepts,
        turns=stores.turns,
    )
    email = (
        _email(
            settings,
            sender,
            stores,
            clock,
            data=brief_data,
            agent=email_agent or agent,
            templates=email_templates,
        )
        if Channel.EMAIL in transports
        else None
    )
    privacy = PrivacyService(
        store=stores.privacy, config=config, clock=clock, retention=settings.retention()
    )
    for hook in on_start:
        lifecycle.starts(hook)
    _observe_queue(lifecycle, telemetry, stores, clock)
    _sweep(
        settings,
        lifecycle,
        stores=stores,
        conversations=conversations,
        review=review,
        privacy=privacy,
        sender=sender,
        handoff=handoff,
    )
    web = web_config or settings.web_config()
    if dispatcher is None:
        dispatcher = _builtin_dispatcher(web.webhook_processing, conversations, stores)
    return Services(
        config=config,
        web=web,
        clock=clock,
        stores=stores,
        agent=agent,
        channels=specs,
        sender=sender,
        conversations=conversations,
        review=review,
        proactive=proactive,
        delivery=DeliveryTracker(ledger=stores.ledger, events=stores.events, hooks=events_hooks),
        handoff=handoff,
        privacy=privacy,
        dispatcher=dispatcher,
        email=email,
        consent=consent,
        lifecycle=lifecycle,
    )


@asynccontextmanager
async def email_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    stores: StoreSet | None = None,
    email_transport: MessageTransport | None = None,
    brief_data: BriefDataSource | None = None,
    email_agent: AgentRunner | None = None,
    email_templates: str | Path | None = None,
    brief_lease: timedelta | None = None,
) -> AsyncIterator[EmailServices]:
    """Only the email services (for ``briefs run-due`` and other jobs), closed on exit.

    Needs an email transport (``SMTP_*`` or ``email_transport``) and the pseudonym key; no
    agent or Twilio account. The schema must exist already (``walker-channels db upgrade``).
    """
    settings = settings if settings is not None else Settings()
    config = settings.service_config()
    lifecycle = Lifecycle()
    try:
        clock = clock or SystemClock()
        stores = stores or _sql_stores(settings, lifecycle, migrate=False)
        transport = email_transport or _smtp(settings, lifecycle)
        sender = OutboundSender(
            transports={Channel.EMAIL: transport},
            ledger=stores.ledger,
            clock=clock,
            config=config,
            tenant_pacer=_tenant_pacer(settings, lifecycle),
        )
        email = _email(
            settings,
            sender,
            stores,
            clock,
            data=brief_data,
            agent=email_agent,
            templates=email_templates,
            lease=brief_lease,
        )
        yield email
    finally:
        await lifecycle.close()


def _with_reviewer_emails(
    settings: Settings, sender: OutboundSender, hooks: ChannelEvents | None
) -> ChannelEvents | None:
    """The host's hooks, joined by emails to ``WALKER_REVIEWER_EMAILS`` when email is served."""
    reviewers = [r.strip() for r in (settings.walker_reviewer_emails or "").split(",") if r.strip()]
    if not reviewers or Channel.EMAIL not in sender.channels:
        return hooks
    from walker_channels.services.email import ReviewerEmails
    from walker_channels.services.hooks import FanOut

    emails = ReviewerEmails(
        sender=sender, reviewers=reviewers, console_url=settings.walker_console_url
    )
    return emails if hooks is None else FanOut(hooks, emails)


def _channel_specs(
    transports: dict[Channel, MessageTransport], extra: Sequence[ChannelSpec]
) -> dict[Channel, ChannelSpec]:
    """The built-in channels that have a transport, then the host's (which may replace one)."""
    specs = {
        name: ChannelSpec(
            name=name,
            transport=transport,
            label=BUILT_IN_LABELS[name],
            service_window=DEFAULT_SERVICE_WINDOWS.get(name),
            address=DEFAULT_ADDRESS_RULES.get(name, any_address),
        )
        for name, transport in transports.items()
    }
    for spec in extra:
        specs[spec.name] = spec
    return specs


def _transports(
    settings: Settings,
    lifecycle: Lifecycle,
    *,
    whatsapp: MessageTransport | None,
    sms: MessageTransport | None,
    email: MessageTransport | None,
) -> dict[Channel, MessageTransport]:
    transports = {Channel.WHATSAPP: whatsapp or _twilio(settings, Channel.WHATSAPP, lifecycle)}
    if sms is not None or settings.twilio_sms_from:
        transports[Channel.SMS] = sms or _twilio(settings, Channel.SMS, lifecycle)
    if email is not None or settings.smtp_host:
        transports[Channel.EMAIL] = email or _smtp(settings, lifecycle)
    return transports


def _meta_channel(settings: Settings, lifecycle: Lifecycle) -> ChannelSpec | None:
    """WhatsApp over Meta's Cloud API when ``META_WHATSAPP_TOKEN``, ``META_APP_SECRET`` and
    ``META_PHONE_NUMBER_ID`` are set."""
    config = settings.meta_config()
    if config is None:
        return None
    from walker_channels.meta import MetaTransport, meta_channel

    transport = MetaTransport(config)
    lifecycle.closes(transport.aclose)
    return meta_channel(config, transport=transport)


def _telegram_channel(settings: Settings, lifecycle: Lifecycle) -> ChannelSpec | None:
    """A Telegram bot when ``TELEGRAM_BOT_TOKEN`` is set."""
    config = settings.telegram_config()
    if config is None:
        return None
    from walker_channels.telegram import TelegramTransport, telegram_channel

    transport = TelegramTransport(config)
    lifecycle.closes(transport.aclose)
    return telegram_channel(config, transport=transport)


def _sql_stores(settings: Settings, lifecycle: Lifecycle, *, migrate: bool) -> StoreSet:
    """SQL stores on the configured database, migrated when the services start if ``migrate``."""
    from walker_channels.sql import SqlStores

    stores = SqlStores.from_url(settings.database_url())
    if migrate:

        async def upgrade(_: Services) -> None:
            await stores.upgrade()

        lifecycle.starts(upgrade)
    lifecycle.closes(stores.dispose)
    return stores


def _langflow_agent(settings: Settings, lifecycle: Lifecycle) -> AgentRunner:
    from walker_channels.agents import LangflowRunner

    config = settings.langflow_config()
    if config is None:
        raise ConfigurationError(
            "no agent is configured: set LANGFLOW_BASE_URL and LANGFLOW_FLOW_ID, "
            "or pass agent= to build_services"
        )
    runner = LangflowRunner(config)
    lifecycle.closes(runner.aclose)
    return runner


def _sentiment_scorer(settings: Settings) -> SentimentScorer | None:
    if settings.walker_sentiment == "off":
        return None
    from walker_channels.sentiment import VaderScorer

    return VaderScorer()


def _twilio(settings: Settings, channel: Channel, lifecycle: Lifecycle) -> MessageTransport:
    from walker_channels.twilio import TwilioTransport

    transport = TwilioTransport(settings.twilio_config(channel))
    lifecycle.closes(transport.aclose)
    return transport


def _smtp(settings: Settings, lifecycle: Lifecycle) -> MessageTransport:
    from walker_channels.email import SmtpTransport

    config = settings.smtp_config()
    if config is None:
        raise ConfigurationError("set SMTP_HOST, or pass email_transport= to build_services")
    transport = SmtpTransport(config)
    lifecycle.closes(transport.aclose)
    return transport


def _email(
    settings: Settings,
    sender: OutboundSender,
    stores: StoreSet,
    clock: Clock,
    *,
    data: BriefDataSource | None,
    agent: AgentRunner | None,
    templates: str | Path | None,
    lease: timedelta | None = None,
) -> EmailServices:
    from walker_channels.services.email import (
        DEFAULT_LEASE,
        BriefScheduler,
        ConversationBriefData,
        DailyBriefService,
        EmailService,
        TemplateCatalog,
    )

    catalog = TemplateCatalog(templates or settings.walker_email_templates)
    briefs = DailyBriefService(
        sender=sender,
        templates=catalog,
        data=data or ConversationBriefData(stores.monitoring),
        agent=agent,
        clock=clock,
    )
    return EmailServices(
        emails=EmailService(sender=sender, templates=catalog),
        briefs=briefs,
        scheduler=BriefScheduler(
            store=stores.schedules, briefs=briefs, clock=clock, lease=lease or DEFAULT_LEASE
        ),
    )


def _tenant_pacer(settings: Settings, lifecycle: Lifecycle) -> Pacer | None:
    """``WALKER_RATE_PER_TENANT``, counted in ``WALKER_RATE_LIMIT_STORAGE`` when it is set."""
    rate, storage = settings.walker_rate_per_tenant, settings.walker_rate_limit_storage
    if rate is None:
        return None
    if storage is not None and not storage.startswith(("redis://", "rediss://")):
        raise ConfigurationError("WALKER_RATE_LIMIT_STORAGE must be a Redis URL: redis://host/db")
    from walker_channels.twilio.pacing import TENANT_NAMESPACE, pacer_for

    pacer = pacer_for(rate, storage, namespace=TENANT_NAMESPACE)
    lifecycle.closes(pacer.aclose)
    return pacer


def _observe_queue(
    lifecycle: Lifecycle, telemetry: Telemetry, stores: StoreSet, clock: Clock
) -> None:
    """The queue gauges read this inbox while the services run (on their loop)."""

    async def watch(_: Services) -> None:
        telemetry.watch_queue(stores.inbox, clock)

    async def unwatch() -> None:
        telemetry.unwatch_queue(stores.inbox)

    lifecycle.starts(watch)
    lifecycle.closes(unwatch)


def _builtin_dispatcher(
    processing: WebhookProcessing, conversations: ConversationService, stores: StoreSet
) -> Dispatcher:
    if processing is WebhookProcessing.INLINE:
        return InlineDispatcher(conversations)
    if processing is WebhookProcessing.QUEUE:
        return PollingDispatcher(wakeup_for(stores))
    return BackgroundDispatcher(conversations)


def _sweep(
    settings: Settings,
    lifecycle: Lifecycle,
    *,
    stores: StoreSet,
    conversations: ConversationService,
    review: ReviewService,
    privacy: PrivacyService,
    sender: OutboundSender,
    handoff: HandoffService,
) -> None:
    # With queue processing the web process only accepts: a worker process sweeps.
    queued = settings.walker_webhook_processing is WebhookProcessing.QUEUE
    if settings.walker_sweep_interval <= 0 or queued:
        return
    sweeper = Sweeper(
        conversations=conversations,
        review=review,
        interval=settings.walker_sweep_interval,
        privacy=privacy,
        sender=sender,
        handoff=handoff,
        rollups=stores.rollups if isinstance(stores, RollupSource) else None,
    )

    async def start_sweeper(_: Services) -> None:
        await sweeper.start()

    lifecycle.starts(start_sweeper)
    lifecycle.closes(sweeper.stop)
