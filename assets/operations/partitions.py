"""The monthly partitions every month-grained asset shares (payments now, indicators next):
one definition, so a backfill of a month covers all of them alike."""

import dagster as dg

from assets.operations.config import load_operations_config


def monthly_partitions() -> dg.MonthlyPartitionsDefinition:
    """Months from partitions.monthly_start (config/operations.yaml) up to and including the
    current one, in the schedule's time zone (a payment at 23:30 on the last day is that month's)."""
    config = load_operations_config()
    return dg.MonthlyPartitionsDefinition(start_date=config.monthly_start, timezone=config.timezone, end_offset=1)


def run_months(window: dg.TimeWindow) -> tuple[str, str]:
    """The months a run of monthly models builds, [first, end) as ISO dates."""
    return window.start.date().isoformat(), window.end.date().isoformat()
