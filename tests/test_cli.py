"""The command line: documented outputs and exit codes; bad input is one line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sbpfunc.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(args, capsys):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def demo_so(tmp_path, capsys):
    so = tmp_path / "demo.so"
    rc, out, _ = run(["asm", ROOT / "programs/asm/demo.s", "-o", so], capsys)
    assert rc == 0 and so.exists()
    return so


def test_run_json_success(demo_so, capsys):
    rc, out, err = run(["run", demo_so, "--json"], capsys)
    assert rc == 0
    assert json.loads(out) == {"r0": 0, "compute_units": 287, "error": None, "error_kind": None}


def test_run_json_fault_and_max_cu(tmp_path, capsys):
    src = tmp_path / "loop.s"
    src.write_text("entrypoint:\n    ja entrypoint\n")
    rc, out, _ = run(["run", src, "--json", "--max-cu", "1000"], capsys)
    assert rc == 2
    assert json.loads(out) == {"r0": 0, "compute_units": 1000,
                               "error": "exceeded CUs meter at BPF instruction",
                               "error_kind": "ExceededMaxInstructions"}


def test_run_input_and_access_violation(tmp_path, capsys):
    src = tmp_path / "read.s"
    src.write_text("ldxdw r0, [r1+0]\nexit\n")
    rc, out, _ = run(["run", src, "--json", "--input", "2a00000000000000"], capsys)
    assert rc == 0 and json.loads(out)["r0"] == 42
    rc, out, _ = run(["run", src, "--json", "--input", "2a"], capsys)
    res = json.loads(out)
    assert rc == 2 and res["error_kind"] == "AccessViolation"
    assert res["error"] == "Access violation in input section at address 0x400000000 of size 8"


def test_trace_prints_every_instruction(demo_so, capsys):
    rc, out, _ = run(["run", demo_so, "--trace"], capsys)
    lines = [ln for ln in out.splitlines() if ln[:6].strip().isdigit()]
    assert rc == 0 and len(lines) == 87  # 287 CU = 87 instructions + 2 syscalls at 100
    assert "call sol_log_" in out and "r10=0x200001000" in out


def test_disasm(demo_so, capsys):
    rc, out, _ = run(["disasm", demo_so], capsys)
    assert rc == 0 and out.startswith("entrypoint:\n") and "call factorial" in out


@pytest.mark.parametrize("args, needle", [
    (["run", "missing.so"], "cannot read missing.so"),
    (["run", "{trunc}"], "ValueOutOfBounds"),
    (["run", "{bad_s}"], "line 1: unknown instruction"),
    (["run", "{so}", "--input", "zz"], "--input is not valid hex"),
    (["asm", "{bad_s}", "-o", "{tmp}/x.so"], "unknown instruction"),
    (["exec", "missing.json"], "cannot read missing.json"),
    (["exec", "{bad_json}"], "not valid JSON"),
    (["run", "{so}", "--max-cu", "-5"], "must not be negative"),
])
def test_bad_input_is_one_line(tmp_path, demo_so, capsys, args, needle):
    trunc = tmp_path / "trunc.so"
    trunc.write_bytes(demo_so.read_bytes()[:40])
    bad_s = tmp_path / "bad.s"
    bad_s.write_text("frobnicate r1\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{nope")
    fmt = {"trunc": trunc, "bad_s": bad_s, "so": demo_so, "tmp": tmp_path, "bad_json": bad_json}
    rc, out, err = run([a.format(**fmt) for a in args], capsys)
    assert rc == 1
    assert needle in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_console_script_never_prints_a_traceback(tmp_path):
    garbage = tmp_path / "garbage.so"
    garbage.write_bytes(b"\x7fELF" + bytes(range(200)))
    exe = Path(sys.executable).parent / "sbpfunc"
    proc = subprocess.run([str(exe), "run", str(garbage)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_exec_golden_case_json_and_diff(tmp_path, capsys):
    case = ROOT / "fixtures/cases/cpi_transfer_pda.json"
    rc, out, _ = run(["exec", case, "--json"], capsys)
    expected = json.loads(case.read_text())["expected"]
    assert rc == 0 and json.loads(out) == expected
    changed = json.loads(case.read_text())
    changed["expected"]["compute_units_consumed"] += 1
    changed["programs"] = {k: {**v, "path": str((case.parent / v["path"]).resolve())}
                           for k, v in changed["programs"].items()}
    bad = tmp_path / "bad_case.json"
    bad.write_text(json.dumps(changed))
    rc, out, _ = run(["exec", bad], capsys)
    assert rc == 1 and "DIFFERS from expected" in out and "compute_units_consumed" in out


@pytest.mark.parametrize("engine", ["interpreter", "translated"])
def test_engines_agree_on_the_cli(demo_so, capsys, engine):
    rc, out, _ = run(["run", demo_so, "--json", "--engine", engine], capsys)
    assert rc == 0 and json.loads(out)["compute_units"] == 287
    rc, out, _ = run(["exec", ROOT / "fixtures/cases/bench_sort.json", "--engine", engine], capsys)
    assert rc == 0 and "matches expected" in out


def test_unknown_engine_is_one_line(demo_so, capsys):
    rc, _, err = run(["run", demo_so, "--engine", "jit"], capsys)
    assert rc == 1 and "unknown engine 'jit'" in err
