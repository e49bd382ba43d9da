"""Load one source's files into raw and quarantine tables, reconciled, all or nothing.

Each entity is built into `_new_` tables; only when every file of the source has been read
and reconciled are they swapped in, in one transaction, so a failure leaves the previous
raw tables exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.errors import SijilError
from assets.ingestion.decode import detect_encoding
from assets.ingestion.read import FileStats, read_csv, read_excel, read_parquet
from assets.ingestion.validate import control_amounts, validate_chunk
from assets.operations.retention import leave_out_purged_quarantine
from assets.profiles import EntityContract, SourceContract

PROVENANCE = ["_source_file", "_line_number", "_file_sha256", "_load_id", "_loaded_at"]
QUARANTINE_EXTRA = ["_reason", "_detail", "_raw_record"]
LEDGER_DDL = """
create table if not exists audit.ingestion_ledger (
    load_id varchar, run_id varchar, source varchar, entity varchar, file varchar, sha256 varchar,
    format varchar, encoding varchar, bytes bigint, status varchar, detail varchar,
    rows_received bigint, rows_loaded bigint, rows_quarantined bigint, rows_lost bigint,
    control_column varchar, control_total_received decimal(20, 3), control_total_loaded decimal(20, 3),
    control_total_quarantined decimal(20, 3), loaded_at timestamp
)"""


@dataclass
class FileReport:
    entity: str
    file: str
    sha256: str
    format: str
    encoding: str | None
    bytes: int
    status: str  # loaded | duplicate_file | refused
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
    quarantine_reasons: dict[str, dict[str, int]] = field(default_factory=dict)  # entity → reason → rows
    unmatched: list[str] = field(default_factory=list)  # files that match no entity's pattern

    def entity_totals(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = totals.setdefault(f.entity, {"files": 0, "received": 0, "loaded": 0, "quarantined": 0})
            t["files"] += f.status == "loaded"
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


def _reader(path: Path, entity: EntityContract, stats: FileStats):
    if entity.format == "csv":
        encoding = detect_encoding(path) if entity.encoding == "detect" else entity.encoding
        header, chunks = read_csv(path, encoding, entity.delimiter, stats)
        return encoding, header, chunks
    if entity.format == "excel":
        return None, *read_excel(path, entity.sheet, stats)
    return None, *read_parquet(path, stats)


def _check_header(path: Path, header: list[str], entity: EntityContract) -> list[str]:
    """Canonical column names in file order; schema drift is an error naming the file."""
    expected = {c.source: c.name for c in entity.columns}
    duplicated = sorted({h for h in header if header.count(h) > 1})
    missing = [h for h in expected if h not in header]
    unexpected = [h for h in header if h not in expected]
    if duplicated or missing or unexpected:
        parts = []
        if missing:
            parts.append("missing columns " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected columns " + ", ".join(unexpected))
        if duplicated:
            parts.append("repeated columns " + ", ".join(duplicated))
        raise SijilError(f"{path.name}: header does not match the {entity.table} contract ({'; '.join(parts)}). "
                         "If the agency changed its export, update the source contract deliberately.")
    return [expected[h] for h in header]


def _create_tables(con, entity: EntityContract) -> tuple[str, str]:
    cols = ", ".join(f'"{c}" varchar' for c in entity.column_names)
    prov = '"_source_file" varchar, "_line_number" bigint, "_file_sha256" varchar, "_load_id" varchar, "_loaded_at" timestamp'
    new_raw, new_q = f'raw."_new_{entity.table}"', f'quarantine."_new_{entity.table}"'
    con.execute(f"create or replace table {new_raw} ({cols}, {prov})")
    con.execute(f"create or replace table {new_q} ({cols}, {prov}, _reason varchar, _detail varchar, _raw_record varchar)")
    return new_raw, new_q


def _load_file(con, path: Path, rel: str, sha: str, entity: EntityContract, date_formats, load_id, loaded_at,
               seen_keys: set, report: SourceReport, tables: tuple[str, str]) -> FileReport:
    new_raw, new_q = tables
    stats = FileStats()
    encoding, header, chunks = _reader(path, entity, stats)
    canonical = _check_header(path, header, entity)
    order = entity.column_names
    control = entity.control_total
    control_received = 0.0
    for chunk in chunks:
        frame = pd.DataFrame(chunk.rows, columns=canonical, dtype=object)[order] if chunk.rows else \
            pd.DataFrame({c: pd.Series(dtype=object) for c in order})
        frame = frame.astype("string")
        prov = {"_source_file": rel, "_line_number": chunk.lines, "_file_sha256": sha, "_load_id": load_id, "_loaded_at": loaded_at}
        reason, detail = validate_chunk(frame, entity, date_formats, seen_keys)
        if control:
            control_received += float(control_amounts(frame, control).sum())
        good = frame[reason.isna()].assign(**{k: (pd.Series(v, index=frame.index)[reason.isna()] if isinstance(v, list) else v)
                                              for k, v in prov.items()})
        bad = frame[reason.notna()].copy()
        if len(bad):
            raw_text = bad.fillna("").astype(str).agg(",".join, axis=1)
            bad = bad.assign(**{k: (pd.Series(v, index=frame.index)[reason.notna()] if isinstance(v, list) else v)
                                for k, v in prov.items()},
                             _reason=reason[reason.notna()], _detail=detail[reason.notna()], _raw_record=raw_text)
        if chunk.rejected:
            rejected = pd.DataFrame({c: pd.Series([None] * len(chunk.rejected), dtype="string") for c in order})
            rejected = rejected.assign(_source_file=rel, _line_number=[r[0] for r in chunk.rejected], _file_sha256=sha,
                                       _load_id=load_id, _loaded_at=loaded_at, _reason="malformed_row",
                                       _detail=[r[1] for r in chunk.rejected], _raw_record=[r[2] for r in chunk.rejected])
            bad = pd.concat([bad, rejected], ignore_index=True) if len(bad) else rejected
        if len(good):
            con.register("_chunk_good", good)
            con.execute(f"insert into {new_raw} select * from _chunk_good")
            con.unregister("_chunk_good")
        if len(bad):
            con.register("_chunk_bad", bad)
            con.execute(f"insert into {new_q} select * from _chunk_bad")
            con.unregister("_chunk_bad")
            reasons = report.quarantine_reasons.setdefault(entity.name, {})
            for code, n in bad["_reason"].value_counts().items():
                reasons[code] = reasons.get(code, 0) + int(n)

    # Reconcile from what the tables now hold, independently of the counters above.
    amount = f'coalesce(sum(try_cast(regexp_replace("{control}", \'\\s\', \'\', \'g\') as decimal(20, 3))), 0)' if control else "null"
    loaded, control_loaded = con.execute(f"select count(*), {amount} from {new_raw} where _source_file = ?", [rel]).fetchall()[0]
    quarantined, control_quarantined = con.execute(f"select count(*), {amount} from {new_q} where _source_file = ?", [rel]).fetchall()[0]
    fr = FileReport(entity=entity.name, file=rel, sha256=sha, format=entity.format, encoding=encoding,
                    bytes=path.stat().st_size, status="loaded", rows_received=stats.records, rows_loaded=loaded,
                    rows_quarantined=quarantined, control_column=control,
                    control_received=round(control_received, 3) if control else None,
                    control_loaded=float(control_loaded) if control else None,
                    control_quarantined=float(control_quarantined) if control else None)
    if fr.rows_lost != 0:
        raise SijilError(f"{rel}: {fr.rows_received} records read but {loaded} loaded and {quarantined} "
                         f"quarantined — {fr.rows_lost} rows unaccounted for; nothing from this source was published")
    if control and abs(fr.control_received - fr.control_loaded - fr.control_quarantined) > 0.005:
        raise SijilError(f"{rel}: control total of {control} does not reconcile (file {fr.control_received:.3f}, "
                         f"loaded {fr.control_loaded:.3f} + quarantined {fr.control_quarantined:.3f})")
    return fr


def ingest_source(con, contract: SourceContract, inbox: Path, date_formats: list[str], load_id: str,
                  run_id: str) -> SourceReport:
    """Read every file of `contract` from inbox/<source>/ and swap the results in atomically."""
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
    try:
        for entity in contract.entities:
            tables = _create_tables(con, entity)
            entity_files = [p for p in files if fnmatch.fnmatch(p.name, entity.file_pattern)]
            if not entity_files:
                raise SijilError(f"{directory}: no file matches {entity.file_pattern!r} for {entity.table}")
            seen_sha: set[str] = set()
            seen_keys: set = set()
            for path in entity_files:
                matched.add(path)
                rel = f"{contract.source}/{path.name}"
                sha = sha256_of(path)
                if sha in seen_sha:
                    report.files.append(FileReport(entity=entity.name, file=rel, sha256=sha, format=entity.format,
                                                   encoding=None, bytes=path.stat().st_size, status="duplicate_file",
                                                   detail="same content as a file already loaded in this run"))
                    continue
                seen_sha.add(sha)
                report.files.append(_load_file(con, path, rel, sha, entity, date_formats, load_id, loaded_at,
                                               seen_keys, report, tables))
        leave_out_purged_quarantine(con, [f'quarantine."_new_{e.table}"' for e in contract.entities])
        con.execute("begin transaction")
        for entity in contract.entities:
            for schema in ("raw", "quarantine"):
                con.execute(f'drop table if exists {schema}."{entity.table}"')
                con.execute(f'alter table {schema}."_new_{entity.table}" rename to "{entity.table}"')
        for f in report.files:
            con.execute("insert into audit.ingestion_ledger values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                load_id, run_id, contract.source, f.entity, f.file, f.sha256, f.format, f.encoding, f.bytes, f.status,
                f.detail, f.rows_received, f.rows_loaded, f.rows_quarantined, f.rows_lost, f.control_column,
                f.control_received, f.control_loaded, f.control_quarantined, loaded_at])
        con.execute("commit")
    except BaseException:
        try:
            con.execute("rollback")
        except Exception:  # no transaction was open
            pass
        for entity in contract.entities:
            for schema in ("raw", "quarantine"):
                con.execute(f'drop table if exists {schema}."_new_{entity.table}"')
        raise
    report.unmatched = sorted(p.name for p in files if p not in matched)
    return report
