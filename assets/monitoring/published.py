"""The published, disclosure-controlled indicator tables, read the same way by the report, the
workbook and `sijil indicators` — never the unsuppressed indicator_cells or indicator_units."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from assets.errors import SijilError

QUERIES = {
    "catalogue": "select * from monitoring.indicator_catalogue order by pillar_order, sort_order",
    "values": "select indicator_code, pillar, grain, period_start, period_end, period_label, is_complete, dimension, "
              "dimension_value, numerator, denominator, value, is_suppressed, suppression, unit, kind "
              "from monitoring.indicator_values order by indicator_code, grain, period_start, dimension, dimension_value",
    "scorecard": "select * from monitoring.pillar_scorecard order by sort_order",
    "targets": "select indicator_code, year, target from monitoring.indicator_targets order by indicator_code, year",
    "geography": "select governorate_code, name_ar, name_en from core.dim_geography",
}


@dataclass
class Published:
    catalogue: pd.DataFrame
    values: pd.DataFrame
    scorecard: pd.DataFrame
    targets: pd.DataFrame
    geography: pd.DataFrame

    def governorate_names(self, lang: str) -> dict[str, str]:
        return dict(zip(self.geography.governorate_code, self.geography[f"name_{lang}"]))


def load_published(con: duckdb.DuckDBPyConnection) -> Published:
    try:
        return Published(**{name: con.execute(sql).df() for name, sql in QUERIES.items()})
    except duckdb.CatalogException as exc:
        raise SijilError(f"the warehouse has no published indicator tables yet ({exc}); run `sijil materialize`") from exc


def indicator_rows(published: Published, pillar: str | None = None, period: str | None = None,
                   lang: str = "en") -> pd.DataFrame:
    """What `sijil indicators` prints: without a period, the scorecard (each indicator against its
    target); with one (YYYY-MM, YYYY-Qn or YYYY), every published cell of that period. With
    `lang='ar'` the indicators' names, trends, statuses and governorates are in Arabic, worded as
    the report words them; the column names and codes stay as they are, for the tools that read
    the CSV or JSON."""
    from assets.monitoring.report import TEXT

    if lang not in TEXT:
        raise SijilError(f"--lang must be one of {', '.join(TEXT)}")
    known = list(dict.fromkeys(published.catalogue.pillar)) if "pillar" in published.catalogue else []
    if pillar and pillar not in known:
        raise SijilError(f"--pillar must be one of {', '.join(known)}")
    if period is None:
        frame = published.scorecard
        frame = frame[frame.pillar == pillar] if pillar else frame
        frame = frame[["indicator_code", "pillar", f"name_{lang}", "year", "value", "target", "unit", "trend", "status"]]
        if lang == "en":
            return frame
        return frame.assign(trend=frame.trend.map(TEXT[lang]["trend"]).fillna(frame.trend),
                            status=frame.status.map(TEXT[lang]["status"]).fillna(frame.status))
    frame = published.values[published.values.period_label == period]
    if frame.empty:
        known = sorted(published.values.period_label.unique())
        raise SijilError(f"no published values for period {period!r}; periods: {known[0]} … {known[-1]}" if known
                         else "no published indicator values")
    frame = frame[frame.pillar == pillar] if pillar else frame
    frame = frame[["indicator_code", "pillar", "period_label", "dimension", "dimension_value", "numerator",
                   "denominator", "value", "unit", "suppression"]].reset_index(drop=True)
    if lang == "en":
        return frame
    names = frame.dimension_value.map(published.governorate_names(lang)).fillna(frame.dimension_value)
    return frame.assign(dimension_value=frame.dimension_value.where(frame.dimension != "governorate", names))
