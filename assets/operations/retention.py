"""Retention: what Sijil received is kept for as long as config/retention.yaml says, then purged.

`sijil purge` (under the refresh lock, so never during a refresh) removes

- landing: agency exports in the inbox first received more than `landing_days` ago (their rows
  leave raw at the next refresh, and the marts follow);
- quarantine: quarantined rows, with their raw text, of files first received more than
  `quarantine_days` ago, from the published warehouse and every kept version; the files are
  recorded in audit.retention_purges, and ingestion leaves their quarantined rows out from then
  on, so a file still in the inbox does not bring them back;
- the ingestion ledger's rows older than `ledger_days`;
- Great Expectations Data Docs pages of all but the newest `data_docs_runs` runs;
- dbt's artifacts of all but the newest `dbt_artifact_runs` dbt invocations (each dbt step of a
  refresh also prunes them when it ends: build debris, several MB per invocation).

The purge changes no mart: the core and monitoring tables are fingerprinted before and after,
and a purge that would change one is not applied. What was purged (counts, files, hashes —
never a row's content) is written to audit.retention_purges and to the hash-chained audit log.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from assets.catalog import table_exists
from assets.errors import SijilError
from assets.settings import CONFIG_DIR, DBT_PROJECT_DIR, Settings

PURGES_DDL = """
create table if not exists audit.retention_purges (
    purged_at timestamp, layer varchar, item varchar, sha256 varchar, first_received_at timestamp, rows bigint
)
"""
# The folder dagster-dbt gives each dbt invocation under dbt_project/target: <op>-<run id>-<id>.
DBT_INVOCATION_FOLDER = re.compile(r"^dbt_\w+_assets-[0-9a-f]{7}-[0-9a-f]{7}$")
# Schemas a purge must leave exactly as they were.
UNTOUCHED_SCHEMAS = ("core", "monitoring")


@dataclass(frozen=True)
class RetentionConfig:
    landing_days: int
    quarantine_days: int
    ledger_days: int
    data_docs_runs: int
    dbt_artifact_runs: int


@dataclass
class PurgeReport:
    purged_at: dt.datetime
    landing_files: list[str] = field(default_factory=list)
    quarantine_rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    ledger_rows: int = 0
    data_docs_runs: list[str] = field(default_factory=list)
    dbt_artifact_runs: list[str] = field(default_factory=list)
    versions: int = 0  # kept warehouse versions the purge was applied to

    def counts(self) -> dict[str, int]:
        return {"landing_files": len(self.landing_files), "quarantine_rows": sum(self.quarantine_rows.values()),
                "ledger_rows": self.ledger_rows, "data_docs_runs": len(self.data_docs_runs),
                "dbt_artifact_runs": len(self.dbt_artifact_runs), "warehouse_versions": self.versions}


def load_retention_config(path: Path | None = None) -> RetentionConfig:
    path = path or CONFIG_DIR / "retention.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        config = RetentionConfig(**{k: int(raw[k]) for k in RetentionConfig.__dataclass_fields__})
    except (KeyError, TypeError, ValueError) as exc:
        raise SijilError(f"{path}: missing or not a whole number: {exc}") from exc
    if min(config.landing_days, config.quarantine_days, config.data_docs_runs, config.dbt_artifact_runs) < 1:
        raise SijilError(f"{path}: every retention must be at least 1")
    if config.ledger_days < max(config.landing_days, config.quarantine_days):
        raise SijilError(f"{path}: ledger_days must be at least landing_days and quarantine_days "
                         "(the ledger says when each file was first received)")
    return config


def first_received(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    """When each file (by SHA-256) was first loaded, from the ingestion ledger."""
    if not table_exists(con, "audit", "ingestion_ledger"):
        return {}
    return dict(con.execute("select sha256, min(loaded_at) from audit.ingestion_ledger "
                            "where sha256 is not null and sha256 <> '' group by sha256").fetchall())


def fingerprint(con: duckdb.DuckDBPyConnection, schemas=UNTOUCHED_SCHEMAS) -> dict[str, tuple]:
    """Rows and an order-independent content hash of every table in `schemas`."""
    tables = con.execute("select table_schema, table_name from information_schema.tables where table_catalog = "
                         f"current_database() and table_type = 'BASE TABLE' and table_schema in "
                         f"({', '.join('?' * len(schemas))}) order by 1, 2", list(schemas)).fetchall()
    return {f"{s}.{t}": tuple(con.execute(f'select count(*), coalesce(bit_xor(hash(x)), 0) from {s}."{t}" as x')
                              .fetchall()[0]) for s, t in tables}


def _purge_warehouse(path: Path, quarantine_files: dict[str, dt.datetime], ledger_cutoff: dt.datetime,
                     report: PurgeReport, record: bool) -> None:
    """Delete the expired quarantine rows and ledger rows of one warehouse file, in place."""
    with duckdb.connect(str(path)) as con:
        before = fingerprint(con)
        con.execute("begin transaction")
        con.execute("create schema if not exists audit")
        con.execute(PURGES_DDL)
        if quarantine_files:
            con.execute("create or replace temp table expired as select unnest(?::varchar[]) as sha256",
                        [list(quarantine_files)])
            tables = con.execute("select table_name from information_schema.columns where table_catalog = "
                                 "current_database() and table_schema = 'quarantine' and column_name = '_file_sha256' "
                                 "order by 1").fetchall()
            for (table,) in tables:
                deleted = con.execute(f'delete from quarantine."{table}" where _file_sha256 in '
                                      "(select sha256 from expired)").fetchall()[0][0]
                if record and deleted:
                    report.quarantine_rows[table] = report.quarantine_rows.get(table, 0) + deleted
            known = {r[0] for r in con.execute("select sha256 from audit.retention_purges "
                                               "where layer = 'quarantine'").fetchall()}
            for sha, received in quarantine_files.items():
                if sha not in known:
                    con.execute("insert into audit.retention_purges values (?, 'quarantine', null, ?, ?, null)",
                                [report.purged_at, sha, received])
        if table_exists(con, "audit", "ingestion_ledger"):
            deleted = con.execute("delete from audit.ingestion_ledger where loaded_at < ?",
                                  [ledger_cutoff]).fetchall()[0][0]
            if record:
                report.ledger_rows += deleted
        after = fingerprint(con)
        if after != before:
            con.execute("rollback")
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            raise SijilError(f"{path.name}: the purge would change {', '.join(changed)}; nothing was purged")
        con.execute("commit")
        con.execute("checkpoint")


def _expired_landing(inbox: Path, received: dict[str, dt.datetime], cutoff: dt.datetime) -> list[tuple]:
    """(path, relative name, sha256, first received) of every inbox file received before `cutoff`."""
    from assets.ingestion.load import sha256_of

    expired = []
    if not inbox.is_dir():
        return expired
    for path in sorted(p for p in inbox.glob("*/*") if p.is_file() and not p.is_symlink()):
        sha = sha256_of(path)
        when = received.get(sha) or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
        if when < cutoff:
            expired.append((path, path.relative_to(inbox).as_posix(), sha, when))
    return expired


def leave_out_purged_quarantine(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Ingestion's side of the quarantine purge: quarantined rows of files already purged stay
    out of the new quarantine tables (`tables`, fully qualified) even if the file is reloaded."""
    if not table_exists(con, "audit", "retention_purges"):
        return
    for table in tables:
        con.execute(f"delete from {table} where _file_sha256 in "
                    "(select sha256 from audit.retention_purges where layer = 'quarantine')")


