"""One full refresh of a generated sample, for the integration modules (one per country profile)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

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


def run_dbt_unit_tests(warehouse: Path, profile_code: str, scratch: Path) -> tuple[set[str], dict[str, str]]:
    """Run the profile's dbt unit tests (a refresh leaves them out) on a copy of a refreshed
    warehouse, whose tables give dbt the inputs' columns: (the unit tests the profile's manifest
    holds, each one run's status)."""
    from assets.profiles import load_profile
    from assets.settings import DBT_PROJECT_DIR
    from orchestration.dbt import PARSE_STATE, dbt_executable, dbt_run_env, dbt_unit_test_args, manifest_target

    profile = load_profile(profile_code)
    copy, target = scratch / "unit_tests.duckdb", scratch / "dbt_target"
    shutil.copyfile(warehouse, copy)
    target.mkdir(parents=True, exist_ok=True)
    parsed = DBT_PROJECT_DIR / manifest_target(profile)
    shutil.copyfile(parsed / PARSE_STATE, target / PARSE_STATE)
    env = dict(os.environ, SIJIL_WAREHOUSE=str(copy), **dbt_run_env())
    done = subprocess.run([dbt_executable(), "--no-use-colors", *dbt_unit_test_args(profile),
                           "--target-path", str(target)], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    results = target / "run_results.json"
    assert results.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    statuses = {r["unique_id"]: r["status"] for r in json.loads(results.read_text(encoding="utf-8"))["results"]}
    manifest = json.loads((parsed / "manifest.json").read_text(encoding="utf-8"))
    return set(manifest.get("unit_tests", {})), statuses
