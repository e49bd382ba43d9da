"""The indicator catalogue, the report, the workbook and `sijil indicators`, without a warehouse."""

from __future__ import annotations

import copy
import re

import openpyxl
import pandas as pd
import pytest
import yaml

from assets.errors import SijilError
from assets.monitoring.catalogue import CatalogueError, catalogue_frames, catalogue_path, load_catalogue, validate_catalogue
from assets.monitoring.published import Published, indicator_rows
from assets.monitoring.report import render_report
from assets.monitoring.workbook import write_workbook
from assets.text.spreadsheet import neutralise
from assets.profiles import load_profile
from assets.publish.query import format_frame

PROFILE = load_profile("jordan")
REFERENCE_CODES = ({f"K{i}" for i in range(1, 12)} | {f"T{i}" for i in range(1, 6)} | {f"F{i}" for i in range(1, 5)}
                   | {f"S{i}" for i in range(1, 6)} | {"X1"})


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(catalogue_path(PROFILE))


def test_catalogue_holds_every_reference_indicator_and_the_governance_ones(catalogue):
    items = {i["code"]: i for i in catalogue["indicators"]}
    assert REFERENCE_CODES <= set(items)
    names = {i["name_en"] for i in catalogue["indicators"]}
    for wanted in ("Duplicate-benefit rate", "Amount at stake in duplicate benefits", "Registry coverage of the population",
                   "Records updated in the last 24 months", "Data-quality score per agency", "Grievance resolution rate",
                   "Median days to resolve a grievance"):
        assert wanted in names
    for code in ("S1", "S1P90", "S1W7", "S1W14", "S1W30"):  # timeliness: median, p90, within 7/14/30 days
        assert code in items
    assert all(set(range(2025, 2034)) <= set(i["targets"]) for i in items.values())


def test_catalogue_frames_one_row_per_indicator_target_and_disaggregation(catalogue):
    frames = catalogue_frames(catalogue)
    n = len(catalogue["indicators"])
    assert len(frames["ref_indicators"]) == n and frames["ref_indicators"].indicator_code.is_unique
    assert len(frames["ref_indicator_targets"]) == sum(len(i["targets"]) for i in catalogue["indicators"])
    national = frames["ref_indicator_disaggregations"].query("dimension == 'national'")
    assert len(national) == n
    assert list(frames["ref_pillars"].pillar) == ["karama", "tamkeen", "forsa", "sumud", "cross"]


@pytest.mark.parametrize("change, message", [
    (lambda i: i["targets"].pop(2031), "K1: no target for 2031"),
    (lambda i: i.update(kind="average"), "K1: kind 'average'"),
    (lambda i: i.update(name_ar=" "), "K1: name_ar is empty"),
    (lambda i: i.update(disaggregations=["colour"]), "K1: unknown disaggregations ['colour']"),
    (lambda i: i["targets"].update({2030: "high"}), "K1: targets for 2030 are not numbers"),
])
def test_a_bad_catalogue_names_the_indicator_and_the_problem(catalogue, change, message):
    broken = copy.deepcopy(catalogue)
    change(broken["indicators"][0])
    with pytest.raises(CatalogueError, match=re.escape(message)):
        validate_catalogue(broken, "indicators.yaml")


def test_a_repeated_code_is_refused(catalogue, tmp_path):
    broken = copy.deepcopy(catalogue)
    broken["indicators"].append(copy.deepcopy(broken["indicators"][0]))
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=f"{re.escape(str(path))}: indicator K1: missing or repeated code"):
        load_catalogue(path)


