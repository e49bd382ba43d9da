"""The whole asset graph materialised on a small generated sample, checked against truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sample_refresh import con, refreshed_sample, run_dbt_unit_tests  # noqa: F401  (con is a fixture)

pytestmark = pytest.mark.integration

PERSONS = 2500
SEED = 7


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """Generate a sample, run one full refresh, and hand back (result, settings)."""
    with refreshed_sample(tmp_path_factory.mktemp("sijil_home"), "jordan", PERSONS, SEED) as done:
        yield done


def test_refresh_succeeds(refreshed):
    result, _ = refreshed
    assert result.success, f"failed steps: {result.failed}"
    for layer in ("raw", "staging", "intermediate", "linkage", "core"):
        assert result.rows_by_layer.get(layer, 0) > 0, layer


def test_dbt_unit_tests_pass_and_a_refresh_leaves_them_to_the_test_suite(refreshed, tmp_path):
    """Every unit test of the dbt project passes against the refreshed warehouse; the refresh's own
    dbt builds ran its data tests but no unit test (they test the SQL, not the data)."""
    from assets.settings import DBT_PROJECT_DIR
    from assets.operations.retention import dbt_invocation_folders

    result, _ = refreshed
    ran = [r["unique_id"] for run_id in result.run_ids
           for folder in dbt_invocation_folders(DBT_PROJECT_DIR / "target", run_id)
           for r in json.loads((folder / "run_results.json").read_text(encoding="utf-8"))["results"]]
    assert any(i.startswith("test.") for i in ran) and not any(i.startswith("unit_test.") for i in ran)
    expected, statuses = run_dbt_unit_tests(result.warehouse, "jordan", tmp_path)
    assert len(expected) >= 10 and set(statuses) == expected
    assert {i: s for i, s in statuses.items() if s != "pass"} == {}


def test_a_refresh_parses_the_dbt_project_once(refreshed):
    """The marts step starts from the parse state the staging step handed back, with the same vars
    and the same build path: dbt parses nothing again (it used to parse the whole project in
    every step)."""
    from assets.settings import DBT_PROJECT_DIR

    result, _ = refreshed
    [folder] = (DBT_PROJECT_DIR / "target").glob(f"dbt_marts_assets-{result.run_id[:7]}-*")
    log = (folder / "dbt.log").read_text(encoding="utf-8")
    assert "PartialParsingSkipParsing" in log and "UnableToPartialParse" not in log


def test_every_row_is_loaded_or_quarantined(con):
    ledger = con.execute(
        "select sum(rows_received), sum(rows_loaded), sum(rows_quarantined), sum(rows_lost) "
        "from audit.ingestion_ledger"
    ).fetchall()[0]
    received, loaded, quarantined, lost = ledger
    assert received > 0 and lost == 0
    assert received == loaded + quarantined


def test_trust_report_reconciles_every_file(con):
    files, lost, unreconciled = con.execute(
        "select count(*), sum(rows_lost), count(*) filter (where not is_reconciled) from audit.trust_report").fetchall()[0]
    assert files >= 16 and lost == 0 and unreconciled == 0


def test_injected_defects_are_quarantined(refreshed, con):
    _, settings = refreshed
    defects = pd.read_parquet(Path(settings.truth) / "injected_defects.parquet")
    assert len(defects) > 0
    quarantined = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'quarantine'"
    ).fetchall()[0][0]
    assert quarantined > 0
    total = sum(
        con.execute(f'select count(*) from quarantine."{t}"').fetchall()[0][0]
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'quarantine'"
        ).fetchall()
    )
    assert total >= len(defects)


def test_payment_totals_match_source_files(con):
    ledger = dict(con.execute(
        "select source, sum(control_total_loaded) from audit.ingestion_ledger "
        "where control_total_loaded is not null group by source").fetchall())
    facts = dict(con.execute("select source, sum(amount) from core.fct_payment group by source").fetchall())
    assert set(facts) == set(ledger)
    for source, total in ledger.items():
        assert float(facts[source]) == pytest.approx(float(total), abs=0.01), source


def test_every_check_passed(refreshed):
    result, _ = refreshed
    assert result.checks_evaluated > 60
    assert result.checks_failed == []
    # Warnings are expected: the sample's quarantined households leave their members and
    # payments orphaned in staging, which the relationship tests report (severity warn).
    assert all("relationships" in name for name in result.checks_warned)


def test_quality_suites_ran_and_the_scorecard_covers_every_source(refreshed, con):
    from assets.profiles import load_profile

    result, settings = refreshed
    assert result.checks_evaluated > 100  # dbt tests + a GX suite per source entity and core mart + freshness
    sources = {c.source for c in load_profile("jordan").sources}
    latest = con.execute("select source, overall_score, is_stale, blocking_failures from monitoring.dq_scorecard "
                         "where is_latest_run").fetchall()
    assert {r[0] for r in latest} == sources
    assert all(score > 99 and not stale and failures == 0 for _, score, stale, failures in latest)
    suites, failed = con.execute("select count(distinct suite), count(*) filter (where not success) "
                                 "from audit.expectation_results where run_id = ?", [result.run_id]).fetchall()[0]
    assert suites >= 20 and failed == 0
    assert (settings.home / "quality" / "data_docs" / "index.html").exists()
    with duckdb.connect(str(result.analytics), read_only=True) as analytics:
        assert analytics.execute("select count(*) from monitoring.dq_scorecard").fetchall()[0][0] >= len(sources)


def test_linkage_quality_against_truth(con):
    scores = dict(con.execute("select subset, f1 from linkage.evaluation").fetchall())
    precision = con.execute("select precision from linkage.evaluation where subset = 'overall'").fetchall()[0][0]
    assert scores["overall"] > 0.95 and precision > 0.99
    blocking = dict(con.execute("select subset, blocking_recall from linkage.evaluation").fetchall())
    assert blocking["overall"] > 0.985 and blocking["no_national_id"] > 0.95
    assert {"no_national_id_sex_M", "no_national_id_sex_F"} <= set(scores)
    # every prediction rule's cost is counted; comparisons per record stay small (linear cost)
    per_record = con.execute("select max(comparisons_per_record) from linkage.blocking_analysis").fetchall()[0][0]
    assert 0 < per_record < 20


def test_the_next_refresh_would_link_only_new_mentions(refreshed, con):
    """The refresh recorded what the registry was linked from; with nothing changed, the next
    run's linkage takes the incremental path by itself."""
    from assets.linkage.mode import decide
    from assets.linkage.model import load_config

    _, settings = refreshed
    state = dict(con.execute("select key, value from linkage.linked_state").fetchall())
    assert state["mode"] == "full"
    assert con.execute("select count(*) from linkage.linked_mentions").fetchall()[0][0] == \
        con.execute("select count(*) from intermediate.int_person_mentions").fetchall()[0][0]
    decision = decide(con, load_config(), settings.home / "linkage" / "linkage_model.json")
    assert (decision.mode, decision.new_mentions) == ("incremental", 0), decision.reason


