"""The rota store: instances, rota versions, locks, scenarios and the audit trail in a database.

SQLite is the embedded default (``roster.sqlite`` in the private data folder of ``roster.home``:
``$ROSTER_HOME``, else ``~/.local/share/roster``, whatever the working directory; ``ROSTER_DB``
wins when set); PostgreSQL is used when a URL says so (``postgresql+psycopg://user@host/db``).
A SQLite file the store creates is mode 0600 from the start, in a folder made 0700 (its WAL and
shared-memory files take the database's mode). The schema is made and upgraded by the
Alembic migrations in ``roster/migrations`` (``Store.open`` upgrades to head).

Guarantees:

* Saved things reload *exactly*: an instance reloads equal (``==``) to the one saved, every
  record, in order; a rota version reloads with every assignment, unassigned visit and summary.
* Every write is one transaction. A crash or a kill in the middle of a save leaves the database
  as it was before it (SQLite in WAL mode with ``synchronous=FULL``; ordinary transactions on
  PostgreSQL). Rota versions are never changed in place, except that publishing marks a draft
  ``published`` and the week's earlier published version ``superseded``: a manual change makes a
  new draft version whose ``parent_id`` is the one it came from.
* Every manual change (assign, unassign, lock, unlock, publish) and every rota saved whole writes
  an audit row in the same transaction (``roster.audit``). A forced change (``assign`` or
  ``publish`` with ``force=True``) records ``"forced": true`` and the hard rules it overrode.
* ``roster store`` names a real user: ``--user`` (default: the login name) must be a user of the
  app's users file (``roster.auth``) for every action that writes.
* Timestamps come from an injectable clock (``Store.open(url, clock=...)``); nothing here reads
  the wall clock except the default clock, and nothing reads today's date.

Multi-week continuity: ``Store.history_for(week_start)`` turns the published rotas of the four
weeks before ``week_start`` into ``History`` rows (hours per child and carer), and
``instance_with_history`` puts them into a week's instance before it is solved.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)

from roster import audit
from roster.audit import AuditEntry, UTCDateTime
from roster.model import (
    Absence,
    Assignment,
    Availability,
    Carer,
    Child,
    History,
    Instance,
    Rota,
    Settings,
    Training,
    Unassigned,
    Visit,
)

DEFAULT_DB_FILE = "roster.sqlite"
DEFAULT_URL = "sqlite:///$ROSTER_HOME/roster.sqlite"
"""How the embedded default is described: a SQLite file in the data folder (``default_url``)."""
MAX_RECORDED_OVERRIDES = 50
"""A forced change's audit row lists at most this many of the rules it broke (and the count)."""

HISTORY_WEEKS = 4
"""history.csv covers the previous four weeks (contract §1)."""

STATUSES: tuple[str, ...] = ("draft", "published", "superseded")

Clock = Callable[[], datetime]


class StoreError(ValueError):
    """A request the store cannot honour (an unknown id, a change that breaks a rule...)."""


class StoreLookupError(StoreError, LookupError):
    """An id that points nowhere in the store."""


# ---- records <-> JSON, exactly ---------------------------------------------------------------

# kind -> (record class, Instance field, id field or None)
RECORD_KINDS: tuple[tuple[str, type, str, str | None], ...] = (
    ("carer", Carer, "carers", "carer_id"),
    ("child", Child, "children", "child_id"),
    ("visit", Visit, "visits", "visit_id"),
    ("training", Training, "training", "carer_id"),
    ("availability", Availability, "availability", "carer_id"),
    ("absence", Absence, "absences", "carer_id"),
    ("history", History, "history", "child_id"),
)


def encode(value: Any) -> Any:
    """A frozen record (or any value inside one) as JSON-compatible data, losslessly."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):  # before date: a datetime is a date
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        options = [a for a in get_args(tp) if a is not type(None)]
        return _decode(options[0], value) if len(options) == 1 else value
    if origin is typing.Literal or tp is Any:
        return value
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return dict(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    if tp is float:
        return float(value)
    if tp is int:
        return int(value)
    if tp is bool:
        return bool(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return decode(tp, value)
    return value


def decode(cls: type[Any], data: Mapping[str, Any]) -> Any:
    """Rebuild a frozen record of ``cls`` from ``encode``'s output (missing keys take defaults)."""
    hints = get_type_hints(cls)
    kwargs = {
        f.name: _decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.name in data
    }
    return cls(**kwargs)


def _dumps(value: Any) -> str:
    return json.dumps(encode(value), sort_keys=True, allow_nan=False)


# ---- schema (mirrors migrations/versions/0001_initial.py) ------------------------------------

METADATA = MetaData()

