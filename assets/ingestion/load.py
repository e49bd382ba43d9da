"""Load one source's files into raw and quarantine tables, reconciled, all or nothing.

A file whose content the tables already hold (same SHA-256, loaded under the same contract and
ingestion code, `ingestion_fingerprint`) is kept as it is, not read again; only the new files
are read. Each entity's new rows are built into `_new_` tables; only when every file of the
source has been read and reconciled are they added, in one transaction, so a failure leaves
the previous raw tables exactly as they were. When the contract or the ingestion code changed,
or a file the tables hold left the inbox, the entity's files are all read again and its tables
replaced (a key that repeated the departed file's may now load from another).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from assets.catalog import table_exists
from assets.errors import SijilError
from assets.ingestion.read import FileStats
from assets.ingestion.stage import MALFORMED, STAGE, drop_stage, stage_file
from assets.ingestion.validate import control_amount, failures_sql, ident, raw_record
from assets.operations.retention import leave_out_purged_quarantine
from assets.profiles import EntityContract, SourceContract

PROVENANCE = ["_source_file", "_line_number", "_file_sha256", "_load_id", "_loaded_at"]
QUARANTINE_EXTRA = ["_reason", "_detail", "_raw_record"]
FAILED = "_sijil_failed"
# DuckDB's memory while a source is ingested; beyond it DuckDB spills to disk, so a huge file or
# field keeps the process's memory bounded. At 768MB a 200 MB file of 100 KB fields peaked at
# 1.2 GB alone and 1.5 GB with the test suite beside it; at 512MB at 0.8 GB, and the 4.06 million
# rows of the 1,000,000-person inbox load as fast (23.5 s against 23.8 s, peak 665 MB against 755).
MEMORY_LIMIT = "512MB"
LEDGER_DDL = """
create table if not exists audit.ingestion_ledger (
    load_id varchar, run_id varchar, source varchar, entity varchar, file varchar, sha256 varchar,
    format varchar, encoding varchar, bytes bigint, status varchar, detail varchar,
    rows_received bigint, rows_loaded bigint, rows_quarantined bigint, rows_lost bigint,
    control_column varchar, control_total_received decimal(20, 3), control_total_loaded decimal(20, 3),
    control_total_quarantined decimal(20, 3), loaded_at timestamp
)"""
# Under which contract and ingestion code each raw table's rows were loaded.
CONTRACTS_DDL = "create table if not exists audit.ingestion_contracts (source varchar, entity varchar, fingerprint varchar)"
# The modules whose code decides what a file's rows become: a change to any of them reloads every file.
INGESTION_CODE = ("decode.py", "read.py", "stage.py", "validate.py", "load.py")


@dataclass
class FileReport:
    entity: str
    file: str
    sha256: str
    format: str
    encoding: str | None
    bytes: int
    status: str  # loaded | kept (loaded by an earlier refresh, rows still held) | duplicate_file | refused
    detail: str | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    control_column: str | None = None
    control_received: float | None = None
    control_loaded: float | None = None
    control_quarantined: float | None = None

    @property
    def rows_lost(self) -> int:
        return self.rows_received - self.rows_loaded - self.rows_quarantined


@dataclass
class SourceReport:
    source: str
    files: list[FileReport] = field(default_factory=list)
    quarantine_reasons: dict[str, dict[str, int]] = field(default_factory=dict)  # entity → reason → rows held
    unmatched: list[str] = field(default_factory=list)  # files that match no entity's pattern

    def entity_totals(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = totals.setdefault(f.entity, {"files": 0, "received": 0, "loaded": 0, "quarantined": 0})
            t["files"] += f.status in ("loaded", "kept")
            t["received"] += f.rows_received
            t["loaded"] += f.rows_loaded
            t["quarantined"] += f.rows_quarantined
        return totals


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def inbox_files(directory: Path, inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files in a source's inbox folder, and the ones refused (links leaving the inbox, '..')."""
    accepted, refused = [], []
    root = inbox.resolve()
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        if ".." in path.name:
            refused.append((path, "name contains '..'"))
            continue
        if path.is_symlink():
            target = path.resolve()
            if root not in target.parents:
                refused.append((path, "symbolic link pointing outside the inbox"))
                continue
        if path.is_file():
            accepted.append(path)
    return accepted, refused


