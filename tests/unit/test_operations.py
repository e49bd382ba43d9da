"""Running unattended: the audit log's chain, retries for transient failures only, the inbox
sensor (each file once, by content), the schedule, the failure sensor and its alert,
declarative automation, and telemetry off."""


import json
import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.errors import SijilError
from assets.operations.alerts import alert_line
from assets.operations.audit_log import RunRecord, append_entry, code_version, read_entries, utc_now, verify_chain
from assets.operations.config import load_operations_config
from assets.operations.inbox import new_files, scan_inbox
from assets.operations.retries import final_unless_transient, is_transient, retry_policy
from assets.profiles import load_profile
from assets.settings import REPO_ROOT, get_settings
from orchestration.automation import (PARENT_RUN_TAG, PUBLISHED_REFRESH_JOB, build_operations_definitions,
                                      follow_inputs)

PROFILE = load_profile("jordan")
CONFIG = load_operations_config()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    monkeypatch.setenv("SIJIL_INBOX", str(tmp_path / "inbox"))
    return tmp_path


def _record(run_id: str, outcome: str = "published") -> RunRecord:
    now = utc_now()
    return RunRecord(run_id=run_id, kind="refresh", outcome=outcome, started_at=now, finished_at=now,
                     operator="tester", code_version=code_version(),
                     input_files={"naf_takaful/naf_payments_20251231.csv": "ab" * 32}, row_counts={"raw": 10})


# --- the audit log ---------------------------------------------------------------------------

def test_audit_log_chains_entries_and_verifies(tmp_path):
    log = tmp_path / "audit_log.duckdb"
    first = append_entry(log, _record("r1"))
    second = append_entry(log, _record("r2", "failed"))
    assert (first["seq"], second["seq"]) == (1, 2)
    assert second["prev_hash"] == first["entry_hash"] and first["prev_hash"] == "0" * 64
    assert verify_chain(log) == []
    entries = read_entries(log)
    assert [e["run_id"] for e in entries] == ["r1", "r2"]
    assert json.loads(entries[0]["input_files"]) == {"naf_takaful/naf_payments_20251231.csv": "ab" * 32}
    assert json.loads(entries[0]["row_counts"]) == {"raw": 10}
    assert entries[0]["operator"] == "tester" and entries[0]["code_version"]


@pytest.mark.parametrize("tamper, problem", [
    ("update audit.run_log set outcome = 'published' where seq = 2", "entry 2: its content was changed"),
    ("update audit.run_log set row_counts = '{\"raw\": 99}' where seq = 1", "entry 1: its content was changed"),
    ("delete from audit.run_log where seq = 2", "entry 3: expected number 2"),
    ("delete from audit.run_log where seq = 3", "entries were removed"),
])
def test_audit_log_detects_tampering(tmp_path, tamper, problem):
    log = tmp_path / "audit_log.duckdb"
    for run_id, outcome in [("r1", "published"), ("r2", "failed"), ("r3", "published")]:
        append_entry(log, _record(run_id, outcome))
    with duckdb.connect(str(log)) as con:
        con.execute(tamper)
    problems = verify_chain(log)
    assert any(problem in p for p in problems), problems


def test_code_version_names_the_commit():
    version = code_version()
    assert version != "unknown" and len(version.split("-")[0]) >= 7
    assert len(code_version(full=True).split("-")[0]) == 40 and code_version(full=True).startswith(version[:12])


def test_sijil_audit_command_lists_and_verifies(home, capsys):
    from orchestration.cli import main

    log = CONFIG.audit_file(get_settings())
    append_entry(log, _record("run-one"))
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "run-one" in out and "chain intact" in out
    with duckdb.connect(str(log)) as con:
        con.execute("update audit.run_log set outcome = 'failed'")
    assert main(["audit", "--verify"]) == 2
    assert "its content was changed" in capsys.readouterr().err


