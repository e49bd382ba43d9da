"""Name normalisation for matching, in Arabic and Latin script (see reference/arabic_names.md).

The rules are data (the tables and patterns below) applied by pure functions; the DuckDB
macros in `assets.text.duckdb_sql` are rendered from the same tables, and a test checks that
both give the same answer. Keep the source text for display; match on these forms.

- `normalize_name`: one spelling per name, in these steps: presentation forms unfolded,
  digits to ASCII, marks and tatweel removed, letter variants folded (alef/hamza forms, taa marbuta, alef
  maqsura, Persian and Kurdish letters; Latin letters' diacritics, and ß, æ, œ, þ, ĳ to their
  ASCII pairs), lower-case Latin, punctuation to spaces, titles and
  the connector 'بن'/'ibn' dropped, compounds joined ('عبد الله' → 'عبدالله', 'al khatib' →
  'alkhatib').
- `transliterate`: the normalised name with each Arabic letter mapped 1:1 to ASCII, so string
  distances (which DuckDB counts in bytes) compare letters.
- `skeleton`: a consonant key shared by both scripts: 'محمد', 'Mohammad', 'Muhammad' and
  'Mohamed' all give 'mhmd' (and 'محمود', 'Mahmoud' give 'mhmWd'); 'الخطيب', 'Al-Khatib' and
  'Elkhatib' give 'Xtb'; the article inside a compound goes too ('عبد الرحيم', 'Abdel Rahim',
  'Abid Alrahim' give 'bdrhm').
- `loose_skeleton`: a skeleton with the letters romanisations disagree on folded together
  (the long vowel و written o/u/ou; ث ذ ض ظ written th/dh/s/z/d; ج written j or g), the
  meeting point of an Arabic name and a clerk's Latin spelling of it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# ---------------------------------------------------------------- rules as data
DIGITS_FROM = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"
DIGITS_TO = "01234567890123456789"

# Removed outright: diacritics (tashkeel), superscript alef, tatweel, zero-width and bidi marks, BOM.
REMOVED = ("".join(chr(c) for c in range(0x064B, 0x0653)) + "\u0670\u0640"
           + "".join(chr(c) for c in range(0x200B, 0x2010)) + "".join(chr(c) for c in range(0x202A, 0x202F))
           + "".join(chr(c) for c in range(0x2066, 0x206A)) + "\ufeff")

def _latin_folds() -> dict[str, str]:
    """Latin letters with a diacritic → the ASCII letter under it ('é' → 'e', 'Ü' → 'U', 'ş' → 's'),
    from Unicode's own decompositions, and the few that have none ('ø', 'ł', 'đ', 'ı')."""
    folds = {}
    for code in range(0x00C0, 0x0250):
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch and base.isascii() and base.isalpha():
            folds[ch] = base
    return folds | {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i"}


# Latin letters written as two in ASCII ('Weiß' and 'Weiss', 'Cœur' and 'Coeur' are one
# spelling): Unicode gives them no decomposition, so each is unfolded to its ASCII pair.
LATIN_PAIRS = {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH",
               "ĳ": "ij", "Ĳ": "IJ"}

# Letter folds (one character to one, or to nothing): Arabic letter variants, and Latin letters'
# diacritics ('José Müller' and 'Jose Muller' are one spelling; the transliteration stays ASCII).
LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي", "ء": "",
    "ی": "ي", "ي": "ي", "ک": "ك", "ە": "ه", "ۀ": "ه", "ھ": "ه", "پ": "ب", "چ": "ج", "ژ": "ز", "ڤ": "ف", "گ": "ك",
} | _latin_folds()


def _presentation_forms() -> tuple[dict[str, str], dict[str, str]]:
    """Arabic presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFC) unfolded by NFKC: single
    letters for a translate table; of the ligatures, those a keyboard produces in names
    (lam-alef ﻻ ﻷ ﻹ ﻵ and the word Allah ﷲ)."""
    single, multi = {}, {}
    for cp in itertools.chain(range(0xFB50, 0xFE00), range(0xFE70, 0xFEFD)):
        ch = chr(cp)
        if unicodedata.category(ch) == "Cn":
            continue
        folded = unicodedata.normalize("NFKC", ch).strip()
        if not folded or folded == ch:
            continue
        if len(folded) == 1:
            single[ch] = folded
        elif 0xFEF5 <= cp <= 0xFEFC or cp == 0xFDF2:
            multi[ch] = folded
    return single, multi


PRESENTATION_SINGLE, PRESENTATION_MULTI = _presentation_forms()
PRESENTATION_CHARS = "".join(chr(c) for c in itertools.chain(range(0xFB50, 0xFE00), range(0xFE70, 0xFEFD)))

