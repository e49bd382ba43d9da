"""The wiring: dbt arguments from the profile, the translator's keys and groups, the graph."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from assets.profiles import load_profile
from assets.settings import DBT_PROJECT_DIR
from orchestration.dbt import SijilDbtTranslator, dbt_build_args, dbt_vars

PROFILE = load_profile("jordan")


def test_dbt_vars_come_from_the_profile_and_the_reference_date_from_the_run(monkeypatch):
    from orchestration.dbt import dbt_run_env

    values = dbt_vars(PROFILE)
    assert values["date_formats"] == list(PROFILE.date_formats)
    assert values["national_id_pattern"] == PROFILE.identifiers["national_id"]["pattern"]
    assert values["source_trust"][0] == PROFILE.source_trust[0]
    args = dbt_build_args(PROFILE)
    assert args[0] == "build" and json.loads(args[args.index("--vars") + 1]) == values
    # what changes per run is not a var (a changed var makes dbt parse the whole project again)
    assert not {"reference_date", "min_period_month", "max_period_month"} & set(values)
    monkeypatch.setenv("SIJIL_REFERENCE_DATE", "2025-12-31")
    assert dbt_run_env() == {"SIJIL_RUN_REFERENCE_DATE": "2025-12-31", "SIJIL_RUN_MONTH_FROM": "1900-01-01",
                             "SIJIL_RUN_MONTH_TO": "9999-12-01"}
    monkeypatch.delenv("SIJIL_REFERENCE_DATE")
    # read when the step runs: today, not the day the code location loaded
    assert dbt_run_env()["SIJIL_RUN_REFERENCE_DATE"] == dt.date.today().isoformat()


def test_staging_is_built_whole_when_the_code_that_makes_it_changes(tmp_path, monkeypatch):
    """The upstream dbt step's fingerprint changes with a staging model, int_person_mentions, a
    macro, the text functions or the profile's files, and not with anything else; it is recorded
    per warehouse."""
    import dataclasses
    import shutil

    import orchestration.dbt as dbt
    from assets.warehouse import Warehouse

    code = tmp_path / "code"
    for rel in (*dbt.INCREMENTAL_CODE, "dbt_project/models/marts", "orchestration"):
        target = code / rel
        if (dbt.REPO_ROOT / rel).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dbt.REPO_ROOT / rel, target)
        else:
            shutil.copytree(dbt.REPO_ROOT / rel, target)
    monkeypatch.setattr(dbt, "REPO_ROOT", code)
    shutil.copytree(PROFILE.directory, code / "profile")
    profile = dataclasses.replace(PROFILE, directory=code / "profile")
    first = dbt.incremental_code_fingerprint(profile)
    assert dbt.incremental_code_fingerprint(profile) == first
    (code / "dbt_project/models/marts/core/dim_person.sql").write_text("-- a mart is not staging")
    (code / "orchestration/refresh.py").write_text("# nor is orchestration")
    assert dbt.incremental_code_fingerprint(profile) == first
    seen = {first}
    for changed in ("dbt_project/models/staging/civil_registry/stg_civil_registry__persons.sql",
                    "dbt_project/models/intermediate/int_person_mentions.sql",
                    "dbt_project/macros/staging.sql", "assets/text/arabic.py", "profile/profile.yaml"):
        with open(code / changed, "a", encoding="utf-8") as handle:
            handle.write("\n-- changed\n")
        now = dbt.incremental_code_fingerprint(profile)
        assert now not in seen, changed
        seen.add(now)
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    assert dbt.built_under(warehouse, dbt.UPSTREAM_STEP) is None  # no file: built whole
    dbt.record_built_under(warehouse, dbt.UPSTREAM_STEP, first)
    dbt.record_built_under(warehouse, dbt.UPSTREAM_STEP, now)
    assert dbt.built_under(warehouse, dbt.UPSTREAM_STEP) == now
    assert dbt_build_args(profile, full_refresh=True)[-1] == "--full-refresh"
    assert "--full-refresh" not in dbt_build_args(profile)


def test_translator_keys_and_groups():
    t = SijilDbtTranslator()
    model = {"resource_type": "model", "schema": "core", "name": "dim_person", "description": "x"}
    assert t.get_asset_key(model) == dg.AssetKey(["core", "dim_person"])
    assert t.get_group_name(model) == "core"
    source = {"resource_type": "source", "source_name": "raw", "name": "naf_takaful__payments", "schema": "raw",
              "meta": {}, "config": {}}
    assert t.get_asset_key(source) == dg.AssetKey(["raw", "naf_takaful__payments"])


def test_definitions_load_with_every_layer(monkeypatch, tmp_path):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    from orchestration.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for contract in PROFILE.sources:
        for entity in contract.entities:
            assert f"raw/{entity.table}" in keys
    for key in ("intermediate/int_person_mentions", "linkage/person_clusters", "core/dim_person", "core/fct_payment"):
        assert key in keys
    # the linkage assets sit between the dbt intermediate and core models
    assert dg.AssetKey(["intermediate", "int_person_mentions"]) in graph.get(dg.AssetKey(["linkage", "person_clusters"])).parent_keys
    assert dg.AssetKey(["linkage", "person_clusters"]) in graph.get(dg.AssetKey(["core", "fct_grievance"])).parent_keys
    # every asset is described, the dbt source the quality checks write included (not materialised
    # by any step: its description and group come from its dbt source entry)
    assert [n.key.to_user_string() for n in graph.asset_nodes if not n.description] == []
    results = graph.get(dg.AssetKey(["audit", "expectation_results"]))
    assert not results.is_materializable and results.group_name == "audit"
    assert results.description.startswith("One row per expectation per run")
    assert [n.key.to_user_string() for n in graph.asset_nodes if not n.is_materializable] == ["audit/expectation_results"]
    # the singular dbt tests that read several models are checks of the one they guard (their
    # meta.dagster.ref), not observations: disclosure control on the published cells
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == dg.AssetKey(["monitoring", "indicator_values"])}
    assert {"assert_no_published_cell_below_k", "assert_no_hidden_cell_recoverable_from_totals",
            "assert_every_indicator_computed_has_cells"} <= checks


def test_every_warehouse_connection_has_the_memory_limit_the_setting_names(monkeypatch, tmp_path):
    """The Python assets' connections and dbt's (through the profile) spill beyond
    SIJIL_DUCKDB_MEMORY_LIMIT instead of taking DuckDB's default of 80 % of the machine."""
    import os

    import yaml

    from assets.warehouse import Warehouse
    from orchestration.dbt import point_dbt_at

    monkeypatch.setenv("SIJIL_DUCKDB_MEMORY_LIMIT", "1GB")
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == "953.6 MiB"
    with warehouse.connect(read_only=True) as con:
        assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == "953.6 MiB"
    monkeypatch.delenv("SIJIL_DUCKDB_MEMORY_LIMIT")
    monkeypatch.setenv("SIJIL_WAREHOUSE", "unset")  # monkeypatch restores both after the test
    point_dbt_at(warehouse)  # the run's setting (here the default) reaches dbt's environment
    assert os.environ["SIJIL_DUCKDB_MEMORY_LIMIT"] == "4GB"
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["sijil"]["outputs"]["warehouse"]
    assert profile["settings"]["memory_limit"] == "{{ env_var('SIJIL_DUCKDB_MEMORY_LIMIT', '4GB') }}"


def test_the_benchmark_refreshes_with_the_profile_it_generated_for(tmp_path, monkeypatch):
    """`sijil bench --profile iraq` generates an Iraqi sample and must refresh it with the Iraqi
    profile, whatever SIJIL_PROFILE the shell had; the shell's settings come back after."""
    import os

    from assets.settings import get_settings
    from orchestration.bench import scratch_environment

    monkeypatch.setenv("SIJIL_PROFILE", "jordan")
    monkeypatch.setenv("SIJIL_WAREHOUSE", "/elsewhere/w.duckdb")
    with scratch_environment(tmp_path, "iraq"):
        assert get_settings().profile == "iraq" and get_settings().home == tmp_path
        assert "SIJIL_WAREHOUSE" not in os.environ
    assert os.environ["SIJIL_PROFILE"] == "jordan" and os.environ["SIJIL_WAREHOUSE"] == "/elsewhere/w.duckdb"
