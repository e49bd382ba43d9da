"""Read an agency file: its header, and its records with their physical line numbers.

CSV is parsed explicitly (never sniffed), in one streaming pass over the decoded text. Records
that fit on one line and any RFC 4180 reader splits alike go to a line-numbered UTF-8 copy that
DuckDB reads in bulk (`assets/ingestion/stage.py`); every other record (spanning lines, odd
quoting, oversized, an unterminated quote) is parsed here, so a ragged row, an unterminated
quote or an oversized field is reported with its line number and the parse carries on with the
next line. Excel cells are rendered as faithful text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from assets.errors import SijilError

CHUNK_ROWS = 50_000
CHUNK_CHARS = 8_000_000         # a chunk also ends at this much text, so huge fields keep memory bounded
MAX_RECORD_LINES = 200          # a quoted field may span lines, but not forever
MAX_FIELD_CHARS = 2_000_000     # larger than any real field; bounds memory per record
csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass
class Chunk:
    """Parsed rows (lists of text, one per header) and rejected records of one stretch of a file."""

    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, detail, raw text
    chars: int = 0  # text held, to bound a chunk's memory as well as its rows

    def full(self) -> bool:
        return len(self.rows) + len(self.rejected) >= CHUNK_ROWS or self.chars >= CHUNK_CHARS


@dataclass
class FileStats:
    records: int = 0        # data records seen (parsed + rejected), counted by the reader
    physical_lines: int = 0
    blank_lines: int = 0


def _logical_records(text: io.TextIOBase, stats: FileStats, quote: str = '"') -> Iterator[tuple[int, str | None, str]]:
    """Yield (first line number, record text or None when malformed, raw text) for each record.

    A record ends at a newline outside quotes. A quote left open for more than
    MAX_RECORD_LINES lines or until the end of the file makes the first line a malformed
    record, and reading resumes at the following line.
    """
    pending: list[str] = []
    pending_start = 0
    buffered: list[tuple[int, str]] = []

    def lines() -> Iterator[tuple[int, str]]:
        for number, line in enumerate(text, start=2):  # line 1 is the header
            stats.physical_lines += 1
            yield number, line

    source = lines()
    while True:
        if buffered:
            number, line = buffered.pop(0)
        else:
            try:
                number, line = next(source)
            except StopIteration:
                break
        if not pending:
            if line.count(quote) % 2 == 0:  # the common case: a whole record on one line
                record = line.rstrip("\r\n")
                if record:
                    yield number, record, line
                else:
                    stats.blank_lines += 1
                continue
            pending_start = number
        pending.append(line)
        joined = "".join(pending)
        if joined.count(quote) % 2 == 0:
            yield pending_start, joined.rstrip("\r\n"), joined
            pending = []
        elif len(pending) > MAX_RECORD_LINES or len(joined) > MAX_FIELD_CHARS:
            first, rest = pending[0], pending[1:]
            yield pending_start, None, first
            buffered = [(pending_start + 1 + i, l) for i, l in enumerate(rest)] + buffered
            pending = []
    if pending:
        first, rest = pending[0], pending[1:]
        yield pending_start, None, first
        for offset, line in enumerate(rest, start=1):
            if not line.strip("\r\n"):
                stats.blank_lines += 1
                continue
            # Re-read the lines the open quote had swallowed, as records of their own.
            sub = io.StringIO(line)
            inner = FileStats()
            for _, rec, raw in _logical_records(sub, inner, quote):
                yield pending_start + offset, rec, raw


def simple_record_pattern(delimiter: str, quote: str = '"') -> re.Pattern:
    """One physical line that every RFC 4180 reader splits alike: unquoted fields without quotes,
    quoted fields with doubled quotes inside, no line break or NUL anywhere."""
    d, q = re.escape(delimiter), re.escape(quote)
    field_ = f"(?:[^{q}{d}\\r\\n\\x00]*|{q}(?:[^{q}\\r\\n\\x00]|{q}{q})*{q})"
    return re.compile(f"{field_}(?:{d}{field_})*")


def parse_record(record: str, delimiter: str, width: int) -> tuple[list[str | None] | None, str | None]:
    """(fields, None) for a record of `width` fields, or (None, what is wrong with it)."""
    try:
        fields = next(csv.reader([record], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return None, f"unparseable record ({exc})"
    if len(fields) != width:
        return None, f"{len(fields)} fields where the header has {width}"
    return [f if f != "" else None for f in fields], None


def split_csv(path: Path, encoding: str, delimiter: str, stats: FileStats,
              simple_out: io.TextIOBase) -> tuple[list[str], Iterator[Chunk]]:
    """Header, and the records of a delimited text file, split in one streaming pass.

    Records on one line that every RFC 4180 reader splits alike are written to `simple_out`,
    each prefixed with its line number as a first field, for a bulk reader to parse. All other
    records are parsed here and yielded in chunks: rows of the header's width, and rejected
    records with their line number and problem.
    """
    fh = open(path, encoding=encoding, newline="", errors="strict")
    header_line = fh.readline()
    if not header_line.strip():
        fh.close()
        raise SijilError(f"{path.name}: the file is empty (no header line)")
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([header_line.rstrip("\r\n")], delimiter=delimiter))]
    width = len(header)
    simple = simple_record_pattern(delimiter).fullmatch
    write = simple_out.write

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk()
        with fh:
            for line_no, record, raw in _logical_records(fh, stats):
                stats.records += 1
                if record is not None and len(raw) <= MAX_FIELD_CHARS and \
                        (simple(record) if '"' in record or "\x00" in record else True):
                    write(f"{line_no}{delimiter}{record}\n")
                    continue
                chunk.chars += len(raw)
                if record is None:
                    chunk.rejected.append((line_no, "unterminated quoted field", raw))
                else:
                    fields, problem = parse_record(record, delimiter, width)
                    if fields is None:
                        chunk.rejected.append((line_no, problem, raw))
                    else:
                        chunk.rows.append(fields)
                        chunk.lines.append(line_no)
                if chunk.full():
                    yield chunk
                    chunk = Chunk()
        if chunk.rows or chunk.rejected:
            yield chunk

    return header, chunks()


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text != "" else None


def read_excel(path: Path, sheet: str | None, stats: FileStats) -> tuple[list[str], Iterator[Chunk]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SijilError(f"{path.name}: not a readable Excel workbook ({type(exc).__name__})") from exc
    if sheet and sheet not in book.sheetnames:
        book.close()
        raise SijilError(f"{path.name}: has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = [(_cell_text(h) or "").strip() for h in next(rows)]
    except StopIteration:
        book.close()
        raise SijilError(f"{path.name}: the sheet is empty (no header row)") from None
    while header and header[-1] == "":
        header.pop()
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk()
        for number, row in enumerate(rows, start=2):
            stats.physical_lines += 1
            cells = [_cell_text(v) for v in row]
            if all(c is None for c in cells):
                stats.blank_lines += 1
                continue
            stats.records += 1
            chunk.chars += sum(len(c) for c in cells if c is not None)
            extra = [c for c in cells[width:] if c is not None]
            if extra:
                chunk.rejected.append((number, f"{width + len(extra)} cells where the header has {width}",
                                       "\t".join(c or "" for c in cells)))
            else:
                chunk.rows.append((cells + [None] * width)[:width])
                chunk.lines.append(number)
            if chunk.full():
                yield chunk
                chunk = Chunk()
        book.close()
        if chunk.rows or chunk.rejected:
            yield chunk

    return header, chunks()
