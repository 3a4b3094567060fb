from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

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
