"""The sBPF instruction set: one table that every other part reads.

Each `OpSpec` says, for one opcode byte in the SBPF versions where it means that thing: its
mnemonic, its operand form (how the assembler parses and the disassembler prints it), its kind
(how the interpreter dispatches it) and its semantics as a small Python source template. The
interpreter turns the template into a closure per opcode; the fast path (translator) pastes the
same template into generated code; the assembler and disassembler use the mnemonic and form; the
verifier uses the per-version opcode set. Nothing else in the project hard-codes an opcode.

Template language (plain Python, evaluated with the constants below in scope):
  D, S      the destination / source register (u64 values)
  IMM       the immediate sign-extended to i64 (a signed Python int)
  UIMM      the same as u64 (IMM & M64)
  OFF       the 16-bit offset, signed
  ADDR      for loads/stores: the effective address (base + OFF) & M64
  LD(a, n) / ST(a, n, v)   memory access through the memory mapping
ALU templates are expressions assigned to D; jump templates are conditions; check templates are
statements run before the assignment (e.g. the divide-by-zero test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF
SIGN64 = 1 << 63
SIGN32 = 1 << 31

INSN_SIZE = 8
MM_RODATA_START = 0x0
MM_PROGRAM_START = 0x1_0000_0000
MM_STACK_START = 0x2_0000_0000
MM_HEAP_START = 0x3_0000_0000
MM_INPUT_START = 0x4_0000_0000
MM_REGION_SIZE = 0x1_0000_0000

STACK_FRAME_SIZE = 4096
MAX_CALL_DEPTH = 64
FIRST_SCRATCH_REG = 6
SCRATCH_REGS = 4
FRAME_PTR_REG = 10


class SBPFVersion(IntEnum):
    """SBPF versions, numbered as in the ELF `e_flags` field."""

    V0 = 0
    V1 = 1
    V2 = 2
    V3 = 3
    V4 = 4

    # Feature predicates, after sbpf's `SBPFVersion` methods.
    @property
    def dynamic_stack_frames(self) -> bool:
        return self in (SBPFVersion.V1, SBPFVersion.V2)

    @property
    def stack_frame_gaps(self) -> bool:
        """Only v0 interleaves 4 KiB gaps between stack frames (when the config enables them)."""
        return self == SBPFVersion.V0

    @property
    def enable_pqr(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def explicit_sign_extension_of_results(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def swap_sub_reg_imm_operands(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def disable_neg(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def disable_lddw(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def disable_le(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def move_memory_instruction_classes(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def callx_uses_src_reg(self) -> bool:
        return self == SBPFVersion.V2

    @property
    def callx_uses_dst_reg(self) -> bool:
        return self == SBPFVersion.V3

    @property
    def static_syscalls(self) -> bool:
        return self == SBPFVersion.V3

    @property
    def enable_jmp32(self) -> bool:
        return self == SBPFVersion.V3

    @property
    def enable_stricter_elf_headers(self) -> bool:
        return self == SBPFVersion.V3

    @property
    def enable_lower_rodata_vaddr(self) -> bool:
        return self == SBPFVersion.V3


V0, V1, V2, V3 = SBPFVersion.V0, SBPFVersion.V1, SBPFVersion.V2, SBPFVersion.V3
ALL = frozenset({V0, V1, V2, V3})
NOT_V2 = frozenset({V0, V1, V3})
ONLY_V2 = frozenset({V2})
ONLY_V3 = frozenset({V3})


class Form:
    """Operand forms: how the assembler parses and the disassembler prints an instruction."""

    ALU_IMM = "alu_imm"  # op dst, imm
    ALU_REG = "alu_reg"  # op dst, src
    UNARY = "unary"  # op dst
    ENDIAN = "endian"  # le16 dst  (the width lives in imm)
    LDDW = "lddw"  # lddw dst, imm64
    LOAD = "load"  # ldxw dst, [src+off]
    STORE_IMM = "store_imm"  # stw [dst+off], imm
    STORE_REG = "store_reg"  # stxw [dst+off], src
    JA = "ja"  # ja label
    JUMP_IMM = "jump_imm"  # jeq dst, imm, label
    JUMP_REG = "jump_reg"  # jeq dst, src, label
    CALL = "call"  # call imm | call name
    CALLX = "callx"  # callx reg
    EXIT = "exit"  # exit


class Kind:
    """How the interpreter dispatches an instruction."""

    ALU = "alu"
    LOAD = "load"
    STORE = "store"
    LDDW = "lddw"
    JUMP = "jump"
    CALL = "call"
    CALLX = "callx"
    EXIT = "exit"


@dataclass(frozen=True)
class OpSpec:
    opcode: int
    mnemonic: str
    form: str
    kind: str
    versions: frozenset
    expr: str = ""  # ALU: new value of D; JUMP: condition; LOAD/STORE: value stored
    check: str = ""  # statement run first (e.g. raise DivideByZero)
    width: int = 0  # memory access size in bytes
    doc: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def uses_imm(self) -> bool:
        return self.form in (Form.ALU_IMM, Form.STORE_IMM, Form.JUMP_IMM, Form.LDDW, Form.CALL)


OPCODES: list[OpSpec] = []


def _op(opcode, mnemonic, form, kind, versions, expr="", check="", width=0, doc=""):
    OPCODES.append(OpSpec(opcode, mnemonic, form, kind, frozenset(versions), expr, check, width, doc))


# --- expression helpers used inside templates -------------------------------------------------
# sx32(x): low 32 bits of x sign-extended to u64; s64(x): u64 -> signed Python int.
SX32 = "((({x}) & 0xFFFFFFFF ^ 0x80000000) - 0x80000000 & 0xFFFFFFFFFFFFFFFF)"
S64 = "((({x}) ^ 0x8000000000000000) - 0x8000000000000000)"
S32 = "((({x}) & 0xFFFFFFFF ^ 0x80000000) - 0x80000000)"


def sx32(x: str) -> str:
    return SX32.format(x=x)


def s64(x: str) -> str:
    return S64.format(x=x)


def s32(x: str) -> str:
    return S32.format(x=x)


# --- ALU ---------------------------------------------------------------------------------------
# (name, base opcode (imm form; reg form = base|8), 64-bit expr, v0 32-bit expr, zero-check?)
_ZERO64 = "if {X} == 0: raise DivideByZero()"
_ZERO32 = "if {X} & 0xFFFFFFFF == 0: raise DivideByZero()"

_ALU = [
    # name   op    64-bit                               32-bit (v0 semantics)
    ("add", 0x00, "(D + {X}) & M64", sx32("D + {X}")),
    ("sub", 0x10, "(D - {X}) & M64", sx32("D - {X}")),
    ("mul", 0x20, "(D * {X}) & M64", sx32("D * {X}")),
    ("div", 0x30, "D // {X}", "(D & M32) // ({X} & M32)"),
    ("or", 0x40, "D | {X}", "(D | {X}) & M32"),
    ("and", 0x50, "D & {X}", "D & {X} & M32"),
    ("lsh", 0x60, "(D << ({X} & 63)) & M64", "((D & M32) << ({X} & 31)) & M32"),
    ("rsh", 0x70, "D >> ({X} & 63)", "(D & M32) >> ({X} & 31)"),
    ("mod", 0x90, "D % {X}", "(D & M32) % ({X} & M32)"),
    ("xor", 0xA0, "D ^ {X}", "(D ^ {X}) & M32"),
    ("mov", 0xB0, "{X}", "{X} & M32"),
    ("arsh", 0xC0, "(" + s64("D") + " >> ({X} & 63)) & M64", "(" + s32("D") + " >> ({X} & 31)) & M32"),
]
_PRODUCT_OPS = {"mul", "div", "mod"}  # removed from the ALU classes in v2 (moved to PQR)
# (name, bits, is_reg) whose v2 meaning differs (SIMD-0174): defined separately below.
_V2_DIFFERS = {("add", 32, False), ("add", 32, True), ("sub", 32, False), ("sub", 32, True),
               ("sub", 64, False), ("mov", 32, True)}

for name, base, e64, e32 in _ALU:
    versions = NOT_V2 if name in _PRODUCT_OPS else ALL
    for is_reg, X in ((False, "UIMM"), (True, "S")):
        form = Form.ALU_REG if is_reg else Form.ALU_IMM
        reg_bit = 0x08 if is_reg else 0
        for bits, cls, expr, zero in ((64, 0x07, e64, _ZERO64), (32, 0x04, e32, _ZERO32)):
            vs = versions - ONLY_V2 if (name, bits, is_reg) in _V2_DIFFERS else versions
            check = zero.format(X=X) if name in ("div", "mod") and is_reg else ""
            _op(cls | base | reg_bit, f"{name}{bits}", form, Kind.ALU, vs, expr.format(X=X), check)

# v2 (SIMD-0174): add32/sub32 zero-extend, `sub imm` computes imm - dst, mov32 reg sign-extends.
_op(0x04, "add32", Form.ALU_IMM, Kind.ALU, ONLY_V2, "(D + UIMM) & M32")
_op(0x0C, "add32", Form.ALU_REG, Kind.ALU, ONLY_V2, "(D + S) & M32")
_op(0x14, "sub32", Form.ALU_IMM, Kind.ALU, ONLY_V2, "(UIMM - D) & M32")
_op(0x1C, "sub32", Form.ALU_REG, Kind.ALU, ONLY_V2, "(D - S) & M32")
_op(0x17, "sub64", Form.ALU_IMM, Kind.ALU, ONLY_V2, "(UIMM - D) & M64")
_op(0xBC, "mov32", Form.ALU_REG, Kind.ALU, ONLY_V2, sx32("S"))
_op(0xF7, "hor64", Form.ALU_IMM, Kind.ALU, ONLY_V2, "D | ((UIMM & M32) << 32)")

_op(0x87, "neg64", Form.UNARY, Kind.ALU, NOT_V2, "-D & M64")
_op(0x84, "neg32", Form.UNARY, Kind.ALU, NOT_V2, "-D & M32")
_op(0xD4, "le", Form.ENDIAN, Kind.ALU, NOT_V2, "D & ((1 << IMM) - 1)")
_op(0xDC, "be", Form.ENDIAN, Kind.ALU, ALL, "int.from_bytes((D & ((1 << IMM) - 1)).to_bytes(IMM // 8, 'little'), 'big')")
_op(0x18, "lddw", Form.LDDW, Kind.LDDW, NOT_V2, "UIMM")

# --- PQR class (v2 only) ----------------------------------------------------------------------
_PQR = [
    # name, base, expr, zero check, overflow check
    ("uhmul64", 0x30, "(D * {X}) >> 64", "", ""),
    ("udiv32", 0x40, "(D & M32) // ({X} & M32)", "z32", ""),
    ("udiv64", 0x50, "D // {X}", "z64", ""),
    ("urem32", 0x60, "(D & M32) % ({X} & M32)", "z32", ""),
    ("urem64", 0x70, "D % {X}", "z64", ""),
    ("lmul32", 0x80, "(D * {X}) & M32", "", ""),
    ("lmul64", 0x90, "(D * {X}) & M64", "", ""),
    ("shmul64", 0xB0, "((" + s64("D") + " * " + s64("{X}") + ") >> 64) & M64", "", ""),
    ("sdiv32", 0xC0, "_sdiv(" + s32("D") + ", " + s32("{X}") + ") & M32", "z32", "o32"),
    ("sdiv64", 0xD0, "_sdiv(" + s64("D") + ", " + s64("{X}") + ") & M64", "z64", "o64"),
    ("srem32", 0xE0, "_srem(" + s32("D") + ", " + s32("{X}") + ") & M32", "z32", "o32"),
    ("srem64", 0xF0, "_srem(" + s64("D") + ", " + s64("{X}") + ") & M64", "z64", "o64"),
]
_OVF = {
    "o32": "if D & 0xFFFFFFFF == 0x80000000 and {X} & 0xFFFFFFFF == 0xFFFFFFFF: raise DivideOverflow()",
    "o64": "if D == 0x8000000000000000 and {X} == 0xFFFFFFFFFFFFFFFF: raise DivideOverflow()",
}
# sbpf reads the immediate of uhmul64/udiv/urem as u32 (zero-extended); the others sign-extend it.
_PQR_IMM_U32 = {"uhmul64", "udiv32", "udiv64", "urem32", "urem64"}
for name, base, expr, z, o in _PQR:
    for is_reg, X in ((False, "UIMM"), (True, "S")):
        if not is_reg and name in _PQR_IMM_U32:
            X = "(UIMM & M32)"
        checks = []
        if z and is_reg:
            checks.append((_ZERO32 if z == "z32" else _ZERO64).format(X=X))
        if o:
            checks.append(_OVF[o].format(X=X))
        _op(0x06 | base | (0x08 if is_reg else 0), name, Form.ALU_REG if is_reg else Form.ALU_IMM,
            Kind.ALU, ONLY_V2, expr.format(X=X), "\n".join(checks))

# --- memory --------------------------------------------------------------------------------------
_SIZES = (("b", 1), ("h", 2), ("w", 4), ("dw", 8))
_V0_LDX = {1: 0x71, 2: 0x69, 4: 0x61, 8: 0x79}
_V0_ST = {1: 0x72, 2: 0x6A, 4: 0x62, 8: 0x7A}
_V0_STX = {1: 0x73, 2: 0x6B, 4: 0x63, 8: 0x7B}
_V2_LDX = {1: 0x2C, 2: 0x3C, 4: 0x8C, 8: 0x9C}
_V2_ST = {1: 0x27, 2: 0x37, 4: 0x87, 8: 0x97}
_V2_STX = {1: 0x2F, 2: 0x3F, 4: 0x8F, 8: 0x9F}
for suffix, n in _SIZES:
    mask = "M64" if n == 8 else hex((1 << (8 * n)) - 1)
    for table, versions in ((0, NOT_V2), (1, ONLY_V2)):
        ldx, st, stx = ((_V0_LDX, _V0_ST, _V0_STX), (_V2_LDX, _V2_ST, _V2_STX))[table]
        _op(ldx[n], f"ldx{suffix}", Form.LOAD, Kind.LOAD, versions, width=n)
        _op(st[n], f"st{suffix}", Form.STORE_IMM, Kind.STORE, versions, f"UIMM & {mask}", width=n)
        _op(stx[n], f"stx{suffix}", Form.STORE_REG, Kind.STORE, versions, f"S & {mask}", width=n)

# --- jumps ---------------------------------------------------------------------------------------
_JUMPS = [
    ("jeq", 0x10, "{D} == {X}"),
    ("jgt", 0x20, "{D} > {X}"),
    ("jge", 0x30, "{D} >= {X}"),
    ("jset", 0x40, "{D} & {X}"),
    ("jne", 0x50, "{D} != {X}"),
    ("jsgt", 0x60, "{sD} > {sX}"),
    ("jsge", 0x70, "{sD} >= {sX}"),
    ("jlt", 0xA0, "{D} < {X}"),
    ("jle", 0xB0, "{D} <= {X}"),
    ("jslt", 0xC0, "{sD} < {sX}"),
    ("jsle", 0xD0, "{sD} <= {sX}"),
]
_op(0x05, "ja", Form.JA, Kind.JUMP, ALL, "True")
for name, base, cond in _JUMPS:
    for is_reg, X in ((False, "UIMM"), (True, "S")):
        form = Form.JUMP_REG if is_reg else Form.JUMP_IMM
        reg_bit = 0x08 if is_reg else 0
        # Signed compares flip the sign bit and compare unsigned: a <s b  <=>  a^S <u b^S.
        c64 = cond.format(D="D", X=X, sD="(D ^ SIGN64)", sX=f"({X} ^ SIGN64)")
        _op(0x05 | base | reg_bit, name, form, Kind.JUMP, ALL, c64)
        # JMP32 (class 06, SIMD-0377, v3 only) compares the low 32 bits.
        c32 = cond.format(D="(D & M32)", X=f"({X} & M32)", sD="((D & M32) ^ SIGN32)",
                          sX=f"(({X} & M32) ^ SIGN32)")
        _op(0x06 | base | reg_bit, name + "32", form, Kind.JUMP, ONLY_V3, c32)

# --- calls ---------------------------------------------------------------------------------------
_op(0x85, "call", Form.CALL, Kind.CALL, ALL)
_op(0x8D, "callx", Form.CALLX, Kind.CALLX, ALL)
_op(0x95, "exit", Form.EXIT, Kind.EXIT, ALL)


def _build_tables() -> dict[SBPFVersion, dict[int, OpSpec]]:
    tables: dict[SBPFVersion, dict[int, OpSpec]] = {v: {} for v in SBPFVersion}
    for spec in OPCODES:
        for v in spec.versions:
            if spec.opcode in tables[v]:
                raise AssertionError(f"opcode {spec.opcode:#04x} defined twice for {v!r}")
            tables[v][spec.opcode] = spec
    return tables


TABLES = _build_tables()


def opcode_table(version: SBPFVersion) -> dict[int, OpSpec]:
    """The opcodes valid in `version`, keyed by opcode byte."""
    return TABLES[SBPFVersion(version)]


# --- encoding ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Insn:
    """One decoded 8-byte slot. `imm` is sign-extended i32; `off` is sign-extended i16."""

    opc: int
    dst: int
    src: int
    off: int
    imm: int

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview, pc: int) -> "Insn":
        b = data[pc * 8 : pc * 8 + 8]
        off = b[2] | (b[3] << 8)
        imm = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)
        return cls(b[0], b[1] & 0xF, b[1] >> 4, off - 0x10000 if off & 0x8000 else off,
                   imm - 0x1_0000_0000 if imm & 0x8000_0000 else imm)

    def encode(self) -> bytes:
        return bytes((self.opc, (self.dst & 0xF) | ((self.src & 0xF) << 4))) + \
            (self.off & 0xFFFF).to_bytes(2, "little") + (self.imm & M32).to_bytes(4, "little")


def encode(opc: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return Insn(opc, dst, src, off, imm).encode()


def decode_all(text: bytes) -> list[Insn]:
    return [Insn.decode(text, pc) for pc in range(len(text) // INSN_SIZE)]


def by_mnemonic(version: SBPFVersion) -> dict[tuple[str, str], OpSpec]:
    """(mnemonic, form) -> spec for `version`; the assembler's index."""
    return {(s.mnemonic, s.form): s for s in opcode_table(version).values()}
