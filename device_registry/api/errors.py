"""Domain errors to HTTP: status from the error class, the offending field named in the body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from device_registry.errors import ImportRejected, RegistryError


class ErrorBody(BaseModel):
    """Every 4xx body: ``detail`` says what went wrong (a list of field errors when the request does not
    match its schema), ``field`` names the offending field where one does, ``errors`` lists an import's
    bad lines."""

    detail: str | list[dict[str, Any]] | dict[str, Any]
    """A message, or the field errors of a request that does not match its schema. A device's failure
    adds ``kind`` and ``retryable`` (``provisioning.responses.DeviceErrorBody``)."""
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "Missing, invalid, expired or revoked token"),
        (403, "The role or scope does not allow it"),
        (404, "Not found (or outside your scope)"),
        (409, "Conflicts with an existing record"),
        (413, "Request body too large"),
        (422, "Invalid input; the field is named"),
    )
}
"""Declared on every API router, so clients (and the fuzzer) know every status a route can answer."""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ImportRejected)
    async def _import_rejected(_: Request, error: ImportRejected) -> JSONResponse:
        return JSONResponse(
            status_code=error.status_code,
            content={
                "detail": str(error),
                "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in error.errors],
            },
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        """FastAPI's default echoes each bad ``input``: a password sent in the wrong shape would come
        back in the answer, and a NaN or Infinity makes the JSON encoder fail (a 500 instead of a 422)."""
        problems = [
            {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
            for e in error.errors()
        ]
        first = problems[0]["loc"] if problems else []
        field = ".".join(str(p) for p in first if p not in ("body", "query", "path")) or None
        return JSONResponse(status_code=422, content={"detail": problems, "field": field})

    @app.exception_handler(RegistryError)
    async def _registry_error(_: Request, error: RegistryError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status_code, content={"detail": str(error), "field": error.field}
        )

    @app.exception_handler(ValidationError)
    async def _late_validation(_: Request, error: ValidationError) -> JSONResponse:
        """A model built inside a route from request data (a sensor's tags become a ``DeviceCreate``)
        refused it: the caller's input, so 422 with the fields, never the values (they may be secrets)."""
        details = error.errors(include_url=False, include_context=False, include_input=False)
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(details)})

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, error: OverflowError) -> JSONResponse:
        """An id or number beyond what the database stores (SQLite: 64-bit) matches nothing stored."""
        return JSONResponse(status_code=422, content={"detail": "a number is out of range", "field": None})

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, error: IntegrityError) -> JSONResponse:
        return JSONResponse(
            status_code=409, content={"detail": "conflicts with an existing record", "field": None}
        )
