"""dbt, run by Dagster: the project, the one translator of dbt → Dagster rules, the dbt assets.

Models run in two steps around the Python linkage assets: staging and intermediate first
(`dbt_upstream_assets`), then the marts and snapshots (`dbt_marts_assets`); models tagged
`monthly` are partitioned by month (`dbt_monthly_assets`), built per month or per backfill range.
"""

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets.catalog import table_exists
from assets.operations.partitions import monthly_partitions, run_months
from assets.operations.retention import (dbt_invocation_folders, load_retention_config, new_dbt_invocation_folder,
                                         prune_dbt_artifacts)
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile
from assets.settings import DBT_PROJECT_DIR, REPO_ROOT, get_settings
from assets.text.check_digits import identifier_check
from assets.warehouse import Warehouse
from orchestration.automation import follow_working_copy

UPSTREAM_SELECT = "fqn:sijil.staging fqn:sijil.intermediate"
MARTS_SELECT = "fqn:sijil.marts resource_type:snapshot"
UPSTREAM_STEP = "dbt_upstream_assets"
MONTHLY_SELECT = "tag:monthly"  # models partitioned by period_month (assets/operations/partitions.py)
PARSE_STATE = "partial_parse.msgpack"  # dbt's parse state, for partial parsing
# What the incremental staging models and int_person_mentions are made by, besides the profile: their SQL, every macro,
# the project's configuration and the text functions DuckDB runs for them.
INCREMENTAL_CODE = ("dbt_project/dbt_project.yml", "dbt_project/macros", "dbt_project/models/staging",
                    "dbt_project/models/intermediate/int_person_mentions.sql", "assets/text")
FINGERPRINTS_DDL = "create table if not exists audit.dbt_code_fingerprints (step varchar, fingerprint varchar)"
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "core": "core",
                "monitoring": "monitoring", "snapshots": "snapshots", "audit": "audit"}


def dbt_vars(profile: Profile) -> dict[str, Any]:
    """The country profile's values every dbt model reads through var(). They change only with
    the profile, so dbt's partial parsing holds from one run to the next; what changes per run is
    in :func:`dbt_run_env`."""
    ids = profile.identifiers
    values = {
        "date_formats": list(profile.date_formats),
        "timezone": profile.raw.get("timezone", "UTC"),
        "national_id_pattern": ids["national_id"]["pattern"],
        "national_id_check": identifier_check(ids, "national_id"),
        "identifier_patterns": {name: spec["pattern"] for name, spec in ids.items() if "pattern" in spec},
        "phone_country_code": str(ids["phone"]["country_code"]),
        "phone_pattern": ids["phone"]["pattern"],
        "poverty_line_pc_month": float(profile.poverty_line_pc_month),
        "disclosure_k": int(profile.disclosure_k),
        "orphan_payment_max_share": float(profile.raw.get("orphan_payment_max_share", 0.01)),
        "pensionable_age": int(profile.pensionable_age),
        "nationality_code": profile.nationality_code,
        "source_trust": list(profile.source_trust),
        "household_sources": list(profile.household_sources),
        # which staging models are built, and which of them fill each conformed role
        "sources": [contract.source for contract in profile.sources],
        "feeds": dict(profile.raw.get("feeds") or {}),
        "indicator_sources": dict(profile.raw.get("indicator_sources") or {}),
    }
    return values


def dbt_run_env(months: tuple[str, str] | None = None) -> dict[str, str]:
    """What changes from one dbt run to the next, passed as environment variables the macros read
    (`sj_reference_date()`, `period_month_from()`/`period_month_to()`): the reference date, read
    now (a long-running code location must not keep the day it loaded), and for monthly models the
    months [from, to) to build (every month otherwise). Not vars: dbt parses the whole project
    again when a var changes, but only the files that read an environment variable when it does."""
    first, end = months or ("1900-01-01", "9999-12-01")
    return {"SIJIL_RUN_REFERENCE_DATE": get_settings().reference_date.isoformat(),
            "SIJIL_RUN_MONTH_FROM": first, "SIJIL_RUN_MONTH_TO": end}


