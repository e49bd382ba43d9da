"""One refresh of the whole warehouse, run in this process, with a summary for people."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.errors import SijilError
from assets.settings import REPO_ROOT, Settings, get_settings


@dataclass
class StepTiming:
    """One executed step of a refresh: when it ran, what it materialised and checked."""

    step_key: str
    started: float  # seconds since the epoch
    finished: float
    asset_keys: list[str] = field(default_factory=list)  # materialised, as "layer/name"
    checks: int = 0  # asset checks evaluated in the step
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds by phase, when the step reports them


@dataclass
class RefreshResult:
    success: bool
    run_id: str
    warehouse: Path
    seconds: float
    rows_by_layer: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what each failed step said (file, row, problem)
    checks_evaluated: int = 0
    checks_failed: list[str] = field(default_factory=list)  # failed checks of severity ERROR
    checks_warned: list[str] = field(default_factory=list)  # failed checks of severity WARN
    published: bool = False
    analytics: Path | None = None
    steps: list[StepTiming] = field(default_factory=list)
    publish_window: tuple[float, float] | None = None  # (started, finished), seconds since the epoch
    analytics_rows: dict[str, int] = field(default_factory=dict)  # published table → rows
    run_ids: list[str] = field(default_factory=list)  # every Dagster run of the refresh (refresh, monthly)


def ensure_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME at the data home (telemetry off) unless the caller chose one."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.home / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = REPO_ROOT / "orchestration" / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    return home


def layer_row_counts(con) -> dict[str, int]:
    """Rows stored per warehouse layer (schema): its tables. A view holds no rows, and counting
    it would run its query again (a minute at a million persons)."""
    relations = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, name in relations:
        n = con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
        counts[schema] = counts.get(schema, 0) + n
    return counts


def _root_message(error) -> str:
    """The innermost cause of a step failure: the sentence that names the file and problem."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name or "error"


def run_refresh(select: str | None = None, parent_run_id: str | None = None, retrain: bool = False) -> RefreshResult:
    """Write-audit-publish one refresh: build a new warehouse file, materialise every asset (or
    the selection) into it, and publish it only when no step and no blocking check failed.
    With `retrain`, the linkage trains its model again from the records and relinks everything.

    The refresh is appended to the audit log when it starts and when it ends (under
    `parent_run_id` when a Dagster run launched it, the id of the Dagster run that built the
    warehouse in the detail); an alert line is written when nothing was published."""
    from assets.operations.audit_log import utc_now
    from assets.operations.inbox import inbox_manifest
    from assets.profiles import load_profile

    settings = get_settings()
    started_at = utc_now()
    refresh_id = parent_run_id or f"refresh-{uuid.uuid4()}"
    inputs = inbox_manifest(settings.inbox, [c.source for c in load_profile(settings.profile).sources])
    # Appended first, so a refresh that is killed outright still leaves its trace: "started" with no outcome.
    _audit(refresh_id, "started", "", started_at, inputs, {}, settings)
    try:
        result = _write_audit_publish(select, settings, parent_run_id, retrain)
    except Exception as exc:
        _audit(refresh_id, "failed", str(exc), started_at, inputs, {}, settings)
        raise
    outcome = "published" if result.published else ("failed" if not result.success else "not_published")
    detail = "; ".join([f"dagster run {result.run_id}", *result.errors,
                        *(f"check failed: {c}" for c in result.checks_failed),
                        *([f"failed steps: {', '.join(result.failed)}"] if result.failed else [])])
    _audit(refresh_id, outcome, detail, started_at, inputs, result.rows_by_layer, settings)
    return result


def _audit(run_id: str, outcome: str, detail: str, started_at, inputs: dict, rows: dict, settings: Settings) -> None:
    from assets.operations.alerts import alert_line, write_alert
    from assets.operations.audit_log import RunRecord, append_entry, code_version, current_operator, utc_now
    from assets.operations.config import load_operations_config

    config = load_operations_config()
    append_entry(config.audit_file(settings), RunRecord(
        run_id=run_id, kind="refresh", outcome=outcome, started_at=started_at,
        finished_at=None if outcome == "started" else utc_now(),
        operator=current_operator(), code_version=code_version(), input_files=inputs, row_counts=rows,
        detail=detail))
    if outcome not in ("started", "published"):
        write_alert(config.alert_file(settings), alert_line(run_id, "sijil materialize", detail or outcome))


