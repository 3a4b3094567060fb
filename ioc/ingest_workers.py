"""``ioc serve --only ingest [--workers N]``: ingest processes on the shared subscription, one supervisor.

``ioc serve --only ingest`` replaces itself (``exec``) with ``python -m ioc.ingest_workers``, which imports
only what the ingest needs: the ``ioc`` command line loads every command's libraries (pysnmp, zeep,
apprise, …), about 50 MB an ingest process would carry for nothing.

One ingest process is CPU-bound on one core (paho's parsing of every PUBLISH, then ours), so a second
core needs a second process. Mosquitto deals a shared subscription's messages round-robin to every
member *session*, offline persistent ones included (docs/mqtt.md): a worker that dies leaves its share
queued in its session until a process with the same client id comes back. So each worker has a stable
identity, ``IOC_INGEST_WORKER=i`` (client id ``<id>-i``, spool ``IOC_HOME/spool-ingest-i``), and the
supervisor restarts a worker that exits with that same identity, with a backoff so a worker failing at
start cannot spin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time

log = logging.getLogger(__name__)

WORKER_ENV = "IOC_INGEST_WORKER"
SUPERVISOR_ENV = "IOC_INGEST_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1
RESTART_FIRST_S = 1.0
RESTART_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0
"""A worker that ran this long before exiting is restarted at once again (its backoff resets)."""
STOP_GRACE_S = 15.0
"""SIGTERM, then this long for a worker's writer to drain before SIGKILL."""


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "ioc.ingest_workers", "--workers", "1"]


def exec_ingest(workers: int) -> None:
    """Become the light ingest runner (never returns)."""
    argv = [sys.executable, "-m", "ioc.ingest_workers", "--workers", str(workers)]
    os.execv(sys.executable, argv)


def die_with_supervisor() -> None:
    """A worker gets SIGTERM (a graceful stop) when its supervisor dies, even by SIGKILL: otherwise
    it would run on as an orphan, and a restarted supervisor would start a second process under
    the same client id (the broker drops one of the two, over and over).

    ``prctl(PR_SET_PDEATHSIG)`` is Linux's way; the supervisor may have died before the call, so the
    parent is checked after it."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor is None:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != int(supervisor):
        sys.exit("ingest worker: supervisor already gone")


async def _run_one() -> None:
    """One ingest process: the same services as ``ioc serve``; SIGTERM stops it gracefully
    (the writer drains what it can, the rest stays spooled)."""
    from ioc.services import serve_until_signalled
    from ioc.settings import Settings

    settings = Settings()
    logging.getLogger().setLevel(settings.log_level)
    await serve_until_signalled(settings, ["ingest"])


async def supervise(count: int) -> None:
    """Run ``count`` workers until cancelled or sent SIGTERM/SIGINT; then stop them all gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(_keep_running(index, stop), name=f"ingest-worker-{index}")
        for index in range(count)
    ]
    try:
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _keep_running(index: int, stop: asyncio.Event) -> None:
    delay = RESTART_FIRST_S
    while not stop.is_set():
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *worker_argv(), env={**os.environ, WORKER_ENV: str(index), SUPERVISOR_ENV: str(os.getpid())}
        )
        log.info("ingest worker %d started (pid %d)", index, process.pid)
        waiter = asyncio.create_task(process.wait())
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({waiter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not waiter.done():
                await _terminate(process, waiter)
        if stop.is_set():
            return
        if time.monotonic() - started > HEALTHY_AFTER_S:
            delay = RESTART_FIRST_S
        log.error(
            "ingest worker %d exited with %s; restarting it in %.0f s", index, process.returncode, delay
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, RESTART_MAX_S)


async def _terminate(process: asyncio.subprocess.Process, waiter: asyncio.Task[int]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(asyncio.shield(waiter), STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await waiter


def main(args: list[str]) -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
    die_with_supervisor()
    asyncio.run(_run_one() if workers == 1 else supervise(workers))


if __name__ == "__main__":
    main(sys.argv[1:])
