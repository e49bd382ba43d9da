"""One full refresh of a generated sample, for the integration modules (one per country profile)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append rows to an agency's CSV in its own encoding, column order and line endings."""
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    newline = "\r\n" if b"\r\n" in raw else "\n"
    header = raw.decode(encoding).splitlines()[0].split(",")
    text = raw.decode(encoding)
    if not text.endswith(("\n", "\r")):
        text += newline
    for row in rows:
        text += ",".join(str(row.get(column, "")) for column in header) + newline
    path.write_bytes(text.encode("utf-8-sig" if encoding == "utf-8-sig" else "utf-8"))


def first_row(path: Path) -> dict:
    """The first data row of an agency's CSV, every value as text."""
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=1).iloc[0].to_dict()


@contextmanager
def refreshed_sample(home, profile: str, persons: int, seed: int, as_of: dt.date = dt.date(2025, 12, 31),
                     edit_inbox: Callable[[Path], None] | None = None):
    """Generate `persons` of `profile` under `home` (then `edit_inbox(inbox)`, when given), run one
    full refresh with the profile active, and yield (result, settings); the environment is
    restored afterwards."""
    from assets.synthetic import generate

    sample = home / "sample"
    generate(profile, persons, seed, sample, as_of=as_of)
    if edit_inbox is not None:
        edit_inbox(sample / "inbox")
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
