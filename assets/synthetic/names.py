"""Four-part Arabic names: frequency tables from the profile and Latin romanisation.

Romanisation imitates registration offices: frequent names by their customary spellings,
other names letter by letter with the conventions that vary between clerks (q/k, th/s, dh/z,
w/o/ou, y/i/ee, taa marbuta a/ah/eh, the article Al-/El/Al).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Letter → possible Latin renderings (first is the most common).
_LATIN = {
    "ا": ["a"], "أ": ["a"], "إ": ["i", "e"], "آ": ["a", "aa"], "ء": [""], "ؤ": ["o", "u"],
    "ئ": ["e", "i"], "ب": ["b"], "ت": ["t"], "ث": ["th", "s"], "ج": ["j", "g"], "ح": ["h"],
    "خ": ["kh"], "د": ["d"], "ذ": ["th", "dh", "z"], "ر": ["r"], "ز": ["z"], "س": ["s"],
    "ش": ["sh"], "ص": ["s"], "ض": ["d", "dh"], "ط": ["t"], "ظ": ["z", "dh"], "ع": ["a", "", "'"],
    "غ": ["gh"], "ف": ["f"], "ق": ["q", "k"], "ك": ["k"], "ل": ["l"], "م": ["m"], "ن": ["n"],
    "ه": ["h"], "ة": ["a", "ah", "eh"], "و": ["w", "o", "ou", "u"], "ي": ["y", "i", "ee"],
    "ى": ["a"],
}
_VOWELS = np.array(["a", "a", "a", "e", "o", "i", "u"])
_LONG = set("اوي")


def romanise(name: str, rng: np.random.Generator, variants: dict[str, list[str]]) -> str:
    """One clerk's Latin spelling of an Arabic name (customary variants first)."""
    if name in variants:
        options = variants[name]
        return options[int(rng.integers(len(options)))]
    words = []
    for word in name.split():
        prefix = ""
        if word.startswith("ال") and len(word) > 3:
            prefix = ["Al-", "Al ", "El ", "Al", "El-"][int(rng.integers(5))]
            word = word[2:]
        out = []
        prev_consonant = False
        for i, ch in enumerate(word):
            options = _LATIN.get(ch, [""])
            piece = options[int(rng.integers(len(options)))] if len(options) > 1 and rng.random() < 0.35 else options[0]
            consonant = ch not in _LONG and ch not in "ةعءأإآى"
            if prev_consonant and consonant and i > 0:
                out.append(str(_VOWELS[int(rng.integers(len(_VOWELS)))]))
            out.append(piece)
            prev_consonant = consonant
        text = "".join(out)
        words.append(prefix + text[:1].upper() + text[1:])
    return " ".join(words)


class NameSampler:
    """Draws first and family names with the profile's heavy-tailed frequencies."""

    def __init__(self, rules: dict, rng: np.random.Generator):
        self.rng = rng
        self.variants = rules.get("latin_variants", {})
        self._tables = {
            key: (np.array(list(rules[key])), np.array(list(rules[key].values()), dtype=float))
            for key in ("male_first_names", "female_first_names", "family_names")
        }
        for key, (_, weights) in self._tables.items():
            weights /= weights.sum()

    def draw(self, key: str, n: int) -> np.ndarray:
        names, weights = self._tables[key]
        return names[self.rng.choice(len(names), size=n, p=weights)]

    def first_names(self, sex: np.ndarray) -> np.ndarray:
        out = np.empty(len(sex), dtype=object)
        male = sex == "M"
        out[male] = self.draw("male_first_names", int(male.sum()))
        out[~male] = self.draw("female_first_names", int((~male).sum()))
        return out

    def romanise(self, names: pd.Series) -> pd.Series:
        """Latin spellings of a column of Arabic names (one clerk's choice per record)."""
        return pd.Series([romanise(n, self.rng, self.variants) if isinstance(n, str) and n else n
                          for n in names], index=names.index, dtype=object)
