"""The C toolchain on the program corpus: fixtures are reproducible, build errors are one line.

* `programs/build.py` rebuilds every programs/NAME.c; the result must equal the committed
  fixtures/NAME.so byte for byte (skipped, with the reason, when clang is not installed).
* `sbpfunc build` exits 1 with a one-line message on a syntax error, and when clang is absent
  (that case needs no clang, so it always runs).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sbpfunc.toolchain import compiler
from sbpfunc.toolchain.errors import ToolchainError

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted(p.stem for p in (ROOT / "programs").glob("*.c"))


def _clang_missing() -> str | None:
    try:
        compiler.find_clang()
    except ToolchainError as e:
        return str(e)
    return None


needs_clang = pytest.mark.skipif(_clang_missing() is not None,
                                 reason=f"clang is not installed ({_clang_missing()}); "
                                        "cannot rebuild the fixtures")


def _build_script():
    spec = importlib.util.spec_from_file_location("sbpfunc_programs_build", ROOT / "programs" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> dict[str, bytes]:
    """Every program rebuilt by programs/build.py into a temporary directory."""
    out = tmp_path_factory.mktemp("fixtures")
    return _build_script().build_all(out)


def test_corpus_size():
    assert len(PROGRAMS) >= 20


@needs_clang
@pytest.mark.parametrize("name", PROGRAMS)
def test_fixture_is_reproducible(rebuilt, name):
    fixture = ROOT / "fixtures" / f"{name}.so"
    assert fixture.is_file(), f"fixtures/{name}.so is missing: run `python programs/build.py`"
    assert rebuilt[name] == fixture.read_bytes(), \
        f"fixtures/{name}.so is out of date: run `python programs/build.py {name}`"


def test_no_stale_fixtures():
    assert sorted(p.stem for p in (ROOT / "fixtures").glob("*.so")) == PROGRAMS


@needs_clang
def test_build_does_not_depend_on_the_source_path(tmp_path, rebuilt):
    """The same source compiled from elsewhere, via the CLI, gives the same bytes."""
    src = tmp_path / "elsewhere" / "deeper" / "panic.c"
    src.parent.mkdir(parents=True)
    shutil.copy(ROOT / "programs" / "panic.c", src)
    out = tmp_path / "x.so"
    proc = subprocess.run([sys.executable, "-m", "sbpfunc.cli", "build", str(src), "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == rebuilt["panic"]


HEADER = re.compile(r"/\* PURPOSE: .+ EXPECT: .+ \*/")


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_states_purpose_and_expectation(name):
    first = (ROOT / "programs" / f"{name}.c").read_text().splitlines()[0]
    assert HEADER.fullmatch(first), f"programs/{name}.c must start with /* PURPOSE: ... EXPECT: ... */"


def test_readme_lists_every_program():
    readme = (ROOT / "programs" / "README.md").read_text()
    missing = [n for n in PROGRAMS if f"`{n}.c`" not in readme]
    assert not missing, missing


# ---- error reporting ------------------------------------------------------------------------------

def _cli(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbpfunc.cli", *args], capture_output=True, text=True,
                          timeout=120, **kw)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@needs_clang
def test_syntax_error_is_one_line(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("#include <sbpfunc.h>\nuint64_t entrypoint(const uint8_t *input) {\n  return 0\n}\n")
    out = tmp_path / "bad.so"
    proc = _cli(["build", str(bad), "-o", str(out)])
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert line.startswith("error:") and "bad.c:3" in line and "expected ';'" in line, line
    assert not out.exists()


def test_missing_clang_is_one_line_with_install_hint(tmp_path):
    src = tmp_path / "hello.c"
    shutil.copy(ROOT / "programs" / "hello.c", src)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SBPFUNC_CLANG"}
    env["PATH"] = str(empty)
    proc = _cli(["build", str(src), "-o", str(tmp_path / "hello.so")], env=env)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert "clang" in line and "apt-get install" in line, line
    assert not (tmp_path / "hello.so").exists()


def test_missing_clang_in_process(monkeypatch, tmp_path):
    monkeypatch.delenv("SBPFUNC_CLANG", raising=False)
    monkeypatch.setattr(compiler.shutil, "which", lambda name: None)
    with pytest.raises(ToolchainError, match="clang not found: install it with: apt-get install"):
        compiler.build([ROOT / "programs" / "hello.c"], tmp_path / "hello.so")
