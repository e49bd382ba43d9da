"""Which text encoding a file is in: detected from its bytes, never guessed silently.

Order: a byte-order mark (UTF-8, UTF-16), then strict UTF-8, then Windows-1256 (the common
Arabic Windows encoding) when the decoded text is plausible Arabic text. Anything else is
an error that names the file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from assets.errors import SijilError

SAMPLE_BYTES = 4 * 1024 * 1024
_ARABIC = re.compile("[\u0600-\u06ff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u0080-\u009f]")


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
    if "\ufffd" not in text and _ARABIC.search(text) and not _CONTROL.search(text) and _valid_throughout(path, "cp1256"):
        return "cp1256"
    raise SijilError(f"{path.name}: not valid UTF-8, UTF-16 or Windows-1256 Arabic text; "
                     "ask the agency to export as UTF-8")
