"""The shape of the house (STYLE.md): the domain package never pulls in the solver or the web stack."""

from __future__ import annotations

import subprocess
import sys


def test_importing_roster_imports_neither_ortools_nor_streamlit():
    code = (
        "import sys, roster, roster.model, roster.calendar, roster.travel;"
        "bad = [m for m in ('ortools', 'streamlit', 'pulp') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_roster_cli_help_lists_the_core_commands():
    out = subprocess.run(
        [sys.executable, "-m", "roster.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("validate", "generate", "check"):
        assert command in out.stdout
