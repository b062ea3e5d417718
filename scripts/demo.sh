#!/usr/bin/env bash
# The demo: assemble an sBPF program, disassemble it, run it with a trace, then as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SB=.venv/bin/sbpfunc
out=$(mktemp -d)
echo "== assemble programs/asm/demo.s"
$SB asm programs/asm/demo.s -o "$out/demo.so"
echo "== disassemble"
$SB disasm "$out/demo.so"
echo "== run (last lines of the trace)"
$SB run "$out/demo.so" --trace | tail -n 6
echo "== run --json"
$SB run "$out/demo.so" --json
