"""Ingestion: decoding, every kind of bad row, reconciliation, atomic swaps, the asset."""

from __future__ import annotations

import codecs
import dataclasses

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.errors import SijilError
from assets.ingestion import build_ingestion_assets
from assets.ingestion.decode import detect_encoding
from assets.ingestion.load import ingest_source
from assets.ingestion.reference import REFERENCE_TABLES
from assets.profiles import load_profile, parse_source_contract
from assets.warehouse import Warehouse

PROFILE = load_profile("jordan")
FORMATS = list(PROFILE.date_formats)
CONTRACT = parse_source_contract({
    "source": "demo", "severity": "critical",
    "entities": {"payments": {
        "file_pattern": "pay_*.csv", "format": "csv", "primary_key": ["payment_id"], "control_total": "amount",
        "columns": {
            "payment_id": {"source": "ID", "required": True},
            "name": {"source": "الاسم", "pii": "direct"},
            "amount": {"source": "AMOUNT", "type": "decimal", "required": True, "min": 0.01, "max": 500},
            "paid_on": {"source": "PAID", "type": "date", "required": True},
            "status": {"source": "STATUS", "values": ["paid", "failed"]},
        }}},
})
HEADER = "ID,الاسم,AMOUNT,PAID,STATUS"


def _inbox(tmp_path, text: str | bytes, name="pay_1.csv", encoding="utf-8"):
    folder = tmp_path / "inbox" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    data = text if isinstance(text, bytes) else text.encode(encoding)
    (folder / name).write_bytes(data)
    return tmp_path / "inbox"


def _ingest(tmp_path, inbox, contract=CONTRACT):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"create schema if not exists {schema}")
    report = ingest_source(con, contract, inbox, FORMATS, load_id="L1", run_id="R1")
    return con, report


GOOD = f"{HEADER}\nP1,محمد أحمد,45.00,2024-01-05,paid\nP2,فاطمة,100,05/02/2024,paid\n"


@pytest.mark.parametrize("encoding, prefix", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""), ("cp1256", b"")])
def test_each_encoding_is_detected_and_arabic_round_trips(tmp_path, encoding, prefix):
    inbox = _inbox(tmp_path, prefix + GOOD.replace("\n", "\r\n").encode(encoding))
    assert detect_encoding(inbox / "demo" / "pay_1.csv") in {"utf-8": {"utf-8", "utf-8-sig"}, "utf-16": {"utf-16"},
                                                            "cp1256": {"cp1256"}}[encoding]
    con, report = _ingest(tmp_path, inbox)
    names = [r[0] for r in con.execute('select name from raw."demo__payments" order by _line_number').fetchall()]
    assert names == ["محمد أحمد", "فاطمة"]
    assert report.files[0].rows_loaded == 2 and report.files[0].rows_lost == 0


