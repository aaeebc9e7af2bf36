"""The objective's terms, defined once (STYLE.md: "a table of terms ... Nothing else lists them").

``TERMS`` is the table: for each term its name, lexicographic stage, ``Weights`` field, unit, a
label for the app's weights panel, the CP-SAT expression builder (``build``, used by
``solver.cpsat.build_model``) and the value of a finished rota (``value``, used by
``rota_terms``, hence by ``Result.terms``, ``summary.json``'s ``terms`` and ``objective``, the
search's move test and the progress reports). ``TERMS_BY_STAGE``, ``TERM_WEIGHT`` and
``TERM_NAMES`` are read off the table.

The objective is a cost to minimise: ``sum(weight * term)``. In lexicographic mode the stages are
solved in the table's order (coverage, continuity, quality: the contract's §4 priority), the
weights trading off terms inside one stage only.

Importing this module does not import ortools: a builder gets the model it adds to, and only
``Term.scaled`` (called while CP-SAT stages are set up) needs ``cp_model``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from roster.model import Instance, Rota
from solver.params import SolveParams, Weights

if TYPE_CHECKING:
    from roster.eligibility import Eligibility

SCALE = 600
"""Objective coefficients are ``round(weight * SCALE * unit / den)``: a weight of 0.5 per hour is
still 5 per minute, 1 per mile is 6 per hundredth of a mile."""


@dataclass
class Term:
    """One objective term in CP-SAT: ``(sum(coef * var) + const) / den`` in the term's own unit."""

    den: float = 1.0
    coefs: dict[int, int] = field(default_factory=dict)
    vars: dict[int, Any] = field(default_factory=dict)
    const: float = 0.0

    def add(self, var: Any, coef: int) -> None:
        if not coef:
            return
        idx = var.index
        self.vars[idx] = var
        self.coefs[idx] = self.coefs.get(idx, 0) + int(coef)

    def scaled(self, weight: float) -> tuple[Any, int]:
        """(integer expression, integer constant) of ``SCALE * weight * term``."""
        # heavy and optional here: importing the term table must not import ortools
        from ortools.sat.python import cp_model  # noqa: PLC0415

        factor = weight * SCALE / self.den
        expr = cp_model.LinearExpr.weighted_sum(
            [self.vars[i] for i in self.coefs], [int(round(k * factor)) for k in self.coefs.values()]
        )
        return expr, int(round(self.const * factor))

    def scaled_value(self, weight: float, values: dict[int, int]) -> int:
        """The value of ``scaled(weight)[0]`` at the given variable values."""
        factor = weight * SCALE / self.den
        return sum(int(round(k * factor)) * values[i] for i, k in self.coefs.items())

    def value(self, solver: Any) -> float:
        total = self.const + sum(k * solver.value(self.vars[i]) for i, k in self.coefs.items())
        return total / self.den


# ---- what a CP-SAT term builder reads ----------------------------------------------------------


@dataclass
class TermModel:
    """The parts of the built rota model (``solver.cpsat.build_model``) the term builders read."""

    model: Any
    """The ``cp_model.CpModel``."""
    new: Any
    """``solver.cpsat.Vars``: creates variables and remembers them (for hints)."""
    instance: Instance
    elig: Eligibility
    params: SolveParams
    x: dict[tuple[int, int], Any]
    staffed: dict[int, Any]
    carers: dict[int, Any]
    """carer -> ``solver.cpsat.CarerModel`` (home and arc literals, limits)."""
    work_total: dict[int, Any]
    """carer -> working-minutes expression (``add_weekly_hours``)."""
    aux: dict[str, Any]
    """y (carer, child), over (child), dev (carer -> (var, target minutes)), for hints."""
    _continuity: dict[str, Term] | None = None

    def continuity(self) -> dict[str, Term]:
        """The three continuity terms, built once (they share the y literals)."""
        if self._continuity is None:
            self._continuity = add_continuity(self.model, self.new, self.instance, self.x, self.aux)
        return self._continuity