def dbt_build_args(profile: Profile, full_refresh: bool = False) -> list[str]:
    """`dbt build` arguments: models, their data tests and snapshots, with the profile's vars; with
    `full_refresh`, incremental models are built whole. Unit tests are left out, as dbt advises
    for production builds: they test the SQL on fixed fixture rows, never the data, so they
    belong to the test suite (`dbt_unit_test_args`), not to every refresh (6 s of each)."""
    return ["build", "--vars", json.dumps(dbt_vars(profile), ensure_ascii=False), "--exclude-resource-type", "unit_test",
            *(["--full-refresh"] if full_refresh else [])]


def dbt_unit_test_args(profile: Profile) -> list[str]:
    """`dbt test` arguments running the profile's unit tests only (the test suite runs them
    against a built warehouse, whose tables give dbt the columns of the inputs)."""
    return ["test", "--select", "test_type:unit", "--vars", json.dumps(dbt_vars(profile), ensure_ascii=False)]


def incremental_code_fingerprint(profile: Profile) -> str:
    """Hash of everything that decides the rows of the incremental staging models apart from
    their inputs: INCREMENTAL_CODE, the profile's files and vars, and the
    versions of dbt, its adapter and DuckDB. The raw rows are their inputs (ingestion reads an
    entity again whole when its own code or contract changes, and the models follow its loads)."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for root, paths in ((REPO_ROOT, [REPO_ROOT / p for p in INCREMENTAL_CODE]), (profile.directory, [profile.directory])):
        files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*"))
                       if f.is_file() and "__pycache__" not in f.parts)
        for f in files:
            digest.update(f"{f.relative_to(root).as_posix()}\0".encode() + f.read_bytes() + b"\0")
    digest.update(json.dumps(dbt_vars(profile), sort_keys=True, ensure_ascii=False).encode())
    digest.update(" ".join(version(p) for p in ("dbt-core", "dbt-duckdb", "duckdb")).encode())
    return digest.hexdigest()[:16]


def built_under(warehouse: Warehouse, step: str) -> str | None:
    """The code fingerprint the step's incremental models in `warehouse` were last built under."""
    if not warehouse.resolved_path().exists():
        return None
    with warehouse.connect(read_only=True) as con:
        if not table_exists(con, "audit", "dbt_code_fingerprints"):
            return None
        rows = con.execute("select fingerprint from audit.dbt_code_fingerprints where step = ?", [step]).fetchall()
    return rows[0][0] if rows else None


def record_built_under(warehouse: Warehouse, step: str, fingerprint: str) -> None:
    with warehouse.connect() as con:
        con.execute("create schema if not exists audit")
        con.execute(FINGERPRINTS_DDL)
        con.execute("begin transaction")
        con.execute("delete from audit.dbt_code_fingerprints where step = ?", [step])
        con.execute("insert into audit.dbt_code_fingerprints values (?, ?)", [step, fingerprint])
        con.execute("commit")


class SijilDbtTranslator(DagsterDbtTranslator):
    """Every dbt → Dagster rule: models keyed [layer, model] and grouped by layer; sources keep
    dagster-dbt's [source, table] key, which is the ingestion or linkage asset's key."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "snapshot", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(dbt_resource_props.get("schema", ""), "warehouse")

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Models and snapshots follow their inputs in the working copy (declarative automation)."""
        return follow_working_copy()

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return dbt_resource_props.get("description") or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"


def dbt_executable() -> str:
    """The dbt installed beside this Python (the virtualenv need not be activated), through
    `sijil-dbt`, which answers dagster-dbt's `dbt --version` without asking pypi.org."""
    for name in ("sijil-dbt", "dbt"):
        beside = Path(sys.executable).parent / name
        if beside.exists():
            return str(beside)
    return shutil.which("sijil-dbt") or shutil.which("dbt") or "dbt"


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())


def manifest_target(profile: Profile) -> str:
    """Each profile's manifest in a target folder of its own: the profile's vars decide which
    staging models exist and what each intermediate union refs."""
    return f"target/{profile.code}"


