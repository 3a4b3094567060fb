"""Probe 200 simulated cameras concurrently: total time, per-camera p50/p99, one-time set-up cost.

    .venv/bin/python bench/onvif_bench.py [--cameras 200] [--concurrency 200]

The fleet runs in its own process (so the bench measures the client, not the simulator sharing its
loop). Baseline, same run: one raw SOAP GetDeviceInformation per camera over aiohttp with a
hand-made WS-Security header, i.e. the simulator's own floor without zeep or onvif-zeep-async.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from lxml import etree
from pydantic import SecretStr
from zeep.wsse.username import UsernameToken

from provisioning.onvif import client as onvif_client
from provisioning.onvif.probe import probe_onvif
from simulators.onvif_camera.soap import NS_DEVICE, catalog

PASSWORD = SecretStr("admin123")


def start_fleet(count: int) -> tuple[subprocess.Popen[str], list[int]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.onvif_camera", "--count", str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return process, [int(port) for port in line.split()[1:]]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(name: str, total_s: float, per_call_ms: list[float]) -> str:
    return (
        f"{name:<34} total {total_s * 1000:8.1f} ms   p50 {statistics.median(per_call_ms):7.1f} ms   "
        f"p99 {percentile(per_call_ms, 0.99):7.1f} ms   n={len(per_call_ms)}"
    )


async def raw_soap(http: aiohttp.ClientSession, port: int) -> float:
    message = catalog().bindings[NS_DEVICE].get("GetDeviceInformation").input.serialize()
    envelope, _ = UsernameToken("admin", "admin123", use_digest=True, zulu_timestamp=True).apply(
        message.content, {}
    )
    body = etree.tostring(envelope)
    started = time.perf_counter()
    async with http.post(
        f"http://127.0.0.1:{port}/onvif/device_service",
        data=body,
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    ) as answer:
        await answer.read()
        assert answer.status == 200, answer.status
    return (time.perf_counter() - started) * 1000


async def one_probe(port: int, limit: asyncio.Semaphore) -> float:
    async with limit:
        started = time.perf_counter()
        result = await probe_onvif("127.0.0.1", port, "admin", PASSWORD, call_timeout_s=60)
        assert len(result.profiles) == 2
        return (time.perf_counter() - started) * 1000


async def main(cameras: int, concurrency: int) -> None:
    process, ports = start_fleet(cameras)
    try:
        await asyncio.to_thread(catalog)  # the baseline builds its requests from the same WSDLs
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            started = time.perf_counter()
            raw = await asyncio.gather(*(raw_soap(http, port) for port in ports))
            raw_total = time.perf_counter() - started

        started = time.perf_counter()
        await onvif_client.warm_up()
        warm_first = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        await onvif_client.warm_up()
        warm_again = (time.perf_counter() - started) * 1000

        limit = asyncio.Semaphore(concurrency)
        first = await one_probe(ports[0], limit)
        sequential = [await one_probe(port, limit) for port in ports[1:6]]

        started = time.perf_counter()
        probes = await asyncio.gather(*(one_probe(port, limit) for port in ports))
        probe_total = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"ONVIF probe bench: {cameras} simulated cameras, concurrency {concurrency}")
    print(summary("baseline raw SOAP (1 call/camera)", raw_total, raw))
    print(summary("probe (9 SOAP calls/camera)", probe_total, probes))
    print(f"WSDL/client set-up: warm_up first {warm_first:.1f} ms, again {warm_again:.3f} ms")
    print(
        f"first probe after warm-up {first:.1f} ms vs later single probes "
        f"p50 {statistics.median(sequential):.1f} ms (n={len(sequential)})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.cameras, args.concurrency))
