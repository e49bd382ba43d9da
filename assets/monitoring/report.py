"""The bilingual indicator report: one self-contained HTML file (Arabic, right to left, first;
then English) with inline CSS and inline SVG charts — no script, no font or file to fetch, so it
opens offline. Every text is HTML-escaped. It reads only the published, disclosure-controlled
tables (assets.monitoring.published)."""

from __future__ import annotations

import html
import math

import pandas as pd

from assets.monitoring.published import Published

TEXT = {
    "ar": {
        "title": "تقرير مؤشرات استراتيجية الحماية الاجتماعية", "year": "سنة المقارنة", "target": "المستهدف",
        "baseline": "خط الأساس", "previous": "السنة السابقة", "by_governorate": "حسب المحافظة", "over_time": "عبر الزمن",
        "definition": "التعريف", "numerator": "البسط", "denominator": "المقام", "suppressed": "محجوب",
        "no_value": "لا توجد قيمة", "notes": "ملاحظات حول التعريفات والتحفظات", "contents": "المحتويات",
        "partial": "سنة غير مكتملة", "generated": "تاريخ الإعداد", "profile": "البلد",
        "computed_elsewhere": "تُحسب في بطاقة جودة البيانات (monitoring.dq_scorecard)",
        "status": {"on_track": "على المسار", "off_track": "خارج المسار", "suppressed": "محجوب لضبط الإفصاح",
                   "no_data": "لا توجد بيانات", "no_target": "بلا مستهدف", "computed_elsewhere": "يُحسب في نموذج آخر"},
        "trend": {"improving": "يتحسن", "worsening": "يتراجع", "stable": "مستقر", "not_available": "—"},
        "units": {"percent": "%", "currency": "", "jod": " د.أ", "days": " يوم", "count": "", "ratio": "", "score": ""},
        "notes_list": [
            "ضبط الإفصاح (k = {k}): يُحجب العدد الذي يقل عن k، وتُحجب النسبة إذا قلّ بسطها أو مقامها أو الفرق بينهما عن k (فلا تُنشر نسبة 0% أو 100%)، ويجوز نشر العدد صفر. ثم تُحجب خلايا إضافية (حجب ثانوي) حتى لا يمكن استنتاج خلية محجوبة من المجاميع أو من مجموع الأشهر والأرباع. الخلية المحجوبة ليست صفراً.",
            "الأخماس محسوبة داخل السجل (ليست أخماساً وطنية)، والكفاية ونسبة المنفعة إلى الكلفة تعتمدان على مؤشر رفاه تقريبي.",
            "مقامات التغطية (K1 وK2 وT1 وF2 وX1 وX4) هي تقديرات السكان والأسر في نهاية السنة الصادرة عن جهة الإحصاء الوطنية حسب المحافظة والجنس وفئة العمر: إسقاطات من إصدار مختلف عن السجل، فقد تختلف قليلاً عنه. تُقاس الأشهر والأرباع بتقديرات سنتها. لا تتضمن التقديرات الإعاقة أو صفة اللجوء، فلا تُنشر هذه المؤشرات حسبهما؛ وتُحسب المؤشرات الأخرى على سكان السجل.",
            "أخطاء الاستبعاد والشمول محسوبة على الأسر التي شملها مسح الرفاه المربوط بالسجل فقط، وتُقرأ مع التغطية والحصة.",
            "قد يكون اللاجئون خارج بعض البرامج بحكم تصميمها؛ تُعرض نتائجهم منفصلة ولا تُدمج.",
            "السنة أو الربع الذي لا تغطيه البيانات كاملاً يُعلَّم بأنه غير مكتمل، ولا يُقارن الاتجاه إلا بسنة مكتملة.",
        ],
    },
    "en": {
        "title": "Social protection strategy indicators", "year": "Scorecard year", "target": "Target",
        "baseline": "Baseline", "previous": "Previous year", "by_governorate": "By governorate", "over_time": "Over time",
        "definition": "Definition", "numerator": "Numerator", "denominator": "Denominator", "suppressed": "suppressed",
        "no_value": "no value", "notes": "Notes on definitions and caveats", "contents": "Contents",
        "partial": "incomplete year", "generated": "Prepared", "profile": "Country",
        "computed_elsewhere": "Computed by the data-quality scorecard (monitoring.dq_scorecard)",
        "status": {"on_track": "on track", "off_track": "off track", "suppressed": "suppressed (disclosure control)",
                   "no_data": "no data", "no_target": "no target", "computed_elsewhere": "computed elsewhere"},
        "trend": {"improving": "improving", "worsening": "worsening", "stable": "stable", "not_available": "—"},
        "units": {"percent": "%", "currency": "", "jod": " JOD", "days": " days", "count": "", "ratio": "", "score": ""},
        "notes_list": [
            "Disclosure control (k = {k}): a count below k is suppressed, and a rate whose numerator, denominator or their "
            "difference is below k (so no rate of 0 % or 100 % is shown); a zero count may be shown. Further cells are "
            "suppressed (secondary) so that no hidden cell can be recovered from totals or from months and quarters adding "
            "up to a year. A suppressed cell is not a zero.",
            "Quintiles are registry-internal, not national; adequacy and the benefit–cost ratio depend on a welfare proxy.",
            "Coverage denominators (K1, K2, T1, F2, X1, X4) are the national statistics office's end-of-year estimates of "
            "population and households by governorate, sex and age group: projections of a different vintage than the "
            "registry, so they may differ from it slightly. Months and quarters use their year's estimates. The estimates "
            "carry no disability or refugee status, so these indicators are not published by them; the other indicators "
            "are measured on the registry's population.",
            "Exclusion and inclusion errors use only the households of the welfare survey linked to the registry; read "
            "them beside coverage and incidence, never alone.",
            "Refugees may be outside some programmes by design: they are reported separately, not pooled.",
            "A year or quarter the data cover only in part is marked incomplete; trends compare with complete years only.",
        ],
    },
}
STATUS_COLOURS = {"on_track": "#1b7f3b", "off_track": "#b3261e", "suppressed": "#6b6b6b", "no_data": "#6b6b6b",
                  "no_target": "#6b6b6b", "computed_elsewhere": "#6b6b6b"}