# Characters that separate name parts.
PUNCTUATION = "-_.,;:'\"`()[]{}/\\|+*&^%$#@!?~<>=،؛؟«»"

TITLES = ("الحاج", "الحاجه", "حاج", "السيد", "السيده", "الشيخ", "الدكتور", "الدكتوره", "د", "المرحوم",
          "المرحومه", "المهندس", "mr", "mrs", "ms", "dr", "sheikh", "shaikh", "haj", "hajj", "hajji", "eng")
CONNECTORS = ("بن", "ابن", "bin", "ben", "ibn")
# A prefix that belongs to the following word: 'عبد الله', 'أبو غليون', 'بني هاني', 'al khatib'.
JOINED_PREFIXES = ("عبد", "ابو", "بني", "ال", "abd", "abdul", "abdel", "abdal", "abu", "abou", "bani", "beni", "al", "el")

# Arabic letter → one ASCII character (Buckwalter-like, upper-case and symbols so it cannot
# be mistaken for Latin text).
TRANSLIT = {
    "ا": "A", "ب": "b", "ت": "t", "ث": "v", "ج": "j", "ح": "H", "خ": "x", "د": "d", "ذ": "V", "ر": "r",
    "ز": "z", "س": "s", "ش": "$", "ص": "S", "ض": "D", "ط": "T", "ظ": "Z", "ع": "E", "غ": "g", "ف": "f",
    "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "w", "ي": "y",
}

# Consonant skeleton, shared by both scripts. Latin digraphs first, then single letters.
# 'ou'/'oo' write the long vowel و (Mahmoud, Yousef), which the skeleton keeps as w so that
# محمد and محمود stay apart.
SKELETON_DIGRAPHS = (("kh", "X"), ("sh", "C"), ("ch", "C"), ("th", "t"), ("dh", "z"), ("gh", "g"), ("ph", "f"),
                     ("ck", "k"), ("ou", "W"), ("oo", "W"))
SKELETON_LETTERS = {
    # Arabic
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "X", "د": "d", "ذ": "z", "ر": "r", "ز": "z",
    "س": "s", "ش": "C", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "g", "ف": "f", "ق": "k",
    "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "W", "ي": "", "ا": "",
    # Latin: vowels and semivowels go; q/c/k meet, p/b and v/f meet.
    "a": "", "e": "", "i": "", "o": "", "u": "", "y": "", "w": "W", "q": "k", "c": "k", "p": "b", "v": "f", "x": "ks",
}

# ---------------------------------------------------------------- patterns (RE2- and Python-compatible)
_alt = "|".join
TITLE_PATTERN = f" ({_alt(TITLES)}) "
CONNECTOR_PATTERN = f" ({_alt(CONNECTORS)}) "
JOIN_PATTERN = f" ({_alt(sorted(JOINED_PREFIXES, key=len, reverse=True))}) (\\S)"
# A full name written family name first, before its one comma, as in a list sorted by family
# name ('Khatib, Mohammad Ahmad', 'الخطيب، محمد أحمد'): FAMILY_FIRST_ORDER puts it last.
FAMILY_FIRST_PATTERN = r"^\s*([^,،]+?)\s*[,،]\s*([^,،]+?)\s*$"
FAMILY_FIRST_ORDER = r"\2 \1"
ARTICLE_PATTERN = " (ال|al|el)(\\S{3,})"
# The article after a compound's first word: 'عبدالرحمن', 'abdulrahman', 'abdel rahman' → 'عبدرحمن', 'abdrahman'.
COMPOUND_ARTICLE_PATTERN = "(^| )(عبد|ابو|بني|abd|abu|abou|bani|beni)(ال|al|el|ul|ol)(\\S{2,})"
# A final h (taa marbuta, Latin -ah/-eh) goes, unless it is all that is left (يحيى, Yahya → h).
FINAL_H_PATTERN = "(\\S)h( |$)"
SPACES_PATTERN = "\\s+"


# Letters a skeleton can hold after its translation; repeats of these are collapsed.
SKELETON_ALPHABET = "bdfghjklmnrstzXCW"
# Loose skeleton: skeleton letters folded where romanisations of one Arabic letter differ.
LOOSE_FOLDS = {"W": "", "d": "t", "z": "t", "j": "g"}
PASSES = 2  # space-delimited patterns are applied twice, so adjacent matches are all caught


def _table(pairs: dict[str, str]) -> dict[int, str | None]:
    return {ord(k): (v if v else None) for k, v in pairs.items()}


def char_class(chars: str) -> str:
    """A regex character class of exactly `chars` (Python syntax; see duckdb_sql for RE2)."""
    return "[" + "".join(re.escape(c) for c in chars) + "]"


