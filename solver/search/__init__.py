"""A fast local-search engine that improves any rota (see ``solver.search.engine``)."""

from solver.search._cache import refresh

refresh()  # before the kernel's cached machine code is loaded

from solver.search.engine import SearchParams, SearchResult, improve  # noqa: E402

__all__ = ["SearchParams", "SearchResult", "improve"]
