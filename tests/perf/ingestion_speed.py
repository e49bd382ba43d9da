"""Ingestion alone, per source: rows, wall and CPU seconds, rows per second, quarantine reasons.

    .venv/bin/python tests/perf/ingestion_speed.py INBOX SCRATCH.duckdb [source,source,...]

Loads every source of the Jordan profile found in INBOX (for example a kept benchmark sample's
`sample/inbox`, read only) into a scratch warehouse that is replaced. CPU time is the process's,
DuckDB's threads included. Not a test: a measuring tool.
"""

import resource
import sys
import time
import uuid
from pathlib import Path

import duckdb

from assets.ingestion.load import ingest_source
from assets.profiles import load_profile


def main() -> None:
    inbox, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    only = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else None
    profile = load_profile("jordan")
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"create schema {schema}")
    wall0, cpu0, total = time.perf_counter(), time.process_time(), 0
    for contract in profile.sources:
        if only and contract.source not in only:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        report = ingest_source(con, contract, inbox, list(profile.date_formats), str(uuid.uuid4()), "ingestion_speed")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows = sum(f.rows_received for f in report.files)
        total += rows
        reasons = {k: v for entity in report.quarantine_reasons.values() for k, v in entity.items()}
        print(f"{contract.source:20s} {rows:10,d} rows  wall {wall:6.1f} s  cpu {cpu:6.1f} s  "
              f"{rows / wall:9,.0f} rows/s wall  {rows / max(cpu, 1e-9):9,.0f} rows/s cpu  {reasons}", flush=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"{'all':20s} {total:10,d} rows  wall {wall:6.1f} s  cpu {cpu:6.1f} s  {total / wall:9,.0f} rows/s wall  "
          f"{total / max(cpu, 1e-9):9,.0f} rows/s cpu  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
