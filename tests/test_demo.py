"""The README's demo command runs end to end (the same script a new user runs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_script_runs():
    proc = subprocess.run(["bash", str(ROOT / "scripts/demo.sh")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert '"compute_units": 287' in out
    assert "result: Active" in out and "ml_trading_agent.so: newly loads" in out
    assert "Program log: AI prediction: action=" in out
    assert out.rstrip().endswith("failed: unsupported BPF instruction")
