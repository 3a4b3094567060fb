"""Request body limits, applied before any route, dependency or authentication runs.

A declared ``Content-Length`` over the limit is answered 413 at once, without reading a byte of the
body or touching the database. A body without one (chunked) is counted as it streams by Starlette's
``RequestBodyLimitResponder``, which stops the route's read at the limit; uvicorn applies
back-pressure, so what is not read is not buffered. Starlette's own ``RequestBodyLimitMiddleware``
alone would let the app authenticate first and swap the answer only when it starts, and has one limit
per route where the import needs a larger one for authenticated callers only.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    """``default`` bytes for every request; ``larger[(method, path)]`` for requests that carry an
    ``Authorization`` header (the route itself then authenticates and checks the role before reading)."""

    def __init__(self, app: ASGIApp, default: int, larger: dict[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.default = default
        self.larger = dict(larger or {})

    def limit_for(self, scope: Scope, headers: Headers) -> int:
        route = (scope["method"], scope["path"].rstrip("/"))
        if route in self.larger and "authorization" in headers:
            return self.larger[route]
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(scope, headers)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return

        async def close_after_413(message: Message) -> None:
            """The client may still be sending the rest of the body: end the connection, do not read it."""
            if message["type"] == "http.response.start" and message["status"] == 413:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await RequestBodyLimitResponder(self.app, limit)(scope, receive, close_after_413)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"body: larger than {limit} bytes", "field": "body"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
