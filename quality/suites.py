"""Build the expectation suites from the country profile and config/quality.yaml.

One suite per source entity (validating its staging table, typed and with canonical names) and
one per core mart. Contract-derived rules: required fields (completeness), allowed values,
ranges, identifier formats from the profile, governorate codes, values delivered but unusable
(the staging `<column>_is_invalid` flags), garbled encoding (validity), key uniqueness.
Hand-written cross-field rules come from config/quality.yaml (consistency).
"""

from __future__ import annotations

import functools

import yaml

from assets.ingestion.validate import MOJIBAKE
from assets.profiles import ColumnContract, EntityContract, Profile, SourceContract
from assets.settings import CONFIG_DIR
from quality.expectations import Expectation, Suite

# Contract column → staging column, where staging renames it.
STAGING_RENAMES = {"governorate": "governorate_code"}


@functools.cache
def load_quality_config() -> dict:
    return yaml.safe_load((CONFIG_DIR / "quality.yaml").read_text(encoding="utf-8"))


def _not_null(column: str, mostly: float) -> Expectation:
    return Expectation("ExpectColumnValuesToNotBeNull", {"column": column, "mostly": mostly}, "completeness",
                       f"{column}: present")


def _in_set(column: str, values, mostly: float, rule: str) -> Expectation:
    return Expectation("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values), "mostly": mostly},
                       "validity", f"{column}: {rule}")


def _between(column: str, low, high, mostly: float) -> Expectation:
    return Expectation("ExpectColumnValuesToBeBetween",
                       {"column": column, "min_value": low, "max_value": high, "mostly": mostly}, "validity",
                       f"{column}: within [{low}, {high}]")


def _regex(column: str, pattern: str, mostly: float, label: str) -> Expectation:
    return Expectation("ExpectColumnValuesToMatchRegex", {"column": column, "regex": pattern, "mostly": mostly},
                       "validity", f"{column}: matches the {label} format")


def _no_mojibake(column: str) -> Expectation:
    return Expectation("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": MOJIBAKE.pattern},
                       "validity", f"{column}: no garbled encoding")


def _unique(columns: list[str]) -> Expectation:
    if len(columns) == 1:
        return Expectation("ExpectColumnValuesToBeUnique", {"column": columns[0]}, "uniqueness",
                           f"{columns[0]}: unique")
    return Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}, "uniqueness",
                       f"{'+'.join(columns)}: unique")


def _rule_column(name: str) -> str:
    return f"rule__{name}"


def _consistency(rule: dict, mostly: float) -> Expectation:
    """A cross-field rule; its own `mostly` (config/quality.yaml) replaces the default tolerance."""
    return Expectation("ExpectColumnValuesToBeInSet",
                       {"column": _rule_column(rule["name"]), "value_set": [True],
                        "mostly": float(rule.get("mostly", mostly))},
                       "consistency", rule["rule"])


def _frame(columns: list[str], rules: list[dict], schemas: dict[str, str]) -> dict[str, str]:
    """The Suite's `select` (the checked columns of the relation `t`, plus one boolean column per
    rule) and `joins` (the tables the rules read beside `t`)."""
    joins = []
    for rule in rules:
        join = rule.get("joins", "").format(**schemas)
        if join and join not in joins:
            joins.append(join)
    selected = [f't."{c}"' for c in columns]
    selected += [f"({r['expect']}) as {_rule_column(r['name'])}" for r in rules]
    return {"select": ", ".join(selected) or "1 as _row", "joins": " ".join(joins)}


def _governorate_codes(profile: Profile) -> list[str]:
    return [g["code"] for g in profile.governorates]


