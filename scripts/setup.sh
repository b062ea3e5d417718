#!/usr/bin/env bash
# Idempotent set-up: a virtualenv in .venv with sbpfunc and its test dependencies, and
# (when missing) Debian's clang + lld, which the C toolchain tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import sbpfunc, solders, construct, nacl, mmh3, typer, rich, pytest, hypothesis" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
  touch .venv/.installed
fi
if ! command -v clang >/dev/null 2>&1 || ! command -v ld.lld >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang lld) >/dev/null \
      || echo "warning: could not install clang/lld; toolchain tests will be skipped" >&2
  else
    echo "warning: clang/lld missing (apt-get install -y clang lld); toolchain tests will be skipped" >&2
  fi
fi