def prune_data_docs(roots: list[Path], keep_runs: int) -> list[str]:
    """Keep the validation pages and results of the newest `keep_runs` runs under each GX root
    (the project's results store, its site, the offline mirror); return the runs removed.
    A run is a directory validations/<suite>/<run name>/ (GX's layout)."""
    runs: dict[str, float] = {}
    for root in roots:
        for run_dir in root.glob("validations/*/*"):
            if run_dir.is_dir():
                runs[run_dir.name] = max(runs.get(run_dir.name, 0.0), run_dir.stat().st_mtime)
    expired = sorted(runs, key=runs.get)[: max(0, len(runs) - keep_runs)]
    for root in roots:
        for name in expired:
            for run_dir in root.glob(f"validations/*/{name}"):
                shutil.rmtree(run_dir)
        _drop_links_to_missing_pages(root)
    return expired


def new_dbt_invocation_folder(target: Path, op_name: str, run_id: str) -> Path:
    """The folder of one `dbt build` under dbt's target directory, named by its Dagster step, run
    and a fresh invocation id (DBT_INVOCATION_FOLDER)."""
    return target / f"{op_name}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def dbt_invocation_folders(target: Path, run_id: str | None = None) -> list[Path]:
    """The dbt invocation folders under dbt's target directory (of one Dagster run, if given)."""
    if not target.is_dir():
        return []
    return [p for p in target.iterdir() if p.is_dir() and DBT_INVOCATION_FOLDER.match(p.name)
            and (run_id is None or p.name.split("-")[1] == run_id[:7])]