def _write_audit_publish(select: str | None, settings: Settings, parent_run_id: str | None,
                         retrain: bool) -> RefreshResult:
    from assets.publish.analytics import load_publish_config
    from assets.publish.pseudonyms import load_key
    from assets.publish.wap import refresh_lock

    ensure_dagster_home(settings)
    key = load_key(settings)
    config = load_publish_config()
    with refresh_lock(settings):
        return _build_and_publish(select, settings, parent_run_id, retrain, key, config)


def _build_and_publish(select: str | None, settings: Settings, parent_run_id: str | None, retrain: bool,
                       key, config) -> RefreshResult:
    from assets.publish.wap import begin_build, discard, publish

    started = time.monotonic()
    # One name for every refresh's build (one refresh at a time: the lock): dbt's profile points at
    # it, and a path that stays the same lets dbt parse only what changed since the last refresh.
    build = begin_build(settings, "refresh")
    previous = os.environ.get("SIJIL_WAREHOUSE")
    os.environ["SIJIL_WAREHOUSE"] = str(build)
    try:
        result = _execute(select, build, parent_run_id, retrain)
    finally:
        if previous is None:
            os.environ.pop("SIJIL_WAREHOUSE", None)
        else:
            os.environ["SIJIL_WAREHOUSE"] = previous
    result.seconds = time.monotonic() - started
    if result.success and not result.checks_failed:
        publish_started = time.time()
        published = publish(build, settings, key, config)
        result.publish_window = (publish_started, time.time())
        result.analytics_rows = published.analytics_rows
        result.warehouse, result.analytics, result.published = published.engineering, published.analytics, True
    else:
        discard(build)
        result.warehouse = settings.published_warehouse
    return result


def _release_dead_refresh_runs(instance: dg.DagsterInstance, tag: str) -> list[str]:
    """Runs of an earlier refresh still marked as running died with their process (SIGKILL, a
    power cut): this refresh holds the refresh lock, so none of them can be alive. Mark them
    failed and free the pool slot they held, or every later step would wait for it for ever."""
    dead = [run for run in instance.get_runs(filters=dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))
        if tag in run.tags]
    for run in dead:
        instance.report_run_failed(run, "its refresh process died (killed); found by the next refresh")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in dead]


def refresh_run_config(keys, retrain: bool) -> dict:
    """The run config of a refresh's job run over `keys`: warnings and errors on the terminal (the
    full event log is in the Dagster UI), and the linkage told to retrain when asked and selected."""
    config: dict = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    from assets.linkage.assets import CLUSTERS_KEY, LINK_OP

    if retrain and CLUSTERS_KEY in keys:
        config["ops"] = {LINK_OP: {"config": {"retrain": True}}}
    return config


