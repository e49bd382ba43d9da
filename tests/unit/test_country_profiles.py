"""A country is configuration: every profile is complete and consistent, no code names a country,
and a third profile made of configuration alone generates, parses, loads and stages."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from assets.ingestion import build_ingestion_assets
from assets.monitoring.catalogue import catalogue_path, load_catalogue
from assets.profiles import load_profile
from assets.settings import CONFIG_DIR, DBT_PROJECT_DIR, REPO_ROOT, profiles_dir
from assets.warehouse import Warehouse
from orchestration.dbt import dbt_executable, dbt_vars

PROFILES = sorted(p.parent.name for p in (CONFIG_DIR / "profiles").glob("*/profile.yaml"))
CODE_DIRS = ("assets", "orchestration", "quality", "dbt_project/models", "dbt_project/macros",
             "dbt_project/tests", "dbt_project/snapshots")
# The one place code may name a country: the profile used when SIJIL_PROFILE is not set.
ALLOWED = {("assets/settings.py", 'DEFAULT_PROFILE = "jordan"'),
           # the report's label of the unit `jod`, kept for catalogues written before unit `currency`
           ("assets/monitoring/report.py", '"jod": " JOD"')}


def _country_words() -> list[re.Pattern]:
    """Each profile's code and names (any case), and its currency and nationality codes (as written)."""
    words = []
    for code in PROFILES:
        profile = load_profile(code, CONFIG_DIR / "profiles")
        words += [re.compile(rf"\b{re.escape(w)}\b", re.IGNORECASE) for w in {profile.code, profile.name_en}]
        words += [re.compile(rf"\b{re.escape(w)}\b") for w in (profile.currency, profile.nationality_code)]
        words.append(re.compile(re.escape(profile.name_ar)))
    return words


def test_there_are_at_least_two_profiles():
    assert {"jordan", "iraq"} <= set(PROFILES)


def test_no_python_or_sql_outside_config_names_a_country():
    words = _country_words()
    found = []
    for folder in CODE_DIRS:
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".sql") or "target" in path.parts:
                continue
            rel = path.relative_to(REPO_ROOT).as_posix()
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if any(w.search(line) for w in words) and not any(rel == f and a in line for f, a in ALLOWED):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("code", PROFILES)
def test_every_profile_is_complete_and_its_feeds_name_its_own_staging_models(code):
    profile = load_profile(code, CONFIG_DIR / "profiles")
    sources = {c.source for c in profile.sources}
    assert sources and profile.currency and profile.governorates
    assert len({g["code"] for g in profile.governorates}) == len(profile.governorates)
    assert all(g["name_ar"] and g["name_en"] and g["population_k"] > 0 for g in profile.governorates)
    for name, spec in profile.identifiers.items():
        re.compile(spec["pattern"])
    programmes = pd.DataFrame(profile.programmes())
    assert set(programmes.agency_code) <= sources, set(programmes.agency_code) - sources
    catalogue = load_catalogue(catalogue_path(profile))
    assert {i["pillar"] for i in catalogue["indicators"]} <= set(catalogue["pillars"])
    models = {p.stem: p.parent.name for p in (DBT_PROJECT_DIR / "models" / "staging").rglob("stg_*.sql")}
    for role, feeds in profile.feeds.items():
        for feed in feeds or []:
            assert feed["model"] in models, (role, feed["model"])
            assert models[feed["model"]] in sources, (role, feed["model"])  # a staging folder is its source
    rules = yaml.safe_load((profile.directory / "synthetic.yaml").read_text(encoding="utf-8"))
    assert {w["source"] for w in rules["writers"]} == sources


def test_the_second_profile_has_its_own_identifiers_currency_and_governorates():
    iraq = load_profile("iraq", CONFIG_DIR / "profiles")
    assert iraq.currency == "IQD" and len(iraq.governorates) == 19
    assert re.fullmatch(iraq.identifiers["national_id"]["pattern"], "1" * 12)
    assert not re.fullmatch(iraq.identifiers["national_id"]["pattern"], "1" * 10)
    kurdistan = {g["code"] for g in iraq.governorates if g.get("region") == "kri"}
    assert kurdistan == {"AR", "SU", "DA", "HA"}
    programmes = pd.DataFrame(iraq.programmes())
    grouped = programmes[programmes.exclusivity_group == "poverty_cash"]
    assert len(grouped) >= 2  # cash meant for the same need: paying both is a duplicate benefit


