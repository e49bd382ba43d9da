"""What a linkage run may use of the machine (DuckDB threads and memory, from
config/linkage.yaml's `duckdb`), and where its time goes (wall seconds per phase)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb


def work_connection(config: dict) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for Splink's work tables, bounded by config's `duckdb`
    section: memory_limit (beyond it DuckDB spills to the system's temporary directory), threads (absent or
    null: DuckDB's default, every core) and preserve_insertion_order (false lets large
    joins and sorts stream instead of buffering)."""
    limits = config.get("duckdb") or {}
    con = duckdb.connect()
    # Spilled pages go to the system's temporary directory, not to the directory the run started in.
    con.execute("set temp_directory = ?", [str(Path(tempfile.gettempdir()) / "sijil_linkage_spill")])
    if limits.get("memory_limit"):
        con.execute("set memory_limit = ?", [str(limits["memory_limit"])])
    if limits.get("threads"):
        con.execute(f"set threads = {int(limits['threads'])}")
    if "preserve_insertion_order" in limits:
        con.execute(f"set preserve_insertion_order = {str(bool(limits['preserve_insertion_order'])).lower()}")
    return con


class PhaseClock:
    """Wall and CPU seconds of each named phase of a run, in order: `lap(name)` closes the phase
    that began at the previous lap (or at creation). CPU counts every thread of this process
    (DuckDB's too): on a shared machine it is the steadier measure."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self._last, self._last_cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._last, 3)
        self.cpu_seconds[name] = round(self.cpu_seconds.get(name, 0.0) + cpu - self._last_cpu, 3)
        self._last, self._last_cpu = now, cpu
