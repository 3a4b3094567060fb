"""Run a simulated fleet: ``python -m simulators.onvif_camera --count 10`` or ``--config fleet.yaml``.

Prints one line ``READY <port> <port> ...`` once every camera listens, then serves until SIGTERM/SIGINT.
A YAML config is a list of CameraConfig fields per camera.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

import yaml

from simulators.onvif_camera.config import CameraConfig
from simulators.onvif_camera.discovery import start_responder
from simulators.onvif_camera.server import CameraFleet


def _configs(args: argparse.Namespace) -> list[CameraConfig]:
    known = {f.name for f in dataclasses.fields(CameraConfig)}
    if args.config:
        entries = yaml.safe_load(Path(args.config).read_text()) or []
        configs = []
        for index, entry in enumerate(entries):
            unknown = set(entry) - known
            if unknown:
                raise SystemExit(f"{args.config}: camera {index}: unknown field(s) {sorted(unknown)}")
            configs.append(CameraConfig(**{"host": args.host, **entry}))
        return configs
    return [
        CameraConfig(
            name=f"Camera {i + 1}",
            host=args.host,
            port=args.base_port + i if args.base_port else 0,
            username=args.user,
            password=args.password,
            auth_everything=args.auth_everything,
            minimal=args.minimal,
            http_digest=args.http_digest,
            ws_security=not args.no_ws_security,
            reported_host=args.reported_host,
            reported_port=args.reported_port,
        )
        for i in range(args.count)
    ]


async def _serve(args: argparse.Namespace) -> None:
    fleet = await CameraFleet(_configs(args)).start()
    responder = None
    if args.discovery_address:
        responder = await start_responder(
            fleet.cameras,
            args.discovery_address,
            interface=args.discovery_interface,
            port=args.discovery_port,
            malformed=args.malformed,
        )
    print("READY " + " ".join(str(camera.port) for camera in fleet.cameras), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if responder is not None:
        responder.close()
    await fleet.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.onvif_camera", description=__doc__)
    parser.add_argument("--config", help="YAML list of camera settings")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1", help="address the cameras listen on")
    parser.add_argument("--base-port", type=int, default=0, help="first port (0: kernel-chosen)")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin123")
    behaviour = parser.add_argument_group("field behaviours (off by default; with --count)")
    behaviour.add_argument(
        "--auth-everything", action="store_true", help="demand a login even for GetSystemDateAndTime"
    )
    behaviour.add_argument(
        "--minimal", action="store_true", help='answer "Action not supported" to every optional operation'
    )
    behaviour.add_argument(
        "--http-digest", choices=["MD5", "SHA-256"], help="demand HTTP Digest in front of SOAP"
    )
    behaviour.add_argument(
        "--no-ws-security", action="store_true", help="check no WS-Security token (Digest-only device)"
    )
    behaviour.add_argument("--reported-host", help="NAT: host named in XAddrs, stream and snapshot URIs")
    behaviour.add_argument("--reported-port", type=int, help="NAT: port named in XAddrs and snapshot URIs")
    parser.add_argument("--discovery-address", help="answer WS-Discovery on the interface with this IPv4")
    parser.add_argument("--discovery-interface", help="interface name for WS-Discovery (with the address)")
    parser.add_argument("--discovery-port", type=int, default=3702, help="WS-Discovery port")
    parser.add_argument("--malformed", choices=["no_wrapper", "unescaped_scopes"], default=None)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
