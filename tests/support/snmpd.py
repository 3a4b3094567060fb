"""How net-snmp's ``snmpd`` runs under the tests and benches: in the foreground, with only our config
(``-C``), no MIB loading (``-M /dev/null``), no SMUX, logging to stdout, listening where we say."""

from __future__ import annotations

from pathlib import Path


def snmpd_argv(binary: str, conf: Path, listen: str) -> list[str]:
    """``listen`` is net-snmp's agent address list, e.g. ``udp:127.0.0.1:1161,tcp:127.0.0.1:1161``."""
    return [binary, "-f", "-C", "-c", str(conf), "-I", "-smux", "-M", "/dev/null", "-Lo", listen]
