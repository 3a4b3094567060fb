#!/usr/bin/env bash
# The test command: installs what the tests need, then lint, type-check and the whole suite
# against real servers that the fixtures start on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -50; exit 1; }
.venv/bin/mypy .
.venv/bin/lint-imports  # the layers and "only client.py imports the protocol library" (pyproject.toml)
.venv/bin/pytest -n 2 "$@"
