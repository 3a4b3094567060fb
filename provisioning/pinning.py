"""Pinned addresses: a URL a device reports is used only at the address the device is registered at.

Cameras behind NAT, or with a misconfigured host name, report addresses that are not theirs; a
hostile device could report somebody else's, to have our credentials sent there. So before any use
and before storage every reported URL is rewritten to the registered host:

- service addresses (ONVIF XAddrs, which receive our WS-Security and HTTP Digest credentials) also
  to the registered port: a device serves its ONVIF services from one HTTP server;
- media URLs (RTSP stream, HTTP snapshot) to the registered port only where they name the port the
  device reported for its own device service (a port-forward of that one HTTP server); a different
  port (RTSP's 554) is another service of the same host and is kept.

``keep_reported=True`` (``--keep-reported-addresses``) leaves URLs as reported, for the engineer
whose network needs it. Credentials embedded in a URL never reach storage (:func:`strip_userinfo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}


def _netloc(host: str, port: int | None, userinfo: str = "") -> str:
    bracketed = f"[{host}]" if ":" in host else host
    prefix = f"{userinfo}@" if userinfo else ""
    return f"{prefix}{bracketed}:{port}" if port is not None else f"{prefix}{bracketed}"


def _userinfo(netloc: str) -> str:
    return netloc.rpartition("@")[0] if "@" in netloc else ""


def url_port(url: str) -> int | None:
    """The URL's port, or its scheme's default; None when neither is known or the port is invalid."""
    parts = urlsplit(url)
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` (what is stored and shown)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, ""))


@dataclass(frozen=True, slots=True)
class Pin:
    """The registered ``host`` and ``port`` of one device's ONVIF service.

    ``service_port`` is the port the device reported for its own device service (from GetServices or
    GetCapabilities); None when it reported none, then media ports are never rewritten.
    """

    host: str
    port: int
    service_port: int | None = None
    keep_reported: bool = False

    def service(self, url: str) -> str:
        """An ONVIF service address: registered host and port, the reported path."""
        if self.keep_reported:
            return url
        parts = urlsplit(url)
        scheme = parts.scheme.lower() if parts.scheme.lower() in ("http", "https") else "http"
        return urlunsplit((scheme, _netloc(self.host, self.port), parts.path or "/", parts.query, ""))

    def media(self, url: str) -> str:
        """A stream or snapshot URI: registered host; registered port where it names the service port."""
        if self.keep_reported or not url:
            return url
        parts = urlsplit(url)
        reported_port = url_port(url)
        port = reported_port
        if self.service_port is not None and reported_port == self.service_port:
            port = self.port
        if port is not None and port == DEFAULT_PORTS.get(parts.scheme.lower()) and parts.port is None:
            port = None  # keep an implicit default port implicit
        netloc = _netloc(self.host, port, _userinfo(parts.netloc))
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def default_device_service_url(host: str, port: int) -> str:
    """Where ONVIF's device service lives unless the device said otherwise."""
    return f"http://{_netloc(host, port)}/onvif/device_service"
