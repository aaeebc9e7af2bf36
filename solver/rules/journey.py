"""R6 no double booking, R9 mileage cap, R13 travel origin: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.r6_no_double_booking, r9_mileage_cap, locate_r13.
"""

from __future__ import annotations

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

# ---- CP-SAT encoding (the whole model, the coverage master, bounds)
