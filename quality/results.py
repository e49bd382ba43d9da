"""audit.expectation_results: one row per expectation per run, counts only (never values)."""

from __future__ import annotations

import datetime as dt

from quality.validate import Outcome

RESULTS_DDL = """
create table if not exists audit.expectation_results (
    run_id varchar, asset varchar, suite varchar, source varchar, expectation varchar, rule varchar,
    "column" varchar, dimension varchar, success boolean, observed_value double, unexpected_count bigint,
    element_count bigint, severity varchar, evaluated_at timestamp
)"""


def record_outcomes(con, run_id: str, asset: str, suite: str, source: str | None, severity: str,
                    outcomes: list[Outcome], evaluated_at: dt.datetime | None = None) -> None:
    """Append a suite's outcomes for this run."""
    when = evaluated_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    con.execute("create schema if not exists audit")
    con.execute(RESULTS_DDL)
    con.executemany("insert into audit.expectation_results values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
        [run_id, asset, suite, source, o.expectation, o.rule, o.column, o.dimension, o.success, o.observed_value,
         o.unexpected_count, o.element_count, severity, when] for o in outcomes])
