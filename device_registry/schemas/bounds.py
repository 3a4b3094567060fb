"""Numeric bounds shared by every API schema, route parameter and CLI option.

Python ints are unbounded and JSON floats include NaN and Infinity (pydantic accepts them unless told
otherwise); a database column is neither. An id beyond a 32-bit INTEGER overflows SQLite's and
PostgreSQL's binding (a 500), and NaN poisons any arithmetic later done on a stored row. These
aliases carry their bounds in the type, so FastAPI validates them and documents them in OpenAPI.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AllowInfNan

MAX_ROW_ID = 2**31 - 1
"""PostgreSQL ``integer``; SQLite accepts more, but the same bound keeps both databases alike."""

MAX_OFFSET = 10_000_000

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]
Latitude = Annotated[float, Ge(-90), Le(90), AllowInfNan(False)]
Longitude = Annotated[float, Ge(-180), Le(180), AllowInfNan(False)]
