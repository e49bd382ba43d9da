"""dbt's own documentation builds offline and every model says what it is in both languages."""

from __future__ import annotations

import json
import subprocess

from assets.profiles import load_profile
from orchestration.dbt import dbt_executable, prepare_manifest
from assets.settings import DBT_PROJECT_DIR


def test_every_model_and_column_of_the_marts_is_described_in_both_languages():
    manifest = json.loads(prepare_manifest(load_profile("jordan")).manifest_path.read_text(encoding="utf-8"))
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "snapshot"):
            continue
        assert " | " in node["description"], node["name"]
        if node["schema"] == "core":
            assert node["config"]["contract"]["enforced"], node["name"]
            for column in node["columns"].values():
                english, arabic = column["description"].split(" | ")
                assert english and any("\u0600" <= ch <= "\u06ff" for ch in arabic), (node["name"], column["name"])


def test_dbt_docs_generate_works_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_WAREHOUSE", str(tmp_path / "empty.duckdb"))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    result = subprocess.run([dbt_executable(), "docs", "generate", "--empty-catalog", "--project-dir", str(DBT_PROJECT_DIR),
                             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    html = (tmp_path / "target" / "index.html").read_text(encoding="utf-8")
    assert "<html" in html.lower()


def test_indicators_count_master_persons_and_households_only():
    """Reliability #8: a person sent by several agencies is counted once in every indicator because
    the monitoring marts read only the core marts (one row per master person and household) and
    each other, never a staging or intermediate model (one row per agency record)."""
    manifest = json.loads(prepare_manifest(load_profile("jordan")).manifest_path.read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    monitoring = [n for n in nodes.values() if n["resource_type"] == "model" and n["schema"] == "monitoring"]
    assert any(n["name"] == "indicator_units" for n in monitoring)
    for node in monitoring:
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("model."):
                assert nodes[parent]["schema"] in ("core", "monitoring"), (node["name"], parent)


def test_every_incremental_staging_model_stages_each_raw_row_once():
    """A staging table is incremental: its model must read raw through sj_raw_rows (directly or
    through a shape macro), or every refresh would append every raw row again."""
    for code in ("jordan", "iraq"):
        manifest = json.loads(prepare_manifest(load_profile(code)).manifest_path.read_text(encoding="utf-8"))
        macros = manifest["macros"]

        def called(ids: list[str]) -> set[str]:
            seen: set[str] = set()
            while ids:
                macro = ids.pop()
                if macro not in seen:
                    seen.add(macro)
                    ids += macros.get(macro, {}).get("depends_on", {}).get("macros", [])
            return seen

        staging = [n for n in manifest["nodes"].values()
                   if n["resource_type"] == "model" and n["schema"] == "staging" and n["config"]["enabled"]]
        incremental = [n for n in staging if n["config"]["materialized"] == "incremental"]
        # every one but Iraq's ration-card members, which read the families model and are a table
        assert incremental and {n["name"] for n in staging} - {n["name"] for n in incremental} <= \
            {"stg_pds_ration_card__members"}, code
        for node in incremental:
            assert "macro.sijil.sj_raw_rows" in called(list(node["depends_on"]["macros"])), (code, node["name"])
            assert ["raw", node["name"].removeprefix("stg_")] in node["sources"], (code, node["name"])
