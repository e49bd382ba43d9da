"""Country profiles and source contracts: configuration loaded from config/profiles/<code>/.

A profile is data (governorates, identifiers, sources, programmes); a source contract says
how one agency's export maps onto Sijil's canonical fields. No country is named in code.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assets.errors import SijilError
from assets.settings import profiles_dir

COLUMN_TYPES = {"string", "integer", "decimal", "date", "month", "boolean"}
PII_CLASSES = {"direct", "quasi", "none"}
FORMATS = {"csv", "excel", "parquet"}
SEVERITIES = {"critical", "warning"}


class ContractError(SijilError, ValueError):
    """A profile or source contract that is not well formed."""


@dataclass(frozen=True)
class ColumnContract:
    name: str  # canonical field name
    source: str  # header in the agency's export
    type: str = "string"
    required: bool = False
    pii: str = "none"
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    id_type: str | None = None
    # What to do with a non-empty value that breaks the column's rule: "quarantine" the row,
    # or "keep" it (staging turns the value into null and flags it).
    on_invalid: str = "quarantine"


@dataclass(frozen=True)
class EntityContract:
    source: str
    name: str
    file_pattern: str
    format: str
    columns: tuple[ColumnContract, ...]
    primary_key: tuple[str, ...]
    grain: str
    encoding: str = "detect"
    delimiter: str = ","
    sheet: str | None = None
    control_total: str | None = None

    @property
    def table(self) -> str:
        """Table name shared by raw.<table> and quarantine.<table>."""
        return f"{self.source}__{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnContract:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class SourceContract:
    source: str
    agency_en: str
    agency_ar: str
    pillar: str
    description_en: str
    description_ar: str
    cadence_days: int
    severity: str
    entities: tuple[EntityContract, ...]


@dataclass(frozen=True)
class Profile:
    code: str
    raw: dict = field(repr=False)
    sources: tuple[SourceContract, ...] = ()
    directory: Path | None = None

    def __getattr__(self, item):  # profile.currency, profile.governorates, ...
        try:
            return self.__dict__["raw"][item]
        except KeyError as exc:
            raise AttributeError(item) from exc

    def source(self, code: str) -> SourceContract:
        for contract in self.sources:
            if contract.source == code:
                return contract
        raise KeyError(f"profile {self.code!r} has no source {code!r}")

    def programmes(self) -> list[dict]:
        with open(self.directory / self.raw["programmes"], encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


def _column(source: str, entity: str, name: str, spec: dict) -> ColumnContract:
    where = f"{source}.{entity}.{name}"
    if not isinstance(spec, dict) or "source" not in spec:
        raise ContractError(f"{where}: a column needs at least a 'source' header")
    unknown = set(spec) - {"source", "type", "required", "pii", "values", "min", "max", "id_type", "on_invalid"}
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}")
    col = ColumnContract(
        name=name,
        source=str(spec["source"]),
        type=spec.get("type", "string"),
        required=bool(spec.get("required", False)),
        pii=spec.get("pii", "none"),
        values=tuple(str(v) for v in spec["values"]) if spec.get("values") else None,
        min=spec.get("min"),
        max=spec.get("max"),
        id_type=spec.get("id_type"),
        on_invalid=spec.get("on_invalid", "quarantine"),
    )
    if col.on_invalid not in ("quarantine", "keep"):
        raise ContractError(f"{where}: on_invalid must be 'quarantine' or 'keep'")
    if col.required and col.on_invalid == "keep":
        raise ContractError(f"{where}: a required column cannot keep invalid values")
    if col.type not in COLUMN_TYPES:
        raise ContractError(f"{where}: type {col.type!r} is not one of {sorted(COLUMN_TYPES)}")
    if col.pii not in PII_CLASSES:
        raise ContractError(f"{where}: pii {col.pii!r} is not one of {sorted(PII_CLASSES)}")
    return col


def parse_source_contract(data: dict) -> SourceContract:
    """Validate and build a source contract from its YAML mapping."""
    source = data.get("source")
    if not source:
        raise ContractError("a source contract needs 'source'")
    entities = []
    for ename, espec in (data.get("entities") or {}).items():
        columns = tuple(_column(source, ename, n, s) for n, s in (espec.get("columns") or {}).items())
        if not columns:
            raise ContractError(f"{source}.{ename}: no columns")
        entity = EntityContract(
            source=source,
            name=ename,
            file_pattern=espec["file_pattern"],
            format=espec.get("format", "csv"),
            columns=columns,
            primary_key=tuple(espec.get("primary_key") or ()),
            grain=espec.get("grain", "record"),
            encoding=espec.get("encoding", "detect"),
            delimiter=espec.get("delimiter", ","),
            sheet=espec.get("sheet"),
            control_total=espec.get("control_total"),
        )
        if entity.format not in FORMATS:
            raise ContractError(f"{source}.{ename}: format {entity.format!r} is not one of {sorted(FORMATS)}")
        missing = [k for k in entity.primary_key + ((entity.control_total,) if entity.control_total else ())
                   if k not in entity.column_names]
        if missing:
            raise ContractError(f"{source}.{ename}: key or control-total columns {missing} are not declared")
        entities.append(entity)
    if not entities:
        raise ContractError(f"{source}: no entities")
    severity = data.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ContractError(f"{source}: severity {severity!r} is not one of {sorted(SEVERITIES)}")
    return SourceContract(
        source=source,
        agency_en=data.get("agency_en", source),
        agency_ar=data.get("agency_ar", source),
        pillar=data.get("pillar", ""),
        description_en=data.get("description_en", ""),
        description_ar=data.get("description_ar", ""),
        cadence_days=int(data.get("cadence_days", 31)),
        severity=severity,
        entities=tuple(entities),
    )


def load_profile(code: str, root: Path | None = None) -> Profile:
    """Load profile `code` with all its source contracts."""
    return _load_profile(code, root or profiles_dir())


@functools.cache
def _load_profile(code: str, root: Path) -> Profile:
    directory = root / code
    path = directory / "profile.yaml"
    if not path.exists():
        known = sorted(p.name for p in root.iterdir() if (p / "profile.yaml").exists())
        raise ContractError(f"no profile {code!r} (known: {', '.join(known)})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = []
    for name in raw.get("sources", []):
        contract_path = directory / "sources" / f"{name}.yaml"
        try:
            sources.append(parse_source_contract(yaml.safe_load(contract_path.read_text(encoding="utf-8"))))
        except (OSError, ContractError, KeyError) as exc:
            raise ContractError(f"{contract_path}: {exc}") from exc
    return Profile(code=code, raw=raw, sources=tuple(sources), directory=directory)
