"""Running it for real, end to end on a small sample, with `sijil materialize` as a process:
a full refresh with the network blocked, a refresh killed with SIGKILL in the middle of dbt
while a reader has the published warehouse open, the next refresh, the audit log of all of
it, and a scan of every column of the analytics warehouse for personal data."""

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration

PERSONS = 1000
SEED = 7
SIJIL = str(Path(sys.executable).parent / "sijil")

# Loaded by every Python process of the refresh (sijil, and dbt which Dagster starts as a
# subprocess) through PYTHONPATH: records that it is active, and records and refuses any
# connection or name lookup that would leave the machine (AF_UNIX and loopback are allowed).
SOCKET_GUARD = '''
import os, socket
_log = os.environ["SIJIL_SOCKET_LOG"]
with open(_log + ".loaded", "a") as fh:
    fh.write(f"{os.getpid()}\\n")
_LOCAL = {"127.0.0.1", "::1", "localhost", "", None}

def _refuse(what):
    with open(_log, "a") as fh:
        fh.write(f"{os.getpid()} {what}\\n")
    raise OSError(101, "network blocked by the Sijil offline test: " + what)

def _guard(original):
    def connect(self, address):
        if self.family != getattr(socket, "AF_UNIX", None):
            host = address[0] if isinstance(address, tuple) else address
            if host not in _LOCAL:
                _refuse(f"connect {address!r}")
        return original(self, address)
    return connect

socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
_getaddrinfo = socket.getaddrinfo

def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        _refuse(f"getaddrinfo {host!r}")
    return _getaddrinfo(host, *args, **kwargs)

socket.getaddrinfo = getaddrinfo
'''


def _network_namespace_available() -> bool:
    try:
        return shutil.which("unshare") is not None and subprocess.run(
            ["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def ops_home(tmp_path_factory):
    """A generated sample and the environment a `sijil` process needs to refresh it."""
    from assets.synthetic import generate

    home = tmp_path_factory.mktemp("sijil_ops")
    generate("jordan", PERSONS, SEED, home / "sample", as_of=dt.date(2025, 12, 31))
    guard = home / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}
    env.update(SIJIL_HOME=str(home), SIJIL_INBOX=str(home / "sample" / "inbox"),
               SIJIL_TRUTH=str(home / "sample" / "truth"), DAGSTER_HOME=str(home / "dagster_home"),
               SIJIL_OPERATOR="integration-test")
    return home, env


def _settings(env):
    mp = pytest.MonkeyPatch()
    for name in ("SIJIL_HOME", "SIJIL_INBOX", "SIJIL_TRUTH"):
        mp.setenv(name, env[name])
    from assets.settings import get_settings

    settings = get_settings()
    mp.undo()
    return settings


def _audit_log(home: Path) -> Path:
    from assets.operations.config import load_operations_config

    return home / load_operations_config().audit_path


@pytest.fixture(scope="module")
def offline_refresh(ops_home):
    """The first refresh, with Python sockets guarded and, where the kernel allows, inside a
    network namespace that has no interface but loopback."""
    home, env = ops_home
    log = home / "sockets.log"
    guarded = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(home / "guard"), env.get("PYTHONPATH")])),
               "SIJIL_SOCKET_LOG": str(log)}
    command = ([*(["unshare", "-rn"] if _network_namespace_available() else []), SIJIL, "materialize"])
    done = subprocess.run(command, env=guarded, capture_output=True, text=True, timeout=1800)
    return done, log


def test_a_full_refresh_makes_no_network_connection(offline_refresh, ops_home):
    done, log = offline_refresh
    home, env = ops_home
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "published warehouse:" in done.stdout
    loaded = (home / "sockets.log.loaded").read_text().split()
    assert len(loaded) >= 2  # the guard was active in sijil itself and in the dbt processes
    assert not log.exists() or log.read_text() == "", f"outbound attempts: {log.read_text()}"


def test_the_audit_log_records_the_refresh(offline_refresh, ops_home):
    from assets.ingestion.load import sha256_of
    from assets.operations.audit_log import read_entries, verify_chain

    home, env = ops_home
    entries = read_entries(_audit_log(home))
    assert [e["outcome"] for e in entries[:2]] == ["started", "published"]
    first = entries[1]
    assert first["run_id"] == entries[0]["run_id"] and first["detail"].startswith("dagster run ")
    assert (first["kind"], first["operator"]) == ("refresh", "integration-test")
    inputs = json.loads(first["input_files"])
    payments = next((home / "sample" / "inbox" / "naf_takaful").glob("naf_payments_*"))
    assert inputs[f"naf_takaful/{payments.name}"] == sha256_of(payments)
    assert len(inputs) >= 16
    rows = json.loads(first["row_counts"])
    assert rows["raw"] > 0 and rows["core"] > 0
    assert verify_chain(_audit_log(home)) == []
    assert subprocess.run([SIJIL, "audit", "--verify"], env=env, capture_output=True, timeout=120).returncode == 0


