"""The factory: every expectation suite and every source's freshness as Dagster asset checks.

Checks are defined from the profile and config/quality.yaml alone (no warehouse, no GX import),
so the code location loads fast; each suite is built, and great_expectations imported, when the
check runs. A few multi-asset checks hold them, one step each (a step per suite would cost more
in Dagster overhead than the small suites themselves): freshness on the raw entities and GX
suites on the staging entities, each split by the sources' severity (so a critical failure
never holds back the assets of a warning source), and GX suites on the core marts. Each check
sits on its own asset in the UI and can be run alone.

A suite of a `critical` source (and the core marts) fails with severity ERROR and blocks:
downstream assets do not materialise and the refresh does not publish. A `warning` suite fails
with severity WARN. Every spec is `blocking=True` so downstream steps wait for the checks — a
WARN failure lets them run — which also means the scorecard, built after staging, sees every
source suite's results of the run.
"""

import contextlib
import datetime as dt
import gc

import dagster as dg

from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import SEVERITIES, EntityContract, Profile, SourceContract
from assets.settings import get_settings
from assets.warehouse import Warehouse
from quality.expectations import Suite
from quality.suites import load_quality_config, mart_suite, source_suite, staging_columns

CHECK_POOL = "duckdb_writer"
FRESHNESS_CHECK = "delivered_within_cadence"


def severity_of(level: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if level == "critical" else dg.AssetCheckSeverity.WARN


def gx_project_dir():
    return get_settings().home / "quality" / "gx"


def data_docs_dir():
    return get_settings().home / "quality" / "data_docs"


@contextlib.contextmanager
def suite_validation(with_docs: bool = True):
    """A GX context for a step's suites; on success their Data Docs are built once and
    mirrored offline into data_docs_dir()."""
    from quality.data_docs import publish_offline
    from quality.validate import Validation

    validation = Validation(gx_project_dir() if with_docs else None)
    yield validation
    site = validation.build_docs()
    if site is not None:
        publish_offline(site, data_docs_dir())
    # GX leaves what a validation read in reference cycles, which only a full collection frees;
    # the refresh's later steps run in this process. At 1,000,000 persons this freed 0.3 to
    # 0.9 GB after each source suite step.
    gc.collect()


def evaluate_suite(con, suite: Suite, run_id: str, sample_rows: int, validation) -> dg.AssetCheckResult:
    """Validate a suite against the warehouse, record its outcomes, and say what failed (counts only)."""
    from quality.results import record_outcomes
    from quality.validate import read_frames

    frames = read_frames(con, suite, sample_rows)
    outcomes = validation.run(suite, frames)
    record_outcomes(con, run_id, "/".join(suite.asset_key), suite.name, suite.source, suite.severity, outcomes)
    failed = [o for o in outcomes if not o.success]
    with_docs = validation.project_dir is not None
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(suite.asset_key)), check_name=suite.check_name,
        passed=not failed, severity=severity_of(suite.severity),
        description=("failed: " + "; ".join(f"{o.rule} ({o.unexpected_count} of {o.element_count})" for o in failed))
        if failed else f"{len(outcomes)} expectations met",
        metadata={"expectations": len(outcomes), "failed": len(failed), "rows_in_table": frames.table_rows,
                  "rows_validated": len(frames.rows), "sampled": frames.table_rows > len(frames.rows),
                  "failed_rules": [f"{o.rule}: {o.unexpected_count} of {o.element_count}" for o in failed],
                  "data_docs": str(data_docs_dir() / "index.html") if with_docs else ""})


def evaluate_freshness(con, contract: SourceContract, entity: EntityContract, run_id: str,
                       now: dt.datetime | None = None) -> dg.AssetCheckResult:
    from quality.freshness import days_since_delivery, freshness_outcome
    from quality.results import record_outcomes

    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    days = days_since_delivery(con, contract.source, entity.name, now)
    outcome = freshness_outcome(days, contract.cadence_days)
    record_outcomes(con, run_id, f"raw/{entity.table}", entity.table, contract.source, contract.severity,
                    [outcome], now)
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", entity.table]), check_name=FRESHNESS_CHECK,
        passed=outcome.success, severity=severity_of(contract.severity),
        description=(f"newest delivery {days:.1f} days ago; cadence {contract.cadence_days} days" if days is not None
                     else "no file ever delivered"),
        metadata={"days_since_delivery": outcome.observed_value, "cadence_days": contract.cadence_days,
                  "is_stale": not outcome.success})


