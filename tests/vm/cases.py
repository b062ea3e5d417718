"""VM execution cases in the style of sbpf's `tests/execution.rs`.

Each `Case` is assembly text, the expected outcome (r0, or the Agave `EbpfError` kind and, where it
does not depend on the ELF layout, its exact Display text), the exact number of instructions
executed and the compute units consumed. The expected values are NOT taken from our interpreter:
they are written by hand or computed by the small reference functions below, which are written from
sbpf 0.21's `interpreter.rs` (Rust integer semantics) and the spec, and checked against the real
Agave VM by `tests/differential/test_vm_vs_litesvm.py`.

Conventions
-----------
* `input` is the *instruction data*. The input region is always Agave's serialization of an
  instruction with no accounts: u64 0, u64 len(input), input, 32-byte program id
  (`tests/differential/litesvm_harness.serialize_input`). r1 = 0x4_0000_0000 and r2 = 0x4_0000_0010
  (the instruction data, SIMD-0321), as Agave sets them.
* Instruction counts: lddw counts 1; a syscall `call` counts 1 and the syscall's own cost goes to
  `compute_units` only. A fault counts the faulting instruction (ExceededMaxInstructions excepted:
  the instruction that would exceed the budget does not run, so count == budget).
* `{case_vaddr}`, `{case_vaddr_lo}`, `{case_vaddr_hi}` in the asm are replaced by the guest address
  of the case's first instruction (0x1_0000_0000 for the in-memory executable; .text's address in a
  linked ELF). `expect_error_text` may be a function of that address.
* `wrap=False` marks cases whose outcome depends on the absolute stack frame, the call depth or the
  program id: the differential harness must not run them as a called function.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
DEFAULT_BUDGET = 200_000  # Agave's default for a transaction with one non-builtin instruction

TEXT_VADDR_IN_MEMORY = 0x1_0000_0000
STACK = 0x2_0000_0000
HEAP = 0x3_0000_0000
INPUT = 0x4_0000_0000
INPUT_DATA = INPUT + 16  # r2 at entry: the instruction data (no accounts)


# --- the case record --------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    asm: str
    version: int
    expect_r0: int | None = None
    expect_error_kind: str | None = None
    insn_count: int = 0
    input: bytes = b""
    budget: int = DEFAULT_BUDGET
    notes: str = ""
    compute_units: int | None = None  # None: == insn_count (no syscalls)
    expect_error_text: str | Callable[[int], str] | None = None
    logs: tuple[str, ...] = ()  # the "Program log: ..." lines the run must produce, in order
    wrap: bool = True
    litesvm: bool = True
    topic: str = ""

    def __post_init__(self):
        assert (self.expect_r0 is None) != (self.expect_error_kind is None), self.name
        assert self.expect_r0 is None or 0 <= self.expect_r0 <= M64, self.name

    @property
    def cu(self) -> int:
        return self.insn_count if self.compute_units is None else self.compute_units

    def error_text(self, case_vaddr: int = TEXT_VADDR_IN_MEMORY) -> str | None:
        t = self.expect_error_text
        if t is None and self.expect_error_kind in FIXED_MESSAGES:
            return FIXED_MESSAGES[self.expect_error_kind]
        return t(case_vaddr) if callable(t) else t

    def source(self, case_vaddr: int = TEXT_VADDR_IN_MEMORY) -> str:
        return (self.asm.replace("{case_vaddr_lo}", hex(case_vaddr & M32))
                .replace("{case_vaddr_hi}", hex(case_vaddr >> 32))
                .replace("{case_vaddr}", hex(case_vaddr)))


# sbpf 0.21 EbpfError Display strings for the variants whose text has no parameters.
FIXED_MESSAGES = {
    "DivideByZero": "divide by zero at BPF instruction",
    "DivideOverflow": "division overflow at BPF instruction",
    "ExecutionOverrun": "attempted to execute past the end of the text segment at BPF instruction",
    "CallOutsideTextSegment": "callx attempted to call outside of the text segment",
    "ExceededMaxInstructions": "exceeded CUs meter at BPF instruction",
    "CallDepthExceeded": "exceeded max BPF to BPF call depth",
    "InvalidInstruction": "invalid BPF instruction",
    "UnsupportedInstruction": "unsupported BPF instruction",
}


def av(region: str, addr: int, size: int) -> str:
    return f"Access violation in {region} section at address {addr:#x} of size {size}"


def sav(frame: int, addr: int, size: int) -> str:
    return f"Access violation in stack frame {frame} at address {addr:#x} of size {size}"


# --- reference semantics (Rust integer semantics of sbpf 0.21's interpreter) --------------------
def s64(x: int) -> int:
    x &= M64
    return x - (1 << 64) if x >> 63 else x


def s32(x: int) -> int:
    x &= M32
    return x - (1 << 32) if x >> 31 else x


def sx32(x: int) -> int:
    """Low 32 bits of x, sign-extended to u64 (Rust `x as i32 as i64 as u64`)."""
    return s32(x) & M64


def imm_u64(imm: int) -> int:
    """The immediate as the VM sees it: i32 sign-extended to i64, as u64."""
    return s32(imm) & M64


def trunc_div(a: int, b: int) -> int:
    """Rust signed `/`: rounds toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def trunc_rem(a: int, b: int) -> int:
    return a - b * trunc_div(a, b)


def ref_alu(op: str, bits: int, d: int, x: int, version: int, is_imm: bool) -> int:
    """Result of `op{bits} dst, x`. `x` is the u64 operand (imm already sign-extended)."""
    v2 = version == 2
    if bits == 64:
        return {
            "add": lambda: (d + x) & M64,
            "sub": lambda: ((x - d) if (v2 and is_imm) else (d - x)) & M64,
            "mul": lambda: (d * x) & M64,
            "div": lambda: d // x,
            "mod": lambda: d % x,
            "or": lambda: d | x,
            "and": lambda: d & x,
            "xor": lambda: d ^ x,
            "lsh": lambda: (d << (x & 63)) & M64,
            "rsh": lambda: d >> (x & 63),
            "arsh": lambda: (s64(d) >> (x & 63)) & M64,
            "mov": lambda: x,
        }[op]()
    d32, x32 = d & M32, x & M32
    ext = (lambda v: v & M32) if v2 else sx32  # add32/sub32/mul32: v0/v1/v3 sign-extend
    return {
        "add": lambda: ext(d32 + x32),
        "sub": lambda: ext((x32 - d32) if (v2 and is_imm) else (d32 - x32)),
        "mul": lambda: ext(d32 * x32),
        "div": lambda: d32 // x32,
        "mod": lambda: d32 % x32,
        "or": lambda: d32 | x32,
        "and": lambda: d32 & x32,
        "xor": lambda: d32 ^ x32,
        "lsh": lambda: (d32 << (x & 31)) & M32,
        "rsh": lambda: d32 >> (x & 31),
        "arsh": lambda: (s32(d32) >> (x & 31)) & M32,
        "mov": lambda: sx32(x) if (v2 and not is_imm) else x32,
    }[op]()


def ref_pqr(op: str, d: int, x_raw: int, is_imm: bool) -> int | str:
    """v2 PQR class. `x_raw`: the register value, or the imm as a signed i32. Returns an error kind
    string for DivideByZero / DivideOverflow."""
    if is_imm:
        xu32 = x_raw & M32  # `insn.imm as u32`
        xs = s32(x_raw)  # `insn.imm` (i64, sign-extended)
        xu64 = xs & M64
    else:
        xu32, xs, xu64 = x_raw & M32, s64(x_raw), x_raw
    if op == "uhmul64":
        return (d * (xu32 if is_imm else xu64)) >> 64
    if op == "lmul32":
        return ((d & M32) * xu32) & M32
    if op == "lmul64":
        return (d * xu64) & M64
    if op == "shmul64":
        return ((s64(d) * xs) >> 64) & M64
    if op in ("udiv32", "urem32"):
        if xu32 == 0:
            return "DivideByZero"
        return (d & M32) // xu32 if op == "udiv32" else (d & M32) % xu32
    if op in ("udiv64", "urem64"):
        y = xu32 if is_imm else xu64
        if y == 0:
            return "DivideByZero"
        return d // y if op == "udiv64" else d % y
    if op in ("sdiv32", "srem32"):
        a, b = s32(d), s32(xu32)
        if b == 0:
            return "DivideByZero"
        if a == -(1 << 31) and b == -1:
            return "DivideOverflow"
        return (trunc_div(a, b) if op == "sdiv32" else trunc_rem(a, b)) & M32
    if op in ("sdiv64", "srem64"):
        a, b = s64(d), xs
        if b == 0:
            return "DivideByZero"
        if a == -(1 << 63) and b == -1:
            return "DivideOverflow"
        return (trunc_div(a, b) if op == "sdiv64" else trunc_rem(a, b)) & M64
    raise KeyError(op)


def ref_jump(op: str, d: int, x: int, bits: int = 64) -> bool:
    if bits == 32:
        d, x = d & M32, x & M32
        sd, sx = s32(d), s32(x)
    else:
        sd, sx = s64(d), s64(x)
    return {
        "jeq": d == x, "jne": d != x, "jgt": d > x, "jge": d >= x, "jlt": d < x, "jle": d <= x,
        "jset": (d & x) != 0, "jsgt": sd > sx, "jsge": sd >= sx, "jslt": sd < sx, "jsle": sd <= sx,
    }[op]


