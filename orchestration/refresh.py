"""One refresh of the whole warehouse, run in this process, with a summary for people."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.settings import REPO_ROOT, Settings, get_settings


@dataclass
class StepTiming:
    """One executed step of a refresh: when it ran, what it materialised and checked."""

    step_key: str
    started: float  # seconds since the epoch
    finished: float
    asset_keys: list[str] = field(default_factory=list)  # materialised, as "layer/name"
    checks: int = 0  # asset checks evaluated in the step


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
    """Rows per warehouse layer (schema), tables and views alike."""
    relations = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() order by 1, 2"
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


def run_refresh(select: str | None = None) -> RefreshResult:
    """Write-audit-publish one refresh: build a new warehouse file, materialise every asset (or
    the selection) into it, and publish it only when no step and no blocking check failed."""
    from assets.publish.analytics import load_publish_config
    from assets.publish.pseudonyms import load_key
    from assets.publish.wap import begin_build, discard, publish

    settings = get_settings()
    ensure_dagster_home(settings)
    key = load_key(settings)
    config = load_publish_config()
    started = time.monotonic()
    build = begin_build(settings, time.strftime("%Y%m%dT%H%M%S"))
    previous = os.environ.get("SIJIL_WAREHOUSE")
    os.environ["SIJIL_WAREHOUSE"] = str(build)
    try:
        result = _execute(select, build)
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


def _execute(select: str | None, build: Path) -> RefreshResult:
    """Run the asset job in this process against the build file."""
    from assets.warehouse import Warehouse
    from orchestration.definitions import build_definitions

    started = time.monotonic()
    defs = build_definitions()
    job = defs.resolve_implicit_global_asset_job_def()
    selection = None
    if select:
        selection = sorted(dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph()))
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, asset_selection=selection, raise_on_error=False,
            # The run's full event log is in the Dagster UI; the terminal shows warnings and errors.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        steps = step_timings(instance.all_logs(result.run_id))
    failures = [e for e in result.all_events if e.is_step_failure]
    failed = [e.step_key for e in failures]
    errors = [_root_message(e.event_specific_data.error) for e in failures if e.event_specific_data.error]
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]

    def name(c) -> str:
        return f"{c.asset_key.to_user_string()}:{c.check_name}"

    checks_failed = [name(c) for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    checks_warned = [name(c) for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
    rows = {}
    if build.exists():
        with Warehouse(path=str(build)).connect(read_only=True) as con:
            rows = layer_row_counts(con)
    return RefreshResult(
        success=result.success,
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
    )


def step_timings(entries) -> list[StepTiming]:
    """Each step's start and end, materialised assets, row counts and checks, from a run's event log."""
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
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            step.checks += 1
    return sorted(steps.values(), key=lambda s: s.started)


def print_summary(result: RefreshResult) -> None:
    status = "succeeded" if result.success else "FAILED"
    print(f"\nSijil refresh {status} in {result.seconds:.0f} s (run {result.run_id})")
    if result.failed:
        print("  failed steps: " + ", ".join(result.failed))
        for message in result.errors:
            print(f"    {message}")
    print("  rows per layer:")
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
    else:
        print(f"  nothing published: the previous warehouse at {result.warehouse} is unchanged")
    print("  open the Dagster UI with `make ui`, then http://127.0.0.1:3000")
