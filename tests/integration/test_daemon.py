"""A live Dagster daemon, as production runs it: `dagster-daemon run` on the project's workspace
with a DAGSTER_HOME of its own. A delivery in the inbox makes the inbox sensor launch a published
refresh by itself; it is ingested once, the audit log gets the run, and the next tick, with the
same files, launches nothing."""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.settings import CONFIG_DIR, REPO_ROOT

pytestmark = pytest.mark.integration

PERSONS = 1000  # as tests/integration/test_running_for_real.py: a sample that publishes
SEED = 7
SENSOR_SECONDS = 5  # the inbox sensor's interval in this test (the shipped default is 60 s)
# From the daemon's start to the published refresh finished: a bound, not an expectation. On the
# project's shared 2-core machine at a load of 15-20, loading the code location alone took 2 min.
RUN_DEADLINE_SECONDS = 1500


def _operations_config(path: Path) -> Path:
    """config/operations.yaml with a short sensor interval and settle time, as an operator may set."""
    raw = yaml.safe_load((CONFIG_DIR / "operations.yaml").read_text(encoding="utf-8"))
    raw["inbox_sensor"].update(minimum_interval_seconds=SENSOR_SECONDS, settle_seconds=1)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture()
def daemon_home(tmp_path, monkeypatch):
    """A delivered inbox, a DAGSTER_HOME from the project's template, production settings (so the
    sensors start on their own) and the environment of the daemon and the test alike."""
    from assets.synthetic import generate

    home = tmp_path / "home"
    generate("jordan", PERSONS, SEED, home / "sample", as_of=dt.date(2025, 12, 31))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(REPO_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}
    env.update(SIJIL_HOME=str(home), SIJIL_INBOX=str(home / "sample" / "inbox"),
               SIJIL_TRUTH=str(home / "sample" / "truth"), DAGSTER_HOME=str(dagster_home),
               SIJIL_MODE="production", SIJIL_PSEUDONYM_KEY="daemon-test-" + "7" * 52,
               SIJIL_OPERATIONS_CONFIG=str(_operations_config(tmp_path / "operations.yaml")),
               SIJIL_OPERATOR="daemon-test")
    for name, value in env.items():
        if name.startswith("SIJIL_") or name == "DAGSTER_HOME":
            monkeypatch.setenv(name, value)
    # As a deployment does before its services first start (README, Running it for real): the
    # daemon and this test opening a new DAGSTER_HOME at once both stamp its SQLite schema version,
    # and every later open fails with alembic's "more than one head present".
    subprocess.run([str(Path(sys.executable).parent / "dagster"), "instance", "migrate"], env=env,
                   check=True, capture_output=True)
    return home, env


def _start_daemon(env: dict, log: Path) -> subprocess.Popen:
    daemon = Path(sys.executable).parent / "dagster-daemon"
    with log.open("wb") as out:
        # A session of its own: the daemon, its code server and the run workers it starts are one
        # process group, ended together.
        return subprocess.Popen([str(daemon), "run", "-w", str(REPO_ROOT / "workspace.yaml")], cwd=REPO_ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """End the daemon's process group: politely, then, whatever is left (a run worker, a code
    server finishing a run), by SIGKILL."""
    group = process.pid  # start_new_session: the group id is the daemon's pid
    try:
        os.killpg(group, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    finally:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)


def _wait_for(what: str, deadline: float, found, daemon: subprocess.Popen, log: Path):
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        assert daemon.poll() is None, f"the daemon exited:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text(errors='replace')[-3000:]}")


def _why_it_failed(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    from assets.operations.config import load_operations_config
    from assets.settings import get_settings

    errors = [e.dagster_event.event_specific_data.error.to_string() for e in instance.all_logs(run.run_id)
              if e.dagster_event and e.dagster_event.is_step_failure and e.dagster_event.event_specific_data.error]
    alerts = load_operations_config().alert_file(get_settings())
    return "\n".join([*errors, alerts.read_text(encoding="utf-8") if alerts.exists() else "no alert line"])[-6000:]


def _sensor_ticks(instance: dg.DagsterInstance, name: str) -> list:
    state = next(s for s in instance.all_instigator_state() if s.name == name)
    return instance.get_ticks(state.instigator_origin_id, state.selector_id)


def test_the_daemon_refreshes_a_new_delivery_once_by_itself(daemon_home, tmp_path):
    from assets.operations.audit_log import read_entries
    from assets.operations.config import load_operations_config
    from assets.settings import get_settings
    from orchestration.automation import NEW_FILES_TAG, PARENT_RUN_TAG, PUBLISHED_REFRESH_JOB

    home, env = daemon_home
    inbox = home / "sample" / "inbox"
    delivered = sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file())
    log = tmp_path / "daemon.log"
    started = time.monotonic()
    daemon = _start_daemon(env, log)
    try:
        with dg.DagsterInstance.get() as instance:
            def refreshes():
                return instance.get_runs(dg.RunsFilter(job_name=PUBLISHED_REFRESH_JOB))

            def finished():
                runs = refreshes()
                return runs if runs and all(r.is_finished for r in runs) else None

            runs = _wait_for("the published refresh the inbox sensor launches", started + RUN_DEADLINE_SECONDS,
                             finished, daemon, log)
            run = runs[0]
            assert run.status == dg.DagsterRunStatus.SUCCESS, _why_it_failed(instance, run)
            assert run.tags["dagster/sensor_name"] == "inbox_sensor"
            assert sorted(run.tags[NEW_FILES_TAG].split(", ")) == delivered
            run_end = instance.get_run_stats(run.run_id).end_time
            # A later tick looks at the same files and launches nothing.
            _wait_for("an inbox sensor tick after the refresh", time.monotonic() + 6 * SENSOR_SECONDS + 60,
                      lambda: [t for t in _sensor_ticks(instance, "inbox_sensor") if t.timestamp > run_end],
                      daemon, log)
            later = [t for t in _sensor_ticks(instance, "inbox_sensor") if t.timestamp > run_end]
            assert all(t.status.value == "SKIPPED" and not t.run_ids for t in later)
            assert [r.run_id for r in refreshes()] == [run.run_id]
            # The refresh wrote its build file, not the working copy: automation started nothing.
            started_by_automation = [(r.job_name, sorted(k.to_user_string() for k in r.asset_selection or ()),
                                      dict(r.tags)) for r in instance.get_runs()
                                     if r.job_name != PUBLISHED_REFRESH_JOB and PARENT_RUN_TAG not in r.tags]
            assert started_by_automation == []
    finally:
        _stop(daemon)
    elapsed = time.monotonic() - started
    # Ingested exactly once: each delivered file has one loaded ledger row per entity it holds.
    with duckdb.connect(str(get_settings().published_warehouse), read_only=True) as con:
        ledger = con.execute("select file, entity, count(*) filter (where status = 'loaded'), "
                             "count(*) from audit.ingestion_ledger group by all").fetchall()
    assert sorted({row[0] for row in ledger}) == delivered
    assert all(loaded == 1 and rows == 1 for _, _, loaded, rows in ledger), ledger
    # The audit log holds the refresh under the run's id, started and published, once.
    entries = [e for e in read_entries(load_operations_config().audit_file(get_settings()))
               if e["run_id"] == run.run_id]
    assert [e["outcome"] for e in entries] == ["started", "published"], entries
    assert entries[1]["operator"] == "daemon-test" and entries[1]["kind"] == "refresh"
    print(f"daemon test: refresh launched and finished in {elapsed:.0f} s wall")
