"""solver: turns a frozen ``roster.Instance`` into a ``roster.Rota`` (CP-SAT, greedy, bounds)."""
