"""The indicator catalogue of a country profile (config/profiles/<code>/indicators.yaml):
validated, then handed to the warehouse as reference tables the monitoring marts read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from assets.errors import SijilError
from assets.profiles import Profile

KINDS = {"share", "ratio", "quantile", "sum", "count", "score"}
# "currency" is an amount in the profile's currency; "jod" is kept for catalogues written before.
UNITS = {"percent", "currency", "jod", "days", "count", "ratio", "score"}
DIRECTIONS = {"higher_is_better", "lower_is_better"}
# Each profile's strategy names its own pillars in its catalogue; these are the default
# profile's, for the command line's help.
PILLARS = ("karama", "tamkeen", "forsa", "sumud", "cross")
DISAGGREGATIONS = ("governorate", "sex", "age_group", "age_group_ilo", "disability", "disability_severity",
                   "refugee_status", "quintile", "household_size_band", "channel", "category", "shock")
TARGET_HORIZON = 2033
TEXT_FIELDS = ("name_ar", "name_en", "definition_ar", "definition_en", "numerator_ar", "numerator_en",
               "denominator_ar", "denominator_en")


class CatalogueError(SijilError, ValueError):
    """An indicator catalogue that is not well formed."""


def catalogue_path(profile: Profile) -> Path:
    return profile.directory / profile.raw.get("indicators", "indicators.yaml")


def load_catalogue(path: Path) -> dict:
    """Read and validate a catalogue; errors name the file, the indicator and the field."""
    if not path.exists():
        raise CatalogueError(f"{path}: no indicator catalogue")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    validate_catalogue(data, str(path))
    return data


def validate_catalogue(data: dict, where: str = "indicators.yaml") -> None:
    pillars = data.get("pillars") or {}
    if not pillars or not isinstance(pillars, dict):
        raise CatalogueError(f"{where}: no pillars")
    for code, spec in pillars.items():
        if not isinstance(spec, dict) or not all(str(spec.get(k) or "").strip() for k in ("name_en", "name_ar")):
            raise CatalogueError(f"{where}: pillar {code} needs name_en and name_ar")
    items = data.get("indicators") or []
    if not items:
        raise CatalogueError(f"{where}: no indicators")
    seen = set()
    for n, item in enumerate(items, start=1):
        code = item.get("code")
        at = f"{where}: indicator {code or f'#{n}'}"
        if not code or code in seen:
            raise CatalogueError(f"{at}: missing or repeated code")
        seen.add(code)
        for name in TEXT_FIELDS:
            if not str(item.get(name) or "").strip():
                raise CatalogueError(f"{at}: {name} is empty")
        for name, allowed in (("pillar", tuple(pillars)), ("kind", KINDS), ("unit", UNITS), ("direction", DIRECTIONS)):
            if item.get(name) not in allowed:
                raise CatalogueError(f"{at}: {name} {item.get(name)!r} is not one of {', '.join(sorted(allowed))}")
        if item["kind"] == "quantile" and not 0 < float(item.get("quantile", 0)) < 1:
            raise CatalogueError(f"{at}: a quantile indicator needs quantile between 0 and 1")
        unknown = set(item.get("disaggregations") or []) - set(DISAGGREGATIONS)
        if unknown:
            raise CatalogueError(f"{at}: unknown disaggregations {sorted(unknown)}")
        base = int((item.get("baseline") or {}).get("year", 0))
        if not 2000 <= base < TARGET_HORIZON:
            raise CatalogueError(f"{at}: baseline year {base} is not before {TARGET_HORIZON}")
        targets = {int(y): v for y, v in (item.get("targets") or {}).items()}
        missing = [y for y in range(base + 1, TARGET_HORIZON + 1) if y not in targets]
        if missing:
            raise CatalogueError(f"{at}: no target for {', '.join(map(str, missing))}")
        bad = [y for y, v in targets.items() if not isinstance(v, (int, float)) or isinstance(v, bool)]
        if bad:
            raise CatalogueError(f"{at}: targets for {', '.join(map(str, bad))} are not numbers")


def catalogue_frames(data: dict) -> dict[str, pd.DataFrame]:
    """ref_indicators, ref_indicator_disaggregations, ref_indicator_targets, ref_pillars."""
    indicators, dims, targets = [], [], []
    for order, item in enumerate(data["indicators"], start=1):
        baseline = item.get("baseline") or {}
        indicators.append({
            "indicator_code": item["code"], "sort_order": order, "pillar": item["pillar"],
            **{name: item[name] for name in TEXT_FIELDS},
            "unit": item["unit"], "kind": item["kind"], "quantile": float(item["quantile"]) if "quantile" in item else None,
            "direction": item["direction"], "additive_over_time": bool(item.get("additive_over_time", False)),
            "baseline_year": int(baseline["year"]),
            "baseline_value": float(baseline["value"]) if baseline.get("value") is not None else None,
            "computed_by": item.get("computed_by"),
        })
        dims += [{"indicator_code": item["code"], "dimension": d} for d in ["national", *(item.get("disaggregations") or [])]]
        targets += [{"indicator_code": item["code"], "year": int(y), "target": float(v)}
                    for y, v in sorted((item.get("targets") or {}).items())]
    pillars = [{"pillar": code, "sort_order": n, "name_en": spec["name_en"], "name_ar": spec["name_ar"]}
               for n, (code, spec) in enumerate(data["pillars"].items(), start=1)]
    return {"ref_indicators": pd.DataFrame(indicators),
            "ref_indicator_disaggregations": pd.DataFrame(dims),
            "ref_indicator_targets": pd.DataFrame(targets),
            "ref_pillars": pd.DataFrame(pillars)}
