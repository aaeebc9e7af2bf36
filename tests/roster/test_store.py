"""The rota store (roster.store) and audit trail (roster.audit), on SQLite and on a real PostgreSQL.

The PostgreSQL server is started by this test run on loopback (Debian's ``postgresql``; see
``_start_postgres``); the PostgreSQL cases skip, saying why, only where it is not installed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from roster import audit
from roster.model import (
    Absence,
    Assignment,
    Availability,
    History,
    Instance,
    Rota,
    Training,
    Travel,
    Unassigned,
)
from roster.store import (
    Lock,
    Store,
    StoreError,
    StoreLookupError,
    instance_with_history,
    retravel,
    unassigned_for,
)
from tests.factory import WEEK, carer, child, everyday, make_instance, mandatory, visit

REPO = Path(__file__).resolve().parents[2]


# ---- a PostgreSQL server on loopback for this test run ---------------------------------------


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    user: str
    runas: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"roster_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _as(self.runas, [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _as(runas: str | None, argv: list[str]) -> subprocess.CompletedProcess[str]:
    if runas is not None:
        argv = ["runuser", "-u", runas, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_postgres() -> PostgresServer:
    """initdb a temporary cluster and start it on a free 127.0.0.1 port (the server refuses to
    run as root, so as root it runs as the ``postgres`` user, or ``nobody``)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable("psycopg is not installed: pip install 'psycopg[binary]'") from exc
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: apt-get install -y postgresql (scripts/sysdeps.sh does it)"
        )
    bindir = Path(found[-1]).parent
    runas: str | None = None
    if os.geteuid() == 0:
        runas = next((n for n in ("postgres", "nobody") if _user_exists(n)), None)
        if runas is None or shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root, with no postgres or nobody user to run it")
    root = Path(tempfile.mkdtemp(prefix="roster-pg-"))
    if runas is not None:
        entry = pwd.getpwnam(runas)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    init = _as(
        runas,
        [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "roster", "--auth=trust",
         "-E", "UTF8", "--no-sync"],
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-400:]}")
    error = ""
    for _attempt in range(3):
        port = _free_port()
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = _as(
            runas,
            [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", options,
             "-l", str(root / "server.log"), "-w", "start"],
        )
        if started.returncode == 0:
            return PostgresServer(bindir, root, port, "roster", runas)
        error = started.stderr.strip()[-400:]
    shutil.rmtree(root, ignore_errors=True)
    raise PostgresUnavailable(f"pg_ctl start failed: {error}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = _start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server for the store tests: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'roster.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


class FakeClock:
    """An injectable clock that moves on a minute each time it is read."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url, clock=FakeClock()) as s:
        yield s


# ---- instances the tests save ----------------------------------------------------------------


def rich_instance() -> Instance:
    """Every kind of record, with the awkward values: None, empty tuples, expiries, extras."""
    carers = (
        carer("K1"),
        carer("K2", gender="M", languages=("English", "Polish"), culture="Polish",
              overnight_ok=True, max_week_hours=40.0, agency=True, dbs_issued=None,
              dbs_update_service=True, hourly_cost=14.25),
        carer("K3", drives=False, contracted_hours=0.1 + 0.2),
    )
    children = (
        child("C1", gender_preferred="F", language="English"),
        child("C2", gender_required="M", excluded_carers=("K1", "K3"), mileage_cap_miles=25.5,
              max_carers_week=2, spec="complex_home_care"),
    )
    visits = (
        visit("V1", "C1"),
        visit("V2", "C2", date=WEEK + timedelta(days=1), start="09:30", duration_min=180,
              carers=2, kind="community", needs_driver=True, trip_miles=6.5,
              competencies=("peg_feeding",), lat=50.716, lon=-2.442),
        visit("V3", "C2", date=WEEK + timedelta(days=4), start="21:00", duration_min=600, flex_min=30),
    )
    training = mandatory("K1") + (
        Training("K1", "peg_feeding", date(2027, 1, 31)),
        Training("K2", "safeguarding_children", date(2027, 5, 1)),
        Training("K2", "peg_feeding"),
    ) + mandatory("K3")
    availability = everyday("K1") + everyday("K2", "06:00", "23:30") + (
        Availability("K3", "2026-11-27", "20:00", "08:00"),
    )
    base = make_instance(
        carers, children, visits, training=training, availability=availability,
        history=(History("C1", "K1", 12.0), History("C2", "K2", 7.5)),
        name="rich", bank_holidays=(WEEK + timedelta(days=2),), travel=Travel(1.4, 18.5),
        core_hours=("07:00", "22:00"), extra={"region": "Dorset", "note": ["a", 1]},
    )
    return replace(
        base, absences=(Absence("K1", datetime(2026, 11, 26, 8, 0), datetime(2026, 11, 26, 13, 0)),)
    )


def valid_rota(instance: Instance, plan: dict[str, tuple[str, ...]]) -> Rota:
    """A rota putting the named carers on each visit at its planned start, travel by R13."""
    rows = [
        Assignment(v, k, instance.planned_start[instance.visit_index[v]],
                   instance.planned_start[instance.visit_index[v]] + instance.visit(v).duration_min)
        for v, ks in plan.items() for k in ks
    ]
    fixed = retravel(instance, rows, {a.carer_id for a in rows})
    return Rota(tuple(fixed), unassigned_for(instance, fixed, (), "not staffed"), {"objective": 1.0})


def week_instance(week: date) -> Instance:
    """Two carers, two children, visits Monday to Wednesday of ``week``."""
    return make_instance(
        [carer("K1"), carer("K2")],
        [child("C1"), child("C2")],
        [visit("V1", "C1", date=week), visit("V2", "C2", date=week, start="10:00", duration_min=90),
         visit("V3", "C1", date=week + timedelta(days=2), duration_min=60)],
        week_start=week,
    )


# ---- round trips -----------------------------------------------------------------------------


def test_an_instance_reloads_equal_to_the_one_saved_with_every_record(store: Store):
    instance = rich_instance()
    instance_id = store.save_instance(instance, user="amy")
    back = store.load_instance(instance_id)
    assert back == instance
    assert back.settings.extra == {"region": "Dorset", "note": ["a", 1]}
    assert back.carers[2].contracted_hours == 0.1 + 0.2
    assert back.carers[1].dbs_issued is None and back.children[0].mileage_cap_miles is None
    assert back.absences[0].start == datetime(2026, 11, 26, 8, 0)
    assert [i.id for i in store.instances()] == [instance_id]


def test_a_rota_version_reloads_exactly_with_unassigned_summary_and_locks(store: Store):
    instance = rich_instance()
    instance_id = store.save_instance(instance, user="amy")
    rota = Rota(
        assignments=(
            Assignment("V1", "K1", 960, 1080, "home", 1.23, 4),
            Assignment("V2", "K2", 2010, 2190, "V1", 0.07, 1),
        ),
        unassigned=(Unassigned("V2", 1, "no carer with peg_feeding free Tue 09:30-12:30"),
                    Unassigned("V3", 1, "nobody")),
        summary={"objective": 12.5, "bound": None, "visits": 3, "terms": {"travel": 1.3}},
    )
    locks = (Lock("V1", "K1"), Lock("V2", "K2"))
    version_id = store.save_rota(instance_id, rota, user="amy", locks=locks, note="first")
    assert store.load_rota(version_id) == rota
    assert store.locks(version_id) == locks
    head = store.version(version_id)
    assert (head.status, head.week_start, head.created_by, head.note) == ("draft", WEEK, "amy", "first")
    assert head.created_at.tzinfo is not None


def test_a_scenario_reloads_with_its_instance_params_result_and_rota(store: Store):
    base_id = store.save_instance(rich_instance(), user="amy")
    variant = replace(rich_instance(), visits=rich_instance().visits[:2])
    rota = Rota((Assignment("V1", "K1", 960, 1080),), (Unassigned("V2", 2, "x"),), {})
    scenario_id = store.save_scenario(
        "fewer visits", variant, user="bob", params={"time_limit": 5.0, "seed": 3},
        result={"objective": 10.0, "status": "OPTIMAL"}, rota=rota, base_instance_id=base_id,
    )
    scenario = store.scenario(scenario_id)
    assert scenario.name == "fewer visits" and scenario.base_instance_id == base_id
    assert scenario.params == {"time_limit": 5.0, "seed": 3}
    assert scenario.result["status"] == "OPTIMAL"
    assert store.load_instance(scenario.instance_id) == variant
    assert scenario.rota_version_id is not None
    assert store.load_rota(scenario.rota_version_id) == rota
    assert [s.id for s in store.scenarios()] == [scenario_id]


def test_timestamps_come_from_the_injected_clock(tmp_path: Path):
    moments = iter([datetime(2030, 1, 1, 12, m, tzinfo=UTC) for m in range(10)])
    with Store.open(tmp_path / "s.sqlite", clock=lambda: next(moments)) as s:
        instance_id = s.save_instance(week_instance(WEEK), user="amy")
        version_id = s.save_rota(instance_id, Rota(()), user="amy")
        assert s.instances()[0].created_at == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        assert s.version(version_id).created_at == datetime(2030, 1, 1, 12, 1, tzinfo=UTC)
        assert s.audit()[0].at == datetime(2030, 1, 1, 12, 2, tzinfo=UTC)


def test_an_unknown_id_is_a_lookup_error_naming_it(store: Store):
    with pytest.raises(StoreLookupError, match="rota version 99 does not exist"):
        store.load_rota(99)
    with pytest.raises(LookupError, match="instance 7 does not exist"):
        store.load_instance(7)


def test_reopening_a_store_keeps_what_was_saved_and_does_not_migrate_twice(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    with Store.open(url) as s:
        instance_id = s.save_instance(week_instance(WEEK), user="amy")
    with Store.open(url) as s:
        assert s.load_instance(instance_id) == week_instance(WEEK)
        with s.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_a_store_made_by_the_first_migration_is_upgraded_with_its_data_kept(db_url: str):
    from roster.store import upgrade

    engine = sa.create_engine(db_url)
    upgrade(engine, "0001")
    engine.dispose()
    with Store(sa.create_engine(db_url)) as old:
        instance_id = old.save_instance(week_instance(WEEK), user="amy")
        first = old.save_rota(instance_id, valid_rota(week_instance(WEEK), {"V1": ("K1",)}), user="a")
    with Store.open(db_url) as s:
        assert s.load_instance(instance_id) == week_instance(WEEK)
        s.publish(first, user="mgr")
        with s.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_the_database_refuses_two_published_versions_of_one_week(store: Store):
    instance_id = store.save_instance(week_instance(WEEK), user="amy")
    first = store.save_rota(instance_id, Rota(()), user="a")
    second = store.save_rota(instance_id, Rota(()), user="a")
    store.publish(first, user="mgr", force=True)
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE rota_version SET status = 'published' WHERE id = {second}"))
    store.publish(second, user="mgr", force=True)
    assert [v.status for v in store.versions()] == ["superseded", "published"]


# ---- manual changes and the audit trail ------------------------------------------------------


def test_assign_through_the_api_makes_a_new_draft_and_records_who_when_before_and_after(store: Store):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",), "V2": ("K1",)}), user="solver")
    second = store.assign(first, "V2", "K2", user="bob", replace_carer="K1")
    assert second != first
    assert {(a.visit_id, a.carer_id) for a in store.load_rota(first).assignments} == {("V1", "K1"), ("V2", "K1")}
    new = store.load_rota(second)
    assert {(a.visit_id, a.carer_id) for a in new.assignments} == {("V1", "K1"), ("V2", "K2")}
    head = store.version(second)
    assert head.parent_id == first and head.status == "draft" and head.created_by == "bob"
    entry = store.audit(action="assign")[-1]
    assert (entry.user, entry.visit_id, entry.carer_id) == ("bob", "V2", "K2")
    assert (entry.rota_version_id, entry.new_rota_version_id) == (first, second)
    assert [a["carer_id"] for a in entry.before["assignments"]] == ["K1"]
    assert [a["carer_id"] for a in entry.after["assignments"]] == ["K2"]
    assert entry.at.tzinfo is not None


def test_unassign_lists_the_visit_as_unassigned_and_is_audited(store: Store):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",), "V2": ("K2",), "V3": ("K1",)}), user="solver")
    second = store.unassign(first, "V3", "K1", user="bob", reason="family asked to cancel")
    rota = store.load_rota(second)
    assert [u.visit_id for u in rota.unassigned] == ["V3"]
    assert rota.unassigned[0].reasons == "family asked to cancel"
    entry = store.audit(action="unassign")[-1]
    assert entry.before["missing"] == 0 and entry.after["missing"] == 1


def test_a_manual_change_that_breaks_a_hard_rule_is_refused_unless_forced(store: Store):
    instance = make_instance(
        [carer("K1"), carer("K2", gender="M")], [child("C1", gender_required="F")], [visit("V1", "C1")]
    )
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="solver")
    with pytest.raises(StoreError, match="R3"):
        store.assign(first, "V1", "K2", user="bob", replace_carer="K1")
    assert len(store.versions()) == 1 and not store.audit(action="assign")
    forced = store.assign(first, "V1", "K2", user="bob", replace_carer="K1", force=True)
    assert store.audit(action="assign")[-1].new_rota_version_id == forced


def test_a_forced_assign_records_in_the_audit_which_rules_it_overrode(store: Store):
    instance = make_instance(
        [carer("K1"), carer("K2", gender="M")], [child("C1", gender_required="F")], [visit("V1", "C1")]
    )
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="solver")
    forced = store.assign(first, "V1", "K2", user="bob", replace_carer="K1", force=True)
    (row,) = store.audit(action="assign")
    assert row.user == "bob" and row.new_rota_version_id == forced
    assert row.after["forced"] is True and row.after["overridden_count"] >= 1
    assert {o["rule"] for o in row.after["overridden"]} == {"R3"}
    assert all(o["visit_id"] == "V1" and o["carer_id"] == "K2" for o in row.after["overridden"])
    assert "forced: R3 overridden" in store.version(forced).note
    # A change that breaks nothing records no override, forced or not.
    back = store.assign(forced, "V1", "K1", user="bob", replace_carer="K2")
    assert "forced" not in store.audit(action="assign")[-1].after
    assert store.audit(action="assign")[-1].new_rota_version_id == back


def test_a_forced_publish_records_in_the_audit_which_rules_it_overrode(store: Store):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    bad = store.save_rota(instance_id, Rota((Assignment("V1", "K1", 0, 120),)), user="x")
    with pytest.raises(StoreError, match="breaks"):
        store.publish(bad, user="mgr")
    store.publish(bad, user="mgr", force=True)
    (row,) = store.audit(action="publish")
    assert row.user == "mgr" and row.after["status"] == "published"
    assert row.after["forced"] is True and row.after["overridden_count"] >= 1
    assert row.after["overridden"] and all(o["rule"] for o in row.after["overridden"])
    good = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="x")
    store.publish(good, user="mgr")
    assert "forced" not in store.audit(action="publish")[-1].after


def test_lock_and_unlock_are_versions_with_audit_rows(store: Store):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="solver")
    locked = store.lock(first, "V1", "K1", user="bob")
    assert store.locks(locked) == (Lock("V1", "K1"),) and store.locks(first) == ()
    with pytest.raises(StoreError, match="already locked"):
        store.lock(locked, "V1", "K1", user="bob")
    with pytest.raises(StoreError, match="locked on visit V1; unlock first"):
        store.assign(locked, "V1", "K2", user="bob", replace_carer="K1")
    unlocked = store.unlock(locked, "V1", "K1", user="cat")
    assert store.locks(unlocked) == ()
    assert [e.action for e in store.audit()][-2:] == ["lock", "unlock"]
    assert store.load_rota(unlocked) == store.load_rota(first)


def test_the_audit_trail_refuses_update_and_delete_in_the_database(store: Store):
    instance_id = store.save_instance(week_instance(WEEK), user="amy")
    store.save_rota(instance_id, Rota(()), user="amy")
    assert len(store.audit()) == 1
    statements = ["UPDATE audit_entry SET user_name = 'mallory'", "DELETE FROM audit_entry"]
    if store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_entry")
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert store.audit()[0].user == "amy"


def test_the_audit_api_offers_no_way_to_edit_a_row():
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if any(w in n.lower() for w in ("update", "delete", "edit", "remove"))}


def test_the_audit_trail_exports_as_csv(store: Store, tmp_path: Path):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="solver")
    store.lock(first, "V1", "K1", user="bob")
    out = tmp_path / "audit.csv"
    audit.export_csv(store.audit(), out)
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["id", "at", "user", "action"]
    assert len(lines) == 3 and ",bob,lock," in lines[2]


def test_publish_checks_the_rota_and_supersedes_the_weeks_earlier_version(store: Store):
    instance = week_instance(WEEK)
    instance_id = store.save_instance(instance, user="amy")
    first = store.save_rota(instance_id, valid_rota(instance, {"V1": ("K1",)}), user="solver")
    store.publish(first, user="mgr")
    second = store.assign(first, "V2", "K2", user="bob")
    head = store.publish(second, user="mgr")
    assert head.status == "published" and head.published_by == "mgr"
    assert store.version(first).status == "superseded"
    assert store.latest_published(WEEK) == head
    with pytest.raises(StoreError, match="not a draft"):
        store.publish(second, user="mgr")
    bad = store.save_rota(instance_id, Rota((Assignment("V1", "K1", 0, 120),)), user="x")
    with pytest.raises(StoreError, match="breaks"):
        store.publish(bad, user="mgr")
    assert [e.action for e in store.audit(action="publish")] == ["publish", "publish"]


# ---- multi-week continuity -------------------------------------------------------------------


def test_a_published_week_feeds_the_next_weeks_history(store: Store, tmp_path: Path):
    week1, week2 = WEEK, WEEK + timedelta(weeks=1)
    inst1 = week_instance(week1)
    id1 = store.save_instance(inst1, user="amy")
    v1 = store.save_rota(id1, valid_rota(inst1, {"V1": ("K1",), "V2": ("K2",), "V3": ("K1",)}), user="s")
    assert store.history_for(week2) == ()  # drafts do not count
    store.publish(v1, user="mgr")
    assert store.history_for(week2) == (
        History("C1", "K1", 3.0),  # V1 120 min + V3 60 min
        History("C2", "K2", 1.5),
    )
    assert store.history_for(week1) == ()  # only weeks before
    assert store.history_for(week1 + timedelta(weeks=5)) == ()  # only the last four
    # a re-published week replaces the earlier one
    v2 = store.assign(v1, "V3", "K2", user="bob", replace_carer="K1")
    store.publish(v2, user="mgr")
    assert store.history_for(week2) == (
        History("C1", "K1", 2.0), History("C1", "K2", 1.0), History("C2", "K2", 1.5),
    )


def test_instance_with_history_puts_the_stores_weeks_into_the_next_instance(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    week2 = WEEK + timedelta(weeks=1)
    with Store.open(url) as s:
        inst1 = week_instance(WEEK)
        v1 = s.save_rota(s.save_instance(inst1, user="a"), valid_rota(inst1, {"V1": ("K2",)}), user="a")
        s.publish(v1, user="mgr")
    nxt = week_instance(week2)
    with_history = instance_with_history(nxt, url)
    assert with_history.history == (History("C1", "K2", 2.0),)
    assert with_history.history_hours[("C1", "K2")] == 2.0
    assert instance_with_history(week_instance(WEEK), url) == week_instance(WEEK)


# ---- a kill in the middle of a save loses nothing --------------------------------------------

_KILLED_SAVE = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{repo!r}]
    from sqlalchemy import event
    from roster.model import Assignment, Rota
    from roster.store import Store
    from tests.factory import make_instance, carer, child, visit

    carers = [carer(f"K{{i}}") for i in range(60)]
    children = [child(f"C{{i}}") for i in range(60)]
    visits = [visit(f"V{{i}}", f"C{{i % 60}}") for i in range(600)]
    instance = make_instance(carers, children, visits)
    store = Store.open({url!r})
    instance_id = store.save_instance(instance, user="amy")
    rota = Rota(tuple(Assignment(v.visit_id, "K1", 960, 1080) for v in visits[:300]))
    first = store.save_rota(instance_id, rota, user="amy")
    print("SAVED", instance_id, first, flush=True)
    @event.listens_for(store.engine, "after_execute")
    def pause_midway(_conn, clause, *_args):
        # the head row and the first rows are written, nothing committed: now we are killed
        if str(clause).startswith(("INSERT INTO rota_assignment", "INSERT INTO instance_record")):
            print("MIDSAVE", flush=True)
            time.sleep(120)

    if {what!r} == "rota":
        store.save_rota(instance_id, Rota(rota.assignments * 2), user="amy")
    else:
        store.save_instance(instance, user="amy")
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize("what", ["rota", "instance"])
def test_a_kill_during_a_save_leaves_the_previous_version_intact(db_url: str, what: str):
    code = _KILLED_SAVE.format(repo=str(REPO), url=db_url, what=what)
    child_process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child_process.stdout is not None
        saved = child_process.stdout.readline().split()
        assert saved[:1] == ["SAVED"], child_process.stderr.read() if child_process.stderr else ""
        assert child_process.stdout.readline().strip() == "MIDSAVE"
        os.kill(child_process.pid, signal.SIGKILL)
    finally:
        child_process.kill()
        child_process.wait(timeout=30)
    assert child_process.returncode == -signal.SIGKILL
    instance_id, first = int(saved[1]), int(saved[2])
    with Store.open(db_url) as s:
        assert [i.id for i in s.instances()] == [instance_id]
        assert [v.id for v in s.versions()] == [first]
        rota = s.load_rota(first)
        assert len(rota.assignments) == 300
        assert len(s.load_instance(instance_id).visits) == 600
        assert [e.action for e in s.audit()] == ["create"]
        with s.engine.connect() as conn:
            for table in ("instance_record", "rota_assignment"):
                orphans = conn.execute(sa.text(
                    f"SELECT count(*) FROM {table} t WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {'instance' if table == 'instance_record' else 'rota_version'} p "
                    f"WHERE p.id = t.{'instance_id' if table == 'instance_record' else 'rota_version_id'})"
                )).scalar()
                assert orphans == 0
            if s.engine.dialect.name == "sqlite":
                assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        # and the store still takes writes
        again = s.save_rota(instance_id, rota, user="amy")
        assert s.load_rota(again) == rota


# ---- the command line ------------------------------------------------------------------------


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A users file with amy (coordinator) and mgr (manager), as the app keeps it."""
    from roster import auth

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    path = tmp_path / "users.json"
    auth.add_user(path, "amy", "amy's long passphrase", "coordinator")
    auth.add_user(path, "Mgr", "the manager's passphrase", "manager")
    monkeypatch.setenv("ROSTER_USERS", str(path))
    return path


def test_the_store_command_saves_lists_publishes_exports_and_audits(
    tmp_path: Path, capsys, team: Path
):
    from roster.cli import main
    from roster.io import load_instance, load_rota, write_rota

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    instance = week_instance(WEEK)
    from roster.io import write_instance

    write_instance(instance, tmp_path / "week")
    write_rota(instance, valid_rota(instance, {"V1": ("K1",), "V2": ("K2",)}), tmp_path / "rota")

    def run(*argv: str) -> str:
        assert main(["store", "--db", db, "--user", "amy", *argv]) == 0
        return capsys.readouterr().out

    assert "instance 1 saved" in run("save-instance", str(tmp_path / "week"))
    assert "rota version 1 saved" in run("save-rota", "1", str(tmp_path / "rota"))
    assert "rota version 2 saved" in run("assign", "1", "V3", "K2")
    assert "\tdraft\t" in run("list")
    assert "published" in run("publish", "2")
    run("export", "2", str(tmp_path / "out"))
    assert load_instance(tmp_path / "out" / "instance") == instance
    exported = load_rota(instance, tmp_path / "out")
    assert {(a.visit_id, a.carer_id) for a in exported.assignments} == {("V1", "K1"), ("V2", "K2"), ("V3", "K2")}
    assert "C1,K2,gains,true,V3" in run("changes", "1", "2")
    trail = run("audit")
    assert [line.split(",")[3] for line in trail.splitlines()[1:]] == ["create", "assign", "publish"]
    run("audit", "--csv", str(tmp_path / "audit.csv"))
    assert (tmp_path / "audit.csv").read_text() == trail
    assert "C1,K2,1.0" in run("history", (WEEK + timedelta(weeks=1)).isoformat())


def test_the_store_command_reports_a_bad_id_in_one_sentence(tmp_path: Path, capsys, team: Path):
    from roster.cli import main

    assert main(["store", "--db", str(tmp_path / "x.sqlite"), "--user", "mgr", "publish", "42"]) == 2
    err = capsys.readouterr().err
    assert "rota version 42 does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ("--user", "mallory", "save-instance", "X"),
        ("--user", "=cmd", "publish", "1"),
        ("--user", "", "assign", "1", "V1", "K1"),
        ("--user", "nobody", "lock", "1", "V1", "K1"),
    ],
)
def test_the_store_command_refuses_a_user_who_is_not_in_the_users_file(
    tmp_path: Path, capsys, team: Path, argv: tuple[str, ...]
):
    from roster.cli import main

    db = tmp_path / "x.sqlite"
    assert main(["store", "--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert "is not a known user" in err and str(team) in err and "Traceback" not in err
    assert not db.exists()  # refused before the store was even opened


def test_the_store_command_records_the_user_as_the_users_file_spells_it(
    tmp_path: Path, capsys, team: Path
):
    from roster.cli import main
    from roster.io import write_instance

    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    write_instance(week_instance(WEEK), tmp_path / "week")
    assert main(["store", "--db", db, "--user", "MGR", "save-instance", str(tmp_path / "week")]) == 0
    assert main(["store", "--db", db, "list", "instances"]) == 0  # reading names nobody
    assert "\tMgr" in capsys.readouterr().out


def test_without_a_users_file_the_store_command_says_how_to_make_one(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    from roster.cli import main

    monkeypatch.setenv("ROSTER_USERS", str(tmp_path / "none.json"))
    assert main(["store", "--db", str(tmp_path / "x.sqlite"), "--user", "amy", "publish", "1"]) == 2
    assert "python -m roster.auth" in capsys.readouterr().err


# ---- where the database lives, and who may read it -------------------------------------------


def test_a_new_sqlite_store_and_the_folders_it_makes_are_private(tmp_path: Path):
    db = tmp_path / "made" / "here" / "roster.sqlite"
    with Store.open(db) as s:
        s.save_instance(week_instance(WEEK), user="amy")
        made = sorted(db.parent.iterdir())
        assert {p.name for p in made} >= {"roster.sqlite", "roster.sqlite-wal", "roster.sqlite-shm"}
        for path in made:
            assert (path.stat().st_mode & 0o777) == 0o600, path.name
    assert ((tmp_path / "made").stat().st_mode & 0o777) == 0o700
    assert ((tmp_path / "made" / "here").stat().st_mode & 0o777) == 0o700


def test_the_default_store_is_in_the_data_folder_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from roster.store import default_url

    monkeypatch.delenv("ROSTER_DB", raising=False)
    monkeypatch.setenv("ROSTER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'roster.sqlite'}"
    with Store.open() as s:
        s.save_instance(week_instance(WEEK), user="amy")
    assert (tmp_path / "home" / "roster.sqlite").exists()
    assert not (tmp_path / "roster.sqlite").exists()
    assert ((tmp_path / "home").stat().st_mode & 0o777) == 0o700
    assert ((tmp_path / "home" / "roster.sqlite").stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv("ROSTER_DB", str(tmp_path / "elsewhere.sqlite"))  # ROSTER_DB still wins
    assert default_url() == str(tmp_path / "elsewhere.sqlite")
    monkeypatch.delenv("ROSTER_DB")
    monkeypatch.delenv("ROSTER_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_url().endswith(f"{tmp_path}/me/.local/share/roster/roster.sqlite")


def test_the_week_to_solve_comes_from_the_store_with_the_history_of_published_weeks(tmp_path: Path):
    from roster.store import instance_for_week, save_solve

    url = f"sqlite:///{tmp_path / 'weeks.sqlite'}"
    week2 = WEEK + timedelta(weeks=1)
    inst1 = week_instance(WEEK)
    id1, v1 = save_solve(url, inst1, valid_rota(inst1, {"V1": ("K1",), "V3": ("K1",)}), user="solver")
    with Store.open(url) as s:
        s.publish(v1, user="mgr")
        id2 = s.save_instance(week_instance(week2), user="amy")
    instance_id, instance = instance_for_week(url, week2)
    assert instance_id == id2 != id1
    assert instance.history == (History("C1", "K1", 3.0),)
    with pytest.raises(StoreLookupError, match="no instance saved for the week of 2027-01-04"):
        instance_for_week(url, date(2027, 1, 4))
