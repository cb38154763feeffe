"""Text that is safe to show in a terminal, print or export: no control characters.

A cell holding `\x1b]0;pwned\x07` or `\x1b[2J` would retitle or clear the user's
terminal when printed raw. `clean_text` removes C0 controls (tab and line breaks
become a space), DEL, C1 controls and the bidirectional overrides that reorder what
a reader sees. Pure: no I/O.
"""

from __future__ import annotations

_SPACE = " "
_TABLE: dict[int, str | None] = {c: None for c in range(0x20)}
_TABLE.update({ord("\t"): _SPACE, ord("\n"): _SPACE, ord("\r"): _SPACE})
_TABLE[0x7F] = None
_TABLE.update({c: None for c in range(0x80, 0xA0)})
# Bidi embeddings/overrides/isolates and marks: they make a name read differently
# from what it is (U+202E turns `txt.exe` around).
_TABLE.update({c: None for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)})
_TABLE.update({0x2028: _SPACE, 0x2029: _SPACE})


def clean_text(text: str) -> str:
    """`text` without terminal control characters (tab/newline → space). The fast path
    is one C call: `isprintable()` is true for almost every cell, CJK included, and
    false for every character this removes."""
    if text.isprintable():
        return text
    return text.translate(_TABLE)


def is_clean(text: str) -> bool:
    """True when `clean_text` would return `text` unchanged."""
    return text.isprintable() or text.translate(_TABLE) == text