def test_rollback_is_recorded_in_the_audit_log(home, monkeypatch):
    from assets.publish import analytics
    from assets.publish.pseudonyms import PseudonymKey
    from assets.publish.wap import begin_build, publish
    from orchestration.cli import main

    config = {"keep_versions": 2, "tables": {"core.dim_person": {"columns": ["sex"]}}}
    monkeypatch.setattr(analytics, "load_publish_config", lambda: config)
    settings = get_settings()
    for sex in ("M", "F"):
        build = begin_build(settings, f"run-{sex}")
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists core")
            con.execute(f"create or replace table core.dim_person as select '{sex}' sex")
        publish(build, settings, PseudonymKey(b"k", "k1", "t"), config)
    assert main(["rollback"]) == 0
    entries = read_entries(CONFIG.audit_file(settings))
    assert [(e["kind"], e["outcome"]) for e in entries] == [("rollback", "restored")]
    assert entries[0]["detail"].startswith("restored warehouse version ")


# --- retries: transient failures only ----------------------------------------------------------

def test_transient_and_final_errors_are_told_apart():
    assert is_transient(OSError(5, "Input/output error"))
    assert is_transient(duckdb.IOException('Could not set lock on file "x.duckdb": Conflicting lock is held'))
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = TimeoutError("read timed out")
    assert is_transient(wrapped)
    assert not is_transient(SijilError("naf_payments.csv: header does not match the contract"))
    assert not is_transient(FileNotFoundError("inbox/naf_takaful"))
    assert not is_transient(ValueError("bad value"))
    policy = retry_policy(CONFIG)
    assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.max_retries == CONFIG.max_retries
    assert policy.calculate_delay(3) > policy.calculate_delay(1) or policy.jitter is not None


def _attempts_job(error: Exception, fail_times: int) -> tuple[dg.JobDefinition, list]:
    calls: list[int] = []

    @dg.asset
    @final_unless_transient
    def flaky() -> None:
        calls.append(1)
        if len(calls) <= fail_times:
            raise error

    job = dg.define_asset_job("flaky_job", selection=[flaky],
                              op_retry_policy=dg.RetryPolicy(max_retries=3, delay=0.01, backoff=dg.Backoff.EXPONENTIAL))
    return dg.Definitions(assets=[flaky], jobs=[job]).resolve_job_def("flaky_job"), calls


def test_a_transient_failure_is_retried_until_it_passes():
    job, calls = _attempts_job(duckdb.IOException("Could not set lock on file"), fail_times=2)
    result = job.execute_in_process(raise_on_error=False)
    assert result.success and len(calls) == 3


def test_a_validation_failure_is_not_retried():
    job, calls = _attempts_job(SijilError("naf_payments.csv: header does not match"), fail_times=5)
    result = job.execute_in_process(raise_on_error=False)
    assert not result.success and len(calls) == 1
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "header does not match" in failure.event_specific_data.error.message


def test_a_generator_asset_is_classified_too():
    calls: list[int] = []

    @dg.asset
    @final_unless_transient
    def streaming(context: dg.AssetExecutionContext):
        calls.append(1)
        raise SijilError("bad file")
        yield dg.MaterializeResult()

    job = dg.define_asset_job("streaming_job", selection=[streaming], op_retry_policy=dg.RetryPolicy(max_retries=2))
    result = dg.Definitions(assets=[streaming], jobs=[job]).resolve_job_def("streaming_job").execute_in_process(
        raise_on_error=False)
    assert not result.success and len(calls) == 1


def test_every_asset_carries_the_retry_policy_whatever_launches_its_run(home):
    """The policy is the assets' own, not only the named jobs': runs that declarative automation,
    a sensor, a schedule or the UI launch of an asset selection retry transient failures too."""
    from assets.operations.retries import transient_retry_policy
    from orchestration.definitions import build_definitions

    policy = transient_retry_policy()
    assert policy == retry_policy(CONFIG) and policy.backoff == dg.Backoff.EXPONENTIAL
    graph = build_definitions().resolve_asset_graph()
    computed = {graph.get(k).assets_def for k in graph.materializable_asset_keys}
    assert len(computed) > 10
    for assets_def in computed:
        assert assets_def.op.retry_policy == policy, assets_def.node_def.name
    # The steps that only evaluate checks (GX suites, freshness, volume, trust) retry alike.
    check_steps = {graph.assets_def_for_key(k) for k in graph.asset_check_keys} - computed
    assert len(check_steps) > 5
    for checks_def in check_steps:
        assert checks_def.op.retry_policy == policy, checks_def.node_def.name


