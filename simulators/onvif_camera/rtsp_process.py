"""GStreamer's RTSP server (``gst_rtsp_server.py``) as a child process, for the tests and the demo.

It runs on Debian's ``python3`` because PyGObject and the GStreamer typelibs are Debian packages a
virtualenv does not see; a missing piece raises :class:`MissingBinary` naming the packages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from simulators.process import ManagedProcess, MissingBinary, wait_for_tcp

GST_RTSP_SERVER = Path(__file__).resolve().parent / "gst_rtsp_server.py"
GST_PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
H265_PACKAGE = "gstreamer1.0-plugins-bad"
SYSTEM_PYTHON = "/usr/bin/python3"


def _check(code: str) -> bool:
    return subprocess.run([SYSTEM_PYTHON, "-c", code], capture_output=True, check=False).returncode == 0


def check_gstreamer(*, h265: bool = False) -> None:
    """Raises :class:`MissingBinary` naming the Debian packages when the server cannot run."""
    if not Path(SYSTEM_PYTHON).exists():
        raise MissingBinary(SYSTEM_PYTHON, "python3")
    if not _check(
        "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    ):
        raise MissingBinary("GStreamer RTSP server bindings", GST_PACKAGES)
    if h265 and not _check(
        "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); "
        "found = Gst.ElementFactory.find('x265enc') and Gst.ElementFactory.find('rtph265pay'); "
        "raise SystemExit(0 if found else 1)"
    ):
        raise MissingBinary("GStreamer x265enc", H265_PACKAGE)


def rtsp_server_process(
    folder: Path,
    port: int,
    *,
    user: str,
    password: str,
    h265_path: str | None = None,
    basic: bool = False,
    log_name: str = "gst-rtsp-server.log",
) -> ManagedProcess:
    """An unstarted RTSP server: MJPEG at ``/stream``, H.265 at ``h265_path`` if given; Digest auth, or
    Basic only with ``basic``."""
    check_gstreamer(h265=h265_path is not None)
    argv = [SYSTEM_PYTHON, str(GST_RTSP_SERVER), "--port", str(port), "--user", user]
    if h265_path:
        argv += ["--h265-path", h265_path]
    if basic:
        argv.append("--basic")
    return ManagedProcess(
        argv,
        log_path=folder / log_name,
        ready=lambda: wait_for_tcp(port),
        cwd=folder,
        die_with_parent=True,
        env={"RTSP_PASSWORD": password},  # gst_rtsp_server.PASSWORD_ENV: never in argv
    )
