"""Random but valid sBPF programs for differential fuzzing of the two execution engines.

`generate(seed)` returns a `FuzzProgram`: assembly text (so a program kept as a regression case
stays readable and independent of later generator changes), its SBPF version, instruction data
and a list of budgets to run it with. Instructions are drawn from the opcode table (`isa.py`) of
the chosen version, so every opcode of every version gets exercised; the structure is built so
that the program verifies and (mostly) terminates:

* straight-line ALU runs (every ALU/PQR opcode, imm and reg forms, 32/64-bit, endian ops),
* 64-bit constants (lddw, or mov32 + hor64 in v2),
* loads and stores of every width into every region: the stack through r10 (own frame, gaps,
  other frames, below the stack), stack pointers held in other registers, the heap (in bounds,
  straddling and past the end), the input, the read-only program image (loads; stores fault),
  and the occasional wild address,
* forward branches and if/else diamonds (JMP and, in v3, JMP32 conditions),
* loops with bounded trip counts (counters live in r6..r9, which calls preserve),
* internal calls (to later functions only, so they terminate) and `callx` through a computed
  address; rarely a wild callx target or unbounded recursion (CallDepthExceeded),
* division and remainder by registers that may be zero, and signed MIN / -1 in v2,
* syscalls from a small deterministic registry (`fuzz_syscalls()`): they charge units, read
  and write guest memory and read the VM's registers,
* compute exhaustion: the test runs each program with its full budget and with random smaller
  budgets (`FuzzProgram.budgets`, relative to the instruction count of a full run).

`generate(seed, version=0, agave=True)` is the variant for running the programs as Solana
programs (tests/vm/test_fuzz_litesvm.py): the syscall sites call only syscalls Agave has
(`AGAVE_SYSCALLS`: sol_log_64_ exposing r1..r5, sol_log_compute_units_, sol_log_ and sol_memset_
on generated addresses). The default (`agave=False`) is unchanged, seed for seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sbpfunc.syscalls.registry import SyscallRegistry
from sbpfunc.vm import errors as E
from sbpfunc.vm.isa import M32, M64, Form, Kind, SBPFVersion, opcode_table

HEAP = 0x3_0000_0000
STACK = 0x2_0000_0000
INPUT = 0x4_0000_0000
PROGRAM = 0x1_0000_0000
HEAP_SIZE = 32 * 1024

INTERESTING = [0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
               0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, M64, M64 - 1,
               0xFFFF_FFFF_8000_0000, 0x1234_5678_9ABC_DEF0]


@dataclass
class FuzzProgram:
    seed: int
    version: int
    asm: str
    input: bytes = b""
    budget_fractions: list = field(default_factory=list)  # extra runs at fraction * full count
    notes: str = ""


# --- the syscalls the fuzz programs may call ---------------------------------------------------
def _sys_mix(vm, r1, r2, r3, r4, r5):
    """Charges 1 + r5 % 37 units; r0 = a mix of its arguments."""
    vm.context.consume_checked(1 + r5 % 37)
    return (r1 * 31 + r2 ^ r3 + (r4 << 3)) & M64


def _sys_store(vm, r1, r2, r3, r4, r5):
    """Writes r2 (8 bytes) at guest address r1 (may fault); charges 5; r0 = r2 ^ r1."""
    vm.context.consume_checked(5)
    vm.memory.write(r1, (r2 & M64).to_bytes(8, "little"))
    return r1 ^ r2


def _sys_load(vm, r1, r2, r3, r4, r5):
    """r0 = the 8 bytes at guest address r1 (may fault); charges 3."""
    vm.context.consume_checked(3)
    return int.from_bytes(vm.memory.read(r1, 8), "little")


def _sys_regs(vm, r1, r2, r3, r4, r5):
    """r0 = a hash of all 11 registers as the VM holds them (r6..r10 must be current)."""
    vm.context.consume_checked(2)
    h = 0
    for v in vm.regs:
        h = (h * 1_000_003 + v) & M64
    return h


def _sys_fail(vm, r1, r2, r3, r4, r5):
    """Fails when r1 is odd."""
    if r1 & 1:
        raise E.SyscallError("fuzz syscall failed")
    return 0


SYSCALLS = {"fuzz_mix": _sys_mix, "fuzz_store": _sys_store, "fuzz_load": _sys_load,
            "fuzz_regs": _sys_regs, "fuzz_fail": _sys_fail}


def fuzz_syscalls() -> SyscallRegistry:
    reg = SyscallRegistry()
    for name, fn in SYSCALLS.items():
        reg.register(name, fn)
    return reg


# --- the generator -------------------------------------------------------------------------------
# Syscalls Agave has, used by the `agave=True` variant (names only; the runtime supplies them).
AGAVE_SYSCALLS = ["sol_log_64_", "sol_log_compute_units_", "sol_log_", "sol_memset_"]


class _Gen:
    def __init__(self, seed: int, version: int | None = None, agave: bool = False):
        self.rng = rng = random.Random(seed)
        self.seed = seed
        self.agave = agave
        if version is None:
            version = rng.choices([0, 1, 2, 3], weights=[70, 10, 10, 10])[0]
        self.version = SBPFVersion(version)
        table = opcode_table(self.version)
        self.alu = [s for s in table.values() if s.kind == Kind.ALU]
        self.jumps = [s for s in table.values() if s.kind == Kind.JUMP and s.expr != "True"]
        self.loads = {s.width: s.mnemonic for s in table.values() if s.kind == Kind.LOAD}
        self.st_imm = {s.width: s.mnemonic for s in table.values() if s.form == Form.STORE_IMM}
        self.st_reg = {s.width: s.mnemonic for s in table.values() if s.form == Form.STORE_REG}
        self.has_lddw = any(s.kind == Kind.LDDW for s in table.values())
        self.lines: list[str] = []
        self.nlabel = 0
        self.nfuncs = rng.choice([0, 0, 1, 2, 3, 4])
        self.input_len = rng.choice([0, 1, 8, 16, 40, 100])
        self.size = 0  # emitted instructions (roughly)
        self.max_size = rng.choice([20, 40, 80, 160])
        self.reserved: set[int] = set()  # live loop counters
        self.func = 0

    # helpers -----------------------------------------------------------------------------
    def label(self, stem: str = "L") -> str:
        self.nlabel += 1
        return f"{stem}{self.nlabel}"

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)
        self.size += 1

    def free_reg(self, allow_r0: bool = True) -> int:
        choices = [r for r in range(0 if allow_r0 else 1, 10) if r not in self.reserved]
        return self.rng.choice(choices)

    def value(self) -> int:
        rng = self.rng
        k = rng.random()
        if k < 0.4:
            return rng.choice(INTERESTING)
        if k < 0.7:
            return rng.randrange(0, 256)
        return rng.getrandbits(64)

    def imm32(self) -> int:
        rng = self.rng
        k = rng.random()
        if k < 0.3:
            return rng.choice([0, 1, -1, 2, 7, 31, 32, 63, 0x7FFF_FFFF, -0x8000_0000])
        if k < 0.6:
            return rng.randrange(-16, 256)
        return rng.randrange(-(1 << 31), 1 << 31)

    def load_const(self, reg: int, value: int) -> None:
        value &= M64
        if self.has_lddw:
            self.emit(f"lddw r{reg}, {value:#x}")
        else:
            self.emit(f"mov32 r{reg}, {value & M32:#x}")
            self.emit(f"hor64 r{reg}, {value >> 32:#x}")

    # segments ----------------------------------------------------------------------------
    def alu_op(self) -> None:
        rng = self.rng
        spec = rng.choice(self.alu)
        d = self.free_reg()
        name = spec.mnemonic
        if spec.form == Form.UNARY:
            self.emit(f"{name} r{d}")
        elif spec.form == Form.ENDIAN:
            self.emit(f"{name}{rng.choice([16, 32, 64])} r{d}")
        elif spec.form == Form.ALU_REG:
            s = rng.randrange(0, 11)
            if spec.check and s != d and s != 10 and s not in self.reserved and rng.random() < 0.9:
                self.emit(f"or64 r{s}, {rng.choice([1, 3, 0x100])}")  # mostly not a zero divisor
            self.emit(f"{name} r{d}, r{s}")
        else:
            imm = self.imm32()
            if name.startswith(("lsh", "rsh", "arsh")):
                imm = rng.randrange(0, 32 if name.endswith("32") else 64)
            elif name[:-2] in ("div", "mod", "udiv", "urem", "sdiv", "srem") or \
                    name in ("udiv32", "udiv64", "urem32", "urem64", "sdiv32", "sdiv64", "srem32", "srem64"):
                imm = imm or rng.choice([1, -1, 3])
            self.emit(f"{name} r{d}, {imm}")

    def alu_run(self) -> None:
        for _ in range(self.rng.randint(1, 6)):
            self.alu_op()

    def set_reg(self) -> None:
        r = self.free_reg()
        if self.rng.random() < 0.5:
            self.emit(f"mov64 r{r}, {self.imm32()}")
        else:
            self.load_const(r, self.value())

    def address(self, width: int, write: bool) -> tuple[int, int, int | None]:
        """(base register, offset, value to put in it or None for r10) of a memory access.
        Mostly in bounds; about one access in eight may fault (gaps, ends, wild addresses)."""
        rng = self.rng
        risky = rng.random() < 0.12
        off = rng.choice([0, 0, 1, 3, 8, -8, 16, -16])
        gapped = self.version == SBPFVersion.V0
        k = rng.random()
        if write and k >= 0.8 and not risky:  # the program image is read-only
            k = rng.random() * 0.8
        if k < 0.3:  # own stack frame through r10
            if not risky:
                return 10, -rng.randrange(width, 4097), None
            return 10, rng.choice([-4097, -4100, -8192, 1, 8, 4096, -1, rng.randrange(-8300, 4200)]), None
        if k < 0.4:  # a stack pointer in another register: frames, gaps, straddles
            if not risky:
                frame = rng.randrange(0, 64)
                start = STACK + frame * (0x2000 if gapped else 0x1000)
                return self.free_reg(), 0, start + rng.randrange(0, 0x1000 - width + 1)
            base = STACK + rng.choice([0xFF8, 0xFFC, 0xFFF, 0x1000, 0x1FF8, 0x2FF8, 0x3F000, 0x3FFF8,
                                       0x40000, 0x7FFF8, 0x80000, rng.randrange(0, 0x81000)])
            return self.free_reg(), off, base
        if k < 0.65:  # heap
            if not risky:
                return self.free_reg(), 0, HEAP + rng.randrange(0, HEAP_SIZE - width + 1)
            base = HEAP + rng.choice([0x7FF8, 0x7FFC, 0x7FFF, 0x8000, HEAP_SIZE - width + 1])
            return self.free_reg(), off, base
        n = 48 + self.input_len
        if k < 0.8:  # input (serialized: 8 + 8 + data + 32 bytes)
            if not risky:
                return self.free_reg(), 0, INPUT + rng.randrange(0, n - width + 1)
            return self.free_reg(), off, INPUT + rng.choice([n - 8, n - 1, n, n - width + 1])
        if k < 0.9:  # program image (read-only): loads; a store faults
            return self.free_reg(), 0, PROGRAM + rng.randrange(0, 17)
        if not risky and not write:
            return self.free_reg(), 0, PROGRAM + rng.randrange(0, 9)
        return self.free_reg(), off, rng.choice([0, 8, M64 - 3, 0x5_0000_0000, STACK - 8, PROGRAM,
                                                 0x2_FFFF_FFF8, 0x1_0000_0000 - 4, self.value()])

    def memory(self) -> None:
        rng = self.rng
        width = rng.choice([1, 2, 4, 8])
        k = rng.random()
        write = 0.35 <= k < 0.85
        base, off, value = self.address(width, write or k >= 0.85)
        if value is not None:
            if base in self.reserved:
                return
            self.load_const(base, value)
        if k < 0.35:
            d = self.free_reg()
            self.emit(f"{self.loads[width]} r{d}, [r{base}{off:+d}]")
        elif k < 0.6:
            self.emit(f"{self.st_imm[width]} [r{base}{off:+d}], {self.imm32()}")
        elif k < 0.85:
            self.emit(f"{self.st_reg[width]} [r{base}{off:+d}], r{rng.randrange(0, 11)}")
        else:  # store then load back, possibly another width
            self.emit(f"{self.st_reg[width]} [r{base}{off:+d}], r{rng.randrange(0, 11)}")
            d = self.free_reg()
            w2 = rng.choice([w for w in (1, 2, 4, 8) if w <= width])
            if d != base or base == 10:
                self.emit(f"{self.loads[w2]} r{d}, [r{base}{off:+d}]")

    def cond(self) -> str:
        rng = self.rng
        spec = rng.choice(self.jumps)
        d = rng.randrange(0, 10)  # the verifier rejects dst = r10 for everything but stores
        if spec.form == Form.JUMP_REG:
            return f"{spec.mnemonic} r{d}, r{rng.randrange(0, 11)}"
        return f"{spec.mnemonic} r{d}, {self.imm32()}"

    def forward_branch(self, depth: int) -> None:
        end = self.label()
        self.emit(f"{self.cond()}, {end}")
        self.body(depth + 1, self.rng.randint(1, 3))
        self.lines.append(f"{end}:")

    def diamond(self, depth: int) -> None:
        other, end = self.label(), self.label()
        self.emit(f"{self.cond()}, {other}")
        self.body(depth + 1, self.rng.randint(1, 2))
        self.emit(f"ja {end}")
        self.lines.append(f"{other}:")
        self.body(depth + 1, self.rng.randint(1, 2))
        self.lines.append(f"{end}:")

    def loop(self, depth: int) -> None:
        rng = self.rng
        free = [r for r in (6, 7, 8, 9) if r not in self.reserved]
        if not free:
            return self.alu_run()
        c = rng.choice(free)
        trips = rng.randint(1, 6)
        top = self.label("loop")
        self.reserved.add(c)
        if rng.random() < 0.5:
            self.emit(f"mov64 r{c}, {trips}")
            self.lines.append(f"{top}:")
            self.body(depth + 1, rng.randint(1, 3))
            self.emit(f"sub64 r{c}, 1")
            self.emit(f"jne r{c}, 0, {top}")
        else:
            self.emit(f"mov64 r{c}, 0")
            self.lines.append(f"{top}:")
            self.body(depth + 1, rng.randint(1, 3))
            self.emit(f"add64 r{c}, 1")
            self.emit(f"{rng.choice(['jlt', 'jslt', 'jne'])} r{c}, {trips}, {top}")
        self.reserved.discard(c)

    def call(self) -> None:
        rng = self.rng
        if self.func < self.nfuncs and rng.random() < 0.8:
            target = rng.randint(self.func + 1, self.nfuncs)
            if rng.random() < 0.7:
                self.emit(f"call fn{target}")
            else:
                r = self.free_reg()
                self.load_const(r, 0)  # patched with the function's address (see generate)
                self.lines[-1 if self.has_lddw else -2] += f"  ; @fn{target}"
                if not self.has_lddw:
                    self.lines[-1] += f"  ; @fn{target}"
                self.emit(f"callx r{r}")
        elif rng.random() < 0.5:
            self.syscall()
        elif rng.random() < 0.1:  # a wild callx: outside the text, into lddw's 2nd slot, mid-block
            r = self.free_reg()
            self.load_const(r, rng.choice([0, PROGRAM - 8, PROGRAM + 8, PROGRAM + 12, PROGRAM + 8 * 3,
                                           PROGRAM + 8 * 100000, self.value()]))
            self.emit(f"callx r{r}")
        else:
            self.syscall()

    def syscall(self) -> None:
        if self.agave:
            return self.agave_syscall()
        rng = self.rng
        name = rng.choice(list(SYSCALLS))
        if name in ("fuzz_store", "fuzz_load"):
            base, off, value = self.address(8, name == "fuzz_store")
            if value is None:
                self.emit("mov64 r1, r10")
                self.emit(f"add64 r1, {off}")
            elif 1 not in self.reserved:
                self.load_const(1, (value + off) & M64)
        self.emit(f"call {name}")

    def agave_syscall(self) -> None:
        rng = self.rng
        name = rng.choices(AGAVE_SYSCALLS, weights=[50, 20, 15, 15])[0]
        if name in ("sol_log_", "sol_memset_") and 1 not in self.reserved:
            n = rng.choice([0, 1, 3, 8, 16, 40])
            base, off, value = self.address(8, name == "sol_memset_")
            if value is None:
                self.emit("mov64 r1, r10")
                self.emit(f"add64 r1, {off}")
            else:
                self.load_const(1, (value + off) & M64)
            if name == "sol_log_":
                self.emit(f"mov64 r2, {n}")
            else:
                self.emit(f"mov64 r2, {rng.choice([0, 0x41, 0xFF, 0x1FF])}")
                self.emit(f"mov64 r3, {n}")
        self.emit(f"call {name}")

    def division(self) -> None:
        rng = self.rng
        ops = [s for s in self.alu if s.form == Form.ALU_REG and s.check]
        spec = rng.choice(ops)
        d, s = self.free_reg(), self.free_reg()
        if rng.random() < 0.5:
            self.emit(f"mov64 r{s}, {rng.choice([0, 0, 1, -1, 0x100000000 >> 1])}")
        if rng.random() < 0.3 and spec.mnemonic.startswith(("sdiv", "srem")):
            self.load_const(d, 0x8000_0000_0000_0000 if spec.mnemonic.endswith("64") else 0x8000_0000)
            self.emit(f"mov64 r{s}, -1")
        self.emit(f"{spec.mnemonic} r{d}, r{s}")

    def early_exit(self) -> None:
        end = self.label()
        self.emit(f"{self.cond()}, {end}")
        self.emit("exit")
        self.lines.append(f"{end}:")

    def stack_pointer_v1(self) -> None:
        if self.version in (SBPFVersion.V1, SBPFVersion.V2):
            self.emit(f"add64 r10, {self.rng.choice([-64, -128, 64, -4096, 64 * 5])}")

    def body(self, depth: int, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            if self.size > self.max_size:
                return
            kinds = ["alu", "alu", "alu", "set", "mem", "mem", "mem", "mem", "call"]
            if rng.random() < 0.3:
                kinds.append("div")
            if depth < 3:
                kinds += ["branch", "diamond", "loop", "loop"]
            if rng.random() < 0.05:
                kinds += ["exit", "r10"]
            kind = rng.choice(kinds)
            if kind == "alu":
                self.alu_run()
            elif kind == "set":
                self.set_reg()
            elif kind == "mem":
                self.memory()
            elif kind == "call":
                self.call()
            elif kind == "div":
                self.division()
            elif kind == "branch":
                self.forward_branch(depth)
            elif kind == "diamond":
                self.diamond(depth)
            elif kind == "loop":
                self.loop(depth)
            elif kind == "exit":
                self.early_exit()
            else:
                self.stack_pointer_v1()

    def function(self, i: int) -> None:
        self.func = i
        self.reserved = set()
        self.lines.append("entrypoint:" if i == 0 else f"fn{i}:")
        start = self.size
        for _ in range(self.rng.randint(2, 5)):
            for r in self.rng.sample(range(0, 10), 2):
                if r not in (1, 2) or self.rng.random() < 0.3:
                    self.load_const(r, self.value()) if self.rng.random() < 0.3 else \
                        self.emit(f"mov64 r{r}, {self.imm32()}")
            self.body(0, self.rng.randint(1, 4))
            if self.size - start > self.max_size // (self.nfuncs + 1):
                break
        if i > 0 and self.rng.random() < 0.03:  # unbounded recursion: CallDepthExceeded
            self.emit(f"call fn{i}")
        self.emit("exit")

    def generate(self) -> FuzzProgram:
        for i in range(self.nfuncs + 1):
            self.function(i)
        rng = self.rng
        fracs = [rng.random() for _ in range(rng.choice([1, 2, 3]))]
        fracs.append(0.0)
        return FuzzProgram(self.seed, int(self.version), "\n".join(self.lines) + "\n",
                           bytes(rng.getrandbits(8) for _ in range(self.input_len)), fracs)


def generate(seed: int, version: int | None = None, agave: bool = False) -> FuzzProgram:
    """The program for `seed` (deterministic); `agave=True`: only syscalls Agave has."""
    return _Gen(seed, version, agave).generate()


def resolve_addresses(asm: str, labels: dict[str, int], text_vaddr: int) -> str:
    """Patch `lddw rX, 0x0  ; @fnN` (and mov32/hor64 pairs in v2) with fnN's guest address."""
    out = []
    for line in asm.splitlines():
        if "; @" in line:
            code, target = line.split("; @")
            addr = text_vaddr + 8 * labels[target.strip()]
            op, rest = code.strip().split(None, 1)
            reg = rest.split(",")[0]
            if op == "lddw":
                line = f"    lddw {reg}, {addr:#x}"
            elif op == "mov32":
                line = f"    mov32 {reg}, {addr & M32:#x}"
            else:  # hor64
                line = f"    hor64 {reg}, {addr >> 32:#x}"
        out.append(line)
    return "\n".join(out) + "\n"


