"""Stage one agency file in the warehouse as text, with each row's physical line number.

Two temporary tables per file: STAGE (`_line_number` and the contract's columns, all text)
and MALFORMED (records that are no row: line number, problem, raw text). DuckDB's own readers
do the bulk of the work: `read_csv` over the line-numbered UTF-8 copy that `read.split_csv`
writes in one streaming pass (so every encoding Sijil detects is read the same way), and
`read_parquet` with each cell rendered as text in SQL. Rows DuckDB rejects are parsed again
record by record in Python, so each gets the same verdict and problem as any other record.
This and `validate.py` are the modules whose SQL is DuckDB's own dialect.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from assets.errors import SijilError
from assets.ingestion.decode import detect_encoding
from assets.ingestion.read import MAX_FIELD_CHARS, Chunk, FileStats, parse_record, read_excel, split_csv
from assets.ingestion.validate import ident, lit
from assets.profiles import EntityContract

STAGE, MALFORMED = "_sijil_stage", "_sijil_malformed"
_ERRORS, _SCANS, _CHUNK = "_sijil_csv_errors", "_sijil_csv_scans", "_sijil_chunk"
MAX_LINE_BYTES = 4 * MAX_FIELD_CHARS + 64  # a record of MAX_FIELD_CHARS characters, 4 bytes each at most


def check_header(path: Path, header: list[str], entity: EntityContract) -> list[str]:
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


def create_stage(con, entity: EntityContract) -> None:
    columns = ", ".join(f"{ident(c)} varchar" for c in entity.column_names)
    con.execute(f"create or replace temp table {STAGE} (_line_number bigint, {columns})")
    con.execute(f"create or replace temp table {MALFORMED} (_line_number bigint, _detail varchar, _raw_record varchar)")


def drop_stage(con) -> None:
    for table in (STAGE, MALFORMED, _ERRORS, _SCANS):
        con.execute(f"drop table if exists {table}")


def _append(con, chunk: Chunk, canonical: list[str]) -> None:
    """Add a chunk's parsed rows to STAGE and its rejected records to MALFORMED."""
    if chunk.rows:
        columns = list(zip(*chunk.rows))
        table = pa.table({"_line_number": pa.array(chunk.lines, pa.int64()),
                          **{name: pa.array(columns[i], pa.string()) for i, name in enumerate(canonical)}})
        con.register(_CHUNK, table)
        con.execute(f"insert into {STAGE} by name select * from {_CHUNK}")
        con.unregister(_CHUNK)
    if chunk.rejected:
        table = pa.table({"_line_number": pa.array([r[0] for r in chunk.rejected], pa.int64()),
                          "_detail": pa.array([r[1] for r in chunk.rejected], pa.string()),
                          "_raw_record": pa.array([r[2] for r in chunk.rejected], pa.string())})
        con.register(_CHUNK, table)
        con.execute(f"insert into {MALFORMED} select * from {_CHUNK}")
        con.unregister(_CHUNK)


def _read_csv_sql(path: Path, canonical: list[str], delimiter: str) -> str:
    """DuckDB's CSV reader with nothing left to guess: no sniffing, every column text, strict."""
    columns = ", ".join(f"{lit(name)}: 'VARCHAR'" for name in ["_line_number", *canonical]).replace(
        "'_line_number': 'VARCHAR'", "'_line_number': 'BIGINT'")
    return (f"read_csv({lit(str(path))}, columns={{{columns}}}, header=false, auto_detect=false, "
            f"delim={lit(delimiter)}, quote='\"', escape='\"', new_line='\\n', encoding='utf-8', strict_mode=true, "
            f"null_padding=false, store_rejects=true, rejects_table={lit(_ERRORS)}, rejects_scan={lit(_SCANS)}, "
            f"max_line_size={MAX_LINE_BYTES}, buffer_size={4 * MAX_LINE_BYTES})")


def _reparse_rejects(con, simple: Path, delimiter: str, width: int) -> Iterator[Chunk]:
    """The records DuckDB's reader rejected (few, in any real file), parsed again one by one.

    DuckDB's rejects table names each record by its text, cut short for a long one; its line
    number prefix is whole, so the full record is read back from the line-numbered copy (one
    record per line there)."""
    wanted = set()
    for (text,) in con.execute(f"select distinct split_part(csv_line, {lit(delimiter)}, 1) from {_ERRORS}").fetchall():
        if not text.isdigit():
            raise SijilError(f"DuckDB's CSV reader lost a record's line number ({text[:20]!r}); nothing was loaded")
        wanted.add(text)
    if not wanted:
        return
    chunk, found = Chunk(), 0
    with open(simple, encoding="utf-8", newline="") as fh:
        for line in fh:
            prefix, _, record = line.rstrip("\n").partition(delimiter)
            if prefix not in wanted:
                continue
            found += 1
            chunk.chars += len(record)
            fields, problem = parse_record(record, delimiter, width)
            if fields is None:
                chunk.rejected.append((int(prefix), problem, record))
            else:
                chunk.rows.append(fields)
                chunk.lines.append(int(prefix))
            if chunk.full():
                yield chunk
                chunk = Chunk()
    yield chunk
    if found != len(wanted):
        raise SijilError(f"{len(wanted)} records rejected by DuckDB's CSV reader but {found} found again; "
                         "nothing was loaded")


