#!/usr/bin/env bash
# Runs the whole test suite (slow fuzz and benchmark runs are opt-in: -m slow / -m fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
