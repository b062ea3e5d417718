"""Assembler and disassembler for sBPF text, both driven by `sbpfunc.vm.isa`."""

from .assembler import AsmProgram, assemble
from .disassembler import disassemble, format_insn

__all__ = ["AsmProgram", "assemble", "disassemble", "format_insn"]