instance_table = Table(
    "instance",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("settings", Text, nullable=False),
    Column("counts", Text, nullable=False),
)
record_table = Table(
    "instance_record",
    METADATA,
    Column("instance_id", Integer, ForeignKey("instance.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("record_id", String(200)),
    Column("payload", Text, nullable=False),
)
version_table = Table(
    "rota_version",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("parent_id", Integer, ForeignKey("rota_version.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("published_at", UTCDateTime()),
    Column("published_by", String(200)),
    Column("n_assignments", Integer, nullable=False),
    Column("n_unassigned", Integer, nullable=False),
    Column("n_locks", Integer, nullable=False),
)
assignment_table = Table(
    "rota_assignment",
    METADATA,
    Column("rota_version_id", Integer, ForeignKey("rota_version.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("visit_id", String(200), nullable=False),
    Column("carer_id", String(200), nullable=False),
    Column("start_min", Integer, nullable=False),
    Column("end_min", Integer, nullable=False),
    Column("travel_from", String(200), nullable=False),
    Column("travel_miles", Float, nullable=False),
    Column("travel_min", Integer, nullable=False),
)
unassigned_table = Table(
    "rota_unassigned",
    METADATA,
    Column("rota_version_id", Integer, ForeignKey("rota_version.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("visit_id", String(200), nullable=False),
    Column("missing", Integer, nullable=False),
    Column("reasons", Text, nullable=False),
)
lock_table = Table(
    "rota_lock",
    METADATA,
    Column("rota_version_id", Integer, ForeignKey("rota_version.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("visit_id", String(200), nullable=False),
    Column("carer_id", String(200), nullable=False),
)
scenario_table = Table(
    "scenario",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("instance_id", Integer, ForeignKey("instance.id"), nullable=False),
    Column("base_instance_id", Integer, ForeignKey("instance.id")),
    Column("rota_version_id", Integer, ForeignKey("rota_version.id")),
    Column("params", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)


# ---- what the store hands back ---------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    """A carer pinned to a visit: re-solving or repairing keeps this assignment as it is."""

    visit_id: str
    carer_id: str


@dataclass(frozen=True)
class InstanceInfo:
    id: int
    name: str
    week_start: date
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class RotaVersion:
    """A saved rota version's header; ``Store.load_rota(id)`` gives the rota itself."""

    id: int
    instance_id: int
    week_start: date
    status: str
    parent_id: int | None
    created_at: datetime
    created_by: str
    note: str
    published_at: datetime | None
    published_by: str | None
    n_assignments: int
    n_unassigned: int
    n_locks: int


@dataclass(frozen=True)
class Scenario:
    """A named what-if: an instance variant, the parameters it was solved with and the result."""

    id: int
    name: str
    instance_id: int
    base_instance_id: int | None
    rota_version_id: int | None
    params: Mapping[str, Any]
    result: Mapping[str, Any]
    created_at: datetime
    created_by: str


# ---- the store -------------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def default_url() -> str:
    """``$ROSTER_DB``, else the SQLite file ``roster.sqlite`` in ``roster.home.data_home()``."""
    from roster.home import data_home

    return os.environ.get("ROSTER_DB") or f"sqlite:///{data_home() / DEFAULT_DB_FILE}"


def normalise_url(url: str | os.PathLike[str] | None) -> str:
    """A database URL from a URL, a bare file path (SQLite) or ``None`` (the default file)."""
    if url is None:
        url = default_url()
    text = os.fspath(url)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text)}"


def _private_sqlite_file(engine: Engine) -> None:
    """Create the SQLite file 0600 in a 0700 folder before SQLite would create it 0644."""
    from roster.home import private_file

    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    private_file(Path(database))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (head) on ``engine``'s database."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


class Store:
    """A rota store on one database. Open with ``Store.open(url)``; close with ``close()``."""

    def __init__(self, engine: Engine, clock: Clock = audit.now_utc):
        self.engine = engine
        self.clock = clock

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls, url: str | os.PathLike[str] | None = None, *, clock: Clock = audit.now_utc
    ) -> Store:
        """Open (creating if need be) the store at ``url`` and upgrade its schema to head.

        ``url`` is a SQLAlchemy URL (``sqlite:///roster.sqlite``,
        ``postgresql+psycopg://user@host:5432/db``), a bare path to a SQLite file, or ``None`` for
        ``$ROSTER_DB`` or else ``roster.sqlite`` in the data folder (``roster.home``). A SQLite
        file that does not exist yet is created 0600 (its missing folders 0700) before SQLite
        opens it.
        """
        engine = create_engine(normalise_url(url))
        if engine.dialect.name == "sqlite":
            _private_sqlite_file(engine)
            event.listen(engine, "connect", _sqlite_pragmas)
        upgrade(engine)
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    def _now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise StoreError("the store's clock returned a time without a time zone")
        return moment

    # -- instances ------------------------------------------------------------------------------
    def save_instance(
        self, instance: Instance, *, user: str, conn: Connection | None = None
    ) -> int:
        """Save every record of ``instance``; returns its id."""
        if conn is None:
            with self._write() as c:
                return self.save_instance(instance, user=user, conn=c)
        counts = {kind: len(getattr(instance, attr)) for kind, _cls, attr, _id in RECORD_KINDS}
        result = conn.execute(
            instance_table.insert().values(
                name=instance.settings.name,
                week_start=instance.settings.week_start,
                created_at=self._now(),
                created_by=user,
                settings=_dumps(instance.settings),
                counts=json.dumps(counts, sort_keys=True),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        instance_id = int(key[0])
        rows = [
            {
                "instance_id": instance_id,
                "kind": kind,
                "position": position,
                "record_id": None if id_field is None else getattr(record, id_field),
                "payload": _dumps(record),
            }
            for kind, _cls, attr, id_field in RECORD_KINDS
            for position, record in enumerate(getattr(instance, attr))
        ]
        for chunk in _chunks(rows, 2000):
            conn.execute(record_table.insert(), chunk)
        return instance_id

    def load_instance(self, instance_id: int) -> Instance:
        """The instance exactly as saved (``==`` to it)."""
        with self.engine.connect() as conn:
            head = conn.execute(
                select(instance_table).where(instance_table.c.id == instance_id)
            ).one_or_none()
            if head is None:
                raise StoreLookupError(f"store: instance {instance_id} does not exist")
            settings = decode(Settings, json.loads(head.settings))
            records: dict[str, list[Any]] = {kind: [] for kind, *_ in RECORD_KINDS}
            classes = {kind: cls for kind, cls, *_ in RECORD_KINDS}
            query = (
                select(record_table.c.kind, record_table.c.payload)
                .where(record_table.c.instance_id == instance_id)
                .order_by(record_table.c.kind, record_table.c.position)
            )
            for kind, payload in conn.execute(query):
                records[kind].append(decode(classes[kind], json.loads(payload)))
        counts = json.loads(head.counts)
        for kind, found in records.items():
            if len(found) != counts.get(kind, 0):
                raise StoreError(
                    f"store: instance {instance_id} holds {len(found)} {kind} records "
                    f"but was saved with {counts.get(kind, 0)}; the database is inconsistent"
                )
        return Instance(
            settings=settings,
            **{attr: tuple(records[kind]) for kind, _cls, attr, _id in RECORD_KINDS},
        )

    def instances(self) -> tuple[InstanceInfo, ...]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(instance_table).order_by(instance_table.c.id))
            return tuple(
                InstanceInfo(r.id, r.name, r.week_start, r.created_at, r.created_by) for r in rows
            )

    # -- rota versions --------------------------------------------------------------------------
    def save_rota(
        self,
        instance_id: int,
        rota: Rota,
        *,
        user: str,
        locks: Iterable[Lock] = (),
        parent_id: int | None = None,
        note: str = "",
        conn: Connection | None = None,
    ) -> int:
        """Save ``rota`` as a new draft version of ``instance_id``'s week; returns its id."""
        if conn is None:
            with self._write() as c:
                return self.save_rota(
                    instance_id,
                    rota,
                    user=user,
                    locks=locks,
                    parent_id=parent_id,
                    note=note,
                    conn=c,
                )
        version_id = self._insert_version(
            conn, instance_id, rota, user, tuple(locks), parent_id, note
        )
        audit.append(
            conn,
            at=self._now(),
            user=user,
            action="create",
            rota_version_id=parent_id,
            new_rota_version_id=version_id,
            after={
                "instance_id": instance_id,
                "assignments": len(rota.assignments),
                "unassigned": len(rota.unassigned),
                "note": note,
            },
        )
        return version_id

    def _insert_version(
        self,
        conn: Connection,
        instance_id: int,
        rota: Rota,
        user: str,
        locks: tuple[Lock, ...],
        parent_id: int | None,
        note: str,
    ) -> int:
        week = conn.execute(
            select(instance_table.c.week_start).where(instance_table.c.id == instance_id)
        ).scalar_one_or_none()
        if week is None:
            raise StoreLookupError(f"store: instance {instance_id} does not exist")
        result = conn.execute(
            version_table.insert().values(
                instance_id=instance_id,
                week_start=week,
                status="draft",
                parent_id=parent_id,
                created_at=self._now(),
                created_by=user,
                note=note,
                summary=_dumps(dict(rota.summary)),
                n_assignments=len(rota.assignments),
                n_unassigned=len(rota.unassigned),
                n_locks=len(locks),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        version_id = int(key[0])
        rows = [
            {
                "rota_version_id": version_id,
                "position": i,
                "visit_id": a.visit_id,
                "carer_id": a.carer_id,
                "start_min": a.start,
                "end_min": a.end,
                "travel_from": a.travel_from,
                "travel_miles": a.travel_miles,
                "travel_min": a.travel_min,
            }
            for i, a in enumerate(rota.assignments)
        ]
        for chunk in _chunks(rows, 2000):
            conn.execute(assignment_table.insert(), chunk)
        if rota.unassigned:
            conn.execute(
                unassigned_table.insert(),
                [
                    {
                        "rota_version_id": version_id,
                        "position": i,
                        "visit_id": u.visit_id,
                        "missing": u.missing,
                        "reasons": u.reasons,
                    }
                    for i, u in enumerate(rota.unassigned)
                ],
            )
        if locks:
            conn.execute(
                lock_table.insert(),
                [
                    {"rota_version_id": version_id, "position": i, **dataclasses.asdict(lock)}
                    for i, lock in enumerate(locks)
                ],
            )
        return version_id

    def version(self, version_id: int, conn: Connection | None = None) -> RotaVersion:
        if conn is None:
            with self.engine.connect() as c:
                return self.version(version_id, c)
        row = conn.execute(
            select(version_table).where(version_table.c.id == version_id)
        ).one_or_none()
        if row is None:
            raise StoreLookupError(f"store: rota version {version_id} does not exist")
        return _version(row)

    def versions(
        self, *, week_start: date | None = None, status: str | None = None
    ) -> tuple[RotaVersion, ...]:
        query = select(version_table).order_by(version_table.c.id)
        if week_start is not None:
            query = query.where(version_table.c.week_start == week_start)
        if status is not None:
            query = query.where(version_table.c.status == status)
        with self.engine.connect() as conn:
            return tuple(_version(r) for r in conn.execute(query))

    def load_rota(self, version_id: int, conn: Connection | None = None) -> Rota:
        """The rota of a version exactly as saved."""
        if conn is None:
            with self.engine.connect() as c:
                return self.load_rota(version_id, c)
        head = self.version(version_id, conn)
        summary = conn.execute(
            select(version_table.c.summary).where(version_table.c.id == version_id)
        ).scalar_one()
        assignments = tuple(
            Assignment(
                visit_id=r.visit_id,
                carer_id=r.carer_id,
                start=r.start_min,
                end=r.end_min,
                travel_from=r.travel_from,
                travel_miles=float(r.travel_miles),
                travel_min=r.travel_min,
            )
            for r in conn.execute(
                select(assignment_table)
                .where(assignment_table.c.rota_version_id == version_id)
                .order_by(assignment_table.c.position)
            )
        )
        unassigned = tuple(
            Unassigned(visit_id=r.visit_id, missing=r.missing, reasons=r.reasons)
            for r in conn.execute(
                select(unassigned_table)
                .where(unassigned_table.c.rota_version_id == version_id)
                .order_by(unassigned_table.c.position)
            )
        )
        if len(assignments) != head.n_assignments or len(unassigned) != head.n_unassigned:
            raise StoreError(
                f"store: rota version {version_id} holds {len(assignments)} assignments and "
                f"{len(unassigned)} unassigned visits but was saved with {head.n_assignments} and "
                f"{head.n_unassigned}; the database is inconsistent"
            )
        return Rota(assignments=assignments, unassigned=unassigned, summary=json.loads(summary))

    def locks(self, version_id: int, conn: Connection | None = None) -> tuple[Lock, ...]:
        if conn is None:
            with self.engine.connect() as c:
                return self.locks(version_id, c)
        return tuple(
            Lock(r.visit_id, r.carer_id)
            for r in conn.execute(
                select(lock_table)
                .where(lock_table.c.rota_version_id == version_id)
                .order_by(lock_table.c.position)
            )
        )

    def latest_published(self, week_start: date) -> RotaVersion | None:
        """The week's published version (the most recent one), or ``None``."""
        found = self.versions(week_start=week_start, status="published")
        return found[-1] if found else None

    # -- manual changes (each a new draft version + an audit row) -------------------------------
    def assign(
        self,
        version_id: int,
        visit_id: str,
        carer_id: str,
        *,
        user: str,
        replace_carer: str | None = None,
        start: int | None = None,
        force: bool = False,
    ) -> int:
        """Put ``carer_id`` on ``visit_id`` (instead of ``replace_carer`` if given).

        Makes a new draft version from ``version_id`` and an audit row with the visit's carers
        before and after. The start is the visit's other carer's (a 2:1 starts together), else
        ``start``, else the replaced carer's, else the planned start; travel (R13) is recomputed
        for the carers whose day changed. A change that breaks a hard rule is refused
        (``StoreError`` naming the rule) unless ``force``; so is replacing a locked carer.
        """
        with self._write() as conn:
            instance, rota, head = self._working_copy(conn, version_id)
            visit = _known_visit(instance, visit_id)
            if carer_id not in instance.carer_index:
                raise StoreLookupError(f"store: carer {carer_id!r} does not exist in the instance")
            rows = list(rota.assignments)
            on_visit = [a for a in rows if a.visit_id == visit_id]
            if any(a.carer_id == carer_id for a in on_visit):
                raise StoreError(f"store: carer {carer_id} is already on visit {visit_id}")
            previous_start: int | None = None
            locks = self.locks(version_id, conn)
            if replace_carer is not None:
                if Lock(visit_id, replace_carer) in locks:
                    raise StoreError(
                        f"store: carer {replace_carer} is locked on visit {visit_id}; unlock first"
                    )
                old = [a for a in on_visit if a.carer_id == replace_carer]
                if not old:
                    raise StoreError(f"store: carer {replace_carer} is not on visit {visit_id}")
                rows.remove(old[0])
                on_visit.remove(old[0])
                previous_start = old[0].start
            elif len(on_visit) >= visit.carers:
                raise StoreError(
                    f"store: visit {visit_id} already has its {visit.carers} carer(s); "
                    "name the carer to replace"
                )
            if on_visit:  # R4: both carers of a 2:1 start together
                begin = on_visit[0].start
            elif start is not None:
                begin = start
            elif previous_start is not None:
                begin = previous_start
            else:
                begin = instance.planned_start[instance.visit_index[visit_id]]
            rows.append(Assignment(visit_id, carer_id, begin, begin + visit.duration_min))
            touched = {carer_id} | ({replace_carer} if replace_carer else set())
            new_rota = _rebuilt(instance, rota, rows, touched)
            broken = self._check_change(instance, rota, new_rota, force)
            note = f"assign {carer_id} to {visit_id}"
            if force and broken:
                note += f" (forced: {', '.join(sorted({v.rule for v in broken}))} overridden)"
            new_id = self._insert_version(
                conn, head.instance_id, new_rota, user, locks, version_id, note
            )
            after = _visit_state(new_rota, visit_id)
            if force:
                after.update(_overrides(broken))
            audit.append(
                conn,
                at=self._now(),
                user=user,
                action="assign",
                rota_version_id=version_id,
                new_rota_version_id=new_id,
                visit_id=visit_id,
                carer_id=carer_id,
                before=_visit_state(rota, visit_id),
                after=after,
            )
            return new_id

    def unassign(
        self, version_id: int, visit_id: str, carer_id: str, *, user: str, reason: str = ""
    ) -> int:
        """Take ``carer_id`` off ``visit_id``: a new draft version in which the visit is listed
        as unassigned (with ``reason``), and an audit row."""
        with self._write() as conn:
            instance, rota, head = self._working_copy(conn, version_id)
            _known_visit(instance, visit_id)
            rows = list(rota.assignments)
            old = [a for a in rows if a.visit_id == visit_id and a.carer_id == carer_id]
            if not old:
                raise StoreError(f"store: carer {carer_id} is not on visit {visit_id}")
            rows.remove(old[0])
            why = reason or f"carer {carer_id} taken off by hand by {user}"
            new_rota = _rebuilt(instance, rota, rows, {carer_id}, reason=why)
            new_locks = tuple(
                lk for lk in self.locks(version_id, conn) if lk != Lock(visit_id, carer_id)
            )
            new_id = self._insert_version(
                conn,
                head.instance_id,
                new_rota,
                user,
                new_locks,
                version_id,
                f"unassign {carer_id} from {visit_id}",
            )
            audit.append(
                conn,
                at=self._now(),
                user=user,
                action="unassign",
                rota_version_id=version_id,
                new_rota_version_id=new_id,
                visit_id=visit_id,
                carer_id=carer_id,
                before=_visit_state(rota, visit_id),
                after=_visit_state(new_rota, visit_id),
            )
            return new_id

    def lock(self, version_id: int, visit_id: str, carer_id: str, *, user: str) -> int:
        """Pin ``carer_id`` to ``visit_id`` (they must be on it): a new draft version + audit row."""
        return self._set_lock(version_id, visit_id, carer_id, user, locked=True)

    def unlock(self, version_id: int, visit_id: str, carer_id: str, *, user: str) -> int:
        return self._set_lock(version_id, visit_id, carer_id, user, locked=False)

    def _set_lock(
        self, version_id: int, visit_id: str, carer_id: str, user: str, locked: bool
    ) -> int:
        with self._write() as conn:
            head = self.version(version_id, conn)
            rota = self.load_rota(version_id, conn)
            if not any(a.visit_id == visit_id and a.carer_id == carer_id for a in rota.assignments):
                raise StoreError(
                    f"store: carer {carer_id} is not on visit {visit_id}; nothing to lock"
                )
            before = self.locks(version_id, conn)
            target = Lock(visit_id, carer_id)
            if locked == (target in before):
                raise StoreError(
                    f"store: {carer_id} on {visit_id} is already {'locked' if locked else 'unlocked'}"
                )
            after = before + (target,) if locked else tuple(lk for lk in before if lk != target)
            new_id = self._insert_version(
                conn,
                head.instance_id,
                rota,
                user,
                after,
                version_id,
                f"{'lock' if locked else 'unlock'} {carer_id} on {visit_id}",
            )
            audit.append(
                conn,
                at=self._now(),
                user=user,
                action="lock" if locked else "unlock",
                rota_version_id=version_id,
                new_rota_version_id=new_id,
                visit_id=visit_id,
                carer_id=carer_id,
                before={"locked": not locked},
                after={"locked": locked},
            )
            return new_id

    def save_repair(
        self,
        version_id: int,
        instance: Instance,
        rota: Rota,
        *,
        user: str,
        note: str = "repair",
    ) -> int:
        """Save a repaired rota (``solver.repair``) as a new draft version of ``version_id``.

        ``instance`` is the repair's instance (the absence added), saved alongside; the locks are
        carried over where their rows survive, and one ``repair`` audit row per visit whose
        carers or start changed records the visit before and after.
        """
        with self._write() as conn:
            old = self.load_rota(version_id, conn)
            self.version(version_id, conn)
            instance_id = self.save_instance(instance, user=user, conn=conn)
            kept = {(a.visit_id, a.carer_id) for a in rota.assignments}
            locks = tuple(
                lk for lk in self.locks(version_id, conn) if (lk.visit_id, lk.carer_id) in kept
            )
            new_id = self._insert_version(conn, instance_id, rota, user, locks, version_id, note)
            moment = self._now()
            for vid in _changed_visits(old, rota):
                audit.append(
                    conn,
                    at=moment,
                    user=user,
                    action="repair",
                    rota_version_id=version_id,
                    new_rota_version_id=new_id,
                    visit_id=vid,
                    before=_visit_state(old, vid),
                    after=_visit_state(rota, vid),
                )
            return new_id

    def publish(self, version_id: int, *, user: str, force: bool = False) -> RotaVersion:
        """Publish a draft: it becomes the week's rota (the earlier published one is superseded).

        A rota that breaks a hard rule is refused unless ``force`` (the contract: every rota we
        publish must satisfy it); a forced publish is checked all the same, and its audit row
        records ``"forced": true`` with the rules it overrode.
        """
        from roster.checker import check

        with self._write() as conn:
            head = self.version(version_id, conn)
            if head.status != "draft":
                raise StoreError(f"store: rota version {version_id} is {head.status}, not a draft")
            instance = self.load_instance(head.instance_id)
            violations = check(instance, self.load_rota(version_id, conn))
            if violations and not force:
                first = violations[0]
                raise StoreError(
                    f"store: rota version {version_id} breaks {len(violations)} hard rule(s), "
                    f"first {first.rule} on {first.visit_id}: {first.message}"
                )
            earlier = (
                conn.execute(
                    select(version_table.c.id).where(
                        (version_table.c.week_start == head.week_start)
                        & (version_table.c.status == "published")
                    )
                )
                .scalars()
                .all()
            )
            if earlier:
                conn.execute(
                    version_table.update()
                    .where(version_table.c.id.in_(earlier))
                    .values(status="superseded")
                )
            moment = self._now()
            conn.execute(
                version_table.update()
                .where(version_table.c.id == version_id)
                .values(status="published", published_at=moment, published_by=user)
            )
            audit.append(
                conn,
                at=moment,
                user=user,
                action="publish",
                rota_version_id=earlier[-1] if earlier else None,
                new_rota_version_id=version_id,
                before={"status": "draft", "superseded": list(earlier)},
                after={
                    "status": "published",
                    "week_start": head.week_start.isoformat(),
                    **(_overrides(violations) if force else {}),
                },
            )
            return self.version(version_id, conn)

    def _working_copy(
        self, conn: Connection, version_id: int
    ) -> tuple[Instance, Rota, RotaVersion]:
        head = self.version(version_id, conn)
        return self.load_instance(head.instance_id), self.load_rota(version_id, conn), head

    @staticmethod
    def _check_change(instance: Instance, old: Rota, new: Rota, force: bool) -> list[Any]:
        """The hard-rule violations the change adds (``roster.checker.Violation``); refused with
        a ``StoreError`` naming them unless ``force``, which returns them for the audit."""
        from roster.checker import check

        before = {(v.rule, v.visit_id, v.carer_id) for v in check(instance, old)}
        fresh = [v for v in check(instance, new) if (v.rule, v.visit_id, v.carer_id) not in before]
        if fresh and not force:
            lines = "; ".join(f"{v.rule} on {v.visit_id}: {v.message}" for v in fresh[:5])
            raise StoreError(f"store: the change breaks {len(fresh)} hard rule(s): {lines}")
        return fresh

    # -- scenarios ------------------------------------------------------------------------------
    def save_scenario(
        self,
        name: str,
        instance: Instance,
        *,
        user: str,
        params: Mapping[str, Any] | Any = None,
        result: Mapping[str, Any] | Any = None,
        rota: Rota | None = None,
        base_instance_id: int | None = None,
    ) -> int:
        """Save a named instance variant with the parameters and result of solving it.

        ``params``/``result`` may be mappings or dataclasses (``SolveParams``, a result's
        summary); they are stored as JSON. ``rota``, when given, is saved as a draft version.
        """
        with self._write() as conn:
            instance_id = self.save_instance(instance, user=user, conn=conn)
            version_id = (
                None
                if rota is None
                else self.save_rota(
                    instance_id, rota, user=user, note=f"scenario {name}", conn=conn
                )
            )
            key = conn.execute(
                scenario_table.insert().values(
                    name=name,
                    instance_id=instance_id,
                    base_instance_id=base_instance_id,
                    rota_version_id=version_id,
                    params=_dumps(_plain(params)),
                    result=_dumps(_plain(result)),
                    created_at=self._now(),
                    created_by=user,
                )
            ).inserted_primary_key
            assert key is not None
            return int(key[0])

    def scenario(self, scenario_id: int) -> Scenario:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(scenario_table).where(scenario_table.c.id == scenario_id)
            ).one_or_none()
        if row is None:
            raise StoreLookupError(f"store: scenario {scenario_id} does not exist")
        return _scenario(row)

    def scenarios(self) -> tuple[Scenario, ...]:
        with self.engine.connect() as conn:
            return tuple(
                _scenario(r)
                for r in conn.execute(select(scenario_table).order_by(scenario_table.c.id))
            )

    # -- the audit trail ------------------------------------------------------------------------
    def audit(self, **filters: Any) -> tuple[AuditEntry, ...]:
        """The audit trail in order (filters: rota_version_id, visit_id, user, action)."""
        with self.engine.connect() as conn:
            return audit.entries(conn, **filters)

    # -- multi-week continuity ------------------------------------------------------------------
    def history_for(self, week_start: date) -> tuple[History, ...]:
        """Hours per (child, carer) over the four published weeks before ``week_start``.

        Each earlier week counts its latest published version (a superseded one does not).
        Hours are visit minutes / 60, rounded to 2 decimals, sorted by child then carer.
        """
        first = week_start - timedelta(weeks=HISTORY_WEEKS)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(version_table.c.id, version_table.c.instance_id, version_table.c.week_start)
                .where(
                    (version_table.c.status == "published")
                    & (version_table.c.week_start >= first)
                    & (version_table.c.week_start < week_start)
                )
                .order_by(version_table.c.id)
            ).all()
            latest: dict[date, tuple[int, int]] = {}
            for vid, iid, week in rows:
                latest[week] = (vid, iid)
            minutes: dict[tuple[str, str], int] = {}
            for vid, iid in latest.values():
                payloads = dict(
                    conn.execute(
                        select(record_table.c.record_id, record_table.c.payload).where(
                            (record_table.c.instance_id == iid) & (record_table.c.kind == "visit")
                        )
                    ).all()
                )
                child_of = {k: json.loads(v)["child_id"] for k, v in payloads.items()}
                for visit_id, carer_id, worked in conn.execute(
                    select(
                        assignment_table.c.visit_id,
                        assignment_table.c.carer_id,
                        func.sum(assignment_table.c.end_min - assignment_table.c.start_min),
                    )
                    .where(assignment_table.c.rota_version_id == vid)
                    .group_by(assignment_table.c.visit_id, assignment_table.c.carer_id)
                ):
                    key = (child_of[visit_id], carer_id)
                    minutes[key] = minutes.get(key, 0) + int(worked)
        return tuple(
            History(child_id=c, carer_id=k, hours=round(m / 60.0, 2))
            for (c, k), m in sorted(minutes.items())
        )


def instance_with_history(
    instance: Instance, url: str | os.PathLike[str] | None, week_start: date | None = None
) -> Instance:
    """``instance`` with its history taken from the store's published weeks before its week.

    When the store holds at least one published week of the four before, its hours replace the
    instance's own ``history`` (they describe the same weeks, and the store's are what was
    actually rostered); otherwise the instance is returned unchanged.
    """
    week = week_start or instance.settings.week_start
    with Store.open(url) as store:
        history = store.history_for(week)
    if not history:
        return instance
    return replace(instance, history=history)


def instance_for_week(
    url: str | os.PathLike[str] | None, week_start: date
) -> tuple[int, Instance]:
    """The latest instance saved for the week starting ``week_start``, with its history from the
    store's published weeks before it (``instance_with_history``): what ``roster solve --db URL
    --week YYYY-MM-DD`` solves. Returns (instance id, instance)."""
    with Store.open(url) as store:
        saved = [i for i in store.instances() if i.week_start == week_start]
        if not saved:
            raise StoreLookupError(f"store: no instance saved for the week of {week_start}")
        instance_id = saved[-1].id
        instance = store.load_instance(instance_id)
        history = store.history_for(week_start)
    return instance_id, (replace(instance, history=history) if history else instance)


def save_solve(
    url: str | os.PathLike[str] | None,
    instance: Instance,
    rota: Rota,
    *,
    user: str,
    instance_id: int | None = None,
    note: str = "solved",
) -> tuple[int, int]:
    """Save a solver's rota (and the instance, unless ``instance_id`` names it already) as a
    draft version in one transaction. Returns (instance id, rota version id)."""
    with Store.open(url) as store, store._write() as conn:
        if instance_id is None:
            instance_id = store.save_instance(instance, user=user, conn=conn)
        version_id = store.save_rota(instance_id, rota, user=user, note=note, conn=conn)
    return instance_id, version_id


# ---- helpers ---------------------------------------------------------------------------------


def _overrides(violations: Sequence[Any]) -> dict[str, Any]:
    """What a forced change's audit row adds: that it was forced and which rules it overrode."""
    return {
        "forced": True,
        "overridden_count": len(violations),
        "overridden": [
            {"rule": v.rule, "visit_id": v.visit_id, "carer_id": v.carer_id, "message": v.message}
            for v in violations[:MAX_RECORDED_OVERRIDES]
        ],
    }


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _plain(value: Any) -> Any:
    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value)
    return value


def _version(row: Any) -> RotaVersion:
    return RotaVersion(
        id=row.id,
        instance_id=row.instance_id,
        week_start=row.week_start,
        status=row.status,
        parent_id=row.parent_id,
        created_at=row.created_at,
        created_by=row.created_by,
        note=row.note,
        published_at=row.published_at,
        published_by=row.published_by,
        n_assignments=row.n_assignments,
        n_unassigned=row.n_unassigned,
        n_locks=row.n_locks,
    )


def _scenario(row: Any) -> Scenario:
    return Scenario(
        id=row.id,
        name=row.name,
        instance_id=row.instance_id,
        base_instance_id=row.base_instance_id,
        rota_version_id=row.rota_version_id,
        params=json.loads(row.params),
        result=json.loads(row.result),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _known_visit(instance: Instance, visit_id: str) -> Visit:
    if visit_id not in instance.visit_index:
        raise StoreLookupError(f"store: visit {visit_id!r} does not exist in the instance")
    return instance.visit(visit_id)


def _changed_visits(old: Rota, new: Rota) -> list[str]:
    """Visits whose (carer, start) rows differ between two rotas, sorted."""
    was: dict[str, set[tuple[str, int]]] = {}
    now: dict[str, set[tuple[str, int]]] = {}
    for a in old.assignments:
        was.setdefault(a.visit_id, set()).add((a.carer_id, a.start))
    for a in new.assignments:
        now.setdefault(a.visit_id, set()).add((a.carer_id, a.start))
    return sorted(v for v in set(was) | set(now) if was.get(v) != now.get(v))


def _visit_state(rota: Rota, visit_id: str) -> dict[str, Any]:
    """What the audit trail records of a visit: its carers with their times, and what is missing."""
    return {
        "assignments": [
            {"carer_id": a.carer_id, "start": a.start, "end": a.end, "travel_from": a.travel_from}
            for a in sorted(rota.assignments, key=lambda a: a.carer_id)
            if a.visit_id == visit_id
        ],
        "missing": sum(u.missing for u in rota.unassigned if u.visit_id == visit_id),
    }


def retravel(
    instance: Instance, rows: Sequence[Assignment], carer_ids: Iterable[str]
) -> list[Assignment]:
    """Recompute ``travel_from``/miles/minutes (R13) of every assignment of ``carer_ids``."""
    from roster.rules import journey_into, travel_model

    model = travel_model(instance)
    targets = set(carer_ids)
    keep = [a for a in rows if a.carer_id not in targets]
    redone: list[Assignment] = []
    for carer_id in sorted(targets):
        mine = sorted(
            (a for a in rows if a.carer_id == carer_id), key=lambda a: (a.start, a.visit_id)
        )
        carer = instance.carer(carer_id)
        previous: Assignment | None = None
        for a in mine:
            travel_from, miles, minutes = journey_into(
                instance, carer, previous, instance.visit_index[a.visit_id], a.start, model
            )
            fixed = replace(a, travel_from=travel_from, travel_miles=miles, travel_min=minutes)
            redone.append(fixed)
            previous = fixed
    return keep + redone


def unassigned_for(
    instance: Instance, rows: Sequence[Assignment], earlier: Sequence[Unassigned], reason: str
) -> tuple[Unassigned, ...]:
    """Every visit short of carers, keeping earlier reasons and giving ``reason`` to new ones."""
    staffed: dict[str, int] = {}
    for a in rows:
        staffed[a.visit_id] = staffed.get(a.visit_id, 0) + 1
    reasons = {u.visit_id: u.reasons for u in earlier}
    out = []
    for v in instance.visits:
        missing = v.carers - staffed.get(v.visit_id, 0)
        if missing > 0:
            out.append(Unassigned(v.visit_id, missing, reasons.get(v.visit_id) or reason))
    return tuple(out)


def _rebuilt(
    instance: Instance,
    rota: Rota,
    rows: Sequence[Assignment],
    touched: set[str],
    reason: str = "not staffed",
) -> Rota:
    """A rota from edited rows: travel redone for the touched carers, unassigned and summary
    brought up to date, rows in the visit order of the instance."""
    order = instance.visit_index
    fixed = retravel(instance, rows, touched)
    fixed.sort(key=lambda a: (order[a.visit_id], a.carer_id))
    unassigned = unassigned_for(instance, fixed, rota.unassigned, reason)
    summary = dict(rota.summary)
    slots = sum(v.carers for v in instance.visits)
    summary.update(
        visits=len(instance.visits),
        visits_covered=len(instance.visits) - len(unassigned),
        carer_slots=slots,
        carer_slots_covered=len(fixed),
        travel_miles=round(sum(a.travel_miles for a in fixed), 2),
    )
    return Rota(assignments=tuple(fixed), unassigned=unassigned, summary=summary)


# ---- command line ----------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help=f"database URL or SQLite file (default: $ROSTER_DB or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--user",
        default=None,
        help="who is acting: a login name of the app's users file ($ROSTER_USERS or "
        "$ROSTER_HOME/users.json); default: your login name",
    )
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    p = sub.add_parser("save-instance", help="save an instance folder or workbook")
    p.add_argument("instance")
    p = sub.add_parser(
        "save-rota", help="save a rota folder as a draft version of a saved instance"
    )
    p.add_argument("instance_id", type=int)
    p.add_argument("rota")
    p.add_argument("--note", default="")
    p = sub.add_parser("list", help="list instances, rota versions or scenarios")
    p.add_argument(
        "what", nargs="?", default="versions", choices=("instances", "versions", "scenarios")
    )
    p.add_argument("--week", type=date.fromisoformat, default=None)
    p = sub.add_parser("export", help="write a rota version (and its instance) as contract folders")
    p.add_argument("version_id", type=int)
    p.add_argument(
        "out", help="folder for the rota; the instance goes to OUT/instance unless --instance-out"
    )
    p.add_argument("--instance-out", default=None)
    p = sub.add_parser("publish", help="publish a draft rota version as its week's rota")
    p.add_argument("version_id", type=int)
    p.add_argument("--force", action="store_true", help="publish even if a hard rule is broken")
    for name, text in (
        ("assign", "put a carer on a visit (a new draft version)"),
        ("unassign", "take a carer off a visit (a new draft version)"),
        ("lock", "pin a carer to a visit"),
        ("unlock", "release a pinned carer"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("version_id", type=int)
        p.add_argument("visit_id")
        p.add_argument("carer_id")
        if name == "assign":
            p.add_argument("--replace", default=None, help="the carer to take off the visit")
            p.add_argument("--force", action="store_true")
    p = sub.add_parser("audit", help="list the audit trail, or export it as CSV")
    p.add_argument("--version", type=int, default=None, dest="audit_version")
    p.add_argument("--csv", default=None, help="write the trail to this CSV file")
    p = sub.add_parser(
        "changes", help="which families gain or lose which carer between two rota versions"
    )
    p.add_argument("old_version_id", type=int)
    p.add_argument("new_version_id", type=int)
    p.add_argument("--csv", default=None, help="write the changes to this CSV file")
    p = sub.add_parser(
        "history", help="hours per child and carer from the four published weeks before WEEK"
    )
    p.add_argument("week", type=date.fromisoformat)


def acting_user(args: argparse.Namespace) -> str:
    """Who is acting: ``--user``, else the login name."""
    if getattr(args, "user", None):
        return str(args.user)
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


WRITING_ACTIONS: frozenset[str] = frozenset(
    {"save-instance", "save-rota", "publish", "assign", "unassign", "lock", "unlock"}
)
"""``roster store`` actions that change the store, and so must name a known user."""


def known_user(name: str) -> str:
    """``name`` as the app's users file spells it, or ``StoreError`` (one sentence) when it is
    not a user there: the audit trail names people who can be asked, not free text."""
    from roster.auth import list_users, users_path

    path = users_path()
    try:
        users = list_users(path)
    except ValueError as exc:
        raise StoreError(f"store: {exc}") from exc
    for u in users:
        if u.name.casefold() == name.strip().casefold():
            return u.name
    if not users:
        raise StoreError(
            f"store: --user {name!r} is not a known user: the users file {path} has no users; "
            f"add one with python -m roster.auth {path} NAME manager"
        )
    raise StoreError(
        f"store: --user {name!r} is not a known user of the users file {path}; give one of its "
        "login names (managers add users on the app's Users page)"
    )


def run_command(args: argparse.Namespace) -> int:
    action = args.store_command
    user = acting_user(args)
    if action in WRITING_ACTIONS:
        try:
            user = known_user(user)
        except StoreError as exc:
            print(f"roster store {action}: {str(exc).removeprefix('store: ')}", file=sys.stderr)
            return 2
    try:
        store = Store.open(args.db)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server: one sentence
        where = args.db or default_url()
        print(f"roster store: cannot open the store {where}: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(store, action, args, user)
    except StoreError as exc:
        print(f"roster store {action}: {str(exc).removeprefix('store: ')}", file=sys.stderr)
        return 2
    finally:
        store.close()


def _run(store: Store, action: str, args: argparse.Namespace, user: str) -> int:
    if action == "save-instance":
        from roster.io import load_instance

        instance_id = store.save_instance(load_instance(args.instance), user=user)
        print(f"instance {instance_id} saved")
    elif action == "save-rota":
        from roster.io import load_rota

        instance = store.load_instance(args.instance_id)
        version_id = store.save_rota(
            args.instance_id, load_rota(instance, args.rota), user=user, note=args.note
        )
        print(f"rota version {version_id} saved (draft)")
    elif action == "list":
        if args.what == "instances":
            for i in store.instances():
                print(
                    f"{i.id}\t{i.week_start}\t{i.name}\t{i.created_at.isoformat()}\t{i.created_by}"
                )
        elif args.what == "scenarios":
            for s in store.scenarios():
                print(
                    f"{s.id}\t{s.name}\tinstance {s.instance_id}\trota {s.rota_version_id or '-'}"
                )
        else:
            print(
                "id\tweek\tstatus\tinstance\tparent\tcreated_at\tcreated_by\tassigned\tunassigned\tnote"
            )
            for v in store.versions(week_start=args.week):
                print(
                    f"{v.id}\t{v.week_start}\t{v.status}\t{v.instance_id}\t{v.parent_id or '-'}\t"
                    f"{v.created_at.isoformat()}\t{v.created_by}\t{v.n_assignments}\t"
                    f"{v.n_unassigned}\t{v.note}"
                )
    elif action == "export":
        from roster.io import write_instance, write_rota

        head = store.version(args.version_id)
        instance = store.load_instance(head.instance_id)
        write_rota(instance, store.load_rota(args.version_id), args.out)
        instance_out = args.instance_out or os.path.join(args.out, "instance")
        write_instance(instance, instance_out)
        print(f"rota version {args.version_id} written to {args.out}; instance to {instance_out}")
    elif action == "publish":
        head = store.publish(args.version_id, user=user, force=args.force)
        print(f"rota version {head.id} published for the week of {head.week_start}")
    elif action in ("assign", "unassign", "lock", "unlock"):
        if action == "assign":
            new_id = store.assign(
                args.version_id,
                args.visit_id,
                args.carer_id,
                user=user,
                replace_carer=args.replace,
                force=args.force,
            )
        else:
            new_id = getattr(store, action)(
                args.version_id, args.visit_id, args.carer_id, user=user
            )
        print(f"rota version {new_id} saved (draft)")
    elif action == "audit":
        rows = store.audit(rota_version_id=args.audit_version)
        if args.csv:
            audit.export_csv(rows, args.csv)
            print(f"{len(rows)} audit rows written to {args.csv}")
        else:
            sys.stdout.write(audit.to_csv(rows))
    elif action == "changes":
        from roster.atomic import atomic_write_text
        from roster.changes import changes_csv, changes_report

        old_head, new_head = store.version(args.old_version_id), store.version(args.new_version_id)
        if old_head.week_start != new_head.week_start:
            raise StoreError(
                f"rota versions {old_head.id} and {new_head.id} are for different weeks "
                f"({old_head.week_start} and {new_head.week_start})"
            )
        instance = store.load_instance(new_head.instance_id)
        text = changes_csv(
            changes_report(instance, store.load_rota(old_head.id), store.load_rota(new_head.id))
        )
        if args.csv:
            atomic_write_text(args.csv, text)
            print(f"changes written to {args.csv}")
        else:
            sys.stdout.write(text)
    elif action == "history":
        print("child_id,carer_id,hours")
        for h in store.history_for(args.week):
            print(f"{h.child_id},{h.carer_id},{h.hours}")
    return 0


__all__ = [
    "DEFAULT_URL",
    "WRITING_ACTIONS",
    "InstanceInfo",
    "Lock",
    "RotaVersion",
    "Scenario",
    "Store",
    "StoreError",
    "StoreLookupError",
    "decode",
    "default_url",
    "encode",
    "instance_for_week",
    "instance_with_history",
    "known_user",
    "save_solve",
    "retravel",
    "unassigned_for",
    "upgrade",
]
