from __future__ import annotations

import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from device_registry.schemas.bounds import MAX_OFFSET

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0/C1 controls (newline, ESC of ANSI sequences, …), Unicode line separators and bidi overrides."""


def refuse_control_characters(value: str) -> str:
    """Names reach log lines and terminals: a newline forges a log entry, an ANSI escape rewrites the
    screen, a bidi override reverses what an operator reads. Such names are refused, not cleaned."""
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"must not contain control characters (found {found.group()!r} at {found.start()})")
    return value


PlainText = Annotated[str, AfterValidator(refuse_control_characters)]
"""A single-line text without control characters: for names and anything else that reaches logs."""
