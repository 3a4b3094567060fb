"""Send a batch of encoded lines to InfluxDB 1.x ``/write`` or the v2 ``/api/v2/write`` API.

Plain ``httpx`` rather than ``influxdb-client`` here, on purpose:
- the spool already holds encoded line protocol, so the client's serialiser has nothing to do;
- ``influxdb-client`` speaks only ``/api/v2/write``; its "v1 compatibility" needs InfluxDB >= 1.8, and
  Debian's 1.6 (our 1.x target) has only ``/write``;
- its retry and batching machinery would sit between the spool and the server and blur exactly what
  the at-least-once accounting needs to know: did *this* request get a 2xx, and if not, which class
  of failure with which server reason.
The benchmark measures this path against a raw ``influxdb-client`` batch write of the same points.

Failures are typed by what the caller should do next: :class:`RejectedPoints` (the data is bad: bisect
and quarantine), :class:`TransientFailure` (try the same batch again later).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import SecretStr

from telemetry.line_protocol import Dialect

Api = Literal["v1", "v2"]

POINT_LEVEL_STATUSES = frozenset({400, 413, 422})
"""Statuses that blame the request body. 401/403/404 blame the configuration (token, database) and
are retried, never quarantined: quarantining good data because a token expired would lose it."""


class DeliveryError(Exception):
    """A batch was not stored. ``reason`` is the server's own words when it gave any."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason if status is None else f"HTTP {status}: {reason}")
        self.reason = reason
        self.status = status


class TransientFailure(DeliveryError):
    """Server down, overloaded (5xx/429), timeout, or misconfigured (401/403/404): retry with backoff.

    ``status`` is ``None`` when the server did not answer at all (refused, reset, timeout): it is down."""


class RejectedPoints(DeliveryError):
    """The server refused the body (400/413/422): some point in it can never be stored as is."""

    status: int


@dataclass(frozen=True)
class InfluxTarget:
    """Where and how to write. Secrets stay ``SecretStr`` until the header is built."""

    url: str
    api: Api = "v1"
    database: str | None = None
    retention_policy: str | None = None
    bucket: str | None = None
    org: str | None = None
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    gzip: bool = True
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.api not in ("v1", "v2"):
            raise ValueError(f"influx api: must be 'v1' or 'v2', got {self.api!r}")
        if self.api == "v1" and not self.database:
            raise ValueError("influx database: required for api v1 (IOC_INFLUX_DATABASE)")
        if self.api == "v2" and not self.bucket:
            raise ValueError("influx bucket: required for api v2 (IOC_INFLUX_BUCKET)")
        if self.password is not None and not self.username:
            raise ValueError("influx username: required when a password is set (IOC_INFLUX_USERNAME)")

    @property
    def dialect(self) -> Dialect:
        """How the server reads backslashes in names and tags: ``/write`` is InfluxDB 1.x; the v2 API is
        what VictoriaMetrics and InfluxDB 3.x are configured with (InfluxDB 2.x keeps doubled backslashes
        doubled: cosmetic, never a forged tag)."""
        return Dialect.PREVIOUS_BYTE if self.api == "v1" else Dialect.BACKSLASH_PAIRS

    @property
    def probe_url(self) -> str:
        """A request the server answers cheaply, without touching data: ``/ping`` on InfluxDB 1.x, ``/health``
        on InfluxDB 2.x/3.x and VictoriaMetrics."""
        return self.url.rstrip("/") + ("/ping" if self.api == "v1" else "/health")

    def endpoint(self) -> tuple[str, dict[str, str]]:
        base = self.url.rstrip("/")
        if self.api == "v1":
            params = {"db": self.database or "", "precision": "n"}
            if self.retention_policy:
                params["rp"] = self.retention_policy
            return f"{base}/write", params
        params = {"bucket": self.bucket or "", "precision": "ns"}
        if self.org:
            params["org"] = self.org
        return f"{base}/api/v2/write", params

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.gzip:
            headers["Content-Encoding"] = "gzip"
        if self.api == "v2" and self.token is not None:
            headers["Authorization"] = f"Token {self.token.get_secret_value()}"
        return headers

    def auth(self) -> httpx.BasicAuth | None:
        if self.username:
            password = self.password.get_secret_value() if self.password else ""
            return httpx.BasicAuth(self.username, password)
        return None


def server_reason(response: httpx.Response) -> str:
    """v1 says ``{"error": ...}``, v2 ``{"code": ..., "message": ...}``; anything else: the text."""
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:1000] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])[:1000]
    return text.strip()[:1000]


class InfluxOutput:
    """One HTTP connection pool to one server; :meth:`send` stores a batch or raises a typed failure."""

    def __init__(self, target: InfluxTarget, client: httpx.AsyncClient | None = None) -> None:
        self.target = target
        self._url, self._params = target.endpoint()
        self._headers = target.headers()
        self._client = client or httpx.AsyncClient(timeout=target.timeout, auth=target.auth())

    async def aclose(self) -> None:
        await self._client.aclose()

    async def probe(self, wait_s: float) -> bool:
        """Does the server answer at all? Any HTTP answer below 500 means it is up (even 401: the
        writes' own errors say what is wrong); no answer, or a 5xx, means it is still down."""
        try:
            response = await self._client.get(self.target.probe_url, timeout=wait_s)
        except httpx.HTTPError:
            return False
        return response.status_code < 500

    async def send(self, body: bytes) -> None:
        """POST newline-separated lines; returns on 2xx, raises a :class:`DeliveryError` otherwise."""
        if self.target.gzip:
            # Level 1: most of the size win for a fraction of the CPU of level 9; zlib releases the GIL,
            # so compressing in a thread overlaps with the loop's other work.
            body = await asyncio.to_thread(gzip.compress, body, 1)
        try:
            response = await self._client.post(
                self._url, params=self._params, content=body, headers=self._headers
            )
        except httpx.TimeoutException as error:
            raise TransientFailure(f"timeout after {self.target.timeout}s ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise TransientFailure(f"{type(error).__name__}: {error}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = server_reason(response)
        if status in POINT_LEVEL_STATUSES:
            raise RejectedPoints(reason, status)
        raise TransientFailure(reason, status)
