"""`sbpfunc module audit`: every checklist item, mechanically, with a report bound to the hash."""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest

from sbpfunc.governance.audit import audit_module, static_checks
from sbpfunc.governance.errors import GovernanceError

from .conftest import ROOT, toy_source


def findings(src: str) -> dict[str, list[str]]:
    return {c.name: c.findings for c in static_checks(textwrap.dedent(src).encode()) if c.findings}


def test_a_good_module_passes_and_the_report_is_bound_to_its_hash(modules_dir, audits):
    path = modules_dir / "toy.py"
    r = audits["toy"]
    assert r["passed"] is True and r["format"] == "sbpfunc-audit-v1"
    assert r["module"] == {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                           "name": "toy", "version": "1.0.0"}
    assert [c["check"] for c in r["checks"]] == ["syntax", "floats", "imports", "builtins", "manifest", "signatures",
                                                 "costs", "vectors", "determinism", "calibration"]
    assert all(c["passed"] and not c["findings"] for c in r["checks"])
    (fn,) = r["functions"]
    assert fn["name"] == "toy_scale_add" and fn["vectors"] == 2 and fn["cost"] == "100 + d.n * 2"
    assert fn["signature"].startswith("u64 toy_scale_add(i32 *out[d.n] __write")
    assert fn["calibration"]["worst"]["cost"] == 106


@pytest.mark.parametrize("src,needle", [
    ("x = 0.5", "float literal 0.5"),
    ("x = 1j", "complex literal"),
    ("x = 3 / 2", "true division"),
    ("x = 3\nx /= 2", "`/=`"),
    ("x = float(3)", "`float`"),
    ("x = 2 ** -1", "negative exponent"),
    ("x = pow(2, -3)", "negative exponent"),
    ("x = f'{3:.2f}'", "float format spec"),
    ("x = [1].mean()", ".mean()"),
    ("import numpy as np\nx = np.asarray([1], dtype='float64')", "dtype 'float64'"),
    ("import numpy as np\nx = np.asarray([1]).astype(float)", "dtype float"),
])
def test_floats_are_refused(src, needle):
    assert any(needle in f for f in findings(src).get("floats", [])), findings(src)


def test_construct_field_naming_is_not_division():
    assert "floats" not in findings('import construct as c\nS = c.Struct("n" / c.Int32ul)\nMODULE = 1')


def test_integer_numpy_is_allowed():
    src = ("import numpy as np\nx = np.asarray([1], dtype=np.int64).reshape(1, 1)\n"
           "y = np.where(x < 0, -x, x)\nMODULE = 1")
    assert findings(src) == {}


@pytest.mark.parametrize("src,needle", [
    ("import os", "import os"),
    ("import socket", "import socket"),
    ("import time", "import time"),
    ("import random", "import random"),
    ("import threading", "import threading"),
    ("import subprocess", "import subprocess"),
    ("from os import path", "from os import"),
    ("from . import x", "relative import"),
    ("import math", "only `from math import"),
    ("from math import sqrt", "from math import sqrt"),
    ("from construct import core", "reaches a module"),
    ("import construct as c\nx = c.core", "c.core reaches a module"),
    ("from construct import *", "import *"),
    ("import numpy as np\nx = np.float64(1)", "np.float64"),
    ("import numpy as np\nx = np.random", "np.random"),
])
def test_imports_outside_the_allow_list_are_refused(src, needle):
    assert any(needle in f for f in findings(src).get("imports", [])), findings(src)


def test_allowed_imports():
    src = ("from __future__ import annotations\nfrom math import isqrt\nfrom operator import mul\n"
           "import construct as c\nfrom sbpfunc.syscalls.signature import Module\nMODULE = 1")
    assert findings(src) == {}


@pytest.mark.parametrize("src,needle", [
    ("x = open('f')", "builtin `open`"),
    ("x = eval('1')", "builtin `eval`"),
    ("exec('1')", "builtin `exec`"),
    ("x = __import__('os')", "dunder name __import__"),
    ("x = getattr(1, 'real')", "builtin `getattr`"),
    ("x = globals()", "builtin `globals`"),
    ("print(1)", "builtin `print`"),
    ("x = compile('1', 'f', 'eval')", "builtin `compile`"),
    ("x = hash('a')", "builtin `hash`"),
    ("x = id(1)", "builtin `id`"),
    ("x = ().__class__", "dunder attribute .__class__"),
    ("x = __builtins__", "dunder name __builtins__"),
    ("x = undefined_thing", "`undefined_thing` is never defined"),
    ("def f(open):\n    return open\nx = open('f')", "builtin `open`"),
])
def test_builtins_outside_the_allow_list_are_refused(src, needle):
    assert any(needle in f for f in findings(src).get("builtins", [])), findings(src)