def prepare_manifest(profile: Profile) -> DbtProject:
    """Parse the dbt project with the profile's vars, so the manifest exists and is current (a fresh
    clone has none; a changed model or profile parses again). One process parses at a time (a
    code server, a refresh and a test worker may start together); the others wait, then read it."""
    target = manifest_target(profile)
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
    inputs = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in (".sql", ".yml", ".yaml")
              and "target" not in p.parts and "logs" not in p.parts]
    inputs += [p for p in profile.directory.rglob("*") if p.is_file()]
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or max(p.stat().st_mtime for p in inputs) > manifest.stat().st_mtime:
            values = dbt_vars(profile)
            subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                            "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", target,
                            "--vars", json.dumps(values, ensure_ascii=False)], check=True)
    return project


def point_dbt_at(warehouse: Warehouse, months: tuple[str, str] | None = None) -> None:
    """dbt's profile reads SIJIL_WAREHOUSE and SIJIL_DUCKDB_MEMORY_LIMIT: make them the file this
    run's Python assets write and the memory limit their connections have; and set the run's
    reference date and months (:func:`dbt_run_env`)."""
    path = warehouse.resolved_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["SIJIL_WAREHOUSE"] = str(path)
    os.environ["SIJIL_DUCKDB_MEMORY_LIMIT"] = get_settings().duckdb_memory_limit
    os.environ.update(dbt_run_env(months))


def run_dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, profile: Profile,
                  months: tuple[str, str] | None = None, full_refresh: bool = False):
    """One `dbt build` of the step's selection into the run's warehouse, its events streamed to
    Dagster; then all but the newest dbt invocation folders are removed (config/retention.yaml).

    Each invocation writes to a folder of its own, which starts from the profile's last parse
    state (`target/<profile>/partial_parse.msgpack`) and hands its own back when it succeeds: dbt
    then parses only what changed since (nothing, in the later steps of a refresh, whose build
    file is always at the same path) instead of the whole project. The monthly models' builds keep
    a parse state of their own (`monthly.partial_parse.msgpack`): their months are environment
    variables that two files read, so one shared state had each refresh parse those files twice,
    with a new manifest each time (about 1.3 s an invocation)."""
    point_dbt_at(warehouse, months)
    shared = DBT_PROJECT_DIR / manifest_target(profile) / PARSE_STATE
    state = shared if months is None else shared.with_name(f"monthly.{PARSE_STATE}")
    target = new_dbt_invocation_folder(DBT_PROJECT_DIR / "target", context.op_execution_context.op.name,
                                       context.run.run_id)
    target.mkdir(parents=True)
    for start in (state, shared):  # the monthly builds' first starts from the shared state
        if start.exists():
            shutil.copyfile(start, target / PARSE_STATE)
            break
    yield from dbt.cli(dbt_build_args(profile, full_refresh), context=context, target_path=target).stream()
    if (target / PARSE_STATE).exists():
        handed_back = state.with_name(f"{PARSE_STATE}.{target.name}")
        shutil.copyfile(target / PARSE_STATE, handed_back)
        os.replace(handed_back, state)
    prune_dbt_artifacts(DBT_PROJECT_DIR / "target", load_retention_config().dbt_artifact_runs)


def _run_results(run_id: str):
    """The node results (run_results.json) of a Dagster run's dbt invocations."""
    for folder in dbt_invocation_folders(DBT_PROJECT_DIR / "target", run_id):
        results = folder / "run_results.json"
        if results.exists():  # an invocation that failed before dbt wrote its results has none
            yield from json.loads(results.read_text(encoding="utf-8"))["results"]


def dbt_node_seconds(run_id: str) -> dict[str, float]:
    """Each dbt node (unique id) a Dagster run executed, with the seconds dbt spent executing it."""
    seconds: dict[str, float] = {}
    for node in _run_results(run_id):
        seconds[node["unique_id"]] = seconds.get(node["unique_id"], 0.0) + float(node.get("execution_time") or 0.0)
    return seconds


