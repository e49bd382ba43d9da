"""Running Sijil unattended: the daily published refresh, the inbox sensor, declarative
automation of the working copy, retries, and the run sensors that keep the audit log and alert.

- ``published_refresh`` (a job of one op) is write-audit-publish, exactly `sijil materialize`:
  the schedule launches it daily and the inbox sensor whenever a file with new content lands;
  the ``linkage_retraining`` schedule launches it monthly tagged ``sijil/retrain_linkage``, so
  that it trains the linkage model again (`sijil materialize --retrain`).
- ``sijil_refresh`` is every asset under the retry policy, and ``sijil_refresh_monthly`` the
  assets partitioned by month; `sijil materialize` runs both in process against a fresh build
  file, the monthly one over every month in one run.
- Every asset below ingestion follows its inputs in the working copy (:func:`follow_working_copy`,
  ``eager`` that ignores a refresh's own runs): a source re-ingested from the UI brings its
  staging models, linkage and marts up to date there, through the automation sensor. A refresh
  writes a build file, not the working copy, so what it materialises starts nothing.
- Runs that no refresh has audited (UI, automation, a killed refresh) are appended to the audit
  log by the run sensors; a failed one also writes an alert line.
- What starts runs by itself (the schedules, the inbox sensor, the automation sensor) is on by
  default in production mode only: in sample mode `make ui` shows everything and starts nothing
  until someone turns it on (:func:`starts_runs_by_default`).
"""


import hashlib
import json

import dagster as dg

from assets.operations.alerts import alert_line, write_alert
from assets.operations.audit_log import RunRecord, append_entry, code_version, read_entries, utc_now
from assets.operations.config import OperationsConfig, load_operations_config
from assets.operations.inbox import new_files, scan_inbox
from assets.operations.retries import retry_policy
from assets.profiles import Profile
from assets.settings import Settings, get_settings

REFRESH_JOB = "sijil_refresh"
MONTHLY_JOB = "sijil_refresh_monthly"
PUBLISHED_REFRESH_JOB = "published_refresh"
PARENT_RUN_TAG = "sijil/parent_run"  # on a refresh's inner run: who records it in the audit log
RETRAIN_TAG = "sijil/retrain_linkage"  # "true" on a published refresh: the linkage model is trained again
NEW_FILES_TAG = "sijil/new_files"


def follow_working_copy() -> dg.AutomationCondition:
    """``AutomationCondition.eager()`` for the working copy: an asset is requested when one of
    its inputs was updated there, not when Dagster merely sees it missing. An input whose latest
    update came from a refresh's inner run (tagged PARENT_RUN_TAG) does not count: that run wrote
    its build file, now published or discarded; the working copy did not change. Without this, a
    refresh that materialises payments in one run and their monthly partitions in the next made
    the sensor launch the current month's partition against the working copy while it ran.

    The latest update's run (``executed_with_tags``), not "every update since the last tick"
    (``all_new_updates_have_run_tags``): the latter finds nothing to look at when the sensor's
    previous tick saw no event at all, as on a new instance, while ``newly_updated`` then counts
    every materialisation — a refresh's first run then started automation. The price: an input
    updated from the UI and then by a refresh within one tick (60 s) is not followed; and an
    input must be unpartitioned, as every input here is (tested)."""
    AC = dg.AutomationCondition
    updated_here = (AC.newly_updated() & ~AC.executed_with_root_target()
                    & ~AC.executed_with_tags(tag_keys={PARENT_RUN_TAG})).with_label("updated_in_working_copy")
    deps_updated = AC.any_deps_match(updated_here | AC.will_be_requested()).with_label("any_deps_updated")
    return (AC.in_latest_time_window() & deps_updated.since_last_handled() & ~AC.any_deps_missing()
            & ~AC.any_deps_in_progress() & ~AC.in_progress()).with_label("eager_in_working_copy")


