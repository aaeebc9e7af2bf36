"""The rota planner: a Streamlit front end over ``roster`` and ``solver``. Start it with ``make app``.

Thin by design (STYLE.md): it loads an instance, hands it to the solver, and shows what came
back. No rule lives here; eligibility, checking, KPIs, repair and referrals are the domain's and
the solver's. Each feature appears when the module behind it is installed.

Several people can use it at once: each browser session keeps its own data in
``st.session_state`` and solves in its own background thread, so one long solve never blocks
another session. Nothing personal is logged (no child, carer or user names).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import logging
import math
import os
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import streamlit as st

import solver
from roster import exports
from roster.auth import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    User,
    add_user,
    create_first_manager,
    has_users,
    issue_setup_code,
    list_users,
    lookup,
    remove_user,
    setup_code_matches,
    setup_code_path,
    sign_in,
    users_path,
)
from roster.errors import InstanceError, Problem
from roster.model import Absence, Assignment, Availability, Carer, Instance, Rota, Training

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from roster.model import Gender

LOG = logging.getLogger("roster.app")
if os.environ.get("ROSTER_APP_LOG") and not LOG.handlers:  # e.g. ROSTER_APP_LOG=INFO
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(os.environ["ROSTER_APP_LOG"].upper())
_AUTH_LOG = logging.getLogger("roster.auth")  # sign-in failures and lockouts, always on stderr
if not _AUTH_LOG.handlers:
    _auth_handler = logging.StreamHandler()
    _auth_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _AUTH_LOG.addHandler(_auth_handler)
    _AUTH_LOG.setLevel(logging.INFO)
HERE = Path(__file__).resolve().parent
SAMPLE = Path(os.environ.get("ROSTER_SAMPLE") or HERE / "data" / "sample")
MAX_UPLOAD_FILES = 200  # a zipped contract folder holds a handful of CSV files
# What an uploaded zip (or .xlsx, itself a zip) may expand to: an XL week's folder is a few MB,
# so this only stops a zip bomb (a 1 MB zip that expands to gigabytes). A comment, not a
# docstring: Streamlit's "magic" would show a bare string on every page.
MAX_UPLOAD_EXPANDED_MB = float(os.environ.get("ROSTER_APP_MAX_EXPANDED_MB") or 200)
PAGES = ("Data", "Rota", "What-if", "Downloads")
CANCEL_HANG_SECONDS = 600.0
"""After Cancel the page waits for the solve's ``done`` event: the solver, asked to stop by the
flag, returns its best checked rota, however long a busy machine makes that take (a fixed 3 s
grace lost the rota whenever the cores were shared). Only a solve still not done this long after
Cancel counts as hung and is given up (``SolveJob.abandoned``)."""
STATUS_WORDS = {
    "OPTIMAL": "the best rota possible (proven)",
    "FEASIBLE": "the best rota found in the time allowed",
    "GREEDY": "a first-draft rota (the solver found nothing better in the time allowed)",
    "UNCHANGED": "nothing needed to change",
}


# ---- optional capabilities -------------------------------------------------------------------


def optional(module_name: str) -> Any | None:
    """The module if it is installed in this build, else ``None`` (its feature is hidden)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise


def has(module_name: str, attribute: str) -> bool:
    module = optional(module_name)
    return module is not None and hasattr(module, attribute)


# ---- problems shown as sentences, never tracebacks ------------------------------------------


def show_problems(title: str, problems: Sequence[Problem | str], limit: int = 50) -> None:
    """A readable list: one sentence per problem (file, row, field, value)."""
    lines = [p.sentence() if isinstance(p, Problem) else str(p) for p in problems]
    shown = "\n".join(f"- {line}" for line in lines[:limit])
    more = f"\n- ... and {len(lines) - limit} more" if len(lines) > limit else ""
    st.error(f"**{title}**\n\n{shown}{more}")


def plain_error(exc: BaseException) -> list[str]:
    """What went wrong, in sentences, for any error the data or the solver can raise."""
    if isinstance(exc, InstanceError):
        return [p.sentence() for p in exc.problems]
    if isinstance(exc, zipfile.BadZipFile):
        return ["The file is not a valid zip archive; zip the instance folder and try again."]
    if isinstance(exc, FileNotFoundError):
        return [f"{exc.strerror or 'Not found'}: {Path(str(exc.filename)).name}"]
    return [str(exc) or type(exc).__name__]


# ---- loading data ------------------------------------------------------------------------


def _check(path: Path) -> tuple[Instance, list[str], Any]:
    """Load and validate an instance folder or workbook.

    Returns the instance, its warnings (sentences) and the rate card beside it (``rates.csv``,
    read by ``roster.rates``), or ``None`` when there is none.
    """
    instance, found = _read_instance(path)
    rates = optional("roster.rates")
    card = rates.load_rates(path) if rates is not None and hasattr(rates, "load_rates") else None
    return instance, found, card


def _read_instance(path: Path) -> tuple[Instance, list[str]]:
    io_mod = optional("roster.io")
    if io_mod is None:
        raise InstanceError(
            [Problem(path.name, None, None, None, None, "reading instances is not installed yet.")]
        )
    if hasattr(io_mod, "check_instance"):
        instance, found = io_mod.check_instance(path)
        return instance, [p.sentence() for p in found]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        instance = io_mod.load_instance(path)
    return instance, [str(w.message) for w in caught]


@st.cache_resource(show_spinner=False)
def _load_sample(path: str, stamp: float) -> tuple[Instance, list[str], Any]:
    """The bundled sample, read once per process (instances are frozen, so sessions share it)."""
    del stamp  # part of the cache key: a regenerated sample is read again
    return _check(Path(path))


def load_sample() -> tuple[Instance, list[str], Any]:
    stamp = max((p.stat().st_mtime for p in SAMPLE.glob("*")), default=0.0)
    return _load_sample(str(SAMPLE), stamp)


def _mb(size: float) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def _check_expansion(archive: zipfile.ZipFile, what: str) -> None:
    """Refuse a zip with too many entries or too much inside, from its directory, before any of
    it is expanded (a zip bomb: 1 MB that expands to gigabytes)."""
    entries = archive.infolist()
    if len(entries) > MAX_UPLOAD_FILES:
        raise ValueError(
            f"The {what} holds {len(entries)} files, more than the {MAX_UPLOAD_FILES} allowed; "
            "an instance folder holds a few CSV files. Nothing was unpacked."
        )
    limit = MAX_UPLOAD_EXPANDED_MB * 1024 * 1024
    total = sum(max(info.file_size, 0) for info in entries)
    if total > limit:
        raise ValueError(
            f"The {what} expands to {_mb(total)}, more than the {_mb(limit)} allowed "
            f"(it is {_mb(sum(i.compress_size for i in entries))} packed); a week's data is a "
            "few MB, so it was refused before anything was unpacked."
        )


def _safe_extract(data: bytes, target: Path) -> Path:
    """Unzip an uploaded contract folder into ``target``; return the folder holding instance.json.

    The zip's directory is checked first (``_check_expansion``); the bytes written are counted
    too, so a zip whose directory understates its sizes is stopped at the same limit.
    """
    limit = MAX_UPLOAD_EXPANDED_MB * 1024 * 1024
    written = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _check_expansion(archive, "zip")
        names = [n for n in archive.namelist() if not n.endswith("/")]
        for name in names:
            dest = (target / name).resolve()
            if target.resolve() not in dest.parents:
                raise ValueError(
                    f"The zip entry {name!r} points outside its folder; it was not opened."
                )
        for name in names:
            dest = (target / name).resolve()
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, open(dest, "wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        raise ValueError(
                            f"The zip expands to more than the {_mb(limit)} allowed; it was "
                            "refused and what had been unpacked was removed."
                        )
                    sink.write(chunk)
    found = sorted(p.parent for p in target.rglob("instance.json") if "__MACOSX" not in p.parts)
    if not found:
        raise ValueError("The zip holds no instance.json; zip the whole instance folder.")
    return min(found, key=lambda p: len(p.parts))


def load_upload(file_name: str, data: bytes) -> tuple[Instance, list[str], Any]:
    """An uploaded ``.xlsx`` workbook or zipped contract folder -> instance, warnings, rate card.

    Both are zip archives: each is refused before it is read if it holds too many files or
    expands past ``MAX_UPLOAD_EXPANDED_MB``.
    """
    suffix = Path(file_name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="roster-upload-") as tmp:
        if suffix in (".xlsx", ".xlsm"):
            if zipfile.is_zipfile(io.BytesIO(data)):  # else the reader says it is no workbook
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    _check_expansion(archive, "workbook")
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            return _check(path)
        if suffix == ".zip":
            return _check(_safe_extract(data, Path(tmp) / "folder"))
    raise ValueError(
        f"{file_name}: upload an Excel workbook (.xlsx) or a zipped instance folder (.zip)."
    )


