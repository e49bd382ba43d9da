"""Reliability scenarios that need the whole pipeline, on a small generated sample the test
alters before one `sijil materialize`:

- #8: one person, known by one national number, in several sources and twice in one file;
- #11: a payment naming a household the registry does not hold (below the threshold: listed
  with its reason and published; above it: the threshold test fails, which fails the build);
- #26: emergency payments stamped 23:30 on a month's last day, local, with an offset and in UTC;
- #22: no national number, name or phone of the sample in Dagster's run and event logs, its
  compute logs, dbt's logs, Sijil's log and alert files, the Data Docs or the report;
- #20: after a real publish, the engineering warehouse is private and the analytics one shared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sample_refresh import append_rows, first_row

pytestmark = pytest.mark.integration

PERSONS = 1000
SEED = 11
SIJIL = str(Path(sys.executable).parent / "sijil")
ORPHAN_HOUSEHOLD = "NAF-NOT-REGISTERED-1"
# Emergency payments at the end of January 2025 (Asia/Amman is UTC+3 all year since 2022).
TIMESTAMPS = {"EMG-TZ-LOCAL": ("2025-01-31 23:30", "2025-01-01"),
              "EMG-TZ-OFFSET": ("2025-01-31T23:30:00+03:00", "2025-01-01"),
              "EMG-TZ-UTC": ("2025-01-31T20:30:00Z", "2025-01-01"),
              "EMG-TZ-UTC-NEXT": ("2025-01-31T21:30:00Z", "2025-02-01")}


def _inject(inbox: Path, truth: Path) -> dict:
    """Alter the sample the way agencies do; return what was injected."""
    persons = pd.read_parquet(truth / "persons.parquet")
    records = pd.read_parquet(truth / "records.parquet")
    registry = pd.read_csv(next((inbox / "civil_registry").glob("*.csv")), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    # a citizen in the civil registry and the health insurance already: added again to both
    # (twice in the insurance file, under a new insurance id) and to the emergency payments
    health_file = next((inbox / "health_insurance").glob("*.csv"))
    health = pd.read_csv(health_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    in_health = set(records.loc[records.source == "health_insurance", "person_id"])
    candidates = persons[persons.national_id.notna() & persons.person_id.isin(in_health)].sort_values("person_id")
    # the first whose number both files wrote exactly (the generator adds clerical noise to some)
    person = next(p for p in candidates.itertuples()
                  if (registry.NATIONAL_NO == p.national_id).sum() == 1 and (health.NATIONAL_NO == p.national_id).any())
    nid = person.national_id
    civil_row = registry.loc[registry.NATIONAL_NO == nid].iloc[0].to_dict()
    append_rows(next((inbox / "civil_registry").glob("*.csv")), [civil_row])  # same key: duplicate_key
    health_row = health.loc[health.NATIONAL_NO == nid].iloc[0].to_dict()
    append_rows(health_file, [{**health_row, "INSURED_ID": "CIP-DUP-1"}, {**health_row, "INSURED_ID": "CIP-DUP-2"}])
    emergency_file = next((inbox / "emergency_cash").glob("emergency_payments_*.csv"))
    template = first_row(emergency_file)
    full_name = " ".join(str(p) for p in (civil_row["FIRST_NAME"], civil_row["FATHER_NAME"],
                                          civil_row["GRANDFATHER_NAME"], civil_row["FAMILY_NAME"]) if p)
    emergency = [{**template, "PAYMENT_ID": "EMG-DUP-PERSON", "NATIONAL_NO": nid, "NAF_HH_ID": "",
                  "BENEFICIARY_NAME": full_name, "PHONE": "", "PAID_DATE": "2025-03-10"}]
    emergency += [{**template, "PAYMENT_ID": pid, "PAID_DATE": stamp} for pid, (stamp, _) in TIMESTAMPS.items()]
    append_rows(emergency_file, emergency)
    # a cash-programme payment naming a household no agency registered
    payments_file = next((inbox / "naf_takaful").glob("naf_payments_*.csv"))
    append_rows(payments_file, [{**first_row(payments_file), "PAYMENT_ID": "PAY-ORPHAN-1",
                                  "NAF_HH_ID": ORPHAN_HOUSEHOLD}])
    return {"national_id": nid, "person_id": person.person_id}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from assets.synthetic import generate

    home = tmp_path_factory.mktemp("sijil_hostile")
    sample = home / "sample"
    generate("jordan", PERSONS, SEED, sample, as_of=dt.date(2025, 12, 31))
    injected = _inject(sample / "inbox", sample / "truth")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}
    env.update(SIJIL_HOME=str(home), SIJIL_INBOX=str(sample / "inbox"), SIJIL_TRUTH=str(sample / "truth"),
               DAGSTER_HOME=str(home / "dagster_home"), SIJIL_OPERATOR="integration-test")
    started = time.time()
    done = subprocess.run([SIJIL, "materialize"], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (home / "logs").mkdir(exist_ok=True)
    (home / "logs" / "materialize.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    return home, env, injected, started


@pytest.fixture()
def con(hostile):
    home = hostile[0]
    with duckdb.connect(str(home / "warehouse" / "sijil.duckdb"), read_only=True) as c:
        yield c


def test_one_person_in_several_sources_and_twice_in_a_file_is_one_person(hostile, con):
    nid = hostile[2]["national_id"]
    # the repeated civil-registry row is quarantined as a duplicate key and counted
    assert con.execute("select count(*) from quarantine.civil_registry__persons where national_id = ? "
                       "and _reason = 'duplicate_key'", [nid]).fetchall() == [(1,)]
    mentions = con.execute("select m.source, c.master_person_id from intermediate.int_person_mentions m "
                           "join linkage.person_clusters c using (mention_id) where m.national_id = ?", [nid]).fetchall()
    sources = {s for s, _ in mentions}
    assert {"civil_registry", "health_insurance", "emergency_cash"} <= sources
    assert sum(1 for s, _ in mentions if s == "health_insurance") >= 3  # the original and the two added
    assert len({m for _, m in mentions}) == 1, mentions  # one master person for every mention
    person = con.execute("select person_key, household_key, sources_count from core.dim_person "
                         "where national_id = ?", [nid]).fetchall()
    assert len(person) == 1 and person[0][0] == mentions[0][1]
    assert person[0][2] == len(sources)  # each source counted once, however many rows it sent
    # every person-grain fact and indicator is keyed to that one master person: no other
    # person of the registry carries this national number, so no indicator can count them twice
    assert con.execute("select count(distinct person_key) from core.fct_service where person_key in "
                       "(select person_key from core.dim_person where national_id = ?)", [nid]).fetchall()[0][0] <= 1
    assert con.execute("select count(*) from core.dim_person where national_id = ?", [nid]).fetchall() == [(1,)]
    paid = con.execute("select person_key from core.fct_payment where source_record_key = 'EMG-DUP-PERSON'").fetchall()
    assert paid == [(person[0][0],)]


def test_an_orphan_payment_is_listed_with_its_reason_and_below_the_threshold_is_published(hostile, con):
    rows = con.execute("select source, payment_id, household_source, household_ref, reason, detail, _source_file, "
                       "_line_number from quarantine.orphan_payments where reason = 'household_not_in_registry'"
                       ).fetchall()
    assert [r[:5] for r in rows] == [
        ("naf_takaful", "PAY-ORPHAN-1", "naf_takaful", f"naf:{ORPHAN_HOUSEHOLD}", "household_not_in_registry")]
    assert rows[0][5] == "household_ref: no such household in naf_takaful households"
    assert rows[0][6].startswith("naf_takaful/naf_payments_") and rows[0][7] > 1
    # any other listed payment names a household whose own row was quarantined
    assert con.execute("select count(*) from quarantine.orphan_payments o where reason = 'household_quarantined' "
                       "and household_ref not in (select 'naf:' || household_id from quarantine.naf_takaful__households)"
                       ).fetchall() == [(0,)]
    # still in the facts, under the unknown household, so the money reconciles with the file
    assert con.execute("select household_key from core.fct_payment where source_record_key = 'PAY-ORPHAN-1'"
                       ).fetchall() == [("unknown",)]
    # the relationship test (a warning) stored the failing row in its failure table
    tables = con.execute("select table_schema, table_name from information_schema.tables "
                         "where table_schema like '%dbt_failures' and table_name like 'relationships%'").fetchall()
    stored = [t for t in tables if "from_field" in {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", list(t)
    ).fetchall()} and con.execute(f'select count(*) from "{t[0]}"."{t[1]}" where from_field = ?',
                                  [ORPHAN_HOUSEHOLD]).fetchall()[0][0]]
    assert len(stored) == 1, tables


def test_above_the_threshold_orphan_payments_fail_the_build(hostile, tmp_path):
    """The same warehouse, the profile's threshold lowered below the share seen: the error-severity
    test fails (so `dbt build`, the refresh step and the publish fail) and stores its finding."""
    from assets.profiles import load_profile
    from assets.settings import DBT_PROJECT_DIR
    from orchestration.dbt import dbt_executable, dbt_vars

    home, env, _, _ = hostile
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(home / "warehouse" / "sijil.duckdb", copy)
    values = {**dbt_vars(load_profile("jordan")), "orphan_payment_max_share": 0.0}
    done = subprocess.run([dbt_executable(), "test", "--select", "orphan_payments,test_name:sj_orphan_share_within",
                           "--vars", json.dumps(values, ensure_ascii=False), "--project-dir", str(DBT_PROJECT_DIR),
                           "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
                           "--log-path", str(tmp_path / "logs")],
                          env={**env, "SIJIL_WAREHOUSE": str(copy), "SIJIL_RUN_REFERENCE_DATE": "2025-12-31"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0 and "ERROR=1" in done.stdout, done.stdout[-2000:]
    with duckdb.connect(str(copy), read_only=True) as c:
        table = c.execute("select table_schema, table_name from information_schema.tables "
                          "where table_name like 'sj_orphan_share_within%'").fetchall()
        assert table
        found = c.execute(f'select source, orphans, max_share from "{table[0][0]}"."{table[0][1]}"').fetchall()
    assert found == [("naf_takaful", 1, 0.0)]


def test_payments_at_the_end_of_a_month_land_in_the_right_month(con):
    got = dict(con.execute("select source_record_key, period_month from core.fct_payment "
                           "where source_record_key like 'EMG-TZ-%'").fetchall())
    assert {k: str(v) for k, v in got.items()} == {k: month for k, (_, month) in TIMESTAMPS.items()}


def test_the_published_files_have_the_access_modes(hostile):
    from assets.publish.access import PRIVATE_DIR, PRIVATE_FILE, SHARED_FILE

    warehouse = hostile[0] / "warehouse"
    assert stat.S_IMODE((warehouse / "sijil.duckdb").stat().st_mode) == PRIVATE_FILE
    assert stat.S_IMODE((warehouse / "analytics.duckdb").stat().st_mode) == SHARED_FILE
    assert stat.S_IMODE((warehouse / "builds").stat().st_mode) == PRIVATE_DIR


UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{10}|[A-Z]{3}[0-9]{7}|07[789][0-9]{7})(?![0-9A-Za-z])")
ARABIC_RUN = re.compile(r"[\u0600-\u06ff]+(?: [\u0600-\u06ff]+)+")


def _leaks(path: Path, numbers: set[str], names: set[str]) -> set[str]:
    """The sample's identifiers, phones and full names found in a file (JSON's backslash-u
    escapes of four hex digits, as in Dagster's event log, decoded first)."""
    text = UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), path.read_bytes().decode("utf-8", errors="replace"))
    found = set(IDENTIFIER.findall(text)) & numbers
    found |= {n for run in ARABIC_RUN.findall(text) if len(run.split()) >= 3 for n in names if n in run}
    return found