def follow_inputs(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Everything below ingestion updates when its inputs do; ingestion is started by the
    schedule, the inbox sensor or a person."""
    if spec.group_name == "raw" or spec.automation_condition is not None:
        return spec
    return spec.replace_attributes(automation_condition=follow_working_copy())


def starts_runs_by_default(settings: Settings) -> bool:
    """Whether the schedule and the sensors that launch refreshes run as soon as a daemon loads
    the code location: in production, yes; on a sample, someone who only wants to look at the UI
    must not start refreshes, so they wait until turned on (UI, or `dagster sensor start`)."""
    return settings.is_production


def inbox_cursor(cursor: str | None) -> dict:
    return json.loads(cursor) if cursor else {"seen": [], "files": {}}


def evaluate_inbox(cursor: str | None, profile: Profile, config: OperationsConfig) -> tuple[dg.RunRequest | None, str]:
    """The run request for files whose content the sensor has not seen before (None when there
    are none) and the new cursor: every content hash seen, and each file's size and mtime so an
    unchanged file is not hashed again."""
    state = inbox_cursor(cursor)
    found = scan_inbox(get_settings().inbox, [c.source for c in profile.sources], state["files"],
                       config.settle_seconds)
    fresh = new_files(found, set(state["seen"]))
    new_state = {"seen": sorted(set(state["seen"]) | {f.sha256 for f in found}),
                 "files": {f.file: [f.size, f.mtime_ns, f.sha256] for f in found}}
    if not fresh:
        return None, json.dumps(new_state)
    arrived = sorted(f.file for files in fresh.values() for f in files)
    digest = hashlib.sha256("".join(sorted(f.sha256 for fs in fresh.values() for f in fs)).encode()).hexdigest()
    request = dg.RunRequest(run_key=f"inbox-{digest[:24]}",
                            tags={"sijil/trigger": "inbox", NEW_FILES_TAG: ", ".join(arrived)[:1000]})
    return request, json.dumps(new_state)


def _materializations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetMaterialization]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10000)
    return [r.event_log_entry.asset_materialization for r in records.records if r.event_log_entry.asset_materialization]


def dagster_run_record(instance: dg.DagsterInstance, run: dg.DagsterRun, outcome: str, detail: str) -> RunRecord:
    """An audit record for a Dagster run: the files ingestion read (by hash) and rows per asset,
    from the run's own materialisation metadata."""
    inputs, rows = {}, {}
    for m in _materializations(instance, run.run_id):
        meta = m.metadata
        if "file_sha256" in meta:
            inputs.update(meta["file_sha256"].value)
        if "dagster/row_count" in meta:
            rows[m.asset_key.to_user_string()] = int(meta["dagster/row_count"].value)
    stats = instance.get_run_stats(run.run_id)
    started = utc_now() if stats.start_time is None else _utc(stats.start_time)
    finished = utc_now() if stats.end_time is None else _utc(stats.end_time)
    operator = (run.tags.get("dagster/user") or (f"schedule:{run.tags['dagster/schedule_name']}"
                if "dagster/schedule_name" in run.tags else None)
                or (f"sensor:{run.tags['dagster/sensor_name']}" if "dagster/sensor_name" in run.tags else None)
                or "dagster")
    return RunRecord(run_id=run.run_id, kind=f"dagster_run:{run.job_name}", outcome=outcome, started_at=started,
                     finished_at=finished, operator=operator, code_version=code_version(), input_files=inputs,
                     row_counts=rows, detail=detail)


def _utc(timestamp: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def record_unaudited_run(instance: dg.DagsterInstance, run: dg.DagsterRun, outcome: str, detail: str) -> bool:
    """Append `run` to the audit log unless its refresh recorded its outcome (or will: an inner
    run) — returns whether it did; a failure also writes an alert line. A published refresh
    killed outright left only its "started" entry: its failure is recorded here."""
    settings, config = get_settings(), load_operations_config()
    if PARENT_RUN_TAG in run.tags:
        return False
    log = config.audit_file(settings)
    if any(e["run_id"] == run.run_id and e["outcome"] != "started" for e in read_entries(log)):
        return False
    append_entry(log, dagster_run_record(instance, run, outcome, detail))
    if outcome == "failed":
        write_alert(config.alert_file(settings), alert_line(run.run_id, run.job_name, detail))
    return True


def build_operations_definitions(profile: Profile, monthly: list[dg.AssetsDefinition] = ()) -> dg.Definitions:
    """The jobs, the daily refresh and monthly retraining schedules, the inbox sensor, the automation
    sensor and the run sensors.
    `monthly` are the assets partitioned by month: their own job, run after the others by a
    refresh over every month, and backfilled from the UI over any range."""
    config = load_operations_config()
    policy = retry_policy(config)
    active = starts_runs_by_default(get_settings())  # read when the Definitions are built
    schedule_status = dg.DefaultScheduleStatus.RUNNING if active else dg.DefaultScheduleStatus.STOPPED
    launcher_status = dg.DefaultSensorStatus.RUNNING if active else dg.DefaultSensorStatus.STOPPED
    monthly_selection = dg.AssetSelection.assets(*monthly)
    refresh_job = dg.define_asset_job(REFRESH_JOB, selection=dg.AssetSelection.all() - monthly_selection,
                                      op_retry_policy=policy,
                                      description="Every asset not partitioned; transient failures retried with backoff")
    monthly_job = dg.define_asset_job(MONTHLY_JOB, selection=monthly_selection,  # partitions: from its assets
                                      op_retry_policy=policy, description="The monthly assets, for a month or a range")

    @dg.op(description="Write-audit-publish: build a new warehouse file, check it, publish it or leave the "
                       "published one as it was")
    def refresh_and_publish(context: dg.OpExecutionContext) -> None:
        from orchestration.refresh import run_refresh

        result = run_refresh(parent_run_id=context.run_id, retrain=context.run.tags.get(RETRAIN_TAG) == "true")
        if not result.published:
            why = "; ".join(result.errors or result.checks_failed or result.failed) or "not published"
            raise dg.Failure(description=f"refresh not published: {why}", allow_retries=False)
        context.log.info(f"published {result.warehouse} and {result.analytics}")

    @dg.job(name=PUBLISHED_REFRESH_JOB, description="The refresh the schedule and the inbox sensor launch",
            tags={"sijil/refresh": "published"})  # one at a time: orchestration/dagster.yaml
    def published_refresh():
        refresh_and_publish()

    daily = dg.ScheduleDefinition(name="daily_refresh", job=published_refresh, cron_schedule=config.cron,
                                  execution_timezone=config.timezone, default_status=schedule_status,
                                  description="The regular refresh (config/operations.yaml)")

    retraining = dg.ScheduleDefinition(name="linkage_retraining", job=published_refresh,
                                       cron_schedule=config.linkage_retraining_cron,
                                       execution_timezone=config.timezone, default_status=schedule_status,
                                       tags={RETRAIN_TAG: "true"},
                                       description="A refresh that trains the linkage model again from the records "
                                                   "and relinks everything (config/operations.yaml)")

    @dg.sensor(name="inbox_sensor", job=published_refresh, minimum_interval_seconds=config.sensor_interval_seconds,
               default_status=launcher_status,
               description="Starts a refresh when a file with new content (SHA-256) lands in the inbox")
    def inbox_sensor(context: dg.SensorEvaluationContext):
        request, cursor = evaluate_inbox(context.cursor, profile, config)
        context.update_cursor(cursor)
        return request or dg.SkipReason("no new file in the inbox")

    automation = dg.AutomationConditionSensorDefinition(
        "follow_inputs", target=dg.AssetSelection.all(), default_status=launcher_status,
        minimum_interval_seconds=60, description="Materialises assets whose inputs changed (the working copy)")

    @dg.run_failure_sensor(name="run_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                           description="Records a failed run in the audit log and writes an alert line")
    def run_failure_alert(context: dg.RunFailureSensorContext):
        record_unaudited_run(context.instance, context.dagster_run, "failed", context.failure_event.message or "")

    @dg.run_status_sensor(name="run_success_audit", run_status=dg.DagsterRunStatus.SUCCESS,
                          default_status=dg.DefaultSensorStatus.RUNNING,
                          description="Records a successful run in the audit log")
    def run_success_audit(context: dg.RunStatusSensorContext):
        record_unaudited_run(context.instance, context.dagster_run, "succeeded", "")

    return dg.Definitions(jobs=[refresh_job, monthly_job, published_refresh], schedules=[daily, retraining],
                          sensors=[inbox_sensor, automation, run_failure_alert, run_success_audit])
