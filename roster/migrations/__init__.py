"""Alembic migrations of the rota store (``roster.store``). ``Store.open`` upgrades to head."""
