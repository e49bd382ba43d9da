"""The refresh's monitoring outputs: after the monitoring marts, the bilingual HTML report and the
Excel workbook of the published indicator tables. A run writes them beside the warehouse file it
builds; publishing a checked build moves them to $SIJIL_HOME/reports/ (assets.publish.wap)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from assets.monitoring.published import load_published
from assets.monitoring.report import render_report
from assets.monitoring.workbook import write_workbook
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile
from assets.publish.wap import build_reports
from assets.warehouse import Warehouse

REPORT_NAME = "indicators.html"
WORKBOOK_NAME = "indicators.xlsx"
UPSTREAM = [["monitoring", "indicator_values"], ["monitoring", "pillar_scorecard"],
            ["monitoring", "indicator_catalogue"], ["monitoring", "indicator_targets"], ["core", "dim_geography"]]


def write_outputs(published, profile: Profile, directory: Path, generated: str) -> dict[str, Path]:
    """Write the report and the workbook next to their final names, then swap them in."""
    directory.mkdir(parents=True, exist_ok=True)
    report, workbook = directory / REPORT_NAME, directory / WORKBOOK_NAME
    report_tmp, workbook_tmp = report.with_suffix(".html.tmp"), workbook.with_suffix(".tmp.xlsx")
    report_tmp.write_text(render_report(published, {"ar": profile.name_ar, "en": profile.name_en},
                                        int(profile.disclosure_k), generated), encoding="utf-8")
    write_workbook(published, workbook_tmp)
    os.replace(report_tmp, report)
    os.replace(workbook_tmp, workbook)
    return {"report": report, "workbook": workbook}


def build_monitoring_assets(profile: Profile) -> list:
    @dg.asset(key=["reports", "indicator_report"], deps=[dg.AssetKey(k) for k in UPSTREAM], group_name="monitoring",
              kinds={"python", "html", "excel"}, pool="duckdb_writer", retry_policy=transient_retry_policy(),
              description="The bilingual indicator report (Arabic first, offline HTML with inline SVG charts) and the "
                          "Excel workbook of the published indicator tables, from disclosure-controlled tables only.\n\n"
                          "تقرير المؤشرات بالعربية والإنجليزية ومصنف Excel من الجداول المنشورة بعد ضبط الإفصاح.")
    @final_unless_transient
    def indicator_report(warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect(read_only=True) as con:
            published = load_published(con)
        generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        paths = write_outputs(published, profile, build_reports(warehouse.resolved_path()), generated)
        shown = published.values[~published.values.is_suppressed]
        return dg.MaterializeResult(metadata={
            "report": dg.MetadataValue.path(str(paths["report"])),
            "workbook": dg.MetadataValue.path(str(paths["workbook"])),
            "indicators": len(published.catalogue),
            "cells_published": len(shown),
            "cells_suppressed": int(published.values.is_suppressed.sum()),
        })

    return [indicator_report]
