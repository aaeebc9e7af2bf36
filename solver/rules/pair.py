"""R1 vetting, R2 training, R3 family wishes, R5 availability, R7 overnight, R8 driving: every encoding the solver uses, side by side.

Checker function it must agree with: roster.rules.r1_vetting, r2_training, r3_family_wishes, r5_availability, r7_overnight, r8_driving; the pair mask is roster.eligibility.compute_eligibility.
"""

from __future__ import annotations

# ---- route check (the local-search engine and the greedy: a carer's ordered visits)

# ---- CP-SAT encoding (the whole model, the coverage master, bounds)

# No builder of its own: the whole model, the coverage master and the bounds have a variable only
# for a pair these rules allow (``roster.eligibility``'s mask), its start held to the pair's
# allowed ranges (``solver.candidates.candidate_pairs``, ``solver.rules.staffing.add_staffing``).
