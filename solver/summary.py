"""The objective of any rota, for the summary.json of tools that do not run the full solve.

Repair and referral re-solve only part of the week; their rota still needs the contract's
``objective`` in summary.json (CONTRACT.md §2), computed the same way as ``solver.solve``'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from roster.model import Instance, Rota
from solver.objective import objective_of, rota_terms
from solver.params import SolveParams


def with_objective(instance: Instance, rota: Rota, params: SolveParams | None = None) -> Rota:
    """``rota`` with ``objective`` and per-term ``terms`` filled in its summary when missing."""
    if rota.summary.get("objective") is not None:
        return rota
    params = params or SolveParams()
    terms = rota_terms(instance, rota, params)
    summary: dict[str, Any] = dict(rota.summary)
    summary["objective"] = round(objective_of(terms, params.weights), 4)
    summary.setdefault("terms", {k: round(v, 4) for k, v in terms.items()})
    return replace(rota, summary=summary)
