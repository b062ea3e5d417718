"""C -> SBPF v0 shared object with stock clang (`-target bpf`) and our linker.

Why these flags: `-mcpu=v1` never emits 32-bit ALU instructions (clang's alu32 assumes
zero-extension, which SBPF v0's sign-extending add32/sub32/mul32 would break); `-fno-builtin
-ffreestanding` keep clang from calling libc; `-fPIC` makes constant tables of pointers land in
`.data.rel.ro` with ABS64 relocations the loader can rebase.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from .errors import CompileError, ToolchainError
from .linker import link_files

DEFAULT_CFLAGS = ["-target", "bpf", "-mcpu=v1", "-O2", "-fno-builtin", "-ffreestanding", "-fPIC",
                  "-std=c11", "-Wall", "-Werror=implicit-function-declaration"]
INSTALL_HINT = "install it with: apt-get install -y clang lld"


def include_dir() -> Path:
    """The SDK headers shipped inside the package (`#include <sbpfunc.h>`)."""
    return Path(str(resources.files("sbpfunc.toolchain") / "include"))


def find_clang() -> str:
    for name in (os.environ.get("SBPFUNC_CLANG"), "clang", "clang-14", "clang-15", "clang-16"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise ToolchainError(f"clang not found: {INSTALL_HINT}")


def _first_error(stderr: str, source: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln:
            return ln.strip()
    return lines[0].strip() if lines else f"clang failed on {source}"


def compile_c(source: str | Path, output: str | Path, cflags: list[str] | None = None) -> None:
    """Compile one C file to a relocatable BPF object."""
    clang = find_clang()
    flags = list(DEFAULT_CFLAGS if cflags is None else cflags)
    cmd = [clang, *flags, "-I", str(include_dir()), "-c", str(source), "-o", str(output)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except OSError as e:
        raise ToolchainError(f"cannot run {clang}: {e}") from None
    except subprocess.TimeoutExpired:
        raise CompileError(f"clang timed out on {source}") from None
    if proc.returncode != 0:
        msg = _first_error(proc.stderr, str(source))
        if "stack limit" in proc.stderr or "stack size" in proc.stderr:
            msg = (f"{source}: stack frame too large (BPF allows 512 bytes per function; "
                   f"put large buffers on the heap): {msg}")
        raise CompileError(msg)


def build(sources: list[str | Path], output: str | Path, cflags: list[str] | None = None) -> bytes:
    """Compile C (or take .o) sources and link them into `output`. Returns the .so bytes."""
    if not sources:
        raise ToolchainError("no source files given")
    with tempfile.TemporaryDirectory(prefix="sbpfunc-build-") as tmp:
        objects = []
        for i, src in enumerate(sources):
            src = Path(src)
            if not src.exists():
                raise ToolchainError(f"{src}: no such file")
            if src.suffix == ".o":
                objects.append(str(src))
                continue
            obj = Path(tmp) / f"{i}-{src.stem}.o"
            compile_c(src, obj, cflags)
            objects.append(str(obj))
        so = link_files(objects)
    try:
        Path(output).write_bytes(so)
    except OSError as e:
        raise ToolchainError(f"cannot write {output}: {e.strerror or e}") from None
    return so
