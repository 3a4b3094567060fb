"""A hostile listener: answers every HTTP or RTSP request with 401 and a challenge, records what came.

It plays the address a device reports that is not the device (a credential harvester, or the wrong
end of a NAT), so a test can assert that nothing was sent to it, or exactly what was.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Recorded:
    request_line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    host: str
    challenge: str = 'Digest realm="cam", qop="auth", nonce="feedface"'
    """``WWW-Authenticate`` of every answer: tempts a client to send its credentials."""
    connections: int = 0
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def credentials_seen(self) -> list[str]:
        """Authorization headers and WS-Security tokens received: must stay empty in a pinning test."""
        seen = [r.headers["authorization"] for r in self.requests if "authorization" in r.headers]
        return seen + [r.body.decode(errors="replace") for r in self.requests if b"UsernameToken" in r.body]

    async def start(self, port: int = 0) -> Recorder:
        self._server = await asyncio.start_server(self._serve, self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *rest = head.decode("latin-1").split("\r\n")
                headers = {}
                for item in rest:
                    name, sep, value = item.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                self.requests.append(Recorded(line, headers, body))
                protocol = "RTSP/1.0" if "RTSP/" in line else "HTTP/1.1"
                cseq = f"CSeq: {headers['cseq']}\r\n" if "cseq" in headers else ""
                writer.write(
                    f"{protocol} 401 Unauthorized\r\n{cseq}WWW-Authenticate: {self.challenge}\r\n"
                    "Content-Length: 0\r\n\r\n".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def nothing_listens(host: str, port: int) -> bool:
    """True when a TCP connect to ``host:port`` is refused (the address a NAT camera reports)."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    return False
