"""The one place that sends, on every channel: reserve a ledger record first, then call the
transport once, then settle the record and record the event in one transaction.

Crash safety, step by step (see docs/architecture.md): before the reservation nothing is
recorded and the caller's retry sends; after it, every exception is caught and settled as
``failed`` or ``unknown``; a crash leaves a ``pending`` record, which :meth:`recover` (on
resume) or :meth:`settle_due` (a sweep, once it is stale) turns into ``unknown``; unknown sends
are looked up at the provider and settled as sent, or as not sent and then sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from walker_channels.channels import DEFAULT_SERVICE_WINDOWS
from walker_channels.exceptions import (
    ConfigurationError,
    Conflict,
    DeliveryUnknown,
    MessageRejected,
    NotFound,
    RecipientOptedOut,
    TransportError,
)
from walker_channels.models import (
    Address,
    Channel,
    LookupVerdict,
    OutboundMessage,
    OutboundPayload,
    OutboundRecord,
    OutboundState,
    Scope,
    Settlement,
)
from walker_channels.ports import (
    ChannelEvents,
    Clock,
    MessageTransport,
    OutboundLedger,
    Pacer,
    SendLookup,
    TextLimited,
)
from walker_channels.services.config import ServiceConfig
from walker_channels.services.consent import ConsentService
from walker_channels.services.hooks import Hooks
from walker_channels.services.outbound_events import Failure, failed_event, sent_event, unpack
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt, SettleSent
from walker_channels.services.unsettled import UnsettledSend, unsettled_send
from walker_channels.telemetry import Telemetry, default_telemetry, traced_step

log = logging.getLogger(__name__)


class OutboundSender:
    """Sends each message at most once per idempotency key and records the outcome.

    The ledger record is reserved before the transport is called: a retry or a second worker
    with the same key finds it and sends nothing. A send the provider refused (``failed``) may
    be tried again under the same key, since nothing went out; a send whose outcome is unknown
    is marked so and never re-sent blindly. With ``tenant_pacer`` each tenant's sends wait
    for their turn (the per-tenant rate limit) just before the transport is called.
    """

    def __init__(
        self,
        *,
        transports: Mapping[Channel, MessageTransport],
        ledger: OutboundLedger,
        clock: Clock,
        config: ServiceConfig,
        hooks: ChannelEvents | None = None,
        service_windows: Mapping[Channel, timedelta] | None = None,
        tenant_pacer: Pacer | None = None,
        telemetry: Telemetry | None = None,
        consent: ConsentService | None = None,
    ) -> None:
        """With ``consent``, sends to people who opted out are refused (see :meth:`send`)
        and a provider's "unsubscribed" refusal puts the person on the list."""
        for channel, transport in transports.items():
            if transport.channel != channel:
                raise ConfigurationError(
                    f"the transport registered for {channel.value} sends on "
                    f"{transport.channel.value}"
                )
        self._transports = dict(transports)
        self._windows = dict(
            DEFAULT_SERVICE_WINDOWS if service_windows is None else service_windows
        )
        self._ledger = ledger
        self._clock = clock
        self._config = config
        self._policy = config.send_recovery
        self._hooks = Hooks(hooks)
        self._tenant_pacer = tenant_pacer
        self._telemetry = telemetry or default_telemetry()
        self._consent = consent

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels a transport is configured for."""
        return frozenset(self._transports)

    def text_limit(self, channel: Channel) -> int | None:
        """The longest text one message on ``channel`` may carry (see :class:`TextLimited`)."""
        transport = self._transports.get(channel)
        return transport.max_text_length if isinstance(transport, TextLimited) else None

    def service_window(self, channel: Channel) -> timedelta | None:
        """How long after the person's last message free text may go out on ``channel``
        (``None``: any time; outside the window only a template)."""
        return self._windows.get(channel)

    def participant(self, address: Address) -> str:
        """The pseudonym the events of a send to ``address`` record."""
        return self._config.pseudonym(address.value)

    @traced_step(
        "send",
        lambda self, message, context, settle_sent=None: {
            "tenant_id": context.tenant_id,
            "channel": message.channel,
            "purpose": context.purpose,
            "send_key": context.key,
        },
        outcome=lambda receipt: "duplicate" if receipt.duplicate else receipt.state,
    )
    async def send(
        self,
        message: OutboundMessage,
        context: SendContext,
        *,
        settle_sent: SettleSent | None = None,
    ) -> SendReceipt:
        """Send ``message`` under ``context.key`` unless that key was used already.

        Provider failures are recorded and returned in the receipt, not raised (the receipt's
        :meth:`~SendReceipt.raise_for_failure` raises them);
        :class:`~walker_channels.exceptions.MessageRejected` (refused before sending: the
        message itself is unusable) is recorded and then raised.
        :class:`~walker_channels.exceptions.OptedOut` is raised, before anything is reserved,
        for a send people start (:attr:`SendPurpose.needs_consent`) to a person who opted out.
        ``settle_sent`` settles the send if it went out, instead of the ledger's
        :meth:`~walker_channels.ports.OutboundLedger.settle` (a caller folding its own writes
        into that transaction); any other outcome settles through the ledger.
        """
        key = context.key
        transport = self._transport_for(message.channel)
        if context.tenant_id and context.purpose.needs_consent:
            participant = self.participant(message.to)
            await self.require_consent(context.tenant_id, message.channel, participant)
        keyed = message if message.idempotency_key else message.replace(idempotency_key=key)
        record = await self._reserve(key, keyed, context)
        if record is None:
            return await self._existing(key)
        return await self._attempt(transport, record, keyed, context, settle_sent)

    async def require_consent(self, tenant_id: str, channel: Channel, participant: str) -> None:
        """Raise :class:`~walker_channels.exceptions.OptedOut` if the person opted out of the
        tenant's messages on ``channel`` (a flow's check before it commits to a send)."""
        if self._consent is not None:
            await self._consent.require(tenant_id, channel, participant)

    async def record(self, key: str) -> OutboundRecord | None:
        """The ledger record of ``key``, if a send was ever reserved under it."""
        return await self._ledger.get(key)

    async def recover(self, key: str) -> OutboundRecord | None:
        """The record of ``key`` on resume after a crash: a ``pending`` one becomes ``unknown``.

        Call it only when the send's worker is known to be gone (its lease ran out): the
        record is settled as ``unknown`` with an ``outbound_failed`` event
        (``outcome_unknown``) and a warning, and a sweep looks it up later. Other records are
        returned as they are; ``None`` when nothing was reserved under ``key``.
        """
        record = await self._ledger.get(key)
        if record is None or record.state is not OutboundState.PENDING:
            return record
        now = self._clock.now()
        failure = Failure(
            error_code=None,
            error_message="the worker stopped after reserving this send; its outcome is unknown",
            retryable=False,
            outcome_unknown=True,
        )
        message, context = unpack(record)
        settlement = Settlement(
            state=OutboundState.UNKNOWN,
            at=now,
            next_attempt_at=self._policy.next_lookup(record.created_at, now),
        )
        event = failed_event(record, message, context, at=now, failure=failure)
        if await self._ledger.settle(key, settlement, event=event):
            log.warning("send %s was left pending by a stopped worker: outcome unknown", key)
        return await self._ledger.get(key)

    async def unsettled(
        self, scope: Scope, *, purpose: SendPurpose | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[UnsettledSend, ...]:
        """Sends that did not settle as sent (``unknown`` or ``failed``), oldest first."""
        prefix = None if purpose is None else purpose.key_prefix
        records = await self._ledger.unsettled(scope, key_prefix=prefix, limit=limit, offset=offset)
        return tuple(unsettled_send(record) for record in records)

    async def settle_due(self, *, limit: int = 10) -> int:
        """One sweep over sends that need attention; returns how many it handled.

        Stale ``pending`` records (their worker died) become ``unknown``; ``unknown`` ones
        are looked up at the provider (settled as sent, or as not sent and then sent once);
        ``failed`` ones due for a retry are tried again. Errors of one send do not stop the
        others; :class:`MessageRejected` was recorded already and is not raised.
        """
        now = self._clock.now()
        stale = now - self._policy.pending_timeout
        records = await self._ledger.due(now, stale_before=stale, limit=limit)
        for record in records:
            try:
                await self._handle_due(record)
            except MessageRejected:
                continue
        return len(records)

    async def resend(
        self,
        key: str,
        *,
        message: OutboundMessage | None = None,
        context: SendContext | None = None,
    ) -> SendReceipt:
        """Send a ``failed`` or ``unknown`` send again, on an operator's explicit request.

        An unknown send is looked up first where the transport can: if the provider has it,
        it is settled as sent and not sent again (the receipt says ``duplicate``). ``message``
        and ``context`` stand in for a payload the record no longer holds. Raises
        :class:`NotFound` for an unknown key and :class:`Conflict` for a send that went out
        or is under way, :class:`~walker_channels.exceptions.OptedOut` for a person who opted
        out since.
        """
        record = await self._ledger.get(key)
        if record is None:
            raise NotFound("no send with that key")
        if _needs_consent(record):
            await self.require_consent(record.tenant_id or "", record.channel, record.participant)
        stand_in = None
        if message is not None:
            stand_in = OutboundPayload(
                message=message.replace(idempotency_key=message.idempotency_key or key),
                context={} if context is None else context.model_dump(mode="json"),
            )
        record = _with_payload(record, stand_in)
        if record.state is OutboundState.UNKNOWN:
            found = await self._look_up(record, explicit=True)
            if found is not None:
                return found
            record = _with_payload(await self._require(key), stand_in)
        if record.state is not OutboundState.FAILED:
            raise Conflict(f"the send is {record.state.value}: there is nothing to resend")
        receipt = await self._retry(record)
        if receipt is None:
            raise Conflict("another attempt of this send is under way")
        return receipt

    def _transport_for(self, channel: Channel) -> MessageTransport:
        transport = self._transports.get(channel)
        if transport is None:
            raise ConfigurationError(f"no transport is configured for the {channel.value} channel")
        return transport

    async def _reserve(
        self, key: str, message: OutboundMessage, context: SendContext
    ) -> OutboundRecord | None:
        now = self._clock.now()
        record = OutboundRecord(
            key=key,
            tenant_id=context.tenant_id,
            channel=message.channel,
            participant=self.participant(message.to),
            created_at=now,
            updated_at=now,
            payload=OutboundPayload(message=message, context=context.model_dump(mode="json")),
        )
        if await self._ledger.reserve(record):
            return record
        # The provider refused the earlier send, so nothing went out: it may be tried again.
        if not await self._ledger.retry(key, at=now):
            return None
        return await self._ledger.get(key)

    async def _existing(self, key: str) -> SendReceipt:
        record = await self._ledger.get(key)
        if record is None:
            raise ConfigurationError("the outbound ledger refused a key it does not hold")
        log.info("send %s skipped: the key was used already (%s)", key, record.state.value)
        return SendReceipt(
            key=key,
            state=record.state,
            duplicate=True,
            provider_message_id=record.provider_message_id,
            error_code=record.error_code,
        )

    async def _attempt(
        self,
        transport: MessageTransport,
        record: OutboundRecord,
        message: OutboundMessage,
        context: SendContext | None,
        settle_sent: SettleSent | None = None,
    ) -> SendReceipt:
        try:
            if self._tenant_pacer is not None and record.tenant_id:
                # After the reservation: a crash while waiting leaves a pending record, which
                # recovery settles (nothing was sent), like any other.
                await self._tenant_pacer.wait_turn(record.tenant_id)
            result = await transport.send(message)
        except MessageRejected as exc:
            await self._failed(record, message, context, exc)
            raise
        except TransportError as exc:
            return await self._failed(record, message, context, exc)
        except Exception as exc:
            # Anything else after the reservation may have reached the provider: unknown.
            unknown = DeliveryUnknown(f"the transport failed unexpectedly ({type(exc).__name__})")
            unknown.__cause__ = exc
            return await self._failed(record, message, context, unknown)
        provider_id = result.provider_message_id
        return await self._sent(record, message, context, provider_id, settle_sent=settle_sent)

    async def _sent(
        self,
        record: OutboundRecord,
        message: OutboundMessage | None,
        context: SendContext | None,
        provider_message_id: str | None,
        *,
        found: bool = False,
        settle_sent: SettleSent | None = None,
    ) -> SendReceipt:
        """Settle as sent (by ``settle_sent`` if given); ``found``: by a lookup, which another
        sweeper may have made too."""
        now = self._clock.now()
        # From unknown too: a late answer is better news than the lookup's.
        settlement = Settlement(
            state=OutboundState.SENT,
            at=now,
            expected=(OutboundState.PENDING, OutboundState.UNKNOWN),
            provider_message_id=provider_message_id,
        )
        event = sent_event(
            record, message, context, at=now, provider_message_id=provider_message_id
        )
        if settle_sent is None:
            settled = await self._ledger.settle(record.key, settlement, event=event)
        else:
            settled = await settle_sent(record.key, settlement, event)
        if not settled and found:
            log.info("send %s was settled by another lookup meanwhile", record.key)
        elif not settled:
            log.warning("send %s went out, but another run had settled it already", record.key)
        return SendReceipt(
            key=record.key, state=OutboundState.SENT, provider_message_id=provider_message_id
        )

    async def _failed(
        self,
        record: OutboundRecord,
        message: OutboundMessage,
        context: SendContext | None,
        exc: TransportError | MessageRejected,
    ) -> SendReceipt:
        now = self._clock.now()
        unknown = isinstance(exc, DeliveryUnknown)
        state = OutboundState.UNKNOWN if unknown else OutboundState.FAILED
        code = exc.code if isinstance(exc, TransportError) else None
        retryable = isinstance(exc, TransportError) and exc.retryable
        settlement = Settlement(
            state=state, at=now, error_code=code, next_attempt_at=self._next(record, exc, now)
        )
        failure = Failure(
            error_code=code, error_message=str(exc), retryable=retryable, outcome_unknown=unknown
        )
        event = failed_event(record, message, context, at=now, failure=failure)
        if await self._ledger.settle(record.key, settlement, event=event) and not unknown:
            await self._hooks.delivery_failed(event)  # an unknown one may have gone out
        if isinstance(exc, RecipientOptedOut) and self._consent and record.tenant_id:
            await self._consent.unsubscribed(record.tenant_id, record.channel, record.participant)
        log.warning(
            "send %s %s: %s code=%s retryable=%s",
            record.key,
            state.value,
            type(exc).__name__,
            code,
            retryable,
            extra=self._telemetry.log_extra(),
        )
        receipt = SendReceipt(key=record.key, state=state, error_code=code, retryable=retryable)
        return receipt.with_error(exc) if isinstance(exc, TransportError) else receipt

    def _next(
        self, record: OutboundRecord, exc: TransportError | MessageRejected, now: datetime
    ) -> datetime | None:
        """When a sweep acts on this failure: a lookup, a retry, or never."""
        if isinstance(exc, DeliveryUnknown):
            return self._policy.next_lookup(record.created_at, now)
        purpose = SendPurpose.of_key(record.key)
        if isinstance(exc, TransportError) and exc.retryable and purpose and purpose.retried_later:
            return self._policy.next_retry(record.attempts, now)
        return None

    async def _handle_due(self, record: OutboundRecord) -> None:
        if record.state is OutboundState.PENDING:
            await self.recover(record.key)
        elif record.state is OutboundState.UNKNOWN:
            await self._look_up(record, explicit=False)
        elif record.state is OutboundState.FAILED:
            await self._retry(record)

    async def _look_up(self, record: OutboundRecord, *, explicit: bool) -> SendReceipt | None:
        """Settle an unknown send by the provider's records; a receipt when it was found.

        Not found: settled as not sent (``failed``, due at once) and, on a sweep, sent once.
        """
        now = self._clock.now()
        transport: object = self._transports.get(record.channel)
        message, context = unpack(record)
        if not isinstance(transport, SendLookup) or message is None:
            await self._keep_unknown(record, now, None, "the send cannot be looked up")
            return None
        try:
            result = await transport.look_up(message, since=record.created_at)
        except TransportError as exc:
            later = self._policy.next_lookup(record.created_at, now)
            await self._keep_unknown(record, now, later, f"the lookup failed ({exc})")
            return None
        if result.verdict is LookupVerdict.FOUND and result.provider_message_id:
            pid = result.provider_message_id
            receipt = await self._sent(record, message, context, pid, found=True)
            log.info("send %s settled by lookup: the provider has it", record.key)
            return receipt.model_copy(update={"duplicate": True})
        if result.verdict is LookupVerdict.UNDECIDABLE:
            await self._keep_unknown(record, now, None, result.reason or "the lookup cannot tell")
            return None
        not_sent = Settlement(
            state=OutboundState.FAILED,
            at=now,
            expected=(OutboundState.UNKNOWN,),
            error_code=record.error_code,
            next_attempt_at=now,
        )
        if await self._ledger.settle(record.key, not_sent):
            log.warning("send %s settled by lookup: the provider has no such message", record.key)
            if not explicit:
                await self._retry(record.replace(state=OutboundState.FAILED))
        return None

    async def _keep_unknown(
        self, record: OutboundRecord, now: datetime, later: datetime | None, why: str
    ) -> None:
        settlement = Settlement(
            state=OutboundState.UNKNOWN,
            at=now,
            expected=(OutboundState.UNKNOWN,),
            error_code=record.error_code,
            next_attempt_at=later,
        )
        await self._ledger.settle(record.key, settlement)
        log.warning("send %s stays unknown: %s", record.key, why)

    async def _retry(self, record: OutboundRecord) -> SendReceipt | None:
        """Send a ``failed`` record again from its payload; ``None`` if another run did."""
        message, context = unpack(record)
        if message is None:
            log.warning("send %s cannot be retried: its message is no longer stored", record.key)
            return None
        transport = self._transport_for(record.channel)
        if await self._opted_out_since(record):
            return None
        if not await self._ledger.retry(record.key, at=self._clock.now(), attempts=record.attempts):
            return None
        again = record.replace(state=OutboundState.PENDING, attempts=record.attempts + 1)
        return await self._attempt(transport, again, message, context)

    async def _opted_out_since(self, record: OutboundRecord) -> bool:
        """A send waiting for a retry whose person opted out meanwhile: it stays failed, and
        no sweep takes it up again."""
        if self._consent is None or not _needs_consent(record) or not record.tenant_id:
            return False
        if not await self._consent.is_opted_out(
            record.tenant_id, record.channel, record.participant
        ):
            return False
        settlement = Settlement(
            state=OutboundState.FAILED,
            at=self._clock.now(),
            expected=(OutboundState.FAILED,),
            error_code=record.error_code,
        )
        await self._ledger.settle(record.key, settlement)
        log.warning("send %s is not retried: the person opted out", record.key)
        return True

    async def _require(self, key: str) -> OutboundRecord:
        record = await self._ledger.get(key)
        if record is None:
            raise NotFound("no send with that key")
        return record


def _needs_consent(record: OutboundRecord) -> bool:
    purpose = SendPurpose.of_key(record.key)
    return record.tenant_id is not None and purpose is not None and purpose.needs_consent


def _with_payload(record: OutboundRecord, stand_in: OutboundPayload | None) -> OutboundRecord:
    """``record``, with ``stand_in`` as its payload when it holds none any more."""
    if record.payload is not None or stand_in is None:
        return record
    replaced: OutboundRecord = record.replace(payload=stand_in)
    return replaced
