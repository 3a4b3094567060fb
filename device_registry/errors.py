"""Domain errors of the registry. The API maps them to HTTP status codes, the CLI to messages."""

from __future__ import annotations

from dataclasses import dataclass


class RegistryError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(RegistryError):
    status_code = 404


class Conflict(RegistryError):
    status_code = 409


class InvalidInput(RegistryError):
    status_code = 422


class Forbidden(RegistryError):
    status_code = 403


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.message}"


class ImportRejected(RegistryError):
    """A bulk import was refused as a whole; ``errors`` names every bad line and field."""

    status_code = 422

    def __init__(self, errors: list[RowError], *, forbidden: bool = False) -> None:
        first = errors[0] if errors else None
        super().__init__(f"import rejected, nothing written: {len(errors)} error(s); first: {first}")
        self.errors = errors
        if forbidden:
            self.status_code = 403