def test_the_registry_keeps_its_number_and_birth_date_vetoes(refreshed):
    """The agencies' national numbers and birth dates are kept with care: the trained model finds
    one person's records disagreeing on them far less than vetoes.max_m, and lifts neither."""
    from assets.linkage.assets import vetoes_lifted

    _, settings = refreshed
    model = settings.home / "linkage" / "linkage_model.json"
    assert json.loads(model.read_text(encoding="utf-8"))["vetoes_lifted"] == []
    assert vetoes_lifted(model) == "none"


def test_no_orphan_facts(con):
    orphans = con.execute(
        "select count(*) from core.fct_payment f left join core.dim_household h using (household_key) "
        "where h.household_key is null"
    ).fetchall()[0][0]
    assert orphans == 0


def test_master_persons_close_to_truth(refreshed, con):
    _, settings = refreshed
    truth = pd.read_parquet(Path(settings.truth) / "records.parquet")
    true_persons = truth["person_id"].nunique()
    persons = con.execute("select count(*) from core.dim_person where person_key <> 'unknown'").fetchall()[0][0]
    assert abs(persons - true_persons) / true_persons < 0.05


def test_analytics_warehouse_has_no_personal_data(refreshed):
    from assets.profiles import load_profile
    from assets.publish.analytics import leak_patterns, scan_for_pii

    PATTERNS = leak_patterns(load_profile("jordan").identifiers)

    result, _ = refreshed
    assert result.published and result.analytics.exists()
    with duckdb.connect(str(result.analytics), read_only=True) as analytics:
        assert scan_for_pii(analytics, PATTERNS) == []
        columns = {r[0] for r in analytics.execute("select column_name from information_schema.columns").fetchall()}
    assert not columns & {"first_name", "father_name", "family_name", "national_id", "phone", "full_name", "birth_date"}


def _national(con, code: str, year: int) -> tuple:
    return con.execute("select value, numerator, denominator from monitoring.indicator_cells where indicator_code = ? "
                       "and grain = 'year' and year(period_start) = ? and dimension = 'national'", [code, year]).fetchall()[0]