CSS = """
body{font-family:'Noto Naskh Arabic','Segoe UI',Tahoma,Arial,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1d}
main{max-width:1100px;margin:auto;padding:1rem 1.5rem}
section.lang{border-bottom:4px solid #ccc;padding-bottom:2rem;margin-bottom:2rem}
h1{font-size:1.7rem;margin:.5rem 0}h2{font-size:1.35rem;border-bottom:2px solid #2d5f8a;padding-bottom:.25rem;margin-top:2rem}
h3{font-size:1.05rem;margin:.2rem 0 .4rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
.headline{font-size:1.5rem;font-weight:bold}.muted{color:#555;font-size:.9rem}
.badge{display:inline-block;color:#fff;border-radius:4px;padding:.05rem .45rem;font-size:.85rem;margin:0 .3rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{flex:1 1 420px}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;padding:.2rem .5rem}
svg text{font-size:11px;fill:#333}
"""


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _hidden(flag) -> bool:
    return _present(flag) and bool(flag)


def format_value(value, unit: str, lang: str) -> str:
    if not _present(value):
        return TEXT[lang]["no_value"]
    digits = 0 if unit in ("count", "currency", "jod") and abs(value) >= 100 else 2 if unit == "ratio" else 1
    return f"{value:,.{digits}f}{TEXT[lang]['units'].get(unit, '')}"