def prune_dbt_artifacts(target: Path, keep_runs: int) -> list[str]:
    """Keep the newest `keep_runs` dbt invocation folders under dbt's target directory (manifest,
    run results, compiled SQL and log of one `dbt build` each); return the folders removed.
    The profiles' parsed manifests (target/<profile>/) are not invocation folders and stay."""
    folders = sorted(dbt_invocation_folders(target), key=lambda p: p.stat().st_mtime)
    expired = folders[: max(0, len(folders) - keep_runs)]
    for folder in expired:
        shutil.rmtree(folder, ignore_errors=True)  # a concurrent prune may have removed it already
    return [folder.name for folder in expired]


def _drop_links_to_missing_pages(root: Path) -> None:
    """Remove the index rows that point to pages just pruned (GX rebuilds the index at its next
    run; until then the offline copy must not hold dead links)."""
    import re

    index = root / "index.html"
    if not index.is_file():
        return
    html = index.read_text(encoding="utf-8")
    rows = re.compile(r"<tr\b[^>]*>.*?</tr>", re.DOTALL | re.IGNORECASE)

    def keep(match: re.Match) -> str:
        links = re.findall(r"""(?:href|data-href)\s*=\s*["']([^"'#]+\.html)""", match.group(0))
        return "" if any(not (root / link).exists() for link in links if link.startswith("validations/")) \
            else match.group(0)

    index.write_text(rows.sub(keep, html), encoding="utf-8")


def purge(settings: Settings, config: RetentionConfig, now: dt.datetime | None = None) -> PurgeReport:
    """Apply the retention periods; see the module's docstring. Call under the refresh lock."""
    from assets.publish.access import apply_access_modes
    from assets.publish.wap import builds_dir, versions_dir

    report = PurgeReport(purged_at=now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    published = settings.published_warehouse
    received: dict[str, dt.datetime] = {}
    if published.exists():
        with duckdb.connect(str(published), read_only=True) as con:
            received = first_received(con)
    landing_cutoff = report.purged_at - dt.timedelta(days=config.landing_days)
    quarantine_cutoff = report.purged_at - dt.timedelta(days=config.quarantine_days)
    ledger_cutoff = report.purged_at - dt.timedelta(days=config.ledger_days)
    expired = {sha: when for sha, when in received.items() if when < quarantine_cutoff}
    landing = _expired_landing(settings.inbox, received, landing_cutoff)
    report.landing_files = [rel for _, rel, _, _ in landing]

    if published.exists():
        # The published file is replaced atomically by a purged copy: a reader keeps its version.
        staged = builds_dir(settings) / "purge.duckdb"
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(published, staged)
        try:
            _purge_warehouse(staged, expired, ledger_cutoff, report, record=True)
            with duckdb.connect(str(staged)) as con:
                rows = [(report.purged_at, "landing", rel, sha, when, None) for _, rel, sha, when in landing]
                rows += [(report.purged_at, "quarantine_rows", table, None, None, n)
                                       for table, n in report.quarantine_rows.items()]
                if report.ledger_rows:
                    rows.append((report.purged_at, "ledger", "audit.ingestion_ledger", None, None, report.ledger_rows))
                if rows:
                    con.executemany("insert into audit.retention_purges values (?, ?, ?, ?, ?, ?)", rows)
            os.replace(staged, published)
        finally:
            if staged.exists():
                staged.unlink()
        for version in sorted(versions_dir(settings).glob("sijil-*.duckdb")):
            _purge_warehouse(version, expired, ledger_cutoff, report, record=False)
            report.versions += 1
        apply_access_modes(settings)
    for path, *_ in landing:  # only once the warehouse records them
        path.unlink()

    gx = settings.home / "quality"
    report.data_docs_runs = prune_data_docs(
        [gx / "gx" / "gx" / "uncommitted", gx / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site",
         gx / "data_docs"], config.data_docs_runs)
    report.dbt_artifact_runs = prune_dbt_artifacts(DBT_PROJECT_DIR / "target", config.dbt_artifact_runs)
    return report
