"""Reliability #28: what is past retention is purged from landing, quarantine, the ledger and
Data Docs; the purge is logged; the marts are unaffected; purged rows do not come back."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import duckdb
import pytest

from assets.errors import SijilError
from assets.ingestion.load import ingest_source
from assets.operations.retention import (RetentionConfig, fingerprint, load_retention_config, prune_data_docs,
                                         purge)
from assets.profiles import load_profile, parse_source_contract
from assets.publish.wap import versions_dir
from assets.settings import get_settings

FORMATS = list(load_profile("jordan").date_formats)
CONTRACT = parse_source_contract({
    "source": "demo", "severity": "critical",
    "entities": {"payments": {
        "file_pattern": "pay_*.csv", "format": "csv", "primary_key": ["payment_id"],
        "columns": {"payment_id": {"source": "ID", "required": True},
                    "name": {"source": "NAME", "pii": "direct"},
                    "amount": {"source": "AMOUNT", "type": "decimal", "required": True, "min": 0.01}}}},
})
NOW = dt.datetime(2026, 6, 1, 12, 0)
CONFIG = RetentionConfig(landing_days=365, quarantine_days=90, ledger_days=400, data_docs_runs=2,
                         dbt_artifact_runs=30)


def _ingest(path, inbox, load_id):
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "quarantine", "audit", "core"):
            con.execute(f"create schema if not exists {schema}")
        ingest_source(con, CONTRACT, inbox, FORMATS, load_id=load_id, run_id=load_id)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A published warehouse that has loaded three deliveries: one 500 days old, one 120 days
    old and one from last week (the ledger's load times say so), each with a bad row; a mart;
    a kept version; and Data Docs of three runs."""
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    monkeypatch.delenv("SIJIL_INBOX", raising=False)
    monkeypatch.delenv("SIJIL_PUBLISHED_WAREHOUSE", raising=False)
    settings = get_settings()
    folder = settings.inbox / "demo"
    folder.mkdir(parents=True)
    ages = {"pay_old.csv": 500, "pay_mid.csv": 120, "pay_new.csv": 7}
    for i, name in enumerate(ages):
        (folder / name).write_text(f"ID,NAME,AMOUNT\nP{i}a,محمد,10\nP{i}b,فاطمة,-5\n", encoding="utf-8")
    published = settings.published_warehouse
    published.parent.mkdir(parents=True)
    _ingest(published, settings.inbox, "L1")
    with duckdb.connect(str(published)) as con:
        for name, days in ages.items():
            con.execute("update audit.ingestion_ledger set loaded_at = ? where file = ?",
                        [NOW - dt.timedelta(days=days), f"demo/{name}"])
        con.execute("create table core.fct_payment as select payment_id, amount from raw.demo__payments")
        con.execute("create schema monitoring")
        con.execute("create table monitoring.indicator_values as select 'x' as code, 2 as value")
    versions_dir(settings).mkdir()
    shutil.copyfile(published, versions_dir(settings) / "sijil-20260101T000000000000.duckdb")
    gx = tmp_path / "quality"
    for root in (gx / "gx" / "gx" / "uncommitted", gx / "data_docs"):
        for run, mtime in (("run_a", 1_000), ("run_b", 2_000), ("run_c", 3_000)):
            page = root / "validations" / "suite_x" / run / "t1" / "b.html"
            page.parent.mkdir(parents=True)
            page.write_text("<html>counts</html>", encoding="utf-8")
            os.utime(page.parent.parent, (mtime, mtime))
    (gx / "data_docs" / "index.html").write_text(
        "<table>" + "".join(f'<tr><td><a href="validations/suite_x/{r}/t1/b.html">{r}</a></td></tr>'
                            for r in ("run_a", "run_b", "run_c")) + "</table>", encoding="utf-8")
    return settings