@functools.cache
def _ingestion_code() -> bytes:
    """The ingestion modules' source, read once per process."""
    return b"".join((Path(__file__).parent / name).read_bytes() for name in INGESTION_CODE)


def ingestion_fingerprint(entity: EntityContract, date_formats: list[str]) -> str:
    """Hash of what decides an entity's rows: its contract, the profile's date formats and the
    ingestion code."""
    return hashlib.sha256(repr((entity, list(date_formats))).encode() + _ingestion_code()).hexdigest()[:16]


def held_files(con, entity: EntityContract, fingerprint: str) -> dict[str, tuple[int, int, str]] | None:
    """The files whose rows raw.<table> and quarantine.<table> hold, by SHA-256: (rows loaded,
    rows quarantined, file), and the files without any row the entity's latest load read or
    kept (the ledger knows them: no row carries their hash); None when the tables are missing
    or were loaded under another fingerprint (every file is then read again)."""
    if not all(table_exists(con, schema, entity.table) for schema in ("raw", "quarantine")):
        return None
    loaded_under = con.execute("select fingerprint from audit.ingestion_contracts where source = ? and entity = ?",
                               [entity.source, entity.name]).fetchall()
    if not loaded_under or loaded_under[0][0] != fingerprint:
        return None
    rows = con.execute(f"""
        select _file_sha256, sum(loaded)::bigint, sum(quarantined)::bigint, min(_source_file)
        from (select _file_sha256, _source_file, 1 as loaded, 0 as quarantined from raw."{entity.table}"
              union all
              select _file_sha256, _source_file, 0, 1 from quarantine."{entity.table}")
        group by 1""").fetchall()
    held = {sha: (int(loaded), int(quarantined), file) for sha, loaded, quarantined, file in rows}
    return held | {sha: (0, 0, file) for sha, file, _ in files_without_rows(con, entity.source, entity.name)
                   if sha not in held}


def files_without_rows(con, source: str, entity: str) -> list[tuple[str, str, str]]:
    """(SHA-256, file, status) of each file without any row that the entity's latest load read
    ('loaded') or kept from an earlier one ('kept'), from the ledger."""
    return con.execute("""
        select sha256, min(file), min(status) from audit.ingestion_ledger
        where source = ? and entity = ? and status in ('loaded', 'kept') and rows_received = 0
          and load_id = (select load_id from audit.ingestion_ledger where source = ? and entity = ?
                         and status in ('loaded', 'kept') order by loaded_at desc limit 1)
        group by 1 order by 2""", [source, entity, source, entity]).fetchall()


def _loaded_rows(con, entity: EntityContract, new_raw: str, adding: bool) -> str:
    """The rows a new file's keys must not repeat: the new rows of this run and, when the table
    is added to, the rows it holds."""
    if not adding:
        return new_raw
    con.execute(f"""create or replace temp view _sijil_loaded_rows as
                    select * from raw."{entity.table}" union all select * from {new_raw}""")
    return "_sijil_loaded_rows"


def _create_tables(con, entity: EntityContract) -> tuple[str, str]:
    cols = ", ".join(f'"{c}" varchar' for c in entity.column_names)
    prov = '"_source_file" varchar, "_line_number" bigint, "_file_sha256" varchar, "_load_id" varchar, "_loaded_at" timestamp'
    new_raw, new_q = f'raw."_new_{entity.table}"', f'quarantine."_new_{entity.table}"'
    con.execute(f"create or replace table {new_raw} ({cols}, {prov})")
    con.execute(f"create or replace table {new_q} ({cols}, {prov}, _reason varchar, _detail varchar, _raw_record varchar)")
    return new_raw, new_q


