"""The errors agencies' data really has, applied to a chosen share of a column's values.

Each function takes a pandas Series, a random generator and a rate, and returns a new Series
where about `rate` of the values carry that kind of error. Only the affected values are
touched, so the cost stays proportional to the errors, not to the population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_DIACRITICS = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652"]
_ARABIC_LETTERS = list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")


def _pick(values: pd.Series, rng: np.random.Generator, rate: float) -> np.ndarray:
    present = values.notna().to_numpy() & (values.astype(str).str.len().to_numpy() > 0)
    return present & (rng.random(len(values)) < rate)


def _apply(values: pd.Series, mask: np.ndarray, fn) -> pd.Series:
    out = values.copy()
    if mask.any():
        out.loc[mask] = [fn(v) for v in values[mask]]
    return out


def spelling_variants(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """Orthographic variants of Arabic names: hamza/alef forms, taa marbuta, alef maqsura,
    tatweel, diacritics, split or joined 'عبد' compounds, a dropped article."""

    def vary(name: str) -> str:
        kind = int(rng.integers(8))
        if kind == 0:
            return name.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
        if kind == 1:
            return name.replace("ة", "ه")
        if kind == 2:
            return name.replace("ى", "ي")
        if kind == 3 and len(name) > 2:
            i = int(rng.integers(1, len(name) - 1))
            return name[:i] + "ـ" * int(rng.integers(1, 4)) + name[i:] if name[i - 1] != " " and name[i] != " " else name
        if kind == 4:
            return "".join(c + (_DIACRITICS[int(rng.integers(5))] if rng.random() < 0.3 and c != " " else "") for c in name)
        if kind == 5:
            return name.replace("عبد ", "عبد") if "عبد " in name else name.replace("عبد", "عبد ")
        if kind == 6 and name.startswith("ال"):
            return name[2:]
        if kind == 7:
            return name.replace("ا", "أ", 1) if name.startswith("ا") else name.replace("ؤ", "و").replace("ئ", "ي")
        return name

    return _apply(values, _pick(values, rng, rate), vary)


def typos(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """One keyboard slip per affected value: a letter dropped, doubled, swapped or replaced."""

    def slip(text: str) -> str:
        if len(text) < 3:
            return text
        i = int(rng.integers(1, len(text) - 1))
        kind = int(rng.integers(4))
        if kind == 0:
            return text[:i] + text[i + 1:]
        if kind == 1:
            return text[:i] + text[i] + text[i:]
        if kind == 2:
            return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]
        letters = _ARABIC_LETTERS if any("\u0600" <= c <= "\u06ff" for c in text) else list("abcdefghijklmnoprstuy")
        return text[:i] + letters[int(rng.integers(len(letters)))] + text[i + 1:]

    return _apply(values, _pick(values, rng, rate), slip)


def blank(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """Missing values (a middle name not captured, an ID not asked for)."""
    out = values.copy()
    out[_pick(values, rng, rate)] = None
    return out


def digit_typo(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """One mistyped digit in an identifier."""

    def slip(text: str) -> str:
        i = int(rng.integers(len(text)))
        return text[:i] + str((int(text[i]) + int(rng.integers(1, 10))) % 10) + text[i + 1:] if text[i].isdigit() else text

    return _apply(values, _pick(values, rng, rate), slip)


def arabic_indic_digits(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """Digits typed on an Arabic keyboard (٠١٢٣٤٥٦٧٨٩)."""
    return _apply(values, _pick(values, rng, rate), lambda t: t.translate(ARABIC_INDIC))


def phone_formats(values: pd.Series, rng: np.random.Generator, rate: float) -> pd.Series:
    """International and spaced forms of a national mobile number (07 and eight digits)."""
    forms = [lambda p: "+962" + p[1:], lambda p: "00962" + p[1:], lambda p: "962" + p[1:],
             lambda p: p[:3] + " " + p[3:6] + " " + p[6:], lambda p: p[1:]]
    return _apply(values, _pick(values, rng, rate), lambda p: forms[int(rng.integers(len(forms)))](p))


def format_dates(dates: pd.Series, rng: np.random.Generator, formats: dict[str, float],
                 swap_rate: float = 0.0) -> pd.Series:
    """Render dates as text, each row in one of `formats` (strftime → share), with some
    day and month swapped (only where the swap is still a real date)."""
    ts = pd.to_datetime(dates, errors="coerce")
    swap = (rng.random(len(ts)) < swap_rate) & ts.notna().to_numpy() & (ts.dt.day <= 12).to_numpy()
    if swap.any():
        swapped = pd.to_datetime(dict(year=ts.dt.year[swap], month=ts.dt.day[swap], day=ts.dt.month[swap]), errors="coerce")
        ts = ts.copy()
        ts[swap] = swapped
    names = list(formats)
    probs = np.array(list(formats.values()), dtype=float)
    choice = rng.choice(len(names), size=len(ts), p=probs / probs.sum())
    out = pd.Series(None, index=dates.index, dtype=object)
    for i, fmt in enumerate(names):
        mask = (choice == i) & ts.notna().to_numpy()
        if mask.any():
            out[mask] = ts[mask].dt.strftime(fmt)
    return out