def _execute(select: str | None, build: Path, parent_run_id: str | None = None, retrain: bool = False) -> RefreshResult:
    """Run the refresh job (every asset not partitioned, transient failures retried), then the
    monthly job over every month in one run, in this process against the build file."""
    from assets.warehouse import Warehouse
    from orchestration.automation import MONTHLY_JOB, PARENT_RUN_TAG, REFRESH_JOB
    from orchestration.definitions import build_definitions

    started = time.monotonic()
    defs = build_definitions()
    wanted = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph()) if select else None
    tags = {PARENT_RUN_TAG: parent_run_id or "sijil materialize"}
    results, steps = [], []
    with dg.DagsterInstance.get() as instance:
        _release_dead_refresh_runs(instance, PARENT_RUN_TAG)
        for name in (REFRESH_JOB, MONTHLY_JOB):
            job = defs.resolve_job_def(name)
            keys = set(job.asset_layer.executable_asset_keys) & (set(wanted) if wanted is not None else set(
                job.asset_layer.executable_asset_keys))
            if not keys or (results and not results[-1].success):
                continue
            run_tags = dict(tags)
            if job.partitions_def is not None:
                months = job.partitions_def.get_partition_keys()
                run_tags.update({"dagster/asset_partition_range_start": months[0],
                                 "dagster/asset_partition_range_end": months[-1]})
            results.append(job.execute_in_process(
                instance=instance, asset_selection=sorted(keys), raise_on_error=False, tags=run_tags,
                run_config=refresh_run_config(keys, retrain)))
            steps += step_timings(instance.all_logs(results[-1].run_id))
    if not results:
        raise SijilError(f"--select {select!r} matches no asset")
    events = [e for r in results for e in r.all_events]
    result = results[0]
    failures = [e for e in events if e.is_step_failure]
    failed = [e.step_key for e in failures]
    errors = [_root_message(e.event_specific_data.error) for e in failures if e.event_specific_data.error]
    checks = [e.event_specific_data for e in events if e.event_type_value == "ASSET_CHECK_EVALUATION"]

    def name(c) -> str:
        return f"{c.asset_key.to_user_string()}:{c.check_name}"

    checks_failed = [name(c) for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    checks_warned = [name(c) for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
    rows = {}
    if build.exists():
        with Warehouse(path=str(build)).connect(read_only=True) as con:
            rows = layer_row_counts(con)
    return RefreshResult(
        success=all(r.success for r in results),
        run_id=result.run_id,
        warehouse=build,
        seconds=time.monotonic() - started,
        rows_by_layer=rows,
        quarantined=rows.get("quarantine", 0),
        failed=failed,
        errors=errors,
        checks_evaluated=len(checks),
        checks_failed=checks_failed,
        checks_warned=checks_warned,
        steps=steps,
        run_ids=[r.run_id for r in results],
    )


def step_timings(entries) -> list[StepTiming]:
    """Each step's start and end, materialised assets and checks, from a run's event log."""
    steps: dict[str, StepTiming] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        step = steps.setdefault(event.step_key, StepTiming(event.step_key, entry.timestamp, entry.timestamp))
        if event.event_type_value == "STEP_START":
            step.started = entry.timestamp
        step.finished = max(step.finished, entry.timestamp)
        if event.is_step_materialization:
            materialization = event.event_specific_data.materialization
            step.asset_keys.append(materialization.asset_key.to_user_string())
            phases = materialization.metadata.get("seconds_by_phase")
            if phases is not None and not step.phases:  # one step, several assets: the same phases
                step.phases = dict(phases.value)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            step.checks += 1
    return sorted(steps.values(), key=lambda s: s.started)


def print_summary(result: RefreshResult) -> None:
    from assets.publish.wap import reports_path

    status = "succeeded" if result.success else "FAILED"
    print(f"\nSijil refresh {status} in {result.seconds:.0f} s (run {result.run_id})")
    if result.failed:
        print("  failed steps: " + ", ".join(result.failed))
        for message in result.errors:
            print(f"    {message}")
    print("  rows stored per layer (tables):")
    for schema, n in sorted(result.rows_by_layer.items()):
        print(f"    {schema:<22} {n:>12,}")
    print(f"  rows quarantined: {result.quarantined:,}")
    print(f"  checks: {result.checks_evaluated} evaluated, {len(result.checks_failed)} failed, "
          f"{len(result.checks_warned)} warnings")
    for name in result.checks_failed:
        print(f"    FAILED  {name}")
    for name in result.checks_warned:
        print(f"    warning {name}")
    if result.published:
        print(f"  published warehouse: {result.warehouse} (engineering, personal data)")
        print(f"  analytics warehouse: {result.analytics} (pseudonymised; what M&E officers open)")
        reports = reports_path(get_settings())
        print(f"  indicator report: {reports / 'indicators.html'} (and indicators.xlsx); "
              "`sijil indicators` prints the scorecard")
    else:
        print(f"  nothing published: the previous warehouse at {result.warehouse} is unchanged")
    print("  open the Dagster UI with `make ui`, then http://127.0.0.1:3000")