def dbt_test_seconds(run_id: str) -> tuple[int, float]:
    """The dbt tests a Dagster run executed, and the wall seconds during which one was running
    (the union of their compile-and-execute intervals), from its invocations' run_results.json."""
    intervals = []
    for node in _run_results(run_id):
        times = [dt.datetime.fromisoformat(t[k]).timestamp() for t in node.get("timing", [])
                 for k in ("started_at", "completed_at") if t.get(k)]
        if node["unique_id"].startswith("test.") and times:
            intervals.append((min(times), max(times)))
    seconds, reach = 0.0, float("-inf")
    for started, finished in sorted(intervals):
        seconds += max(0.0, finished - max(started, reach))
        reach = max(reach, finished)
    return len(intervals), seconds


def unproduced_source_specs(manifest: Mapping[str, Any], translator: DagsterDbtTranslator,
                            dbt_defs: list[dg.AssetsDefinition], produced: set[dg.AssetKey]) -> list[dg.AssetSpec]:
    """The dbt sources the dbt assets read that no asset materialises (`audit.expectation_results`,
    which the quality checks write), as assets nothing materialises, described, grouped and keyed
    by the translator from their dbt source entry — not the bare stand-ins Dagster makes for them."""
    read = {dep for a in dbt_defs for deps in a.asset_deps.values() for dep in deps}
    missing = read - produced - {key for a in dbt_defs for key in a.keys}
    return [dg.AssetSpec(translator.get_asset_key(props), description=translator.get_description(props),
                         group_name=translator.get_group_name(props), kinds={"duckdb"})
            for props in manifest["sources"].values() if translator.get_asset_key(props) in missing]


def build_dbt_definitions(profile: Profile, produced: set[dg.AssetKey]) -> dg.Definitions:
    """The dbt assets (two steps around linkage), the dbt sources nothing else produces
    (`unproduced_source_specs`; `produced`: the keys the other assets materialise) and the dbt
    CLI resource."""
    project = prepare_manifest(profile)
    translator = SijilDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(manifest=project.manifest_path, select=UPSTREAM_SELECT, dagster_dbt_translator=translator,
                name="dbt_upstream_assets", pool="duckdb_writer", retry_policy=transient_retry_policy())
    @final_unless_transient
    def dbt_upstream_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        # Staging tables stage only new raw rows; built whole when the code that makes them changed.
        fingerprint = incremental_code_fingerprint(profile)
        full_refresh = built_under(warehouse, UPSTREAM_STEP) != fingerprint
        if full_refresh:
            context.log.info("staging models built whole: the first build, or the code that makes them changed")
        yield from run_dbt_build(context, dbt, warehouse, profile, full_refresh=full_refresh)
        if context.selected_asset_keys == set(context.assets_def.keys):  # a subset leaves the others as they were
            record_built_under(warehouse, UPSTREAM_STEP, fingerprint)

    @dbt_assets(manifest=project.manifest_path, select=MARTS_SELECT, exclude=MONTHLY_SELECT,
                dagster_dbt_translator=translator, name="dbt_marts_assets", pool="duckdb_writer",
                retry_policy=transient_retry_policy())
    @final_unless_transient
    def dbt_marts_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        yield from run_dbt_build(context, dbt, warehouse, profile)

    @dbt_assets(manifest=project.manifest_path, select=MONTHLY_SELECT, dagster_dbt_translator=translator,
                name="dbt_monthly_assets", pool="duckdb_writer", retry_policy=transient_retry_policy(),
                partitions_def=monthly_partitions(),
                backfill_policy=dg.BackfillPolicy.single_run())
    @final_unless_transient
    def dbt_monthly_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        months = run_months(context.partition_time_window)  # one month, or a backfill's range in one run
        yield from run_dbt_build(context, dbt, warehouse, profile, months=months)

    dbt_defs = [dbt_upstream_assets, dbt_marts_assets, dbt_monthly_assets]
    manifest = json.loads(Path(project.manifest_path).read_text(encoding="utf-8"))
    return dg.Definitions(assets=[*dbt_defs, *unproduced_source_specs(manifest, translator, dbt_defs, produced)],
                          resources={"dbt": dbt_resource(project)})