def open_store() -> Any | None:
    store_mod = optional("roster.store")
    if store_mod is None or not hasattr(store_mod, "Store"):
        return None
    # ROSTER_DB may be a URL or a bare SQLite path; unset means the private data folder's
    # roster.sqlite (ROSTER_HOME, else ~/.local/share/roster), created 0600.
    return store_mod.Store.open(os.environ.get("ROSTER_DB") or None)


# ---- solving in the background -------------------------------------------------------------


class SolveJob:
    """One solve running in its own thread; the page polls it. Never touches Streamlit."""

    def __init__(
        self, key: str, label: str, instance: Instance, work: Callable[..., Any], time_limit: float
    ):
        self.key = key  # names the solve in logs ("base", "scenario-2"); a label may hold a name
        self.label = label
        self.instance = instance
        self.time_limit = time_limit
        self.stop = threading.Event()
        self.done = threading.Event()
        self.started = time.monotonic()
        self.finished: float | None = None
        self.cancelled_at: float | None = None
        self.progress: dict[str, Any] = {}
        self.result: Any = None
        self.error: list[str] | None = None
        self._work = work
        self.thread = threading.Thread(target=self._main, name="roster-solve", daemon=True)

    def start(self) -> SolveJob:
        self.thread.start()
        return self

    def on_progress(self, *args: Any, **kwargs: Any) -> bool:
        """Progress callback for the solver: records the latest news; True asks it to stop.

        ``solver.solve`` calls ``progress(seconds, objective, bound)`` on each better rota;
        a mapping or a dataclass is read field by field.
        """
        info: dict[str, Any] = dict(kwargs)
        numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        if len(numbers) >= 3:
            info.update(zip(("seconds", "objective", "bound"), numbers[:3], strict=True))
        elif numbers:
            info["objective"] = numbers[0]
        for arg in args:
            if isinstance(arg, Mapping):
                info.update(arg)
            elif dataclasses.is_dataclass(arg) and not isinstance(arg, type):
                info.update(dataclasses.asdict(arg))
        self.progress = {**self.progress, **info, "updates": self.progress.get("updates", 0) + 1}
        return self.stop.is_set()

    def _main(self) -> None:
        try:
            self.result = self._work(self.on_progress, self.stop)
        except Exception as exc:  # shown to the user as sentences; logged without personal data
            LOG.warning("solve %s failed: %s", self.key, type(exc).__name__)
            self.error = plain_error(exc)
        finally:
            self.finished = time.monotonic()
            self.done.set()

    def cancel(self) -> None:
        """Ask the solver to stop (a solver that honours the flag returns its best rota so far)."""
        self.stop.set()
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the solve is done (the solver sets ``done``); False on ``timeout``."""
        return self.done.wait(timeout)

    @property
    def abandoned(self) -> bool:
        """Cancelled and still not done ``CANCEL_HANG_SECONDS`` later: taken to hang, dropped.

        A solve that ends after Cancel, however late, keeps its rota (the best checked one);
        only a hung one is given up, so that the page stops waiting for it.
        """
        return (
            self.cancelled_at is not None
            and not self.done.is_set()
            and time.monotonic() - self.cancelled_at > CANCEL_HANG_SECONDS
        )

    @property
    def running(self) -> bool:
        return not self.done.is_set() and not self.abandoned

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


def solver_api() -> tuple[Any, Any, Any]:
    """``(solve, SolveParams, Weights)``: the solver's public API."""
    return solver.solve, solver.SolveParams, solver.Weights


def make_params(options: Mapping[str, Any], **extra: Any) -> Any:
    """A ``SolveParams`` from the settings form, passing only fields the solver knows."""
    _solve, params_cls, weights_cls = solver_api()
    known = {f.name for f in dataclasses.fields(params_cls)}
    kw: dict[str, Any] = {}
    for key, value in {**options, **extra}.items():
        if key == "weights" and weights_cls is not None and isinstance(value, Mapping):
            base = weights_cls()
            wf = {f.name for f in dataclasses.fields(weights_cls)}
            value = dataclasses.replace(base, **{k: v for k, v in value.items() if k in wf})
        if key in known and value is not None:
            kw[key] = value
    return params_cls(**kw)


def solve_work(
    instance: Instance, options: Mapping[str, Any], locks: Sequence[Assignment] = (), **extra: Any
) -> Callable[..., Any]:
    """The background work of a plain solve (with optional locks and a reference rota)."""

    def work(progress: Callable[..., bool], stop: threading.Event) -> Any:
        params = make_params(options, **extra)
        return solver.solve(instance, params, progress=progress, stop=stop, locks=tuple(locks))

    return work


def start_job(
    key: str, label: str, instance: Instance, work: Callable[..., Any], time_limit: float
) -> SolveJob:
    jobs: dict[str, SolveJob] = st.session_state.setdefault("jobs", {})
    old = jobs.get(key)
    if old is not None and old.running:
        old.cancel()
    LOG.info(
        "solve %s started: %d carers, %d children, %d visits, limit %.0fs",
        key, len(instance.carers), len(instance.children), len(instance.visits), time_limit,
    )  # fmt: skip
    job = SolveJob(key, label, instance, work, time_limit).start()
    jobs[key] = job
    return job


def job(key: str) -> SolveJob | None:
    return st.session_state.get("jobs", {}).get(key)


def finished_rota(j: SolveJob | None) -> Rota | None:
    """The rota of a solve that ended normally (not running, not failed, not abandoned)."""
    if j is None or j.running or j.error or j.abandoned:
        return None
    return rota_of(j.result)


def rota_of(result: Any) -> Rota | None:
    if result is None:
        return None
    if isinstance(result, Rota):
        return result
    rota = getattr(result, "rota", None)
    return rota if isinstance(rota, Rota) else None


def kpis_of(instance: Instance, result: Any) -> dict[str, Any]:
    kpis = getattr(result, "kpis", None)
    rota = rota_of(result)
    if isinstance(kpis, Mapping) and kpis and rota is not None:
        return {**kpis, **money(instance, rota)}
    mod = optional("roster.kpis")
    if rota is not None and mod is not None and hasattr(mod, "compute_kpis"):
        kpis = dict(mod.compute_kpis(instance, rota))
    elif rota is not None:
        kpis = dict(rota.summary)
    else:
        return {}
    return {**kpis, **money(instance, rota)}


def money(instance: Instance, rota: Rota) -> dict[str, Any]:
    """Charge, cost and margin by the rate card (``roster.rates``), when the data came with one."""
    rates = optional("roster.rates")
    card = st.session_state.get("rate_card")
    if rates is None or not hasattr(rates, "cost_assignments"):
        return {}
    costing = rates.cost_assignments(instance, rota.assignments, card)
    return {"charge": costing.charge, "cost": costing.cost, "margin": costing.margin}


# ---- presentation helpers --------------------------------------------------------------------

# (label, KPI keys tried in order, format, manager only); keys are roster.kpis.compute_kpis's.
KPI_TILES: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    ("Visits covered", ("visits_covered_pct",), "pct", False),
    ("Carer slots covered", ("carer_slots_covered_pct",), "pct", False),
    ("Carers per child", ("mean_carers_per_child",), "2dp", False),
    ("Known-carer share", ("known_carer_pct",), "pct", False),
    ("Travel miles", ("travel_miles",), "0dp", False),
    ("Agency hours", ("agency_hours",), "1dp", False),
    ("Cost", ("cost", "staff_cost"), "gbp", True),
    ("Margin", ("margin",), "gbp", True),
)
# The measures compared side by side on the What-if page (every measure is on the Rota page).
COMPARE_KEYS: tuple[str, ...] = (
    "visits_covered", "visits_covered_pct", "carer_slots_covered", "carer_slots_covered_pct",
    "mean_carers_per_child", "children_within_target", "known_carer_pct", "travel_miles",
    "working_hours", "agency_hours", "hours_mean_abs_deviation", "cost", "charge", "margin",
)  # fmt: skip
MONEY_KEYS = frozenset({"cost", "staff_cost", "charge", "margin", "pay", "mileage"})


def fmt(value: Any, how: str) -> str:
    if value is None:
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if how == "pct":
        return f"{number:.1f}%"
    if how == "gbp":
        return f"£{number:,.0f}"
    if how == "0dp":
        return f"{number:,.0f}"
    if how == "2dp":
        return f"{number:,.2f}"
    return f"{number:,.1f}"


