"""Read-only SQL on the analytics warehouse, printed as a table, CSV or JSON."""

from __future__ import annotations

import contextlib
import json

import duckdb

from assets.errors import SijilError
from assets.publish.wap import analytics_path
from assets.settings import Settings

FORMATS = ("table", "csv", "json")


@contextlib.contextmanager
def open_analytics(settings: Settings):
    path = analytics_path(settings)
    if not path.exists():
        raise SijilError(f"no analytics warehouse at {path} yet: run `sijil materialize` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def run_query(sql: str, fmt: str, settings: Settings) -> str:
    if fmt not in FORMATS:
        raise SijilError(f"--format must be one of {', '.join(FORMATS)}")
    with open_analytics(settings) as con:
        try:
            frame = con.execute(sql).df()
        except duckdb.InvalidInputException as exc:
            if "read-only" in str(exc):
                raise SijilError("the analytics warehouse is read-only: only queries that read are allowed") from exc
            raise SijilError(f"query failed: {exc}") from exc
        except duckdb.Error as exc:
            raise SijilError(f"query failed: {exc}") from exc
    return format_frame(frame, fmt)


def format_frame(frame, fmt: str) -> str:
    """A result printed as an aligned table, CSV or JSON records."""
    if fmt not in FORMATS:
        raise SijilError(f"--format must be one of {', '.join(FORMATS)}")
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return json.dumps(json.loads(frame.to_json(orient="records", date_format="iso")), ensure_ascii=False, indent=1) + "\n"
    return frame.to_string(index=False) + "\n"
