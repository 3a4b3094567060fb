"""RTSP liveness check: OPTIONS then DESCRIBE (with Digest auth), optionally one frame through ffprobe.

A small asyncio client rather than a library: the check needs two requests and their answers, and
the asyncio RTSP libraries on PyPI (aiortsp, last released 2024) bring RTP machinery we do not use.
Credentials come as arguments or in the URL's userinfo; results and errors only ever show the URL
without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import SecretStr

from provisioning.errors import (
    AuthFailed,
    DeviceError,
    DeviceTimeout,
    DeviceUnreachable,
    MalformedResponse,
    NotSupported,
)
from provisioning.rtsp.digest import Authorizer, parse_challenges

USER_AGENT = "ioc-rtsp-check/1"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


class StreamNotFound(DeviceError):
    """The RTSP server answered but has no stream at that path (404)."""

    kind = "stream_not_found"


@dataclass(frozen=True)
class FrameInfo:
    codec: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class RtspCheck:
    url: str
    """The stream URL without credentials."""
    server: str | None
    methods: list[str]
    media: list[str]
    """``m=`` lines of the SDP as ``video MJPEG``-like strings (type and first rtpmap encoding)."""
    latency_ms: float
    frame: FrameInfo | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Response:
    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.cseq = 0

    async def request(self, method: str, url: str, headers: dict[str, str]) -> _Response:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {USER_AGENT}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        return await self._read()

    async def _read(self) -> _Response:
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise MalformedResponse("RTSP answer headers too large") from None
        except asyncio.IncompleteReadError:
            raise DeviceUnreachable("RTSP server closed the connection") from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
            raise MalformedResponse(f"not an RTSP answer: {status_line[:60]!r}")
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        length_text = (headers.get("content-length") or ["0"])[0]
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            raise MalformedResponse(f"bad Content-Length {length_text[:20]!r}")
        body = await self.reader.readexactly(int(length_text)) if int(length_text) else b""
        return _Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body)


def _sdp_media(sdp: str) -> list[str]:
    media: list[str] = []
    current: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            if current:
                media.append(current)
            current = line[2:].split(" ")[0]
        elif line.startswith("a=rtpmap:") and current and " " not in current:
            encoding = line.split(" ", 1)[1].split("/")[0] if " " in line else ""
            current = f"{current} {encoding}".strip()
    if current:
        media.append(current)
    return media


async def check_rtsp(
    url: str,
    username: str | None = None,
    password: SecretStr | None = None,
    *,
    timeout_s: float = 5.0,
    grab_frame: bool = False,
    allow_basic: bool = False,
) -> RtspCheck:
    """OPTIONS and DESCRIBE ``url``; raises a ``DeviceError`` subclass when the stream is not usable.

    The password goes out only as a Digest answer, or as Basic when ``allow_basic`` (``rtsp_basic_auth``
    in the device's stored ONVIF facts). ``url`` must already be pinned to the device's registered host.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("rtsp", "rtsps") or not parts.hostname:
        raise ValueError(f"url: not an rtsp:// URL: {strip_credentials(url)!r}")
    if parts.scheme.lower() == "rtsps":
        raise NotSupported("rtsps:// is not supported by the liveness check")
    if parts.username and username is None:
        username = unquote(parts.username)
        password = SecretStr(unquote(parts.password or ""))
    clean = strip_credentials(url)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            result = await _options_describe(
                parts.hostname, parts.port or 554, clean, _Login(username, password, allow_basic)
            )
    except TimeoutError:
        raise DeviceTimeout(f"RTSP {clean}: no answer within {timeout_s:g} s") from None
    except OSError as error:
        raise DeviceUnreachable(
            f"RTSP {clean}: cannot connect ({error.strerror or type(error).__name__})"
        ) from None
    server, methods, media = result
    check = RtspCheck(clean, server, methods, media, round((time.perf_counter() - started) * 1000, 1))
    if grab_frame:
        frame = await grab_one_frame(clean, username, password, timeout_s=timeout_s)
        check = RtspCheck(check.url, server, methods, media, check.latency_ms, frame)
    return check


DESCRIBE_RETRY_MAX_S = 1.0


def _retry_after_s(value: str | None) -> float:
    """The server's Retry-After in seconds, clamped to (0.2, 1 s]: the check's own timeout still bounds it."""
    try:
        seconds = float(value) if value else 0.5
    except ValueError:
        seconds = 0.5
    return min(max(seconds, 0.2), DESCRIBE_RETRY_MAX_S) if seconds == seconds else 0.5


@dataclass(frozen=True)
class _Login:
    username: str | None
    password: SecretStr | None = field(repr=False)
    allow_basic: bool

    def authorizer(self, challenges: dict[str, dict[str, str]]) -> Authorizer:
        return Authorizer(
            self.username or "", _reveal(self.password), challenges, allow_basic=self.allow_basic
        )


async def _options_describe(
    host: str, port: int, url: str, login: _Login
) -> tuple[str | None, list[str], list[str]]:
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEADER_BYTES)
    try:
        connection = _Connection(reader, writer)
        options = await connection.request("OPTIONS", url, {})
        authorizer: Authorizer | None = None
        if options.status == 401 and login.username:
            authorizer = login.authorizer(parse_challenges(options.headers.get("www-authenticate", [])))
            if authorizer.scheme is not None:
                options = await connection.request("OPTIONS", url, _auth(authorizer, "OPTIONS", url))
        methods = [m.strip() for m in (options.header("public") or "").split(",") if m.strip()]
        describe = await connection.request(
            "DESCRIBE", url, {"Accept": "application/sdp", **_auth(authorizer, "DESCRIBE", url)}
        )
        if describe.status == 401:
            describe, authorizer = await _answer_challenge(connection, url, describe, authorizer, login)
        if describe.status == 503:
            # A stream being torn down or an encoder restarting answers 503 for a moment (gst-rtsp-server
            # does while a shared media unprepares); RFC 7826 §17.5.4 lets the server say when to retry.
            await asyncio.sleep(_retry_after_s(describe.header("retry-after")))
            describe = await connection.request(
                "DESCRIBE", url, {"Accept": "application/sdp", **_auth(authorizer, "DESCRIBE", url)}
            )
        if describe.status == 404:
            raise StreamNotFound(f"RTSP {url}: no stream at this path")
        if describe.status != 200:
            raise DeviceError(f"RTSP {url}: DESCRIBE answered {describe.status} {describe.reason[:60]}")
        content_type = (describe.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/sdp" or not describe.body:
            raise MalformedResponse(f"RTSP {url}: DESCRIBE did not return an SDP")
        media = _sdp_media(describe.body.decode("utf-8", errors="replace"))
        if not media:
            raise MalformedResponse(f"RTSP {url}: SDP lists no media")
        return describe.header("server") or options.header("server"), methods, media
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _answer_challenge(
    connection: _Connection,
    url: str,
    refused: _Response,
    authorizer: Authorizer | None,
    login: _Login,
) -> tuple[_Response, Authorizer]:
    """Retry DESCRIBE once with credentials; a second refusal (not a stale nonce) is a wrong password."""
    if not login.username:
        raise AuthFailed(f"RTSP {url}: authentication required")
    challenges = parse_challenges(refused.headers.get("www-authenticate", []))
    stale = challenges.get("digest", {}).get("stale", "").lower() == "true"
    if authorizer is not None and authorizer.scheme is not None and not stale:
        raise AuthFailed(f"RTSP {url}: authentication failed")
    authorizer = login.authorizer(challenges)
    if authorizer.scheme is None and "basic" in challenges:
        raise AuthFailed(
            f"RTSP {url}: server offers only Basic authentication (password in clear): refused; "
            "re-onboard it with --allow-rtsp-basic to allow it"
        )
    if authorizer.scheme is None:
        raise AuthFailed(f"RTSP {url}: no supported authentication scheme offered")
    headers = {"Accept": "application/sdp", **_auth(authorizer, "DESCRIBE", url)}
    describe = await connection.request("DESCRIBE", url, headers)
    if describe.status == 401:
        raise AuthFailed(f"RTSP {url}: authentication failed")
    return describe, authorizer


def _reveal(password: SecretStr | None) -> str:
    return password.get_secret_value() if password is not None else ""


def _auth(authorizer: Authorizer | None, method: str, url: str) -> dict[str, str]:
    if authorizer is None:
        return {}
    value = authorizer.header(method, url)
    return {"Authorization": value} if value else {}


async def grab_one_frame(
    url: str, username: str | None, password: SecretStr | None, *, timeout_s: float = 10.0
) -> FrameInfo:
    """Decode one video frame with ffprobe (Debian package ``ffmpeg``) over RTSP/TCP.

    ffprobe only takes credentials in the URL, so they are on its command line for its lifetime:
    keep this optional and short. Its output is scrubbed of them before it reaches an error.
    """
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise NotSupported("ffprobe not found: apt-get install ffmpeg")
    secret = _reveal(password)
    target = url
    if username:
        parts = urlsplit(url)
        userinfo = quote(username, safe="") + (":" + quote(secret, safe="") if secret else "")
        target = urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, ""))
    process = await asyncio.create_subprocess_exec(
        ffprobe,
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-select_streams",
        "v:0",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "stream=codec_name,width,height",
        "-of",
        "json",
        target,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DeviceTimeout(f"RTSP {url}: no frame within {timeout_s:g} s") from None
    text = stderr.decode(errors="replace").replace(target, url)
    if secret:
        text = text.replace(secret, "***")
    if process.returncode != 0:
        if "401" in text:
            raise AuthFailed(f"RTSP {url}: authentication failed (ffprobe)")
        raise DeviceError(f"RTSP {url}: ffprobe failed: {text.strip()[:200]}")
    try:
        stream = json.loads(stdout)["streams"][0]
        return FrameInfo(str(stream["codec_name"]), stream.get("width"), stream.get("height"))
    except (ValueError, KeyError, IndexError):
        raise MalformedResponse(f"RTSP {url}: ffprobe found no video stream") from None
