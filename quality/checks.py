"""The factory: every expectation suite and every source's freshness as Dagster asset checks.

Checks are defined from the profile and config/quality.yaml alone (no warehouse, no GX import),
so the code location loads fast; each check builds its suite and imports great_expectations
when it runs. A suite of a `critical` source (or the core marts) fails with severity ERROR and
blocks: downstream assets do not materialise and the refresh does not publish. A `warning`
suite fails with severity WARN. All checks are `blocking=True` so downstream steps wait for
them — a WARN failure lets them run — which also means the scorecard, built after staging,
sees every source suite's results of the run.
"""


import datetime as dt

import dagster as dg

from assets.profiles import EntityContract, Profile, SourceContract
from assets.settings import get_settings
from assets.warehouse import Warehouse
from quality.expectations import Suite
from quality.suites import load_quality_config, mart_suite, source_suite, staging_columns

CHECK_POOL = "duckdb_writer"


def severity_of(level: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if level == "critical" else dg.AssetCheckSeverity.WARN


def gx_project_dir():
    return get_settings().home / "quality" / "gx"


def data_docs_dir():
    return get_settings().home / "quality" / "data_docs"


def evaluate_suite(con, suite: Suite, run_id: str, sample_rows: int, with_docs: bool = True) -> dg.AssetCheckResult:
    """Validate a suite against the warehouse, record its outcomes, and say what failed (counts only)."""
    from quality.data_docs import publish_offline
    from quality.results import record_outcomes
    from quality.validate import read_frames, run_suite

    frames = read_frames(con, suite, sample_rows)
    project = gx_project_dir() if with_docs else None
    outcomes = run_suite(suite, frames, project)
    record_outcomes(con, run_id, "/".join(suite.asset_key), suite.name, suite.source, suite.severity, outcomes)
    if with_docs:
        publish_offline(project / "gx" / "uncommitted" / "data_docs" / "local_site", data_docs_dir())
    failed = [o for o in outcomes if not o.success]
    return dg.AssetCheckResult(
        passed=not failed, severity=severity_of(suite.severity),
        description=("failed: " + "; ".join(f"{o.rule} ({o.unexpected_count} of {o.element_count})" for o in failed))
        if failed else f"{len(outcomes)} expectations met",
        metadata={"expectations": len(outcomes), "failed": len(failed), "rows_in_table": frames.table_rows,
                  "rows_validated": len(frames.rows), "sampled": frames.keys is not None,
                  "failed_rules": [f"{o.rule}: {o.unexpected_count} of {o.element_count}" for o in failed],
                  "data_docs": str(data_docs_dir() / "index.html") if with_docs else ""})


def _source_check(profile: Profile, contract: SourceContract, entity: EntityContract):
    key = dg.AssetKey(["staging", f"stg_{entity.table}"])

    @dg.asset_check(asset=key, name=f"gx_{entity.table}", blocking=True, pool=CHECK_POOL,
                    description=f"Great Expectations suite of {contract.source}.{entity.name} "
                                f"(severity {contract.severity}): completeness, validity, uniqueness, consistency")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        config = load_quality_config()
        with warehouse.connect() as con:
            suite = source_suite(profile, contract, entity, staging_columns(con, entity), config)
            return evaluate_suite(con, suite, context.run.run_id, int(config["sample_rows"]))

    return _check


def _mart_check(profile: Profile, name: str, spec: dict, severity: str):
    @dg.asset_check(asset=dg.AssetKey(["core", name]), name=f"gx_{name}", blocking=True, pool=CHECK_POOL,
                    description=f"Great Expectations suite of core.{name} (severity {severity})")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        config = load_quality_config()
        with warehouse.connect() as con:
            return evaluate_suite(con, mart_suite(profile, name, spec, config), context.run.run_id,
                                  int(config["sample_rows"]))

    return _check


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
        passed=outcome.success, severity=severity_of(contract.severity),
        description=(f"newest delivery {days:.1f} days ago; cadence {contract.cadence_days} days" if days is not None
                     else "no file ever delivered"),
        metadata={"days_since_delivery": outcome.observed_value, "cadence_days": contract.cadence_days,
                  "is_stale": not outcome.success})


def _freshness_check(contract: SourceContract, entity: EntityContract):
    @dg.asset_check(asset=dg.AssetKey(["raw", entity.table]), name="delivered_within_cadence", blocking=True,
                    pool=CHECK_POOL,
                    description=f"A new {entity.name} file from {contract.source} at least every "
                                f"{contract.cadence_days} days (severity {contract.severity})")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            return evaluate_freshness(con, contract, entity, context.run.run_id)

    return _check


def build_quality_checks(profile: Profile, config: dict | None = None) -> list[dg.AssetChecksDefinition]:
    """Freshness per raw entity, a GX suite per staging entity and per core mart."""
    config = config or load_quality_config()
    checks = []
    for contract in profile.sources:
        for entity in contract.entities:
            checks.append(_freshness_check(contract, entity))
            checks.append(_source_check(profile, contract, entity))
    marts = config["marts"]
    checks += [_mart_check(profile, name, spec, marts["severity"]) for name, spec in marts["suites"].items()]
    return checks