def add_continuity(
    m: Any,
    new: Any,
    instance: Instance,
    x: dict[tuple[int, int], Any],
    aux: dict[str, Any] | None = None,
) -> dict[str, Term]:
    """Continuity (contract §4.2): distinct carers per child (carers), carers beyond the child's
    ``max_carers_week`` (carers), and carers with no history with the child (carers)."""
    by_pair: dict[tuple[int, int], list[Any]] = {}
    for (c, v), lit in x.items():
        k = instance.child_index[instance.visits[v].child_id]
        by_pair.setdefault((c, k), []).append(lit)
    distinct, over, strangers = Term(), Term(), Term()
    per_child: dict[int, list[Any]] = {}
    for (c, k), lits in sorted(by_pair.items()):
        yk = new.boolean(f"y{c}_{k}")
        for lit in lits:
            m.add_implication(lit, yk)
        m.add_bool_or(lits).only_enforce_if(yk)
        if aux is not None:
            aux.setdefault("y", {})[(c, k)] = yk
        per_child.setdefault(k, []).append(yk)
        distinct.add(yk, 1)
        if not instance.knows(instance.children[k].child_id, instance.carers[c].carer_id):
            strangers.add(yk, 1)
    for k, ys in per_child.items():
        target = instance.children[k].continuity_target
        if len(ys) <= target:
            continue
        extra = new.integer(0, len(ys) - target, f"over{k}")
        m.add(extra >= sum(ys) - target)
        over.add(extra, 1)
        if aux is not None:
            aux.setdefault("over", {})[k] = (extra, target)
    return {"distinct_carers": distinct, "carers_over_target": over, "stranger_carers": strangers}


def preference_mismatches(instance: Instance, c: int, v: int) -> int:
    """Unmet family preferences if carer c takes visit v: preferred gender, language, culture."""
    carer = instance.carers[c]
    child = instance.child(instance.visits[v].child_id)
    n = 0
    if child.gender_preferred and carer.gender != child.gender_preferred:
        n += 1
    if child.language and child.language not in carer.languages:
        n += 1
    if child.culture and carer.culture != child.culture:
        n += 1
    return n


def _build_uncovered(tm: TermModel) -> Term:
    uncovered = Term(den=1.0)
    vs = tm.instance.visits
    for v, st in tm.staffed.items():
        uncovered.const += vs[v].carers
        if not isinstance(st, int):
            uncovered.add(st, -vs[v].carers)
    return uncovered


def _build_changes(tm: TermModel) -> Term:
    changes = Term(den=1.0)
    instance = tm.instance
    if tm.params.reference is not None:
        for a in tm.params.reference.assignments:
            key = (instance.carer_index.get(a.carer_id, -1), instance.visit_index.get(a.visit_id, -1))
            changes.const += 1
            if key in tm.x:
                changes.add(tm.x[key], -1)
    return changes


def _build_stranger_visits(tm: TermModel) -> Term:
    rows = Term(den=1.0)
    vs, carers = tm.instance.visits, tm.instance.carers
    for (c, v), lit in tm.x.items():
        if not tm.instance.knows(vs[v].child_id, carers[c].carer_id):
            rows.add(lit, 1)
    return rows


def _build_preferences(tm: TermModel) -> Term:
    prefs = Term(den=1.0)
    for (c, v), lit in tm.x.items():
        prefs.add(lit, preference_mismatches(tm.instance, c, v))
    return prefs


def _build_miles(tm: TermModel) -> Term:
    miles = Term(den=100.0)  # hundredths of a mile
    for c, cm in tm.carers.items():
        for j in cm.visits:
            h = cm.home[j]
            if not isinstance(h, int):
                miles.add(h, int(round(float(tm.elig.home_miles[c, j]) * 100)))
            for arc in cm.arcs_into[j]:
                miles.add(arc.lit, int(round(arc.miles * 100)))
    return miles


def _build_agency(tm: TermModel) -> Term:
    agency = Term(den=60.0)
    vs = tm.instance.visits
    for (c, v), lit in tm.x.items():
        if tm.instance.carers[c].agency:
            agency.add(lit, vs[v].duration_min)
    return agency


