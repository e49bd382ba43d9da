"""Alerts: one line per failed run on the configured channel (a log file under SIJIL_HOME)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def alert_line(run_id: str, job: str, message: str, when: dt.datetime | None = None) -> str:
    """One line a person (or a log shipper) can read: when, which run, what failed."""
    when = when or dt.datetime.now(dt.timezone.utc)
    text = " ".join(message.split())[:500]
    return f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')} SIJIL RUN FAILED job={job} run={run_id}: {text}\n"


def write_alert(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
