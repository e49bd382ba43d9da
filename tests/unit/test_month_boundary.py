"""Reliability #26, ingestion's side: a date column may hold a timestamp (local, with an offset,
or UTC); it loads (staging dates it in the profile's time zone — the dbt unit test
payment_times_are_dated_in_the_profiles_time_zone), and a timestamp that is no time is refused."""

from __future__ import annotations

import pandas as pd

from assets.ingestion.validate import is_timestamp, validate_chunk
from assets.profiles import load_profile, parse_source_contract

ENTITY = parse_source_contract({
    "source": "demo", "entities": {"payments": {
        "file_pattern": "p_*.csv", "primary_key": ["payment_id"],
        "columns": {"payment_id": {"source": "ID", "required": True},
                    "paid_on": {"source": "PAID", "type": "date", "required": True}}}}}).entities[0]
FORMATS = list(load_profile("jordan").date_formats)


def test_timestamps_in_a_date_column_load_and_impossible_ones_are_quarantined():
    values = ["2025-01-31 23:30", "2025-01-31T23:30:00+03:00", "2025-01-31T20:30:00Z", "2025-01-31T21:30:00.250Z",
              "٢٠٢٥-٠١-٣١ ٢٣:٣٠", "31/01/2025", "2025-01-31T25:99", "2025-02-30 10:00", "2025-01-31 23:30 +3 hours"]
    frame = pd.DataFrame({"payment_id": [f"P{i}" for i in range(len(values))], "paid_on": values}, dtype="string")
    reason, detail = validate_chunk(frame, ENTITY, FORMATS, set())
    assert reason.where(reason.notna(), None).tolist() == [None] * 6 + ["invalid_type"] * 3
    assert detail.dropna().unique().tolist() == ["paid_on: not a valid date"]


def test_is_timestamp_needs_a_time_of_day():
    assert is_timestamp(pd.Series(["2025-01-31", "2025-01-31T00:00", None, ""], dtype="string")).tolist() == \
        [False, True, False, False]
