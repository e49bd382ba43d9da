"""Write one entity's frame as the agency would: its headers, format and encoding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from assets.profiles import EntityContract


def file_name(entity: EntityContract, as_of: dt.date) -> str:
    return entity.file_pattern.replace("*", as_of.strftime("%Y%m%d"))


def write_entity(frame: pd.DataFrame, entity: EntityContract, directory: Path, as_of: dt.date,
                 export: dict | None = None) -> Path:
    """Render `frame` (canonical columns) with the contract's agency headers into `directory`."""
    missing = [c for c in entity.column_names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in entity.column_names]
    if missing or extra:
        raise ValueError(f"{entity.table}: generated columns differ from the contract "
                         f"(missing {missing}, unexpected {extra})")
    export = export or {}
    out = frame[entity.column_names].astype(object).where(frame[entity.column_names].notna(), None)
    out = out.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    out.columns = [entity.column(c).source for c in entity.column_names]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(entity, as_of)
    if entity.format == "csv":
        out.to_csv(path, index=False, encoding=export.get("encoding", "utf-8"),
                   lineterminator=export.get("line_terminator", "\n"))
    elif entity.format == "parquet":
        out.astype("string").to_parquet(path, index=False)
    elif entity.format == "excel":
        out.to_excel(path, index=False, sheet_name=entity.sheet or entity.name, engine="xlsxwriter")
    else:
        raise ValueError(f"{entity.table}: unknown format {entity.format!r}")
    return path
