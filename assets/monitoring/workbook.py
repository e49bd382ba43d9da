"""The Excel workbook of the published indicator tables. A text cell that a spreadsheet would
read as a formula (starting with = + - @, a tab or a carriage return) is prefixed with '."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from assets.monitoring.published import Published
from assets.text.spreadsheet import neutralise

SHEETS = (("Scorecard", "scorecard"), ("Indicators", "catalogue"), ("Values", "values"), ("Targets", "targets"))


def write_workbook(published: Published, path: Path) -> dict[str, int]:
    """Write one sheet per published table; returns rows per sheet."""
    import xlsxwriter

    rows = {}
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "nan_inf_to_errors": False})
    try:
        header = workbook.add_format({"bold": True, "bg_color": "#dde7f0"})
        dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for name, attribute in SHEETS:
            frame: pd.DataFrame = getattr(published, attribute)
            sheet = workbook.add_worksheet(name)
            for c, column in enumerate(frame.columns):
                sheet.write_string(0, c, neutralise(str(column)), header)
            for r, record in enumerate(frame.itertuples(index=False), start=1):
                for c, value in enumerate(record):
                    _write(sheet, r, c, value, dates)
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
            rows[name] = len(frame)
    finally:
        workbook.close()
    return rows


def _write(sheet, r: int, c: int, value, dates) -> None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(r, c, None)
    elif isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(r, c, bool(value))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        sheet.write_number(r, c, float(value))
    elif isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        sheet.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), dates)
    else:
        sheet.write_string(r, c, neutralise(str(value)))
