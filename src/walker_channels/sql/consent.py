"""Consent in SQL: the suppression list, and each tenant's keywords and window fallback."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from walker_channels.models import (
    Channel,
    ConsentKeywords,
    FallbackTemplate,
    OptOut,
    TenantSettings,
)
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import opt_outs, tenant_keywords, tenant_settings

_o = opt_outs.c
_k = tenant_keywords.c
_OFF = "off"
"""The ``kind`` of the row that keeps a language saved with no keywords."""


# Built once and executed with ``p_*`` parameters: each reuses its cache key and compiled
# form (one built per call with literals pays its coercions and cache key every time).
_TENANT: sa.BindParameter[str] = sa.bindparam("p_tenant_id")
_PERSON = sa.and_(
    _o.tenant_id == _TENANT,
    _o.channel == sa.bindparam("p_channel"),
    _o.participant == sa.bindparam("p_participant"),
)
OPTED_OUT = sa.select(_o.tenant_id).where(_PERSON)
OPT_IN = sa.delete(opt_outs).where(_PERSON).returning(_o.tenant_id)
TEMPLATE = sa.select(tenant_settings.c.fallback_template).where(
    tenant_settings.c.tenant_id == _TENANT
)
KEYWORDS = (
    sa.select(_k.language, _k.kind, _k.keyword)
    .where(_k.tenant_id == _TENANT)
    .order_by(_k.language, _k.kind, _k.position)
)


def opt_out_params(tenant_id: str, channel: Channel, participant: str) -> dict[str, str]:
    """The parameters of :data:`OPTED_OUT` and :data:`OPT_IN`."""
    return {"p_tenant_id": tenant_id, "p_channel": channel.value, "p_participant": participant}


class SqlConsentStore:
    """A :class:`~walker_channels.ports.ConsentStore` on ``walker_opt_outs``; the primary key
    (tenant, channel, pseudonym) makes concurrent opt-outs of one person store one row."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def opt_out(self, record: OptOut) -> bool:
        """Insert ``record``; ``False`` when the person is listed already."""
        stmt = (
            self._db.dialect.insert(opt_outs)
            .values(
                tenant_id=record.tenant_id,
                channel=record.channel.value,
                participant=record.participant,
                opted_out_at=record.opted_out_at,
                source=record.source.value,
            )
            .on_conflict_do_nothing()
            .returning(_o.tenant_id)
        )
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def opt_in(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Delete the person's row; ``False`` when there was none."""
        params = opt_out_params(tenant_id, channel, participant)
        return await self._db.run(
            lambda conn: conn.execute(OPT_IN, params).first() is not None, write=True
        )

    async def is_opted_out(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Whether the person has a row."""
        params = opt_out_params(tenant_id, channel, participant)
        return await self._db.run(lambda conn: conn.execute(OPTED_OUT, params).first() is not None)

    async def opt_outs(
        self, tenant_id: str, *, channel: Channel | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OptOut]:
        """The tenant's rows, newest first (then by channel and pseudonym)."""
        stmt = sa.select(opt_outs).where(_o.tenant_id == tenant_id)
        if channel is not None:
            stmt = stmt.where(_o.channel == channel.value)
        ordered = (
            stmt.order_by(_o.opted_out_at.desc(), _o.channel, _o.participant)
            .limit(limit)
            .offset(offset)
        )
        rows = await self._db.run(lambda conn: conn.execute(ordered).mappings().all())
        return [OptOut.model_validate(dict(row)) for row in rows]


class SqlTenantSettingsStore:
    """A :class:`~walker_channels.ports.TenantSettingsStore` on ``walker_tenant_settings`` and
    ``walker_tenant_keywords``; :meth:`save` replaces both in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings (empty ones when none were saved)."""
        return await self._db.run(lambda conn: read_settings(conn, tenant_id))

    async def save(self, settings: TenantSettings) -> None:
        """Replace the tenant's row and keywords."""
        await self._db.run(lambda conn: _write(conn, settings), write=True)


def read_settings(conn: sa.Connection, tenant_id: str) -> TenantSettings:
    params = {"p_tenant_id": tenant_id}
    template = conn.execute(TEMPLATE, params).scalar()
    rows = conn.execute(KEYWORDS, params).all()
    words: defaultdict[str, dict[str, list[str]]] = defaultdict(lambda: {"stop": [], "start": []})
    for language, kind, keyword in rows:
        lists = words[language]
        if kind != _OFF:
            lists[kind].append(keyword)
    return TenantSettings(
        tenant_id=tenant_id,
        keywords={language: ConsentKeywords.model_validate(w) for language, w in words.items()},
        fallback_template=None if template is None else FallbackTemplate.model_validate(template),
    )


def _write(conn: sa.Connection, settings: TenantSettings) -> None:
    tenant_id = settings.tenant_id
    conn.execute(sa.delete(tenant_keywords).where(_k.tenant_id == tenant_id))
    conn.execute(sa.delete(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))
    template = settings.fallback_template
    conn.execute(
        sa.insert(tenant_settings).values(
            tenant_id=tenant_id,
            fallback_template=None if template is None else template.model_dump(mode="json"),
        )
    )
    rows = [row for language, words in settings.keywords.items() for row in _rows(language, words)]
    if rows:
        conn.execute(sa.insert(tenant_keywords), [{"tenant_id": tenant_id, **r} for r in rows])


def _rows(language: str, words: ConsentKeywords) -> list[dict[str, Any]]:
    rows = [
        {"language": language, "kind": kind, "keyword": word, "position": position}
        for kind, listed in (("stop", words.stop), ("start", words.start))
        for position, word in enumerate(listed)
    ]
    return rows or [{"language": language, "kind": _OFF, "keyword": "", "position": 0}]
