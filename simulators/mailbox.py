"""A local mailbox for the demo: an SMTP server (aiosmtpd) that stores every mail as a ``.eml`` file.

``python -m simulators.mailbox --port 2525 --dir IOC_HOME/demo/mail``: prints ``READY`` once
listening on loopback. Each message is written to a temporary name and renamed, so a reader never
sees half a mail; names sort by arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._sequence):06d}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(self.folder / name)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"READY smtp://{args.host}:{args.port} -> {args.dir}", flush=True)

    async def wait() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
