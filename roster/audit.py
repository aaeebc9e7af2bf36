"""The audit trail: an append-only record of who changed which rota entry, when, from what to what.

The council requires "an audit trail for time sheet entries when the entries were created and who
created them" (003 §13.6), and families must be consulted before a carer changes (003 §12.9), so
every manual change to a rota (assign, unassign, lock, unlock, publish, a rota saved by the
solver) leaves one row here: the user, the instant, the action, the rota versions it went from
and to, and the entry before and after as JSON.

The trail is never edited. The API has no update or delete; the database refuses them too: on
SQLite a ``BEFORE UPDATE`` / ``BEFORE DELETE`` trigger aborts, on PostgreSQL a trigger raises for
UPDATE, DELETE and TRUNCATE (see ``create_guards``, called by the initial migration).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    select,
)

ACTIONS: tuple[str, ...] = ("create", "assign", "unassign", "lock", "unlock", "publish", "repair")
"""What a row can record. ``create`` is a rota version saved whole (by the solver or an import);
``repair`` is a sickness repair saved as a new version (one row per visit it changed)."""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every backend (SQLite keeps no offset, so it is put back on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"timestamp {value.isoformat()} has no time zone; pass an aware datetime"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AUDIT_METADATA = MetaData()

audit_table = Table(
    "audit_entry",
    AUDIT_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("rota_version_id", Integer, nullable=True),
    Column("new_rota_version_id", Integer, nullable=True),
    Column("visit_id", String(200), nullable=True),
    Column("carer_id", String(200), nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
)
"""No foreign keys on purpose: the trail outlives whatever it describes."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail. ``before``/``after`` are JSON-compatible values (or ``None``)."""

    id: int
    at: datetime
    user: str
    action: str
    rota_version_id: int | None
    new_rota_version_id: int | None
    visit_id: str | None
    carer_id: str | None
    before: Any
    after: Any


class AuditTrailError(RuntimeError):
    """Raised when something tries to change or delete a row of the audit trail."""


def append(
    conn: Connection,
    *,
    at: datetime,
    user: str,
    action: str,
    rota_version_id: int | None = None,
    new_rota_version_id: int | None = None,
    visit_id: str | None = None,
    carer_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> int:
    """Append one row inside the caller's transaction (so the change and its record commit together)."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {', '.join(ACTIONS)}")
    if not user or not user.strip():
        raise ValueError("audit user is empty; every change must name who made it")
    result = conn.execute(
        audit_table.insert().values(
            at=at,
            user_name=user,
            action=action,
            rota_version_id=rota_version_id,
            new_rota_version_id=new_rota_version_id,
            visit_id=visit_id,
            carer_id=carer_id,
            before=None if before is None else json.dumps(before, sort_keys=True),
            after=None if after is None else json.dumps(after, sort_keys=True),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def entries(
    conn: Connection,
    *,
    rota_version_id: int | None = None,
    visit_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
) -> tuple[AuditEntry, ...]:
    """The trail in the order written, optionally filtered.

    ``rota_version_id`` matches a row whose source or resulting version is that id.
    """
    query = select(audit_table).order_by(audit_table.c.id)
    if rota_version_id is not None:
        query = query.where(
            (audit_table.c.rota_version_id == rota_version_id)
            | (audit_table.c.new_rota_version_id == rota_version_id)
        )
    if visit_id is not None:
        query = query.where(audit_table.c.visit_id == visit_id)
    if user is not None:
        query = query.where(audit_table.c.user_name == user)
    if action is not None:
        query = query.where(audit_table.c.action == action)
    return tuple(
        AuditEntry(
            id=row.id,
            at=row.at,
            user=row.user_name,
            action=row.action,
            rota_version_id=row.rota_version_id,
            new_rota_version_id=row.new_rota_version_id,
            visit_id=row.visit_id,
            carer_id=row.carer_id,
            before=None if row.before is None else json.loads(row.before),
            after=None if row.after is None else json.loads(row.after),
        )
        for row in conn.execute(query)
    )


CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "user",
    "action",
    "rota_version_id",
    "new_rota_version_id",
    "visit_id",
    "carer_id",
    "before",
    "after",
)


def to_csv(rows: Iterable[AuditEntry]) -> str:
    """The trail as CSV text (``at`` in ISO 8601 UTC; ``before``/``after`` as JSON)."""
    from roster.safecsv import SafeWriter  # a user name such as "=cmd" must not run

    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.user,
                e.action,
                "" if e.rota_version_id is None else e.rota_version_id,
                "" if e.new_rota_version_id is None else e.new_rota_version_id,
                e.visit_id or "",
                e.carer_id or "",
                "" if e.before is None else json.dumps(e.before, sort_keys=True),
                "" if e.after is None else json.dumps(e.after, sort_keys=True),
            ]
        )
    return buffer.getvalue()


def export_csv(rows: Sequence[AuditEntry], path: str | os.PathLike[str]) -> None:
    """Write the trail to ``path`` atomically."""
    from roster.atomic import atomic_write_text

    atomic_write_text(path, to_csv(rows))


# ---- database guards: the trail refuses UPDATE and DELETE -------------------------------------

SQLITE_GUARDS: tuple[str, ...] = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be updated'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be deleted'); END",
)

POSTGRESQL_GUARDS: tuple[str, ...] = (
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
)


def guard_statements(dialect_name: str) -> tuple[str, ...]:
    """DDL that makes the database itself refuse edits of the trail, for this dialect."""
    if dialect_name == "sqlite":
        return SQLITE_GUARDS
    if dialect_name == "postgresql":
        return POSTGRESQL_GUARDS
    return ()


def drop_guard_statements(dialect_name: str) -> tuple[str, ...]:
    if dialect_name == "sqlite":
        return (
            "DROP TRIGGER IF EXISTS audit_entry_no_update",
            "DROP TRIGGER IF EXISTS audit_entry_no_delete",
        )
    if dialect_name == "postgresql":
        return (
            "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
            "DROP TRIGGER IF EXISTS audit_entry_no_update ON audit_entry",
            "DROP FUNCTION IF EXISTS audit_entry_append_only()",
        )
    return ()


def now_utc() -> datetime:
    """The default clock of a store (injectable: pass ``clock=`` to ``Store.open``)."""
    return datetime.now(UTC)