def _true_households_paid_cash_assistance(con, truth: Path, year: int) -> set:
    """True households paid regular cash assistance in `year`: the agencies' own records, tied to
    the true household by the generator's truth, not by the warehouse's linkage."""
    households = pd.read_parquet(truth / "households.parquet")
    records = pd.read_parquet(truth / "records.parquet")
    naf = con.execute("select distinct household_id from staging.stg_naf_takaful__payments "
                      "where status = 'paid' and year(period_month) = ?", [year]).df()
    paid = set(households[households.naf_household_id.isin(naf.household_id)].household_id)
    aid = con.execute("select aid_id from staging.stg_zakat_charity__aid where programme_code in ('ZAKAT_CASH', 'CHARITY_CASH') "
                      "and year(aid_on) = ?", [year]).df()
    zakat = records[(records.source == "zakat_charity") & records.record_key.isin(aid.aid_id)]
    return paid | set(zakat.household_id)


def _estimates_written(settings, entity: str) -> pd.DataFrame:
    """The statistics office's estimates exactly as the generator wrote them to the inbox."""
    pattern = {"population": "dos_population_*.csv", "households": "dos_households_*.csv"}[entity]
    frame = pd.read_csv(next((Path(settings.inbox) / "population_estimates").glob(pattern)), dtype=str, keep_default_na=False)
    return frame.assign(YEAR=frame.YEAR.astype(int))


def test_coverage_matches_the_generator_truth(refreshed, con):
    """Coverage from the truth (true persons and households in truly paid households) against the
    same estimates the generator wrote: the warehouse's denominators are those, to the unit."""
    _, settings = refreshed
    persons = pd.read_parquet(Path(settings.truth) / "persons.parquet")
    persons = persons[pd.to_datetime(persons.birth_date).dt.year <= 2025]
    age = 2025 - pd.to_datetime(persons.birth_date).dt.year
    paid = _true_households_paid_cash_assistance(con, Path(settings.truth), 2025)
    population = _estimates_written(settings, "population").query("YEAR == 2025")
    children = population[population.AGE_TO.ne("") & (population.AGE_TO.replace("", "0").astype(int) <= 17)]
    households = _estimates_written(settings, "households").query("YEAR == 2025")
    expected = {
        "K1": (len(paid), households.HOUSEHOLDS.astype(int).sum()),
        "K2": (persons.household_id.isin(paid).sum(), population.PERSONS.astype(int).sum()),
        "T1": ((persons.household_id.isin(paid) & (age <= 17)).sum(), children.PERSONS.astype(int).sum()),
    }
    for code, (numerator, denominator) in expected.items():
        value, got_numerator, got_denominator = _national(con, code, 2025)
        assert got_denominator == denominator, code
        assert value == pytest.approx(numerator / denominator * 100, abs=1.5), code
        assert abs(got_numerator - numerator) <= max(2, 0.05 * numerator), code


def test_targeting_errors_match_the_generator_truth_on_the_surveyed_households(refreshed, con):
    _, settings = refreshed
    truth = Path(settings.truth)
    persons = pd.read_parquet(truth / "persons.parquet")
    survey = con.execute("select head_national_id, consumption_pc_month from staging.stg_welfare_survey__households").df()
    survey = survey.dropna(subset=["head_national_id"]).merge(
        persons.dropna(subset=["national_id"])[["national_id", "household_id"]], left_on="head_national_id", right_on="national_id")
    survey["eligible"] = survey.consumption_pc_month < 68
    survey["paid"] = survey.household_id.isin(_true_households_paid_cash_assistance(con, truth, 2025))
    eligible, paid = survey[survey.eligible], survey[survey.paid]
    for code, (numerator, denominator) in {"K4": ((~eligible.paid).sum(), len(eligible)),
                                           "K5": ((~paid.eligible).sum(), len(paid))}.items():
        _, got_numerator, got_denominator = _national(con, code, 2025)
        assert denominator > 0
        assert abs(got_denominator - denominator) <= 1 and abs(got_numerator - numerator) <= 1, code


