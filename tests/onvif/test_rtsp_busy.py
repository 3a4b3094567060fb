"""A stream that answers 503 for a moment (an encoder restarting, a shared media being torn down) is asked
once more, after the server's Retry-After; one that stays unavailable is still a failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from provisioning.errors import DeviceError
from provisioning.rtsp.check import check_rtsp

SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\n"


class BusyStream:
    """Answers OPTIONS, then ``busy`` DESCRIBEs with 503, then DESCRIBE with an SDP; records each method."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.methods: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            method = head.split(b" ", 1)[0].decode()
            cseq = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"cseq:"))
            self.methods.append(method)
            if method == "OPTIONS":
                writer.write(b"RTSP/1.0 200 OK\r\n" + cseq + b"\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n")
            elif self.busy > 0:
                self.busy -= 1
                writer.write(b"RTSP/1.0 503 Service Unavailable\r\n" + cseq + b"\r\nRetry-After: 0\r\n\r\n")
            else:
                writer.write(
                    b"RTSP/1.0 200 OK\r\n" + cseq + b"\r\nContent-Type: application/sdp\r\n"
                    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n\r\n" + SDP
                )
            await writer.drain()


async def serve(stream: BusyStream) -> AsyncIterator[str]:
    server = await asyncio.start_server(stream.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"rtsp://127.0.0.1:{port}/stream"


async def test_one_503_then_the_stream_is_live() -> None:
    stream = BusyStream(busy=1)
    async for url in serve(stream):
        result = await check_rtsp(url, timeout_s=5)
    assert result.media == ["video"]
    assert stream.methods == ["OPTIONS", "DESCRIBE", "DESCRIBE"]


async def test_a_stream_that_stays_unavailable_fails() -> None:
    stream = BusyStream(busy=5)
    async for url in serve(stream):
        with pytest.raises(DeviceError, match="503"):
            await check_rtsp(url, timeout_s=5)
    assert stream.methods == ["OPTIONS", "DESCRIBE", "DESCRIBE"]
