"""One full refresh of a generated sample, for the integration modules (one per country profile)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest


@contextmanager
def refreshed_sample(home, profile: str, persons: int, seed: int, as_of: dt.date = dt.date(2025, 12, 31)):
    """Generate `persons` of `profile` under `home`, run one full refresh with the profile active,
    and yield (result, settings); the environment is restored afterwards."""
    from assets.synthetic import generate

    sample = home / "sample"
    generate(profile, persons, seed, sample, as_of=as_of)
    mp = pytest.MonkeyPatch()
    mp.setenv("SIJIL_PROFILE", profile)
    mp.setenv("SIJIL_HOME", str(home))
    mp.setenv("SIJIL_INBOX", str(sample / "inbox"))
    mp.setenv("SIJIL_TRUTH", str(sample / "truth"))
    mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    try:
        from assets.settings import get_settings
        from orchestration.refresh import run_refresh

        result = run_refresh()
        yield result, get_settings()
    finally:
        mp.undo()


@pytest.fixture()
def con(refreshed):
    """The refreshed build's engineering warehouse, read-only (uses the module's `refreshed`)."""
    import duckdb

    result, _ = refreshed
    with duckdb.connect(str(result.warehouse), read_only=True) as c:
        yield c