def _load_file(con, path: Path, rel: str, sha: str, entity: EntityContract, date_formats, load_id, loaded_at,
               report: SourceReport, tables: tuple[str, str], loaded_keys: str) -> FileReport:
    """Stage one file, check every row in SQL, and add it to the entity's new raw and quarantine
    tables. `loaded_keys`: the rows already loaded (kept files and earlier new files), against
    which a repeated key is a duplicate."""
    new_raw, new_q = tables
    stats = FileStats()
    try:
        encoding = stage_file(con, path, entity, stats)
        control = entity.control_total
        amount = f"sum({control_amount(ident(control))})" if control else "null"
        control_received = con.execute(f"select {amount} from {STAGE}").fetchall()[0][0] if control else None
        # The rows that break a rule (few, in any real file); every other staged row is loaded.
        con.execute(f"create or replace temp table {FAILED} as {failures_sql(entity, date_formats, STAGE, loaded_keys)}")
        columns = ", ".join(ident(c) for c in entity.column_names)
        provenance = "?, _line_number, ?, ?, cast(? as timestamp)"
        params = [rel, sha, load_id, loaded_at]
        con.execute(f"insert into {new_raw} select {columns}, {provenance} from {STAGE} "
                    f"where _line_number not in (select _line_number from {FAILED})", params)
        con.execute(f"insert into {new_q} select {columns}, {provenance}, _reason, _detail, {raw_record(entity)} "
                    f"from {STAGE} join {FAILED} using (_line_number) order by _line_number", params)
        nulls = ", ".join("null" for _ in entity.column_names)
        con.execute(f"insert into {new_q} select {nulls}, {provenance}, 'malformed_row', _detail, _raw_record "
                    f"from {MALFORMED} order by _line_number", params)
    finally:
        con.execute(f"drop table if exists {FAILED}")
        drop_stage(con)
    # Reconcile from what the tables now hold, against the records the reader counted.
    amount = f"sum({control_amount(ident(control))})" if control else "null"
    loaded, control_loaded = con.execute(f"select count(*), {amount} from {new_raw} where _source_file = ?", [rel]).fetchall()[0]
    quarantined, control_quarantined = con.execute(f"select count(*), {amount} from {new_q} where _source_file = ?", [rel]).fetchall()[0]
    fr = FileReport(entity=entity.name, file=rel, sha256=sha, format=entity.format, encoding=encoding,
                    bytes=path.stat().st_size, status="loaded", rows_received=stats.records, rows_loaded=loaded,
                    rows_quarantined=quarantined, control_column=control,
                    control_received=float(control_received or 0) if control else None,
                    control_loaded=float(control_loaded or 0) if control else None,
                    control_quarantined=float(control_quarantined or 0) if control else None)
    if fr.rows_lost != 0:
        raise SijilError(f"{rel}: {fr.rows_received} records read but {loaded} loaded and {quarantined} "
                         f"quarantined — {fr.rows_lost} rows unaccounted for; nothing from this source was published")
    if control and abs(fr.control_received - fr.control_loaded - fr.control_quarantined) > 0.005:
        raise SijilError(f"{rel}: control total of {control} does not reconcile (file {fr.control_received:.3f}, "
                         f"loaded {fr.control_loaded:.3f} + quarantined {fr.control_quarantined:.3f})")
    return fr


