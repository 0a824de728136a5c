"""Erasure of one person's data on request, and the retention purge of old message text."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from walker_channels.exceptions import (
    ConfigurationError,
    InvalidEmailAddress,
    InvalidPhoneNumber,
)
from walker_channels.models import ErasureRecord, ErasureRequest, RetentionReport
from walker_channels.phones import WHATSAPP_PREFIX, inbound_identifier
from walker_channels.ports import Clock, PrivacyStore
from walker_channels.services.config import ServiceConfig

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)
"""How often :meth:`PrivacyService.purge_due` runs a purge pass once one has finished."""
PURGE_BATCH = 1000
"""Rows of each kind one purge call rewrites (one transaction)."""
_NUMBER = re.compile(r"\+?[0-9][0-9 ().-]*")


def participant_address(raw: str) -> str:
    """The stored form of a person's number (E.164) or email address, as typed by an operator.

    Numbers are read as Twilio's webhooks are (any possible number, or ``whatsapp:`` and a
    business-scoped user id). Raises :class:`InvalidPhoneNumber` or
    :class:`InvalidEmailAddress`, never repeating the value.
    """
    text = raw.strip()
    if "@" not in text:
        # A person writes from a number (or a WhatsApp id), never from a sender name.
        if not (text.startswith(WHATSAPP_PREFIX) or _NUMBER.fullmatch(text)):
            raise InvalidPhoneNumber("the participant is not a phone number (E.164, e.g. +1415…)")
        return inbound_identifier(text)
    name, _, domain = text.rpartition("@")
    if not name or "." not in domain or any(c.isspace() for c in text):
        raise InvalidEmailAddress("the participant is not a valid email address")
    return text


class PrivacyService:
    """Erase one person's data (:meth:`erase`) and purge message text past ``retention``.

    ``retention`` ``None`` keeps text for ever. The sweeper calls :meth:`purge_due`; the
    ``walker-channels retention purge`` command calls :meth:`purge`.
    """

    def __init__(
        self,
        *,
        store: PrivacyStore,
        config: ServiceConfig,
        clock: Clock,
        retention: timedelta | None = None,
        purge_every: timedelta = PURGE_EVERY,
        batch: int = PURGE_BATCH,
    ) -> None:
        if retention is not None and retention <= timedelta(0):
            raise ConfigurationError("the retention period must be positive")
        self._store = store
        self._config = config
        self._clock = clock
        self._retention = retention
        self._purge_every = purge_every
        self._batch = batch
        self._next_at: datetime | None = None
        self._purged_until: datetime | None = None

    @property
    def retention(self) -> timedelta | None:
        """How long message text is kept; ``None``: for ever."""
        return self._retention

    async def erase(self, participant: str, *, tenant_id: str, requested_by: str) -> ErasureRecord:
        """Delete everything about ``participant`` (a number or email address) in ``tenant_id``.

        Returns the record of the erasure (which holds the pseudonym, not the number). Doing it
        again is harmless: it removes nothing and records a second erasure.
        """
        address = participant_address(participant)
        request = ErasureRequest(
            tenant_id=tenant_id,
            participant=self._config.pseudonym(address),
            address=address,
            requested_by=requested_by,
            at=self._clock.now(),
        )
        record = await self._store.erase(request)
        counts = " ".join(f"{table}={n}" for table, n in record.removed.items())
        log.info("erased participant %s of tenant %s: %s", record.participant, tenant_id, counts)
        return record

    async def purge(self, *, retention: timedelta | None = None) -> RetentionReport:
        """Purge every text older than ``retention`` (default: the configured one) now."""
        keep = retention or self._retention
        if keep is None:
            raise ConfigurationError("no retention period: set WALKER_RETENTION_DAYS")
        cutoff = self._clock.now() - keep
        total = RetentionReport()
        while True:
            report = await self._store.purge_text(cutoff, limit=self._batch)
            total = RetentionReport(
                events=total.events + report.events,
                approvals=total.approvals + report.approvals,
                sends=total.sends + report.sends,
            )
            if report.complete:
                return total

    async def purge_due(self) -> RetentionReport | None:
        """One purge batch when one is due (``None``: retention is off, or not due yet).

        After a pass has finished, the next starts ``purge_every`` later and covers only what
        aged past the retention period since, so a sweep never rescans purged history.
        """
        if self._retention is None:
            return None
        now = self._clock.now()
        if self._next_at is not None and now < self._next_at:
            return None
        cutoff = now - self._retention
        since = self._purged_until
        report = await self._store.purge_text(cutoff, since=since, limit=self._batch)
        if report.complete:
            self._purged_until, self._next_at = cutoff, now + self._purge_every
        if report.events or report.approvals or report.sends:
            log.info(
                "retention purge: text removed from %d events, %d drafts and %d unsent sends",
                report.events,
                report.approvals,
                report.sends,
            )
        return report