def bswap(v: int, width: int) -> int:
    return int.from_bytes((v & ((1 << width) - 1)).to_bytes(width // 8, "little"), "big")


# --- building blocks --------------------------------------------------------------------------
def ld(reg: str, value: int, version: int) -> list[str]:
    """Instructions that set `reg` to a 64-bit constant (1 in v0/v1/v3, 2 in v2: no lddw)."""
    value &= M64
    if version == 2:
        return [f"mov32 {reg}, {value & M32:#x}", f"hor64 {reg}, {value >> 32:#x}"]
    return [f"lddw {reg}, {value:#x}"]


def prog(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def program_id_for(name: str, variant: str = "") -> bytes:
    """The 32-byte program id a case runs under (deterministic; also in the input region)."""
    return hashlib.sha256(f"sbpfunc-vm-case:{name}:{variant}".encode()).digest()


CASES: list[Case] = []


def add(**kw) -> Case:
    c = Case(**kw)
    CASES.append(c)
    return c


# ==============================================================================================
# ALU: every ALU opcode, imm and reg forms, 32 and 64 bit, in every version that has it
# ==============================================================================================
ALU_OPS = ["add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "mod", "xor", "mov", "arsh"]

# (dst, src) register pairs per op family; edge values: sign bits, 32-bit boundaries, all-ones.
_REG_PAIRS_GENERIC = [
    (0x7FFF_FFFF, 1),
    (0xFFFF_FFFF, 1),
    (0x8000_0000_0000_0000, M64),
    (0x1234_5678_9ABC_DEF0, 0xFEDC_BA98_7654_3210),
    (0xFFFF_FFFF_8000_0000, 0x8000_0000),
]
_REG_PAIRS_DIV = [  # src low 32 bits never zero (those are the DivideByZero cases)
    (0x8000_0000_0000_0000, M64),  # "INT64_MIN / -1": unsigned in v0, no overflow
    (M64, 0x1_0000_0001),
    (0x1234_5678_9ABC_DEF0, 0xFFFF_FFFF),
    (0xFFFF_FFFF_0000_0007, 0x2_0000_0003),  # 32-bit op only sees the low halves
    (100, 7),
]
_REG_PAIRS_SHIFT = [  # shift amount taken mod width via register
    (0x8000_0000_0000_0001, 1),
    (0x8000_0000_8000_0001, 31),
    (0x8000_0000_8000_0001, 32),
    (0x8000_0000_8000_0001, 63),
    (0x8000_0000_8000_0001, 64),
    (0xF000_0000_F000_000F, 0x1_0000_0021),  # amount as u32 = 0x21
]
_IMMS_GENERIC = [-1, 0x7FFF_FFFF, -0x8000_0000, 0x1234_5678]
_IMMS_DIV = [-1, 3, 0x7FFF_FFFF, -0x8000_0000]
_DST_FOR_IMM = [0xFFFF_FFFF, 0x8000_0000_0000_0000, 0x1234_5678_9ABC_DEF0]


def _alu_versions(op: str) -> list[int]:
    vs = [0, 1, 2, 3]
    if op in ("mul", "div", "mod"):
        vs.remove(2)  # v2 moves these to the PQR class
    return vs


def _gen_alu():
    for op in ALU_OPS:
        for bits in (64, 32):
            mn = f"{op}{bits}"
            for version in _alu_versions(op):
                full = version == 0 or (version == 2 and op in ("add", "sub", "mov")) or \
                    (version == 3 and op in ("add", "sub", "mul"))
                # --- register form
                if op in ("div", "mod"):
                    pairs = _REG_PAIRS_DIV
                elif op in ("lsh", "rsh", "arsh"):
                    pairs = _REG_PAIRS_SHIFT
                else:
                    pairs = _REG_PAIRS_GENERIC
                if not full:
                    pairs = pairs[2:4]
                for i, (a, b) in enumerate(pairs):
                    lines = ld("r0", a, version) + ld("r1", b, version) + [f"{mn} r0, r1", "exit"]
                    n = len(lines)
                    add(name=f"v{version}_{mn}_reg_{i}", asm=prog(lines), version=version,
                        expect_r0=ref_alu(op, bits, a, b, version, False), insn_count=n,
                        topic="alu", notes=f"{a:#x} {op}{bits} {b:#x}")
                # --- immediate form
                if op in ("lsh", "rsh", "arsh"):
                    imms = [0, 1, bits - 1] + ([32] if bits == 64 else [])
                elif op in ("div", "mod"):
                    imms = _IMMS_DIV
                else:
                    imms = _IMMS_GENERIC
                dsts = _DST_FOR_IMM
                combos = [(d, imm) for imm in imms for d in dsts[: (2 if full else 1)]]
                if not full:
                    combos = combos[:2]
                for i, (a, imm) in enumerate(combos):
                    lines = ld("r0", a, version) + [f"{mn} r0, {imm}", "exit"]
                    add(name=f"v{version}_{mn}_imm_{i}", asm=prog(lines), version=version,
                        expect_r0=ref_alu(op, bits, a, imm_u64(imm), version, True),
                        insn_count=len(lines), topic="alu",
                        notes=f"{a:#x} {op}{bits} imm {imm}")


_gen_alu()

# Hand-written ALU edge cases with literal expectations (the spec's own examples).
for _v in (0, 1, 3):
    add(name=f"v{_v}_add32_wraps_and_sign_extends", version=_v, topic="alu",
        asm="mov32 r0, 0x7fffffff\nmov32 r1, 1\nadd32 r0, r1\nexit\n",
        expect_r0=0xFFFF_FFFF_8000_0000, insn_count=4,
        notes="agave-facts 8: 0x7fffffff + 1 -> 0xffffffff80000000")
add(name="v2_add32_wraps_and_zero_extends", version=2, topic="alu",
    asm="mov32 r0, 0x7fffffff\nmov32 r1, 1\nadd32 r0, r1\nexit\n",
    expect_r0=0x8000_0000, insn_count=4, notes="SIMD-0174: v2 add32 zero-extends")
add(name="v0_add32_literal_wrap", version=0, topic="alu",
    asm="mov32 r0, -1\nadd32 r0, 1\nexit\n", expect_r0=0, insn_count=3,
    notes="0xffffffff + 1 wraps to 0 (sign-extended 0 = 0)")
add(name="v0_sub32_negative_sign_extends", version=0, topic="alu",
    asm="mov64 r0, 0\nsub32 r0, 1\nexit\n", expect_r0=M64, insn_count=3)
add(name="v0_sub32_ignores_upper_dst_bits", version=0, topic="alu",
    asm="lddw r0, 0x1234567800000005\nsub32 r0, 3\nexit\n", expect_r0=2, insn_count=3)
add(name="v0_mul32_sign_extends", version=0, topic="alu",
    asm="mov64 r0, 0x10000\nmul32 r0, 0x8000\nexit\n",
    expect_r0=0xFFFF_FFFF_8000_0000, insn_count=3, notes="0x10000*0x8000 = 0x80000000 -> sign bit")
add(name="v0_or32_zero_extends", version=0, topic="alu",
    asm="lddw r0, 0xffffffff00000000\nor32 r0, 0x80000000\nexit\n",
    expect_r0=0x8000_0000, insn_count=3, notes="or32 imm 0x80000000 (= -2^31): zero-extended result")
add(name="v0_and32_zero_extends", version=0, topic="alu",
    asm="mov64 r0, -1\nand32 r0, -1\nexit\n", expect_r0=0xFFFF_FFFF, insn_count=3)
add(name="v0_xor32_zero_extends", version=0, topic="alu",
    asm="mov64 r0, -1\nxor32 r0, 0\nexit\n", expect_r0=0xFFFF_FFFF, insn_count=3)
add(name="v0_mov32_imm_zero_extends", version=0, topic="alu",
    asm="mov32 r0, -1\nexit\n", expect_r0=0xFFFF_FFFF, insn_count=2)
add(name="v0_mov32_reg_truncates", version=0, topic="alu",
    asm="mov64 r1, -1\nmov32 r0, r1\nexit\n", expect_r0=0xFFFF_FFFF, insn_count=3,
    notes="sbpf test_mov32_reg_truncating")
add(name="v2_mov32_reg_sign_extends", version=2, topic="alu",
    asm="mov32 r1, 0x80000000\nmov32 r0, r1\nexit\n", expect_r0=0xFFFF_FFFF_8000_0000,
    insn_count=3, notes="SIMD-0174: v2 mov32 reg sign-extends")
add(name="v2_mov32_imm_zero_extends", version=2, topic="alu",
    asm="mov32 r0, -1\nexit\n", expect_r0=0xFFFF_FFFF, insn_count=2)
add(name="v0_mov64_imm_sign_extends", version=0, topic="alu",
    asm="mov64 r0, -2\nexit\n", expect_r0=M64 - 1, insn_count=2)
add(name="v0_mov64_imm_0x80000000_sign_extends", version=0, topic="alu",
    asm="mov64 r0, 0x80000000\nexit\n", expect_r0=0xFFFF_FFFF_8000_0000, insn_count=2)
add(name="v0_add64_imm_sign_extends", version=0, topic="alu",
    asm="mov32 r0, 0xffffffff\nadd64 r0, -1\nexit\n", expect_r0=0xFFFF_FFFE, insn_count=3,
    notes="0xffffffff + (-1 as u64) = 0xfffffffe (carry out of bit 63 dropped)")
add(name="v0_and64_imm_sign_extends", version=0, topic="alu",
    asm="mov64 r0, -1\nand64 r0, -0x10\nexit\n", expect_r0=M64 - 0xF, insn_count=3)
add(name="v0_and64_imm_positive_clears_high", version=0, topic="alu",
    asm="mov64 r0, -1\nand64 r0, 0x7fffffff\nexit\n", expect_r0=0x7FFF_FFFF, insn_count=3)
add(name="v0_div64_imm_minus_one_is_u64_max", version=0, topic="alu",
    asm="mov64 r0, -1\ndiv64 r0, -1\nexit\n", expect_r0=1, insn_count=3,
    notes="div64 imm -1 divides by 2^64-1")
add(name="v0_div64_imm_minus_one_small_dst", version=0, topic="alu",
    asm="mov64 r0, 5\ndiv64 r0, -1\nexit\n", expect_r0=0, insn_count=3)
add(name="v0_mod64_imm_minus_one", version=0, topic="alu",
    asm="mov64 r0, -1\nmod64 r0, -1\nexit\n", expect_r0=0, insn_count=3)
add(name="v0_div32_imm_minus_one_is_u32_max", version=0, topic="alu",
    asm="mov64 r0, -1\ndiv32 r0, -1\nexit\n", expect_r0=1, insn_count=3)
add(name="v0_div64_min_by_minus_one_unsigned", version=0, topic="alu",
    asm="lddw r0, 0x8000000000000000\nmov64 r1, -1\ndiv64 r0, r1\nexit\n", expect_r0=0,
    insn_count=4, notes="v0 has only unsigned division: 2^63 / (2^64-1) = 0, no overflow")
add(name="v0_mod64_min_by_minus_one_unsigned", version=0, topic="alu",
    asm="lddw r0, 0x8000000000000000\nmov64 r1, -1\nmod64 r0, r1\nexit\n",
    expect_r0=0x8000_0000_0000_0000, insn_count=4)
add(name="v0_div32_min_by_minus_one_unsigned", version=0, topic="alu",
    asm="mov32 r0, 0x80000000\nmov64 r1, -1\ndiv32 r0, r1\nexit\n", expect_r0=0, insn_count=4)
add(name="v0_div64_by_reg_with_zero_low_half", version=0, topic="alu",
    asm="mov64 r0, -1\nlddw r1, 0x100000000\ndiv64 r0, r1\nexit\n", expect_r0=0xFFFF_FFFF,
    insn_count=4, notes="64-bit div only faults when the whole register is 0")
add(name="v0_mod64_by_reg_with_zero_low_half", version=0, topic="alu",
    asm="mov64 r0, -1\nlddw r1, 0x100000000\nmod64 r0, r1\nexit\n", expect_r0=0xFFFF_FFFF,
    insn_count=4)
add(name="v0_lsh64_reg_64_is_noop", version=0, topic="alu",
    asm="mov64 r0, 3\nmov64 r1, 64\nlsh64 r0, r1\nexit\n", expect_r0=3, insn_count=4,
    notes="shift amount & 63")
add(name="v0_lsh32_reg_32_is_noop", version=0, topic="alu",
    asm="lddw r0, 0x100000003\nmov64 r1, 32\nlsh32 r0, r1\nexit\n", expect_r0=3, insn_count=4,
    notes="amount & 31 = 0, but the result is still truncated to 32 bits")
add(name="v0_rsh32_reg_33", version=0, topic="alu",
    asm="mov64 r0, -1\nmov64 r1, 33\nrsh32 r0, r1\nexit\n", expect_r0=0x7FFF_FFFF, insn_count=4)
add(name="v0_arsh32_zero_extends", version=0, topic="alu",
    asm="mov32 r0, 0x80000000\narsh32 r0, 4\nexit\n", expect_r0=0xF800_0000, insn_count=3,
    notes="(i32)0x80000000 >> 4 = 0xf8000000, zero-extended")
add(name="v0_arsh32_reg_amount_mod_32", version=0, topic="alu",
    asm="mov32 r0, 0x80000000\nlddw r1, 0x100000021\narsh32 r0, r1\nexit\n",
    expect_r0=0xC000_0000, insn_count=4, notes="amount 0x21 & 31 = 1")
add(name="v0_arsh64_negative", version=0, topic="alu",
    asm="mov64 r0, -16\narsh64 r0, 2\nexit\n", expect_r0=M64 - 3, insn_count=3)
add(name="v0_arsh64_reg_65", version=0, topic="alu",
    asm="mov64 r0, -16\nmov64 r1, 65\narsh64 r0, r1\nexit\n", expect_r0=M64 - 7, insn_count=4)
add(name="v0_rsh64_imm_63", version=0, topic="alu",
    asm="mov64 r0, -1\nrsh64 r0, 63\nexit\n", expect_r0=1, insn_count=3)

# neg (not in v2)
for _v in (0, 1, 3):
    for _i, (_a) in enumerate([0, 1, 0x8000_0000_0000_0000, 0x1_0000_0000, 0x8000_0000]):
        add(name=f"v{_v}_neg64_{_i}", version=_v, topic="alu",
            asm=prog(ld("r0", _a, _v) + ["neg64 r0", "exit"]),
            expect_r0=(-_a) & M64, insn_count=3)
        add(name=f"v{_v}_neg32_{_i}", version=_v, topic="alu",
            asm=prog(ld("r0", _a, _v) + ["neg32 r0", "exit"]),
            expect_r0=(-(_a & M32)) & M32, insn_count=3,
            notes="low 32 bits of -dst, zero-extended")
add(name="v0_neg32_literal", version=0, topic="alu", asm="mov64 r0, 1\nneg32 r0\nexit\n",
    expect_r0=0xFFFF_FFFF, insn_count=3)
add(name="v0_neg64_literal", version=0, topic="alu", asm="mov64 r0, 1\nneg64 r0\nexit\n",
    expect_r0=M64, insn_count=3)

# le / be
_SWAP_SRC = 0x1122_3344_5566_7788
for _v in (0, 1, 2, 3):
    for _w in (16, 32, 64):
        add(name=f"v{_v}_be{_w}", version=_v, topic="endian",
            asm=prog(ld("r0", _SWAP_SRC, _v) + [f"be{_w} r0", "exit"]),
            expect_r0=bswap(_SWAP_SRC, _w), insn_count=len(ld("r0", 0, _v)) + 2)
        if _v != 2:
            add(name=f"v{_v}_le{_w}", version=_v, topic="endian",
                asm=prog(ld("r0", _SWAP_SRC, _v) + [f"le{_w} r0", "exit"]),
                expect_r0=_SWAP_SRC & ((1 << _w) - 1), insn_count=len(ld("r0", 0, _v)) + 2)
add(name="v0_be16_literal", version=0, topic="endian", asm="mov64 r0, 0x1122\nbe16 r0\nexit\n",
    expect_r0=0x2211, insn_count=3)
add(name="v0_be16_high_bits_dropped", version=0, topic="endian",
    asm="lddw r0, 0x1122334455667788\nbe16 r0\nexit\n", expect_r0=0x8877, insn_count=3)
add(name="v0_be32_literal", version=0, topic="endian",
    asm="lddw r0, 0x1122334455667788\nbe32 r0\nexit\n", expect_r0=0x8877_6655, insn_count=3)
add(name="v0_be64_literal", version=0, topic="endian",
    asm="lddw r0, 0x1122334455667788\nbe64 r0\nexit\n", expect_r0=0x8877_6655_4433_2211,
    insn_count=3)
add(name="v0_le16_literal", version=0, topic="endian",
    asm="lddw r0, 0x1122334455667788\nle16 r0\nexit\n", expect_r0=0x7788, insn_count=3)
add(name="v0_le32_literal", version=0, topic="endian",
    asm="lddw r0, 0x1122334455667788\nle32 r0\nexit\n", expect_r0=0x5566_7788, insn_count=3)

# lddw
for _i, _val in enumerate([0x1234_5678_9ABC_DEF0, 0x8000_0000, 0xFFFF_FFFF, M64, 0x1_0000_0000, 0]):
    for _v in (0, 1, 3) if _i < 2 else (0,):
        add(name=f"v{_v}_lddw_{_i}", version=_v, topic="lddw", asm=f"lddw r0, {_val:#x}\nexit\n",
            expect_r0=_val, insn_count=2, notes="lddw counts as one instruction; no sign extension")
add(name="v0_lddw_then_add", version=0, topic="lddw",
    asm="lddw r0, 0xffffffff\nadd64 r0, 1\nlddw r1, 0x100000000\nsub64 r0, r1\nexit\n",
    expect_r0=0, insn_count=5)
add(name="v0_lddw_jump_over", version=0, topic="lddw",
    asm="mov64 r0, 1\nja +2\nlddw r0, 0x2\nexit\n", expect_r0=1, insn_count=3,
    notes="ja skips both slots of the lddw")
# v2: hor64 replaces lddw
add(name="v2_hor64_basic", version=2, topic="alu",
    asm="mov64 r0, 0x12345678\nhor64 r0, -1\nexit\n", expect_r0=0xFFFF_FFFF_1234_5678,
    insn_count=3, notes="dst |= (imm as u64) << 32")
add(name="v2_hor64_or_not_replace", version=2, topic="alu",
    asm="mov64 r0, -1\nhor64 r0, 0\nexit\n", expect_r0=M64, insn_count=3)
add(name="v2_hor64_high", version=2, topic="alu",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nexit\n", expect_r0=0x8000_0000_0000_0000, insn_count=3)
# v2 operand swap for sub imm
add(name="v2_sub64_imm_swapped", version=2, topic="alu", asm="mov64 r0, 3\nsub64 r0, 10\nexit\n",
    expect_r0=7, insn_count=3, notes="SIMD-0174: sub imm computes imm - dst")
add(name="v2_sub32_imm_swapped", version=2, topic="alu", asm="mov64 r0, 3\nsub32 r0, 1\nexit\n",
    expect_r0=0xFFFF_FFFE, insn_count=3, notes="(1 - 3) as u32, zero-extended")
add(name="v2_sub64_reg_not_swapped", version=2, topic="alu",
    asm="mov64 r0, 3\nmov64 r1, 10\nsub64 r0, r1\nexit\n", expect_r0=M64 - 6, insn_count=4)
add(name="v0_sub64_imm_not_swapped", version=0, topic="alu", asm="mov64 r0, 3\nsub64 r0, 10\nexit\n",
    expect_r0=M64 - 6, insn_count=3)

# ==============================================================================================
# Division by zero (register forms) and v2 signed overflow
# ==============================================================================================
for _op, _bits in (("div", 64), ("mod", 64), ("div", 32), ("mod", 32)):
    for _v in (0, 1, 3):
        add(name=f"v{_v}_{_op}{_bits}_by_zero_reg", version=_v, topic="divzero",
            asm=f"mov64 r0, 7\nmov64 r1, 0\n{_op}{_bits} r0, r1\nexit\n",
            expect_error_kind="DivideByZero", insn_count=3)
    if _bits == 32:
        add(name=f"v0_{_op}32_by_reg_low_half_zero", version=0, topic="divzero",
            asm=f"mov64 r0, 7\nlddw r1, 0x100000000\n{_op}32 r0, r1\nexit\n",
            expect_error_kind="DivideByZero", insn_count=3,
            notes="32-bit division looks only at the low 32 bits of src")
        add(name=f"v0_{_op}32_by_reg_low_half_zero_2", version=0, topic="divzero",
            asm=f"mov64 r0, -1\nlddw r1, 0xffffffff00000000\n{_op}32 r0, r1\nexit\n",
            expect_error_kind="DivideByZero", insn_count=3)
add(name="v0_div64_by_zero_after_work", version=0, topic="divzero",
    asm="mov64 r0, 1\nmov64 r1, 2\nmov64 r2, 0\nadd64 r0, r1\ndiv64 r0, r2\nmov64 r0, 9\nexit\n",
    expect_error_kind="DivideByZero", insn_count=5, notes="counts the faulting instruction")

# ==============================================================================================
# v2 PQR class: every opcode, imm and reg, with edge values
# ==============================================================================================
PQR_OPS = ["uhmul64", "udiv32", "udiv64", "urem32", "urem64", "lmul32", "lmul64", "shmul64",
           "sdiv32", "sdiv64", "srem32", "srem64"]
_PQR_REG_PAIRS = [
    (M64, M64),
    (0x8000_0000_0000_0000, 2),
    (0xFFFF_FFFF_FFFF_FFF9, 2),  # -7, 2
    (7, 0xFFFF_FFFF_FFFF_FFFE),  # 7, -2
    (0x1234_5678_9ABC_DEF0, 0x1_0000_0003),
    (0xFFFF_FFFF_8000_0000, 0xFFFF_FFFF),  # i32 MIN / -1 in the low halves
]
_PQR_IMMS = [-1, 3, -7, 0x7FFF_FFFF]
_PQR_IMM_DSTS = [0xFFFF_FFFF_FFFF_FFF9, 0x8000_0000_0000_0000]


def _gen_pqr():
    for op in PQR_OPS:
        for i, (a, b) in enumerate(_PQR_REG_PAIRS):
            lines = ld("r0", a, 2) + ld("r1", b, 2) + [f"{op} r0, r1", "exit"]
            exp = ref_pqr(op, a, b, False)
            if isinstance(exp, str):
                add(name=f"v2_{op}_reg_{i}", asm=prog(lines), version=2, expect_error_kind=exp,
                    insn_count=len(lines) - 1, topic="pqr", notes=f"{a:#x} {op} {b:#x}")
            else:
                add(name=f"v2_{op}_reg_{i}", asm=prog(lines), version=2, expect_r0=exp,
                    insn_count=len(lines), topic="pqr", notes=f"{a:#x} {op} {b:#x}")
        j = 0
        for imm in _PQR_IMMS:
            for a in _PQR_IMM_DSTS:
                lines = ld("r0", a, 2) + [f"{op} r0, {imm}", "exit"]
                exp = ref_pqr(op, a, imm, True)
                if isinstance(exp, str):
                    add(name=f"v2_{op}_imm_{j}", asm=prog(lines), version=2, expect_error_kind=exp,
                        insn_count=len(lines) - 1, topic="pqr", notes=f"{a:#x} {op} imm {imm}")
                else:
                    add(name=f"v2_{op}_imm_{j}", asm=prog(lines), version=2, expect_r0=exp,
                        insn_count=len(lines), topic="pqr", notes=f"{a:#x} {op} imm {imm}")
                j += 1


_gen_pqr()

# Literal PQR expectations (computed by hand).
_PQR_LITERAL = [
    ("sdiv64", "mov64 r0, -7\nmov64 r1, 2", 0xFFFF_FFFF_FFFF_FFFD, "-7 / 2 = -3 (truncates)"),
    ("srem64", "mov64 r0, -7\nmov64 r1, 2", M64, "-7 % 2 = -1"),
    ("srem64", "mov64 r0, 7\nmov64 r1, -2", 1, "7 % -2 = 1 (sign of dividend)"),
    ("sdiv32", "mov64 r0, -7\nmov64 r1, 2", 0xFFFF_FFFD, "-3 as u32, zero-extended"),
    ("srem32", "mov64 r0, -7\nmov64 r1, 2", 0xFFFF_FFFF, "-1 as u32"),
    ("uhmul64", "mov64 r0, -1\nmov64 r1, -1", 0xFFFF_FFFF_FFFF_FFFE, "(2^64-1)^2 >> 64"),
    ("shmul64", "mov64 r0, -1\nmov64 r1, -1", 0, "(-1)*(-1) >> 64 = 0"),
    ("shmul64", "mov64 r0, 0\nhor64 r0, 0x80000000\nmov64 r1, 2", M64, "(-2^63)*2 >> 64 = -1"),
    ("lmul32", "mov64 r0, -1\nmov64 r1, -1", 1, "0xffffffff^2 mod 2^32 = 1, zero-extended"),
    ("lmul64", "mov64 r0, -1\nmov64 r1, -1", 1, ""),
    ("udiv32", "mov64 r0, -1\nmov64 r1, 2", 0x7FFF_FFFF, ""),
    ("urem64", "mov64 r0, -1\nmov64 r1, 10", (M64 % 10), ""),
]
for _i, (_op, _setup, _exp, _note) in enumerate(_PQR_LITERAL):
    _n = _setup.count("\n") + 1
    add(name=f"v2_{_op}_literal_{_i}", version=2, topic="pqr",
        asm=f"{_setup}\n{_op} r0, r1\nexit\n", expect_r0=_exp, insn_count=_n + 2, notes=_note)
add(name="v2_uhmul64_imm_is_u32", version=2, topic="pqr",
    asm="mov64 r0, -1\nuhmul64 r0, -1\nexit\n", expect_r0=0xFFFF_FFFE,
    insn_count=3, notes="the imm of uhmul64 is read as u32: (2^64-1)*(2^32-1) >> 64 = 2^32-2")
add(name="v2_udiv64_imm_is_u32", version=2, topic="pqr",
    asm="mov64 r0, -1\nudiv64 r0, -1\nexit\n", expect_r0=0x1_0000_0001,
    insn_count=3, notes="(2^64-1) / (2^32-1) = 2^32+1")
add(name="v2_sdiv64_imm_is_signed", version=2, topic="pqr",
    asm="mov64 r0, 10\nsdiv64 r0, -1\nexit\n", expect_r0=M64 - 9, insn_count=3)
# DivideOverflow / DivideByZero
add(name="v2_sdiv64_min_by_minus_one_reg", version=2, topic="pqr",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nmov64 r1, -1\nsdiv64 r0, r1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=4)
add(name="v2_srem64_min_by_minus_one_reg", version=2, topic="pqr",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nmov64 r1, -1\nsrem64 r0, r1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=4)
add(name="v2_sdiv64_min_by_minus_one_imm", version=2, topic="pqr",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nsdiv64 r0, -1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=3)
add(name="v2_srem64_min_by_minus_one_imm", version=2, topic="pqr",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nsrem64 r0, -1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=3)
add(name="v2_sdiv32_min_by_minus_one_imm", version=2, topic="pqr",
    asm="mov32 r0, 0x80000000\nsdiv32 r0, -1\nexit\n", expect_error_kind="DivideOverflow",
    insn_count=2)
add(name="v2_sdiv32_min_by_minus_one_imm_upper_bits_set", version=2, topic="pqr",
    asm="mov32 r0, 0x80000000\nhor64 r0, 1\nsdiv32 r0, -1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=3,
    notes="dst = 0x180000000: only the low 32 bits (i32::MIN) matter")
add(name="v2_srem32_min_by_minus_one_reg", version=2, topic="pqr",
    asm="mov32 r0, 0x80000000\nmov32 r1, 0xffffffff\nsrem32 r0, r1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=3)
add(name="v2_sdiv32_min_by_minus_one_reg_src_upper_bits", version=2, topic="pqr",
    asm="mov32 r0, 0x80000000\nmov32 r1, 0xffffffff\nhor64 r1, 0x5\nsdiv32 r0, r1\nexit\n",
    expect_error_kind="DivideOverflow", insn_count=4)
add(name="v2_sdiv64_not_overflow_when_src_low_minus_one", version=2, topic="pqr",
    asm="mov64 r0, 0\nhor64 r0, 0x80000000\nmov32 r1, 0xffffffff\nsdiv64 r0, r1\nexit\n",
    expect_r0=(trunc_div(-(1 << 63), 0xFFFF_FFFF)) & M64, insn_count=5,
    notes="src = 0x00000000ffffffff is not -1 as i64")
for _op in ("udiv32", "urem32", "sdiv32", "srem32", "udiv64", "urem64", "sdiv64", "srem64"):
    add(name=f"v2_{_op}_by_zero_reg", version=2, topic="pqr",
        asm=f"mov64 r0, 7\nmov64 r1, 0\n{_op} r0, r1\nexit\n", expect_error_kind="DivideByZero",
        insn_count=3)
for _op in ("udiv32", "urem32", "sdiv32", "srem32"):
    add(name=f"v2_{_op}_by_reg_low_half_zero", version=2, topic="pqr",
        asm=f"mov64 r0, 7\nmov64 r1, 0\nhor64 r1, 1\n{_op} r0, r1\nexit\n",
        expect_error_kind="DivideByZero", insn_count=4)
for _op in ("udiv64", "urem64", "sdiv64", "srem64"):
    _d, _s = 7, 1 << 32
    add(name=f"v2_{_op}_by_reg_low_half_zero_ok", version=2, topic="pqr",
        asm=f"mov64 r0, 7\nmov64 r1, 0\nhor64 r1, 1\n{_op} r0, r1\nexit\n",
        expect_r0=(0 if "div" in _op else 7), insn_count=5)

# ==============================================================================================
# Jumps: every conditional jump, imm and reg, taken and not taken, sign extension of imm
# ==============================================================================================
JUMP_OPS = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"]
_JMP_IMM = [(5, 5), (5, 6), (M64, -1), (0xFFFF_FFFF, -1), (0xFFFF_FFFF_8000_0000, -0x8000_0000)]
_JMP_REG = [(0x8000_0000_0000_0000, 1), (1, 0x8000_0000_0000_0000), (0x1_0000_0005, 5)]


def _jump_case(version, op, d, x, is_imm, name, bits=64):
    x_u64 = imm_u64(x) if is_imm else x & M64
    lines = ld("r1", d, version)
    if not is_imm:
        lines += ld("r2", x, version)
    operand = str(x) if is_imm else "r2"
    lines += ["mov64 r0, 1", f"{op} r1, {operand}, +1", "mov64 r0, 2", "exit"]
    taken = ref_jump(op[:-2] if bits == 32 else op, d, x_u64, bits)
    add(name=name, asm=prog(lines), version=version, expect_r0=1 if taken else 2,
        insn_count=len(lines) - (1 if taken else 0), topic="jump",
        notes=f"{d:#x} {op} {x if is_imm else hex(x)}: {'taken' if taken else 'not taken'}")


for _v in (0, 1, 2, 3):
    for _op in JUMP_OPS:
        _imms = _JMP_IMM if _v == 0 else _JMP_IMM[2:4]
        _regs = _JMP_REG if _v == 0 else _JMP_REG[:1]
        for _i, (_d, _x) in enumerate(_imms):
            _jump_case(_v, _op, _d, _x, True, f"v{_v}_{_op}_imm_{_i}")
        for _i, (_d, _x) in enumerate(_regs):
            _jump_case(_v, _op, _d, _x, False, f"v{_v}_{_op}_reg_{_i}")
    add(name=f"v{_v}_ja", version=_v, topic="jump",
        asm="mov64 r0, 1\nja +1\nmov64 r0, 2\nexit\n", expect_r0=1, insn_count=3)

# v3 JMP32 (SIMD-0377): compares only the low 32 bits
_JMP32_IMM = [(0x1_0000_0005, 5), (0xFFFF_FFFF, -1), (0x8000_0000, 0), (0xFFFF_FFFF_0000_0005, 6)]
_JMP32_REG = [(0xFFFF_FFFF_0000_0001, 0x2_0000_0001), (0x7FFF_FFFF, 0x1_8000_0000)]
for _op in JUMP_OPS:
    for _i, (_d, _x) in enumerate(_JMP32_IMM):
        _jump_case(3, _op + "32", _d, _x, True, f"v3_{_op}32_imm_{_i}", bits=32)
    for _i, (_d, _x) in enumerate(_JMP32_REG):
        _jump_case(3, _op + "32", _d, _x, False, f"v3_{_op}32_reg_{_i}", bits=32)

add(name="v0_jeq_imm_sign_extended_vs_u32", version=0, topic="jump",
    asm="mov32 r1, -1\nmov64 r0, 1\njeq r1, -1, +1\nmov64 r0, 2\nexit\n", expect_r0=2,
    insn_count=5, notes="imm -1 is 0xffffffffffffffff, r1 is 0x00000000ffffffff")
add(name="v0_jgt_imm_minus_one_is_u64_max", version=0, topic="jump",
    asm="mov64 r1, -2\nmov64 r0, 1\njgt r1, -1, +1\nmov64 r0, 2\nexit\n", expect_r0=2,
    insn_count=5, notes="unsigned compares use the sign-extended imm as u64")
add(name="v0_jlt_imm_minus_one_is_u64_max", version=0, topic="jump",
    asm="mov64 r1, -2\nmov64 r0, 1\njlt r1, -1, +1\nmov64 r0, 2\nexit\n", expect_r0=1,
    insn_count=4)
add(name="v0_jsgt_imm_signed", version=0, topic="jump",
    asm="mov64 r1, 0\nmov64 r0, 1\njsgt r1, -1, +1\nmov64 r0, 2\nexit\n", expect_r0=1,
    insn_count=4)
add(name="v0_jset_high_bit_imm", version=0, topic="jump",
    asm="lddw r1, 0x8000000000000000\nmov64 r0, 1\njset r1, -0x80000000, +1\nmov64 r0, 2\nexit\n",
    expect_r0=1, insn_count=4, notes="imm 0x80000000 sign-extends and sets bit 63")
add(name="v0_backward_loop", version=0, topic="jump",
    asm="mov64 r0, 0\nmov64 r1, 10\nloop:\nadd64 r0, 3\nsub64 r1, 1\njne r1, 0, loop\nexit\n",
    expect_r0=30, insn_count=2 + 10 * 3 + 1)
add(name="v0_jsge_self_loop_counts", version=0, topic="jump",
    asm="mov64 r1, 5\nloop:\nsub64 r1, 1\njsge r1, 0, loop\nmov64 r0, r1\nexit\n",
    expect_r0=M64, insn_count=1 + 6 * 2 + 2, notes="r1 goes 5..-1: 6 iterations")
add(name="v0_far_jump", version=0, topic="jump",
    asm="mov64 r0, 1\nja +1000\n" + "mov64 r0, 2\n" * 1000 + "exit\n", expect_r0=1, insn_count=3)

# ==============================================================================================
# Memory: every load/store width in every region
# ==============================================================================================
_FILL = 0x1122_3344_5566_7788
_PAT = 0xA1A2_A3A4_A5A6_A7A8
_WIDTHS = [("b", 1), ("h", 2), ("w", 4), ("dw", 8)]
_IX16 = bytes(range(0x11, 0x21))  # 16 bytes of instruction data: 0x11..0x20


def _region_base(region: str, version: int) -> tuple[list[str], str, int]:
    """(setup lines, base register, offset) of a scratch location in `region`."""
    if region == "stack":
        return [], "r10", -16
    if region == "heap":
        return ld("r3", HEAP + 0x100, version), "r3", 0
    if region == "heap_unaligned":
        return ld("r3", HEAP + 0x7F0, version), "r3", 3
    if region == "input":
        return ["mov64 r3, r2"], "r3", 0
    raise KeyError(region)


def _gen_memory():
    for version in (0, 1, 2, 3):
        regions = ["stack", "heap", "input", "heap_unaligned"] if version == 0 else ["stack", "heap"]
        for region in regions:
            inp = _IX16 if region == "input" else b""
            for sfx, n in _WIDTHS:
                mask = (1 << (8 * n)) - 1
                setup, base, off = _region_base(region, version)
                o = f"{base}{off:+d}"
                fill = ld("r1", _FILL, version) + [f"stxdw [{o}], r1"]
                # stx: overwrite the low n bytes of a known doubleword
                lines = setup + fill + ld("r4", _PAT, version) + [f"stx{sfx} [{o}], r4",
                                                                   f"ldxdw r0, [{o}]", "exit"]
                add(name=f"v{version}_stx{sfx}_{region}", asm=prog(lines), version=version,
                    expect_r0=(_FILL & ~mask) | (_PAT & mask), insn_count=len(lines),
                    input=inp, topic="memory")
                # st imm: the sign-extended imm truncated to n bytes
                lines = setup + fill + [f"st{sfx} [{o}], -2", f"ldxdw r0, [{o}]", "exit"]
                add(name=f"v{version}_st{sfx}_{region}", asm=prog(lines), version=version,
                    expect_r0=(_FILL & ~mask) | ((M64 - 1) & mask), insn_count=len(lines),
                    input=inp, topic="memory")
                # ldx: zero-extended load of the low n bytes
                lines = setup + fill + [f"ldx{sfx} r0, [{o}]", "exit"]
                add(name=f"v{version}_ldx{sfx}_{region}", asm=prog(lines), version=version,
                    expect_r0=_FILL & mask, insn_count=len(lines), input=inp, topic="memory")


_gen_memory()

# stdw imm stores the sign-extended 64-bit value
add(name="v0_stdw_imm_sign_extends", version=0, topic="memory",
    asm="stdw [r10-8], -0x80000000\nldxdw r0, [r10-8]\nexit\n", expect_r0=0xFFFF_FFFF_8000_0000,
    insn_count=3)
add(name="v0_stdw_imm_positive", version=0, topic="memory",
    asm="stdw [r10-8], 0x7fffffff\nldxdw r0, [r10-8]\nexit\n", expect_r0=0x7FFF_FFFF, insn_count=3)
add(name="v0_ldxh_same_reg", version=0, topic="memory",
    asm="mov64 r0, r10\nsth [r0-2], 0x1234\nldxh r0, [r0-2]\nexit\n", expect_r0=0x1234,
    insn_count=4, notes="sbpf test_ldxh_same_reg")
add(name="v0_unaligned_load_across_8", version=0, topic="memory",
    asm="lddw r1, 0x1122334455667788\nstxdw [r10-16], r1\nlddw r1, 0x99aabbccddeeff00\n"
        "stxdw [r10-8], r1\nldxdw r0, [r10-11]\nexit\n",
    expect_r0=0xCCDD_EEFF_0011_2233, insn_count=6,
    notes="stack r10-16.. = 88 77 66 55 44 33 22 11 00 ff ee dd cc bb aa 99; r10-11 = +5")
add(name="v0_unaligned_store_across_8", version=0, topic="memory",
    asm="stdw [r10-16], 0\nstdw [r10-8], 0\nlddw r1, 0x1122334455667788\nstxdw [r10-13], r1\n"
        "ldxdw r0, [r10-8]\nexit\n",
    expect_r0=0x0000_0000_0011_2233, insn_count=6,
    notes="bytes at r10-13..r10-6 = 88 77 66 55 44 33 22 11; r10-8.. = 33 22 11 00 ...")
add(name="v0_negative_offset_wraps_into_heap", version=0, topic="memory",
    asm="lddw r1, 0x300000010\nstxdw [r1-16], r1\nlddw r2, 0x300000000\nldxdw r0, [r2+0]\n"
        "sub64 r0, r2\nexit\n", expect_r0=0x10, insn_count=6)

# input region reads (the serialized instruction: no accounts)
add(name="v0_input_num_accounts", version=0, topic="input", input=_IX16,
    asm="ldxdw r0, [r1+0]\nexit\n", expect_r0=0, insn_count=2)
add(name="v0_input_ix_data_len", version=0, topic="input", input=_IX16,
    asm="ldxdw r0, [r1+8]\nexit\n", expect_r0=16, insn_count=2)
add(name="v0_input_r2_points_to_ix_data", version=0, topic="input", input=_IX16,
    asm="mov64 r0, r2\nsub64 r0, r1\nexit\n", expect_r0=16, insn_count=3,
    notes="SIMD-0321: r2 = vaddr of the instruction data")
add(name="v0_input_r1_value", version=0, topic="input",
    asm="mov64 r0, r1\nrsh64 r0, 32\nexit\n", expect_r0=4, insn_count=3)
add(name="v0_input_ldxb", version=0, topic="input", input=_IX16,
    asm="ldxb r0, [r2+0]\nexit\n", expect_r0=0x11, insn_count=2)
add(name="v0_input_ldxh_unaligned", version=0, topic="input", input=_IX16,
    asm="ldxh r0, [r2+1]\nexit\n", expect_r0=0x1312, insn_count=2)
add(name="v0_input_ldxw_unaligned", version=0, topic="input", input=_IX16,
    asm="ldxw r0, [r2+3]\nexit\n", expect_r0=0x1716_1514, insn_count=2)
add(name="v0_input_ldxdw", version=0, topic="input", input=_IX16,
    asm="ldxdw r0, [r2+8]\nexit\n", expect_r0=0x201F_1E1D_1C1B_1A19, insn_count=2)
add(name="v0_input_write_ix_data", version=0, topic="input", input=_IX16,
    asm="stb [r2+0], 0x7f\nldxdw r0, [r2+0]\nexit\n", expect_r0=0x1817_1615_1413_127F,
    insn_count=3, notes="agave-facts 13: the instruction data in the input region is writable")
add(name="v0_input_last_byte_mapped", version=0, topic="input", input=_IX16,
    asm="ldxb r0, [r1+63]\nmov64 r0, 7\nexit\n", expect_r0=7, insn_count=3,
    notes="input = 8 + 8 + 16 + 32 = 64 bytes; offset 63 is the last program-id byte")
add(name="v0_input_last_dword_mapped", version=0, topic="input", input=_IX16,
    asm="ldxdw r0, [r1+56]\nmov64 r0, 7\nexit\n", expect_r0=7, insn_count=3)
add(name="v0_input_store_last_dword", version=0, topic="input", input=_IX16,
    asm="stdw [r1+56], 5\nldxdw r0, [r1+56]\nexit\n", expect_r0=5, insn_count=3)
add(name="v0_input_load_past_end", version=0, topic="input", input=_IX16,
    asm="ldxb r0, [r1+64]\nexit\n", expect_error_kind="AccessViolation", insn_count=1,
    expect_error_text=av("input", INPUT + 64, 1))
add(name="v0_input_load_straddles_end", version=0, topic="input", input=_IX16,
    asm="ldxdw r0, [r1+57]\nexit\n", expect_error_kind="AccessViolation", insn_count=1,
    expect_error_text=av("input", INPUT + 57, 8))
add(name="v0_input_store_past_end", version=0, topic="input", input=_IX16,
    asm="mov64 r0, 0\nsth [r1+63], 1\nexit\n", expect_error_kind="AccessViolation", insn_count=2,
    expect_error_text=av("input", INPUT + 63, 2))
add(name="v0_input_empty_ix_end", version=0, topic="input",
    asm="ldxdw r0, [r1+40]\nldxdw r0, [r1+41]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("input", INPUT + 41, 8),
    notes="empty instruction data: input is 48 bytes")
add(name="v0_input_below_start", version=0, topic="input",
    asm="ldxb r0, [r1-1]\nexit\n", expect_error_kind="AccessViolation", insn_count=1,
    expect_error_text=av("heap", INPUT - 1, 1),
    notes="0x3ffffffff is in the heap's 4 GiB slot, past the heap's end")

# heap bounds (32 KiB at 0x3_0000_0000)
add(name="v0_heap_last_dword", version=0, topic="heap",
    asm="lddw r1, 0x300007ff8\nstdw [r1+0], 9\nldxdw r0, [r1+0]\nexit\n", expect_r0=9,
    insn_count=4, notes="agave-facts 15: 0x300007ff8 is usable")
add(name="v0_heap_first_byte", version=0, topic="heap",
    asm="lddw r1, 0x300000000\nstb [r1+0], 0x42\nldxb r0, [r1+0]\nexit\n", expect_r0=0x42,
    insn_count=4)
for _sfx, _n in _WIDTHS:
    add(name=f"v0_heap_ldx{_sfx}_at_end", version=0, topic="heap",
        asm=f"lddw r1, 0x300008000\nldx{_sfx} r0, [r1+0]\nexit\n",
        expect_error_kind="AccessViolation", insn_count=2,
        expect_error_text=av("heap", HEAP + 0x8000, _n))
    add(name=f"v0_heap_st{_sfx}_at_end", version=0, topic="heap",
        asm=f"lddw r1, 0x300008000\nst{_sfx} [r1+0], 1\nexit\n",
        expect_error_kind="AccessViolation", insn_count=2,
        expect_error_text=av("heap", HEAP + 0x8000, _n))
    if _n > 1:
        add(name=f"v0_heap_stx{_sfx}_straddles_end", version=0, topic="heap",
            asm=f"lddw r1, 0x300007fff\nstx{_sfx} [r1+0], r1\nexit\n",
            expect_error_kind="AccessViolation", insn_count=2,
            expect_error_text=av("heap", HEAP + 0x7FFF, _n))
add(name="v0_below_heap_is_stack_slot", version=0, topic="heap",
    asm="lddw r1, 0x2fffffff8\nldxdw r0, [r1+0]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("stack", 0x2_FFFF_FFF8, 8),
    notes="agave-facts: just below the heap is reported in the 'stack' section")

# unmapped addresses
add(name="v0_load_null", version=0, topic="unmapped",
    asm="mov64 r1, 0\nldxb r0, [r1+0]\nexit\n", expect_error_kind="AccessViolation", insn_count=2,
    expect_error_text=av("unknown", 0, 1), notes="v0 has nothing mapped at region 0")
add(name="v0_load_address_wraps_to_null", version=0, topic="unmapped",
    asm="mov64 r1, -1\nldxh r0, [r1+1]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("unknown", 0, 2), notes="address = (r1 + off) mod 2^64")
add(name="v0_load_region_5", version=0, topic="unmapped",
    asm="lddw r1, 0x500000000\nldxw r0, [r1+0]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("unknown", 0x5_0000_0000, 4))
add(name="v0_store_high_address", version=0, topic="unmapped",
    asm="lddw r1, 0x8000000000000002\nstb [r1+0], 0\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("unknown", 0x8000_0000_0000_0002, 1),
    notes="sbpf test_err_mem_access_out_of_bound")
add(name="v0_store_0x80000002", version=0, topic="unmapped",
    asm="lddw r1, 0x80000002\nstb [r1+0], 0\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("unknown", 0x8000_0002, 1))

# program region: read-only. Loads of our own text; stores fault.
_TEXT_READ = ("lddw r1, {case_vaddr}\nldxdw r0, [r1+24]\nmov64 r2, 0x12345678\nexit\n")
add(name="v0_program_ldxdw_own_text", version=0, topic="program", asm=_TEXT_READ,
    expect_r0=0x1234_5678_0000_02B7, insn_count=4,
    notes="reads slot 3 = mov64 r2, 0x12345678: b7 02 0000 78563412")
add(name="v0_program_ldxw_own_text", version=0, topic="program",
    asm="lddw r1, {case_vaddr}\nldxw r0, [r1+28]\nmov64 r2, 0x12345678\nexit\n",
    expect_r0=0x1234_5678, insn_count=4)
add(name="v0_program_ldxh_own_text", version=0, topic="program",
    asm="lddw r1, {case_vaddr}\nldxh r0, [r1+24]\nmov64 r2, 0x12345678\nexit\n",
    expect_r0=0x02B7, insn_count=4)
add(name="v0_program_ldxb_own_text", version=0, topic="program",
    asm="lddw r1, {case_vaddr}\nldxb r0, [r1+24]\nmov64 r2, 0x12345678\nexit\n",
    expect_r0=0xB7, insn_count=4)
for _sfx, _n in _WIDTHS:
    add(name=f"v0_program_st{_sfx}_faults", version=0, topic="program",
        asm=f"lddw r1, {{case_vaddr}}\nst{_sfx} [r1+8], 0\nexit\n",
        expect_error_kind="AccessViolation", insn_count=2,
        expect_error_text=(lambda v, n=_n: av("program", v + 8, n)))
    add(name=f"v0_program_stx{_sfx}_faults", version=0, topic="program",
        asm=f"lddw r1, {{case_vaddr}}\nstx{_sfx} [r1+0], r1\nexit\n",
        expect_error_kind="AccessViolation", insn_count=2,
        expect_error_text=(lambda v, n=_n: av("program", v, n)))
_RODATA = ("lddw r1, data\nldx{w} r0, [r1+{o}]\nexit\n"
           ".rodata\ndata: .quad 0x1122334455667788\n.quad 0x99aabbccddeeff00\nend:\n")
for _sfx, _n in _WIDTHS:
    add(name=f"v0_rodata_ldx{_sfx}", version=0, topic="program",
        asm=_RODATA.format(w=_sfx, o=4), expect_r0=((0x99AA_BBCC_DDEE_FF00_1122_3344_5566_7788
                                                       >> 32) & ((1 << (8 * _n)) - 1)),
        insn_count=3, notes="rodata bytes 88 77 66 55 44 33 22 11 00 ff ee dd ...; offset 4")
add(name="v0_rodata_store_faults", version=0, topic="program",
    asm="lddw r1, data\nstb [r1+0], 1\nexit\n.rodata\ndata: .quad 0x1122334455667788\n",
    expect_error_kind="AccessViolation", insn_count=2)
add(name="v0_rodata_read_past_end", version=0, topic="program",
    asm="lddw r1, end\nldxb r0, [r1+0]\nexit\n.rodata\ndata: .quad 0x1122334455667788\nend:\n",
    expect_error_kind="AccessViolation", insn_count=2,
    notes="the read-only region ends with .rodata")

# ==============================================================================================
# Stack: frames, gaps (v0), straddling, dynamic frames (v1/v2), no gaps (v3)
# ==============================================================================================
add(name="v0_stack_frame0_first_and_last_dword", version=0, topic="stack", wrap=False,
    asm="lddw r1, 0x200000000\nstdw [r1+0], 3\nstdw [r10-8], 4\nldxdw r0, [r1+0]\n"
        "ldxdw r2, [r10-8]\nadd64 r0, r2\nexit\n", expect_r0=7, insn_count=7)
add(name="v0_r10_initial", version=0, topic="stack", wrap=False,
    asm="mov64 r0, r10\nlddw r1, 0x200001000\nsub64 r0, r1\nexit\n", expect_r0=0, insn_count=4)
add(name="v0_stack_gap_above_frame0", version=0, topic="stack", wrap=False,
    asm="stxdw [r10+0], r1\nexit\n", expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(1, STACK + 0x1000, 8))
add(name="v0_stack_gap_stw_r10_plus_8", version=0, topic="stack", wrap=False,
    asm="stw [r10+8], 77\ncall f\nexit\nf:\nldxdw r0, [r10-4088]\nexit\n",
    expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(1, STACK + 0x1008, 4), notes="sbpf test_stack_gaps")
add(name="v0_stack_gap_top_of_gap", version=0, topic="stack", wrap=False,
    asm="ldxdw r0, [r10+0xff8]\nexit\n", expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(1, 0x2_0000_1FF8, 8), notes="agave-facts 10: 0x200001ff8")
add(name="v0_stack_below_frame0", version=0, topic="stack", wrap=False,
    asm="ldxdw r0, [r10-0x1008]\nexit\n", expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(0, 0x1_FFFF_FFF8, 8),
    notes="(addr - stack) / 4096 truncates toward zero: -8/4096 = 0 (agave-facts 10)")
add(name="v0_stack_one_byte_below_frame0", version=0, topic="stack", wrap=False,
    asm="stb [r10-0x1001], 0\nexit\n", expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(0, STACK - 1, 1), notes="sbpf test_err_stack_out_of_bound")
add(name="v0_stack_frame_minus1", version=0, topic="stack", wrap=False,
    asm="ldxdw r0, [r10-0x2008]\nexit\n", expect_error_kind="StackAccessViolation", insn_count=1,
    expect_error_text=sav(-1, STACK - 0x1008, 8))
add(name="v0_stack_far_below_is_program_section", version=0, topic="stack", wrap=False,
    asm="ldxdw r0, [r10-0x3008]\nexit\n", expect_error_kind="AccessViolation", insn_count=1,
    expect_error_text=av("program", STACK - 0x2008, 8),
    notes="(addr - stack)/4096 = -2: outside [-1, 64] -> named after the 4 GiB slot")
add(name="v0_stack_straddles_frame0_end", version=0, topic="stack", wrap=False,
    asm="lddw r1, 0x1122334455667788\nstxdw [r10-8], r1\ncall f\nldxw r0, [r10-2]\nexit\n"
        "f:\nlddw r2, 0xaabbccddeeff0011\nstxdw [r10-0x1000], r2\nexit\n",
    expect_r0=0x0011_1122, insn_count=8,
    notes="only the start is checked against the gap; bytes 22 11 | 11 00 come from frame 1")
add(name="v0_stack_straddles_frame0_end_dw", version=0, topic="stack", wrap=False,
    asm="lddw r1, 0x1122334455667788\nstxdw [r10-8], r1\ncall f\nldxdw r0, [r10-4]\n"
        "rsh64 r0, 32\nexit\nf:\nlddw r2, 0xaabbccddeeff0011\nstxdw [r10-0x1000], r2\nexit\n",
    expect_r0=0xEEFF_0011, insn_count=9,
    notes="bytes 44 33 22 11 | 11 00 ff ee; high half 0xeeff0011")
add(name="v0_stack_callee_frame_offset", version=0, topic="stack",
    asm="mov64 r6, r10\ncall f\nexit\nf:\nmov64 r0, r10\nsub64 r0, r6\nexit\n",
    expect_r0=0x2000, insn_count=6, notes="v0 with gaps: a call adds 8192 to r10")
add(name="v0_stack_callee_r10_absolute", version=0, topic="stack", wrap=False,
    asm="call f\nexit\nf:\nmov64 r0, r10\nlddw r1, 0x200003000\nsub64 r0, r1\nexit\n",
    expect_r0=0, insn_count=6)
add(name="v0_stack_callee_gap_reported_as_frame3", version=0, topic="stack", wrap=False,
    asm="call f\nexit\nf:\nstdw [r10+0], 1\nexit\n", expect_error_kind="StackAccessViolation",
    insn_count=2, expect_error_text=sav(3, STACK + 0x3000, 8),
    notes="agave-facts: 'stack frame N' is (addr - stack)/4096, not the call depth")
add(name="v0_stack_frames_are_private", version=0, topic="stack",
    asm="stdw [r10-8], 11\ncall f\nldxdw r0, [r10-8]\nexit\nf:\nstdw [r10-8], 22\nexit\n",
    expect_r0=11, insn_count=6)
add(name="v0_stack_caller_frame_reachable_by_address", version=0, topic="stack",
    asm="stdw [r10-8], 11\nmov64 r1, r10\ncall f\nexit\nf:\nldxdw r0, [r1-8]\nexit\n",
    expect_r0=11, insn_count=6)
add(name="v0_stack_guest_frame32_mapped", version=0, topic="stack",
    asm="lddw r1, 0x200040000\nstdw [r1+0], 5\nldxdw r0, [r1+0]\nexit\n", expect_r0=5,
    insn_count=4, notes="with gaps the 64 host frames span 512 KiB of guest space")
add(name="v0_stack_last_guest_frame_end", version=0, topic="stack",
    asm="lddw r1, 0x20007eff8\nstdw [r1+0], 5\nldxdw r0, [r1+0]\nexit\n", expect_r0=5,
    insn_count=4, notes="host frame 63 = guest 0x20007e000..0x20007f000")
add(name="v0_stack_gap_frame63", version=0, topic="stack",
    asm="lddw r1, 0x20003f000\nldxdw r0, [r1+0]\nexit\n", expect_error_kind="StackAccessViolation",
    insn_count=2, expect_error_text=sav(63, 0x2_0003_F000, 8))
add(name="v0_stack_gap_frame65_not_stack_violation", version=0, topic="stack",
    asm="lddw r1, 0x200041000\nldxdw r0, [r1+0]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("stack", 0x2_0004_1000, 8),
    notes="frame 65 is outside [-1, 64]: a plain AccessViolation")
add(name="v0_stack_past_guest_end", version=0, topic="stack",
    asm="lddw r1, 0x20007f000\nstdw [r1+0], 1\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("stack", 0x2_0007_F000, 8))
add(name="v0_stack_host_end", version=0, topic="stack",
    asm="lddw r1, 0x200080000\nldxb r0, [r1+0]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("stack", 0x2_0008_0000, 1))

for _v in (1, 2):
    _ldr = ld("r1", STACK + 64 * 4096, _v)
    add(name=f"v{_v}_r10_starts_at_stack_top", version=_v, topic="stack",
        asm=prog(["mov64 r0, r10"] + _ldr + ["sub64 r0, r1", "exit"]), expect_r0=0,
        insn_count=3 + len(_ldr), notes="SIMD-0166: r10 = 0x200040000")
    add(name=f"v{_v}_stack_store_below_top", version=_v, topic="stack",
        asm="stdw [r10-8], 6\nldxdw r0, [r10-8]\nexit\n", expect_r0=6, insn_count=3)
    add(name=f"v{_v}_stack_access_at_top_faults", version=_v, topic="stack",
        asm="ldxdw r0, [r10+0]\nexit\n", expect_error_kind="AccessViolation", insn_count=1,
        expect_error_text=av("stack", STACK + 0x40000, 8),
        notes="v1/v2 never report StackAccessViolation")
    add(name=f"v{_v}_stack_bottom_mapped", version=_v, topic="stack",
        asm=prog(ld("r1", STACK, _v) + ["stdw [r1+0], 4", "ldxdw r0, [r1+0]", "exit"]),
        expect_r0=4, insn_count=3 + len(ld("r1", 0, _v)), notes="no gaps: 256 KiB contiguous")
    add(name=f"v{_v}_stack_below_bottom", version=_v, topic="stack",
        asm=prog(ld("r1", STACK, _v) + ["ldxb r0, [r1-1]", "exit"]),
        expect_error_kind="AccessViolation", insn_count=1 + len(ld("r1", 0, _v)),
        expect_error_text=av("program", STACK - 1, 1))
    add(name=f"v{_v}_call_does_not_move_r10", version=_v, topic="stack",
        asm="mov64 r6, r10\ncall f\nexit\nf:\nmov64 r0, r10\nsub64 r0, r6\nexit\n",
        expect_r0=0, insn_count=6)
    add(name=f"v{_v}_add64_r10_moves_frame", version=_v, topic="stack",
        asm="mov64 r6, r10\nadd64 r10, -128\nmov64 r0, r6\nsub64 r0, r10\nexit\n",
        expect_r0=128, insn_count=5, notes="add64 r10, imm (imm a multiple of 64)")
    add(name=f"v{_v}_r10_restored_after_callee_bump", version=_v, topic="stack",
        asm="mov64 r6, r10\ncall f\nmov64 r0, r10\nsub64 r0, r6\nexit\nf:\nadd64 r10, -256\n"
            "stdw [r10+0], 1\nexit\n",
        expect_r0=0, insn_count=8, notes="exit restores the caller's frame pointer")
add(name="v3_stack_no_gaps_above_frame0", version=3, topic="stack", wrap=False,
    asm="stdw [r10+0], 9\nldxdw r0, [r10+0]\nexit\n", expect_r0=9, insn_count=3,
    notes="v3 has no stack gaps: 0x200001000 is frame 1's memory")
add(name="v3_call_adds_one_frame", version=3, topic="stack",
    asm="mov64 r6, r10\ncall f\nexit\nf:\nmov64 r0, r10\nsub64 r0, r6\nexit\n",
    expect_r0=0x1000, insn_count=6)
add(name="v3_stack_top_is_stack_violation", version=3, topic="stack",
    asm="lddw r1, 0x200040000\nldxdw r0, [r1+0]\nexit\n", expect_error_kind="StackAccessViolation",
    insn_count=2, expect_error_text=sav(64, STACK + 0x40000, 8))
add(name="v3_stack_below_bottom", version=3, topic="stack",
    asm="lddw r1, 0x200000000\nldxb r0, [r1-1]\nexit\n", expect_error_kind="StackAccessViolation",
    insn_count=2, expect_error_text=sav(0, STACK - 1, 1))
add(name="v3_stack_last_byte", version=3, topic="stack",
    asm="lddw r1, 0x20003ffff\nstb [r1+0], 0x5a\nldxb r0, [r1+0]\nexit\n", expect_r0=0x5A,
    insn_count=4)

# ==============================================================================================
# Calls, callx, call depth
# ==============================================================================================
for _v in (0, 1, 2, 3):
    add(name=f"v{_v}_call_internal", version=_v, topic="call",
        asm="mov64 r1, 5\ncall f\nadd64 r0, 1\nexit\nf:\nmov64 r0, r1\nlsh64 r0, 1\nadd64 r0, r1\n"
            "exit\n", expect_r0=16, insn_count=8)
    add(name=f"v{_v}_call_preserves_r6_r9", version=_v, topic="call",
        asm="mov64 r6, 6\nmov64 r7, 7\nmov64 r8, 8\nmov64 r9, 9\ncall f\nmov64 r0, r6\n"
            "add64 r0, r7\nadd64 r0, r8\nadd64 r0, r9\nexit\nf:\nmov64 r6, 0\nmov64 r7, 0\n"
            "mov64 r8, 0\nmov64 r9, 0\nexit\n", expect_r0=30, insn_count=15)
    add(name=f"v{_v}_call_clobbers_r1_r5", version=_v, topic="call",
        asm="mov64 r1, 1\nmov64 r5, 5\ncall f\nmov64 r0, r1\nadd64 r0, r5\nexit\nf:\n"
            "mov64 r1, 100\nmov64 r5, 200\nexit\n", expect_r0=300, insn_count=9,
        notes="r1-r5 are not saved across calls")
add(name="v0_call_recursive_factorial", version=0, topic="call",
    asm="mov64 r1, 10\ncall fact\nexit\nfact:\nmov64 r0, 1\njeq r1, 0, done\nmov64 r6, r1\n"
        "sub64 r1, 1\ncall fact\nmul64 r0, r6\ndone:\nexit\n",
    expect_r0=3628800, insn_count=2 + 10 * 7 + 3 + 1,
    notes="fact(n>0): mov, jeq, mov, sub, call, [fact(n-1)], mul, exit = 7; fact(0): 3")
add(name="v0_call_depth_63_ok", version=0, topic="depth", wrap=False,
    asm="mov64 r1, 63\nmov64 r0, 0\ncall f\nexit\nf:\nadd64 r0, 1\nsub64 r1, 1\n"
        "jeq r1, 0, +1\ncall f\nexit\n",
    expect_r0=63, insn_count=5 * 63 + 3, notes="63 nested frames is the maximum")
add(name="v0_call_depth_64_fails", version=0, topic="depth", wrap=False,
    asm="mov64 r1, 64\nmov64 r0, 0\ncall f\nexit\nf:\nadd64 r0, 1\nsub64 r1, 1\n"
        "jeq r1, 0, +1\ncall f\nexit\n",
    expect_error_kind="CallDepthExceeded", insn_count=3 + 63 * 4,
    notes="the 64th call raises; call depth == max_call_depth (64)")
add(name="v3_call_depth_63_ok", version=3, topic="depth", wrap=False,
    asm="mov64 r1, 63\nmov64 r0, 0\ncall f\nexit\nf:\nadd64 r0, 1\nsub64 r1, 1\n"
        "jeq r1, 0, +1\ncall f\nexit\n", expect_r0=63, insn_count=5 * 63 + 3)
add(name="v3_call_depth_64_fails", version=3, topic="depth", wrap=False,
    asm="mov64 r1, 64\nmov64 r0, 0\ncall f\nexit\nf:\nadd64 r0, 1\nsub64 r1, 1\n"
        "jeq r1, 0, +1\ncall f\nexit\n", expect_error_kind="CallDepthExceeded",
    insn_count=3 + 63 * 4)
add(name="v1_call_depth_64_fails", version=1, topic="depth", wrap=False,
    asm="mov64 r1, 64\nmov64 r0, 0\ncall f\nexit\nf:\nadd64 r0, 1\nsub64 r1, 1\n"
        "jeq r1, 0, +1\ncall f\nexit\n", expect_error_kind="CallDepthExceeded",
    insn_count=3 + 63 * 4)
add(name="v0_tight_infinite_recursion", version=0, topic="depth", wrap=False,
    asm="entrypoint:\nmov64 r3, 0x41414141\ncall entrypoint\nexit\n",
    expect_error_kind="CallDepthExceeded", insn_count=128,
    notes="64 x (mov, call); the 64th call fails")
add(name="v0_call_depth_stack_frames_in_range", version=0, topic="depth", wrap=False,
    asm="mov64 r1, 63\ncall f\nexit\nf:\nsub64 r1, 1\njeq r1, 0, +2\ncall f\nexit\n"
        "stdw [r10-8], 3\nldxdw r0, [r10-8]\nexit\n",
    expect_r0=3, insn_count=3 + 62 * 4 + 5,
    notes="invocations 1..62: sub, jeq, call, exit; the 63rd (depth 63, r10 = 0x20007f000): "
          "sub, jeq, stdw, ldxdw, exit; main: mov, call, exit")

# callx (v0/v1: register in imm; v2: src; v3: dst -- the assembler encodes `callx rN` per version)
_CALLX_V0 = "lddw r1, {case_vaddr}\nadd64 r1, OFF\ncallx r1\nexit\nmov64 r0, 42\nexit\n"
for _v in (0, 1, 3):
    add(name=f"v{_v}_callx_basic", version=_v, topic="callx",
        asm=_CALLX_V0.replace("OFF", str(5 * 8)), expect_r0=42, insn_count=6,
        notes="target = slot 5")
add(name="v2_callx_basic", version=2, topic="callx",
    asm="mov32 r1, {case_vaddr_lo}\nhor64 r1, {case_vaddr_hi}\nadd64 r1, 40\ncallx r1\nexit\n"
        "mov64 r0, 42\nexit\n", expect_r0=42, insn_count=7, notes="v2 callx uses src")
add(name="v0_callx_unaligned_truncates", version=0, topic="callx",
    asm=_CALLX_V0.replace("OFF", str(5 * 8 + 3)), expect_r0=42, insn_count=6,
    notes="(addr - text_vaddr) / 8 truncates")
add(name="v0_callx_scratch_regs", version=0, topic="callx",
    asm="lddw r1, {case_vaddr}\nadd64 r1, 56\nmov64 r6, 1\ncallx r1\nmov64 r0, r6\nexit\n"
        "mov64 r6, 99\nexit\n", expect_r0=1, insn_count=8)
add(name="v0_callx_below_text", version=0, topic="callx",
    asm="lddw r1, {case_vaddr}\nsub64 r1, 8\ncallx r1\nexit\n",
    expect_error_kind="CallOutsideTextSegment", insn_count=3,
    notes="target below text_vaddr wraps to a huge pc")
add(name="v0_callx_small_number", version=0, topic="callx",
    asm="mov64 r0, 3\ncallx r0\nexit\n", expect_error_kind="CallOutsideTextSegment", insn_count=2,
    notes="sbpf test_err_callx_oob_low")
add(name="v0_callx_stack_address", version=0, topic="callx",
    asm="lddw r0, 0x200000000\ncallx r0\nexit\n", expect_error_kind="CallOutsideTextSegment",
    insn_count=2, notes="sbpf test_err_callx_oob_high")
add(name="v0_callx_max_address", version=0, topic="callx",
    asm="lddw r0, 0xfffffffffffffff8\ncallx r0\nexit\n", expect_error_kind="CallOutsideTextSegment",
    insn_count=2, notes="sbpf test_err_callx_oob_max")
add(name="v0_callx_text_end", version=0, topic="callx", wrap=False,
    asm="lddw r1, {case_vaddr}\nadd64 r1, 48\ncallx r1\nexit\nexit\n",
    expect_error_kind="CallOutsideTextSegment", insn_count=3,
    notes="text is 6 slots (48 bytes); slot 6 is the first one outside")
add(name="v0_callx_last_slot", version=0, topic="callx",
    asm="lddw r1, {case_vaddr}\nadd64 r1, 40\nmov64 r0, 8\ncallx r1\nexit\n",
    expect_r0=8, insn_count=6, notes="callx to the last slot (an exit), which returns to it")
add(name="v0_callx_zero_register", version=0, topic="callx",
    asm="mov64 r1, 0\ncallx r1\nexit\n", expect_error_kind="CallOutsideTextSegment", insn_count=2)
add(name="v3_callx_below_text", version=3, topic="callx",
    asm="lddw r1, {case_vaddr}\nsub64 r1, 8\ncallx r1\nexit\n",
    expect_error_kind="CallOutsideTextSegment", insn_count=3)
add(name="v0_callx_recursion_depth", version=0, topic="depth", wrap=False,
    asm="lddw r1, {case_vaddr}\ncallx r1\nexit\n", expect_error_kind="CallDepthExceeded",
    insn_count=128, notes="callx to slot 0 forever: 64 x (lddw, callx)")
add(name="v0_callx_depth_checked_before_target", version=0, topic="depth", wrap=False,
    asm="mov64 r1, 63\ncall f\nexit\nf:\nsub64 r1, 1\njeq r1, 0, +2\ncall f\nexit\n"
        "mov64 r2, 0\ncallx r2\nexit\n",
    expect_error_kind="CallDepthExceeded", insn_count=2 + 62 * 3 + 4,
    notes="at depth 63 a callx to a bad target: the frame push fails first "
          "(main: mov, call; 62 x sub, jeq, call; then sub, jeq, mov, callx)")

# unknown syscall / unresolved call
add(name="v0_call_unknown_syscall", version=0, topic="call",
    asm="mov64 r0, 0\ncall sol_this_syscall_does_not_exist\nexit\n",
    expect_error_kind="UnsupportedInstruction", insn_count=2,
    notes="agave-facts 4: add_program does not reject it; it fails when executed")
add(name="v3_call_unknown_syscall", version=3, topic="call",
    asm="mov64 r0, 0\ncall sol_this_syscall_does_not_exist\nexit\n",
    expect_error_kind="UnsupportedInstruction", insn_count=2,
    notes="v3 static syscall with an unregistered hash: src=0 and not a syscall, and src != 1")

# ==============================================================================================
# ExecutionOverrun
# ==============================================================================================
add(name="v0_fall_off_end", version=0, topic="overrun", asm="mov64 r0, 0\n",
    expect_error_kind="ExecutionOverrun", insn_count=2,
    notes="the verifier does not require a final exit; the overrun check counts one more step")
add(name="v0_fall_off_end_two", version=0, topic="overrun", asm="mov64 r0, 0\nadd64 r1, 0\n",
    expect_error_kind="ExecutionOverrun", insn_count=3, notes="sbpf test_execution_overrun")
add(name="v0_return_past_end", version=0, topic="overrun",
    asm="f:\nexit\nentrypoint:\ncall f\n", expect_error_kind="ExecutionOverrun", insn_count=3,
    notes="sbpf test_exit_to_nothing_is_capped: return address is the end of text")
add(name="v0_overrun_after_jump", version=0, topic="overrun",
    asm="ja +1\nexit\nmov64 r0, 1\n", expect_error_kind="ExecutionOverrun", insn_count=3)
add(name="v3_fall_off_end", version=3, topic="overrun", asm="mov64 r0, 0\n",
    expect_error_kind="ExecutionOverrun", insn_count=2)
add(name="v2_fall_off_end", version=2, topic="overrun", asm="mov64 r0, 0\n",
    expect_error_kind="ExecutionOverrun", insn_count=2)

# ==============================================================================================
# Compute metering at exact budgets
# ==============================================================================================
_LOOP = "mov64 r1, 10\nloop:\nsub64 r1, 1\njne r1, 0, loop\nmov64 r0, 0\nexit\n"  # 1+20+2 = 23
add(name="v0_budget_exact", version=0, topic="budget", asm=_LOOP, budget=23, expect_r0=0,
    insn_count=23)
add(name="v0_budget_one_short", version=0, topic="budget", asm=_LOOP, budget=22,
    expect_error_kind="ExceededMaxInstructions", insn_count=22,
    notes="fails on the final exit; compute_units == budget")
add(name="v0_budget_two_short", version=0, topic="budget", asm=_LOOP, budget=21,
    expect_error_kind="ExceededMaxInstructions", insn_count=21)
add(name="v0_budget_minimal", version=0, topic="budget", asm="mov64 r0, 0\nexit\n", budget=2,
    expect_r0=0, insn_count=2)
add(name="v0_budget_exit_capped", version=0, topic="budget", asm="mov64 r0, 0\nexit\n", budget=1,
    expect_error_kind="ExceededMaxInstructions", insn_count=1, notes="sbpf test_exit_capped")
add(name="v0_budget_zero", version=0, topic="budget", asm="mov64 r0, 0\nexit\n", budget=0,
    expect_error_kind="ExceededMaxInstructions", insn_count=0,
    notes="no instruction can run")
add(name="v0_budget_infinite_loop", version=0, topic="budget", asm="ja -1\n", budget=1000,
    expect_error_kind="ExceededMaxInstructions", insn_count=1000)
add(name="v0_budget_infinite_loop_default", version=0, topic="budget", asm="ja -1\nexit\n",
    expect_error_kind="ExceededMaxInstructions", insn_count=DEFAULT_BUDGET)
add(name="v0_budget_before_divide_by_zero", version=0, topic="budget",
    asm="mov64 r1, 0\nmov64 r2, 0\ndiv64 r1, r2\nmov64 r0, 0\nexit\n", budget=2,
    expect_error_kind="ExceededMaxInstructions", insn_count=2,
    notes="sbpf test_err_capped_before_exception")
add(name="v0_budget_exactly_hits_divide_by_zero", version=0, topic="budget",
    asm="mov64 r1, 0\nmov64 r2, 0\ndiv64 r1, r2\nmov64 r0, 0\nexit\n", budget=3,
    expect_error_kind="DivideByZero", insn_count=3)
add(name="v0_budget_call_exit_capped", version=0, topic="budget",
    asm="call f\nexit\nf:\nmov64 r0, r0\nexit\n", budget=3,
    expect_error_kind="ExceededMaxInstructions", insn_count=3, notes="sbpf test_err_exit_capped")
add(name="v0_budget_call_exit_exact", version=0, topic="budget",
    asm="call f\nexit\nf:\nmov64 r0, 0\nexit\n", budget=4, expect_r0=0, insn_count=4)
add(name="v0_budget_callx_capped", version=0, topic="budget",
    asm="mov64 r1, 0\nmov64 r2, 0\ncallx r2\nmov64 r0, 0\nexit\n", budget=2,
    expect_error_kind="ExceededMaxInstructions", insn_count=2)
add(name="v0_budget_lddw_counts_one", version=0, topic="budget",
    asm="lddw r0, 0x100000000\nlddw r0, 0\nexit\n", budget=3, expect_r0=0, insn_count=3)
add(name="v0_budget_overrun_vs_exhaustion", version=0, topic="budget",
    asm="mov64 r0, 0\nadd64 r1, 0\n", budget=2, expect_error_kind="ExceededMaxInstructions",
    insn_count=2, notes="sbpf test_execution_overrun: budget 2 -> exceeded, not overrun")
add(name="v2_budget_one_short", version=2, topic="budget", asm=_LOOP, budget=22,
    expect_error_kind="ExceededMaxInstructions", insn_count=22)
add(name="v3_budget_exact", version=3, topic="budget", asm=_LOOP, budget=23, expect_r0=0,
    insn_count=23)

# ==============================================================================================
# Syscalls: compute units of the logging syscalls, budget exhaustion inside them
# ==============================================================================================
_LOG64 = ("mov64 r1, 1\nmov64 r2, 2\nmov64 r3, 3\nmov64 r4, 4\nmov64 r5, 5\ncall sol_log_64_\n"
          "mov64 r0, 0\nexit\n")
for _v in (0, 1, 2, 3):
    add(name=f"v{_v}_sol_log_64", version=_v, topic="syscall", asm=_LOG64, expect_r0=0,
        insn_count=8, compute_units=8 + 100, logs=("Program log: 0x1, 0x2, 0x3, 0x4, 0x5",),
        notes="sol_log_64_ costs 100")
add(name="v0_sol_log_64_returns_zero_in_r0", version=0, topic="syscall",
    asm="mov64 r0, 7\nlddw r1, 0xffffffffffffffff\nmov64 r2, 0\ncall sol_log_64_\nexit\n",
    expect_r0=0, insn_count=5, compute_units=105,
    logs=("Program log: 0xffffffffffffffff, 0x0, 0x0, 0x0, 0x0",),
    notes="r0 = the syscall's result (0)")
add(name="v0_sol_log_64_entry_registers", version=0, topic="syscall", input=b"\x01\x02",
    asm="call sol_log_64_\nmov64 r0, 0\nexit\n", expect_r0=0, insn_count=3, compute_units=103,
    logs=("Program log: 0x400000000, 0x400000010, 0x0, 0x0, 0x0",),
    notes="entry state: r1 = input, r2 = instruction data, r3-r5 = 0")
_SOL_LOG_STACK = ("lddw r1, 0x6f6c6c6568\nstxdw [r10-8], r1\nmov64 r1, r10\nadd64 r1, -8\n"
                  "mov64 r2, {n}\ncall sol_log_\nmov64 r0, 0\nexit\n")
add(name="v0_sol_log_short", version=0, topic="syscall", asm=_SOL_LOG_STACK.format(n=5),
    expect_r0=0, insn_count=8, compute_units=8 + 100, logs=("Program log: hello",),
    notes="sol_log_ costs max(100, len)")
add(name="v0_sol_log_empty", version=0, topic="syscall", asm=_SOL_LOG_STACK.format(n=0),
    expect_r0=0, insn_count=8, compute_units=108, logs=("Program log: ",))
_SOL_LOG_IX = "mov64 r1, r2\nmov64 r2, {n}\ncall sol_log_\nmov64 r0, 0\nexit\n"
for _n in (99, 100, 101, 150, 1000):
    add(name=f"v0_sol_log_len_{_n}", version=0, topic="syscall", input=b"A" * _n,
        asm=_SOL_LOG_IX.format(n=_n), expect_r0=0, insn_count=5,
        compute_units=5 + max(100, _n), logs=("Program log: " + "A" * _n,))
add(name="v0_sol_log_invalid_utf8", version=0, topic="syscall", input=b"\xff\xfeok",
    asm=_SOL_LOG_IX.format(n=4), expect_error_kind="SyscallError", insn_count=3,
    compute_units=103,
    expect_error_text="invalid utf-8 sequence of 1 bytes from index 0: [255, 254, 111, 107]",
    notes="agave-facts 14; the cost is charged before the string is checked")
add(name="v0_sol_log_bad_pointer", version=0, topic="syscall",
    asm="lddw r1, 0x300007ffc\nmov64 r2, 8\ncall sol_log_\nmov64 r0, 0\nexit\n",
    expect_error_kind="SyscallError", insn_count=3, compute_units=103,
    expect_error_text=av("heap", 0x3_0000_7FFC, 8),
    notes="an access violation inside a syscall is a syscall error (no CU drain)")
add(name="v0_sol_log_compute_units", version=0, topic="syscall",
    asm="mov64 r0, 0\ncall sol_log_compute_units_\nexit\n", expect_r0=0, insn_count=3,
    compute_units=103, logs=(f"Program consumption: {DEFAULT_BUDGET - 2 - 100} units remaining",),
    notes="charges 100, then logs what remains")
add(name="v0_sol_log_compute_units_with_budget", version=0, topic="syscall", budget=1000,
    asm="mov64 r0, 0\nmov64 r1, 0\ncall sol_log_compute_units_\nexit\n", expect_r0=0,
    insn_count=4, compute_units=104, logs=("Program consumption: 897 units remaining",))
add(name="v0_abort", version=0, topic="syscall", asm="mov64 r0, 0\ncall abort\nexit\n",
    expect_error_kind="SyscallError", insn_count=2, compute_units=2,
    expect_error_text="SBF program panicked")
add(name="v0_sol_panic", version=0, topic="syscall",
    asm="lddw r1, 0x73722e61\nstxdw [r10-8], r1\nmov64 r1, r10\nadd64 r1, -8\nmov64 r2, 4\n"
        "mov64 r3, 7\nmov64 r4, 9\ncall sol_panic_\nexit\n",
    expect_error_kind="SyscallError", insn_count=8, compute_units=8 + 4,
    expect_error_text="SBF program Panicked in a.rs at 7:9", notes="sol_panic_ costs len")
# budget exhaustion around a syscall: needs 3 instructions + 100
_LOG64_SHORT = "mov64 r1, 1\ncall sol_log_64_\nexit\n"
add(name="v0_syscall_budget_exact", version=0, topic="budget", asm=_LOG64_SHORT, budget=103,
    expect_r0=0, insn_count=3, compute_units=103,
    logs=("Program log: 0x1, 0x400000010, 0x0, 0x0, 0x0",))
add(name="v0_syscall_budget_exit_capped", version=0, topic="budget", asm=_LOG64_SHORT,
    budget=102, expect_error_kind="ExceededMaxInstructions", insn_count=2, compute_units=102,
    logs=("Program log: 0x1, 0x400000010, 0x0, 0x0, 0x0",),
    notes="the syscall succeeds with exactly 100 left; the exit then exceeds")
add(name="v0_syscall_budget_insufficient", version=0, topic="budget", asm=_LOG64_SHORT,
    budget=101, expect_error_kind="SyscallError", insn_count=2, compute_units=101,
    expect_error_text="Computational budget exceeded",
    notes="consume_checked(100) with 99 left: the meter drops to 0, the syscall fails")
add(name="v0_syscall_budget_call_capped", version=0, topic="budget", asm=_LOG64_SHORT,
    budget=1, expect_error_kind="ExceededMaxInstructions", insn_count=1, compute_units=1)
add(name="v0_two_syscalls_metering", version=0, topic="budget", budget=210,
    asm="mov64 r1, 1\ncall sol_log_64_\nmov64 r1, 2\ncall sol_log_64_\nmov64 r0, 0\nexit\n",
    expect_r0=0, insn_count=6, compute_units=206,
    logs=("Program log: 0x1, 0x400000010, 0x0, 0x0, 0x0",
          "Program log: 0x2, 0x400000010, 0x0, 0x0, 0x0"))
add(name="v0_syscall_then_loop_exhausts", version=0, topic="budget", budget=150,
    asm="call sol_log_64_\nja -1\n", expect_error_kind="ExceededMaxInstructions",
    insn_count=50, compute_units=150,
    logs=("Program log: 0x400000000, 0x400000010, 0x0, 0x0, 0x0",),
    notes="1 + 100 used by the syscall; the loop gets the remaining 49 -> 50 instructions")

# ==============================================================================================
# v3 specifics: static syscalls, pc-relative calls, callx through dst
# ==============================================================================================
add(name="v3_static_syscall_log64", version=3, topic="syscall", asm="mov64 r1, 9\nmov64 r2, 0\n"
    "call sol_log_64_\nmov64 r0, 0\nexit\n", expect_r0=0, insn_count=5, compute_units=105,
    logs=("Program log: 0x9, 0x0, 0x0, 0x0, 0x0",))
add(name="v3_call_internal_backward", version=3, topic="call",
    asm="ja main\nf:\nmov64 r0, 12\nexit\nmain:\ncall f\nadd64 r0, 1\nexit\n", expect_r0=13,
    insn_count=6)

# ==============================================================================================
# Harder edges: decoding, syscall pointers, the entry state, reused VM memory
# ==============================================================================================
add(name="v0_exit_only", version=0, topic="misc", asm="exit\n", expect_r0=0, insn_count=1)
add(name="v0_entry_registers_zero", version=0, topic="misc",
    asm="or64 r0, r3\nor64 r0, r4\nor64 r0, r5\nor64 r0, r6\nor64 r0, r7\nor64 r0, r8\n"
        "or64 r0, r9\nexit\n", expect_r0=0, insn_count=8, notes="r0, r3-r9 start at 0")
add(name="v0_callx_into_lddw_second_slot", version=0, topic="callx",
    asm="lddw r1, {case_vaddr}\nadd64 r1, 8\ncallx r1\nexit\n",
    expect_error_kind="UnsupportedInstruction", insn_count=4,
    notes="slot 1 is the lddw's second half (opcode 0x00): sbpf's interpreter reaches the "
          "`_ => UnsupportedInstruction` arm (counted)")
add(name="v0_callx_into_lddw_second_slot_later", version=0, topic="callx",
    asm="mov64 r0, 1\nlddw r1, {case_vaddr}\nadd64 r1, 16\ncallx r1\nexit\n",
    expect_error_kind="UnsupportedInstruction", insn_count=5)
add(name="v0_self_call_first_insn", version=0, topic="depth", wrap=False,
    asm="f:\ncall f\nexit\n", expect_error_kind="CallDepthExceeded", insn_count=64,
    notes="a call to itself has the pc-relative imm -1, the v0 syscall placeholder: the ELF "
          "must key it through a relocation")
add(name="v0_syscall_call_is_last_unit", version=0, topic="budget", budget=2,
    asm="mov64 r1, 1\ncall sol_log_64_\nexit\n", expect_error_kind="SyscallError", insn_count=2,
    compute_units=2, expect_error_text="Computational budget exceeded",
    notes="the call instruction uses the last unit; the syscall then cannot pay 100")
add(name="v0_sol_log_huge_length", version=0, topic="syscall",
    asm="mov64 r1, r2\nlddw r2, 0x100000000\ncall sol_log_\nexit\n",
    expect_error_kind="SyscallError", insn_count=3, compute_units=DEFAULT_BUDGET,
    expect_error_text="Computational budget exceeded",
    notes="cost max(100, len) is charged before the string is read: the meter drops to 0")
add(name="v0_sol_log_zero_length_bad_pointer", version=0, topic="syscall",
    asm="mov64 r1, 0\nmov64 r2, 0\ncall sol_log_\nmov64 r0, 0\nexit\n", expect_r0=0,
    insn_count=5, compute_units=105, logs=("Program log: ",),
    notes="zero-length slices are not translated")
add(name="v0_sol_log_stack_gap", version=0, topic="syscall", wrap=False,
    asm="mov64 r1, r10\nmov64 r2, 8\ncall sol_log_\nexit\n", expect_error_kind="SyscallError",
    insn_count=3, compute_units=103, expect_error_text=sav(1, STACK + 0x1000, 8),
    notes="the syscall's translation reports the stack-frame text")
add(name="v0_sol_log_straddles_frame_end", version=0, topic="syscall", wrap=False,
    asm="stw [r10-4], 0x44434241\ncall f\nmov64 r1, r10\nadd64 r1, -4\nmov64 r2, 8\n"
        "call sol_log_\nmov64 r0, 0\nexit\nf:\nstw [r10-0x1000], 0x48474645\nexit\n",
    expect_r0=0, insn_count=10, compute_units=110, logs=("Program log: ABCDEFGH",),
    notes="the gap quirk also applies to syscall slices: 'ABCD' from frame 0, 'EFGH' from frame 1")
add(name="v0_sol_log_pubkey_zero", version=0, topic="syscall",
    asm="stdw [r10-32], 0\nstdw [r10-24], 0\nstdw [r10-16], 0\nstdw [r10-8], 0\nmov64 r1, r10\n"
        "add64 r1, -32\ncall sol_log_pubkey\nmov64 r0, 0\nexit\n", expect_r0=0, insn_count=9,
    compute_units=109, logs=("Program log: " + "1" * 32,), notes="sol_log_pubkey costs 100")
add(name="v0_sol_log_pubkey_bad_pointer", version=0, topic="syscall",
    asm="lddw r1, 0x300007ff0\ncall sol_log_pubkey\nexit\n", expect_error_kind="SyscallError",
    insn_count=2, compute_units=102, expect_error_text=av("heap", 0x3_0000_7FF0, 32))
add(name="v0_sol_panic_bad_pointer", version=0, topic="syscall",
    asm="mov64 r1, 8\nmov64 r2, 3\ncall sol_panic_\nexit\n", expect_error_kind="SyscallError",
    insn_count=3, compute_units=6, expect_error_text=av("unknown", 8, 3))
add(name="v1_add64_r10_above_top", version=1, topic="stack",
    asm="add64 r10, 64\nldxdw r0, [r10-8]\nexit\n", expect_error_kind="AccessViolation",
    insn_count=2, expect_error_text=av("stack", STACK + 0x40038, 8))
add(name="v3_rodata_ldxdw", version=3, topic="program",
    asm="lddw r1, data\nldxdw r0, [r1+0]\nexit\n.rodata\ndata: .quad 0x1122334455667788\n",
    expect_r0=0x1122_3344_5566_7788, insn_count=3,
    notes="v3 maps rodata at 0 (ELF) -- the value is the same wherever it is mapped")
add(name="v3_rodata_ldxb_second", version=3, topic="program",
    asm="lddw r1, data\nldxb r0, [r1+9]\nexit\n.rodata\ndata: .quad 0x1122334455667788\n"
        ".quad 0x99aabbccddeeff00\n", expect_r0=0xFF, insn_count=3)
add(name="v3_rodata_store_faults", version=3, topic="program",
    asm="lddw r1, data\nstb [r1+0], 1\nexit\n.rodata\ndata: .quad 0x1122334455667788\n",
    expect_error_kind="AccessViolation", insn_count=2)
add(name="v3_jeq32_ignores_upper_bits_loop", version=3, topic="jump",
    asm="lddw r1, 0x500000000\nmov64 r0, 0\nloop:\nadd64 r0, 1\nadd64 r1, 1\njne32 r1, 3, loop\n"
        "exit\n", expect_r0=3, insn_count=2 + 3 * 3 + 1)
add(name="v0_program_reads_relocated_call_imm", version=0, topic="program",
    asm="entrypoint:\nlddw r1, {case_vaddr}\nldxw r0, [r1+36]\nexit\ncall entrypoint\n",
    expect_r0=0x6385_2AFC, insn_count=3,
    notes="agave-facts: a call slot reads back the loader's key, murmur3(pc 0 as u64 LE)")
add(name="v0_program_reads_syscall_call_imm", version=0, topic="program",
    asm="lddw r1, {case_vaddr}\nldxw r0, [r1+36]\nexit\ncall sol_log_64_\n",
    expect_r0=0x5C2A_3178, insn_count=3, notes="murmur3('sol_log_64_') (spec table)")
add(name="v0_overrun_after_syscall", version=0, topic="overrun",
    asm="mov64 r1, 1\ncall sol_log_64_\n", expect_error_kind="ExecutionOverrun", insn_count=3,
    compute_units=103, logs=("Program log: 0x1, 0x400000010, 0x0, 0x0, 0x0",),
    notes="a syscall as the last slot: the next step overruns")
# r0 -> Agave's report of it (custom error / builtin error k<<32 / invalid code): harness sanity
for _k in (1, 2, 3, 10, 11, 26, 27):
    add(name=f"v0_return_builtin_code_{_k}", version=0, topic="misc",
        asm=f"mov64 r0, {_k}\nlsh64 r0, 32\nexit\n", expect_r0=_k << 32, insn_count=3,
        notes="k<<32: builtin error k (1 = Custom(0)); 27<<32 is an invalid error code")
add(name="v0_return_custom_max", version=0, topic="misc", asm="mov32 r0, -1\nexit\n",
    expect_r0=0xFFFF_FFFF, insn_count=2)
add(name="v0_return_builtin_plus_one", version=0, topic="misc",
    asm="mov64 r0, 2\nlsh64 r0, 32\nadd64 r0, 1\nexit\n", expect_r0=(2 << 32) + 1, insn_count=4)
# Run last: earlier cases write patterns to [r10-16] and heap+0x100 in the same LiteSVM process.
add(name="v0_stack_initially_zero", version=0, topic="memory", wrap=False,
    asm="ldxdw r0, [r10-16]\nldxdw r1, [r10-8]\nor64 r0, r1\nexit\n", expect_r0=0, insn_count=4,
    notes="each run gets zeroed stack memory (Agave reuses stacks from a pool)")
add(name="v0_heap_initially_zero", version=0, topic="memory",
    asm="lddw r1, 0x300000100\nldxdw r0, [r1+0]\nlddw r1, 0x300007ff8\nldxdw r2, [r1+0]\n"
        "or64 r0, r2\nexit\n", expect_r0=0, insn_count=6)
add(name="v1_stack_initially_zero", version=1, topic="memory", wrap=False,
    asm="ldxdw r0, [r10-16]\nexit\n", expect_r0=0, insn_count=2)
add(name="v0_input_tail_is_program_id", version=0, topic="input", input=b"\x05", wrap=False,
    asm="ldxb r0, [r1+16]\nldxb r1, [r1+17]\nlsh64 r1, 8\nor64 r0, r1\nexit\n",
    expect_r0=0x05 | (program_id_for("v0_input_tail_is_program_id")[0] << 8), insn_count=5,
    notes="the 32-byte program id follows the instruction data")


def by_name() -> dict[str, Case]:
    out: dict[str, Case] = {}
    for c in CASES:
        assert c.name not in out, f"duplicate case name {c.name}"
        out[c.name] = c
    return out


BY_NAME = by_name()

