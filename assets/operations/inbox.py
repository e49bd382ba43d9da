"""What is new in the inbox: files identified by content (SHA-256), so a file delivered again —
under the same name or another — is not loaded twice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assets.ingestion.load import inbox_files, sha256_of


@dataclass(frozen=True)
class InboxFile:
    source: str
    file: str  # source/name, as the ingestion ledger names it
    sha256: str
    size: int
    mtime_ns: int


def scan_inbox(inbox: Path, sources: list[str], known: dict[str, list] | None = None,
               settle_seconds: float = 0.0) -> list[InboxFile]:
    """Every settled file in the sources' inbox folders with its SHA-256.

    `known` maps a file to the [size, mtime_ns, sha256] seen last time: an unchanged file is not
    read again. A file modified less than `settle_seconds` ago may still be arriving and is left
    for the next look."""
    known = known or {}
    now = time.time_ns()
    found = []
    for source in sources:
        directory = inbox / source
        if not directory.is_dir():
            continue
        accepted, _refused = inbox_files(directory, inbox)  # refused files are reported by ingestion itself
        for path in accepted:
            stat = path.stat()
            if now - stat.st_mtime_ns < settle_seconds * 1e9:
                continue
            rel = f"{source}/{path.name}"
            previous = known.get(rel)
            if previous and previous[0] == stat.st_size and previous[1] == stat.st_mtime_ns:
                sha = previous[2]
            else:
                sha = sha256_of(path)
            found.append(InboxFile(source, rel, sha, stat.st_size, stat.st_mtime_ns))
    return found


def new_files(found: list[InboxFile], seen_sha256: set[str]) -> dict[str, list[InboxFile]]:
    """Files whose content was never seen, by source; a content seen twice in this look counts once."""
    fresh: dict[str, list[InboxFile]] = {}
    taken = set(seen_sha256)
    for f in found:
        if f.sha256 in taken:
            continue
        taken.add(f.sha256)
        fresh.setdefault(f.source, []).append(f)
    return fresh


def inbox_manifest(inbox: Path, sources: list[str]) -> dict[str, str]:
    """file → SHA-256 of everything a refresh will read (for the audit log)."""
    return {f.file: f.sha256 for f in scan_inbox(inbox, sources)}
