"""The monthly partitions every month-grained asset shares (payments now, indicators next):
one definition, so a backfill of a month covers all of them alike."""

import dagster as dg

from assets.operations.config import load_operations_config


def monthly_partitions() -> dg.MonthlyPartitionsDefinition:
    """Months from partitions.monthly_start (config/operations.yaml) up to and including the
    current one, in the schedule's time zone (a payment at 23:30 on the last day is that month's)."""
    config = load_operations_config()
    return dg.MonthlyPartitionsDefinition(start_date=config.monthly_start, timezone=config.timezone, end_offset=1)


def dbt_month_vars(window: dg.TimeWindow) -> dict[str, str]:
    """The dbt vars of a run of monthly models: the months [min_period_month, max_period_month)."""
    return {"min_period_month": window.start.date().isoformat(), "max_period_month": window.end.date().isoformat()}
