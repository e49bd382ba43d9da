"""Data quality: the per-run trust report and the checks built on it."""
