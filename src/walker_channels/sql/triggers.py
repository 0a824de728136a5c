"""The triggers that keep the daily rollups honest: a write into a day's events forgets it.

Every INSERT, DELETE, or UPDATE of a column the figures read on ``walker_events`` deletes
the ``walker_rollup_days`` row of each UTC day it touched, in the writer's own transaction,
so no code path (a late message, an import, an erasure, a host's own SQL) can leave a stale
rollup behind: the admin reads take a day without that row from the events again, and the
next roll (``sql.rollups``) rolls it anew. An INSERT fires per row, and only for an event
of a day over by the database's clock (a WHEN test, no function call: today's traffic pays
nothing); a day is rolled an hour after it ended by that clock, and a writer that began
before then is waited for by the roll, so no insert into a rolled day is missed. A DELETE
fires once per statement on PostgreSQL (over its transition table), per row on SQLite.

Created by migration ``0012`` and by ``metadata.create_all``. On SQLite a later migration that
rebuilds ``walker_events`` (Alembic's batch mode copies the table) drops them: it must call
:func:`create` again.
"""

from __future__ import annotations

import sqlalchemy as sa

_FIGURE_COLUMNS = (
    "tenant_id, channel, type, occurred_at, participant, agent_id, confidence, "
    "response_time_ms, hitl, success, is_error, sentiment"
)

_POSTGRESQL = (
    # search_path FROM CURRENT: the function finds the tables of the schema it was made in.
    """
    CREATE OR REPLACE FUNCTION walker_forget_rolled_days() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_LEVEL = 'ROW' THEN
            DELETE FROM walker_rollup_days WHERE day IN (
                (OLD.occurred_at AT TIME ZONE 'UTC')::date,
                (NEW.occurred_at AT TIME ZONE 'UTC')::date);
        ELSE
            DELETE FROM walker_rollup_days
            WHERE day IN (SELECT (occurred_at AT TIME ZONE 'UTC')::date FROM walker_old_rows);
        END IF;
        RETURN NULL;
    END $$
    """,
    # Per row, but only for an event of a day already over: the WHEN test costs no function
    # call, so today's traffic pays nothing (a statement trigger cost 130 us per INSERT).
    """
    CREATE TRIGGER walker_events_forget_inserted AFTER INSERT ON walker_events FOR EACH ROW
    WHEN ((NEW.occurred_at AT TIME ZONE 'UTC')::date < (now() AT TIME ZONE 'UTC')::date)
    EXECUTE FUNCTION walker_forget_rolled_days()
    """,
    """
    CREATE TRIGGER walker_events_forget_deleted AFTER DELETE ON walker_events
    REFERENCING OLD TABLE AS walker_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION walker_forget_rolled_days()
    """,
    f"""
    CREATE TRIGGER walker_events_forget_updated AFTER UPDATE OF {_FIGURE_COLUMNS}
    ON walker_events FOR EACH ROW EXECUTE FUNCTION walker_forget_rolled_days()
    """,
)

_SQLITE = (
    # date() of the stored 'YYYY-MM-DD HH:MM:SS' UTC text is the 'YYYY-MM-DD' of sa.Date.
    """
    CREATE TRIGGER walker_events_forget_inserted AFTER INSERT ON walker_events
    WHEN date(NEW.occurred_at) < date('now') BEGIN
        DELETE FROM walker_rollup_days WHERE day = date(NEW.occurred_at);
    END
    """,
    """
    CREATE TRIGGER walker_events_forget_deleted AFTER DELETE ON walker_events BEGIN
        DELETE FROM walker_rollup_days WHERE day = date(OLD.occurred_at);
    END
    """,
    f"""
    CREATE TRIGGER walker_events_forget_updated AFTER UPDATE OF {_FIGURE_COLUMNS}
    ON walker_events BEGIN
        DELETE FROM walker_rollup_days
        WHERE day IN (date(OLD.occurred_at), date(NEW.occurred_at));
    END
    """,  # noqa: S608 (a constant column list)
)

_TRIGGERS = (
    "walker_events_forget_inserted",
    "walker_events_forget_deleted",
    "walker_events_forget_updated",
)


def create(conn: sa.Connection) -> None:
    """Create the triggers, replacing any there are (both tables must exist)."""
    drop(conn)
    for statement in _POSTGRESQL if conn.dialect.name == "postgresql" else _SQLITE:
        conn.exec_driver_sql(statement)


def drop(conn: sa.Connection) -> None:
    """Drop the triggers (and PostgreSQL's function), if they exist."""
    postgresql = conn.dialect.name == "postgresql"
    for name in _TRIGGERS:
        on = " ON walker_events" if postgresql else ""
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")
    if postgresql:
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS walker_forget_rolled_days()")