def ingest_source(con, contract: SourceContract, inbox: Path, date_formats: list[str], load_id: str,
                  run_id: str) -> SourceReport:
    """Read every new file of `contract` from inbox/<source>/ and apply the result atomically.
    An entity whose tables hold only files still in the inbox, loaded under the same
    fingerprint, keeps them and adds the new files' rows; any other is read again whole."""
    directory = inbox / contract.source
    if not directory.is_dir():
        raise SijilError(f"{directory}: no inbox folder for source {contract.source!r}")
    files, refused = inbox_files(directory, inbox)
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    report = SourceReport(source=contract.source)
    for path, why in refused:
        report.files.append(FileReport(entity="", file=path.name, sha256="", format="", encoding=None, bytes=0,
                                       status="refused", detail=why))
    matched: set[Path] = set()
    con.execute(LEDGER_DDL)
    con.execute(CONTRACTS_DDL)
    memory_limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    fingerprints = {entity.name: ingestion_fingerprint(entity, date_formats) for entity in contract.entities}
    adding_to: dict[str, bool] = {}  # entity → its tables are added to (else replaced)
    try:
        for entity in contract.entities:
            tables = _create_tables(con, entity)
            entity_files = [p for p in files if fnmatch.fnmatch(p.name, entity.file_pattern)]
            if not entity_files:
                raise SijilError(f"{directory}: no file matches {entity.file_pattern!r} for {entity.table}")
            shas = {path: sha256_of(path) for path in entity_files}
            held = held_files(con, entity, fingerprints[entity.name])
            if held is not None and not set(held) <= set(shas.values()):
                held = None  # a file left the inbox: its rows go, and its keys may now load from another file
            seen_sha: set[str] = set()
            for path in entity_files:
                matched.add(path)
                rel = f"{contract.source}/{path.name}"
                sha = shas[path]
                if sha in seen_sha:
                    report.files.append(FileReport(entity=entity.name, file=rel, sha256=sha, format=entity.format,
                                                   encoding=None, bytes=path.stat().st_size, status="duplicate_file",
                                                   detail="same content as a file already loaded in this run"))
                    continue
                seen_sha.add(sha)
                if held is not None and sha in held:
                    rows_loaded, rows_quarantined, first_name = held[sha]
                    report.files.append(FileReport(
                        entity=entity.name, file=rel, sha256=sha, format=entity.format, encoding=None,
                        bytes=path.stat().st_size, status="kept", rows_received=rows_loaded + rows_quarantined,
                        rows_loaded=rows_loaded, rows_quarantined=rows_quarantined,
                        detail=f"loaded before as {first_name}; its rows are kept, the file is not read again"))
                    continue
                loaded_keys = _loaded_rows(con, entity, tables[0], adding=held is not None)
                report.files.append(_load_file(con, path, rel, sha, entity, date_formats, load_id, loaded_at,
                                               report, tables, loaded_keys))
            adding_to[entity.name] = held is not None
        leave_out_purged_quarantine(con, [f'quarantine."_new_{e.table}"' for e in contract.entities])
        con.execute("begin transaction")
        for entity in contract.entities:
            for schema in ("raw", "quarantine"):
                table, new = f'{schema}."{entity.table}"', f'{schema}."_new_{entity.table}"'
                if adding_to[entity.name]:
                    con.execute(f"insert into {table} select * from {new}")
                    con.execute(f"drop table {new}")
                else:
                    con.execute(f"drop table if exists {table}")
                    con.execute(f'alter table {new} rename to "{entity.table}"')
            con.execute("delete from audit.ingestion_contracts where source = ? and entity = ?",
                        [contract.source, entity.name])
            con.execute("insert into audit.ingestion_contracts values (?, ?, ?)",
                        [contract.source, entity.name, fingerprints[entity.name]])
        for f in report.files:
            con.execute("insert into audit.ingestion_ledger values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                load_id, run_id, contract.source, f.entity, f.file, f.sha256, f.format, f.encoding, f.bytes, f.status,
                f.detail, f.rows_received, f.rows_loaded, f.rows_quarantined, f.rows_lost, f.control_column,
                f.control_received, f.control_loaded, f.control_quarantined, loaded_at])
        con.execute("commit")
        for entity in contract.entities:
            report.quarantine_reasons[entity.name] = {code: int(n) for code, n in con.execute(
                f'select _reason, count(*) from quarantine."{entity.table}" group by 1 order by 1').fetchall()}
    except BaseException:
        try:
            con.execute("rollback")
        except Exception:  # no transaction was open
            pass
        for entity in contract.entities:
            for schema in ("raw", "quarantine"):
                con.execute(f'drop table if exists {schema}."_new_{entity.table}"')
        raise
    finally:
        con.execute("drop view if exists _sijil_loaded_rows")
        con.execute(f"set memory_limit = '{memory_limit}'")
    report.unmatched = sorted(p.name for p in files if p not in matched)
    return report