def source_suite(profile: Profile, contract: SourceContract, entity: EntityContract, staging_columns: set[str],
                 config: dict | None = None) -> Suite:
    """The suite of one source entity, checking its staging table `staging.stg_<source>__<entity>`."""
    config = config or load_quality_config()
    tol = config["tolerance"]
    identifiers = profile.identifiers
    expectations: list[Expectation] = []
    checked: list[str] = []

    def staging_name(col: ColumnContract) -> str | None:
        name = STAGING_RENAMES.get(col.name, col.name)
        return name if name in staging_columns else None

    for col in entity.columns:
        name = staging_name(col)
        if name is None:
            continue
        checked.append(name)
        if col.required:
            expectations.append(_not_null(name, tol["required"]))
        if col.name in STAGING_RENAMES and name == "governorate_code":
            expectations.append(_in_set(name, _governorate_codes(profile), tol["validity"], "a governorate code"))
        elif col.values and col.type == "string":
            recoded = config.get("recoded_values", {}).get(entity.table, {}).get(col.name)
            allowed = sorted(recoded or {*col.values, *(v.lower() for v in col.values)})
            expectations.append(_in_set(name, allowed, tol["validity"], "one of the contract's values"))
        if col.min is not None or col.max is not None:
            expectations.append(_between(name, col.min, col.max, tol["validity"]))
        if col.id_type and col.id_type in identifiers:
            spec = identifiers[col.id_type]
            expectations.append(_regex(name, spec["pattern"], tol["validity"], spec.get("label_en", col.id_type)))
        flag = f"{name}_is_invalid"
        if flag in staging_columns:
            checked.append(flag)
            expectations.append(_in_set(flag, [False], tol["validity"], "delivered values are usable"))
        if (col.type == "string" and col.pii in config["mojibake_pii_classes"] and not col.id_type
                and col.name not in config["mojibake_skip_columns"]):
            expectations.append(_no_mojibake(name))
    key = [STAGING_RENAMES.get(k, k) for k in entity.primary_key if STAGING_RENAMES.get(k, k) in staging_columns]
    if key:
        expectations.append(_unique(key))
    rules = list(config.get("consistency", {}).get(entity.table, []))
    expectations += [_consistency(r, tol["consistency"]) for r in rules]
    relation = f"staging.stg_{entity.table}"
    schemas = {"staging": "staging", "core": "core"}
    return Suite(
        name=entity.table, asset_key=("staging", f"stg_{entity.table}"), source=contract.source,
        severity=contract.severity, relation=relation, **_frame(list(dict.fromkeys(checked)), rules, schemas),
        expectations=tuple(expectations), key=tuple(key))


def mart_suite(profile: Profile, name: str, spec: dict, config: dict | None = None) -> Suite:
    """The suite of one core mart `core.<name>`, from config/quality.yaml."""
    config = config or load_quality_config()
    tol = config["tolerance"]
    expectations: list[Expectation] = []
    columns: list[str] = []
    for column in spec.get("required", []):
        expectations.append(_not_null(column, tol["required"]))
        columns.append(column)
    for column, values in (spec.get("values") or {}).items():
        expectations.append(_in_set(column, values, tol["validity"], "an allowed value"))
        columns.append(column)
    for column in spec.get("governorate", []):
        expectations.append(_in_set(column, _governorate_codes(profile), tol["validity"], "a governorate code"))
        columns.append(column)
    for column, (low, high) in (spec.get("ranges") or {}).items():
        expectations.append(_between(column, low, high, tol["validity"]))
        columns.append(column)
    national = profile.identifiers["national_id"]
    for column in spec.get("national_id", []):
        expectations.append(_regex(column, national["pattern"], tol["validity"], national.get("label_en", "national_id")))
        columns.append(column)
    for column in spec.get("text", []):
        expectations.append(_no_mojibake(column))
        columns.append(column)
    key = list(spec.get("key", []))
    if key:
        expectations.append(_unique(key))
    rules = list(spec.get("consistency", []))
    expectations += [_consistency(r, tol["consistency"]) for r in rules]
    relation = f"core.{name}"
    return Suite(
        name=name, asset_key=("core", name), source=None, severity=config["marts"]["severity"],
        relation=relation, **_frame(list(dict.fromkeys(columns)), rules, {"staging": "staging", "core": "core"}),
        expectations=tuple(expectations), key=tuple(key))


def staging_columns(con, entity: EntityContract) -> set[str]:
    """The columns of the entity's staging table in this warehouse (empty when it is not built)."""
    rows = con.execute("select column_name from information_schema.columns where table_schema = 'staging' "
                       "and table_name = ?", [f"stg_{entity.table}"]).fetchall()
    return {r[0] for r in rows}
