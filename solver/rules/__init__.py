"""One home per hard rule on the solver side: a module per rule family (see each docstring).

Each module holds every encoding of its rules that the solver uses — the pair mask, the route
check that the local-search engine (``solver.search``) and the greedy call, the CP-SAT encoding,
and any relaxation for a master or a bound — and names the ``roster.rules`` function it must agree
with. ``tests/solver/test_rule_homes.py`` checks each encoding against the checker.
"""
