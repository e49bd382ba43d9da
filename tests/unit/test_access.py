"""Reliability #20: an analyst's account opens the analytics warehouse read-only and nothing
else — the engineering warehouse and its kept versions refuse it, and every write fails."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from assets.publish.access import PRIVATE_DIR, PRIVATE_FILE, SHARED_FILE
from assets.publish.pseudonyms import load_key, pseudonym_store_path
from assets.publish.wap import analytics_path, begin_build, publish, rollback, versions_dir
from assets.settings import get_settings

CONFIG = {"keep_versions": 2, "tables": {"core.dim_person": {"pseudonymise": ["person_key"], "columns": ["sex"]}}}

# What an analyst tries, run under the analyst's own account; prints one JSON line of outcomes.
ANALYST = r'''
import json, os, sys
import duckdb
eng, analytics, versions, store = sys.argv[1:5]
out = {}
def attempt(name, action):
    try:
        out[name] = ["ok", action()]
    except Exception as exc:
        out[name] = ["refused", type(exc).__name__ + ": " + str(exc)[:200]]
def read_analytics():
    with duckdb.connect(analytics, read_only=True) as con:
        return con.execute("select count(*) from core.dim_person").fetchall()[0][0]
def write_read_only():
    with duckdb.connect(analytics, read_only=True) as con:
        con.execute("delete from core.dim_person")
def open_analytics_for_writing():
    with duckdb.connect(analytics) as con:
        con.execute("delete from core.dim_person")
def read_engineering():
    with duckdb.connect(eng, read_only=True) as con:
        return con.execute("select count(*) from core.dim_person").fetchall()[0][0]
def read_engineering_bytes():
    with open(eng, "rb") as fh:
        return len(fh.read(16))
def list_versions():
    return os.listdir(versions)
def read_pseudonym_store():
    with open(store, "rb") as fh:
        return len(fh.read(16))
attempt("read_analytics", read_analytics)
attempt("write_through_read_only", write_read_only)
attempt("open_analytics_for_writing", open_analytics_for_writing)
attempt("read_engineering", read_engineering)
attempt("read_engineering_bytes", read_engineering_bytes)
attempt("list_versions", list_versions)
attempt("read_pseudonym_store", read_pseudonym_store)
print(json.dumps(out))
'''


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def published(monkeypatch):
    """Two publishes into a home every account can traverse (pytest's tmp_path is private to
    its owner, which would refuse the analyst for the wrong reason)."""
    home = Path(tempfile.mkdtemp(prefix="sijil-access-", dir="/tmp"))
    os.chmod(home, 0o755)
    monkeypatch.setenv("SIJIL_HOME", str(home))
    monkeypatch.delenv("SIJIL_WAREHOUSE", raising=False)
    monkeypatch.delenv("SIJIL_PUBLISHED_WAREHOUSE", raising=False)
    monkeypatch.delenv("SIJIL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SIJIL_PSEUDONYM_KEY_FILE", raising=False)
    settings = get_settings()
    key = load_key(settings)  # a sample run's: generated in the secrets folder
    for run in range(2):
        build = begin_build(settings, f"run{run}")
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists core")
            con.execute("create or replace table core.dim_person as "
                        "select 'MP' || i person_key, 'F' sex, '9876543210' national_id from range(3) t(i)")
        publish(build, settings, key, CONFIG)
    yield settings, key
    shutil.rmtree(home)


def _check_modes(settings) -> None:
    assert _mode(settings.published_warehouse) == PRIVATE_FILE
    assert _mode(versions_dir(settings)) == PRIVATE_DIR
    kept = list(versions_dir(settings).glob("*.duckdb"))
    assert kept and all(_mode(p) == PRIVATE_FILE for p in kept)
    assert _mode(analytics_path(settings)) == SHARED_FILE
    store = pseudonym_store_path(settings)
    assert _mode(store.parent) == PRIVATE_DIR and _mode(store) == PRIVATE_FILE
    assert all(_mode(p) == PRIVATE_FILE for p in store.parent.iterdir())  # the generated key too
    assert _mode(settings.published_warehouse.parent) & 0o005 == 0o005  # others can reach analytics.duckdb


def test_the_engineering_warehouse_is_private_and_the_analytics_one_shared(published):
    settings, key = published
    _check_modes(settings)
    rollback(settings, key, CONFIG)  # a rollback leaves the same modes
    _check_modes(settings)


def test_a_read_only_connection_refuses_every_write(published):
    settings, _ = published
    with duckdb.connect(str(analytics_path(settings)), read_only=True) as con:
        for statement in ("delete from core.dim_person", "create table core.x as select 1",
                          "update core.dim_person set sex = 'M'"):
            with pytest.raises(duckdb.Error, match="read-only"):
                con.execute(statement)
        assert con.execute("select count(*) from core.dim_person").fetchall() == [(3,)]


AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def test_an_analyst_account_reads_only_the_analytics_warehouse(published):
    settings, _ = published
    args = [str(settings.published_warehouse), str(analytics_path(settings)), str(versions_dir(settings)),
            str(pseudonym_store_path(settings))]
    if os.geteuid() == 0:
        done = subprocess.run([*AS_NOBODY, sys.executable, "-c", ANALYST, *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["read_analytics"] == ["ok", 3]
        for refused in ("read_engineering", "read_engineering_bytes", "list_versions", "read_pseudonym_store"):
            assert out[refused][0] == "refused" and "ermission" in out[refused][1], (refused, out[refused])
        assert out["write_through_read_only"][0] == "refused" and "read-only" in out["write_through_read_only"][1]
        assert out["open_analytics_for_writing"][0] == "refused"
    else:
        # Not root: no other account to become. The file modes decide what another account may
        # do, so they are what is checked (and the read-only refusal, above).
        _check_modes(settings)
        assert not _mode(settings.published_warehouse) & 0o077
    with duckdb.connect(str(analytics_path(settings)), read_only=True) as con:  # nothing was changed
        assert con.execute("select count(*) from core.dim_person").fetchall() == [(3,)]
