"""A real RTSP server for tests and the demo fleet: GStreamer's gst-rtsp-server with Digest auth.

Run with Debian's interpreter (it needs python3-gi and gir1.2-gst-rtsp-server-1.0, which a virtualenv
does not see): ``RTSP_PASSWORD=p /usr/bin/python3 gst_rtsp_server.py --port 8554 --user u``. Serves a
live test pattern as MJPEG/RTP at ``rtsp://127.0.0.1:PORT/stream`` (and H.265 at ``--h265-path``, which
needs x265enc from gstreamer1.0-plugins-bad); prints ``READY`` once listening.
``--basic`` offers Basic authentication only, as some old firmware does.
The password comes from the environment, not argv: argv is visible to every local user, and a generated
password starting with ``-`` would be read as an option.
Deliberately imports nothing from the project.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PASSWORD_ENV = "RTSP_PASSWORD"

PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=10/1 "
    "! jpegenc ! rtpjpegpay name=pay0 pt=26 )"
)
H265_PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=5/1 "
    "! x265enc speed-preset=ultrafast tune=zerolatency key-int-max=10 ! rtph265pay name=pay0 pt=96 )"
)


def _factory(launch: str, auth_role: bool) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    if auth_role:
        role = Gst.Structure.new_from_string(
            "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )
        factory.add_role_from_structure(role)
    return factory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--user")
    parser.add_argument("--h265-path", help="also serve an H.265 stream at this path")
    parser.add_argument("--basic", action="store_true", help="offer Basic auth only (old firmware)")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    if args.user:
        password = os.environ.get(PASSWORD_ENV, "")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken.new()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        if args.basic:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, password), token)
        else:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, password, token)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    mounts.add_factory(args.path, _factory(PIPELINE, bool(args.user)))
    if args.h265_path:
        mounts.add_factory(args.h265_path, _factory(H265_PIPELINE, bool(args.user)))
    if server.attach(None) == 0:
        print(f"cannot listen on {args.address}:{args.port}", file=sys.stderr, flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY rtsp://{args.address}:{args.port}{args.path}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