def _published() -> Published:
    catalogue = pd.DataFrame([
        {"indicator_code": "K1", "sort_order": 1, "pillar": "karama", "pillar_name_ar": "كرامة", "pillar_name_en": "Karama",
         "pillar_order": 1, "name_ar": "تغطية الأسر", "name_en": "Coverage <b>of</b> households", "definition_ar": "تعريف",
         "definition_en": "=HYPERLINK(\"http://x\")", "numerator_ar": "بسط", "numerator_en": "num", "denominator_ar": "مقام",
         "denominator_en": "den", "unit": "percent", "computed_by": None},
        {"indicator_code": "S1", "sort_order": 2, "pillar": "sumud", "pillar_name_ar": "صمود", "pillar_name_en": "Sumud",
         "pillar_order": 4, "name_ar": "وسيط الأيام", "name_en": "Median days", "definition_ar": "تعريف",
         "definition_en": "days", "numerator_ar": "—", "numerator_en": "—", "denominator_ar": "الأسر",
         "denominator_en": "households", "unit": "days", "computed_by": None},
    ])
    rows = []
    for code, pillar in (("K1", "karama"), ("S1", "sumud")):
        for month, value in (("2025-01", 10.0), ("2025-02", None), ("2025-03", 12.5)):
            rows.append({"indicator_code": code, "pillar": pillar, "grain": "month", "period_start": pd.Timestamp(month + "-01"),
                         "period_label": month, "dimension": "national", "dimension_value": "total", "numerator": None if value is None else 5.0,
                         "denominator": None if value is None else 40.0, "value": value, "is_suppressed": value is None,
                         "suppression": "primary" if value is None else None, "unit": "percent", "kind": "share"})
        for gov, value in (("AM", 11.0), ("IR", None)):
            rows.append({"indicator_code": code, "pillar": pillar, "grain": "year", "period_start": pd.Timestamp("2025-01-01"),
                         "period_label": "2025", "dimension": "governorate", "dimension_value": gov, "numerator": None,
                         "denominator": None, "value": value, "is_suppressed": value is None,
                         "suppression": "secondary" if value is None else None, "unit": "percent", "kind": "share"})
    scorecard = pd.DataFrame([
        {"indicator_code": "K1", "pillar": "karama", "sort_order": 1, "name_en": "Coverage", "name_ar": "تغطية الأسر",
         "year": 2025, "value": 11.4,
         "target": 22.0, "unit": "percent", "trend": "improving", "status": "off_track", "is_suppressed": False,
         "is_complete_year": True, "previous_value": 7.8, "baseline_year": 2024, "baseline_value": 7.8},
        {"indicator_code": "S1", "pillar": "sumud", "sort_order": 2, "name_en": "Median days", "name_ar": "وسيط الأيام",
         "year": 2025, "value": None,
         "target": 10.0, "unit": "days", "trend": "not_available", "status": "suppressed", "is_suppressed": True,
         "is_complete_year": True, "previous_value": None, "baseline_year": 2024, "baseline_value": None},
    ])
    return Published(catalogue=catalogue, values=pd.DataFrame(rows), scorecard=scorecard,
                     targets=pd.DataFrame([{"indicator_code": "K1", "year": 2025, "target": 22.0}]),
                     geography=pd.DataFrame([{"governorate_code": "AM", "name_ar": "العاصمة", "name_en": "Amman"},
                                             {"governorate_code": "IR", "name_ar": "إربد", "name_en": "Irbid"}]))


def test_report_is_arabic_first_self_contained_and_escaped():
    page = render_report(_published(), {"ar": "الأردن", "en": "Jordan"}, 10, "2026-11-22")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ar" dir="rtl">' in page
    arabic, english = page.index('lang="ar" dir="rtl">'), page.index('lang="en" dir="ltr">')
    assert arabic < english
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.findall(r'(?:src|href)="(?!#)', page) == []    # only links within the page, nothing to fetch
    assert "=HYPERLINK(&quot;http://x&quot;)" in page
    assert "Coverage &lt;b&gt;of&lt;/b&gt; households" in page and "<b>of</b>" not in page
    assert page.count("<svg") == 8  # by governorate and over time, for 2 indicators, in both languages
    assert "محجوب" in page and "suppressed" in page          # hidden cells are written out, never drawn as 0
    assert "11.4%" in page and "22.0%" in page and "k = 10" in page
    assert "كرامة" in page and "Sumud" in page