def test_parameters_named_like_builtins_are_not_builtins():
    src = "def f(input, len):\n    return [x for x in input][:len]\nMODULE = f([1], 1)"
    assert findings(src) == {}


def test_manifest_and_syntax():
    assert findings("x = 1")["manifest"] == ["no top-level `MODULE = Module(...)` assignment"]
    assert "syntax" in findings("def (")


def write(tmp_path, src, name="m.py"):
    p = tmp_path / name
    p.write_text(src)
    return p


def failed(report) -> dict[str, list[str]]:
    return {c.name: c.findings or [c.skipped] for c in report.checks if not c.passed or c.skipped}


def test_static_failure_means_the_module_never_runs(tmp_path):
    p = write(tmp_path, toy_source(extra="\nimport os\nos.system('touch PWNED')\n"))
    r = audit_module(p)
    assert not r.passed
    assert "imports" in failed(r) and failed(r)["vectors"] == ["static checks failed: the module is not run"]
    assert not (tmp_path / "PWNED").exists()


def test_failing_vector(tmp_path):
    src = toy_source().replace('{"out": [4, -11, 14]}', '{"out": [4, -11, 15]}')
    r = audit_module(write(tmp_path, src))
    assert failed(r) == {"vectors": ["toy_scale_add vector #0: output `out` [4, -11, 14], expected [4, -11, 15]"]}


def test_missing_vectors_signature_and_cost(tmp_path):
    src = toy_source().replace("test_vectors=(", "test_vectors=() and (")
    src = src.replace("def scale_add(out, a, d, bias):", "def scale_add(out, a, d, offset):")
    src = src.replace("+ bias for", "+ offset for")
    src = src.replace('cost="100 + d.n * 2"', 'cost="100 + q"')
    r = audit_module(write(tmp_path, src))
    f = failed(r)
    assert f["vectors"] == ["toy_scale_add: no test vectors"]
    assert f["signatures"] == ["toy_scale_add: implementation takes (out, a, d, offset), declared (out, a, d, bias)"]
    assert f["costs"] == ["toy_scale_add: cost formula (100 + q) uses undeclared `q`"]


def test_nondeterminism_across_processes_is_caught(tmp_path):
    extra = textwrap.dedent('''
        def shuffled(out, a, d, bias):
            order = list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}).index("alpha")
            return 0, {"out": [order] * len(a)}
        ''')
    src = toy_source(extra=extra).replace("impl=scale_add", "impl=shuffled")
    r = audit_module(write(tmp_path, src))
    f = failed(r)
    assert f["determinism"] == ["the two runs produced different results"]


def test_calibration_budget(tmp_path, modules_dir):
    r = audit_module(modules_dir / "toy.py", ns_per_cu=1)
    (finding,) = failed(r)["calibration"]
    assert "toy_scale_add vector #0:" in finding and "> 106 CU x 1 ns/CU" in finding
    with pytest.raises(GovernanceError, match="positive integer"):
        audit_module(modules_dir / "toy.py", ns_per_cu=0)


def test_module_that_fails_to_load(tmp_path):
    src = toy_source(extra="\nBOOM = [][1]\n")
    r = audit_module(write(tmp_path, src))
    assert not r.passed and "IndexError" in failed(r)["signatures"][0]


def test_unreadable_file(tmp_path):
    with pytest.raises(GovernanceError, match="cannot read module"):
        audit_module(tmp_path / "missing.py")


def test_text_and_json_reports(modules_dir, audits):
    r = audit_module(modules_dir / "toy.py")
    text = r.to_text()
    assert f"sha256  {r.sha256}" in text and text.rstrip().endswith(f"PASSED (report bound to sha256 {r.sha256})")
    assert json.loads(r.to_json())["module"]["sha256"] == r.sha256


def test_shipped_modules_pass():
    for name in ("ml", "ml_advanced"):
        path = ROOT / "sbpfunc" / "modules" / f"{name}.py"
        if not path.exists():
            pytest.skip(f"{path} is not there yet")
        r = audit_module(path)
        assert r.passed, r.to_text()
