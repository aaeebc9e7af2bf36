"""solver: turns a frozen ``roster.Instance`` into a ``roster.Rota`` (CP-SAT, greedy, bounds).

The public API, what the app and the CLI call (STYLE.md: explicit re-exports, nothing else):

* ``solve(instance, params, progress=, locks=, stop=) -> Result`` with ``SolveParams`` and
  ``Weights``; ``solve_decomposed`` for a large week by regions; ``greedy``; ``RotaBugError``.
* ``TERMS``: the objective's terms (name, stage, weight field, unit, label).
* ``repair.repair`` (``RepairParams``, ``RepairResult``): re-roster what a carer's absence
  breaks. (``solver.repair`` stays the module: a function of that name here would hide it.)
* ``evaluate_referral`` (``Referral``, ``ReferralParams``, ``Decision``): can we take it?
* ``capacity_view`` (``CapacityReport``): supply against demand.

Importing ``solver`` does not import ortools; the first solve does.
"""

from solver import repair
from solver.capacity import CapacityReport, capacity_view
from solver.greedy import greedy
from solver.objective import TERMS, ObjectiveTerm
from solver.params import Result, SolveParams, StopFlag, Weights
from solver.referral import Decision, Referral, ReferralParams, evaluate_referral
from solver.repair import RepairParams, RepairResult
from solver.rota import RotaBugError
from solver.solve import solve, solve_decomposed

__all__ = [
    "TERMS",
    "CapacityReport",
    "Decision",
    "ObjectiveTerm",
    "Referral",
    "ReferralParams",
    "RepairParams",
    "RepairResult",
    "Result",
    "RotaBugError",
    "SolveParams",
    "StopFlag",
    "Weights",
    "capacity_view",
    "evaluate_referral",
    "greedy",
    "repair",
    "solve",
    "solve_decomposed",
]