def _rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_purge_removes_what_is_past_retention_and_logs_it(home):
    settings = home
    published = settings.published_warehouse
    with duckdb.connect(str(published), read_only=True) as con:
        marts_before = fingerprint(con)
    assert _rows(published, "select count(*) from quarantine.demo__payments") == [(3,)]

    report = purge(settings, CONFIG, now=NOW)

    # landing: only the 500-day-old delivery is past 365 days
    assert report.landing_files == ["demo/pay_old.csv"]
    assert sorted(p.name for p in (settings.inbox / "demo").iterdir()) == ["pay_mid.csv", "pay_new.csv"]
    # quarantine: the bad rows of the files older than 90 days are gone, last week's stays
    for warehouse in (published, *versions_dir(settings).glob("*.duckdb")):
        assert _rows(warehouse, "select _source_file, _reason from quarantine.demo__payments") == \
            [("demo/pay_new.csv", "out_of_range")]
        # the ledger keeps 400 days: the 500-day-old load is gone
        assert sorted(r[0] for r in _rows(warehouse, "select file from audit.ingestion_ledger")) == \
            ["demo/pay_mid.csv", "demo/pay_new.csv"]
    assert report.quarantine_rows == {"demo__payments": 2} and report.ledger_rows == 1 and report.versions == 1
    # the marts are exactly as they were
    with duckdb.connect(str(published), read_only=True) as con:
        assert fingerprint(con) == marts_before
        assert con.execute("select count(*) from raw.demo__payments").fetchall() == [(3,)]
        log = con.execute("select layer, item, rows from audit.retention_purges order by layer, item").fetchall()
    assert ("landing", "demo/pay_old.csv", None) in log
    assert ("quarantine_rows", "demo__payments", 2) in log and ("ledger", "audit.ingestion_ledger", 1) in log
    assert sum(1 for layer, _, _ in log if layer == "quarantine") == 2  # the two files, by hash
    assert not any("محمد" in str(row) or "فاطمة" in str(row) for row in log)  # counts and files, never content
    # Data Docs: the newest two runs are kept, and the index no longer links to the pruned one
    assert report.data_docs_runs == ["run_a"]
    for root in (settings.home / "quality" / "gx" / "gx" / "uncommitted", settings.home / "quality" / "data_docs"):
        assert sorted(p.name for p in (root / "validations" / "suite_x").iterdir()) == ["run_b", "run_c"]
    index = (settings.home / "quality" / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "run_a" not in index and "run_b" in index and "run_c" in index


def test_purged_quarantine_rows_do_not_come_back_at_the_next_load(home):
    settings = home
    purge(settings, CONFIG, now=NOW)
    # The next refresh reloads the inbox (pay_mid.csv is still there) into a build copied from
    # the published warehouse: its quarantined row stays purged; last week's is kept.
    build = settings.published_warehouse.with_name("next.duckdb")
    shutil.copyfile(settings.published_warehouse, build)
    _ingest(build, settings.inbox, "L2")
    assert _rows(build, "select _source_file from quarantine.demo__payments") == [("demo/pay_new.csv",)]
    assert _rows(build, "select count(*) from raw.demo__payments") == [(2,)]
    # the ledger still says what the file held, so the load reconciles
    assert _rows(build, "select sum(rows_lost) from audit.ingestion_ledger where load_id = 'L2'") == [(0,)]


def test_a_second_purge_finds_nothing_more(home):
    purge(home, CONFIG, now=NOW)
    again = purge(home, CONFIG, now=NOW)
    assert again.counts() == {"landing_files": 0, "quarantine_rows": 0, "ledger_rows": 0, "data_docs_runs": 0, "dbt_artifact_runs": 0,
                              "warehouse_versions": 1}


def test_prune_keeps_everything_within_the_limit(tmp_path):
    (tmp_path / "validations" / "s" / "r1").mkdir(parents=True)
    assert prune_data_docs([tmp_path], keep_runs=5) == []
    assert (tmp_path / "validations" / "s" / "r1").is_dir()


def test_retention_config_is_checked(tmp_path):
    assert load_retention_config().ledger_days >= load_retention_config().quarantine_days
    bad = tmp_path / "r.yaml"
    bad.write_text("landing_days: 30\nquarantine_days: 30\nledger_days: 10\ndata_docs_runs: 3\n"
                   "dbt_artifact_runs: 3\n", encoding="utf-8")
    with pytest.raises(SijilError, match="ledger_days must be at least"):
        load_retention_config(bad)
    bad.write_text("landing_days: 30\n", encoding="utf-8")
    with pytest.raises(SijilError, match="missing"):
        load_retention_config(bad)


def test_dbt_invocation_folders_are_pruned_to_the_newest_and_manifests_stay(tmp_path):
    from assets.operations.retention import prune_dbt_artifacts

    target = tmp_path / "target"
    names = [f"dbt_marts_assets-{i:07x}-abcdef{i}" for i in range(5)]
    for age, name in enumerate(names):  # names[0] newest
        folder = target / name
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
        os.utime(folder, (time.time() - 60 * (age + 1),) * 2)
    (target / "jordan").mkdir()  # a profile's parsed manifest, not an invocation
    (target / "jordan" / "manifest.json").write_text("{}", encoding="utf-8")
    os.utime(target / "jordan", (time.time() - 86400,) * 2)
    assert sorted(prune_dbt_artifacts(target, 2)) == sorted(names[2:])
    assert sorted(p.name for p in target.iterdir()) == sorted([*names[:2], "jordan"])
    assert prune_dbt_artifacts(target, 2) == [] and prune_dbt_artifacts(tmp_path / "absent", 2) == []


def test_dbt_test_seconds_counts_one_runs_tests_once_however_they_overlap(tmp_path, monkeypatch):
    """A run's dbt tests, from its own invocation folders only; overlapping tests count once,
    models not at all, and an invocation that wrote no results is skipped."""
    import json

    import orchestration.dbt as dbt_module
    from assets.operations.retention import dbt_invocation_folders, new_dbt_invocation_folder

    monkeypatch.setattr(dbt_module, "DBT_PROJECT_DIR", tmp_path)
    target = tmp_path / "target"

    def node(unique_id, start, end):
        at = lambda s: f"2026-11-23T10:00:{s:06.3f}Z"  # noqa: E731
        return {"unique_id": unique_id, "timing": [{"name": "compile", "started_at": at(start), "completed_at": at(start)},
                                                   {"name": "execute", "started_at": at(start), "completed_at": at(end)}]}

    def invocation(op, run_id, nodes):
        folder = new_dbt_invocation_folder(target, op, run_id)
        folder.mkdir(parents=True)
        if nodes is not None:
            (folder / "run_results.json").write_text(json.dumps({"results": nodes}), encoding="utf-8")
        return folder

    run, other = "a1b2c3d4-run", "e5f6a7b8-run"
    invocation("dbt_upstream_assets", run, [node("model.sijil.stg", 0, 5), node("test.sijil.a", 5, 7),
                                            node("test.sijil.b", 6, 8)])  # overlap: 5-8 is 3 s
    invocation("dbt_marts_assets", run, [node("test.sijil.c", 20, 21.5)])
    invocation("dbt_monthly_assets", run, None)
    invocation("dbt_marts_assets", other, [node("test.sijil.d", 30, 40)])
    assert len(dbt_invocation_folders(target, run)) == 3 and len(dbt_invocation_folders(target)) == 4
    tests, seconds = dbt_module.dbt_test_seconds(run)
    assert tests == 3 and seconds == pytest.approx(4.5)
