"""Materialised site paths: the one place that builds, reads and queries them.

A site's ``path`` is the ids from the root down to itself, each followed by a slash ("/1/7/42/"), so a
subtree is one indexed prefix match and "is X inside Y" is a string prefix test. The trailing slash keeps
"/1/7/" from matching "/1/70/". The subtree clause escapes LIKE's wildcards whatever the prefix holds, so
a path can never widen the match, even if a caller hands it something that is not a well-formed path.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from device_registry.text import escape_like

ROOT = "/"


def encode(ids: Iterable[int]) -> str:
    """The path of the site whose ancestors and itself are ``ids``, root first."""
    return ROOT + "".join(f"{int(i)}/" for i in ids)


def child(parent_path: str | None, site_id: int) -> str:
    """The path of site ``site_id`` placed under the site at ``parent_path`` (None: a root)."""
    return f"{parent_path or ROOT}{int(site_id)}/"


def decode(path: str | None) -> list[int]:
    """The ids on ``path``, root first, the site itself last."""
    return [int(part) for part in (path or "").split("/") if part]


def depth(path: str) -> int:
    """How many sites the path names (a root site has depth 1)."""
    return len(decode(path))


def contains(ancestor_path: str | None, path: str) -> bool:
    """Whether ``path`` is ``ancestor_path`` or lies below it. An empty ancestor contains everything
    (an unscoped principal)."""
    return path.startswith(ancestor_path or "")


def related(path: str, other: str) -> bool:
    """Whether one of the two sites lies on the other's chain (ancestor, descendant or the same)."""
    return contains(path, other) or contains(other, path)


def subtree(column: InstrumentedAttribute[str], root_path: str | None) -> ColumnElement[bool]:
    """SQL: ``column`` (a ``Site.path``) is ``root_path`` or below it, with LIKE wildcards escaped."""
    return column.like(escape_like(root_path or "") + "%", escape="\\")