def _hold_write_lock(path: Path):
    """Another process holding the DuckDB file open for writing (the classic transient failure)
    until a line is written to its stdin."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.readline()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _release_at_first_transient_failure(monkeypatch, holder) -> None:
    """Release the lock as soon as the step has failed once on it and been judged transient (so
    the retry, not the first attempt, finds the warehouse free). Hooked on the classification the
    step runs, not by polling the run storage from another thread (an in-memory instance's SQLite
    refuses a reader while the run writes: "database table is locked")."""
    import assets.operations.retries as retries

    classify = retries.is_transient

    def is_transient_then_release(exc: BaseException) -> bool:
        transient = classify(exc)
        if transient and holder.returncode is None:
            holder.communicate("release\n", timeout=30)
        return transient

    monkeypatch.setattr(retries, "is_transient", is_transient_then_release)


def test_an_asset_run_outside_the_jobs_retries_a_locked_warehouse_and_not_bad_data(home, monkeypatch):
    """A project asset materialised on its own (as automation does, outside sijil_refresh): the
    warehouse locked by another process is retried with backoff until the lock goes; a validation
    error fails at its first attempt."""
    import dataclasses

    import assets.ingestion.reference as reference
    import assets.operations.retries as retries
    from assets.warehouse import Warehouse

    monkeypatch.setattr(retries, "load_operations_config",
                        lambda: dataclasses.replace(CONFIG, max_retries=4, retry_delay_seconds=0.5))
    asset = reference.build_reference_asset(PROFILE)
    warehouse = Warehouse(path=str(home / "locked.duckdb"))
    holder = _hold_write_lock(home / "locked.duckdb")
    _release_at_first_transient_failure(monkeypatch, holder)
    result = dg.materialize([asset], resources={"warehouse": warehouse}, raise_on_error=False)
    holder.wait(timeout=30)
    retried = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert result.success and retried
    assert retried[0].event_specific_data.error.cause.cls_name == "IOException"  # duckdb: could not set lock
    with warehouse.connect(read_only=True) as con:
        assert con.execute("select count(*) from raw.ref_governorates").fetchone()[0] == len(PROFILE.governorates)

    def bad_catalogue(profile):
        raise SijilError("indicators.yaml: indicator K1 has no denominator")

    monkeypatch.setattr(reference, "reference_frames", bad_catalogue)
    result = dg.materialize([reference.build_reference_asset(PROFILE)], resources={"warehouse": warehouse},
                            raise_on_error=False)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "K1 has no denominator" in failure.event_specific_data.error.message


def test_what_starts_runs_is_on_in_production_and_off_on_a_sample(home, monkeypatch):
    """`make ui` on the sample starts no refresh by itself; a production code location does."""
    starters = {"inbox_sensor", "follow_inputs"}
    for mode, running in (("sample", False), ("production", True)):
        monkeypatch.setenv("SIJIL_MODE", mode)
        defs = build_operations_definitions(PROFILE)
        sensors = {s.name: s.default_status for s in defs.sensors}
        expected = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
        assert {name: sensors[name] for name in starters} == dict.fromkeys(starters, expected), mode
        for schedule in defs.schedules:
            assert schedule.default_status == (dg.DefaultScheduleStatus.RUNNING if running
                                               else dg.DefaultScheduleStatus.STOPPED), (mode, schedule.name)
        # What only records (the audit log, alerts) always runs.
        assert sensors["run_failure_alert"] == sensors["run_success_audit"] == dg.DefaultSensorStatus.RUNNING


# --- the inbox sensor: each file once, by content ----------------------------------------------

def _deliver(inbox: Path, source: str, name: str, content: bytes) -> Path:
    path = inbox / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    past = time.time() - CONFIG.settle_seconds - 5  # delivered a while ago: settled
    os.utime(path, (past, past))
    return path


def test_inbox_scan_hashes_content_and_waits_for_files_still_arriving(tmp_path):
    inbox = tmp_path / "inbox"
    _deliver(inbox, "naf_takaful", "a.csv", b"x,y\n1,2\n")
    (inbox / "naf_takaful" / "b.csv").write_bytes(b"still arriving")
    found = scan_inbox(inbox, ["naf_takaful", "absent_source"], settle_seconds=30)
    assert [f.file for f in found] == ["naf_takaful/a.csv"]
    assert new_files(found, {found[0].sha256}) == {}
    # an unchanged file is not read again: its hash comes from what was known
    known = {"naf_takaful/a.csv": [found[0].size, found[0].mtime_ns, "cached"]}
    assert scan_inbox(inbox, ["naf_takaful"], known, settle_seconds=30)[0].sha256 == "cached"


def test_inbox_sensor_picks_up_a_new_file_exactly_once(home):
    defs = build_operations_definitions(PROFILE)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    inbox = home / "inbox"
    _deliver(inbox, "naf_takaful", "naf_payments_20251231.csv", b"AMOUNT_JOD\n10\n")
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert len(first.run_requests) == 1
        request = first.run_requests[0]
        assert request.job_name in (None, PUBLISHED_REFRESH_JOB) and sensor.job_name == PUBLISHED_REFRESH_JOB
        assert request.tags["sijil/new_files"] == "naf_takaful/naf_payments_20251231.csv"

        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert second.run_requests == [] and second.skip_message

        # the same content delivered again, under another name: not loaded twice
        _deliver(inbox, "naf_takaful", "naf_payments_20251231_resent.csv", b"AMOUNT_JOD\n10\n")
        third = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=second.cursor))
        assert third.run_requests == []

        # new content starts a new refresh, once
        _deliver(inbox, "unhcr_refugees", "unhcr_cases_20260131.csv", b"CASE\n1\n")
        fourth = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=third.cursor))
        assert [r.tags["sijil/new_files"] for r in fourth.run_requests] == ["unhcr_refugees/unhcr_cases_20260131.csv"]
        assert fourth.run_requests[0].run_key != request.run_key
        fifth = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=fourth.cursor))
        assert fifth.run_requests == []


# --- the schedule -----------------------------------------------------------------------------

def test_daily_schedule_comes_from_config_and_runs_the_published_refresh(home, monkeypatch):
    monkeypatch.setenv("SIJIL_MODE", "production")  # on a sample it is loaded stopped (below)
    defs = build_operations_definitions(PROFILE)
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == CONFIG.cron and schedule.execution_timezone == CONFIG.timezone
    assert schedule.job_name == PUBLISHED_REFRESH_JOB
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    raw = yaml.safe_load((REPO_ROOT / "config" / "operations.yaml").read_text())
    assert raw["schedule"]["cron"] == schedule.cron_schedule


def test_a_monthly_schedule_retrains_the_linkage_model_through_the_published_refresh(home, monkeypatch):
    """The retraining schedule launches the published refresh tagged to retrain; a refresh asked to
    retrain passes `retrain: true` to the linkage step, a valid run config of the refresh job."""
    from assets.linkage.assets import CLUSTERS_KEY, LINK_OP
    from orchestration.automation import REFRESH_JOB, RETRAIN_TAG
    from orchestration.definitions import build_definitions
    from orchestration.refresh import refresh_run_config

    monkeypatch.setenv("SIJIL_MODE", "production")
    defs = build_operations_definitions(PROFILE)
    schedule = defs.resolve_schedule_def("linkage_retraining")
    assert schedule.cron_schedule == CONFIG.linkage_retraining_cron == "0 3 1 * *"
    assert schedule.execution_timezone == CONFIG.timezone and schedule.job_name == PUBLISHED_REFRESH_JOB
    assert schedule.tags == {RETRAIN_TAG: "true"}

    job = build_definitions().resolve_job_def(REFRESH_JOB)
    keys = set(job.asset_layer.executable_asset_keys)
    retraining = refresh_run_config(keys, retrain=True)
    assert retraining["ops"] == {LINK_OP: {"config": {"retrain": True}}}
    assert dg.validate_run_config(job, retraining)
    assert "ops" not in refresh_run_config(keys, retrain=False)
    assert "ops" not in refresh_run_config(keys - {CLUSTERS_KEY}, retrain=True)  # linkage not selected


def test_an_operator_points_sijil_at_another_operations_file(tmp_path, monkeypatch):
    raw = yaml.safe_load((REPO_ROOT / "config" / "operations.yaml").read_text())
    raw["schedule"]["cron"] = "30 4 * * 5"
    raw["inbox_sensor"]["minimum_interval_seconds"] = 15
    own = tmp_path / "operations.yaml"
    own.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("SIJIL_OPERATIONS_CONFIG", str(own))
    config = load_operations_config()
    assert (config.cron, config.sensor_interval_seconds) == ("30 4 * * 5", 15)
    monkeypatch.delenv("SIJIL_OPERATIONS_CONFIG")
    assert load_operations_config() == CONFIG


def test_operations_config_refuses_a_bad_cron(tmp_path):
    raw = yaml.safe_load((REPO_ROOT / "config" / "operations.yaml").read_text())
    raw["schedule"]["cron"] = "daily"
    bad = tmp_path / "operations.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(SijilError, match="schedule.cron 'daily' is not a five-field cron"):
        load_operations_config(bad)
    raw["schedule"]["cron"] = "0 2 * * *"
    raw["schedule"]["linkage_retraining_cron"] = "monthly"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(SijilError, match="schedule.linkage_retraining_cron 'monthly' is not a five-field cron"):
        load_operations_config(bad)


# --- the run-failure sensor: audit entry and alert line ----------------------------------------

def _failed_run(instance, tags=None):
    @dg.op
    def explode():
        raise SijilError("naf_payments_20251231.csv: header does not match the naf_takaful__payments contract")

    @dg.job(name="broken_job", tags=tags or {})
    def broken_job():
        explode()

    result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(result.run_id)
    event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return run, event


def test_run_failure_sensor_records_the_failure_and_alerts_once(home):
    defs = build_operations_definitions(PROFILE)
    sensor = defs.resolve_sensor_def("run_failure_alert")
    settings = get_settings()
    with dg.instance_for_test() as instance:
        run, event = _failed_run(instance)
        for _ in range(2):  # a second evaluation of the same run adds nothing
            context = dg.build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=event,
                                                         dagster_instance=instance, dagster_run=run).for_run_failure()
            sensor(context)
        entries = read_entries(CONFIG.audit_file(settings))
        assert [(e["run_id"], e["outcome"], e["kind"]) for e in entries] == [(run.run_id, "failed", "dagster_run:broken_job")]
        assert verify_chain(CONFIG.audit_file(settings)) == []
        alerts = CONFIG.alert_file(settings).read_text().splitlines()
        assert len(alerts) == 1 and f"run={run.run_id}" in alerts[0] and "SIJIL RUN FAILED job=broken_job" in alerts[0]

        # the inner run of a refresh is recorded by the refresh itself, never twice
        inner, inner_event = _failed_run(instance, tags={PARENT_RUN_TAG: "sijil materialize"})
        sensor(dg.build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=inner_event,
                                                  dagster_instance=instance, dagster_run=inner).for_run_failure())
        assert len(read_entries(CONFIG.audit_file(settings))) == 1


def test_a_published_refresh_killed_outright_is_recorded_by_the_failure_sensor(home):
    """The refresh appended only "started" before it died: the sensor adds the failure and alerts."""
    defs = build_operations_definitions(PROFILE)
    sensor = defs.resolve_sensor_def("run_failure_alert")
    log = CONFIG.audit_file(get_settings())
    with dg.instance_for_test() as instance:
        run, event = _failed_run(instance)
        append_entry(log, RunRecord(run_id=run.run_id, kind="refresh", outcome="started", started_at=utc_now(),
                                    finished_at=None, operator="schedule", code_version=code_version()))
        sensor(dg.build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=event,
                                                  dagster_instance=instance, dagster_run=run).for_run_failure())
    assert [e["outcome"] for e in read_entries(log)] == ["started", "failed"]
    assert verify_chain(log) == [] and CONFIG.alert_file(get_settings()).exists()


def test_alert_line_is_one_line():
    line = alert_line("abc", "published_refresh", "first line\nsecond   line")
    assert line.endswith("\n") and line.count("\n") == 1 and "first line second line" in line


# --- declarative automation -------------------------------------------------------------------

def test_assets_below_ingestion_follow_their_inputs():
    raw = dg.AssetSpec(["raw", "naf_takaful__payments"], group_name="raw")
    staging = dg.AssetSpec(["staging", "stg_naf_takaful__payments"], group_name="staging", deps=[raw.key])
    assert follow_inputs(raw).automation_condition is None
    assert follow_inputs(staging).automation_condition.get_label() == "eager_in_working_copy"

    @dg.asset(key=raw.key, group_name="raw")
    def raw_asset() -> None: ...

    @dg.asset(key=staging.key, group_name="staging", deps=[raw.key])
    def staging_asset() -> None: ...

    defs = dg.Definitions(assets=dg.map_asset_specs(follow_inputs, [raw_asset, staging_asset]))
    with dg.instance_for_test() as instance:
        dg.materialize([raw_asset, staging_asset], instance=instance)
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert quiet.total_requested == 0
        instance.report_runless_asset_event(dg.AssetMaterialization(raw.key))
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
        assert after.get_requested_partitions(staging.key) == {None} and after.total_requested == 1
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
        assert again.total_requested == 0


@pytest.mark.parametrize("built_from_the_ui_first", [True, False])
def test_a_refresh_writing_its_build_file_starts_no_automation(built_from_the_ui_first):
    """A refresh materialises payments in one run and their monthly partitions in the next, both
    into its build file (runs tagged PARENT_RUN_TAG): the working copy did not change, so the
    automation sensor launches nothing between or after them; a run in the working copy (from
    the UI, untagged) still brings the monthly asset's latest month up to date.

    Also on a new instance (nothing built first), where the sensor's first tick can come before
    any event: Dagster then counts every later materialisation as new, but its run-tag filter
    (`all_new_updates_have_run_tags`) finds none to look at. CI saw the daemon test start a run."""
    from orchestration.automation import PARENT_RUN_TAG

    months = dg.MonthlyPartitionsDefinition(start_date="2025-01-01", end_offset=1)

    @dg.asset(key=["core", "fct_payment"], group_name="core")
    def payments() -> None: ...

    @dg.asset(key=["core", "fct_payment_month"], group_name="core", deps=[payments.key], partitions_def=months)
    def payments_by_month() -> None: ...

    defs = dg.Definitions(assets=dg.map_asset_specs(follow_inputs, [payments, payments_by_month]))
    latest = months.get_last_partition_key()
    with dg.instance_for_test() as instance:
        if built_from_the_ui_first:  # the working copy, built once from the UI
            dg.materialize([payments], instance=instance)
            dg.materialize([payments_by_month], instance=instance, partition_key=latest)
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        dg.materialize([payments], instance=instance, tags={PARENT_RUN_TAG: "sijil materialize"})
        between = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert between.total_requested == 0
        dg.materialize([payments_by_month], instance=instance, partition_key=latest,
                       tags={PARENT_RUN_TAG: "sijil materialize"})
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=between.cursor)
        assert after.total_requested == 0
        dg.materialize([payments], instance=instance)  # re-run from the UI, in the working copy
        followed = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
        assert followed.get_requested_partitions(payments_by_month.key) == {latest}


def test_definitions_wire_schedule_sensors_jobs_and_automation(home):
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    assert {s.name for s in defs.sensors} >= {"inbox_sensor", "follow_inputs", "run_failure_alert",
                                              "run_success_audit"}
    assert {s.name for s in defs.schedules} == {"daily_refresh", "linkage_retraining"}
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        condition = graph.get(key).automation_condition
        if key.path[0] == "raw":
            assert condition is None, key
        else:
            assert condition is not None and condition.get_label() == "eager_in_working_copy", key
        # follow_working_copy judges an input by its latest materialisation, which for a
        # partitioned input is one partition's: it holds because no input is partitioned.
        assert not [p for p in graph.get(key).parent_keys if graph.get(p).partitions_def is not None], key
    refresh = defs.resolve_job_def("sijil_refresh")
    assert refresh.op_retry_policy is not None and refresh.op_retry_policy.backoff == dg.Backoff.EXPONENTIAL


# --- one refresh at a time ---------------------------------------------------------------------

def test_one_refresh_at_a_time_and_a_killed_one_leaves_no_build_behind(home):
    from assets.publish.wap import builds_dir, refresh_lock

    settings = get_settings()
    stale = builds_dir(settings) / "20260101T020000.duckdb"  # what a killed refresh leaves
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half-built")
    with refresh_lock(settings):
        assert not stale.exists()
        with pytest.raises(SijilError, match="another refresh or rollback is running"):
            with refresh_lock(settings):
                pass
    with refresh_lock(settings):  # released when the holder ends
        pass


def test_published_refreshes_queue_one_at_a_time(home):
    job = build_operations_definitions(PROFILE).resolve_job_def(PUBLISHED_REFRESH_JOB)
    config = yaml.safe_load((REPO_ROOT / "orchestration" / "dagster.yaml").read_text())
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "sijil/refresh", "limit": 1} in limits and "sijil/refresh" in job.tags


# --- monthly partitions -----------------------------------------------------------------------

def test_one_monthly_partitions_definition_from_config():
    import datetime as dt

    from assets.operations.partitions import monthly_partitions, run_months
    from orchestration.dbt import dbt_run_env

    months = monthly_partitions()
    keys = months.get_partition_keys()
    assert keys[0] == CONFIG.monthly_start and months.timezone == CONFIG.timezone
    now = dt.datetime.now(dt.timezone.utc)
    assert keys[-1] >= f"{now.year:04d}-{now.month:02d}-01"[:7]  # the current month is a partition too
    assert monthly_partitions() == months  # one definition, however often it is asked for
    window = months.time_window_for_partition_key("2025-12-01")
    assert run_months(window) == ("2025-12-01", "2026-01-01")
    run_env = dbt_run_env(run_months(window))
    assert (run_env["SIJIL_RUN_MONTH_FROM"], run_env["SIJIL_RUN_MONTH_TO"]) == ("2025-12-01", "2026-01-01")


def test_monthly_models_have_their_own_partitioned_job(home):
    from orchestration.automation import MONTHLY_JOB, REFRESH_JOB
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    monthly = defs.resolve_job_def(MONTHLY_JOB)
    keys = {k.to_user_string() for k in monthly.asset_layer.executable_asset_keys}
    monthly_models = {"core/fct_payment_month", "monitoring/indicator_cells_month"}
    assert monthly_models <= keys and not keys & {"core/fct_payment", "monitoring/indicator_cells"}
    assert monthly.partitions_def is not None
    assert not monthly_models & {
        k.to_user_string() for k in defs.resolve_job_def(REFRESH_JOB).asset_layer.executable_asset_keys}
    graph = defs.resolve_asset_graph()
    for key in monthly_models:  # one partitions definition for payments and indicators alike
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert node.partitions_def == monthly.partitions_def


# --- telemetry off ----------------------------------------------------------------------------

def test_dbt_version_is_answered_without_asking_pypi():
    """dagster-dbt runs `dbt --version` before each dbt step; plain dbt would look up pypi.org."""
    import re
    import subprocess

    from orchestration.dbt import dbt_executable

    assert Path(dbt_executable()).name == "sijil-dbt"
    done = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and re.search(r"\d+\.\d+\.\d+", done.stdout)
    assert "latest" not in done.stdout.lower()


def test_telemetry_of_dagster_dbt_and_gx_is_off(monkeypatch):
    from orchestration.cli import main

    dagster_config = yaml.safe_load((REPO_ROOT / "orchestration" / "dagster.yaml").read_text())
    assert dagster_config["telemetry"]["enabled"] is False
    dbt_project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert dbt_project["flags"]["send_anonymous_usage_stats"] is False
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.delenv("GX_ANALYTICS_ENABLED", raising=False)
    main(["query"])  # any command: the CLI sets the switches before it runs
    assert os.environ["DO_NOT_TRACK"] == "1" and os.environ["GX_ANALYTICS_ENABLED"] == "false"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "export DO_NOT_TRACK := 1" in makefile and "export GX_ANALYTICS_ENABLED := false" in makefile
