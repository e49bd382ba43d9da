"""Row rules from a source contract, applied to whole columns of a chunk at once.

Each rule yields a boolean mask of failing rows; a row's reason is the first failing rule in
REASONS order, and its detail names the column and the rule — never the value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from assets.profiles import ColumnContract, EntityContract

REASONS = ("encoding_mojibake", "missing_required", "invalid_type", "value_not_allowed", "out_of_range", "duplicate_key")
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# UTF-8 Arabic (lead bytes D8–DB) or accented Latin (C3) read as Latin-1 / Windows-1252.
MOJIBAKE = re.compile("[ØÙÚÛÃ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
TRUE = {"1", "true", "yes", "y", "t", "نعم"}
FALSE = {"0", "false", "no", "n", "f", "لا"}
_INTEGER = r"[+-]?\d+"
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
# An ISO 8601 timestamp, local or with an offset; staging dates it in the profile's time zone.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"


def normalise_digits(values: pd.Series) -> pd.Series:
    return values.str.translate(DIGITS).str.strip()


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    """The first format (in the profile's order) under which each value is a real date."""
    text = normalise_digits(values)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    for fmt in formats:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[s]")
    return parsed


def is_timestamp(values: pd.Series) -> pd.Series:
    """Values that are real ISO 8601 timestamps (a time of day, optionally a zone offset)."""
    text = normalise_digits(values)
    shaped = text.str.fullmatch(_TIMESTAMP).fillna(False)
    ok = pd.Series(False, index=values.index)
    if shaped.any():
        ok[shaped] = pd.to_datetime(text[shaped], format="ISO8601", utc=True, errors="coerce").notna()
    return ok


def _type_ok(col: ColumnContract, text: pd.Series, date_formats: list[str]) -> pd.Series:
    t = normalise_digits(text)
    if col.type == "integer":
        return t.str.fullmatch(_INTEGER).fillna(False)
    if col.type == "decimal":
        return t.str.fullmatch(_DECIMAL).fillna(False)
    if col.type == "month":
        return t.str.fullmatch(_MONTH).fillna(False)
    if col.type == "boolean":
        return t.str.lower().isin(TRUE | FALSE)
    if col.type == "date":
        return parse_dates(text, date_formats).notna() | is_timestamp(text)
    return pd.Series(True, index=text.index)


def _range_ok(col: ColumnContract, text: pd.Series) -> pd.Series:
    values = pd.to_numeric(normalise_digits(text), errors="coerce")
    ok = pd.Series(True, index=text.index)
    if col.min is not None:
        ok &= ~(values < col.min)
    if col.max is not None:
        ok &= ~(values > col.max)
    return ok


def validate_chunk(frame: pd.DataFrame, entity: EntityContract, date_formats: list[str],
                   seen_keys: set) -> tuple[pd.Series, pd.Series]:
    """(reason, detail) per row: None for a good row. `seen_keys` carries keys across chunks."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    detail = pd.Series(None, index=frame.index, dtype=object)

    def mark(mask: pd.Series, code: str, text: str) -> None:
        hit = mask.fillna(False).astype(bool) & reason.isna()
        reason[hit] = code
        detail[hit] = text

    present = {c.name: frame[c.name].notna() & (frame[c.name].str.strip() != "") for c in entity.columns}
    for c in entity.columns:
        if present[c.name].any():
            mark(present[c.name] & frame[c.name].str.contains(MOJIBAKE, na=False), "encoding_mojibake",
                 f"{c.name}: garbled text (UTF-8 read as Latin-1)")
    for c in entity.columns:
        if c.required:
            mark(~present[c.name], "missing_required", f"{c.name}: required value is empty")
    for c in entity.columns:
        if c.on_invalid != "quarantine":
            continue
        has = present[c.name]
        if c.type != "string":
            mark(has & ~_type_ok(c, frame[c.name], date_formats), "invalid_type", f"{c.name}: not a valid {c.type}")
        if c.values:
            allowed = {v.casefold() for v in c.values}
            mark(has & ~frame[c.name].str.strip().str.casefold().isin(allowed), "value_not_allowed",
                 f"{c.name}: not one of the contract's values")
        if c.min is not None or c.max is not None:
            mark(has & ~_range_ok(c, frame[c.name]), "out_of_range", f"{c.name}: outside [{c.min}, {c.max}]")
    if entity.primary_key:
        key = frame[list(entity.primary_key)].astype(str).agg("\x1f".join, axis=1) if len(entity.primary_key) > 1 \
            else frame[entity.primary_key[0]].astype(str)
        candidates = reason.isna()
        dup_in_chunk = key.where(candidates).duplicated(keep="first") & candidates
        dup_before = key.isin(seen_keys)
        mark(candidates & (dup_in_chunk | dup_before), "duplicate_key",
             f"{'+'.join(entity.primary_key)}: key already loaded from an earlier row")
        seen_keys.update(key[reason.isna()].tolist())
    return reason, detail


def control_amounts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The parseable amounts of a control-total column (unparseable count as 0)."""
    return pd.to_numeric(normalise_digits(frame[column]), errors="coerce").fillna(0).to_numpy()
