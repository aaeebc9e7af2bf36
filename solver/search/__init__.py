"""A fast local-search engine that improves any rota (see ``solver.search.engine``)."""

from solver.search.engine import SearchParams, SearchResult, improve

__all__ = ["SearchParams", "SearchResult", "improve"]
