"""`sbpfunc module hash|info|calibrate` and `sbpfunc model pack|inspect`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sbpfunc.cli import main

ROOT = Path(__file__).resolve().parents[2]
ML = ROOT / "sbpfunc/modules/ml.py"
ADV = ROOT / "sbpfunc/modules/ml_advanced.py"


def run(args, capsys):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_hash_is_the_files_sha256(capsys):
    rc, out, _ = run(["module", "hash", ML], capsys)
    assert rc == 0 and out.strip() == hashlib.sha256(ML.read_bytes()).hexdigest()


def test_info_lists_functions_with_ids_and_costs(capsys):
    rc, out, _ = run(["module", "info", ML, "--json"], capsys)
    info = json.loads(out)
    names = {f["name"]: f for f in info["functions"]}
    assert rc == 0 and {"sol_ml_matmul", "sol_ml_activation", "sol_ml_forward"} <= set(names)
    assert names["sol_ml_matmul"]["id"] == "0x5ee5774b"  # murmur3-32 of the name
    assert "d.m*d.k*d.n" in names["sol_ml_matmul"]["cost"]


def test_calibrate_reports_and_fails_on_a_tiny_budget(capsys):
    rc, out, _ = run(["module", "calibrate", ADV, "--json"], capsys)
    rep = json.loads(out)
    assert rc == 0 and rep["ok"] and rep["vectors"]
    rc, out, _ = run(["module", "calibrate", ADV, "--ns-per-cu", "0", "--json"], capsys)
    assert rc == 1 and not json.loads(out)["ok"]


def test_model_pack_and_inspect(tmp_path, capsys):
    spec = {"layers": [{"weights": [[1, 2], [3, 4], [5, 6]], "bias": [7, 8], "scale": 4096, "activation": "relu"},
                       {"weights": [[1], [2]], "bias": [0], "scale": 4096, "activation": "none"}]}
    (tmp_path / "m.json").write_text(json.dumps(spec))
    rc, out, _ = run(["model", "pack", tmp_path / "m.json", "-o", tmp_path / "m.bin"], capsys)
    assert rc == 0 and (tmp_path / "m.bin").read_bytes()[:4] == b"SBML"
    rc, out, _ = run(["model", "inspect", tmp_path / "m.bin", "--json"], capsys)
    info = json.loads(out)
    assert rc == 0 and info["in_len"] == 3 and info["out_len"] == 1 and len(info["layers"]) == 2


def test_bad_module_and_model_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.py").write_text("x = 1\n")
    rc, _, err = run(["module", "info", tmp_path / "bad.py"], capsys)
    assert rc == 1 and "defines no MODULE" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "junk.bin").write_bytes(b"nope")
    rc, _, err = run(["model", "inspect", tmp_path / "junk.bin"], capsys)
    assert rc != 0 and "Traceback" not in err