def test_the_second_profiles_sample_has_its_families_displacement_and_naming(tmp_path):
    from assets.synthetic import generate

    generate("iraq", 1500, 11, tmp_path / "s", as_of=dt.date(2025, 6, 30))
    truth = tmp_path / "s" / "truth"
    households = pd.read_parquet(truth / "households.parquet")
    persons = pd.read_parquet(truth / "persons.parquet")
    displaced = households[households.is_displaced]
    assert len(displaced) > 0 and (displaced.origin_governorate_code != displaced.governorate_code).all()
    # a ration-card family is not always the household that is paid: some cards hold two households
    assert households.ration_card_no.nunique() < len(households)
    assert persons.family_name.isna().mean() > 0.05  # the tribal family name is sometimes not used
    assert persons.national_id.str.len().eq(12).all()
    members = pd.read_csv(next((tmp_path / "s" / "inbox" / "pds_ration_card").glob("pds_members_*.csv")), dtype=str)
    assert members.NATIONAL_CARD_NO.isna().any() and members.CIVIL_ID_NO.notna().any()
    idp = pd.read_csv(next((tmp_path / "s" / "inbox" / "idp_registry").glob("idp_*.csv")), dtype=str)
    kurdish = {"هەولێر", "دهۆک", "سلێمانی", "کەرکووک", "Hewlêr", "Dihok", "Slemani"}
    assert kurdish & set(idp.CURRENT_GOVERNORATE), "Kurdish spellings of place names appear"


def _third_profile(root) -> str:
    """A fake country made by copying the default profile and changing only configuration:
    another code, names, currency, identifiers' format, and one source fewer."""
    shutil.copytree(CONFIG_DIR / "profiles" / "jordan", root / "testland")
    path = root / "testland" / "profile.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw.update(code="testland", name_en="Testland", name_ar="بلد الاختبار", currency="XTS", nationality_code="XTL")
    raw["sources"] = [s for s in raw["sources"] if s != "zakat_charity"]
    raw["feeds"] = {role: [f for f in feeds if not f["model"].startswith("stg_zakat_charity")]
                    for role, feeds in raw["feeds"].items()}
    raw["source_trust"] = [s for s in raw["source_trust"] if s != "zakat_charity"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "testland" / "sources" / "zakat_charity.yaml").unlink()
    programmes = pd.read_csv(root / "testland" / "programmes.csv", dtype=str)
    programmes[programmes.agency_code != "zakat_charity"].to_csv(root / "testland" / "programmes.csv", index=False)
    rules_path = root / "testland" / "synthetic.yaml"
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    rules["writers"] = [w for w in rules["writers"] if w["source"] != "zakat_charity"]
    rules_path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return "testland"


def test_a_third_profile_needs_configuration_only(tmp_path, monkeypatch):
    from assets.synthetic import generate

    root = tmp_path / "profiles"
    root.mkdir()
    code = _third_profile(root)
    monkeypatch.setenv("SIJIL_PROFILES_DIR", str(root))
    assert profiles_dir() == root.resolve()
    profile = load_profile(code)
    assert profile.currency == "XTS" and "zakat_charity" not in {c.source for c in profile.sources}

    generate(code, 400, 5, tmp_path / "s", as_of=dt.date(2025, 6, 30))
    assert sorted(p.name for p in (tmp_path / "s" / "inbox").iterdir()) == sorted(c.source for c in profile.sources)
    monkeypatch.setenv("SIJIL_INBOX", str(tmp_path / "s" / "inbox"))
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    assert dg.materialize(build_ingestion_assets(profile), resources={"warehouse": warehouse}).success

    values = json.dumps(dbt_vars(profile), ensure_ascii=False)
    run = subprocess.run([dbt_executable(), "build", "--select", "fqn:sijil.staging", "fqn:sijil.intermediate",
                          "--vars", values, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                          "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                         env={**os.environ, "SIJIL_WAREHOUSE": str(tmp_path / "w.duckdb"), "DO_NOT_TRACK": "1",
                              "SIJIL_RUN_REFERENCE_DATE": "2025-06-30"},
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    staged = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "staging"}
    assert staged and not any(name.startswith("stg_zakat_charity") for name in staged)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        sources = {s for (s,) in con.execute("select distinct source from intermediate.int_person_mentions").fetchall()}
        paid = con.execute("select count(*) from intermediate.int_payments").fetchall()[0][0]
    assert sources == {f["source"] for f in profile.feeds["person_mentions"]}
    assert paid > 0
