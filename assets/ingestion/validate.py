"""Row rules from a source contract, as SQL run by DuckDB over a whole staged file at once.

Each rule is a SQL condition on the staged text; a row's reason is the first failing rule in
REASONS order (within a reason, in the contract's column order), and its detail names the
column and the rule — never the value. This is the one module whose SQL uses DuckDB's own
functions for checking rows (`regexp_full_match`, `regexp_matches`, `translate`,
`try_strptime`, `trim(s, characters)`); another engine needs only this module rewritten.
"""

from __future__ import annotations

import re

from assets.profiles import ColumnContract, EntityContract

REASONS = ("encoding_mojibake", "missing_required", "invalid_type", "value_not_allowed", "out_of_range", "duplicate_key")
DIGITS_FROM, DIGITS_TO = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789"
# UTF-8 Arabic (lead bytes D8–DB) or accented Latin (C3) read as Latin-1 / Windows-1252.
MOJIBAKE = re.compile("[ØÙÚÛÃ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
TRUE = ("1", "true", "yes", "y", "t", "نعم")
FALSE = ("0", "false", "no", "n", "f", "لا")
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # what Python's str.strip() removes
_DIGIT = r"\p{Nd}"  # any decimal digit, as Python's \d
TYPE_PATTERNS = {
    "integer": rf"[+-]?{_DIGIT}+",
    "decimal": rf"[+-]?(?:{_DIGIT}+(?:\.{_DIGIT}*)?|\.{_DIGIT}+)",
    "month": rf"{_DIGIT}{{4}}-(?:0[1-9]|1[0-2])",
}
# An ISO 8601 timestamp, local or with an offset; staging dates it in the profile's time zone.
_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
# What a date format's fields look like, so that e.g. '%Y' takes four digits and no fewer.
_DATE_FIELDS = {"%Y": "[0-9]{4}", "%m": "[0-9]{1,2}", "%d": "[0-9]{1,2}", "%y": "[0-9]{2}", "%%": "%"}


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _strip(expr: str) -> str:
    """White space removed from both ends (trimming only text that starts or ends with some: fast)."""
    ws = lit(WHITESPACE)
    return f"(case when contains({ws}, {expr}[1]) or contains({ws}, {expr}[-1]) then trim({expr}, {ws}) else {expr} end)"


def _ascii_digits(expr: str) -> str:
    return (f"(case when regexp_matches({expr}, {lit('[' + DIGITS_FROM + ']')}) "
            f"then translate({expr}, {lit(DIGITS_FROM)}, {lit(DIGITS_TO)}) else {expr} end)")


def normalised(expr: str) -> str:
    """Arabic-Indic and Persian digits as ASCII, surrounding white space removed."""
    return _strip(_ascii_digits(expr))


def present(expr: str) -> str:
    return f"({expr} is not null and {_strip(expr)} <> '')"


def _date_pattern(fmt: str) -> str:
    parts = re.split(r"(%.)", fmt)
    return "".join(_DATE_FIELDS.get(p, re.escape(p)) if p.startswith("%") else re.escape(p) for p in parts if p)


def valid_date(text: str, date_formats: list[str]) -> str:
    """True when `text` (normalised) is a real date under one of the profile's formats.

    A CASE, not AND/OR: each format's pattern decides whether the (slower) date parser runs,
    and a later format is tried only on the values an earlier one did not read."""
    tries = " ".join(f"when (case when regexp_full_match({text}, {lit(_date_pattern(f))}) "
                     f"then try_strptime({text}, {lit(f)}) is not null else false end) then true" for f in date_formats)
    return f"(case {tries} else false end)" if date_formats else "false"


def valid_timestamp(text: str) -> str:
    """True when `text` (normalised) is a real ISO 8601 timestamp (a time of day, optionally a zone offset)."""
    return (f"(case when regexp_full_match({text}, {lit(_TIMESTAMP)}) "
            f"then try_cast({text} as timestamptz) is not null else false end)")


def type_ok(col: ColumnContract, text: str, date_formats: list[str]) -> str:
    """True when `text` (normalised) is a value of the column's type."""
    if col.type in TYPE_PATTERNS:
        return f"regexp_full_match({text}, {lit(TYPE_PATTERNS[col.type])})"
    if col.type == "boolean":
        return f"lower({text}) in ({', '.join(lit(v) for v in TRUE + FALSE)})"
    if col.type == "date":
        return f"({valid_date(text, date_formats)} or {valid_timestamp(text)})"
    return "true"


def _normalised_name(column: str) -> str:
    return ident(f"_normalised_{column}")


def _typed(entity: EntityContract) -> list[ColumnContract]:
    """Columns whose rules read the normalised text (computed once per row)."""
    return [c for c in entity.columns if c.on_invalid == "quarantine" and
            (c.type != "string" or c.min is not None or c.max is not None)]


def control_amount(expr: str) -> str:
    """An amount of a control-total column as a decimal (digits as ASCII, any white space
    removed); text that is no amount counts as 0."""
    spaces = "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in WHITESPACE) + "]"
    return f"coalesce(try_cast(regexp_replace({_ascii_digits(expr)}, {lit(spaces)}, '', 'g') as decimal(20, 3)), 0)"


