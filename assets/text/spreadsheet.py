"""Text bound for a spreadsheet: a cell that Excel or LibreOffice would read as a formula
(starting with = + - @, a tab or a carriage return) is prefixed with ' so it shows as text and
never runs. Names and free text come from agencies' exports and may hold anything."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text that cannot run as a formula when the file is opened."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are neutralised (numbers, dates and nulls unchanged)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return out
