"""Check digits of identifiers, declared per identifier in the profile (`check:`).

A profile's identifier may say how its last digit is computed, so a number with a digit
mistyped is recognised as invalid (null and flagged in staging, counted by the staging suite's
`<column>_is_invalid` expectation) instead of linking the wrong person:

- `luhn`: the Luhn (mod 10) algorithm, as in ISO/IEC 7812 card numbers and several national ids;
- `mod11`: weights 2, 3, 4, 5, 6, 7 (repeating) from the right over the digits before the check
  digit, check = (11 − sum mod 11) mod 11, a result of 10 is never valid;
- `none`: no check digit (only the identifier's pattern applies).

The same rules exist here in Python and as the DuckDB macro `sj_id_check_ok(s, algorithm)`
(installed with the text macros); a test checks they agree.
"""

from __future__ import annotations

from assets.errors import SijilError

CHECK_ALGORITHMS = ("none", "luhn", "mod11")


def luhn_ok(value: str) -> bool:
    if not value.isdigit() or len(value) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d >= 5 else d * 2
        total += d
    return total % 10 == 0


def mod11_ok(value: str) -> bool:
    if not value.isdigit() or len(value) < 2:
        return False
    payload, check = value[:-1], int(value[-1])
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(payload)))
    return (11 - total % 11) % 11 == check


def check_digit_ok(value: str | None, algorithm: str) -> bool | None:
    """Whether `value` carries a right check digit under `algorithm` (None for no value)."""
    if value is None:
        return None
    if algorithm == "none":
        return True
    if algorithm == "luhn":
        return luhn_ok(value)
    if algorithm == "mod11":
        return mod11_ok(value)
    raise SijilError(f"unknown check-digit algorithm {algorithm!r} (known: {', '.join(CHECK_ALGORITHMS)})")


def identifier_check(identifiers: dict, id_type: str) -> str:
    """The check-digit algorithm a profile declares for `id_type` ('none' when it declares none)."""
    algorithm = str((identifiers.get(id_type) or {}).get("check", "none"))
    if algorithm not in CHECK_ALGORITHMS:
        raise SijilError(f"identifier {id_type!r}: check {algorithm!r} is not one of {', '.join(CHECK_ALGORITHMS)}")
    return algorithm


# The DuckDB macro: the same rules over a string of digits (null for null).
CHECK_MACRO_SQL = """create or replace macro sj_id_check_ok(s, algorithm) as (
    case
        when s is null then null
        when algorithm = 'none' then true
        when not regexp_full_match(s, '[0-9]{2,}') then false
        when algorithm = 'luhn' then list_sum(list_transform(range(length(s)), lambda i:
                 case when i % 2 = 1
                      then 2 * cast(s[length(s) - i] as integer) - case when cast(s[length(s) - i] as integer) >= 5 then 9 else 0 end
                      else cast(s[length(s) - i] as integer) end)) % 10 = 0
        when algorithm = 'mod11' then (11 - list_sum(list_transform(range(1, length(s)), lambda i:
                 cast(s[length(s) - i] as integer) * (2 + (i - 1) % 6))) % 11) % 11 = cast(s[length(s)] as integer)
        else error('unknown check-digit algorithm ' || algorithm)
    end)"""
