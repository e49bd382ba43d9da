"""Monitoring indicators: the catalogue (config as data), the refresh's report and workbook."""

from assets.monitoring.assets import build_monitoring_assets

__all__ = ["build_monitoring_assets"]
