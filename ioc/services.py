"""The services `ioc serve` can run in one process; ``--only NAME`` runs one alone to scale out.

Each entry is an async callable that runs until cancelled, given the process's :class:`Platform`
(database pool, secret box, the started telemetry writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from ioc.runtime import Platform, seal_clear_secrets
from ioc.settings import Settings
from ioc.supervisor import Backoff, ServiceState, run_supervised

log = logging.getLogger(__name__)

Service = Callable[[Platform], Coroutine[Any, Any, None]]
API_STOP_S = 5.0
"""On shutdown, how long the API may take to finish its requests and its lifespan."""


def bind_api_socket(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound here rather than by uvicorn: uvicorn answers a port already in
    use with ``sys.exit``, which would end every service of ``ioc serve``. An ``OSError`` instead is a
    service failure like any other, logged and retried with backoff by the supervisor."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


async def api_service(platform: Platform) -> None:
    import uvicorn

    from ioc.app import create_app

    settings = platform.settings
    config = uvicorn.Config(
        create_app(platform=platform),
        host=settings.api.host,
        port=settings.api.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )
    sock = bind_api_socket(settings.api.host, settings.api.port)
    log.info(
        "API listening on %s:%d", settings.api.host, settings.api.port
    )  # uvicorn is silent given a socket
    server = uvicorn.Server(config)

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except (
            SystemExit
        ) as error:  # uvicorn's answer to a failed app start-up: restart, do not end ioc serve
            raise RuntimeError(f"the API did not start (uvicorn exit status {error.code})") from None

    serving = asyncio.ensure_future(serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        # Shutdown: let uvicorn finish its requests and run the app's lifespan shutdown, as on its
        # own SIGTERM, instead of cancelling it mid-lifespan (which it logs as an error).
        server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(serving, API_STOP_S)
        raise
    finally:
        sock.close()


async def monitors_service(platform: Platform) -> None:
    """Checks and state machine, with alerting subscribed to their events first.

    The two run together because their event bus is in-process: ``--only monitors`` scales them out
    as one unit.
    """
    from monitors.alerting.directory import RegistryDirectory
    from monitors.alerting.service import AlertingService
    from monitors.runner import RegistryMonitors
    from telemetry.ingest.lastseen import LastSeenLookup

    directory = RegistryDirectory(platform.sessions)
    alerting = AlertingService.from_settings(
        platform.settings.alerting, platform.sessions, platform.box, sites=directory, devices=directory
    )
    await alerting.start(platform.bus)
    try:
        await RegistryMonitors(
            platform.settings.monitors,
            platform.sessions,
            events=platform.bus,
            sink=platform.writer,
            last_seen=LastSeenLookup(platform.sessions),
            box=platform.box,
        ).run()
    finally:
        await alerting.stop()


async def ingest_service(platform: Platform) -> None:
    """MQTT ingest (docs/mqtt.md) into the process's telemetry writer."""
    import socket

    from telemetry.ingest.deadletters import DeadLetterStore
    from telemetry.ingest.directory import CredentialDirectory
    from telemetry.ingest.lastseen import LastSeenStore
    from telemetry.ingest.service import IngestConfig, IngestService

    url = platform.settings.mqtt_url
    if url is None:  # a deployment without MQTT sensors: `ioc serve` runs the rest
        logging.getLogger(__name__).warning("MQTT ingest not started: IOC_MQTT_URL is not set")
        return
    if platform.writer is None:
        raise RuntimeError("the MQTT ingest needs the process's started telemetry writer")
    client_id = url.client_id or f"ioc-ingest-{socket.gethostname()}"
    if platform.settings.ingest_worker is not None:  # one stable session per worker (ioc/ingest_workers.py)
        client_id = f"{client_id}-{platform.settings.ingest_worker}"
    await IngestService(
        IngestConfig(url=url, client_id=client_id, self_metrics=True),
        sink=platform.writer,
        dead_letters=DeadLetterStore(platform.sessions),
        last_seen=LastSeenStore(platform.sessions),
        directory=CredentialDirectory(platform.sessions),
    ).run()


async def snmp_service(platform: Platform) -> None:
    from ioc.snmp_poller import snmp_service as run

    await run(platform)


async def cameras_service(platform: Platform) -> None:
    from ioc.camera_poller import camera_service as run

    await run(platform)


SERVICES: dict[str, Service] = {
    "api": api_service,
    "cameras": cameras_service,
    "ingest": ingest_service,
    "monitors": monitors_service,
    "snmp": snmp_service,
}


async def run_services(settings: Settings, names: list[str]) -> None:
    """Open the platform, start the telemetry writer, run the named services side by side, each under
    a supervisor (ioc/supervisor.py): one that fails is restarted with backoff, the others keep running.
    A service may end early (the ingest without IOC_MQTT_URL): it is reported ``stopped``. On shutdown
    the writer drains what it can before the process exits."""
    ingest_only = names == ["ingest"]  # an ingest worker (ioc/ingest_workers.py): no secret key needed
    platform = Platform.open(settings, with_secret=not ingest_only)
    states = {name: ServiceState(name) for name in names}
    platform.service_report = lambda: [state.health() for state in states.values()]
    backoff = Backoff(initial_s=settings.serve.restart_initial_s, max_s=settings.serve.restart_max_s)
    try:
        if not ingest_only:  # the ingest never reads alert channels; `ioc migrate` and a full start seal
            try:
                await seal_clear_secrets(platform)
            except Exception:  # a clear URL still delivers; the next start tries again
                log.exception("could not seal the alert channel URLs stored in clear")
        await platform.start_writer()
        await run_supervised(
            {name: functools.partial(SERVICES[name], platform) for name in names}, states, backoff
        )
    finally:
        await platform.close()


async def serve_until_signalled(settings: Settings, names: list[str]) -> None:
    """:func:`run_services` until SIGTERM or SIGINT, then a graceful stop that returns normally (exit 0).

    The stop is a cancellation: each service stops taking work (the ingest reads no more messages,
    finishes storing and acknowledging the batch it holds: ``IngestConfig.drain_s``), then the
    telemetry writer delivers what it can for ``WriterConfig.stop_timeout`` and keeps the rest
    spooled for the next start. Without a handler SIGTERM would end the process at once: the spool
    stays consistent, but un-acked messages come back as redeliveries and nothing is flushed.
    """
    task = asyncio.ensure_future(run_services(settings, names))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
