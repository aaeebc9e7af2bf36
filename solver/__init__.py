"""solver: turns a frozen ``roster.Instance`` into a ``roster.Rota`` (CP-SAT, greedy, bounds).

Public API: ``solve``, ``SolveParams``, ``Weights``, ``Result``, ``greedy``. Importing ``solver``
does not import ortools; ``solve`` does.
"""

from solver.greedy import greedy
from solver.params import Result, SolveParams, Weights
from solver.solve import RotaBugError, solve

__all__ = ["RotaBugError", "Result", "SolveParams", "Weights", "greedy", "solve"]
