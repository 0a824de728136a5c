"""Keep a host application's own Alembic ``--autogenerate`` away from the walker tables.

walker-channels migrates its tables itself (:mod:`walker_channels.sql.migrate`, version table
``walker_alembic_version``). A host whose Alembic environment shares the database would
otherwise see them as tables its models lack, and propose dropping every one. In the host's
``env.py``::

    from walker_channels.sql import exclude_walker_tables

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=exclude_walker_tables,
    )
"""

from __future__ import annotations

from collections.abc import Mapping

from walker_channels.sql.migrate import VERSION_TABLE
from walker_channels.sql.tables import metadata

WALKER_TABLES = frozenset({*metadata.tables, VERSION_TABLE})
"""Every table walker-channels owns: its models' tables and its Alembic version table."""


def exclude_walker_tables(
    name: str | None, type_: str, parent_names: Mapping[str, str | None]
) -> bool:
    """An Alembic ``include_name`` hook: ``False`` for walker-channels' tables, else ``True``.

    Their columns, indexes and constraints are left out with them, since Alembic does not
    look inside a table it was told to skip.
    """
    return not (type_ == "table" and name in WALKER_TABLES)
