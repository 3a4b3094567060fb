"""``HOST[:PORT]`` as people type it, parsed once for every protocol's endpoint type.

Each protocol's endpoint (``SnmpEndpoint``, ``OnvifEndpoint``, ``MqttEndpoint``) names its default port
as ``DEFAULT_PORT`` and splits a target with :func:`split_host_port`, so the CLI, the API and the
collectors agree on which port an address without one means.
"""

from __future__ import annotations


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[IPv6]`` or ``[IPv6]:PORT`` (a bare IPv6 address keeps the default
    port). Raises ``ValueError`` naming ``HOST[:PORT]``."""
    text = value.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"HOST[:PORT]: {value!r} is not [IPv6]:PORT")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise ValueError(f"HOST[:PORT]: no host in {value!r}")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"HOST[:PORT]: port must be 1-65535, got {port_text!r}")
    return host, int(port_text)
