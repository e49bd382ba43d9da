"""The wiring: dbt arguments from the profile, the translator's keys and groups, the graph."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from assets.profiles import load_profile
from orchestration.dbt import SijilDbtTranslator, dbt_build_args, dbt_vars

PROFILE = load_profile("jordan")


def test_dbt_vars_come_from_the_profile_and_the_reference_date_from_the_run(monkeypatch):
    values = dbt_vars(PROFILE, "2026-01-31")
    assert values["reference_date"] == "2026-01-31"
    assert values["date_formats"] == list(PROFILE.date_formats)
    assert values["national_id_pattern"] == PROFILE.identifiers["national_id"]["pattern"]
    assert values["source_trust"][0] == PROFILE.source_trust[0]
    monkeypatch.setenv("SIJIL_REFERENCE_DATE", "2025-12-31")
    args = dbt_build_args(PROFILE)
    assert args[0] == "build" and json.loads(args[args.index("--vars") + 1])["reference_date"] == "2025-12-31"
    monkeypatch.delenv("SIJIL_REFERENCE_DATE")
    args = dbt_build_args(PROFILE)  # read when the step runs: today, not the day the code location loaded
    assert json.loads(args[args.index("--vars") + 1])["reference_date"] == dt.date.today().isoformat()


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
