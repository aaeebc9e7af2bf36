"""R15 rest break: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.locate_r15.
"""

from __future__ import annotations

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

# ---- CP-SAT encoding (the whole model, the coverage master, bounds)