def test_workbook_neutralises_formulas_and_keeps_numbers(tmp_path):
    assert neutralise("=1+1") == "'=1+1" and neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("\tx") == "'\tx"
    assert neutralise("-2") == "'-2" and neutralise("Amman") == "Amman"
    path = tmp_path / "indicators.xlsx"
    rows = write_workbook(_published(), path)
    assert rows == {"Scorecard": 2, "Indicators": 2, "Values": 10, "Targets": 1}
    book = openpyxl.load_workbook(path)
    indicators = book["Indicators"]
    header = [c.value for c in indicators[1]]
    definition = indicators.cell(row=2, column=header.index("definition_en") + 1)
    assert definition.data_type == "s" and definition.value.startswith("'=HYPERLINK")
    values = book["Values"]
    header = [c.value for c in values[1]]
    cells = [r[header.index("value")].value for r in values.iter_rows(min_row=2)]
    assert 10.0 in cells and None in cells and 0 not in cells      # suppressed stays blank, not zero


def test_indicator_rows_filter_by_pillar_and_period():
    published = _published()
    scorecard = indicator_rows(published, pillar="karama")
    assert list(scorecard.indicator_code) == ["K1"] and "target" in scorecard
    month = indicator_rows(published, period="2025-02")
    assert set(month.indicator_code) == {"K1", "S1"} and month.value.isna().all()
    assert set(month.suppression) == {"primary"}
    with pytest.raises(SijilError, match="no published values for period '2030-01'"):
        indicator_rows(published, period="2030-01")
    with pytest.raises(SijilError, match="--pillar must be one of"):
        indicator_rows(published, pillar="karamaa")
    assert format_frame(scorecard, "csv").splitlines()[0].startswith("indicator_code,pillar,name_en")


def test_indicator_rows_in_arabic_name_trend_status_and_governorates_and_keep_codes():
    published = _published()
    scorecard = indicator_rows(published, lang="ar")
    assert list(scorecard.columns) == ["indicator_code", "pillar", "name_ar", "year", "value", "target", "unit",
                                       "trend", "status"]
    assert scorecard.to_dict("records")[0] | {"value": None} == {
        "indicator_code": "K1", "pillar": "karama", "name_ar": "تغطية الأسر", "year": 2025, "value": None,
        "target": 22.0, "unit": "percent", "trend": "يتحسن", "status": "خارج المسار"}
    assert list(scorecard.status) == ["خارج المسار", "محجوب لضبط الإفصاح"]
    year = indicator_rows(published, period="2025", lang="ar")
    assert set(year.dimension_value) == {"العاصمة", "إربد"}
    month = indicator_rows(published, period="2025-01", lang="ar")
    assert set(month.dimension_value) == {"total"}  # only governorates have names
    assert "تغطية الأسر" in format_frame(scorecard, "json")  # Arabic, not \\u escapes
    with pytest.raises(SijilError, match="--lang must be one of"):
        indicator_rows(published, lang="fr")


def test_reports_are_published_with_their_build_and_discarded_with_a_failed_one(tmp_path):
    from assets.publish.wap import _publish_reports, build_reports, discard

    build = tmp_path / "builds" / "20261122T220000.duckdb"
    build.parent.mkdir()
    build.write_bytes(b"")
    built = build_reports(build)
    built.mkdir()
    (built / "indicators.html").write_text("<html>new</html>", encoding="utf-8")
    published = tmp_path / "reports"
    published.mkdir()
    (published / "indicators.html").write_text("<html>old</html>", encoding="utf-8")
    discard(build)
    assert not build.exists() and not built.exists()
    assert (published / "indicators.html").read_text(encoding="utf-8") == "<html>old</html>"
    built.mkdir()
    (built / "indicators.html").write_text("<html>new</html>", encoding="utf-8")
    _publish_reports(built, published)
    assert (published / "indicators.html").read_text(encoding="utf-8") == "<html>new</html>" and not built.exists()