def test_emergency_timeliness_matches_the_generator_truth(refreshed, con):
    _, settings = refreshed
    records = pd.read_parquet(Path(settings.truth) / "records.parquet")
    payments = con.execute("select p.payment_id, p.shock_id, p.paid_on, s.declared_on "
                           "from staging.stg_emergency_cash__payments p join staging.stg_emergency_cash__shocks s using (shock_id) "
                           "where p.status = 'paid' and p.paid_on is not null").df()
    payments = payments.merge(records[records.source == "emergency_cash"], left_on="payment_id", right_on="record_key")
    first = payments.groupby(["shock_id", "household_id"]).agg(paid_on=("paid_on", "min"), declared_on=("declared_on", "first"))
    first["days"] = (pd.to_datetime(first.paid_on) - pd.to_datetime(first.declared_on)).dt.days
    for year, shocks in first.groupby(pd.to_datetime(first.declared_on).dt.year):
        days = shocks["days"]
        assert _national(con, "S1", year)[0] == pytest.approx(days.median(), abs=1)
        assert _national(con, "S1P90", year)[0] == pytest.approx(days.quantile(0.9), abs=1)
        for within in (7, 14, 30):  # households paid within the days, and households paid: linkage may move one
            _, numerator, denominator = _national(con, f"S1W{within}", year)
            assert abs(numerator - (days <= within).sum()) <= max(1, 0.02 * len(days))
            assert abs(denominator - len(days)) <= max(1, 0.02 * len(days))


def test_every_indicator_has_values_and_only_disclosure_controlled_tables_are_published(refreshed, con):
    result, _ = refreshed
    missing = con.execute("select indicator_code from monitoring.indicator_catalogue k where not exists "
                          "(select 1 from monitoring.indicator_cells c where c.indicator_code = k.indicator_code "
                          "and c.value is not null)").fetchall()
    assert missing == []
    shown = con.execute("select count(*) filter (where not is_suppressed), count(*) filter (where is_suppressed and value is null) "
                        "from monitoring.indicator_values").fetchall()[0]
    assert shown[0] > 0 and shown[1] > 0
    with duckdb.connect(str(result.analytics), read_only=True) as analytics:
        tables = {r[0] for r in analytics.execute("select table_name from information_schema.tables "
                                                  "where table_schema = 'monitoring'").fetchall()}
    assert {"indicator_values", "pillar_scorecard", "indicator_catalogue"} <= tables
    assert not tables & {"indicator_units", "indicator_cells", "indicator_cells_month", "indicator_suppression_groups"}


def test_report_workbook_and_cli(refreshed, capsys):
    import openpyxl

    from assets.monitoring.report import TEXT
    from orchestration.cli import main

    _, settings = refreshed
    report = (settings.home / "reports" / "indicators.html").read_text(encoding="utf-8")
    assert report.index('lang="ar" dir="rtl"') < report.index('lang="en" dir="ltr"')
    for pillar in ("كرامة", "تمكين", "فرصة", "صمود", "Karama (dignity)", "Sumud (resilience)"):
        assert pillar in report
    assert "<script" not in report
    book = openpyxl.load_workbook(settings.home / "reports" / "indicators.xlsx", read_only=True)
    assert book.sheetnames == ["Scorecard", "Indicators", "Values", "Targets"]
    assert main(["indicators", "--pillar", "karama", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("indicator_code,pillar") and any(line.startswith("K1,karama") for line in lines)
    assert main(["indicators", "--period", "2025", "--format", "json"]) == 0
    assert '"period_label": "2025"' in capsys.readouterr().out
    assert main(["indicators", "--pillar", "karama", "--format", "csv", "--lang", "ar"]) == 0
    lines = capsys.readouterr().out.splitlines()
    k1 = next(line for line in lines if line.startswith("K1,karama,"))
    assert lines[0].startswith("indicator_code,pillar,name_ar") and k1.split(",")[-1] in TEXT["ar"]["status"].values()


def test_a_failed_refresh_leaves_the_published_warehouse_unchanged(refreshed):
    """Runs last: breaks one agency file, refreshes again, and checks nothing was published."""
    from orchestration.refresh import run_refresh

    result, settings = refreshed
    before = result.warehouse.read_bytes()
    analytics_before = result.analytics.read_bytes()
    payments = next((settings.inbox / "naf_takaful").glob("naf_payments_*"))
    original = payments.read_bytes()
    try:
        payments.write_bytes(original.replace(b"AMOUNT_JOD", b"AMOUNT", 1))  # schema drift
        mp = pytest.MonkeyPatch()
        for name in ("SIJIL_HOME", "SIJIL_INBOX", "SIJIL_TRUTH", "DAGSTER_HOME"):
            mp.setenv(name, os.environ[name])
        failed = run_refresh()
        mp.undo()
    finally:
        payments.write_bytes(original)
    assert not failed.success and not failed.published
    assert any("missing columns AMOUNT_JOD" in message for message in failed.errors)
    assert result.warehouse.read_bytes() == before
    assert result.analytics.read_bytes() == analytics_before
    assert not list((result.warehouse.parent / "builds").glob("*.duckdb"))
