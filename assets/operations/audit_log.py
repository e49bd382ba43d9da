"""The audit log: one entry per run (refresh, Dagster run, rollback), appended, never changed.

It lives in its own DuckDB file (``audit.run_log``), apart from the warehouse files, so a
discarded build or a rollback never takes history with it. Each entry carries the hash of the
one before it and its own hash over every field, and the newest hash is also written to a
head file beside the log: editing, deleting or re-ordering an entry breaks the chain, and
:func:`verify_chain` says where. Entries hold file names, hashes, counts and messages that name
a file and a problem — never a value from a record.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb

from assets.errors import SijilError
from assets.settings import REPO_ROOT

GENESIS = "0" * 64
FIELDS = ("seq", "run_id", "kind", "outcome", "started_at", "finished_at", "operator", "code_version",
          "input_files", "row_counts", "detail", "prev_hash")
DDL = """
create schema if not exists audit;
create table if not exists audit.run_log (
    seq bigint primary key, run_id varchar not null, kind varchar not null, outcome varchar not null,
    started_at timestamp, finished_at timestamp, operator varchar, code_version varchar,
    input_files varchar, row_counts varchar, detail varchar, prev_hash varchar not null, entry_hash varchar not null
)"""
LOCK_ATTEMPTS = 8


@dataclass
class RunRecord:
    """What one run did, before it is chained into the log."""

    run_id: str
    kind: str  # refresh | dagster_run | rollback
    outcome: str  # succeeded | failed | not_published | ...
    started_at: dt.datetime
    finished_at: dt.datetime | None  # None on the entry a refresh appends when it starts
    operator: str
    code_version: str
    input_files: dict[str, str] = field(default_factory=dict)  # file → sha256
    row_counts: dict[str, int] = field(default_factory=dict)
    detail: str = ""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def current_operator() -> str:
    """SIJIL_OPERATOR if set (a service account names the person on duty), else the OS user."""
    if os.environ.get("SIJIL_OPERATOR"):
        return os.environ["SIJIL_OPERATOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


# Tracked files that are not code: the benchmark's results (`make bench` writes them scale after
# scale, and the next scale's run would otherwise be marked dirty by the one before).
NOT_CODE = ("bench/results",)


def code_version(full: bool = False) -> str:
    """The git commit of the code that ran (12 hex digits, or all 40 with `full`; with -dirty
    for uncommitted changes to tracked files other than NOT_CODE), else the package version."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", *([] if full else ["--short=12"]), "HEAD"],
                                capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no",
                                    "--", ".", *(f":!{path}" for path in NOT_CODE)],
                                   capture_output=True, text=True, timeout=10)
            return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return "sijil-" + metadata.version("sijil")
    except metadata.PackageNotFoundError:
        return "unknown"


def entry_hash(entry: dict) -> str:
    """SHA-256 over every field of an entry (including the previous entry's hash), canonically."""
    canonical = {k: (entry[k].isoformat() if isinstance(entry[k], dt.datetime) else entry[k]) for k in FIELDS}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _head_file(path: Path) -> Path:
    return path.with_suffix(".head")


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the log, waiting (with backoff) while another process holds its write lock."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == LOCK_ATTEMPTS - 1:
                raise SijilError(f"{path}: the audit log could not be opened ({exc})") from exc
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def append_entry(path: Path, record: RunRecord) -> dict:
    """Chain `record` onto the log at `path` and return the stored entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False)
    try:
        con.execute(DDL)
        con.execute("begin transaction")
        last = con.execute("select seq, entry_hash from audit.run_log order by seq desc limit 1").fetchall()
        seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
        entry = {"seq": seq, "run_id": record.run_id, "kind": record.kind, "outcome": record.outcome,
                 "started_at": record.started_at, "finished_at": record.finished_at, "operator": record.operator,
                 "code_version": record.code_version,
                 "input_files": json.dumps(record.input_files, sort_keys=True, ensure_ascii=False),
                 "row_counts": json.dumps(record.row_counts, sort_keys=True), "detail": record.detail,
                 "prev_hash": prev}
        entry["entry_hash"] = entry_hash(entry)
        con.execute(f"insert into audit.run_log values ({', '.join('?' * (len(FIELDS) + 1))})",
                    [entry[k] for k in FIELDS] + [entry["entry_hash"]])
        con.execute("commit")
    finally:
        con.close()
    head = _head_file(path)
    tmp = head.with_suffix(".head.tmp")
    tmp.write_text(f"{entry['seq']} {entry['entry_hash']}\n", encoding="ascii")
    os.replace(tmp, head)
    return entry


def unfinished_runs(entries: list[dict]) -> list[str]:
    """Runs that appended "started" and never an outcome: killed, or still running."""
    finished = {e["run_id"] for e in entries if e["outcome"] != "started"}
    return [e["run_id"] for e in entries if e["outcome"] == "started" and e["run_id"] not in finished]


def read_entries(path: Path) -> list[dict]:
    if not path.exists():
        return []
    con = _connect(path, read_only=True)
    try:
        cursor = con.execute("select * from audit.run_log order by seq")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def verify_chain(path: Path) -> list[str]:
    """Every break in the log: an entry whose hash, predecessor or number is wrong, or a log
    whose newest entry is not the one the head file recorded. Empty when the log is intact."""
    problems = []
    entries = read_entries(path)
    prev = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if entry["seq"] != expected_seq:
            problems.append(f"entry {entry['seq']}: expected number {expected_seq} (an entry was removed)")
        if entry["prev_hash"] != prev:
            problems.append(f"entry {entry['seq']}: does not follow the entry before it")
        if entry_hash(entry) != entry["entry_hash"]:
            problems.append(f"entry {entry['seq']}: its content was changed after it was written")
        prev = entry["entry_hash"]
    head = _head_file(path)
    if head.exists():
        seq, digest = head.read_text(encoding="ascii").split()
        if not entries or (entries[-1]["seq"], entries[-1]["entry_hash"]) != (int(seq), digest):
            problems.append(f"the newest entry is not entry {seq} recorded in {head.name} (entries were removed)")
    elif entries:
        problems.append(f"{head.name} is missing")
    return problems
