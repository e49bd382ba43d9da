"""Monitoring indicators: the catalogue (config as data), the refresh's report and workbook."""
