"""Data quality: the per-run trust report, the Great Expectations suites (built from the source
contracts and config/quality.yaml) and the factory that makes them Dagster asset checks."""
