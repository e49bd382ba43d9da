"""Every indicator formula on a small hand-built registry: five households whose values are
worked out by hand below, run through the real monitoring marts (dbt) with k = 0 so that nothing
is suppressed, then once more with k = 2 to see the disclosure rules bite. The period checked
is 2025-Q1 (the data run from January to March 2025).

    H1  AM  P1 head M 1980, P2 F 1985 (disability), P3 M 2015, P4 F 2022; Takaful paid Jan–Mar 100 each
            (Feb 5 days late); survey welfare 50 (eligible, quintile 1); updated 2024-06-01; shock top-up
            50 paid 3 days after the declaration; paid twice in January (30 at stake)
    H2  IR  P5 head F 1950 (pension), P6 M 2000 (disability service, SSC Feb); not paid; survey 40
            (eligible, quintile 1); its Takaful enrolment ended 2025-03-01 (moved)
    H3  AM  P7 head M 1990, P8 F 1992 (training Nov–Feb); refugees; Takaful paid Jan 150; survey 100
            (not eligible, quintile 3); updated 2022-01-01; left Takaful 2025-02-15 (employment)
    H4  ZA  P9 head M 1960 (disability); emergency payment 10 days after the declaration (new)
    H5  MA  P10 F 2010
    Shock SH1 declared 2025-02-01 in AM and ZA.
    Statistics office estimates for 2025 (POPULATION below): persons AM 100, IR 50, ZA 40, MA 10
    (200; children 0–17: 82, of them 20 aged 0–4; aged 60+: 40); households AM 25, IR 12, ZA 10,
    MA 3 (50).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import duckdb
import pytest

from assets.monitoring.catalogue import catalogue_frames, catalogue_path, load_catalogue
from assets.profiles import load_profile
from assets.settings import DBT_PROJECT_DIR
from orchestration.dbt import dbt_executable

D = dt.date
BANDS = [(0, 4), (5, 14), (15, 17), (18, 24), (25, 59), (60, 64), (65, None)]
# Estimated persons per band, for each sex, by governorate (2025).
POPULATION = {"AM": [5, 10, 5, 5, 15, 5, 5], "IR": [2, 5, 3, 3, 7, 2, 3], "ZA": [2, 4, 2, 2, 6, 2, 2],
              "MA": [1, 1, 1, 0, 1, 0, 1]}
HOUSEHOLDS = {"AM": 25, "IR": 12, "ZA": 10, "MA": 3}
TABLES = {
    "core.dim_person": ("person_key varchar, household_key varchar, governorate_code varchar, sex varchar, birth_date date, "
                        "disability_flag boolean, disability_severity varchar, refugee_status varchar", [
        ("P1", "H1", "AM", "M", D(1980, 6, 1), False, "none", "citizen"),
        ("P2", "H1", "AM", "F", D(1985, 1, 1), True, "mild", "citizen"),
        ("P3", "H1", "AM", "M", D(2015, 5, 1), False, "none", "citizen"),
        ("P4", "H1", "AM", "F", D(2022, 1, 1), False, "none", "citizen"),
        ("P5", "H2", "IR", "F", D(1950, 1, 1), False, "none", "citizen"),
        ("P6", "H2", "IR", "M", D(2000, 2, 2), True, "moderate", "citizen"),
        ("P7", "H3", "AM", "M", D(1990, 3, 3), False, "none", "refugee"),
        ("P8", "H3", "AM", "F", D(1992, 1, 1), False, "none", "refugee"),
        ("P9", "H4", "ZA", "M", D(1960, 7, 1), True, "severe", "citizen"),
        ("P10", "H5", "MA", "F", D(2010, 1, 1), False, "none", "citizen"),
        ("unknown", "unknown", "unknown", None, None, False, "none", "unknown")]),
    "core.dim_household": ("household_key varchar, governorate_code varchar, head_person_key varchar, head_sex varchar, "
                           "is_refugee_household boolean, has_member_with_disability boolean, registry_quintile bigint, "
                           "household_size bigint, welfare_pc_month decimal(18,3), welfare_source varchar, "
                           "is_eligible boolean, last_updated_on date, cash_programme_status varchar", [
        ("H1", "AM", "P1", "M", False, True, 1, 4, 50, "survey", True, D(2024, 6, 1), "active"),
        ("H2", "IR", "P5", "F", False, True, 1, 2, 40, "survey", True, None, None),
        ("H3", "AM", "P7", "M", True, False, 3, 2, 100, "survey", False, D(2022, 1, 1), "exited"),
        ("H4", "ZA", "P9", "M", False, True, None, 1, None, None, None, None, None),
        ("H5", "MA", "P10", "F", False, False, None, 1, None, None, None, None, None),
        ("unknown", "unknown", None, None, False, False, None, None, None, None, None, None, None)]),
    "core.dim_programme": ("programme_code varchar, sp_type varchar, benefit_type varchar, is_shock_response boolean, "
                           "exclusivity_group varchar", [
        ("TAKAFUL", "SA", "cash", False, "poverty_cash"), ("EMERGENCY_CASH", "SA", "cash", True, "shock_cash"),
        ("unknown", None, None, False, None)]),
    "core.dim_geography": ("governorate_code varchar, name_en varchar, name_ar varchar, population bigint", [
        ("AM", "Amman", "العاصمة", 100), ("IR", "Irbid", "إربد", 50), ("ZA", "Zarqa", "الزرقاء", 40),
        ("MA", "Mafraq", "المفرق", 10), ("unknown", "Unknown", "غير معروف", None)]),
    "core.fct_payment": ("payment_key varchar, household_key varchar, person_key varchar, programme_code varchar, "
                         "amount decimal(18,3), period_month date, due_on date, paid_on date, status varchar, "
                         "channel varchar, is_top_up boolean, shock_id varchar", [
        ("a", "H1", "unknown", "TAKAFUL", 100, D(2025, 1, 1), D(2025, 1, 5), D(2025, 1, 5), "paid", "bank", False, None),
        ("b", "H1", "unknown", "TAKAFUL", 100, D(2025, 2, 1), D(2025, 2, 5), D(2025, 2, 10), "paid", "bank", False, None),
        ("c", "H1", "unknown", "TAKAFUL", 100, D(2025, 3, 1), D(2025, 3, 5), D(2025, 3, 5), "paid", "bank", False, None),
        ("d", "H3", "unknown", "TAKAFUL", 150, D(2025, 1, 1), D(2025, 1, 5), D(2025, 1, 3), "paid", "cash", False, None),
        ("e", "H1", "P1", "EMERGENCY_CASH", 50, D(2025, 2, 1), None, D(2025, 2, 4), "paid", None, True, "SH1"),
        ("f", "H4", "P9", "EMERGENCY_CASH", 90, D(2025, 2, 1), None, D(2025, 2, 11), "paid", None, False, "SH1")]),
    "core.fct_shock": ("shock_id varchar, declared_on date, affected_governorate_codes varchar[]", [
        ("SH1", D(2025, 2, 1), ["AM", "ZA"])]),
    "core.fct_shock_payment": ("shock_id varchar, household_key varchar, person_key varchar, amount decimal(18,3), "
                               "status varchar, paid_on date, was_existing_beneficiary boolean, is_top_up boolean", [
        ("SH1", "H1", "P1", 50, "paid", D(2025, 2, 4), True, True),
        ("SH1", "H4", "P9", 90, "paid", D(2025, 2, 11), False, False)]),
    "core.fct_service": ("person_key varchar, source varchar, service_type varchar, started_on date, ended_on date, "
                         "outcome varchar, days_open bigint", [
        ("P6", "mosd_services", "disability", D(2024, 12, 1), None, None, None),
        ("P1", "health_insurance", "health_insurance", D(2024, 1, 1), None, None, None),
        ("P2", "health_insurance", "health_insurance", D(2024, 1, 1), None, None, None),
        ("P3", "health_insurance", "health_insurance", D(2024, 1, 1), None, None, None),
        ("P3", "school_enrolment", "schooling", D(2024, 9, 1), D(2025, 6, 30), "enrolled", 302),
        ("P7", "mosd_services", "referral", D(2025, 1, 10), D(2025, 1, 20), "delivered", 10),
        ("P5", "mosd_services", "case_management", D(2025, 2, 1), D(2025, 4, 15), "delivered", 73)]),
    "core.fct_social_security": ("person_key varchar, contribution_month date, is_active boolean", [
        ("P6", D(2025, 2, 1), True), ("P1", D(2025, 1, 1), True), ("P7", D(2025, 1, 1), False)]),
    "core.fct_pension": ("person_key varchar, started_on date", [("P5", D(2020, 1, 1))]),
    "core.fct_labour_programme": ("person_key varchar, started_on date, ended_on date", [
        ("P8", D(2024, 11, 1), D(2025, 2, 28))]),
    "core.fct_enrolment": ("household_key varchar, source varchar, status varchar, exit_reason varchar, ended_on date", [
        ("H3", "naf_takaful", "exited", "employment", D(2025, 2, 15)),
        ("H2", "naf_takaful", "exited", "moved", D(2025, 3, 1))]),
    "core.fct_duplicate_benefit": ("household_key varchar, period_month date, case_type varchar, amount_at_stake decimal(18,3)", [
        ("H1", D(2025, 1, 1), "paid_by_overlapping_programmes", 30)]),
    "core.fct_grievance": ("person_key varchar, governorate_code varchar, channel varchar, opened_on date, resolved_on date, "
                           "days_to_resolve bigint", [
        ("P1", "AM", "portal", D(2025, 1, 10), D(2025, 1, 20), 10), ("P7", "AM", "sms", D(2025, 2, 1), None, None)]),
    "core.ref_population": ("year integer, governorate_code varchar, sex varchar, age_from integer, age_to integer, "
                            "persons bigint", [
        (2025, gov, sex, low, high, persons) for gov, counts in POPULATION.items() for sex in ("M", "F")
        for (low, high), persons in zip(BANDS, counts)]),
    "core.ref_households": ("year integer, governorate_code varchar, households bigint", [
        (2025, gov, n) for gov, n in HOUSEHOLDS.items()]),
    "monitoring.dq_scorecard": ("source varchar, overall_score decimal(9,2), is_latest_run boolean", [
        ("naf_takaful", 50, False), ("naf_takaful", 90, True), ("civil_registry", 80, True)]),
}

# Worked out by hand from the registry above, for 2025-Q1.
EXPECTED_Q1 = {
    "K1": 2 / 50 * 100,                   # H1, H3 paid of 50 estimated households
    "K2": 6 / 200 * 100,                  # their 6 members of 200 estimated persons
    "K3": 4 / 6 * 100,                    # quintile 1: H1 (4, paid) and H2 (2)
    "K4": 1 / 2 * 100,                    # eligible surveyed H1, H2; H2 not paid
    "K5": 1 / 2 * 100,                    # paid surveyed H1, H3; H3 not eligible
    "K6": 300 / 450 * 100,                # 300 of 450 to quintile 1
    "K7": 4 / 6 * 100,                    # 4 of 6 persons in paid households in quintile 1
    "K8": 450 / (50 * 4 * 3 + 100 * 2 * 3) * 100,
    "K9": 450 / 4,                        # household-months paid: H1 3, H3 1
    "K9P": 450 / (3 * 4 + 1 * 2),
    "K9L": 450 / ((3 * 4 + 1 * 2) * 68) * 100,
    "K10": 3 / 4 * 100,                   # February paid 5 days late
    "K10M": 0,
    "K11": 4 * 3 * (68 - 50) / 450,       # H1's gap 216 closed; H3 above the line
    "T1": 2 / 82 * 100,                   # P3, P4 in a paid household, of 82 estimated children
    "T2": 2 / 3 * 100,                    # P2 (paid household), P6 (service); P9 neither
    "T3": 3 / 6 * 100,                    # P1–P3 insured of 6 members of paid households
    "T4": 1 / 1 * 100,                    # P3 enrolled
    "T5": 1 / 2 * 100,                    # referral delivered in 10 days; case in 73
    "F1": 2 / 7 * 100,                    # active P1, P6 of P1, P2, P6, P7, P8, P9, P10 (15–64)
    "F2": 1 / 40 * 100,                   # P5 pensioned, of 40 estimated persons aged 60+
    "F3": 1 / 4 * 100,                    # P8 in training of P1, P2, P7, P8
    "F4": 1 / 2 * 100,                    # H3 left for employment, H2 moved
    "S1": 6.5,                            # median of 3 and 10 days
    "S1P90": 3 + 0.9 * 7,
    "S1W7": 1 / 2 * 100, "S1W14": 100, "S1W30": 100,
    "S2": 1 / 3 * 100,                    # H4 new, of H1, H3, H4 in AM and ZA
    "S2N": 1,
    "S3": 50 / 100 * 100,                 # top-up 50 against H1's regular 100 in February
    "S3B": 1 / 2 * 100,                   # existing H1, H3; H1 topped up
    "S4": 2 / 3 * 100,                    # H1, H4 paid
    "S5": 1 / 2 * 100,                    # H1 updated within 24 months, H3 not
    "X1": 9 / 200 * 100,                  # all registered persons but P10, of 200 estimated
    "X2": 1 / 3 * 100,                    # H1 of H1, H3, H4 paid by grouped programmes
    "X3": 30,
    "X4": 10 / 200 * 100,                 # 10 registered of 200 estimated
    "X5": 1 / 5 * 100,
    "X6": (90 + 80) / 2,                  # latest scorecard runs: NAF 90, civil registry 80
    "X7": 1 / 2 * 100,
    "X8": 10,
}


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    """The hand-built registry, then `dbt build` of the monitoring marts (tests included) on it."""
    tmp = tmp_path_factory.mktemp("indicators")
    path = tmp / "registry.duckdb"
    con = duckdb.connect(str(path))
    for schema in ("core", "raw", "monitoring"):
        con.execute(f"create schema {schema}")
    for table, (columns, rows) in TABLES.items():
        con.execute(f"create table {table} ({columns})")
        width = len(rows[0])
        con.executemany(f"insert into {table} values ({', '.join(['?'] * width)})", rows)
    profile = load_profile("jordan")
    for name, frame in catalogue_frames(load_catalogue(catalogue_path(profile))).items():
        con.register("_f", frame)
        con.execute(f"create table raw.{name} as select * from _f")
        con.unregister("_f")
    con.close()
    _dbt_build(path, tmp, "marts.monitoring", disclosure_k=0)
    with duckdb.connect(str(path), read_only=True) as c:
        yield c


def _dbt_build(path, tmp, select: str, disclosure_k: int) -> None:
    # the run's reference date and months: dbt's defaults (today, every month), whatever an
    # earlier test in this process left in SIJIL_RUN_*
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SIJIL_RUN_")},
           "SIJIL_WAREHOUSE": str(path), "DO_NOT_TRACK": "1"}
    dbt_vars = {"disclosure_k": disclosure_k, "pensionable_age": 60, "poverty_line_pc_month": 68}
    run = subprocess.run([dbt_executable(), "build", "--select", select, "--vars", json.dumps(dbt_vars),
                          "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                          "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:]


@pytest.fixture(scope="module")
def strict(marts, tmp_path_factory):
    """The same registry published with k = 2: disclosure control (and its dbt tests) on it."""
    tmp = tmp_path_factory.mktemp("indicators_k2")
    path = tmp / "registry.duckdb"
    source = marts.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    path.write_bytes(open(source, "rb").read())
    _dbt_build(path, tmp, "indicator_values+", disclosure_k=2)
    with duckdb.connect(str(path), read_only=True) as c:
        yield c


def values(con, grain="quarter", label="2025-Q1", dimension="national") -> dict[str, float]:
    rows = con.execute("select indicator_code, value from monitoring.indicator_values where grain = ? and period_label = ? "
                       "and dimension = ?", [grain, label, dimension]).fetchall()
    return {code: value for code, value in rows}


def test_every_formula_gives_the_hand_computed_value(marts):
    got = values(marts)
    wrong = {code: (got.get(code), expected) for code, expected in EXPECTED_Q1.items()
             if got.get(code) is None or abs(got[code] - expected) > 1e-6}
    assert not wrong, wrong


def test_every_catalogue_indicator_is_checked_here(marts):
    codes = {c for (c,) in marts.execute("select indicator_code from monitoring.indicator_catalogue").fetchall()}
    assert codes == set(EXPECTED_Q1)


def test_data_quality_scores_are_shown_per_agency_without_suppression(marts):
    scores = dict(marts.execute("select dimension_value, value from monitoring.indicator_values where indicator_code = 'X6' "
                                "and grain = 'quarter' and period_label = '2025-Q1' and dimension = 'category'").fetchall())
    assert scores == {"naf_takaful": 90, "civil_registry": 80}


def test_months_and_disaggregations(marts):
    february = values(marts, "month", "2025-02")
    assert february["K1"] == pytest.approx(1 / 50 * 100)     # only H1 paid in February
    assert february["K10M"] == pytest.approx(5)              # the one February payment was 5 days late
    by_governorate = {v: x for v, x in marts.execute(
        "select dimension_value, value from monitoring.indicator_values where indicator_code = 'K1' and grain = 'quarter' "
        "and dimension = 'governorate'").fetchall()}
    assert by_governorate == pytest.approx({"AM": 2 / 25 * 100, "IR": 0.0, "ZA": 0.0, "MA": 0.0})
    children = {v: x for v, x in marts.execute(
        "select dimension_value, value from monitoring.indicator_values where indicator_code = 'T1' and grain = 'quarter' "
        "and dimension = 'age_group'").fetchall()}
    assert children == pytest.approx({"0-4": 1 / 20 * 100, "5-17": 1 / 62 * 100})


def test_population_coverage_is_not_published_by_what_the_estimates_do_not_carry(marts):
    """The estimates have no disability or refugee status (nor household size): no such cells."""
    dimensions = {(code, dim) for code, dim in marts.execute(
        "select distinct indicator_code, dimension from monitoring.indicator_values "
        "where indicator_code in ('K1', 'K2', 'T1', 'F2', 'X1', 'X4')").fetchall()}
    assert {("K1", "governorate"), ("K2", "age_group_ilo"), ("T1", "sex"), ("F2", "governorate"), ("X4", "sex")} <= dimensions
    assert not {dim for _, dim in dimensions} & {"disability", "disability_severity", "refugee_status", "household_size_band"}


def test_scorecard_reads_the_year_against_its_target(marts):
    row = marts.execute("select year, value, target, status, is_complete_year from monitoring.pillar_scorecard "
                        "where indicator_code = 'K1'").fetchall()[0]
    year, value, target, status, complete = row
    assert year == 2025 and complete is False and value == pytest.approx(4.0)
    assert target == 22.0 and status == "off_track"


def test_a_rate_of_100_percent_is_suppressed_though_its_counts_reach_k(strict):
    """S1W14 in 2025-Q1: both households paid within 14 days — numerator 2, denominator 2, both at
    k = 2, but the complement is 0: shown, it would tell that every household was paid in time."""
    cell = strict.execute("select numerator, denominator from monitoring.indicator_cells where indicator_code = 'S1W14' "
                          "and grain = 'quarter' and period_start = '2025-01-01' and dimension = 'national'").fetchone()
    assert cell == (2, 2)
    shown = strict.execute("select value, numerator, denominator, is_suppressed, suppression from monitoring.indicator_values "
                           "where indicator_code = 'S1W14' and grain = 'quarter' and period_start = '2025-01-01' "
                           "and dimension = 'national'").fetchone()
    assert shown == (None, None, None, True, "primary")


def test_no_shown_rate_has_a_numerator_denominator_or_complement_below_k_and_zero_counts_show(strict):
    bad = strict.execute("select v.indicator_code, v.dimension, v.dimension_value, c.numerator, c.denominator "
                         "from monitoring.indicator_values v join monitoring.indicator_cells c using (cell_id) "
                         "where not v.is_suppressed and c.kind = 'share' "
                         "and (c.numerator < 2 or c.denominator < 2 or abs(c.denominator - c.numerator) < 2)").fetchall()
    assert bad == []
    shown_rates = strict.execute("select count(*) from monitoring.indicator_values where not is_suppressed and kind = 'share'"
                                 ).fetchone()[0]
    assert shown_rates > 0
    zero_counts = strict.execute("select count(*) from monitoring.indicator_values where not is_suppressed "
                                 "and kind in ('count', 'sum') and value = 0").fetchone()[0]
    assert zero_counts > 0
