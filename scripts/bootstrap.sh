#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: apt packages listed in scripts/apt.d/*.txt,
# a virtualenv in .venv built on Debian's python3, and the project installed editable with its test and demo extras.
# Re-running it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(cat scripts/apt.d/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=""
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv"
  .venv/bin/python -m pip install -q -e '.[test,demo]' 2>&1 | grep -v "is ignored: it is neither" || true
  # the demo's SNMP walks: data only; its stale pysmi<2 pin would break pysnmp 7 (see pyproject.toml)
  .venv/bin/python -m pip install -q --no-deps 'snmpsim-data>=1.0' 2>&1 | grep -v "is ignored: it is neither" || true
  .venv/bin/python -c "import ioc, device_registry" 
  rm -f .venv/.installed-*
  touch "$stamp"
fi
