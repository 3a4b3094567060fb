"""The real servers the dashboard queries are proven against: the fixtures the protocol tests use."""

from __future__ import annotations

from tests.mqtt.conftest import broker  # noqa: F401  (Mosquitto from the platform's generated config)
from tests.snmp.conftest import snmpsim  # noqa: F401  (snmpsim with real device walks)
