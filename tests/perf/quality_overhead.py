"""How much of a Dagster run the data-quality check steps took (from Dagster's run storage).

    .venv/bin/python tests/perf/quality_overhead.py [RUN_ID]     # default: the latest run

Reads $DAGSTER_HOME (default data/dagster_home). Not a test: a measuring tool.
"""

import os
import sys
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / "data" / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(sys.argv[1]) if len(sys.argv) > 1 else instance.get_runs(limit=1)[0]
        steps = [(s.step_key, s.end_time - s.start_time) for s in instance.get_run_step_stats(run.run_id)
                 if s.end_time and s.start_time]
        stats = instance.get_run_stats(run.run_id)
    wall = stats.end_time - stats.start_time
    quality = [(k, d) for k, d in steps if k.startswith("quality_")]
    spent = sum(d for _, d in quality)
    print(f"run {run.run_id}: {wall:.1f} s in all; quality checks {spent:.1f} s in {len(quality)} steps, "
          f"{100 * spent / (wall - spent):.1f} % on top of the rest")
    for key, seconds in sorted(quality, key=lambda item: -item[1]):
        print(f"  {seconds:6.1f} s  {key}")


if __name__ == "__main__":
    main()
