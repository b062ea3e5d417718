"""The linker's contract: clear errors for what SBPF cannot express, deterministic output."""

from __future__ import annotations

import shutil

import pytest

from sbpfunc.toolchain.compiler import build, compile_c
from sbpfunc.toolchain.errors import CompileError, LinkError
from sbpfunc.toolchain.linker import link, link_files
from sbpfunc.toolchain.objfile import read_object

pytestmark = pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed (apt-get install -y clang lld)")


def _obj(tmp_path, name, src):
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    o = tmp_path / f"{name}.o"
    compile_c(c, o)
    return o


def test_writable_global_is_refused(tmp_path):
    o = _obj(tmp_path, "w", "unsigned long counter = 5;\nunsigned long entrypoint(void){ return counter++; }\n")
    with pytest.raises(LinkError, match=r"writable section \.data .*not supported"):
        link_files([str(o)])


def test_zero_initialised_static_lands_in_bss_and_is_refused(tmp_path):
    o = _obj(tmp_path, "b", "static unsigned long n;\nunsigned long entrypoint(void){ return ++n; }\n")
    with pytest.raises(LinkError, match=r"writable section \.bss"):
        link_files([str(o)])


def test_undefined_data_symbol_is_named(tmp_path):
    o = _obj(tmp_path, "u", "extern const unsigned long table[4];\n"
                            "unsigned long entrypoint(void){ return table[1]; }\n")
    with pytest.raises(LinkError, match="undefined data symbol table"):
        link_files([str(o)])


def test_missing_entrypoint(tmp_path):
    o = _obj(tmp_path, "e", "unsigned long main_(void){ return 0; }\n")
    with pytest.raises(LinkError, match="no entrypoint"):
        link_files([str(o)])


def test_stack_frame_too_large_is_a_clear_error(tmp_path):
    c = tmp_path / "big.c"
    c.write_text("void sol_log_(const char*, unsigned long);\n"
                 "unsigned long entrypoint(void){ volatile char buf[1024]; buf[0]=1; sol_log_((const char*)buf, 1024);"
                 " return buf[1000]; }\n")
    with pytest.raises(CompileError, match="stack frame too large"):
        build([c], tmp_path / "big.so")


def test_unsupported_relocation_is_named(tmp_path):
    o = _obj(tmp_path, "r", "unsigned long entrypoint(void){ return 0; }\n")
    obj = read_object(o.read_bytes(), str(o))
    text = next(s for s in obj.sections if s.name == ".text")
    from sbpfunc.toolchain.objfile import ObjReloc

    text.relocs.append(ObjReloc(0, 3, 0))  # R_BPF_64_ABS32 in .text
    with pytest.raises(LinkError, match="unsupported relocation R_BPF_64_ABS32"):
        link([obj])


def test_two_objects_link_and_output_is_deterministic(tmp_path):
    a = _obj(tmp_path, "a", "unsigned long helper(unsigned long x);\n"
                            "unsigned long entrypoint(void){ return helper(41) == 42 ? 0 : 1; }\n")
    b = _obj(tmp_path, "b2", "unsigned long helper(unsigned long x){ return x + 1; }\n")
    first = link_files([str(a), str(b)])
    assert first == link_files([str(a), str(b)])
    from sbpfunc.elf.loader import load_elf
    from sbpfunc.syscalls.core import logging_registry
    from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

    exe = load_elf(first, logging_registry(), deploy=True)
    res = EbpfVm(exe, standard_regions(exe), BudgetMeter(1000)).execute()
    assert res.error is None and res.r0 == 0


def test_duplicate_global_is_refused(tmp_path):
    a = _obj(tmp_path, "d1", "unsigned long f(void){return 1;}\nunsigned long entrypoint(void){return f();}\n")
    b = _obj(tmp_path, "d2", "unsigned long f(void){return 2;}\n")
    with pytest.raises(LinkError, match="defined more than once"):
        link_files([str(a), str(b)])
