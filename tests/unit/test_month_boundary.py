"""Reliability #26, ingestion's side: a date column may hold a timestamp (local, with an offset,
or UTC); it loads (staging dates it in the profile's time zone — the dbt unit test
payment_times_are_dated_in_the_profiles_time_zone), and a timestamp that is no time is refused."""

from __future__ import annotations

import duckdb

from assets.ingestion.load import ingest_source
from assets.ingestion.validate import lit, normalised, valid_timestamp
from assets.profiles import load_profile, parse_source_contract

CONTRACT = parse_source_contract({
    "source": "demo", "entities": {"payments": {
        "file_pattern": "p_*.csv", "format": "csv", "primary_key": ["payment_id"],
        "columns": {"payment_id": {"source": "ID", "required": True},
                    "paid_on": {"source": "PAID", "type": "date", "required": True}}}}})
FORMATS = list(load_profile("jordan").date_formats)


def test_timestamps_in_a_date_column_load_and_impossible_ones_are_quarantined(tmp_path):
    values = ["2025-01-31 23:30", "2025-01-31T23:30:00+03:00", "2025-01-31T20:30:00Z", "2025-01-31T21:30:00.250Z",
              "٢٠٢٥-٠١-٣١ ٢٣:٣٠", "31/01/2025", "2025-01-31T25:99", "2025-02-30 10:00", "2025-01-31 23:30 +3 hours"]
    folder = tmp_path / "inbox" / "demo"
    folder.mkdir(parents=True)
    rows = "".join(f"P{i},{v}\n" for i, v in enumerate(values))
    (folder / "p_1.csv").write_text("ID,PAID\n" + rows, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"create schema if not exists {schema}")
    ingest_source(con, CONTRACT, tmp_path / "inbox", FORMATS, load_id="L1", run_id="R1")
    loaded = sorted(r[0] for r in con.execute("select payment_id from raw.demo__payments").fetchall())
    assert loaded == [f"P{i}" for i in range(6)]
    refused = con.execute("select payment_id, _reason, _detail from quarantine.demo__payments "
                          "order by payment_id").fetchall()
    assert [r[0] for r in refused] == ["P6", "P7", "P8"]
    assert {(r[1], r[2]) for r in refused} == {("invalid_type", "paid_on: not a valid date")}


def test_a_timestamp_needs_a_time_of_day():
    def ok(value):
        return duckdb.execute(f"select {valid_timestamp(normalised(lit(value)))}").fetchone()[0]
    assert [ok(v) for v in ["2025-01-31", "2025-01-31T00:00", ""]] == [False, True, False]