def test_no_personal_data_in_logs_data_docs_or_the_report(hostile, tmp_path):
    from assets.settings import DBT_PROJECT_DIR

    home, _, _, started = hostile
    truth = home / "sample" / "truth"
    persons = pd.read_parquet(truth / "persons.parquet")
    households = pd.read_parquet(truth / "households.parquet")
    numbers = set(persons.national_id.dropna()) | set(persons.moi_card_no.dropna()) | set(households.phone.dropna())
    names = {" ".join(p for p in parts if isinstance(p, str) and p)
             for parts in persons[["first_name", "father_name", "grandfather_name", "family_name"]].itertuples(index=False)}
    names = {n for n in names if len(n.split()) >= 3}
    assert len(numbers) > 500 and len(names) > 500
    # the scan finds what it looks for, escaped as Dagster writes it or not
    nid, phone, name = sorted(persons.national_id.dropna())[0], sorted(households.phone.dropna())[0], sorted(names)[0]
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"msg": f"row {nid}; {name}", "x": f"+{phone}"}), encoding="utf-8")
    assert _leaks(planted, numbers, names) == {nid, name, phone}

    places = [home / "dagster_home", home / "logs", home / "quality" / "data_docs", home / "reports", home / "audit"]
    files = [p for place in places if place.exists() for p in place.rglob("*") if p.is_file()]
    files += [p for place in (DBT_PROJECT_DIR / "logs", DBT_PROJECT_DIR / "target") if place.exists()
              for p in place.rglob("*") if p.is_file() and p.stat().st_mtime >= started]
    assert any(p.suffix == ".html" and "data_docs" in p.parts for p in files)
    assert any(p.name == "indicators.html" for p in files) and any("compute_logs" in p.parts for p in files)
    leaks = {str(p): len(found) for p in files if (found := _leaks(p, numbers, names))}
    assert not leaks, leaks
