"""The DuckDB warehouse resource: one place that opens the warehouse file."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from assets.settings import get_settings

LAYER_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "linkage", "core", "monitoring", "audit")


class Warehouse(dg.ConfigurableResource):
    """The embedded DuckDB warehouse. `path` defaults to SIJIL_WAREHOUSE (read at run time)."""

    path: str | None = None

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else get_settings().warehouse

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.resolved_path()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only,
                             config={"memory_limit": get_settings().duckdb_memory_limit})
        try:
            if not read_only:
                for schema in LAYER_SCHEMAS:
                    con.execute(f"create schema if not exists {schema}")
            yield con
        finally:
            con.close()
