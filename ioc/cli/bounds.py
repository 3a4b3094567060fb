"""Numeric options of the CLI take the API's limits (``device_registry.schemas.bounds``) and
finite numbers only: click's ``FloatRange`` lets ``nan`` through (every comparison with it is false)."""

from __future__ import annotations

import math

import typer


def finite(value: float | None) -> float | None:
    """Typer callback: refuse ``nan``/``inf`` with the option named by click."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter("must be a finite number")
    return value
