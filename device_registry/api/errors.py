"""Domain errors to HTTP: status from the error class, the offending field named in the body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from device_registry.errors import ImportRejected, RegistryError


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

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, error: IntegrityError) -> JSONResponse:
        return JSONResponse(
            status_code=409, content={"detail": "conflicts with an existing record", "field": None}
        )
