"""The load-time verifier (sbpf's `RequisiteVerifier`), driven by the opcode table.

It runs once per executable, before anything executes, and rejects bytecode the interpreter must
never see: unknown opcodes for the version, bad registers, jumps out of the text or into the middle
of an lddw, division by an immediate 0, over-wide shifts, bad endian widths, bad callx registers.
Checks and messages follow sbpf 0.21 so a rejected program fails with Agave's text.
"""

from __future__ import annotations

from .errors import VerifierError
from .isa import INSN_SIZE, Form, Insn, Kind, SBPFVersion, opcode_table

_DIV_LIKE = {"div32", "div64", "mod32", "mod64", "udiv32", "udiv64", "urem32", "urem64",
             "sdiv32", "sdiv64", "srem32", "srem64"}
_SHIFTS = {"lsh32": 32, "rsh32": 32, "arsh32": 32, "lsh64": 64, "rsh64": 64, "arsh64": 64}


def _err(kind: str, msg: str, pc: int) -> VerifierError:
    return VerifierError(kind, msg, pc)


def verify(executable) -> None:
    """Raise `VerifierError` if `executable.text` is not valid bytecode for its version."""
    text: bytes = executable.text
    version: SBPFVersion = executable.version
    if len(text) % INSN_SIZE != 0:
        raise _err("ProgramLengthNotMultiple", "program length must be a multiple of 8 octets", 0)
    if not text:
        raise _err("NoProgram", "no program set, call prog_set() to load one", 0)
    table = opcode_table(version)
    n = len(text) // INSN_SIZE
    pc = 0
    while pc < n:
        insn = Insn.decode(text, pc)
        spec = table.get(insn.opc)
        if spec is None:
            raise _err("UnknownOpCode", f"unknown eBPF opcode {insn.opc:#x} (insn #{pc})", pc)
        store = spec.kind == Kind.STORE
        name, form = spec.mnemonic, spec.form
        if spec.kind == Kind.LDDW:
            if pc + 1 >= n:
                raise _err("LDDWCannotBeLast", "LD_DW instruction cannot be last in program", pc)
            if text[(pc + 1) * INSN_SIZE] != 0:
                raise _err("IncompleteLDDW", f"incomplete LD_DW instruction (insn #{pc})", pc)
            pc += 1  # sbpf skips the second slot first, so register errors name it
        elif form == Form.ALU_IMM and name in _DIV_LIKE:
            if insn.imm == 0:
                raise _err("DivisionByZero", f"division by 0 (insn #{pc})", pc)
        elif form == Form.ALU_IMM and name in _SHIFTS:
            bits = _SHIFTS[name]
            if not 0 <= insn.imm < bits:
                raise _err("ShiftWithOverflow",
                           f"Shift with overflow of {insn.imm & 0xFFFFFFFFFFFFFFFF}-bit value by {bits} (insn #{pc})", pc)
        elif form == Form.ENDIAN:
            if insn.imm not in (16, 32, 64):
                raise _err("UnsupportedLEBEArgument", f"unsupported argument for LE/BE (insn #{pc})", pc)
        elif name == "add64" and form == Form.ALU_IMM and insn.dst == 10 and version.dynamic_stack_frames:
            if insn.imm % 64 != 0:
                raise _err("UnalignedImmediate", f"Unaligned immediate (insn #{pc})", pc)
        elif spec.kind == Kind.JUMP:
            target = pc + 1 + insn.off
            if target < 0 or target >= n:
                raise _err("JumpOutOfCode", f"jump out of code to #{target & 0xFFFFFFFFFFFFFFFF} (insn #{pc})", pc)
            if text[target * INSN_SIZE] == 0:
                raise _err("JumpToMiddleOfLDDW", f"jump to middle of LD_DW at #{target} (insn #{pc})", pc)
        elif spec.kind == Kind.CALLX:
            reg = callx_register(insn, version)
            if not 0 <= reg <= 9:
                raise _err("InvalidRegister", f"Invalid register specified at instruction {pc}", pc)
        # `call imm` is not checked here in any version: v0 targets are checked by the ELF
        # loader, v3 targets at run time (sbpf 0.21).
        # registers
        if insn.src > 10:
            raise _err("InvalidSourceRegister", f"invalid source register (insn #{pc})", pc)
        if insn.dst > 10:
            raise _err("InvalidDestinationRegister", f"invalid destination register (insn #{pc})", pc)
        if insn.dst == 10 and not store and not (
            version.dynamic_stack_frames and name == "add64" and form == Form.ALU_IMM
        ):
            raise _err("CannotWriteR10", f"cannot write into register r10 (insn #{pc})", pc)
        pc += 1


def callx_register(insn: Insn, version: SBPFVersion) -> int:
    """The register callx jumps through: imm in v0/v1, src in v2, dst in v3."""
    if version.callx_uses_src_reg:
        return insn.src
    if version.callx_uses_dst_reg:
        return insn.dst
    return insn.imm
