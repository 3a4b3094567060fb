"""Domain errors to HTTP: status from the error class, the offending field named in the body."""

from __future__ import annotations

from fastapi import FastAPI, Request
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
