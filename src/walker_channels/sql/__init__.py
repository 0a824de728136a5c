"""SQL persistence (SQLAlchemy 2 async): every store port on SQLite or PostgreSQL.

Needs the ``sql`` extra (SQLite) or the ``postgres`` extra (PostgreSQL)::

    stores = SqlStores.from_url("sqlite:///walker-channels.db")
    await stores.upgrade()
    ...
    await stores.dispose()
"""

from __future__ import annotations

from walker_channels.exceptions import MissingDependency

try:
    from walker_channels.sql.accepts import SqlAcceptStore
    from walker_channels.sql.approvals import SqlApprovalStore
    from walker_channels.sql.autogenerate import WALKER_TABLES, exclude_walker_tables
    from walker_channels.sql.consent import SqlConsentStore, SqlTenantSettingsStore
    from walker_channels.sql.conversations import SqlConversationStore
    from walker_channels.sql.engine import Database, create_engine, database_url
    from walker_channels.sql.events import SqlEventStore
    from walker_channels.sql.inbox import SqlInboundQueue
    from walker_channels.sql.ledger import SqlOutboundLedger
    from walker_channels.sql.migrate import current_revision, downgrade, upgrade
    from walker_channels.sql.monitoring import SqlMonitoringReader
    from walker_channels.sql.privacy import SqlPrivacyStore
    from walker_channels.sql.rollups import SqlRollups
    from walker_channels.sql.schedules import SqlBriefScheduleStore
    from walker_channels.sql.stores import SqlStores
    from walker_channels.sql.tables import metadata
    from walker_channels.sql.tenants import SqlTenantResolver, TenantNumber
    from walker_channels.sql.turns import SqlTurnStore
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    if exc.name not in {"sqlalchemy", "alembic", "datasketches"}:
        raise
    raise MissingDependency("walker_channels.sql", "sql") from exc

__all__ = [
    "WALKER_TABLES",
    "Database",
    "SqlAcceptStore",
    "SqlApprovalStore",
    "SqlBriefScheduleStore",
    "SqlConsentStore",
    "SqlConversationStore",
    "SqlEventStore",
    "SqlInboundQueue",
    "SqlMonitoringReader",
    "SqlOutboundLedger",
    "SqlPrivacyStore",
    "SqlRollups",
    "SqlStores",
    "SqlTenantResolver",
    "SqlTenantSettingsStore",
    "SqlTurnStore",
    "TenantNumber",
    "create_engine",
    "current_revision",
    "database_url",
    "downgrade",
    "exclude_walker_tables",
    "metadata",
    "upgrade",
]