def _scratch_dir(con) -> str | None:
    """Where DuckDB spills (next to a warehouse file): the line-numbered copy goes there too, on
    the warehouse's disk rather than the system's temporary directory."""
    setting = con.execute("select current_setting('temp_directory')").fetchall()[0][0]
    if not setting or not Path(setting).is_absolute():
        return None
    Path(setting).mkdir(parents=True, exist_ok=True)
    return setting


def stage_csv(con, path: Path, entity: EntityContract, stats: FileStats) -> str:
    """Stage a delimited text file; the encoding it was read in."""
    encoding = detect_encoding(path) if entity.encoding == "detect" else entity.encoding
    with tempfile.TemporaryDirectory(prefix="sijil-ingest-", dir=_scratch_dir(con)) as work:
        simple = Path(work) / "records.csv"
        with open(simple, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
            header, chunks = split_csv(path, encoding, entity.delimiter, stats, out)
            canonical = check_header(path, header, entity)
            for chunk in chunks:
                _append(con, chunk, canonical)
        if simple.stat().st_size:
            con.execute(f"drop table if exists {_ERRORS}")
            con.execute(f"drop table if exists {_SCANS}")
            con.execute(f"insert into {STAGE} by name select * from {_read_csv_sql(simple, canonical, entity.delimiter)}")
            for chunk in _reparse_rejects(con, simple, entity.delimiter, len(canonical)):
                _append(con, chunk, canonical)
    return encoding


def cell_text_sql(column: str, duckdb_type: str) -> str:
    """A Parquet cell as the text `read._cell_text` makes of the same value in Python."""
    c = ident(column)
    t = duckdb_type.upper()
    if t in ("VARCHAR", "STRING", "TEXT"):
        return f"nullif({c}, '')"
    if t == "BOOLEAN":
        return f"case when {c} then '1' when not {c} then '0' end"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return (f"case when isnan({c}) then null "
                f"when not isinf({c}) and {c} = trunc({c}) and abs({c}) < 1e38 then cast(cast({c} as hugeint) as varchar) "
                f"else cast({c} as varchar) end")
    if t.startswith("TIMESTAMP"):
        local, suffix = (f"({c} at time zone 'UTC')", " || '+00:00'") if "TIME ZONE" in t else (c, "")
        return (f"case when {local} is null then null when cast({local} as time) = time '00:00:00' "
                f"then cast(cast({local} as date) as varchar) "
                f"when microsecond({local}) % 1000000 = 0 then strftime({local}, '%Y-%m-%d %H:%M:%S'){suffix} "
                f"else strftime({local}, '%Y-%m-%d %H:%M:%S.%f'){suffix} end")
    return f"nullif(cast({c} as varchar), '')"


def stage_parquet(con, path: Path, entity: EntityContract, stats: FileStats) -> None:
    source = f"read_parquet({lit(str(path))}, file_row_number=true)"
    try:
        described = con.execute(f"describe select * from {source}").fetchall()
        rows = con.execute(f"select sum(num_rows) from parquet_file_metadata({lit(str(path))})").fetchall()[0][0] or 0
    except duckdb.Error as exc:
        raise SijilError(f"{path.name}: not a readable Parquet file ({type(exc).__name__})") from exc
    types = {name: kind for name, kind, *_ in described if name != "file_row_number"}
    canonical = check_header(path, list(types), entity)
    cells = ", ".join(f"{cell_text_sql(name, types[name])} as {ident(canon)}" for name, canon in zip(types, canonical))
    con.execute(f"insert into {STAGE} by name select file_row_number + 2 as _line_number, {cells} from {source}")
    stats.records = stats.physical_lines = int(rows)


def stage_excel(con, path: Path, entity: EntityContract, stats: FileStats) -> None:
    header, chunks = read_excel(path, entity.sheet, stats)
    canonical = check_header(path, header, entity)
    for chunk in chunks:
        _append(con, chunk, canonical)


def stage_file(con, path: Path, entity: EntityContract, stats: FileStats) -> str | None:
    """Fill STAGE and MALFORMED from one file; the text encoding it was read in (CSV only)."""
    create_stage(con, entity)
    if entity.format == "csv":
        return stage_csv(con, path, entity, stats)
    if entity.format == "excel":
        stage_excel(con, path, entity, stats)
    else:
        stage_parquet(con, path, entity, stats)
    return None
