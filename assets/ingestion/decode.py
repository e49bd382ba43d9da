"""Which text encoding a file is in: detected from its bytes, never guessed silently.

Order: a byte-order mark (UTF-8, UTF-16), then strict UTF-8, then Windows-1256 (the common
Arabic Windows encoding) when the decoded text is plausible Arabic text (Arabic words, not
Arabic letters inside Latin words), then Windows-1252 (the Western European one, a superset of
Latin-1: Latin-script lists, 'José Müller') when every character beyond ASCII is a Latin letter
or common punctuation, and some sit inside Latin words. Anything else is an error that names
the file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from assets.errors import SijilError

SAMPLE_BYTES = 4 * 1024 * 1024
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]{2,}")
# An Arabic letter against a Latin one: Latin text read as Windows-1256 ('Straße' as 'Straكe').
_ARABIC_IN_LATIN = re.compile("[A-Za-z][\u0600-\u06ff]|[\u0600-\u06ff][A-Za-z]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u0080-\u009f]")
# Windows-1252's letters beyond ASCII (accented Latin, ß, þ, œ, š, ž, ÿ) and its punctuation.
_LATIN_LETTERS = "À-ÖØ-öø-ÿŒœŠšŽžŸƒ"
_LATIN_WORD = re.compile(f"[A-Za-z][{_LATIN_LETTERS}]|[{_LATIN_LETTERS}][A-Za-z]")
_NOT_LATIN_TEXT = re.compile(f"[^\x00-\x7f{_LATIN_LETTERS}‘’‚“”„–—…€£¥§°·×÷«»¡¿ªº´¨©®±²³µ¶¹¼½¾†‡•‰‹›™¢¤¦¬¯¸]")


def _valid_throughout(path: Path, encoding: str, skip: int = 0) -> bool:
    """Decode the whole file incrementally (bounded memory) and say whether it is valid."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(path, "rb") as fh:
        fh.seek(skip)
        try:
            while chunk := fh.read(SAMPLE_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _plausibly_arabic(text: str) -> bool:
    """Arabic words (two letters or more), and Arabic letters within Latin words at most once per
    ten of them: Latin text read as Windows-1256 puts single Arabic letters inside Latin words."""
    words = len(_ARABIC_WORD.findall(text))
    return words > 0 and len(_ARABIC_IN_LATIN.findall(text)) * 10 <= words


def detect_encoding(path: Path) -> str:
    """The Python codec name to read `path` with (BOM-aware: 'utf-8-sig', 'utf-16')."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        if _valid_throughout(path, "utf-8", skip=3):
            return "utf-8-sig"
        raise SijilError(f"{path.name}: starts with a UTF-8 byte-order mark but is not valid UTF-8")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _valid_throughout(path, "utf-16"):
            return "utf-16"
        raise SijilError(f"{path.name}: starts with a UTF-16 byte-order mark but is not valid UTF-16")
    if b"\x00" in head[:4096]:
        raise SijilError(f"{path.name}: contains NUL bytes without a UTF-16 byte-order mark; "
                         "not a text file Sijil can read")
    if _valid_throughout(path, "utf-8"):
        return "utf-8"
    text = head.decode("cp1256", errors="replace")
    if "\ufffd" not in text and _plausibly_arabic(text) and not _CONTROL.search(text) and _valid_throughout(path, "cp1256"):
        return "cp1256"
    text = head.decode("cp1252", errors="replace")
    if ("\ufffd" not in text and not _CONTROL.search(text) and not _NOT_LATIN_TEXT.search(text)
            and _LATIN_WORD.search(text) and _valid_throughout(path, "cp1252")):
        return "cp1252"
    raise SijilError(f"{path.name}: not valid UTF-8, UTF-16, Windows-1256 Arabic or Windows-1252 Latin text; "
                     "ask the agency to export as UTF-8")