def bar_chart(items: list[tuple[str, float | None]], unit: str, lang: str, rtl: bool, target: float | None = None) -> str:
    """Horizontal bars, one per item; a suppressed item is written out, not drawn as zero. Coordinates
    are left to right (the SVG's own direction); `rtl` mirrors the layout, labels on the right."""
    width, row, label_w = 460, 20, 120
    height = row * len(items) + 24
    top = max([abs(v) for _, v in items if _present(v)] + [abs(target) if _present(target) else 0, 1e-9])
    scale = (width - label_w - 70) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" style="direction:ltr">']
    for i, (label, value) in enumerate(items):
        y = 12 + i * row
        label_x = width - 4 if rtl else label_w - 6
        parts.append(f'<text x="{label_x}" y="{y + 13}" text-anchor="end">{html.escape(label)}</text>')
        if _present(value):
            length = max(abs(value) * scale, 1)
            x = (width - label_w - length) if rtl else label_w
            parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="#2d5f8a"/>')
            tx = x - 4 if rtl else x + length + 4
            parts.append(f'<text x="{tx:.1f}" y="{y + 13}" text-anchor="{"end" if rtl else "start"}">'
                         f'{html.escape(format_value(value, unit, lang))}</text>')
        else:
            tx = width - label_w - 4 if rtl else label_w + 4
            parts.append(f'<text x="{tx}" y="{y + 13}" text-anchor="{"end" if rtl else "start"}" font-style="italic">'
                         f'{html.escape(TEXT[lang]["suppressed"])}</text>')
    if _present(target):
        tx = (width - label_w - target * scale) if rtl else (label_w + target * scale)
        parts.append(f'<line x1="{tx:.1f}" y1="6" x2="{tx:.1f}" y2="{height - 4}" stroke="#b3261e" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(points: list[tuple[str, float | None]], unit: str, lang: str, rtl: bool, target: float | None = None) -> str:
    """Columns over time (right to left in Arabic); suppressed periods are marked ×, not drawn as zero."""
    width, height, bottom, left = 460, 180, 40, 28
    n = max(len(points), 1)
    step = (width - 2 * left) / n
    top = max([abs(v) for _, v in points if _present(v)] + [abs(target) if _present(target) else 0, 1e-9])
    scale = (height - bottom - 20) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" style="direction:ltr">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#999"/>']
    every = max(1, math.ceil(n / 8))
    for i, (label, value) in enumerate(points):
        slot = (n - 1 - i) if rtl else i
        x = left + slot * step
        if _present(value):
            h = max(abs(value) * scale, 1)
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{height - bottom - h:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="#2d5f8a"><title>{html.escape(label)}: '
                         f'{html.escape(format_value(value, unit, lang))}</title></rect>')
        else:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom - 4}" text-anchor="middle" fill="#b3261e">×'
                         f'<title>{html.escape(label)}: {html.escape(TEXT[lang]["suppressed"])}</title></text>')
        if i % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                         f'{html.escape(label)}</text>')
    if _present(target):
        y = height - bottom - target * scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - left}" y2="{y:.1f}" stroke="#b3261e" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


def _time_series(values: pd.DataFrame) -> list[tuple[str, float | None]]:
    """The finest grain with at least two national values published, in time order."""
    national = values[values.dimension == "national"]
    for grain in ("month", "quarter", "year"):
        rows = national[national.grain == grain].sort_values("period_start")
        if rows.value.notna().sum() >= 2 or grain == "year":
            return [(r.period_label, r.value if not _hidden(r.is_suppressed) else None) for r in rows.itertuples()]
    return []