# --- running a program on one engine and observing everything ----------------------------------
class FuzzMeter:
    """BudgetMeter semantics (consume / consume_checked / get_remaining) plus a log sink."""

    def __init__(self, budget: int):
        self.remaining = budget
        self.logs: list[str] = []

    def consume(self, amount: int) -> None:
        self.remaining = max(0, self.remaining - amount)

    def consume_checked(self, amount: int) -> None:
        if self.remaining < amount:
            self.remaining = 0
            raise E.SyscallError("Computational budget exceeded", "ComputationalBudgetExceeded")
        self.remaining -= amount

    def get_remaining(self) -> int:
        return self.remaining

    def log(self, line: str) -> None:
        self.logs.append(line)


def observe(exe, regions, budget: int, engine: str, registers=None, ix_vaddr: int = INPUT + 16,
            meter=None) -> dict:
    """Run `exe` on `engine` ("interpreter" | "translated") and return every observable."""
    from sbpfunc.vm.interpreter import EbpfVm
    from sbpfunc.vm.translate import run_translated

    meter = meter if meter is not None else FuzzMeter(budget)
    vm = EbpfVm(exe, regions, meter)
    m = vm.machine = vm._acquire()
    try:
        m.regs[:] = registers if registers is not None else vm.initial_registers(ix_vaddr)
        start = meter.get_remaining()
        if engine == "interpreter":
            res = vm._run(m, exe.entry_pc, start)
        else:
            res = run_translated(vm, m, exe.entry_pc, start)
        err = res.error
        return {
            "r0": res.r0,
            "error": None if err is None else (err.kind, str(err), err.pc),
            "compute_units": res.compute_units,
            "instruction_count": res.instruction_count,
            "pc": res.pc,
            "vm.pc": vm.pc,
            "regs": list(m.regs),
            "memory": [(r.vaddr, bytes(r.data)) for r in m.memory.regions],
            "remaining": meter.get_remaining(),
            "logs": list(getattr(meter, "logs", [])),
            "call_depth": vm.call_depth,
            "frames": list(vm.frames),
        }
    finally:
        vm._release(m)
        vm.machine = None


