"""Wiring only: Dagster definitions, dbt assets, automation and the `sijil` command line."""
