"""Names fit to show and store (a student's name, a file name): no control or invisible characters."""

from __future__ import annotations

import unicodedata
from pathlib import Path


# Never part of a name: control characters (tab and newline too), and the invisible "format"
# characters (right-to-left overrides and isolates, zero-width spaces...) that can make a name or
# a file name display as something else ("essay\u202etxt.exe" shows as "essayexe.txt"). The
# zero-width non-joiner and joiner stay: Persian and Indic names are spelt with them.
_NAME_JUNK = ("Cc", "Cf", "Cs", "Zl", "Zp")
_NAME_KEEP = ("\u200c", "\u200d")


def _junk(c: str) -> bool:
    return unicodedata.category(c) in _NAME_JUNK and c not in _NAME_KEEP


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name as it is (a character of `_NAME_JUNK`), or None."""
    bad = next((c for c in value if _junk(c)), None)
    return None if bad is None else f"contains an invisible or control character (U+{ord(bad):04X})"


def clean_name(value: str, limit: int | None = None, keep_suffix: bool = False) -> str:
    """A name fit to show and store: NFC, junk characters (`_NAME_JUNK`) removed, spaces collapsed,
    at most `limit` characters. With `keep_suffix` (a file name), shortening keeps the extension."""
    value = unicodedata.normalize("NFC", value)
    value = " ".join("".join(" " if c in "\t\n\r\v\f" else "" if _junk(c) else c for c in value).split())
    if limit is None or len(value) <= limit:
        return value
    suffix = Path(value).suffix if keep_suffix else ""
    if not suffix or len(suffix) > limit // 2:
        return value[: limit - 1].rstrip() + "…"
    return value[: limit - len(suffix) - 1].rstrip() + "…" + suffix


__all__ = ["clean_name", "name_problem"]