def diff(a: dict, b: dict) -> list[str]:
    """Human-readable differences between two observations."""
    out = []
    for k in a:
        if a[k] == b[k]:
            continue
        if k == "memory":
            for (va, da), (vb, db) in zip(a[k], b[k]):
                if da != db:
                    i = next(i for i in range(min(len(da), len(db))) if da[i] != db[i]) \
                        if len(da) == len(db) else -1
                    out.append(f"memory {va:#x}: first difference at +{i:#x}")
        elif k == "regs":
            out.append("regs: " + ", ".join(f"r{i} {x:#x} != {y:#x}"
                                             for i, (x, y) in enumerate(zip(a[k], b[k])) if x != y))
        else:
            out.append(f"{k}: {a[k]!r} != {b[k]!r}")
    return out


def build(program: FuzzProgram):
    """The verified executable of a fuzz program (callx addresses patched in)."""
    from sbpfunc.asm import assemble

    first = assemble(program.asm, program.version)
    asm = resolve_addresses(program.asm, first.labels, PROGRAM)
    return assemble(asm, program.version).to_executable(fuzz_syscalls())


def serialize_input(data: bytes) -> bytes:
    """Agave's input for an instruction with no accounts (program id = 32 x 0x11)."""
    return (0).to_bytes(8, "little") + len(data).to_bytes(8, "little") + data + b"\x11" * 32


FULL_BUDGET = 200_000


def check_program(program: FuzzProgram, exe=None) -> list[str]:
    """Run the program on both engines with its full budget and its reduced budgets; return
    the differences found (empty = identical on every observable)."""
    from sbpfunc.vm.interpreter import standard_regions

    exe = exe if exe is not None else build(program)
    problems = []
    budgets = [FULL_BUDGET]
    count = None
    for budget in budgets:
        obs = {}
        for engine in ("interpreter", "translated"):
            regions = standard_regions(exe, input_data=serialize_input(program.input))
            obs[engine] = observe(exe, regions, budget, engine)
        d = diff(obs["interpreter"], obs["translated"])
        if d:
            problems.append(f"budget {budget}: " + "; ".join(d))
        if count is None:
            count = obs["interpreter"]["compute_units"]
            budgets.extend(sorted({int(f * count) for f in program.budget_fractions} - {budget}))
    return problems
