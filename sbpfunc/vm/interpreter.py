"""The reference interpreter: sbpf's `Interpreter`, instruction for instruction.

Decoding is separate from execution. For each executable the text is decoded once into a list of
small closures, one per instruction slot, built from the semantic templates in `isa.py`; a run then
only loops `pc = ops[pc]()`. Control transfers that need the VM (call, callx, exit, syscalls)
return -1 and are handled in the loop, where the instruction meter lives.

Compute metering is Agave's: with B units remaining when the VM starts (or after the last syscall)
and c instructions executed since, an instruction may execute only while c < B; a syscall first
consumes c from the shared meter, runs (charging its own cost), then B becomes the new remaining
and c restarts at 0; at the end c is consumed. So exactly B instructions can run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from . import errors as E
from .executable import Executable
from .isa import (
    FIRST_SCRATCH_REG,
    FRAME_PTR_REG,
    INSN_SIZE,
    M32,
    M64,
    MAX_CALL_DEPTH,
    MM_HEAP_START,
    MM_INPUT_START,
    MM_STACK_START,
    SIGN32,
    SIGN64,
    STACK_FRAME_SIZE,
    Insn,
    Kind,
    OpSpec,
    SBPFVersion,
    opcode_table,
)
from .memory import MemoryConfig, MemoryMapping, MemoryRegion
from .verifier import callx_register


class ContextObject(Protocol):
    """The instruction meter the VM reports to (Agave's InvokeContext implements this)."""

    def consume(self, amount: int) -> None: ...

    def get_remaining(self) -> int: ...


class BudgetMeter:
    """A plain instruction meter: `budget` units, consumed by instructions and syscalls."""

    def __init__(self, budget: int):
        self.remaining = budget
        self.logs: list[str] = []

    def log(self, message: str) -> None:
        """Syscalls log through their context; a bare meter just keeps the lines."""
        self.logs.append(message)

    def consume(self, amount: int) -> None:
        self.remaining = max(0, self.remaining - amount)

    def consume_checked(self, amount: int) -> None:
        """Agave's `consume_checked`: running out zeroes the meter and fails the syscall."""
        if self.remaining < amount:
            self.remaining = 0
            raise E.SyscallError("Computational budget exceeded", "ComputationalBudgetExceeded")
        self.remaining -= amount

    def get_remaining(self) -> int:
        return self.remaining


@dataclass(frozen=True)
class VmConfig:
    """The subset of sbpf's `Config` that Agave varies, with Agave's mainnet values."""

    max_call_depth: int = MAX_CALL_DEPTH
    stack_frame_size: int = STACK_FRAME_SIZE
    enable_stack_frame_gaps: bool = True
    heap_size: int = 32 * 1024
    # "translated" compiles hot basic blocks to Python (vm/translate.py), observationally identical
    # to the interpreter, which stays the reference (and always runs traces).
    engine: str = "translated"


@dataclass
class ProgramResult:
    """How a run ended: r0 on success, else the error; `compute_units` consumed by this run."""

    r0: int | None
    error: E.EbpfError | None
    compute_units: int
    instruction_count: int
    pc: int

    @property
    def ok(self) -> bool:
        return self.error is None


# --- closure factories built from the ISA templates ---------------------------------------------

_ENV = {
    "M32": M32, "M64": M64, "SIGN32": SIGN32, "SIGN64": SIGN64,
    "DivideByZero": E.DivideByZero, "DivideOverflow": E.DivideOverflow,
}


def _sdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _srem(a: int, b: int) -> int:
    return a - b * _sdiv(a, b)


_ENV["_sdiv"], _ENV["_srem"] = _sdiv, _srem


def _subst(template: str) -> str:
    t = re.sub(r"\bD\b", "r[d]", template)
    return re.sub(r"\bS\b", "r[s]", t)


def _indent(code: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in code.splitlines() if line.strip())


def _factory_source(spec: OpSpec) -> str:
    """Python source of `factory(r, d, s, IMM, UIMM, OFF, nxt, tgt, mem)` returning the closure."""
    head = "def factory(r, d, s, IMM, UIMM, OFF, nxt, tgt, mem):\n"
    if spec.kind == Kind.ALU or spec.kind == Kind.LDDW:
        body = _indent(_subst(spec.check), 8) + f"        r[d] = {_subst(spec.expr)}\n        return nxt\n"
    elif spec.kind == Kind.LOAD:
        body = (f"        r[d] = load((r[s] + OFF) & M64, {spec.width})\n        return nxt\n")
        head += "    load = mem.load\n"
    elif spec.kind == Kind.STORE:
        body = (f"        store((r[d] + OFF) & M64, {spec.width}, {_subst(spec.expr)})\n        return nxt\n")
        head += "    store = mem.store\n"
    elif spec.kind == Kind.JUMP:
        if spec.expr == "True":
            body = "        return tgt\n"
        else:
            body = f"        return tgt if {_subst(spec.expr)} else nxt\n"
    else:  # call, callx, exit: the loop handles them
        body = "        return -1\n"
    return head + "    def op():\n" + body + "    return op\n"


_FACTORIES: dict[tuple[int, int], Callable] = {}


def _factory(spec: OpSpec) -> Callable:
    key = (spec.opcode, id(spec))
    f = _FACTORIES.get(key)
    if f is None:
        ns = dict(_ENV)
        exec(compile(_factory_source(spec), f"<sbpf op {spec.mnemonic} {spec.opcode:#04x}>", "exec"), ns)
        f = _FACTORIES[key] = ns["factory"]
    return f


def _overrun():
    raise E.ExecutionOverrun()


def _unsupported():
    """Slots without an opcode of this version (lddw second halves reached by callx): sbpf's
    interpreter falls into its catch-all arm."""
    raise E.UnsupportedInstruction()


@dataclass
class Decoded:
    """The pre-decoded program: per pc, its spec and instruction (None for lddw second slots)."""

    specs: list
    insns: list


def decode_program(executable: Executable) -> Decoded:
    cached = executable._cache.get("decoded")
    if cached is not None:
        return cached
    table = opcode_table(executable.version)
    text = executable.text
    n = len(text) // INSN_SIZE
    specs, insns = [], []
    pc = 0
    while pc < n:
        insn = Insn.decode(text, pc)
        spec = table.get(insn.opc)
        specs.append(spec)
        insns.append(insn)
        if spec is not None and spec.kind == Kind.LDDW and pc + 1 < n:
            hi = Insn.decode(text, pc + 1)
            insns[-1] = Insn(insn.opc, insn.dst, insn.src, insn.off, (insn.imm & M32) | ((hi.imm & M32) << 32))
            specs.append(None)
            insns.append(hi)
            pc += 2
        else:
            pc += 1
    decoded = Decoded(specs, insns)
    executable._cache["decoded"] = decoded
    return decoded


class Machine:
    """Per-run state bound into the instruction closures: registers and memory mapping.

    Building closures costs about a microsecond per instruction, so machines are pooled per
    executable and reused; a CPI that re-enters the same program gets a second machine.
    """

    def __init__(self, executable: Executable, mem_config: MemoryConfig):
        self.regs = [0] * 11
        self.memory = MemoryMapping([], mem_config)
        decoded = decode_program(executable)
        r, mem = self.regs, self.memory
        ops = []
        for pc, (spec, insn) in enumerate(zip(decoded.specs, decoded.insns)):
            if spec is None:  # lddw second slot, or an opcode the verifier would reject
                ops.append(_unsupported)
                continue
            imm = insn.imm
            nxt = pc + (2 if spec.kind == Kind.LDDW else 1)
            if spec.kind == Kind.LDDW:
                uimm = imm & M64
            else:
                uimm = imm & M64
            ops.append(_factory(spec)(r, insn.dst, insn.src, imm, uimm, insn.off, nxt, pc + 1 + insn.off, mem))
        ops.append(_overrun)
        self.ops = ops
        self.specs = decoded.specs
        self.insns = decoded.insns


def standard_regions(executable: Executable, *, input_data: bytes | bytearray = b"",
                     heap_size: int = 32 * 1024, config: VmConfig | None = None,
                     input_regions: list[MemoryRegion] | None = None) -> list[MemoryRegion]:
    """Agave's map: program image (read-only), stack (gapped in v0), heap, input."""
    config = config or VmConfig()
    vaddr, image = executable.ro_region
    gap = config.stack_frame_size if (config.enable_stack_frame_gaps and executable.version.stack_frame_gaps) else 0
    regions = [
        MemoryRegion(vaddr, image, False),
        MemoryRegion(MM_STACK_START, bytearray(config.stack_frame_size * config.max_call_depth), True, gap),
        MemoryRegion(MM_HEAP_START, bytearray(heap_size), True),
    ]
    if input_regions is not None:
        regions.extend(input_regions)
    else:
        regions.append(MemoryRegion(MM_INPUT_START, bytearray(input_data), True))
    return regions


class EbpfVm:
    """One execution of an executable: registers, memory, call frames and the meter.

    `context` is the instruction meter (and whatever else syscalls need: the runtime passes its
    InvokeContext). Syscall handlers are called as `handler(vm, r1, r2, r3, r4, r5)` and return r0.
    """

    def __init__(self, executable: Executable, regions: list[MemoryRegion], context: ContextObject,
                 config: VmConfig | None = None):
        self.executable = executable
        self.config = config or VmConfig()
        self.context = context
        version = executable.version
        self.mem_config = MemoryConfig(self.config.stack_frame_size, self.config.max_call_depth,
                                       not version.dynamic_stack_frames)
        self._regions = regions
        if version.dynamic_stack_frames or not version.stack_frame_gaps or not self.config.enable_stack_frame_gaps:
            self.frame_bump = 0 if version.dynamic_stack_frames else self.config.stack_frame_size
        else:
            self.frame_bump = 2 * self.config.stack_frame_size
        self.call_depth = 0
        self.frames: list = []
        self.machine: Machine | None = None
        self.tracer: Callable | None = None
        self.pc = 0

    @property
    def regs(self) -> list[int]:
        return self.machine.regs

    @property
    def memory(self) -> MemoryMapping:
        return self.machine.memory

    def initial_registers(self, instruction_data_vaddr: int = 0) -> list[int]:
        """Agave's entry state: r1 = input, r2 = instruction data (SIMD-0321), r10 = frame."""
        regs = [0] * 11
        regs[1] = MM_INPUT_START
        regs[2] = instruction_data_vaddr
        version = self.executable.version
        if version.dynamic_stack_frames:
            regs[10] = MM_STACK_START + self.config.stack_frame_size * self.config.max_call_depth
        else:
            regs[10] = MM_STACK_START + self.config.stack_frame_size
        return regs

    # --- machine pool ---------------------------------------------------------------------------
    def _acquire(self) -> Machine:
        pool = self.executable._cache.setdefault("machines", {}).setdefault(self.mem_config, [])
        m = pool.pop() if pool else Machine(self.executable, self.mem_config)
        m.memory.set_regions(self._regions)
        return m

    def _release(self, m: Machine) -> None:
        m.memory.set_regions([])
        self.executable._cache["machines"][self.mem_config].append(m)

    # --- execution ------------------------------------------------------------------------------
    def execute(self, registers: list[int] | None = None, entry_pc: int | None = None) -> ProgramResult:
        """Run from the entrypoint until exit or a fault. Never raises an EbpfError."""
        m = self.machine = self._acquire()
        try:
            r = m.regs
            r[:] = registers if registers is not None else self.initial_registers()
            while len(r) > 11:
                r.pop()
            r.extend([0] * (11 - len(r)))
            pc = self.executable.entry_pc if entry_pc is None else entry_pc
            start = self.context.get_remaining()
            if self.config.engine == "translated":
                from .translate import run_translated  # lazy: translate imports this module

                return run_translated(self, m, pc, start)
            if self.config.engine != "interpreter":
                raise ValueError(f"unknown engine {self.config.engine!r}")
            return self._run(m, pc, start)
        finally:
            self.machine_snapshot = (list(m.regs), m.memory.regions)
            self._release(m)
            self.machine = None

    def _run(self, m: Machine, pc: int, start: int) -> ProgramResult:
        ops, r = m.ops, m.regs
        context = self.context
        budget = start
        c = 0
        executed = 0
        tracer = self.tracer
        error = None
        try:
            while True:
                if c >= budget:
                    raise E.ExceededMaxInstructions()
                c += 1
                if tracer is not None:
                    tracer(self, pc, m)
                npc = ops[pc]()
                if npc < 0:
                    spec = m.specs[pc]
                    insn = m.insns[pc]
                    if spec.kind == Kind.EXIT:
                        if self.call_depth == 0:
                            break
                        npc = self._pop_frame(r)
                    elif spec.kind == Kind.CALLX:
                        npc = self._callx(r, pc, insn)
                    else:
                        target = self._call_target(pc, insn)
                        if target is None:  # syscall
                            name, handler = self._syscall(pc, insn)
                            executed += c
                            context.consume(c)
                            c = 0
                            self.pc = pc
                            r[0] = handler(self, r[1], r[2], r[3], r[4], r[5]) & M64
                            budget = context.get_remaining()
                            npc = pc + 1
                        else:
                            self._push_frame(r, pc)
                            npc = target
                pc = npc
        except E.EbpfError as err:
            err.pc = pc
            error = err
        except RecursionError:  # pragma: no cover - defensive
            error = E.CallDepthExceeded(pc=pc)
        executed += c
        context.consume(c)
        self.pc = pc
        return ProgramResult(r[0] if error is None else None, error,
                             start - context.get_remaining(), executed, pc)

    # --- control flow ---------------------------------------------------------------------------
    def _call_target(self, pc: int, insn: Insn) -> int | None:
        """pc of an internal call, None for a syscall; raises UnsupportedInstruction otherwise."""
        exe = self.executable
        if exe.version.static_syscalls:
            if insn.src == 0 and exe.syscalls.lookup(insn.imm & M32) is not None:
                return None
            target = pc + 1 + insn.imm
            if insn.src != 1 or not 0 <= target < len(exe.text) // INSN_SIZE:
                raise E.UnsupportedInstruction()
            return target
        key = insn.imm & M32
        if exe.syscalls.lookup(key) is not None:
            return None
        target = exe.functions.lookup(key)
        if target is None:
            raise E.UnsupportedInstruction()
        return target

    def _syscall(self, pc: int, insn: Insn):
        hit = self.executable.syscalls.lookup(insn.imm & M32)
        if hit is None:
            raise E.UnsupportedInstruction()
        return hit

    def _push_frame(self, r: list[int], pc: int) -> None:
        self.frames.append((r[6], r[7], r[8], r[9], r[10], pc + 1))
        self.call_depth += 1
        if self.call_depth == self.config.max_call_depth:
            raise E.CallDepthExceeded()
        r[10] = (r[10] + self.frame_bump) & M64

    def _pop_frame(self, r: list[int]) -> int:
        self.call_depth -= 1
        r[6], r[7], r[8], r[9], r[10], ret = self.frames.pop()
        return ret

    def _callx(self, r: list[int], pc: int, insn: Insn) -> int:
        exe = self.executable
        target_addr = r[callx_register(insn, exe.version)]
        self._push_frame(r, pc)
        target = ((target_addr - exe.text_vaddr) & M64) // INSN_SIZE
        if target * INSN_SIZE >= len(exe.text):
            raise E.CallOutsideTextSegment()
        return target


def run_text(text: bytes, version: SBPFVersion = SBPFVersion.V0, *, budget: int = 1_000_000,
             input_data: bytes = b"", registers: list[int] | None = None) -> ProgramResult:
    """Verify and run raw bytecode with the standard memory map (a convenience for tests)."""
    exe = Executable.from_text(text, version)
    meter = BudgetMeter(budget)
    vm = EbpfVm(exe, standard_regions(exe, input_data=input_data), meter)
    return vm.execute(registers)
