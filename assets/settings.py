"""Every setting Sijil reads from the environment, in one place, read at run time.

Call :func:`get_settings` inside an asset, resource or command, never at import time.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
# The profile used when SIJIL_PROFILE is not set: the one place code names a country.
DEFAULT_PROFILE = "jordan"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# What one DuckDB connection to the warehouse may hold in memory before it spills to disk
# (dbt's connections and the Python assets' alike); DuckDB's own default is 80 % of the machine.
# Ingestion and linkage set tighter limits of their own (assets/ingestion/load.py, config/linkage.yaml).
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"


def profiles_dir() -> Path:
    """Where country profiles live: SIJIL_PROFILES_DIR (read now), else config/profiles/."""
    return Path(os.environ.get("SIJIL_PROFILES_DIR") or CONFIG_DIR / "profiles").resolve()


@dataclass(frozen=True)
class Settings:
    """Where Sijil's data lives and which country profile it runs."""

    profile: str
    home: Path
    inbox: Path
    truth: Path
    warehouse: Path  # the file this run's assets write (a build, or a working copy for UI runs)
    published_warehouse: Path  # the engineering warehouse a checked refresh publishes
    mode: str  # "sample" or "production"
    reference_date: dt.date  # the date ages and plausible birth dates are reckoned at (default: today)
    operations_config: Path = CONFIG_DIR / "operations.yaml"  # schedule, sensors, retries, alerts, audit log
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT  # per warehouse connection, DuckDB's syntax ("4GB")

    @property
    def is_production(self) -> bool:
        return self.mode == "production"


def get_settings() -> Settings:
    """Read SIJIL_* environment variables (defaults suit the sample run)."""
    home = Path(os.environ.get("SIJIL_HOME", REPO_ROOT / "data")).resolve()
    sample = home / "sample"
    return Settings(
        profile=os.environ.get("SIJIL_PROFILE", DEFAULT_PROFILE),
        home=home,
        inbox=Path(os.environ.get("SIJIL_INBOX", sample / "inbox")).resolve(),
        truth=Path(os.environ.get("SIJIL_TRUTH", sample / "truth")).resolve(),
        warehouse=Path(os.environ.get("SIJIL_WAREHOUSE", home / "warehouse" / "work" / "dagster.duckdb")).resolve(),
        published_warehouse=Path(os.environ.get("SIJIL_PUBLISHED_WAREHOUSE",
                                                home / "warehouse" / "sijil.duckdb")).resolve(),
        mode=os.environ.get("SIJIL_MODE", "sample"),
        reference_date=_reference_date(os.environ.get("SIJIL_REFERENCE_DATE")),
        operations_config=Path(os.environ.get("SIJIL_OPERATIONS_CONFIG", CONFIG_DIR / "operations.yaml")).resolve(),
        duckdb_memory_limit=os.environ.get("SIJIL_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
    )


def _reference_date(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        from assets.errors import SijilError

        raise SijilError(f"SIJIL_REFERENCE_DATE={text!r} is not a date (YYYY-MM-DD)") from None
