"""Accent-insensitive text: how "vu thu" finds "Vũ Thư".

Vietnamese letters decompose under NFD into a base letter and combining marks, except đ/Đ, which
Unicode treats as a letter of its own; we map it to d by hand. The folded form is stored beside the
name (an indexed column) so searches are a plain LIKE on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character itself escaped (use ``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching the folded ``text`` anywhere, with LIKE's wildcards escaped (escape '\\')."""
    return f"%{escape_like(fold(text))}%"