def pick(kpis: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in kpis:
            return key, kpis[key]
    return None, None


def user() -> User | None:
    return st.session_state.get("user")


def is_manager() -> bool:
    u = user()
    return u is not None and u.is_manager


def sign_out(reason: str = "") -> None:
    """End the session's sign-in: its solves are cancelled and everything it held forgotten."""
    for old in st.session_state.get("jobs", {}).values():
        old.cancel()
    st.session_state.clear()
    if reason:
        st.session_state["signed_out_reason"] = reason


def refresh_user() -> User | None:
    """The signed-in user as the users file has them *now*; ``main`` calls it before any page.

    A user removed while signed in is signed out at once, and a changed role (a manager
    demoted) takes effect on this very run, so no right outlives the users file's say-so.
    """
    current: User | None = st.session_state.get("user")
    if current is None:
        return None
    try:
        fresh = lookup(None, current.name)
    except ValueError:  # an unreadable users file grants nothing; the sign-in page says why
        fresh = None
    if fresh is None:
        LOG.warning("a signed-in user is no longer in the users file; session signed out")
        sign_out("You have been signed out: your account was removed or cannot be read.")
        return None
    if fresh != current:
        LOG.warning("a signed-in user's role changed to %s; applied at once", fresh.role)
        st.session_state["user"] = fresh
    return fresh


def kpi_tiles(kpis: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> None:
    tiles = [t for t in KPI_TILES if not t[3] or is_manager()]
    shown = [(label, *pick(kpis, keys), how) for label, keys, how, _m in tiles]
    shown = [s for s in shown if s[1] is not None]
    no_card = "Needs a rate card: rates.csv (commissioner, band, hourly_rate) beside the data."
    if not shown:
        st.info("No KPIs to show yet.")
        return
    cols = st.columns(min(4, len(shown)))
    for i, (label, key, value, how) in enumerate(shown):
        assert key is not None  # `shown` keeps only the tiles whose key pick() found
        delta = None
        if base is not None and key in base:
            with contextlib.suppress(TypeError, ValueError):
                delta = fmt(float(value) - float(base[key]), how)
        if value is None:
            cols[i % len(cols)].metric(label, "no rates", help=no_card, border=True)
        else:
            cols[i % len(cols)].metric(label, fmt(value, how), delta=delta, border=True)


def kpi_table(kpis: Mapping[str, Any]) -> pd.DataFrame:
    hidden = MONEY_KEYS
    rows = [
        {"measure": k.replace("_", " "), "value": v}
        for k, v in kpis.items()
        if is_manager() or k not in hidden
        if isinstance(v, int | float | str) or v is None
    ]
    return pd.DataFrame(rows)


def visit_label(instance: Instance, visit_id: str) -> str:
    v = instance.visit(visit_id)
    return (
        f"{visit_id} · {v.date.strftime('%a %d %b')} {v.start} · {instance.child(v.child_id).name}"
    )


def unassigned_table(instance: Instance, rota: Rota) -> pd.DataFrame:
    rows = []
    for u in rota.unassigned:
        v = instance.visit(u.visit_id)
        rows.append(
            {
                "visit": u.visit_id,
                "child": instance.child(v.child_id).name,
                "day": v.date.strftime("%a %d %b"),
                "time": f"{v.start} for {v.duration_min} min",
                "carers missing": f"{u.missing} of {v.carers}",
                "why": u.reasons,
            }
        )
    return pd.DataFrame(rows, columns=["visit", "child", "day", "time", "carers missing", "why"])


def gantt(instance: Instance, rota: Rota, carer_ids: Sequence[str]) -> Any:
    """A plotly timeline: one row per carer, a bar per visit and a grey bar for travel in."""
    import plotly.express as px

    table = exports.rota_table(instance, rota)
    table = table[table["carer_id"].isin(carer_ids)]
    bars = []
    for row in table.itertuples(index=False):
        kind = "2:1 visit" if row.carers_needed == 2 else "visit"
        if row.overnight:
            kind = "overnight " + kind
        who = f"{row.carer} ({row.carer_id})"
        bars.append(
            {
                "carer": who, "start": row.start, "end": row.end, "type": kind,
                "child": row.child, "visit": row.visit_id,
                "time": f"{row.start:%a %H:%M}-{row.end:%H:%M}",
                "travel": f"{row.travel_miles:.1f} mi, {row.travel_min} min from {row.travel_from}",
            }
        )  # fmt: skip
        if row.travel_min:
            bars.append(
                {
                    "carer": who, "start": cast(pd.Timestamp, row.start) - timedelta(minutes=int(cast(int, row.travel_min))),
                    "end": row.start, "type": "travel", "child": row.child, "visit": row.visit_id,
                    "time": f"{cast(int, row.travel_min)} min", "travel": f"{row.travel_miles:.1f} mi",
                }
            )  # fmt: skip
    frame = pd.DataFrame(
        bars, columns=["carer", "start", "end", "type", "child", "visit", "time", "travel"]
    )
    colours = {
        "visit": "#1f77b4", "2:1 visit": "#9467bd", "overnight visit": "#17324d",
        "overnight 2:1 visit": "#4b2a6b", "travel": "#c7c7c7",
    }  # fmt: skip
    fig = px.timeline(
        frame, x_start="start", x_end="end", y="carer", color="type",
        color_discrete_map=colours, hover_data={"child": True, "visit": True, "time": True, "travel": True, "start": False, "end": False, "carer": False},
    )  # fmt: skip
    ws = instance.clock.datetime_of(0)
    fig.update_xaxes(
        range=[ws, ws + timedelta(days=7)], dtick=86400000, tickformat="%a %d %b", showgrid=True
    )
    order = [f"{instance.carer(c).name} ({c})" for c in carer_ids]
    order = [o for o in order if o in set(frame["carer"])]
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed", title=None)
    fig.update_layout(
        height=max(260, 28 * len(set(frame["carer"])) + 120), margin=dict(l=10, r=10, t=30, b=10),
        legend_title_text="", legend=dict(orientation="h", y=1.02, yanchor="bottom"),
    )  # fmt: skip
    return fig


def hours_chart(hours: pd.DataFrame) -> Any:
    """Each carer's working hours this week (visits + travel) against contracted hours."""
    import plotly.graph_objects as go

    who = [f"{n} ({c})" for n, c in zip(hours["carer"], hours["carer_id"], strict=True)]
    fig = go.Figure(
        [
            go.Bar(name="Visits", x=who, y=hours["visit_hours"], marker_color="#1f77b4"),
            go.Bar(name="Travel", x=who, y=hours["travel_hours"], marker_color="#c7c7c7"),
            go.Scatter(
                name="Contracted", x=who, y=hours["contracted_hours"], mode="markers",
                marker=dict(symbol="line-ew-open", size=28, line=dict(width=3, color="#d62728")),
            ),
        ]
    )  # fmt: skip
    fig.update_layout(
        barmode="stack", height=380, margin=dict(l=10, r=10, t=30, b=10), yaxis_title="hours",
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
    )  # fmt: skip
    return fig


def journey_map(instance: Instance, rota: Rota) -> Any:
    """Carers' homes, children's homes and each journey in, on a plain background (no tiles)."""
    import pydeck as pdk

    carers = pd.DataFrame(
        [{"lat": c.lat, "lon": c.lon, "label": f"Carer {c.name}"} for c in instance.carers]
    )
    children = pd.DataFrame(
        [{"lat": c.lat, "lon": c.lon, "label": f"Child {c.name}"} for c in instance.children]
    )
    lines = []
    for a in rota.assignments:
        visit = instance.visit(a.visit_id)
        to = instance.visit_location(visit)
        if a.travel_from == "home":
            carer = instance.carer(a.carer_id)
            frm = (carer.lat, carer.lon)
        else:
            frm = instance.visit_location(instance.visit(a.travel_from))
        lines.append(
            {"from_lon": frm[1], "from_lat": frm[0], "to_lon": to[1], "to_lat": to[0],
             "label": f"{a.visit_id}: {a.travel_miles:.1f} mi"}
        )  # fmt: skip
    journeys = pd.DataFrame(lines, columns=["from_lon", "from_lat", "to_lon", "to_lat", "label"])
    lats = pd.concat([carers.lat, children.lat])
    lons = pd.concat([carers.lon, children.lon])
    # deck.gl draws 512 px per 360 degrees at zoom 0; fit the area into ~400 px of a 500 px map
    # (a degree of latitude is ~1.6 times a degree of longitude on screen in England).
    span = max(float(lons.max() - lons.min()), 2.5 * float(lats.max() - lats.min()), 0.01)
    view = pdk.ViewState(
        latitude=float(lats.min() + lats.max()) / 2,
        longitude=float(lons.min() + lons.max()) / 2,
        zoom=max(5.0, min(13.0, math.log2(400.0 / span))),
    )
    layers = [
        pdk.Layer(
            "LineLayer", journeys, get_source_position="[from_lon, from_lat]",
            get_target_position="[to_lon, to_lat]", get_color=[90, 90, 90, 150], get_width=2,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", children, get_position="[lon, lat]", get_fill_color=[230, 120, 20, 220],
            get_radius=150, radius_min_pixels=6, pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", carers, get_position="[lon, lat]", get_fill_color=[30, 100, 200, 220],
            get_radius=120, radius_min_pixels=5, pickable=True,
        ),
    ]  # fmt: skip
    return pdk.Deck(
        layers=layers, initial_view_state=view, map_style=None, tooltip={"text": "{label}"}
    )


def rota_diff(instance: Instance, before: Rota, after: Rota) -> pd.DataFrame:
    """Visits whose carers differ between two rotas (what a scenario changes)."""
    a, b = before.by_visit(), after.by_visit()
    rows = []
    for visit in instance.visits:
        old = sorted(x.carer_id for x in a.get(visit.visit_id, []))
        new = sorted(x.carer_id for x in b.get(visit.visit_id, []))
        if old != new:
            if not new:
                change = "no longer covered"
            elif not old:
                change = "now covered"
            else:
                change = "different carer"
            rows.append(
                {
                    "visit": visit.visit_id,
                    "child": instance.child(visit.child_id).name,
                    "when": f"{visit.date:%a %d %b} {visit.start}",
                    "before": ", ".join(old) or "-",
                    "after": ", ".join(new) or "-",
                    "change": change,
                }
            )
    return pd.DataFrame(rows, columns=["visit", "child", "when", "before", "after", "change"])


# ---- pages ------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _announce_setup_code(users_file: str) -> bool:
    """Issue the first manager's one-time setup code, once per server process and users file,
    and print it on the server's console (stderr): never on the page, never in the log."""
    code = issue_setup_code(users_file)
    print(
        "\nroster: no one can sign in yet. To create the first manager account, open the app "
        f"and enter this one-time setup code: {code}\n"
        f"roster: (users file {users_file}; the code is shown only here and works once; "
        "restarting the app prints a new one)\n",
        file=sys.stderr,
        flush=True,
    )
    LOG.warning("a setup code for the first manager account was printed on the console")
    return True


@st.cache_resource(show_spinner=False)
def warn_if_exposed() -> None:
    """Say once on the console when the server listens beyond this machine (no TLS here)."""
    address = str(st.get_option("server.address") or "")
    if address in ("127.0.0.1", "localhost", "::1"):
        return
    where = "on every network interface" if address in ("", "0.0.0.0", "::") else f"on {address}"
    print(
        f"roster: warning: the app listens {where} without TLS; it shows children's personal "
        "data. Set server.address = \"127.0.0.1\" (.streamlit/config.toml, as `make app` "
        "does) and put a TLS reverse proxy in front (README.md).",
        file=sys.stderr,
        flush=True,
    )


def announce_setup_code() -> None:
    """Make sure a setup code has been printed for this users file (again if it was used up)."""
    path = users_path()
    if not setup_code_path(path).exists():
        _announce_setup_code.clear()
    _announce_setup_code(str(path))


def first_manager_form() -> None:
    """A fresh install: the first manager account needs the setup code from the console."""
    try:
        announce_setup_code()
    except ValueError:  # someone created the first user meanwhile
        st.rerun()
    st.info(
        "No one can sign in yet. Whoever runs the server creates the first manager account: "
        "enter the one-time setup code printed on the server's console (where `make app` runs). "
        "Managers can then add coordinators and other managers from the Users page."
    )
    with st.form("first-user"):
        name = st.text_input("Your login name")
        password = st.text_input(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)", type="password"
        )
        again = st.text_input("Password again", type="password")
        code = st.text_input("Setup code (from the server's console)", type="password")
        if st.form_submit_button("Create manager account", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
            elif not setup_code_matches(None, code):
                LOG.warning("first manager account refused: wrong setup code")
                st.error(
                    "The setup code is wrong. Use the code printed on the server's console when "
                    "the app first showed this page."
                )
            else:
                try:
                    st.session_state["user"] = create_first_manager(None, code, name, password)
                    st.rerun()
                except ValueError as exc:
                    st.error(str(exc)[:1].upper() + str(exc)[1:])


def login_page() -> None:
    """Nothing is shown before a login: the app holds children's personal data."""
    st.title("Rota planner")
    reason = st.session_state.pop("signed_out_reason", None)
    if reason:
        st.warning(reason)
    try:
        first_run = not has_users()
    except ValueError as exc:
        st.error(f"The users file cannot be read: {exc}")
        return
    if first_run:
        first_manager_form()
        return
    with st.form("login"):
        name = st.text_input("Login name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        # Throttled per user name in a file every session shares (roster.auth.sign_in): a new
        # session per guess gains nothing. Failures are logged there with the name typed.
        outcome = sign_in(None, name, password)
        if outcome.user is None:
            st.error(outcome.message)
        else:
            st.session_state["user"] = outcome.user
            LOG.info("sign-in accepted (role %s)", outcome.user.role)
            st.rerun()


def set_instance(
    instance: Instance,
    source: str,
    warnings_: Sequence[str],
    card: Any = None,
    rota: Rota | None = None,
) -> None:
    """Make ``instance`` the one the session works on; forget rotas made for another."""
    for old in st.session_state.get("jobs", {}).values():
        old.cancel()
    st.session_state["instance"] = instance
    st.session_state["source"] = source
    st.session_state["warnings"] = list(warnings_)
    st.session_state["jobs"] = {}
    st.session_state["scenarios"] = []
    st.session_state["loaded_rota"] = rota
    st.session_state["rate_card"] = card
    LOG.info(
        "instance loaded from %s: %d carers, %d children, %d visits",
        source.split(":")[0], len(instance.carers), len(instance.children), len(instance.visits),
    )  # fmt: skip


def data_page() -> None:
    st.header("Data in")
    sources = ["The bundled sample", "Upload an Excel workbook or a zipped folder"]
    store_mod = optional("roster.store")
    if store_mod is not None and hasattr(store_mod, "Store"):
        sources.append("A saved scenario")
    source = st.radio("Where is this week's data?", sources, key="source_choice")
    if source == sources[0]:
        st.caption("The example week shipped with the app (a fictional provider; no real people).")
        if st.button("Load the sample", type="primary"):
            try:
                loaded, found, card = load_sample()
                set_instance(loaded, "sample", found, card)
            except Exception as exc:
                show_problems("The sample could not be read.", plain_error(exc))
    elif source == sources[1]:
        upload = st.file_uploader(
            "Excel workbook (.xlsx) or zipped contract folder (.zip)", type=["xlsx", "zip"],
            accept_multiple_files=False,
        )  # fmt: skip
        if upload is not None and st.button("Check and load this file", type="primary"):
            try:
                loaded, found, card = load_upload(upload.name, upload.getvalue())
                set_instance(loaded, f"upload:{upload.name}", found, card)
            except Exception as exc:
                show_problems(f"{upload.name} has problems; nothing was loaded.", plain_error(exc))
    else:
        saved_scenario_picker()
    instance: Instance | None = st.session_state.get("instance")
    if instance is None:
        st.info("Load some data to begin.")
        return
    st.success(
        f"Loaded: {instance.settings.name or 'this week'} (week starting {instance.settings.week_start:%A %d %B %Y})."
    )
    slots = sum(v.carers for v in instance.visits)
    lo, hi = instance.core_band
    overnight = sum(
        1
        for v, s in zip(instance.visits, instance.planned_start, strict=True)
        if instance.clock.outside_daily_band(s, s + v.duration_min, lo, hi)
    )
    cols = st.columns(6)
    cols[0].metric("Carers", len(instance.carers))
    cols[1].metric("Children", len(instance.children))
    cols[2].metric("Visits", len(instance.visits))
    cols[3].metric("Carer slots", slots)
    cols[4].metric("2:1 visits", sum(1 for v in instance.visits if v.carers == 2))
    cols[5].metric("Overnight visits", overnight)
    found = st.session_state.get("warnings") or []
    if found:
        with st.expander(f"{len(found)} thing(s) to check in the data (it can still be solved)"):
            st.markdown("\n".join(f"- {w}" for w in found[:200]))
    with st.expander("Carers"):
        st.dataframe(
            pd.DataFrame(
                [{"carer": c.carer_id, "name": c.name, "drives": c.drives, "overnight": c.overnight_ok,
                  "contracted hours": c.contracted_hours, "agency": c.agency} for c in instance.carers]
            ), hide_index=True,
        )  # fmt: skip
    with st.expander("Children"):
        st.dataframe(
            pd.DataFrame(
                [{"child": c.child_id, "name": c.name, "commissioner": c.commissioner, "spec": c.spec,
                  "continuity target": c.continuity_target} for c in instance.children]
            ), hide_index=True,
        )  # fmt: skip


def saved_scenario_picker() -> None:
    try:
        store = open_store()
        if store is None:
            return
        with store:
            scenarios = store.scenarios()
    except Exception as exc:
        show_problems("The store could not be opened.", plain_error(exc))
        return
    if not scenarios:
        st.info("No scenarios saved yet. Solve a week and save a scenario from the What-if page.")
        return
    labels = {f"{s.name} (saved {s.created_at:%d %b %H:%M})": s for s in reversed(scenarios)}
    chosen = st.selectbox("Saved scenario", list(labels))
    if st.button("Load this scenario", type="primary"):
        s = labels[chosen]
        try:
            reopened = open_store()
            assert reopened is not None  # the store opened above, or this picker returned early
            with reopened as store:
                instance = store.load_instance(s.instance_id)
                rota = None if s.rota_version_id is None else store.load_rota(s.rota_version_id)
            set_instance(instance, f"store:{s.id}", [], None, rota)
        except Exception as exc:
            show_problems("The scenario could not be loaded.", plain_error(exc))


def solver_settings(instance: Instance, key: str) -> tuple[Instance, dict[str, Any]]:
    """The settings form: returns the instance with the chosen mileage cap and core hours, and
    the solver options."""
    api = solver_api()
    cols = st.columns(4)
    limit = cols[0].number_input(
        "Time limit (seconds)",
        2,
        3600,
        int(os.environ.get("ROSTER_APP_TIME_LIMIT", 30)),
        key=f"{key}-limit",
    )
    cap = cols[1].number_input(
        "Mileage cap per visit (miles)", 1.0, 200.0, float(instance.settings.mileage_cap_miles), step=1.0, key=f"{key}-cap"
    )  # fmt: skip
    core_from = cols[2].text_input(
        "Core hours from", instance.settings.core_hours[0], key=f"{key}-core0"
    )
    core_to = cols[3].text_input(
        "Core hours to", instance.settings.core_hours[1], key=f"{key}-core1"
    )
    options: dict[str, Any] = {"time_limit": float(limit)}
    if api is not None and api[2] is not None:
        with st.expander("What matters most (weights)"):
            st.caption(
                "Higher means the solver tries harder to avoid it. Covering visits always comes first."
            )
            defaults = api[2]()
            weights = {}
            wcols = st.columns(3)
            for i, term in enumerate(solver.TERMS):  # the objective's one table
                weights[term.weight] = wcols[i % 3].number_input(
                    f"{term.label} (per {term.unit})", 0.0, 1e6, float(getattr(defaults, term.weight)),
                    key=f"{key}-w-{term.weight}",
                )  # fmt: skip
            options["weights"] = weights
    options["workers"] = int(os.environ.get("ROSTER_APP_WORKERS", 2))
    from roster.calendar import parse_hhmm

    try:
        parse_hhmm(core_from)
        parse_hhmm(core_to)
    except ValueError as exc:
        st.error(f"Core hours: {exc}; use HH:MM, for example 06:30.")
        return instance, options
    changed = dataclasses.replace(
        instance.settings,
        mileage_cap_miles=float(cap),
        core_hours=(core_from.strip(), core_to.strip()),
    )
    if changed != instance.settings:
        instance = dataclasses.replace(instance, settings=changed)
    return instance, options


def progress_text(j: SolveJob) -> str:
    p = j.progress
    bits = [f"{j.elapsed:.0f} s of up to {j.time_limit:.0f} s"]
    if "objective" in p:
        bits.append(f"best cost so far {float(p['objective']):,.0f}")
    if p.get("bound") is not None:
        bits.append(f"bound {float(p['bound']):,.0f}")
    if j.stop.is_set():
        bits.append("stopping…")
    return "; ".join(bits)


@st.fragment(run_every=1.0)
def progress_panel(key: str) -> None:
    """Refreshes every second while a solve runs; reruns the page once when it ends."""
    j = job(key)
    if j is None:
        return
    if j.running:
        frac = min(0.99, j.elapsed / max(j.time_limit, 1.0))
        st.progress(frac, text=f"Solving {j.label}: {progress_text(j)}")
        if st.button("Cancel", key=f"cancel-{key}", disabled=j.stop.is_set()):
            j.cancel()
            LOG.info("solve %s cancelled", j.key)
            st.rerun(scope="fragment")
    else:
        st.rerun()  # the whole page, now with the result; this panel is not drawn again


def result_banner(j: SolveJob) -> None:
    if j.abandoned:
        st.warning(f"You cancelled {j.label} and it did not stop; no rota was kept from it.")
        return
    if j.error:
        show_problems(f"{j.label} did not finish.", j.error)
        return
    r = j.result
    rota = rota_of(r)
    status = str(getattr(r, "status", ""))
    quality = STATUS_WORDS.get(status, "done")
    note = " You stopped it early; this is the best rota found by then." if j.stop.is_set() else ""
    visits = len(rota.by_visit()) if rota else 0
    label = j.label[:1].upper() + j.label[1:]
    st.success(f"{label}: {quality}, in {j.elapsed:.0f} s; {visits} visits staffed.{note}")
    checker = optional("roster.checker")
    if rota is not None and checker is not None and hasattr(checker, "check"):
        found = checker.check(j.instance, rota)
        if found:
            show_problems(
                "The rota breaks rules; do not publish it.",
                [f"{v.rule} {v.visit_id or ''} {v.carer_id or ''}: {v.message}" for v in found],
            )
        else:
            st.caption("Checked: this rota breaks none of the rules (R1-R15).")


def rota_page() -> None:
    instance: Instance | None = st.session_state.get("instance")
    st.header("Rota")
    if instance is None:
        st.info("Load the week's data first (Data page).")
        return
    api = solver_api()
    loaded: Rota | None = st.session_state.get("loaded_rota")
    if api is None:
        st.warning("The solver is not installed in this build, so rotas cannot be made here yet.")
    else:
        with st.container(border=True):
            st.subheader("Make the rota")
            configured, options = solver_settings(instance, "base")
            st.session_state["options"] = options
            if st.button("Solve", type="primary", key="solve"):
                start_job(
                    "base",
                    "the week's rota",
                    configured,
                    solve_work(configured, options),
                    options["time_limit"],
                )
            if (running := job("base")) is not None and running.running:
                progress_panel("base")
    j = job("base")
    if j is not None and j.running:
        return
    if j is not None:
        result_banner(j)
        rota = finished_rota(j)
        shown_instance = j.instance
        result = j.result
    elif loaded is not None:
        st.caption("Showing the rota saved with this scenario.")
        rota, shown_instance, result = loaded, instance, loaded
    else:
        return
    if rota is None:
        return
    show_rota(shown_instance, rota, result, key="base")


def show_rota(instance: Instance, rota: Rota, result: Any, key: str) -> None:
    kpis = kpis_of(instance, result)
    kpi_tiles(kpis)
    tabs = st.tabs(
        [
            "Carers' week",
            "Children's week",
            "Map",
            "Not covered",
            "Hours vs contract",
            "All measures",
        ]
    )
    with tabs[0]:
        by_carer = rota.by_carer()
        order = sorted(by_carer, key=lambda c: instance.carer_index[c])
        default = order[: min(25, len(order))]
        names = {c: f"{instance.carer(c).name} ({c})" for c in order}
        chosen = st.multiselect(
            "Carers shown",
            order,
            default=default,
            format_func=names.__getitem__,
            key=f"{key}-gantt-carers",
        )
        if chosen:
            st.plotly_chart(gantt(instance, rota, chosen), key=f"{key}-gantt")
        else:
            st.info("Pick carers to show their week.")
    with tabs[1]:
        kids = [c.child_id for c in instance.children]
        child_id = st.selectbox(
            "Child", kids, format_func=lambda c: f"{instance.child(c).name} ({c})", key=f"{key}-child"
        )  # fmt: skip
        if child_id:
            week = exports.child_week(instance, rota, child_id)
            child = instance.child(child_id)
            distinct = {
                a.carer_id
                for a in rota.assignments
                if instance.visit(a.visit_id).child_id == child_id
            }
            st.caption(
                f"{child.commissioner} · {child.spec.replace('_', ' ')} · {len(distinct)} carer(s) this week "
                f"(target {child.continuity_target})"
            )
            st.dataframe(week.drop(columns=["start_minute"]), hide_index=True)
    with tabs[2]:
        st.caption(
            "Blue: carers' homes. Orange: children's homes. Grey lines: each journey into a visit."
        )
        st.pydeck_chart(journey_map(instance, rota), key=f"{key}-map")
    with tabs[3]:
        table = unassigned_table(instance, rota)
        if table.empty:
            st.success("Every visit is covered.")
        else:
            st.warning(f"{len(table)} visit(s) not fully covered.")
            st.dataframe(table, hide_index=True, key=f"{key}-unassigned")
    with tabs[4]:
        hours = exports.hours_vs_contract(instance, rota)
        st.plotly_chart(hours_chart(hours), key=f"{key}-hours")
        st.dataframe(hours, hide_index=True)
    with tabs[5]:
        st.dataframe(kpi_table(kpis), hide_index=True)
        terms = getattr(result, "terms", None)
        if isinstance(terms, Mapping) and terms:
            st.caption("What the solver traded off (objective terms)")
            st.dataframe(
                pd.DataFrame([{"term": k.replace("_", " "), "value": v} for k, v in terms.items()]),
                hide_index=True,
            )


# ---- what-if -----------------------------------------------------------------------------------


def base_done() -> tuple[Instance, Rota, Any] | None:
    j = job("base")
    rota = finished_rota(j)
    return (j.instance, rota, j.result) if j is not None and rota is not None else None


def add_scenario(
    name: str, kind: str, instance: Instance, work: Callable[..., Any], time_limit: float
) -> None:
    scenarios: list[dict[str, Any]] = st.session_state.setdefault("scenarios", [])
    key = f"scenario-{len(scenarios) + 1}"
    taken = {s["name"] for s in scenarios}
    if name in taken:  # names label the columns compared side by side: keep them apart
        name = next(
            f"{name} ({n})" for n in range(2, len(taken) + 3) if f"{name} ({n})" not in taken
        )
    scenarios.append({"key": key, "name": name, "kind": kind})
    start_job(key, name, instance, work, time_limit)


def _days_of_week(instance: Instance) -> list[date]:
    return [instance.settings.week_start + timedelta(days=d) for d in range(7)]


def _near(instance: Instance, label: str) -> tuple[float, float]:
    """A place near the named child's home (a little offset), or the middle of the area."""
    for c in instance.children:
        if f"{c.name} ({c.child_id})" == label:
            return round(c.lat + 0.004, 5), round(c.lon + 0.004, 5)
    lat = sum(c.lat for c in instance.children) / len(instance.children)
    lon = sum(c.lon for c in instance.children) / len(instance.children)
    return round(lat, 5), round(lon, 5)


def _new_id(prefix: str, taken: Sequence[str]) -> str:
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def sickness_form(instance: Instance, rota: Rota, options: Mapping[str, Any], keep: bool) -> None:
    carers = [c.carer_id for c in instance.carers if c.carer_id in rota.by_carer()] or [
        c.carer_id for c in instance.carers
    ]
    days = _days_of_week(instance)
    with st.form("sick"):
        carer_id = st.selectbox(
            "Carer", carers, format_func=lambda c: f"{instance.carer(c).name} ({c})"
        )
        cols = st.columns(2)
        first = cols[0].selectbox("Off sick from", days, format_func=lambda d: f"{d:%A %d %b}")
        last = cols[1].selectbox(
            "Until the end of", days, index=min(2, 6), format_func=lambda d: f"{d:%A %d %b}"
        )
        go = st.form_submit_button("Run this scenario", type="primary")
    if not go:
        return
    if last < first:
        st.error("The last day off is before the first; pick the days again.")
        return
    absence = Absence(
        carer_id,
        datetime.combine(first, datetime.min.time()),
        datetime.combine(last + timedelta(days=1), datetime.min.time()),
    )
    sick = dataclasses.replace(instance, absences=(*instance.absences, absence))
    name = f"{instance.carer(carer_id).name} off sick {first:%a}-{last:%a}"
    if keep:
        work = repair_work(instance, rota, absence, options)
    else:
        work = solve_work(sick, options, reference=rota if keep else None)
    add_scenario(name, "sickness", sick, work, options["time_limit"])


def params_for(cls: Any, options: Mapping[str, Any], **extra: Any) -> Any:
    """An instance of a parameters dataclass (``RepairParams``, ``ReferralParams``) from the
    settings form, passing only the fields it has."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kw = {k: v for k, v in {**options, **extra}.items() if k in fields and k != "weights"}
    if "weights" in fields and isinstance(options.get("weights"), Mapping):
        # a ``weights`` field always has a default factory (``field(default_factory=Weights)``)
        assert fields["weights"].default_factory is not dataclasses.MISSING
        weights = fields["weights"].default_factory()
        known = {f.name for f in dataclasses.fields(weights)}
        kw["weights"] = dataclasses.replace(
            weights, **{k: v for k, v in options["weights"].items() if k in known}
        )
    return cls(**kw)


def repair_work(
    instance: Instance, rota: Rota, absence: Absence, options: Mapping[str, Any]
) -> Callable[..., Any]:
    """``solver.repair.repair``: re-roster only what the absence breaks, changing as little as
    possible for other families."""

    def work(progress: Callable[..., bool], stop: threading.Event) -> Any:
        params = params_for(solver.RepairParams, options)
        return solver.repair.repair(instance, rota, absence, params, stop=stop)  # Cancel keeps the best

    return work


def recruit_form(instance: Instance, rota: Rota, options: Mapping[str, Any], keep: bool) -> None:
    competencies = sorted(
        {c for v in instance.visits for c in v.competencies}
        | {t.competency for t in instance.training}
    )
    places = ["the middle of the area"] + [f"{c.name} ({c.child_id})" for c in instance.children]
    with st.form("recruit"):
        cols: Sequence[DeltaGenerator] = st.columns(3)
        name = cols[0].text_input("Name", "New recruit")
        gender: Gender = cols[1].selectbox("Gender", ["F", "M", "X"])
        age = cols[2].number_input("Age", 16, 80, 30)
        near = st.selectbox("Lives near", places)
        cols = st.columns(4)
        drives = cols[0].checkbox("Drives (business insurance)", True)
        overnight = cols[1].checkbox("Will do overnights", False)
        hours = cols[2].number_input("Contracted hours", 0.0, 48.0, 30.0)
        cost = cols[3].number_input("Hourly cost (£)", 0.0, 100.0, 13.0)
        held = st.multiselect("Competencies (beyond mandatory training)", competencies)
        cols = st.columns(3)
        days = cols[0].multiselect(
            "Available on",
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            default=["Mon", "Tue", "Wed", "Thu", "Fri"],
        )
        start = cols[1].text_input("From", "07:00")
        end = cols[2].text_input("To", "22:00")
        go = st.form_submit_button("Run this scenario", type="primary")
    if not go:
        return
    ws = instance.settings.week_start
    carer_id = _new_id("NEW", [c.carer_id for c in instance.carers])
    lat, lon = _near(instance, near)
    recruit = Carer(
        carer_id=carer_id, name=name.strip() or "New recruit", gender=gender,
        date_of_birth=date(ws.year - int(age), ws.month, 1), lat=lat, lon=lon, drives=drives,
        dbs_check="enhanced_barred_children", dbs_issued=ws - timedelta(days=30), dbs_update_service=True,
        overnight_ok=overnight, contracted_hours=float(hours), hourly_cost=float(cost),
    )  # fmt: skip
    training = tuple(
        Training(carer_id, c) for c in dict.fromkeys((*instance.settings.mandatory_training, *held))
    )
    availability = tuple(Availability(carer_id, d, start.strip(), end.strip()) for d in days)
    bigger = dataclasses.replace(
        instance,
        carers=(*instance.carers, recruit),
        training=(*instance.training, *training),
        availability=(*instance.availability, *availability),
    )
    add_scenario(
        f"Recruit {recruit.name}",
        "recruit",
        bigger,
        solve_work(bigger, options, reference=rota if keep else None),
        options["time_limit"],
    )


def referral_form(instance: Instance, rota: Rota, options: Mapping[str, Any], keep: bool) -> None:
    commissioners = sorted({c.commissioner for c in instance.children})
    places = ["the middle of the area"] + [f"{c.name} ({c.child_id})" for c in instance.children]
    default_sessions = pd.DataFrame(
        [
            {
                "day": d,
                "start": "15:30",
                "minutes": 180,
                "carers": 1,
                "kind": "home",
                "needs driver": False,
                "competencies": "",
            }
            for d in ("Mon", "Wed", "Fri")
        ]
    )
    with st.form("referral"):
        cols = st.columns(3)
        name = cols[0].text_input("Child's name", "New referral")
        age = cols[1].number_input("Age", 0, 25, 10)
        commissioner = cols[2].selectbox("Commissioner", commissioners)
        cols = st.columns(3)
        spec = cols[0].selectbox(
            "Specification",
            ["generic_home_care", "complex_home_care", "community_support"],
            format_func=lambda s: s.replace("_", " "),
        )
        gender_required = cols[1].selectbox(
            "Carer gender required", ["", "F", "M"], format_func=lambda g: g or "no requirement"
        )
        near = cols[2].selectbox("Lives near", places)
        st.caption("Sessions each week (one row per session; 2 carers = a 2:1 visit).")
        sessions = st.data_editor(
            default_sessions, num_rows="dynamic", hide_index=True, key="referral-sessions"
        )
        go = st.form_submit_button("Run this scenario", type="primary")
    if not go:
        return
    from roster.calendar import DAY_NAMES
    from roster.model import Child, Visit

    ws = instance.settings.week_start
    child_id = _new_id("REF", [c.child_id for c in instance.children])
    lat, lon = _near(instance, near)
    child = Child(
        child_id=child_id, name=name.strip() or "New referral", date_of_birth=date(ws.year - int(age), ws.month, 1),
        lat=lat, lon=lon, commissioner=commissioner, spec=spec, gender_required=gender_required,
    )  # fmt: skip
    visits = []
    problems = []
    for i, row in enumerate(sessions.to_dict("records"), start=1):
        day = str(row.get("day") or "").strip()[:3].title()
        if day not in DAY_NAMES:
            problems.append(f"Session {i}: day is {row.get('day')!r}; use Mon, Tue, ... Sun.")
            continue
        try:
            from roster.calendar import parse_hhmm

            parse_hhmm(str(row.get("start")))
            minutes = int(row.get("minutes") or 0)
            carers = int(row.get("carers") or 1)
        except (ValueError, TypeError) as exc:
            problems.append(f"Session {i}: {exc}.")
            continue
        if minutes <= 0 or carers not in (1, 2):
            problems.append(f"Session {i}: minutes must be positive and carers 1 or 2.")
            continue
        comps = tuple(c.strip() for c in str(row.get("competencies") or "").split(";") if c.strip())
        visits.append(
            Visit(
                visit_id=f"{child_id}-V{i}", child_id=child_id, date=ws + timedelta(days=DAY_NAMES.index(day)),
                start=str(row.get("start")).strip(), duration_min=minutes, carers=carers,
                kind=str(row.get("kind") or "home"), needs_driver=bool(row.get("needs driver")), competencies=comps,
            )
        )  # fmt: skip
    if problems or not visits:
        show_problems(
            "The referral's sessions need fixing.", problems or ["Add at least one session."]
        )
        return
    bigger = dataclasses.replace(
        instance, children=(*instance.children, child), visits=(*instance.visits, *visits)
    )
    add_scenario(
        f"Referral {child.name}",
        "referral",
        bigger,
        referral_work(instance, child, visits, rota, options, keep),
        options["time_limit"],
    )


def referral_work(
    instance: Instance,
    child: Any,
    visits: Sequence[Any],
    rota: Rota,
    options: Mapping[str, Any],
    keep: bool,
) -> Callable[..., Any]:
    """``solver.evaluate_referral``: a decision with its rationale and what would change the
    answer (it keeps the current rota as far as it can, whatever ``keep`` says)."""
    card = st.session_state.get("rate_card")

    def work(progress: Callable[..., bool], stop: threading.Event) -> Any:
        ask = solver.Referral(child.name, (child,), tuple(visits))
        params = params_for(
            solver.ReferralParams, options, alternatives_time=2 * float(options["time_limit"])
        )
        return solver.evaluate_referral(instance, ask, rota, card, params)

    return work


def lock_form(instance: Instance, rota: Rota, options: Mapping[str, Any]) -> None:
    by_visit = rota.by_visit()
    staffed = [v.visit_id for v in instance.visits if v.visit_id in by_visit]
    with st.form("locks"):
        chosen = st.multiselect(
            "Visits to keep exactly as they are", staffed,
            format_func=lambda v: f"{visit_label(instance, v)} → {', '.join(instance.carer(a.carer_id).name for a in by_visit[v])}",
        )  # fmt: skip
        go = st.form_submit_button("Re-solve with these locked", type="primary")
    if go:
        if not chosen:
            st.error("Pick at least one visit to lock.")
            return
        locks = [a for v in chosen for a in by_visit[v]]
        add_scenario(
            f"{len(chosen)} visit(s) locked",
            "locks",
            instance,
            solve_work(instance, options, locks=locks, reference=rota),
            options["time_limit"],
        )


def whatif_page() -> None:
    st.header("What-if")
    base = base_done()
    if base is None:
        st.info("Solve the week's rota first (Rota page); scenarios are compared with it.")
        return
    instance, rota, result = base
    options = dict(st.session_state.get("options") or {"time_limit": 30.0})
    with st.container(border=True):
        st.subheader("New scenario")
        kinds = [
            "A carer is off sick",
            "Change the mileage cap",
            "A new referral",
            "A new recruit",
            "Lock visits and re-solve",
        ]
        kind = st.radio("What changes?", kinds, horizontal=True, key="whatif-kind")
        keep = st.checkbox("Keep the current rota as far as possible", True, key="whatif-keep")
        options["time_limit"] = float(
            st.number_input(
                "Time limit (seconds)", 2, 3600, int(options["time_limit"]), key="whatif-limit"
            )
        )
        if kind == kinds[0]:
            sickness_form(instance, rota, options, keep)
        elif kind == kinds[1]:
            with st.form("cap"):
                cap = st.number_input(
                    "New mileage cap per visit (miles)",
                    1.0,
                    200.0,
                    float(instance.settings.mileage_cap_miles) + 5,
                    step=1.0,
                )
                go = st.form_submit_button("Run this scenario", type="primary")
            if go:
                capped = dataclasses.replace(
                    instance,
                    settings=dataclasses.replace(instance.settings, mileage_cap_miles=float(cap)),
                )
                add_scenario(
                    f"Mileage cap {cap:g} miles",
                    "mileage",
                    capped,
                    solve_work(capped, options, reference=rota if keep else None),
                    options["time_limit"],
                )
        elif kind == kinds[2]:
            referral_form(instance, rota, options, keep)
        elif kind == kinds[3]:
            recruit_form(instance, rota, options, keep)
        else:
            lock_form(instance, rota, options)
    scenarios = st.session_state.get("scenarios", [])
    for s in scenarios:
        if (running := job(s["key"])) is not None and running.running:
            progress_panel(s["key"])
    candidates = [(s, job(s["key"])) for s in scenarios]
    finished = [(s, j) for s, j in candidates if j is not None and not j.running]
    if not finished:
        return
    base_kpis = kpis_of(instance, result)
    st.subheader("Side by side")
    compare = {"Current rota": base_kpis}
    for s, j in finished:
        if finished_rota(j) is not None:
            compare[s["name"]] = kpis_of(j.instance, j.result)
    st.dataframe(comparison_table(compare), hide_index=True, key="whatif-compare")
    names = [s["name"] for s, _j in finished]
    chosen = st.selectbox("Look at", names, index=len(names) - 1, key="whatif-look")
    s, j = next((s, j) for s, j in finished if s["name"] == chosen)
    result_banner(j)
    scenario_rota = finished_rota(j)
    if scenario_rota is None:
        return
    kpi_tiles(kpis_of(j.instance, j.result), base=base_kpis)
    diff = rota_diff(j.instance, rota, scenario_rota)
    st.markdown(f"**{len(diff)} visit(s) change** compared with the current rota.")
    st.dataframe(diff, hide_index=True, key="whatif-diff")
    table = unassigned_table(j.instance, scenario_rota)
    if not table.empty:
        st.markdown(f"**Not covered in this scenario: {len(table)}**")
        st.dataframe(table, hide_index=True, key="whatif-unassigned")
    scenario_notes(j.instance, j.result)
    if has("roster.store", "Store") and st.button("Save this scenario", key="whatif-save"):
        try:
            opened = open_store()
            assert opened is not None  # has("roster.store", "Store") is what open_store() needs
            with opened as store:
                sid = store.save_scenario(
                    s["name"], j.instance, user=u.name if (u := user()) else "app", rota=scenario_rota,
                    params={"time_limit": options["time_limit"], "kind": s["kind"]},
                    result=kpis_of(j.instance, j.result),
                )  # fmt: skip
            st.success(f"Saved as scenario {sid}.")
        except Exception as exc:
            show_problems("The scenario could not be saved.", plain_error(exc))


def scenario_notes(instance: Instance, result: Any) -> None:
    """What the repair or the referral decision says beyond the rota itself."""
    rationale = getattr(result, "rationale", None)
    if rationale:
        accept = getattr(result, "accept", None)
        (st.success if accept else st.warning)(str(rationale))
        for alt in getattr(result, "alternatives", None) or []:
            st.markdown(f"- What would change the answer: {alt.get('summary', alt)}")
    families = getattr(result, "families", None)
    if families:
        names = ", ".join(
            instance.child(c).name if c in instance.child_index else c for c in families
        )
        st.info(f"Families to tell or consult before their carers change: {names}.")
    uncovered = getattr(result, "uncovered", None)
    if uncovered:
        st.warning(
            "Covered before, not covered now (tell these families first): "
            + "; ".join(f"{u.visit_id} ({u.reasons})" for u in uncovered)
        )


def comparison_table(columns: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """KPIs in rows, one column per scenario and its change from the current rota."""
    base = next(iter(columns.values()))
    hidden = {
        "cost",
        "total_cost",
        "carer_cost",
        "margin",
        "gross_margin",
        "income",
        "revenue",
        "charge",
    }
    keys = [
        k
        for k, v in base.items()
        if isinstance(v, int | float) and (is_manager() or k not in hidden)
    ]
    rows = []
    for k in keys:
        row: dict[str, Any] = {"measure": k.replace("_", " ")}
        for name, kpis in columns.items():
            value = kpis.get(k)
            row[name] = value
            if name != "Current rota" and isinstance(value, int | float):
                row[f"{name}: change"] = round(float(value) - float(base[k]), 4)
        rows.append(row)
    return pd.DataFrame(rows)


# ---- downloads and users ------------------------------------------------------------------------


def downloads_page() -> None:
    st.header("Downloads")
    options: dict[str, tuple[Instance, Rota]] = {}
    base = base_done()
    if base is not None:
        options["Current rota"] = (base[0], base[1])
    loaded: Rota | None = st.session_state.get("loaded_rota")
    if loaded is not None and st.session_state.get("instance") is not None:
        options.setdefault("Saved rota", (st.session_state["instance"], loaded))
    for s in st.session_state.get("scenarios", []):
        j = job(s["key"])
        scenario_rota = finished_rota(j)
        if j is not None and scenario_rota is not None:
            options[f"Scenario: {s['name']}"] = (j.instance, scenario_rota)
    if not options:
        st.info("Solve the week's rota first (Rota page).")
        return
    which = st.selectbox("Which rota", list(options), key="dl-which")
    instance, rota = options[which]
    week = f"{instance.settings.week_start:%Y-%m-%d}"
    st.subheader("The rota")
    cols: Sequence[DeltaGenerator] = st.columns(3)
    if optional("roster.io") is not None:
        cols[0].download_button(
            "Rota (CSV files, zipped)", lambda: exports.rota_csv_zip(instance, rota), f"rota-{week}.zip",
            "application/zip", key="dl-csv", on_click="ignore",
        )  # fmt: skip
    if has("roster.excel", "write_rota_xlsx"):
        cols[1].download_button(
            "Rota (Excel)", lambda: exports.rota_xlsx(instance, rota), f"rota-{week}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl-xlsx", on_click="ignore",
        )  # fmt: skip
    cols[2].download_button(
        "Timesheets (CSV)", lambda: exports.timesheets_csv(instance, rota), f"timesheets-{week}.csv", "text/csv",
        key="dl-timesheets", on_click="ignore",
    )  # fmt: skip
    st.subheader("For carers")
    carers = sorted(rota.by_carer(), key=lambda c: instance.carer_index[c])
    if carers:
        carer_id = st.selectbox(
            "Carer", carers, format_func=lambda c: f"{instance.carer(c).name} ({c})", key="dl-carer"
        )
        cols = st.columns(3)
        cols[0].download_button(
            "Run sheet (printable)", lambda: exports.run_sheet_html(instance, rota, carer_id),
            f"run-sheet-{carer_id}-{week}.html", "text/html", key="dl-sheet", on_click="ignore",
        )  # fmt: skip
        cols[1].download_button(
            "Calendar (ICS)", lambda: exports.carer_ics(instance, rota, carer_id),
            f"visits-{carer_id}-{week}.ics", "text/calendar", key="dl-ics", on_click="ignore",
        )  # fmt: skip
        cols[2].download_button(
            "Every carer's run sheet and calendar (zip)", lambda: exports.carer_bundle_zip(instance, rota),
            f"carers-{week}.zip", "application/zip", key="dl-bundle", on_click="ignore",
        )  # fmt: skip
        with st.expander("Preview the run sheet"):
            st.html(exports.run_sheet_html(instance, rota, carer_id))
    st.subheader("For commissioners")
    if not is_manager():
        st.caption("Invoices are for managers.")
        return
    card = st.session_state.get("rate_card")
    if card is None:
        st.caption(
            "Invoices show hours by band. Add rates.csv (commissioner, band, hourly_rate) "
            "beside the data to price them."
        )
    kids = sorted(
        {instance.visit(a.visit_id).child_id for a in rota.assignments},
        key=lambda c: instance.child_index[c],
    )
    cols = st.columns(2)
    cols[0].download_button(
        "Every invoice (zip, one per child per commissioner)", lambda: exports.invoices_zip(instance, rota, card=card),
        f"invoices-{week}.zip", "application/zip", key="dl-invoices", on_click="ignore",
    )  # fmt: skip
    if kids:
        child_id = cols[1].selectbox(
            "Child", kids, format_func=lambda c: f"{instance.child(c).name} ({c})", key="dl-child"
        )
        cols[1].download_button(
            "This child's invoice (CSV)", lambda: exports.invoice_csv(instance, rota, child_id, card),
            f"invoice-{child_id}-{week}.csv", "text/csv", key="dl-invoice", on_click="ignore",
        )  # fmt: skip


def _still_manager() -> bool:
    """Re-read the acting user's role right before a change to the users file."""
    me = user()
    try:
        fresh = None if me is None else lookup(None, me.name)
    except ValueError:
        fresh = None
    return fresh is not None and fresh.is_manager


def users_page() -> None:
    st.header("Users")
    if not is_manager():
        st.error("Only managers can manage users.")
        return
    st.dataframe(
        pd.DataFrame([{"login name": u.name, "role": u.role} for u in list_users()]),
        hide_index=True,
    )
    with st.form("add-user", clear_on_submit=True):
        cols = st.columns(3)
        name = cols[0].text_input("Login name")
        password = cols[1].text_input(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)", type="password"
        )
        role = cols[2].selectbox("Role", ROLES)
        if st.form_submit_button("Add or update user"):
            managers = [u for u in list_users() if u.is_manager]
            if not _still_manager():
                st.error("Only managers can manage users.")
            elif role != "manager" and [m.name.casefold() for m in managers] == [
                name.strip().casefold()
            ]:
                st.error("That is the only manager; make another manager first.")
            else:
                try:
                    add_user(None, name, password, role)
                    LOG.info("user added or updated (role %s)", role)
                    st.success("Saved.")
                except ValueError as exc:
                    st.error(str(exc)[:1].upper() + str(exc)[1:])
    me = user()
    others = [u.name for u in list_users() if me is None or u.name != me.name]
    if others:
        with st.form("remove-user"):
            name = st.selectbox("Remove", others)
            if st.form_submit_button("Remove user"):
                if not _still_manager():
                    st.error("Only managers can manage users.")
                else:
                    remove_user(None, name)
                    LOG.info("user removed")
                    st.rerun()


# ---- the app ------------------------------------------------------------------------------------


def main() -> None:
    LOG.debug("script run starts")
    st.set_page_config(page_title="Rota planner", page_icon="🗓️", layout="wide")
    warn_if_exposed()
    current = refresh_user()  # the role as the users file says now, on every run
    if current is None:
        login_page()
        return
    with st.sidebar:
        st.markdown(f"Signed in as **{current.name}** ({current.role})")
        if st.button("Sign out"):
            sign_out()
            st.rerun()
        pages = list(PAGES) + (["Users"] if current.is_manager else [])
        if st.session_state.get("page") not in (None, *pages):  # e.g. Users, after a demotion
            st.session_state["page"] = pages[0]
        page = st.radio("Go to", pages, key="page")
        week = st.empty()  # filled after the page, which may load new data
    began = time.perf_counter()
    try:
        {
            "Data": data_page,
            "Rota": rota_page,
            "What-if": whatif_page,
            "Downloads": downloads_page,
            "Users": users_page,
        }[page]()
    except Exception as exc:  # never a traceback on screen; the log holds no personal data
        LOG.warning("page %s failed: %s", page, type(exc).__name__)
        show_problems("Something went wrong on this page.", plain_error(exc))
    LOG.debug("page %s drawn in %.2f s", page, time.perf_counter() - began)
    instance = st.session_state.get("instance")
    if instance is not None:
        week.caption(
            f"Week starting {instance.settings.week_start:%d %b %Y}: {len(instance.carers)} carers, "
            f"{len(instance.children)} children, {len(instance.visits)} visits."
        )


main()
