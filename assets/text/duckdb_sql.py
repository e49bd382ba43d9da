"""The rules of `assets.text.arabic`, rendered as DuckDB SQL macros from the same tables.

Installed on every dbt connection by the dbt-duckdb plugin (`duckdb_plugin.py`) and on any
other connection by `install_text_macros(con)`. Macros:

- ``sj_digits(s)``: Arabic-Indic and Persian digits to ASCII;
- ``sj_norm_name(s)``, ``sj_translit(s)``, ``sj_skeleton(s)``, ``sj_loose_skeleton(k)``: as the Python functions;
- ``sj_name_part(full_name, i)``: part i (1 first, 2 father, 3 grandfather, 4 family), of a name
  written family name first before one comma in its usual order (``sj_family_last``);
- ``sj_clean_id(s, pattern)`` (null when it breaks the pattern or is one digit repeated),
  ``sj_clean_phone(s, country_code, pattern)``;
- ``sj_place(s)``: a place (address, locality, governorate) as ASCII text, normalised like a
  name and transliterated, for comparing (DuckDB's string distances count bytes);
  ``sj_place_key(s)``: its loose consonant skeleton, which meets across scripts (Irbid, إربد);
- ``sj_postcode(s)``: a postal code's letters and digits, upper case.
"""

from __future__ import annotations

from assets.text import arabic as ar
from assets.text.check_digits import CHECK_MACRO_SQL


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _translate(expr: str, mapping: dict[str, str]) -> str:
    """translate() for a one-to-one-or-none mapping (deleted characters go last)."""
    keep = [(k, v) for k, v in mapping.items() if v]
    drop = [k for k, v in mapping.items() if not v]
    if any(len(v) != 1 for _, v in keep):
        raise ValueError("translate() maps one character to one")
    return f"translate({expr}, {_lit(''.join(k for k, _ in keep) + ''.join(drop))}, {_lit(''.join(v for _, v in keep))})"


def _repeat(expr: str, pattern: str, replacement: str) -> str:
    for _ in range(ar.PASSES):
        expr = f"regexp_replace({expr}, {_lit(pattern)}, {_lit(replacement)}, 'g')"
    return expr


def _re2_class(chars: str) -> str:
    """The RE2 form of arabic.char_class(chars): the same set, as \\x{...} escapes."""
    return "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in chars) + "]"


def norm_name_sql(arg: str = "s") -> str:
    unfolded = arg
    for ligature, letters in ar.PRESENTATION_MULTI.items():
        unfolded = f"replace({unfolded}, {_lit(ligature)}, {_lit(letters)})"
    unfolded = _translate(unfolded, ar.PRESENTATION_SINGLE)
    expr = f"(case when regexp_matches({arg}, {_lit(_re2_class(ar.PRESENTATION_CHARS))}) then {unfolded} else {arg} end)"
    expr = f"translate({expr}, {_lit(ar.DIGITS_FROM)}, {_lit(ar.DIGITS_TO)})"
    expr = f"regexp_replace({expr}, {_lit(_re2_class(ar.REMOVED))}, '', 'g')"
    expr = _translate(expr, ar.LETTER_FOLDS)
    for letter, pair in ar.LATIN_PAIRS.items():
        expr = f"replace({expr}, {_lit(letter)}, {_lit(pair)})"
    expr = f"lower(regexp_replace({expr}, {_lit(_re2_class(ar.PUNCTUATION))}, ' ', 'g'))"
    expr = f"' ' || trim(regexp_replace({expr}, {_lit(ar.SPACES_PATTERN)}, ' ', 'g')) || ' '"
    expr = _repeat(expr, ar.TITLE_PATTERN, " ")
    expr = _repeat(expr, ar.CONNECTOR_PATTERN, " ")
    expr = _repeat(expr, ar.JOIN_PATTERN, " \\1\\2")
    return f"nullif(trim({expr}), '')"


def skeleton_sql(arg: str = "s") -> str:
    expr = f"trim(regexp_replace(' ' || sj_norm_name({arg}), {_lit(ar.ARTICLE_PATTERN)}, ' \\2', 'g'))"
    expr = f"regexp_replace({expr}, {_lit(ar.COMPOUND_ARTICLE_PATTERN)}, '\\1\\2\\4', 'g')"
    for digraph, code in ar.SKELETON_DIGRAPHS:
        expr = f"replace({expr}, {_lit(digraph)}, {_lit(code)})"
    multi = {k: v for k, v in ar.SKELETON_LETTERS.items() if len(v) > 1}
    for k, v in multi.items():
        expr = f"replace({expr}, {_lit(k)}, {_lit(v)})"
    expr = _translate(expr, {k: v for k, v in ar.SKELETON_LETTERS.items() if k not in multi})
    expr = f"regexp_replace({expr}, {_lit(ar.FINAL_H_PATTERN)}, '\\1\\2', 'g')"
    expr = f"regexp_replace({expr}, '[^A-Za-z]', '', 'g')"
    for letter in ar.SKELETON_ALPHABET:
        expr = f"regexp_replace({expr}, '{letter}{letter}+', '{letter}', 'g')"
    return f"nullif({expr}, '')"


