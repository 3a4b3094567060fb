"""TCP connect: the service port accepts a connection (camera RTSP, web UI, an agent's TCP transport)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceTimeout, DeviceUnreachable, NotSupported


class TcpConnectCheck:
    def __init__(self, port: int | None = None, timeout_s: float = 2.0) -> None:
        """``port`` overrides the target's port (e.g. 554 for RTSP on a camera whose port is HTTP)."""
        self.port = port
        self.timeout_s = timeout_s
        self.name = f"tcp:{port}" if port else "tcp"

    async def run(self, target: DeviceTarget) -> CheckResult:
        port = self.port or target.port
        if port is None:
            return CheckResult.failure(self.name, NotSupported("no port to connect to"))
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                _reader, writer = await asyncio.open_connection(target.address, port)
        except TimeoutError:
            return CheckResult.failure(
                self.name, DeviceTimeout(f"no answer on port {port} in {self.timeout_s}s")
            )
        except ConnectionRefusedError:
            return CheckResult.failure(self.name, DeviceUnreachable(f"port {port} refused the connection"))
        except OSError as error:
            return CheckResult.failure(
                self.name, DeviceUnreachable(f"port {port}: {error.strerror or error}")
            )
        latency = (time.perf_counter() - started) * 1000
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return CheckResult.success(self.name, latency)