def _build_deviation(tm: TermModel) -> Term:
    deviation = Term(den=60.0)
    m, carers = tm.model, tm.carers
    for c, total in tm.work_total.items():
        carer = tm.instance.carers[c]
        if carer.agency:
            continue
        target = int(round(carer.contracted_hours * 60))
        dev = tm.new.integer(0, max(target, carers[c].limits.max_week_min) + 1, f"dev{c}")
        m.add(dev >= total - target)
        m.add(dev >= target - total)
        deviation.add(dev, 1)
        tm.aux["dev"][c] = (dev, target)
    for c, carer in enumerate(tm.instance.carers):
        if c not in tm.work_total and not carer.agency:  # no candidate visit: 0 hours, a constant
            deviation.const += int(round(carer.contracted_hours * 60))
    return deviation


# ---- what a finished rota scores ----------------------------------------------------------------


class RotaFacts:
    """A finished rota with the counts its terms share, each computed once."""

    def __init__(self, instance: Instance, rota: Rota, params: SolveParams):
        self.instance, self.rota, self.params = instance, rota, params

    @cached_property
    def child_carers(self) -> dict[str, set[str]]:
        """child -> the carers on the child's rows."""
        pairs: dict[str, set[str]] = {}
        for a in self.rota.assignments:
            pairs.setdefault(self.instance.visit(a.visit_id).child_id, set()).add(a.carer_id)
        return pairs


def _uncovered_value(f: RotaFacts) -> float:
    slots = sum(v.carers for v in f.instance.visits)
    return float(slots - len(f.rota.assignments))


def _distinct_value(f: RotaFacts) -> float:
    return float(sum(len(s) for s in f.child_carers.values()))


def _over_value(f: RotaFacts) -> float:
    return float(sum(
        max(0, len(s) - f.instance.child(k).continuity_target) for k, s in f.child_carers.items()
    ))


def _stranger_carers_value(f: RotaFacts) -> float:
    return float(sum(
        1 for k, s in f.child_carers.items() for c in s if not f.instance.knows(k, c)
    ))


def _changes_value(f: RotaFacts) -> float:
    if f.params.reference is None:
        return 0.0
    kept = {(a.visit_id, a.carer_id) for a in f.rota.assignments}
    return float(sum(
        1 for a in f.params.reference.assignments if (a.visit_id, a.carer_id) not in kept
    ))


def _stranger_visits_value(f: RotaFacts) -> float:
    inst = f.instance
    return float(sum(
        1 for a in f.rota.assignments if not inst.knows(inst.visit(a.visit_id).child_id, a.carer_id)
    ))


def _preferences_value(f: RotaFacts) -> float:
    inst = f.instance
    return float(sum(
        preference_mismatches(inst, inst.carer_index[a.carer_id], inst.visit_index[a.visit_id])
        for a in f.rota.assignments
    ))


def _miles_value(f: RotaFacts) -> float:
    return round(sum(a.travel_miles for a in f.rota.assignments), 2)


def _agency_value(f: RotaFacts) -> float:
    inst = f.instance
    agency = sum(
        (a.end - a.start) for a in f.rota.assignments if inst.carer(a.carer_id).agency
    ) / 60.0
    return round(agency, 4)


def _deviation_value(f: RotaFacts) -> float:
    worked: dict[str, int] = {}
    for a in f.rota.assignments:
        worked[a.carer_id] = worked.get(a.carer_id, 0) + (a.end - a.start) + a.travel_min
    deviation = sum(
        abs(worked.get(c.carer_id, 0) - int(round(c.contracted_hours * 60)))
        for c in f.instance.carers
        if not c.agency
    ) / 60.0
    return round(deviation, 4)