def test_a_latin_script_file_in_windows_1252_is_detected_but_not_arabic_mojibake(tmp_path):
    """Windows-1252 (Latin-script lists: 'José Müller') is read when the text has no Arabic letter
    and its other characters are Latin letters within words; text that is neither stays an error."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("ID,NAME\r\n1,José Müller\r\n2,François Lefèvre – Straße\r\n".encode("cp1252"))
    assert detect_encoding(latin) == "cp1252"
    assert latin.read_text(encoding=detect_encoding(latin)).splitlines()[1] == "1,José Müller"
    noise = tmp_path / "noise.csv"
    noise.write_bytes(b"ID,NAME\r\n1,\xbe\xbc\xbd\xd7\r\n")  # characters of Windows-1252, but no words
    with pytest.raises(SijilError, match="noise.csv"):
        detect_encoding(noise)


def test_undecodable_file_is_an_error_naming_it(tmp_path):
    inbox = _inbox(tmp_path, b"ID,AMOUNT\n\x81\x8d\x8f\x90\x9d\x00\xff\n")
    with pytest.raises(SijilError, match="pay_1.csv"):
        _ingest(tmp_path, inbox)


def test_each_kind_of_bad_row_is_quarantined_with_reason_and_line(tmp_path):
    text = (f"{HEADER}\n"
            "P1,a,45,2024-01-05,paid\n"            # 2 good
            "P2,b,,2024-01-05,paid\n"              # 3 missing_required
            "P3,c,abc,2024-01-05,paid\n"           # 4 invalid_type
            "P4,d,45,2023-02-30,paid\n"            # 5 invalid_type (impossible date)
            "P5,e,45,2024-01-05,lost\n"            # 6 value_not_allowed
            "P6,f,-45,2024-01-05,paid\n"           # 7 out_of_range
            "P1,g,45,2024-01-05,paid\n"            # 8 duplicate_key
            "P7,h,45,2024-01-05,paid,extra\n"      # 9 malformed (too many fields)
            "P8,Ø£Ø­Ù…Ø¯,45,2024-01-05,paid\n"     # 10 mojibake
            "P9,\"unterminated,45,2024-01-05,paid\n")  # 11 unterminated quote, last line
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    rows = dict(con.execute('select _line_number, _reason from quarantine."demo__payments"').fetchall())
    assert rows == {3: "missing_required", 4: "invalid_type", 5: "invalid_type", 6: "value_not_allowed",
                    7: "out_of_range", 8: "duplicate_key", 9: "malformed_row", 10: "encoding_mojibake", 11: "malformed_row"}
    details = con.execute('select _detail from quarantine."demo__payments"').fetchall()
    assert not any("Ø" in d[0] or "unterminated," in d[0] for d in details)  # details name rules, not values
    f = report.files[0]
    assert (f.rows_received, f.rows_loaded, f.rows_quarantined, f.rows_lost) == (10, 1, 9, 0)


@pytest.mark.parametrize("chunk_rows", [3, 4, 50_000])
def test_line_numbers_hold_across_blocks_and_quoted_fields_spanning_lines(tmp_path, monkeypatch, chunk_rows):
    import assets.ingestion.read as read

    monkeypatch.setattr(read, "CHUNK_ROWS", chunk_rows)  # small: whole-record blocks first, then record by record
    text = (f"{HEADER}\n"
            "P1,a,45,2024-01-05,paid\n"              # 2
            "\n"                                      # 3 blank
            "P2,b,46,2024-01-05,paid\n"              # 4
            "P3,\"x\"y,47,2024-01-05,paid\n"          # 5 a quote inside an unquoted field: unparseable
            "P4,\"two\nlines\",48,2024-01-05,paid\n"  # 6-7 one record over two lines
            "P5,e,49,2024-01-05,paid,extra\n"        # 8 ragged
            "P6,f,50,2024-01-05,paid\n")             # 9
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    loaded = con.execute('select _line_number, name from raw."demo__payments" order by 1').fetchall()
    assert loaded == [(2, "a"), (4, "b"), (6, "two\nlines"), (9, "f")]
    rejected = dict(con.execute('select _line_number, _reason from quarantine."demo__payments"').fetchall())
    assert rejected == {5: "malformed_row", 8: "malformed_row"}
    assert (report.files[0].rows_received, report.files[0].rows_lost) == (6, 0)


def test_bad_last_line_does_not_swallow_the_file(tmp_path):
    text = f"{HEADER}\n" + "".join(f"P{i},n,10,2024-01-05,paid\n" for i in range(50)) + "PX,n,10,2024-01-05,paid,5th\n"
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    assert report.files[0].rows_loaded == 50 and report.files[0].rows_quarantined == 1


def test_control_totals_reconcile(tmp_path):
    text = f"{HEADER}\nP1,a,45.5,2024-01-05,paid\nP2,b,-10,2024-01-05,paid\nP3,c,100,2024-01-05,paid\n"
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    f = report.files[0]
    assert f.control_received == pytest.approx(135.5)
    assert f.control_loaded == pytest.approx(145.5) and f.control_quarantined == pytest.approx(-10)
    ledger = con.execute("select rows_received, rows_loaded, rows_quarantined, rows_lost, control_total_received "
                         "from audit.ingestion_ledger").fetchall()
    assert ledger == [(3, 2, 1, 0, pytest.approx(135.5))]


@pytest.mark.parametrize("header, problem", [
    ("ID,الاسم,AMOUNT,PAID", "missing columns STATUS"),
    ("ID,الاسم,AMOUNT_JOD,PAID,STATUS", "unexpected columns AMOUNT_JOD"),
    (f"{HEADER},NEW", "unexpected columns NEW"),
])
def test_schema_drift_fails_and_keeps_the_previous_tables(tmp_path, header, problem):
    con, _ = _ingest(tmp_path, _inbox(tmp_path, GOOD))
    con.close()
    bad = header + "\nP9,x,1,2024-01-05" + (",paid" if header.count(",") >= 4 else "") + "\n"
    inbox = _inbox(tmp_path, bad)
    with pytest.raises(SijilError, match=problem):
        _ingest(tmp_path, inbox)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert con.execute('select count(*) from raw."demo__payments"').fetchall()[0][0] == 2


def test_empty_file_and_missing_folder_fail_clearly(tmp_path):
    with pytest.raises(SijilError, match="empty"):
        _ingest(tmp_path, _inbox(tmp_path, b""))
    with pytest.raises(SijilError, match="no inbox folder"):
        _ingest(tmp_path, tmp_path / "elsewhere")


def test_duplicate_delivery_loads_once_and_rerun_is_identical(tmp_path):
    inbox = _inbox(tmp_path, GOOD)
    _inbox(tmp_path, GOOD, name="pay_2.csv")
    con, report = _ingest(tmp_path, inbox)
    assert [f.status for f in report.files] == ["loaded", "duplicate_file"]
    first = con.execute('select * exclude (_loaded_at) from raw."demo__payments" order by all').fetchall()
    report = ingest_source(con, CONTRACT, inbox, FORMATS, load_id="L1", run_id="R2")
    assert con.execute('select * exclude (_loaded_at) from raw."demo__payments" order by all').fetchall() == first


def test_a_file_loaded_before_is_kept_unread_and_only_the_new_month_is_read(tmp_path, monkeypatch):
    import assets.ingestion.load as load

    read = []
    stage_file = load.stage_file
    monkeypatch.setattr(load, "stage_file", lambda con, path, *a: read.append(path.name) or stage_file(con, path, *a))
    con, _ = _ingest(tmp_path, _inbox(tmp_path, GOOD))  # load L1: P1, P2
    inbox = _inbox(tmp_path, f"{HEADER}\nP3,x,10,2024-02-05,paid\nP1,y,10,2024-02-05,paid\n", name="pay_2.csv")
    report = ingest_source(con, CONTRACT, inbox, FORMATS, load_id="L2", run_id="R2")
    assert read == ["pay_1.csv", "pay_2.csv"]  # pay_1 read once, in the first load
    kept, new = report.files
    assert (kept.status, kept.rows_loaded, kept.rows_quarantined, kept.rows_lost) == ("kept", 2, 0, 0)
    assert (new.status, new.rows_loaded, new.rows_quarantined) == ("loaded", 1, 1)
    assert con.execute('select payment_id, _load_id from raw."demo__payments" order by 1').fetchall() == \
        [("P1", "L1"), ("P2", "L1"), ("P3", "L2")]
    # a key the kept file holds is a duplicate in the new one
    assert con.execute('select payment_id, _reason from quarantine."demo__payments"').fetchall() == [("P1", "duplicate_key")]
    assert report.quarantine_reasons == {"payments": {"duplicate_key": 1}}  # what the table holds, as the row counts
    assert con.execute("select file, status, rows_received from audit.ingestion_ledger where load_id = 'L2' "
                       "order by file").fetchall() == [("demo/pay_1.csv", "kept", 2), ("demo/pay_2.csv", "loaded", 2)]


def test_a_departed_file_or_a_changed_contract_reads_every_file_again(tmp_path):
    inbox = _inbox(tmp_path, GOOD)
    con, _ = _ingest(tmp_path, inbox)
    _inbox(tmp_path, f"{HEADER}\nP3,x,10,2024-02-05,paid\nP1,y,10,2024-02-05,paid\n", name="pay_2.csv")
    ingest_source(con, CONTRACT, inbox, FORMATS, load_id="L2", run_id="R2")
    # pay_1 leaves the inbox: its rows go, and P1 of pay_2 is no longer a repeat
    (inbox / "demo" / "pay_1.csv").unlink()
    report = ingest_source(con, CONTRACT, inbox, FORMATS, load_id="L3", run_id="R3")
    assert [f.status for f in report.files] == ["loaded"]
    assert con.execute('select payment_id, name from raw."demo__payments" order by 1').fetchall() == [("P1", "y"), ("P3", "x")]
    assert con.execute('select count(*) from quarantine."demo__payments"').fetchall()[0][0] == 0
    # the contract changes (a wider amount range): every file is read again under it
    wider = dataclasses.replace(CONTRACT, entities=(dataclasses.replace(
        CONTRACT.entities[0], columns=tuple(dataclasses.replace(c, max=1000) if c.name == "amount" else c
                                            for c in CONTRACT.entities[0].columns)),))
    assert [f.status for f in ingest_source(con, wider, inbox, FORMATS, load_id="L4", run_id="R4").files] == ["loaded"]
    assert [f.status for f in ingest_source(con, wider, inbox, FORMATS, load_id="L5", run_id="R5").files] == ["kept"]


def test_a_new_file_that_fails_leaves_the_kept_rows_as_they_were(tmp_path):
    inbox = _inbox(tmp_path, GOOD)
    con, _ = _ingest(tmp_path, inbox)
    before = con.execute('select * from raw."demo__payments" order by all').fetchall()
    _inbox(tmp_path, f"{HEADER},NEW\nP3,x,10,2024-02-05,paid,1\n", name="pay_2.csv")
    with pytest.raises(SijilError, match="unexpected columns NEW"):
        ingest_source(con, CONTRACT, inbox, FORMATS, load_id="L2", run_id="R2")
    assert con.execute('select * from raw."demo__payments" order by all').fetchall() == before
    assert con.execute("select count(*) from information_schema.tables where table_name like '_new_%'").fetchall()[0][0] == 0


def test_symlink_outside_the_inbox_is_refused(tmp_path):
    inbox = _inbox(tmp_path, GOOD)
    secret = tmp_path / "secret.csv"
    secret.write_text(GOOD, encoding="utf-8")
    (inbox / "demo" / "pay_link.csv").symlink_to(secret)
    _, report = _ingest(tmp_path, inbox)
    refused = [f for f in report.files if f.status == "refused"]
    assert len(refused) == 1 and "outside the inbox" in refused[0].detail


def test_excel_and_parquet_readers(tmp_path):
    frame = pd.DataFrame({"ID": ["P1", "P2"], "الاسم": ["محمد", None], "AMOUNT": [45.0, 12.5],
                          "PAID": [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-01")], "STATUS": ["paid", "failed"]})
    for fmt, name in (("excel", "pay_1.xlsx"), ("parquet", "pay_1.parquet")):
        folder = tmp_path / fmt / "inbox" / "demo"
        folder.mkdir(parents=True)
        if fmt == "excel":
            frame.to_excel(folder / name, index=False, sheet_name="payments")
        else:
            frame.to_parquet(folder / name)
        entity = dataclasses.replace(CONTRACT.entities[0], format=fmt, file_pattern="pay_*", sheet="payments")
        contract = dataclasses.replace(CONTRACT, entities=(entity,))
        con, report = _ingest(tmp_path / fmt, folder.parent, contract)
        rows = con.execute('select amount, paid_on from raw."demo__payments" order by _line_number').fetchall()
        assert rows == [("45", "2024-01-05"), ("12.5", "2024-02-01")], fmt


def test_ingestion_assets_materialise_a_generated_sample(tmp_path, monkeypatch):
    from assets.synthetic import generate
    import datetime as dt

    generate("jordan", 600, 3, tmp_path / "s", as_of=dt.date(2025, 6, 30))
    monkeypatch.setenv("SIJIL_INBOX", str(tmp_path / "s" / "inbox"))
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    result = dg.materialize(build_ingestion_assets(PROFILE), resources={"warehouse": warehouse})
    assert result.success
    mats = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert len(mats) == sum(len(s.entities) for s in PROFILE.sources) + len(REFERENCE_TABLES)
    payments = mats["raw/naf_takaful__payments"]
    assert payments["rows_lost"].value == 0
    assert payments["rows_received"].value == payments["rows_loaded"].value + payments["rows_quarantined"].value
    defects = pd.read_parquet(tmp_path / "s" / "truth" / "injected_defects.parquet")
    with warehouse.connect(read_only=True) as con:
        for (source, entity), group in defects.groupby(["source", "entity"]):
            quarantined = con.execute(f'select count(*) from quarantine."{source}__{entity}"').fetchall()[0][0]
            assert quarantined >= len(group), (source, entity)


def test_trust_report_flags_a_file_that_does_not_reconcile(tmp_path):
    from quality.trust import TRUST_SQL

    con, _ = _ingest(tmp_path, _inbox(tmp_path, GOOD))
    con.execute(TRUST_SQL)
    assert con.execute("select bool_and(is_reconciled) from audit.trust_report").fetchall()[0][0]
    con.execute("update audit.ingestion_ledger set control_total_loaded = control_total_loaded - 1")
    con.execute(TRUST_SQL)
    assert not con.execute("select bool_and(is_reconciled) from audit.trust_report").fetchall()[0][0]


def test_an_export_replaced_by_a_far_smaller_one_fails_the_volume_check(tmp_path, monkeypatch):
    from quality.volume import build_volume_checks

    profile = dataclasses.replace(PROFILE, sources=(CONTRACT,))
    monkeypatch.setenv("SIJIL_INBOX", str(tmp_path / "inbox"))
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    assets = build_ingestion_assets(profile)[1:]  # the demo source (not the profile's reference tables)
    checks = build_volume_checks(profile)
    rows = lambda n: HEADER + "\n" + "".join(f"P{i},x,10,2024-01-05,paid\n" for i in range(n))  # noqa: E731

    def deliver(n: int) -> dg.AssetCheckEvaluation:
        _inbox(tmp_path, rows(n))
        result = dg.materialize([*assets, *checks], resources={"warehouse": warehouse}, raise_on_error=False)
        return result.get_asset_check_evaluations()[0]

    first = deliver(100)
    assert first.passed and first.metadata["previous_rows_held"].value == -1  # nothing to compare with
    assert deliver(60).passed  # 40 % fewer: within the profile's 50 %
    truncated = deliver(20)
    assert not truncated.passed and truncated.severity == dg.AssetCheckSeverity.ERROR  # critical source: blocking
    assert truncated.metadata["rows_held"].value == 20
    assert truncated.metadata["previous_rows_held"].value == 60


def test_the_volume_checks_run_in_one_step_per_severity_and_block_for_critical_sources_only():
    from quality.volume import CHECK_NAME, build_volume_checks

    steps = build_volume_checks(PROFILE)
    assert sorted(s.node_def.name for s in steps) == ["quality_volume_critical", "quality_volume_warning"]
    specs = {spec.asset_key.path[-1]: spec for step in steps for spec in step.check_specs}
    entities = {e.table: c.severity for c in PROFILE.sources for e in c.entities}
    assert set(specs) == set(entities) and {spec.name for spec in specs.values()} == {CHECK_NAME}
    assert all(spec.blocking == (entities[table] == "critical") for table, spec in specs.items())


def test_a_new_file_without_rows_fails_the_volume_check_as_a_warning(tmp_path, monkeypatch):
    """A monthly delta file that comes empty does not lower the rows held, but is named: a
    warning, never blocking (a month without a case can be real); the next load passes again."""
    from quality.volume import build_volume_checks

    profile = dataclasses.replace(PROFILE, sources=(CONTRACT,))
    monkeypatch.setenv("SIJIL_INBOX", str(tmp_path / "inbox"))
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    assets = build_ingestion_assets(profile)[1:]
    checks = build_volume_checks(profile)

    def deliver(name: str, n: int) -> dg.AssetCheckEvaluation:
        _inbox(tmp_path, HEADER + "\n" + "".join(f"{name}{i},x,10,2024-01-05,paid\n" for i in range(n)), name=name)
        result = dg.materialize([*assets, *checks], resources={"warehouse": warehouse}, raise_on_error=False)
        return result.get_asset_check_evaluations()[0]

    assert deliver("pay_1.csv", 50).passed
    empty = deliver("pay_2.csv", 0)
    assert not empty.passed and empty.severity == dg.AssetCheckSeverity.WARN  # though the source is critical
    assert empty.description == "demo/pay_2.csv: delivered with no rows (an empty export?)"
    assert empty.metadata["rows_held"].value == 50 and empty.metadata["empty_files"].value == 1
    assert deliver("pay_3.csv", 40).passed  # the empty file is kept, not read again, no longer new
    with warehouse.connect(read_only=True) as con:
        assert con.execute("select status from audit.ingestion_ledger where file = 'demo/pay_2.csv' "
                           "order by loaded_at").fetchall() == [("loaded",), ("kept",)]


def test_rows_the_bulk_reader_would_split_differently_are_parsed_as_python_does(tmp_path):
    text = (f"{HEADER}\n"
            'P1,x"y"z,10,2024-01-05,paid\n'        # 2 quotes inside an unquoted field: literal
            'P2, "b",10,2024-01-05,paid\n'         # 3 a space before a quote: literal, not trimmed
            'P3,"c, d",10,2024-01-05,paid\n'       # 4 quoted delimiter
            'P4,"e ""f""",10,2024-01-05,paid\n'    # 5 doubled quotes
            'P5,g,10,2024-01-05\n'                 # 6 too few fields (rejected by DuckDB, re-read)
            'P6,"h",10,2024-01-05,paid,x\n')       # 7 too many fields
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    assert con.execute('select _line_number, name from raw."demo__payments" order by 1').fetchall() == \
        [(2, 'x"y"z'), (3, ' "b"'), (4, "c, d"), (5, 'e "f"')]
    assert con.execute('select _line_number, _reason, _detail from quarantine."demo__payments" order by 1').fetchall() == \
        [(6, "malformed_row", "4 fields where the header has 5"), (7, "malformed_row", "6 fields where the header has 5")]
    assert report.files[0].rows_lost == 0


