"""Parameters and results of a solve: plain dataclasses (STYLE.md), no solver objects inside."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from roster.model import Assignment, Rota
from roster.travel import TravelModel

Lock = Assignment | tuple[str, str] | tuple[str, str, int]
"""A fixed assignment: an ``Assignment`` (its start is kept), or ``(visit_id, carer_id)``, or
``(visit_id, carer_id, start_epoch_minute)``."""

Progress = Callable[[float, float, float], Any]
"""Called as ``progress(seconds, objective, bound)`` each time CP-SAT finds a better rota;
returning True asks the solver to stop and return the best rota so far."""


class StopFlag(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``: set it to cancel a solve."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Weights:
    """Weights of the objective terms, in cost units per the unit each term names.

    The objective is a *cost* to minimise: ``sum(weight * term)`` over ``Result.terms``.
    In lexicographic mode (the default) the stages are solved in the contract's priority order
    (§4) and the weights only trade off terms inside one stage; in weighted mode they are the
    whole story, so ``coverage`` must dominate.
    """

    coverage: float = 10_000.0
    """Per carer slot left unstaffed (a 2:1 visit has two slots)."""
    distinct_carers: float = 100.0
    """Per distinct carer a child sees in the week (continuity)."""
    over_target: float = 400.0
    """Per carer beyond the child's ``max_carers_week``, on top of ``distinct_carers``."""
    stranger: float = 60.0
    """Per carer a child sees who has no history with the child, on top of ``distinct_carers``."""
    preference: float = 5.0
    """Per carer-visit unmet family preference (preferred gender, language, culture), each."""
    stranger_visit: float = 20.0
    """Per rota row (carer on a visit) given to a carer with no history with the child, in the
    quality stage: among the carers continuity has chosen for a child, the visits go to the
    ones the child knows. 20 outranks a row's preferences (at most 3 x 5) and most journeys'
    miles (the session cap is 20), as the contract's order (§4: known carers, then
    preferences, then travel) asks. The continuity stage's ``stranger`` counts carers, not
    visits, so without this a child with a known and a new carer could get every visit from the
    new one (S, 10 s: 20-37 % of rows by a known carer, below the greedy's 28-44 %)."""
    travel_mile: float = 1.0
    """Per road mile travelled into visits (the R13 journey: from the previous visit or home)."""
    agency_hour: float = 5.0
    """Per visit hour given to an agency carer."""
    hours_deviation: float = 0.5
    """Per hour a (non-agency) carer's working time is away from their contracted hours."""
    change: float = 300.0
    """Per (carer, visit) pair of ``SolveParams.reference`` that the new rota does not keep."""


@dataclass(frozen=True)
class SolveParams:
    """How to solve. Defaults suit an interactive S/M week."""

    time_limit: float = 30.0
    """Wall-clock seconds for the whole solve: eligibility, greedy, model building and every
    CP-SAT stage (or large-neighbourhood search). A model that cannot be built in time is not
    built (``solver.cpsat.BUILD_SHARE``); only the final explanations, check and KPIs come on
    top (a fraction of a second on S, a few seconds on M)."""
    workers: int = 2
    seed: int = 0
    weights: Weights = field(default_factory=Weights)
    lexicographic: bool = True
    """Coverage first, then continuity (+ changes), then visits by known carers, preferences,
    travel and cost; one weighted stage instead on very large models
    (``solver.stages.LEXICOGRAPHIC_MAX_VARIABLES``)."""
    reference: Rota | None = None
    """A rota to keep as far as possible: each of its (carer, visit) pairs not kept costs
    ``weights.change`` (repair, referral)."""
    locks: tuple[Lock, ...] = ()
    """Assignments fixed by hand; kept exactly (a lock the rules forbid raises ``ValueError``)."""
    hint: Rota | None = None
    """A warm start; when ``None`` the greedy rota is used."""
    max_candidates: int | None = 12
    """Keep only this many eligible carers per visit (carers the child knows first, then the
    nearest); ``None`` keeps all. The model grows with the square of a carer's candidate visits:
    on the generator's M week (47 eligible carers per visit on average) all of them made a model
    of 6.8 GB that took minutes to build, and 16 still over 6 GB; 12 keeps most of S (9.7 per
    visit on average). CP-SAT's bounds are then bounds of the pruned model."""
    deterministic: bool = False
    """Stop each stage on CP-SAT's deterministic time instead of wall time, so that a run with
    one worker and a seed is repeatable even when it hits the limit."""
    travel: TravelModel | None = None
    """A supplied travel matrix (``roster.io.load_travel``); default: the instance's model."""
    log: bool = False
    use_greedy_only: bool = False
    """Skip CP-SAT and return the greedy rota (the benchmark baseline)."""
    lns: bool | None = None
    """Improve the greedy rota by large-neighbourhood search (``solver.lns``) instead of one
    monolithic model. ``None``: automatic, on weeks of ``solver.solve.LNS_MIN_VISITS`` visits or
    more without locks or a reference (where the whole model stalls at the warm start)."""
    engine: bool | None = None
    """Improve by the compiled local-search engine (``solver.search``) where the search runs,
    instead of CP-SAT large-neighbourhood moves; also with locks or a reference rota (keep,
    repair, referral, roll forward) on weeks too large for the whole model. ``None``: automatic
    (on); False: the older ``solver.lns``."""

    def __post_init__(self) -> None:
        check_time_limit(self.time_limit)
        check_workers(self.workers)


def check_time_limit(seconds: Any, name: str = "time_limit") -> float:
    """``seconds`` as a float when it is a finite number above 0, else ``ValueError`` naming it.

    A limit is a promise (the solve returns within it): 0, a negative number, nan or inf cannot
    be kept, and before they were accepted silently (a greedy rota, or no end)."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is {seconds}; it must be a number of seconds above 0, "
                         "e.g. 30.") from None
    if isinstance(seconds, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} is {seconds}; it must be a finite number of seconds above 0, "
                         "e.g. 30.")
    return value


def check_workers(workers: Any, name: str = "workers") -> int:
    """``workers`` when it is a whole number of at least 1, else ``ValueError`` naming it."""
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"{name} is {workers}; it must be a whole number of at least 1, e.g. 2.")
    return int(workers)


@dataclass(frozen=True)
class Result:
    """What a solve returns. ``violations`` is always empty: a violation raises instead."""

    status: str
    """``OPTIMAL`` (every stage proven), ``FEASIBLE``, or ``GREEDY`` (CP-SAT found nothing
    better than the warm start, or was not asked)."""
    rota: Rota
    objective: float
    """Weighted cost ``sum(weights * terms)``."""
    bound: float | None
    """Lower bound on the cost: the sum of each stage's proven bound at the levels fixed by the
    stages before it (a true bound on the lexicographic optimum)."""
    gap: float | None
    terms: dict[str, float]
    seconds: float
    kpis: Mapping[str, Any] = field(default_factory=dict)
    violations: tuple[Any, ...] = ()
    stages: tuple[Mapping[str, Any], ...] = ()
    """Per CP-SAT stage: name, status, objective, bound, seconds."""
    carer_slots_bound: int | None = None
    """Upper bound on carer slots staffed: the smaller of the coverage master's
    (``solver.coverage``, over every eligible pair) and CP-SAT's coverage stage's."""
    coverage_gap: float | None = None
    """``(carer_slots_bound - slots staffed) / carer_slots_bound``: 0 when coverage is proven
    optimal."""
