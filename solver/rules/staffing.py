"""R4 timing: start within [planned - flex, planned + flex], end = start + duration, both carers of a 2:1 start together, two different carers: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.r4_timing.
"""

from __future__ import annotations

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

# ---- CP-SAT encoding (the whole model, the coverage master, bounds)
