"""A writer in its own process, so a test can SIGKILL it mid-batch and start it again.

Usage: ``python -m tests.telemetry.writer_child SPOOL_DIR URL API START TOTAL CHUNK``.
Prints ``spooled N`` after each ``write()`` returned (points ``< N`` are durable), then ``drained``.
A restarted child resumes at the last printed ``N``: the chunk in flight when killed may be spooled
twice, which at-least-once delivery allows and the store's overwrite semantics absorb.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from telemetry.writer import TelemetryWriter
from tests.telemetry.helpers import numbered_points, v1_target, v2_target, wait_drained, writer_config


async def main(spool: Path, url: str, api: str, start: int, total: int, chunk: int) -> None:
    target = v1_target(url) if api == "v1" else v2_target(url)
    config = writer_config(spool, target, batch_size=5000, flush_interval=0.1)
    async with TelemetryWriter(config) as writer:
        for begin in range(start, total, chunk):
            end = min(begin + chunk, total)
            await writer.write(numbered_points(begin, end))
            print(f"spooled {end}", flush=True)
            await asyncio.sleep(0.01)  # a pace, not a wait: the parent's SIGKILL lands mid-stream
        await wait_drained(writer, within=120)
    print("drained", flush=True)


if __name__ == "__main__":
    spool_dir, server_url, api_name, first, count, size = sys.argv[1:7]
    asyncio.run(main(Path(spool_dir), server_url, api_name, int(first), int(count), int(size)))