def _count_persons(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from core.dim_person").fetchall()[0][0]


def test_a_killed_refresh_leaves_the_published_warehouse_unchanged(offline_refresh, ops_home):
    """SIGKILL in the middle of dbt, while a reader has the published warehouse open."""
    home, env = ops_home
    settings = _settings(env)
    published, analytics = settings.published_warehouse, settings.published_warehouse.parent / "analytics.duckdb"
    before, analytics_before = published.read_bytes(), analytics.read_bytes()
    persons = _count_persons(published)
    reader = duckdb.connect(str(published), read_only=True)  # open before the refresh starts

    refresh = subprocess.Popen([SIJIL, "materialize"], env={**env, "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    in_dbt = threading.Event()
    output: list[str] = []

    def watch():
        for line in refresh.stdout:
            output.append(line)
            if " START sql " in line:
                in_dbt.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert in_dbt.wait(timeout=900), "".join(output[-50:])
        time.sleep(1.0)
        # during the build: the open reader and a newly opened one both read the published version
        assert reader.execute("select count(*) from core.dim_person").fetchall()[0][0] == persons
        assert _count_persons(published) == persons
        os.killpg(refresh.pid, signal.SIGKILL)
        refresh.wait(timeout=60)
    finally:
        if refresh.poll() is None:
            os.killpg(refresh.pid, signal.SIGKILL)
    assert refresh.returncode == -signal.SIGKILL
    assert reader.execute("select count(*) from core.dim_person").fetchall()[0][0] == persons
    reader.close()
    assert published.read_bytes() == before
    assert analytics.read_bytes() == analytics_before
    # the killed refresh left its trace in the audit log: started, never finished
    from assets.operations.audit_log import read_entries, unfinished_runs

    entries = read_entries(_audit_log(home))
    assert entries[-1]["outcome"] == "started" and unfinished_runs(entries) == [entries[-1]["run_id"]]


def test_the_next_refresh_after_a_kill_succeeds(offline_refresh, ops_home):
    from assets.operations.audit_log import read_entries, verify_chain

    home, env = ops_home
    settings = _settings(env)
    previous_versions = set((settings.published_warehouse.parent / "versions").glob("*.duckdb"))
    done = subprocess.run([SIJIL, "materialize"], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    versions = set((settings.published_warehouse.parent / "versions").glob("*.duckdb"))
    assert len(versions - previous_versions) == 1  # the version published before is kept for rollback
    assert not list((settings.published_warehouse.parent / "builds").glob("*.duckdb*"))  # the killed build is gone
    entries = read_entries(_audit_log(home))
    assert [e["outcome"] for e in entries][-1] == "published"
    assert verify_chain(_audit_log(home)) == []


def _personal_values(engineering: Path) -> tuple[set[str], set[str]]:
    """Every national number and phone, and every name, that the engineering warehouse holds."""
    with duckdb.connect(str(engineering), read_only=True) as con:
        # Reference tables (raw.ref_*: governorates, programmes, the indicator catalogue) name no person.
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                              "where table_schema in ('raw', 'staging', 'intermediate') "
                              "and not starts_with(table_name, 'ref_')").fetchall()
        numbers, names = set(), set()
        for schema, table, column in columns:
            low = column.lower()
            target = (numbers if any(k in low for k in ("national", "phone", "mobile", "nid"))
                      else names if "name" in low and "file" not in low else None)
            if target is None:
                continue
            values = {v for (v,) in con.execute(
                f'select distinct cast("{column}" as varchar) from {schema}."{table}" where "{column}" is not null'
            ).fetchall() if v and len(v) >= 3}
            if target is numbers:  # identifiers, not flags such as has_phone
                values = {v for v in values if sum(ch.isdigit() for ch in v) >= 7}
            target.update(values)
    return numbers, names


def test_no_column_of_the_analytics_warehouse_holds_a_national_number_name_or_phone(offline_refresh, ops_home):
    from assets.profiles import load_profile
    from assets.publish.analytics import leak_patterns, scan_for_pii

    home, env = ops_home
    settings = _settings(env)
    numbers, names = _personal_values(settings.published_warehouse)
    assert len(numbers) > PERSONS // 2 and len(names) > 100  # the scan looks for something real
    programme_names = set()
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as eng:
        # programme, governorate and shock names are public reference data, not people
        for table in ("dim_programme", "dim_geography", "fct_shock"):
            for (en, ar) in eng.execute(f"select name_en, name_ar from core.{table}").fetchall():
                programme_names.update({en, ar})
    people = names - programme_names
    with duckdb.connect(str(settings.published_warehouse.parent / "analytics.duckdb"), read_only=True) as con:
        assert scan_for_pii(con, leak_patterns(load_profile("jordan").identifiers)) == []
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                              "where table_catalog = current_database()").fetchall()
        assert len(columns) > 50
        for schema, table, column in columns:  # every column, whatever its type
            values = {v for (v,) in con.execute(
                f'select distinct cast("{column}" as varchar) from {schema}."{table}" where "{column}" is not null'
            ).fetchall()}
            assert not values & numbers, f"{schema}.{table}.{column} holds national or phone numbers"
            assert not values & people, f"{schema}.{table}.{column} holds names of persons"


def test_monthly_payments_reconcile_and_one_month_backfills_alone(offline_refresh, ops_home, tmp_path, monkeypatch):
    """fct_payment_month holds every dated payment; rebuilding one partition touches that month only."""
    import dagster as dg

    from orchestration.automation import MONTHLY_JOB
    from orchestration.definitions import build_definitions

    home, env = ops_home
    settings = _settings(env)
    copy = tmp_path / "working.duckdb"
    shutil.copyfile(settings.published_warehouse, copy)
    month_sql = "select period_month, sum(amount), sum(payments) from core.fct_payment_month group by 1 order by 1"
    with duckdb.connect(str(copy)) as con:
        by_month = con.execute(month_sql).fetchall()
        facts = con.execute("select period_month, sum(amount), count(*) from core.fct_payment "
                            "where period_month is not null group by 1 order by 1").fetchall()
        assert by_month == facts and len(by_month) >= 12
        rebuilt, untouched = by_month[-2][0], by_month[-3][0]
        con.execute("delete from core.fct_payment_month where period_month in (?, ?)", [rebuilt, untouched])
    for name in ("SIJIL_HOME", "SIJIL_INBOX", "SIJIL_TRUTH"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("SIJIL_WAREHOUSE", str(copy))
    job = build_definitions().resolve_job_def(MONTHLY_JOB)
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, partition_key=rebuilt.isoformat(), raise_on_error=False)
    assert result.success
    with duckdb.connect(str(copy), read_only=True) as con:
        after = con.execute(month_sql).fetchall()
    assert after == [m for m in by_month if m[0] != untouched]


CELL_COLUMNS = ("cell_id, indicator_code, grain, period_start, is_complete, dimension, dimension_value, "
                "round(numerator, 6), round(denominator, 6), units, round(value, 6)")


def test_monthly_indicator_cells_equal_the_full_build_and_one_month_backfills_alone(offline_refresh, ops_home,
                                                                                    tmp_path, monkeypatch):
    """indicator_cells_month, partitioned by month, holds exactly indicator_cells' month rows; a
    partition materialised on its own (what a backfill of that month runs) rebuilds that month to
    the same values and leaves every other month as it was."""
    import dagster as dg

    from orchestration.automation import MONTHLY_JOB
    from orchestration.definitions import build_definitions

    home, env = ops_home
    copy = tmp_path / "working.duckdb"
    shutil.copyfile(_settings(env).published_warehouse, copy)
    month_sql = f"select {CELL_COLUMNS} from monitoring.indicator_cells_month order by cell_id"
    with duckdb.connect(str(copy)) as con:
        full = con.execute(month_sql).fetchall()
        cells = con.execute(f"select {CELL_COLUMNS} from monitoring.indicator_cells where grain = 'month' "
                            "order by cell_id").fetchall()
        assert full == cells
        months = sorted({row[3] for row in full})
        assert len(months) >= 12
        rebuilt, untouched = months[-2], months[-3]
        con.execute("delete from monitoring.indicator_cells_month where period_start = ?", [rebuilt])
        con.execute("update monitoring.indicator_cells_month set value = -1 where period_start = ?", [untouched])
        marked = con.execute(month_sql).fetchall()
    for name in ("SIJIL_HOME", "SIJIL_INBOX", "SIJIL_TRUTH"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("SIJIL_WAREHOUSE", str(copy))
    job = build_definitions().resolve_job_def(MONTHLY_JOB)
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, partition_key=rebuilt.isoformat(), raise_on_error=False,
                                        asset_selection=[dg.AssetKey(["monitoring", "indicator_cells_month"])])
    assert result.success
    assert [m.partition for m in result.asset_materializations_for_node("dbt_monthly_assets")] == [rebuilt.isoformat()]
    with duckdb.connect(str(copy), read_only=True) as con:
        after = con.execute(month_sql).fetchall()
    assert [r for r in after if r[3] == rebuilt] == [r for r in full if r[3] == rebuilt]  # the full build's values
    assert [r for r in after if r[3] != rebuilt] == [r for r in marked if r[3] != rebuilt]  # others untouched
