#!/usr/bin/env bash
# A living Thái Bình fleet: `ioc demo` starts Mosquitto, InfluxDB 1.x, a local mailbox, the simulated
# switches (snmpsim), cameras (ONVIF + GStreamer RTSP) and MQTT sensors, onboards them through the
# platform's real paths, runs `ioc serve` and plays scripted faults. Ctrl-C stops everything.
# Extra arguments go to `ioc demo` (e.g. `bash scripts/demo.sh --size province`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/ioc demo "$@"
