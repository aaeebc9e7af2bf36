"""Mutation check of the rule homes' CP-SAT encodings (issue 18): each mutant drops one clause
of an encoding, and tests/solver/test_rule_homes.py's CP-SAT tests must then fail.

    .venv/bin/python scripts/mutants.py            # every mutant below, one pytest run each

Prints, per mutant, the clause dropped and the tests that failed ("SURVIVED" when none did).
The mutant is made in the test process only (``scripts/mutant_plugin.py``): no file changes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = "whole_model or encoding_refuses or relaxation or cp_sat or edge"

MUTANTS = (
    "solver.rules.hours:add_weekly_hours:m.add(total <= cm.limits.max_week_min)",
    "solver.rules.daily_rest:add_daily_rest:- dj <= span",
    "solver.rules.weekly_rest:add_weekly_rest:m.add_no_overlap(",
    "solver.rules.young:add_young_worker_days:m.add(",
    "solver.rules.breaks:add_runs:m.add(work[j] <= limit)",
    "solver.rules.journey:add_sequencing:m.add(start[j] >= start[i] + dur[ii] + t).only_enforce_if([xi, xj])",
    "solver.rules.journey:add_sequencing:m.add_bool_or([xi.negated(), xj.negated()])",
    "solver.rules.daily_rest:add_carer_duties:m.add(start[j] + dur[j] - dj <= span)",
    "solver.rules.breaks:add_carer_breaks:m.add(start[j] >= start[i] + dur[i] + need)",
)


def main() -> int:
    survived = 0
    for spec in MUTANTS:
        env = dict(os.environ, MUTANT=spec,
                   PYTHONPATH=os.pathsep.join([str(REPO / "scripts"), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "mutant_plugin",
             "tests/solver/test_rule_homes.py", "-k", TESTS],
            cwd=REPO, env=env, capture_output=True, text=True,
        ).stdout
        failed = re.findall(r"^FAILED (.+?\])(?: - |$)", out, flags=re.M)
        print(f"{spec}")
        for name in failed:
            print(f"    fails {name.split('::', 1)[1]}")
        if not failed:
            print("    SURVIVED" if "passed" in out else "    ERROR\n" + out[-2000:])
            survived += 1
    print(f"{len(MUTANTS) - survived} of {len(MUTANTS)} mutants killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