_DIGITS = str.maketrans(DIGITS_FROM, DIGITS_TO)
_PRESENTATION = str.maketrans(PRESENTATION_SINGLE)
_LETTERS = str.maketrans(_table(LETTER_FOLDS) | {ord(k): v for k, v in LATIN_PAIRS.items()})
_PRESENTATION_RE = re.compile(char_class(PRESENTATION_CHARS))
_REMOVED_RE = re.compile(char_class(REMOVED))
_PUNCTUATION_RE = re.compile(char_class(PUNCTUATION))
_TRANSLIT = str.maketrans(TRANSLIT)
_SKELETON = str.maketrans(_table(SKELETON_LETTERS))
_LOOSE = str.maketrans(_table(LOOSE_FOLDS))


def _repeat(pattern: str, replacement: str, text: str) -> str:
    for _ in range(PASSES):
        text = re.sub(pattern, replacement, text)
    return text


# ---------------------------------------------------------------- functions
def to_ascii_digits(text: str | None) -> str | None:
    return None if text is None else text.translate(_DIGITS)


def normalize_name(text: str | None) -> str | None:
    """The matching form of a name (Arabic or Latin); None for empty input."""
    if text is None:
        return None
    if _PRESENTATION_RE.search(text):
        for ligature, letters in PRESENTATION_MULTI.items():
            text = text.replace(ligature, letters)
        text = text.translate(_PRESENTATION)
    text = _REMOVED_RE.sub("", text.translate(_DIGITS)).translate(_LETTERS)
    text = _PUNCTUATION_RE.sub(" ", text).lower()
    text = " " + re.sub(SPACES_PATTERN, " ", text).strip() + " "
    text = _repeat(TITLE_PATTERN, " ", text)
    text = _repeat(CONNECTOR_PATTERN, " ", text)
    text = _repeat(JOIN_PATTERN, r" \1\2", text)
    text = text.strip()
    return text or None


def transliterate(text: str | None) -> str | None:
    """Normalised name with Arabic letters mapped 1:1 to ASCII (Latin passes through)."""
    norm = normalize_name(text)
    return None if norm is None else norm.translate(_TRANSLIT)


def skeleton(text: str | None) -> str | None:
    """Consonant skeleton of a name in either script (spaces removed, repeats collapsed)."""
    norm = normalize_name(text)
    if norm is None:
        return None
    s = re.sub(ARTICLE_PATTERN, r" \2", " " + norm).strip()
    s = re.sub(COMPOUND_ARTICLE_PATTERN, r"\1\2\4", s)
    for digraph, code in SKELETON_DIGRAPHS:
        s = s.replace(digraph, code)
    s = s.translate(_SKELETON)
    s = re.sub(FINAL_H_PATTERN, r"\1\2", s)
    s = re.sub("[^A-Za-z]", "", s)
    s = "".join(ch if ch in SKELETON_ALPHABET else "".join(g) for ch, g in itertools.groupby(s))
    return s or None


def loose_skeleton(key: str | None) -> str | None:
    """A skeleton (from `skeleton`) with LOOSE_FOLDS applied and repeats collapsed."""
    if key is None:
        return None
    s = key.translate(_LOOSE)
    s = "".join(ch for ch, _ in itertools.groupby(s))
    return s or None


def name_parts(full_name: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(first, father, grandfather, family) of a normalised full name: the first word, the
    last word, and the middle words in order when there are enough of them. A name written
    family name first before one comma is read in its usual order (FAMILY_FIRST_PATTERN)."""
    norm = normalize_name(None if full_name is None else re.sub(FAMILY_FIRST_PATTERN, FAMILY_FIRST_ORDER, full_name))
    if norm is None:
        return (None, None, None, None)
    words = norm.split(" ")
    first = words[0]
    family = words[-1] if len(words) >= 2 else None
    father = words[1] if len(words) >= 3 else None
    grandfather = words[2] if len(words) >= 4 else None
    return (first, father, grandfather, family)


def clean_identifier(text: str | None, pattern: str) -> str | None:
    """An identifier with ASCII digits and no separators, or None when it breaks `pattern` or is
    one digit repeated ('0000000000': a form's default, no one's number)."""
    if text is None:
        return None
    value = re.sub(r"[\s\-./]", "", text.translate(_DIGITS)).upper()
    return value if re.fullmatch(pattern, value) and len(set(value)) > 1 else None


def clean_phone(text: str | None, country_code: str, pattern: str) -> str | None:
    """A mobile number in national form (such as 07 and eight digits), or None when it is not one."""
    if text is None:
        return None
    digits = re.sub("[^0-9]", "", text.translate(_DIGITS))
    if digits.startswith("00" + country_code):
        digits = "0" + digits[2 + len(country_code):]
    elif digits.startswith(country_code):
        digits = "0" + digits[len(country_code):]
    elif not digits.startswith("0"):
        digits = "0" + digits
    return digits if re.fullmatch(pattern, digits) else None
