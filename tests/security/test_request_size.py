"""Oversized bodies are refused with 413 before they are buffered, before authentication.

Each attack speaks raw HTTP/1.1 over a socket to the real uvicorn server (an HTTP client library would
buffer or retry for us), and the server's resident memory is read from /proc before and after.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.security.conftest import Live

MIB = 1024 * 1024
RSS_GROWTH_BOUND_KIB = 32 * 1024
"""The body limit is 1 MiB; before the fix a 300 MB body grew the server by 1.5 GB."""


def _connect(live: Live) -> socket.socket:
    url = urlsplit(live.base)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    return sock


def _head(path: str, extra: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: ioc.test\r\n{extra}\r\n".encode()


def _status(sock: socket.socket) -> tuple[int, bytes]:
    """Read one response (headers and whatever body arrives before the server closes or 2 s pass)."""
    data = b""
    sock.settimeout(30)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.settimeout(2)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return int(data.split(b" ", 2)[1]), data


def _stream_chunked(sock: socket.socket, total: int) -> int:
    """Send ``total`` bytes as 64 KiB chunks until done or the server hangs up; bytes sent."""
    piece = b"x" * 65536
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    sock.settimeout(10)
    try:
        while sent < total:
            sock.sendall(frame)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    return sent


def test_anonymous_300mb_post_with_content_length_gets_413_before_one_body_byte(live: Live) -> None:
    before = live.rss_kib()
    devices = live.count("devices")
    with _connect(live) as sock:
        head = "Content-Type: application/json\r\nContent-Length: 314572800\r\n"
        sock.sendall(_head("/api/v1/devices", head))
        status, raw = _status(sock)  # answered with no body byte sent
    assert status == 413 and b'"field": "body"' in raw
    assert live.rss_kib() - before < RSS_GROWTH_BOUND_KIB
    assert live.count("devices") == devices and live.healthy()


def test_anonymous_chunked_300mb_stream_is_cut_at_the_limit(live: Live) -> None:
    before = live.rss_kib()
    devices = live.count("devices")
    with _connect(live) as sock:
        sock.sendall(
            _head("/api/v1/devices", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
        )
        sent = _stream_chunked(sock, 300 * MIB)
        status, _ = _status(sock)
    assert status == 413
    assert sent < 300 * MIB, "the server read the whole stream instead of hanging up at the limit"
    assert live.rss_kib() - before < RSS_GROWTH_BOUND_KIB
    assert live.count("devices") == devices and live.healthy()


def test_import_checks_the_role_before_reading_and_caps_authenticated_bodies(live: Live) -> None:
    live.site("RS", kind="province")
    _, operator = live.user("operator")
    _, engineer = live.user("engineer")
    path = "/api/v1/devices/import"
    csv_head = "Content-Type: text/csv\r\nContent-Length: {}\r\n"
    cases = [
        ("", 20 * MIB, 413),  # anonymous: the default 1 MiB limit applies, no import allowance
        ("Authorization: Bearer ioc_forged\r\n", 20 * MIB, 401),  # a bad token is refused unread
        (f"Authorization: Bearer {operator}\r\n", 20 * MIB, 403),  # the role, before the body
        (f"Authorization: Bearer {engineer}\r\n", 60 * MIB, 413),  # above 50 MiB even for an engineer
    ]
    before = live.rss_kib()
    for auth, size, expected in cases:
        with _connect(live) as sock:
            sock.sendall(_head(path, auth + csv_head.format(size)))
            status, raw = _status(sock)  # no body byte was sent: the answer cannot come from reading it
        assert status == expected, (auth, raw[:300])
    assert live.rss_kib() - before < RSS_GROWTH_BOUND_KIB

    # An engineer's real import above 1 MiB is accepted: the larger limit is for them.
    rows = "".join(f"rs-cam-{i},camera,RS,{'d' * 1000}\n" for i in range(1100))
    body = ("name,kind,site,description\n" + rows).encode()
    assert len(body) > MIB
    devices = live.count("devices")
    started = time.monotonic()
    with live.client(engineer) as c:
        done = c.post(f"{path}?dry_run=true", content=body, headers={"Content-Type": "text/csv"})
    assert done.status_code == 200, done.text[:300]
    assert done.json()["created"] == 1100 and time.monotonic() - started < 60
    assert live.count("devices") == devices and live.healthy()  # a dry run writes nothing