def is_selected(context: dg.AssetCheckExecutionContext, key: tuple[str, ...], name: str) -> bool:
    """Whether the check `name` on the asset `key` is among those the step was asked to evaluate."""
    return dg.AssetCheckKey(dg.AssetKey(list(key)), name) in context.selected_asset_check_keys


def entities_of_severity(profile: Profile, severity: str) -> list[tuple[SourceContract, EntityContract]]:
    """Every (source, entity) of the profile whose contract has `severity`."""
    return [(c, e) for c in profile.sources if c.severity == severity for e in c.entities]


def _freshness_checks(profile: Profile, severity: str):
    targets = entities_of_severity(profile, severity)
    specs = [dg.AssetCheckSpec(FRESHNESS_CHECK, asset=dg.AssetKey(["raw", e.table]), blocking=True,
                               description=f"A new {e.name} file from {c.source} at least every {c.cadence_days} "
                                           f"days (severity {c.severity})") for c, e in targets]

    @dg.multi_asset_check(specs=specs, name=f"quality_freshness_{severity}", can_subset=True, pool=CHECK_POOL,
                          retry_policy=transient_retry_policy())
    @final_unless_transient
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        with warehouse.connect() as con:
            for contract, entity in targets:
                if is_selected(context, ("raw", entity.table), FRESHNESS_CHECK):
                    yield evaluate_freshness(con, contract, entity, context.run.run_id)

    return _check


def _source_suite_checks(profile: Profile, severity: str):
    targets = entities_of_severity(profile, severity)
    specs = [dg.AssetCheckSpec(f"gx_{e.table}", asset=dg.AssetKey(["staging", f"stg_{e.table}"]), blocking=True,
                               description=f"Great Expectations suite of {c.source}.{e.name} (severity "
                                           f"{c.severity}): completeness, validity, uniqueness, consistency")
             for c, e in targets]

    @dg.multi_asset_check(specs=specs, name=f"quality_source_suites_{severity}", can_subset=True, pool=CHECK_POOL,
                          retry_policy=transient_retry_policy())
    @final_unless_transient
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        config = load_quality_config()
        with warehouse.connect() as con, suite_validation() as validation:
            for contract, entity in targets:
                if is_selected(context, ("staging", f"stg_{entity.table}"), f"gx_{entity.table}"):
                    suite = source_suite(profile, contract, entity, staging_columns(con, entity), config)
                    yield evaluate_suite(con, suite, context.run.run_id, int(config["sample_rows"]), validation)

    return _check


def _mart_suite_checks(profile: Profile, config: dict):
    marts = config["marts"]
    specs = [dg.AssetCheckSpec(f"gx_{name}", asset=dg.AssetKey(["core", name]), blocking=True,
                               description=f"Great Expectations suite of core.{name} (severity {marts['severity']})")
             for name in marts["suites"]]

    @dg.multi_asset_check(specs=specs, name="quality_mart_suites", can_subset=True, pool=CHECK_POOL,
                          retry_policy=transient_retry_policy())
    @final_unless_transient
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        current = load_quality_config()
        with warehouse.connect() as con, suite_validation() as validation:
            for name, spec in current["marts"]["suites"].items():
                if is_selected(context, ("core", name), f"gx_{name}"):
                    yield evaluate_suite(con, mart_suite(profile, name, spec, current), context.run.run_id,
                                         int(current["sample_rows"]), validation)

    return _check


def build_quality_checks(profile: Profile, config: dict | None = None) -> list[dg.AssetChecksDefinition]:
    """Freshness per raw entity, a GX suite per staging entity and per core mart."""
    config = config or load_quality_config()
    checks = []
    for severity in sorted(SEVERITIES):  # one step per severity: a critical failure never blocks a warning source's assets
        if entities_of_severity(profile, severity):
            checks += [_freshness_checks(profile, severity), _source_suite_checks(profile, severity)]
    return [*checks, _mart_suite_checks(profile, config)]
