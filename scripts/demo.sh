#!/usr/bin/env bash
# The demo: an sBPF program assembled and traced; a governance dry-run that activates the ML
# SBPFunc module; the on-chain trading agent calling sol_ml_* with and without the module.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SB=.venv/bin/sbpfunc
out=$(mktemp -d)
echo "== 1. assemble programs/asm/demo.s (10! with a recursive call) and run it"
$SB asm programs/asm/demo.s -o "$out/demo.so"
$SB run "$out/demo.so" --trace | tail -n 4
$SB run "$out/demo.so" --json
echo
echo "== 2. governance dry-run: validators vote on the ML module (sha256-pinned), stake-weighted"
$SB governance dry-run governance/ml-activate.toml --stakes governance/stakes.toml \
    --ballots governance/ballots --programs fixtures | grep -v "unchanged (loads)"
echo
echo "== 3. the trading agent (12->8->3 MLP through sol_ml_* SBPFuncs) with the ML module active"
$SB exec examples/ml_agent.json --module sbpfunc/modules/ml.py
echo
echo "== 4. the same program without the module: it fails at its first SBPFunc call, as in Agave"
$SB exec examples/ml_agent.json | tail -n 3