def test_digits_white_space_and_dates_are_read_as_the_contract_means(tmp_path):
    text = (f"{HEADER}\n"
            "P1,a,٤٥٫,2024-01-05,paid\n"              # 2 Arabic-Indic digits with an Arabic decimal sign: not a decimal
            "P2,b,٤٥,٢٠٢٤-٠١-٠٥,paid\n"               # 3 Arabic-Indic digits: a decimal and a date
            "P3,c,\u00a012.5\u00a0,2024-1-5, PAID \n"  # 4 non-breaking spaces trimmed; values case-blind
            "P4,d,10,24-01-05,paid\n"                 # 5 a two-digit year is no %Y date
            "P5,e,10,20240105,paid\n"                 # 6 the third format
            "P6,\u00a0,10,2024-01-05,paid\n")         # 7 a name of white space only is fine (not required)
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    assert [r[0] for r in con.execute('select _line_number from raw."demo__payments" order by 1').fetchall()] == [3, 4, 6, 7]
    assert dict(con.execute('select _line_number, _reason from quarantine."demo__payments"').fetchall()) == \
        {2: "invalid_type", 5: "invalid_type"}
    f = report.files[0]
    assert f.control_received == pytest.approx(45 + 12.5 + 10 + 10 + 10)  # ٤٥٫ is no amount: counts 0
    assert f.control_loaded + f.control_quarantined == pytest.approx(f.control_received)