def _rules(entity: EntityContract, date_formats: list[str]) -> list[tuple[str, str, str]]:
    """(failing condition, reason, detail) in the order a row's reason is decided."""
    rules = []
    for c in entity.columns:
        rules.append((f"_garbled and regexp_matches({ident(c.name)}, {lit(MOJIBAKE.pattern)})", "encoding_mojibake",
                      f"{c.name}: garbled text (UTF-8 read as Latin-1)"))
    for c in entity.columns:
        if c.required:
            rules.append((f"not {present(ident(c.name))}", "missing_required", f"{c.name}: required value is empty"))
    for c in entity.columns:
        if c.on_invalid != "quarantine":
            continue
        col, has = ident(c.name), present(ident(c.name))
        if c.type != "string":
            rules.append((f"{has} and not coalesce({type_ok(c, _normalised_name(c.name), date_formats)}, false)",
                          "invalid_type",
                          f"{c.name}: not a valid {c.type}"))
        if c.values:
            allowed = ", ".join(f"lower({lit(v)})" for v in c.values)
            rules.append((f"{has} and lower({_strip(col)}) not in ({allowed})", "value_not_allowed",
                          f"{c.name}: not one of the contract's values"))
        if c.min is not None or c.max is not None:
            value = f"try_cast({_normalised_name(c.name)} as double)"
            bounds = [f"{value} < {c.min}" if c.min is not None else None,
                      f"{value} > {c.max}" if c.max is not None else None]
            rules.append((f"{has} and coalesce({' or '.join(b for b in bounds if b)}, false)", "out_of_range",
                          f"{c.name}: outside [{c.min}, {c.max}]"))
    return rules


def failures_sql(entity: EntityContract, date_formats: list[str], stage: str, loaded: str) -> str:
    """SELECT `_line_number`, `_reason`, `_detail` of every staged row that breaks a rule.

    `stage` holds `_line_number` and the contract's columns as text; `loaded` is the table the
    entity's earlier files were loaded into this run: a key seen there, or earlier in this
    file, makes a row that passed every other rule a `duplicate_key`. Each row's rules run
    once (a CASE yields the first failing rule's number); only the line, the key and that
    number travel further, so wide or huge rows are never copied.
    """
    rules = _rules(entity, date_formats)
    reasons = "[" + ", ".join(lit(code) for _, code, _ in rules) + "]"
    details = "[" + ", ".join(lit(text) for _, _, text in rules) + "]"
    first = "case " + " ".join(f"when {cond} then {i}" for i, (cond, _, _) in enumerate(rules, start=1)) + " end" \
        if rules else "null"
    everything = "concat_ws(chr(31), " + ", ".join(ident(c) for c in entity.column_names) + ")"
    key = [ident(k) for k in entity.primary_key]
    normalised_columns = "".join(f", {normalised(ident(c.name))} as {_normalised_name(c.name)}" for c in _typed(entity))
    garbled = (f"select *, regexp_matches({everything}, {lit(MOJIBAKE.pattern)}) as _garbled{normalised_columns} "
               f"from {stage}")
    broken = f"select _line_number, {''.join(k + ', ' for k in key)}{first} as _rule from ({garbled})"
    if not key:
        return (f"select _line_number, {reasons}[_rule] as _reason, {details}[_rule] as _detail "
                f"from ({broken}) where _rule is not null")
    earlier = " and ".join(f"e.{k} is not distinct from r.{k}" for k in key)
    repeated = (f"_rule is null and (row_number() over (partition by _rule is null, {', '.join(key)} "
                f"order by _line_number) > 1 or exists (select 1 from {loaded} e where {earlier}))")
    text = f"{'+'.join(entity.primary_key)}: key already loaded from an earlier row"
    return (f"select _line_number, case when _repeated then 'duplicate_key' else {reasons}[_rule] end as _reason, "
            f"case when _repeated then {lit(text)} else {details}[_rule] end as _detail "
            f"from (select _line_number, _rule, {repeated} as _repeated from ({broken}) r) "
            "where _rule is not null or _repeated")


def raw_record(entity: EntityContract) -> str:
    """A quarantined row's fields as one line of text, in the contract's column order."""
    return "concat_ws(',', " + ", ".join(f"coalesce({ident(c)}, '')" for c in entity.column_names) + ")"
