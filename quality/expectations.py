"""Expectation suites as data: what to expect of a table, independent of Great Expectations.

A suite names the asset it checks, the SQL that reads the frame to validate, its severity and
its expectations. Each expectation is a Great Expectations 1.x expectation class name and its
keyword arguments, plus the quality dimension it measures (completeness, validity, uniqueness,
consistency) for the scorecard. Keeping suites as plain data lets the Dagster factory be built
without importing great_expectations (slow), and lets tests read the rules directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness")


@dataclass(frozen=True)
class Expectation:
    kind: str  # a great_expectations.expectations class, e.g. "ExpectColumnValuesToNotBeNull"
    kwargs: dict
    dimension: str
    rule: str  # a short name people read: "national_id: matches the national number format"

    def __post_init__(self):
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"{self.rule}: dimension {self.dimension!r} is not one of {DIMENSIONS}")

    @property
    def column(self) -> str | None:
        if "column" in self.kwargs:
            return self.kwargs["column"]
        columns = self.kwargs.get("column_list") or [self.kwargs.get(k) for k in ("column_A", "column_B")
                                                      if self.kwargs.get(k)]
        return ",".join(columns) if columns else None


@dataclass(frozen=True)
class Suite:
    name: str  # e.g. "naf_takaful__members"
    asset_key: tuple[str, ...]  # the Dagster asset the check sits on
    source: str | None  # the source contract, or None for a core mart
    severity: str  # "critical" (blocks downstream and the publish) or "warning"
    relation: str  # the table or view checked, e.g. "staging.stg_naf_takaful__members"
    select: str  # the frame's columns over the relation as `t`: checked columns and one boolean per rule
    expectations: tuple[Expectation, ...] = field(default_factory=tuple)
    joins: str = ""  # tables joined to `t` for cross-field rules
    key: tuple[str, ...] = ()  # the primary key, whose uniqueness is checked on every row

    def frame_query(self, rows: str | None = None) -> str:
        """SQL reading the frame from the relation, or from `rows` holding a copy of it."""
        return f"select {self.select} from {rows or self.relation} as t {self.joins}".strip()

    @property
    def check_name(self) -> str:
        return "gx_" + self.name

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"
