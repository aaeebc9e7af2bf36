"""Shared pytest configuration. Fixtures for one package live in that package's test folder."""

from __future__ import annotations

import os

# Tests never reach the network: geocoding online is opt-in and never used here.
os.environ.setdefault("ROSTER_OFFLINE", "1")
