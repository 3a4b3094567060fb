#!/usr/bin/env bash
# Runs the platform on embedded defaults (SQLite, key and spool in IOC_HOME) with Thái Bình loaded,
# a small demo fleet registered and the 2025 reform applied, then serves the API on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
ioc=.venv/bin/ioc
# The demo's simulated devices listen on loopback, which probes and discovery refuse unless allowed.
export IOC_SNMP__ALLOWED_NETWORKS="${IOC_SNMP__ALLOWED_NETWORKS:-127.0.0.0/8}"
export IOC_ONVIF__ALLOWED_NETWORKS="${IOC_ONVIF__ALLOWED_NETWORKS:-127.0.0.0/8}"
$ioc init
$ioc sites load-vn --province 34
if [ "$($ioc --json devices list --limit 1 | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["total"])')" = 0 ]; then
  $ioc devices import simulators/demo/fleet.csv   # registered in pre-2025 communes…
fi
$ioc sites apply-reform-2025 --province 34       # …then moved to the 2025 communes, history kept
echo "Status page: http://${IOC_API__HOST:-127.0.0.1}:${IOC_API__PORT:-8080}/  (log in with the token ioc init printed)"
echo "API docs: http://${IOC_API__HOST:-127.0.0.1}:${IOC_API__PORT:-8080}/docs  (Ctrl-C stops)"
exec $ioc serve
