"""Assembler <-> disassembler round trips over the whole opcode table, for every version."""

from __future__ import annotations

import random

import pytest

from sbpfunc.asm import assemble, disassemble
from sbpfunc.vm.errors import AsmError
from sbpfunc.vm.executable import Executable
from sbpfunc.vm.isa import Form, Insn, SBPFVersion, encode, opcode_table

VERSIONS = [SBPFVersion.V0, SBPFVersion.V1, SBPFVersion.V2, SBPFVersion.V3]


def _slot(spec, version, rng: random.Random) -> bytes:
    """A random but valid encoding of `spec`: only the fields its form uses are set."""
    dst, src = rng.randrange(10), rng.randrange(11)
    off, imm = rng.randrange(-(1 << 15), 1 << 15), rng.randrange(-(1 << 31), 1 << 31)
    form = spec.form
    if form == Form.ALU_IMM:
        return encode(spec.opcode, dst, 0, 0, imm)
    if form == Form.ALU_REG:
        return encode(spec.opcode, dst, src, 0, 0)
    if form == Form.UNARY:
        return encode(spec.opcode, dst)
    if form == Form.ENDIAN:
        return encode(spec.opcode, dst, 0, 0, rng.choice((16, 32, 64)))
    if form == Form.LDDW:
        return encode(spec.opcode, dst, 0, 0, imm) + encode(0, 0, 0, 0, rng.randrange(1 << 32))
    if form == Form.LOAD:
        return encode(spec.opcode, dst, src, off, 0)
    if form == Form.STORE_IMM:
        return encode(spec.opcode, dst, 0, off, imm)
    if form == Form.STORE_REG:
        return encode(spec.opcode, dst, src, off, 0)
    if form == Form.JA:
        return encode(spec.opcode, 0, 0, rng.randrange(0, 3), 0)
    if form == Form.JUMP_IMM:
        return encode(spec.opcode, dst, 0, rng.randrange(-5, 3), imm)
    if form == Form.JUMP_REG:
        return encode(spec.opcode, dst, src, rng.randrange(-5, 3), 0)
    if form == Form.CALL:
        return encode(spec.opcode, 0, 0, 0, imm)
    if form == Form.CALLX:
        reg = rng.randrange(10)
        if version.callx_uses_src_reg:
            return encode(spec.opcode, 0, reg, 0, 0)
        if version.callx_uses_dst_reg:
            return encode(spec.opcode, reg, 0, 0, 0)
        return encode(spec.opcode, 0, 0, 0, reg)
    return encode(spec.opcode)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"v{int(v)}")
@pytest.mark.parametrize("seed", range(8))
def test_bytes_disasm_asm_bytes(version, seed):
    """Every opcode of the version, shuffled, with random operands: disasm then asm = same bytes."""
    rng = random.Random(seed * 10 + int(version))
    specs = sorted(opcode_table(version).values(), key=lambda s: s.opcode)
    rng.shuffle(specs)
    text = b"".join(_slot(spec, version, rng) for spec in specs) + encode(0x95) * 3
    exe = Executable.from_text(text, version, verify=False)
    listing = disassemble(exe)
    again = assemble(listing, version).to_executable(verify=False)
    assert again.text == exe.text, listing


CANONICAL = """\
entrypoint:
    mov64 r1, 10
    mov64 r0, 0
    call function_9
    lddw r2, 0x1122334455667788
    add32 r0, -1
    ldxb r3, [r2+1]
    stxdw [r10-8], r3
    exit
function_9:
    mov64 r0, 1
lbb_10:
    jeq r1, 0, lbb_14
    mul64 r0, r1
    sub64 r1, 1
    ja lbb_10
lbb_14:
    be16 r0
    callx r3
    call sol_log_
    exit
"""


def test_canonical_text_round_trips():
    prog = assemble(CANONICAL)
    assert disassemble(prog.to_executable(verify=False)) == CANONICAL


def test_aliases_and_relative_offsets_normalise():
    src = "mov r1, 1\nadd r1, r1\njne r1, 0x2, +1\nneg r1\nexit\n"
    out = disassemble(assemble(src).to_executable())
    assert out == ("entrypoint:\n    mov64 r1, 1\n    add64 r1, r1\n    jne r1, 2, lbb_4\n"
                   "    neg64 r1\nlbb_4:\n    exit\n")


@pytest.mark.parametrize("src, msg", [
    ("frob r1, 2", "unknown instruction"),
    ("mov64 r11, 2", "expected a register"),
    ("mov64 r1, 0x100000000", "does not fit in 32 bits"),
    ("ja nowhere", "unknown label"),
    ("ldxw r1, r2", "memory operand"),
    ("stw [r1+40000], 1", "16 bits"),
    ("mov64 r1", "takes 2 operand"),
    ("neg64 r1\nx:\nx:\nexit", "defined twice"),
    ("lddw r1, 0x1ffffffffffffffff", "64 bits"),
    (".rodata\n.asciz 'unterminated", "bad string"),
])
def test_bad_assembly_names_the_problem(src, msg):
    with pytest.raises(AsmError, match=msg):
        assemble(src)


def test_version_gating_in_the_assembler():
    with pytest.raises(AsmError, match="unknown instruction"):
        assemble("lmul64 r1, 2\nexit", SBPFVersion.V0)
    with pytest.raises(AsmError):
        assemble("lddw r1, 5\nexit", SBPFVersion.V2)
    v2 = assemble("ldxdw r1, [r2+8]\nexit", SBPFVersion.V2).text
    assert Insn.decode(v2, 0).opc == 0x9C
    v3 = assemble("jeq32 r1, 1, +0\nexit", SBPFVersion.V3).text
    assert Insn.decode(v3, 0).opc == 0x16