def test_parquet_cells_become_the_same_text_as_excel_cells(tmp_path):
    import datetime as dt
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from assets.ingestion.read import _cell_text
    from assets.ingestion.stage import cell_text_sql

    values = {
        "f": pa.array([45.0, 12.5, float("nan"), 1e20, -0.1, None], pa.float64()),
        "i": pa.array([1, -2, 0, 10**12, 7, None], pa.int64()),
        "b": pa.array([True, False, None, True, False, True]),
        "s": pa.array(["a", "", None, "محمد", " x ", "0"]),
        "d": pa.array([dt.date(2024, 1, 5), dt.date(1950, 12, 31), None, dt.date(2024, 2, 29), dt.date(2000, 1, 1),
                       dt.date(1999, 9, 9)]),
        "t": pa.array([dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 5, 10, 30), dt.datetime(2024, 1, 5, 10, 30, 0, 123000),
                       None, dt.datetime(1960, 6, 1, 0, 0, 1), dt.datetime(2024, 1, 5)], pa.timestamp("us")),
        "m": pa.array([decimal.Decimal("45.00"), decimal.Decimal("-1.50"), None, decimal.Decimal("0.00"),
                       decimal.Decimal("7.25"), decimal.Decimal("100.00")], pa.decimal128(10, 2)),
    }
    table = pa.table(values)
    pq.write_table(table, tmp_path / "cells.parquet")
    con = duckdb.connect()
    types = dict(con.execute(f"select column_name, column_type from (describe select * from "
                             f"read_parquet('{tmp_path / 'cells.parquet'}'))").fetchall())
    for name in values:
        sql = con.execute(f"select {cell_text_sql(name, types[name])} from read_parquet('{tmp_path / 'cells.parquet'}')")
        assert [r[0] for r in sql.fetchall()] == [_cell_text(v) for v in table[name].to_pylist()], name


def test_a_long_ragged_row_is_quarantined_whole_and_never_loaded_cut_short(tmp_path):
    big = "z" * 1_500_000  # DuckDB's rejects table keeps only the first 10,000 characters of such a record
    text = (f"{HEADER}\nP1,n,10,2024-01-05,{big},extra\n"   # cut short, this would look like a 5-field row
            f"P2,{big},10,2024-01-05\nP3,ok,10,2024-01-05,paid\n")
    con, report = _ingest(tmp_path, _inbox(tmp_path, text))
    assert con.execute('select _line_number, _detail, length(_raw_record) from quarantine."demo__payments" '
                       'order by 1').fetchall() == \
        [(2, "6 fields where the header has 5", 1_500_025), (3, "4 fields where the header has 5", 1_500_017)]
    assert con.execute('select payment_id from raw."demo__payments"').fetchall() == [("P3",)]
    assert report.files[0].rows_lost == 0