def loose_skeleton_sql(arg: str = "k") -> str:
    """arabic.loose_skeleton of a skeleton expression."""
    expr = _translate(arg, ar.LOOSE_FOLDS)
    for letter in sorted(set(ar.SKELETON_ALPHABET) - set(ar.LOOSE_FOLDS)):
        expr = f"regexp_replace({expr}, '{letter}{letter}+', '{letter}', 'g')"
    return f"nullif({expr}, '')"


_CLEAN_ID = "upper(regexp_replace(sj_digits(s), '[\\s\\-./]', '', 'g'))"  # arabic.clean_identifier's cleaning


def macros_sql() -> list[str]:
    """CREATE MACRO statements, in dependency order."""
    return [
        f"create or replace macro sj_digits(s) as translate(s, {_lit(ar.DIGITS_FROM)}, {_lit(ar.DIGITS_TO)})",
        f"create or replace macro sj_norm_name(s) as {norm_name_sql('s')}",
        "create or replace macro sj_translit(s) as "
        + _translate("sj_norm_name(s)", ar.TRANSLIT),
        f"create or replace macro sj_skeleton(s) as {skeleton_sql('s')}",
        f"create or replace macro sj_loose_skeleton(k) as {loose_skeleton_sql('k')}",
        # a full name written family name first, before one comma, in its usual order (arabic.FAMILY_FIRST_PATTERN)
        f"create or replace macro sj_family_last(full_name) as "
        f"regexp_replace(full_name, {_lit(ar.FAMILY_FIRST_PATTERN)}, {_lit(ar.FAMILY_FIRST_ORDER)})",
        # part i of a name's words (1 first, 2 father, 3 grandfather, 4 family; arabic.name_parts)
        """create or replace macro sj_word_part(words, i) as (
            case when i = 1 then words[1]
                 when i = 4 then case when len(words) >= 2 then words[-1] end
                 when i = 2 then case when len(words) >= 3 then words[2] end
                 when i = 3 then case when len(words) >= 4 then words[3] end
            end)""",
        "create or replace macro sj_name_part(full_name, i) as "
        "sj_word_part(string_split(sj_norm_name(sj_family_last(full_name)), ' '), i)",
        # an identifier of one digit (or letter) repeated ('0000000000') is a form's default, no one's
        f"""create or replace macro sj_clean_id(s, pattern) as (
            case when regexp_full_match({_CLEAN_ID}, pattern) and length(replace({_CLEAN_ID}, left({_CLEAN_ID}, 1), '')) > 0
                 then {_CLEAN_ID} end)""",
        """create or replace macro sj_clean_phone(s, country_code, pattern) as (
            with d as (select regexp_replace(sj_digits(s), '[^0-9]', '', 'g') as v)
            select case when regexp_full_match(p, pattern) then p end from (
                select case
                    when starts_with(v, '00' || country_code) then '0' || v[3 + len(country_code):]
                    when starts_with(v, country_code) then '0' || v[1 + len(country_code):]
                    when not starts_with(v, '0') then '0' || v
                    else v end as p
                from d))""",
        "create or replace macro sj_place(s) as nullif(sj_translit(sj_norm_name(s)), '')",
        "create or replace macro sj_place_key(s) as nullif(sj_loose_skeleton(sj_skeleton(sj_norm_name(s))), '')",
        "create or replace macro sj_postcode(s) as nullif(upper(regexp_replace(sj_digits(s), '[^0-9A-Za-z]', '', 'g')), '')",
        CHECK_MACRO_SQL,
    ]


def install_text_macros(con, temporary: bool = False) -> None:
    """Create (or replace) Sijil's text macros on a DuckDB connection.

    They are stored in the database (so its views, and dbt's SQL, work in any DuckDB client);
    `temporary=True` keeps them to this connection, for read-only connections."""
    for statement in macros_sql():
        con.execute(statement.replace("create or replace macro", "create or replace temp macro") if temporary else statement)