def _indicator_card(ind, score, values: pd.DataFrame, published: Published, lang: str) -> str:
    t, rtl = TEXT[lang], lang == "ar"
    name = getattr(ind, f"name_{lang}")
    parts = [f'<div class="card" id="{html.escape(lang)}-{html.escape(ind.indicator_code)}">',
             f"<h3>{html.escape(ind.indicator_code)} — {html.escape(name)}</h3>"]
    status = score.status if score is not None else "no_data"
    colour = STATUS_COLOURS.get(status, "#6b6b6b")
    if _present(ind.computed_by):
        parts.append(f'<p class="muted">{html.escape(t["computed_elsewhere"])}</p>')
    if score is not None:
        headline = format_value(score.value, ind.unit, lang) if not _hidden(score.is_suppressed) else t["suppressed"]
        partial = "" if _hidden(score.is_complete_year) else f' ({html.escape(t["partial"])})'
        parts.append(
            f'<p><span class="headline">{html.escape(headline)}</span>'
            f'<span class="badge" style="background:{colour}">{html.escape(t["status"].get(status, status))}</span>'
            f'<span class="muted">{html.escape(t["year"])}: {int(score.year)}{partial} · '
            f'{html.escape(t["target"])}: {html.escape(format_value(score.target, ind.unit, lang))} · '
            f'{html.escape(t["previous"])}: {html.escape(format_value(score.previous_value, ind.unit, lang))} '
            f'({html.escape(t["trend"].get(score.trend, score.trend))}) · '
            f'{html.escape(t["baseline"])} {int(score.baseline_year)}: '
            f'{html.escape(format_value(score.baseline_value, ind.unit, lang))}</span></p>')
    parts.append(f'<p class="muted"><b>{html.escape(t["definition"])}:</b> {html.escape(getattr(ind, f"definition_{lang}"))}<br>'
                 f'<b>{html.escape(t["numerator"])}:</b> {html.escape(getattr(ind, f"numerator_{lang}"))} · '
                 f'<b>{html.escape(t["denominator"])}:</b> {html.escape(getattr(ind, f"denominator_{lang}"))}</p>')
    charts = []
    if score is not None:
        gov = values[(values.dimension == "governorate") & (values.grain == "year")
                     & (values.period_start.dt.year == int(score.year))]
        if not gov.empty:
            names = published.governorate_names(lang)
            items = [(names.get(r.dimension_value, r.dimension_value), None if _hidden(r.is_suppressed) else r.value)
                     for r in gov.sort_values("dimension_value").itertuples()]
            charts.append(f'<div class="chart"><p class="muted">{html.escape(t["by_governorate"])} ({int(score.year)})</p>'
                          f'{bar_chart(items, ind.unit, lang, rtl, score.target)}</div>')
    series = _time_series(values)
    if series:
        charts.append(f'<div class="chart"><p class="muted">{html.escape(t["over_time"])}</p>'
                      f'{column_chart(series, ind.unit, lang, rtl, score.target if score is not None else None)}</div>')
    if charts:
        parts.append(f'<div class="charts">{"".join(charts)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _language_section(published: Published, lang: str, country: str, k: int, generated: str) -> str:
    t = TEXT[lang]
    direction = "rtl" if lang == "ar" else "ltr"
    values = published.values.copy()
    values["period_start"] = pd.to_datetime(values["period_start"])
    scores = {r.indicator_code: r for r in published.scorecard.itertuples()}
    by_indicator = dict(tuple(values.groupby("indicator_code")))
    parts = [f'<section class="lang" lang="{lang}" dir="{direction}">',
             f"<h1>{html.escape(t['title'])}</h1>",
             f'<p class="muted">{html.escape(t["profile"])}: {html.escape(country)} · '
             f'{html.escape(t["generated"])}: {html.escape(generated)}</p>']
    pillars = published.catalogue.drop_duplicates("pillar").sort_values("pillar_order")
    parts.append(f"<p><b>{html.escape(t['contents'])}:</b> " + " · ".join(
        f'<a href="#{lang}-{html.escape(p.pillar)}">{html.escape(getattr(p, f"pillar_name_{lang}"))}</a>'
        for p in pillars.itertuples()) + "</p>")
    for pillar in pillars.itertuples():
        parts.append(f'<h2 id="{lang}-{html.escape(pillar.pillar)}">{html.escape(getattr(pillar, f"pillar_name_{lang}"))}</h2>')
        for ind in published.catalogue[published.catalogue.pillar == pillar.pillar].itertuples():
            parts.append(_indicator_card(ind, scores.get(ind.indicator_code),
                                         by_indicator.get(ind.indicator_code, values.iloc[0:0]), published, lang))
    parts.append(f"<h2>{html.escape(t['notes'])}</h2><ul>")
    parts += [f"<li>{html.escape(note.format(k=k))}</li>" for note in t["notes_list"]]
    parts.append("</ul></section>")
    return "".join(parts)


def render_report(published: Published, country: dict[str, str], k: int, generated: str) -> str:
    """The whole report: Arabic (right to left) first, then English."""
    body = "".join(_language_section(published, lang, country[lang], k, generated) for lang in ("ar", "en"))
    return ('<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f"<title>{html.escape(TEXT['ar']['title'])} | {html.escape(TEXT['en']['title'])}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n")