# ---- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveTerm:
    """One term of the objective: where it sits, what it weighs, how both engines compute it."""

    name: str
    """The key in ``Result.terms`` and ``summary.json``'s ``terms``."""
    stage: str
    """Lexicographic stage: ``coverage``, ``continuity`` or ``quality``."""
    weight: str
    """The ``Weights`` field that prices one unit."""
    unit: str
    """What one unit of the term is (the weight is per this)."""
    label: str
    """What the app's weights panel calls it."""
    build: Callable[[TermModel], Term]
    """The CP-SAT expression (``solver.cpsat.build_model``)."""
    value: Callable[[RotaFacts], float]
    """The value of a finished rota (``rota_terms``)."""


def _continuity_term(name: str) -> Callable[[TermModel], Term]:
    def build(tm: TermModel) -> Term:
        return tm.continuity()[name]

    return build


TERMS: tuple[ObjectiveTerm, ...] = (
    ObjectiveTerm("uncovered_slots", "coverage", "coverage", "carer slot",
                  "Carer slot left unstaffed", _build_uncovered, _uncovered_value),
    ObjectiveTerm("distinct_carers", "continuity", "distinct_carers", "carer",
                  "Each carer a child sees", _continuity_term("distinct_carers"), _distinct_value),
    ObjectiveTerm("carers_over_target", "continuity", "over_target", "carer",
                  "Carer beyond the child's target", _continuity_term("carers_over_target"),
                  _over_value),
    ObjectiveTerm("stranger_carers", "continuity", "stranger", "carer",
                  "Carer new to the child", _continuity_term("stranger_carers"),
                  _stranger_carers_value),
    ObjectiveTerm("changes", "continuity", "change", "row",
                  "Row of the kept rota changed", _build_changes, _changes_value),
    ObjectiveTerm("stranger_visits", "quality", "stranger_visit", "row",
                  "Visit by a carer new to the child", _build_stranger_visits,
                  _stranger_visits_value),
    ObjectiveTerm("preference_mismatches", "quality", "preference", "preference",
                  "Unmet family preference", _build_preferences, _preferences_value),
    ObjectiveTerm("travel_miles", "quality", "travel_mile", "mile",
                  "Mile travelled", _build_miles, _miles_value),
    ObjectiveTerm("agency_hours", "quality", "agency_hour", "hour",
                  "Hour by an agency carer", _build_agency, _agency_value),
    ObjectiveTerm("hours_deviation", "quality", "hours_deviation", "hour",
                  "Hour away from contracted hours", _build_deviation, _deviation_value),
)
"""Every term, in stage order (and the order CP-SAT builds them, which fixes variable order)."""

TERM_NAMES: tuple[str, ...] = tuple(t.name for t in TERMS)
TERM_WEIGHT: dict[str, str] = {t.name: t.weight for t in TERMS}
"""term name -> the ``Weights`` field that prices it."""
STAGES: tuple[str, ...] = tuple(dict.fromkeys(t.stage for t in TERMS))
TERMS_BY_STAGE: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (stage, tuple(t.name for t in TERMS if t.stage == stage)) for stage in STAGES
)
"""(stage, its term names), in the lexicographic order."""


def model_terms(tm: TermModel) -> dict[str, Term]:
    """Every term's CP-SAT expression, built in the table's order."""
    return {t.name: t.build(tm) for t in TERMS}


def rota_terms(instance: Instance, rota: Rota, params: SolveParams) -> dict[str, float]:
    """Every objective term of a rota, in its own unit (see ``Weights``)."""
    facts = RotaFacts(instance, rota, params)
    return {t.name: t.value(facts) for t in TERMS}


def objective_of(terms: Mapping[str, float], weights: Weights) -> float:
    """The weighted cost ``sum(weight * term)``."""
    return float(sum(getattr(weights, TERM_WEIGHT[k]) * v for k, v in terms.items()))


def stage_costs(terms: Mapping[str, float], weights: Weights) -> dict[str, float]:
    """Each lexicographic stage's weighted cost (``TERMS_BY_STAGE``: coverage, continuity,
    quality, in that order) from a rota's terms (``rota_terms``, ``Result.terms``)."""
    return {stage: round(objective_of({n: terms[n] for n in names}, weights), 6)
            for stage, names in TERMS_BY_STAGE}
