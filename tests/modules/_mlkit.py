"""Helpers for the ML module tests: call one SBPFunc through the real registry handler (arguments
decoded and checked, units charged, outputs written) on a VM whose heap the test lays out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from sbpfunc.asm import assemble
from sbpfunc.syscalls.core import LOGGING_SYSCALLS
from sbpfunc.syscalls.modules import SBPFuncRegistry, StaticActivation
from sbpfunc.syscalls.signature import ELEMENT_TYPES, Pointer, Scalar, StructArg
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions
from sbpfunc.vm.isa import MM_HEAP_START
from sbpfunc.vm.memory import MemoryMapping

ROOT = Path(__file__).resolve().parents[2]
ML_PATH = ROOT / "sbpfunc" / "modules" / "ml.py"
ADV_PATH = ROOT / "sbpfunc" / "modules" / "ml_advanced.py"


def encode(values, elem: str) -> bytes:
    size, signed = ELEMENT_TYPES[elem]
    return b"".join(int(v).to_bytes(size, "little", signed=signed) for v in values)


def decode(raw: bytes, elem: str) -> list[int]:
    size, signed = ELEMENT_TYPES[elem]
    return [int.from_bytes(raw[i:i + size], "little", signed=signed) for i in range(0, len(raw), size)]


@dataclass
class CallResult:
    r0: int | None
    error: Exception | None
    consumed: int
    buffers: dict  # pointer name -> decoded values after the call (as many as were placed)
    heap_before: bytes
    heap_after: bytes
    logs: list = field(default_factory=list)


class Caller:
    """Call a function of an active module through its registry handler (args checked, CU charged)."""

    def __init__(self, modules, heap_size: int = 1 << 20):
        self.reg = SBPFuncRegistry(LOGGING_SYSCALLS, modules,
                                   StaticActivation([m.sha256 for m in modules])).registry_at(0)
        self.fns = {f.name: f for m in modules for f in m.manifest.functions}
        self.exe = assemble("exit").to_executable(self.reg)
        self.heap_size = heap_size

    def __call__(self, name: str, inputs: dict, *, budget: int = 10**9, raw_regs: dict | None = None) -> CallResult:
        fn = self.fns[name]
        regions = standard_regions(self.exe, heap_size=self.heap_size)
        heap = regions[2].data
        meter = BudgetMeter(budget)
        mapping = MemoryMapping([], EbpfVm(self.exe, regions, meter).mem_config)
        mapping.set_regions(regions)
        vm = SimpleNamespace(memory=mapping, context=meter)  # what a syscall handler uses of the VM
        regs, placed, off = [], {}, 0
        for p in fn.params:
            v = inputs.get(p.name)
            if isinstance(p, Scalar):
                regs.append(v & 0xFFFF_FFFF_FFFF_FFFF)
                continue
            if v is None:
                regs.append(0)
                continue
            raw = p.layout.build(v) if isinstance(p, StructArg) else encode(v, p.elem)
            heap[off:off + len(raw)] = raw
            regs.append(MM_HEAP_START + off)
            if isinstance(p, Pointer):
                placed[p.name] = (off, len(raw), p.elem)
            off = (off + len(raw) + 15) & ~15
        for name_, reg in (raw_regs or {}).items():
            idx = [p.name for p in fn.params].index(name_)
            regs[idx] = reg
        regs += [0] * (5 - len(regs))
        before = bytes(heap)
        handler = self.reg.lookup(self.reg.get(name).key)[1]
        r0 = err = None
        try:
            r0 = handler(vm, *regs)
        except Exception as e:  # noqa: BLE001 - the typed error is what the test inspects
            err = e
        bufs = {n: decode(bytes(heap[o:o + ln]), el) for n, (o, ln, el) in placed.items()}
        return CallResult(r0, err, budget - meter.remaining, bufs, before, bytes(heap), meter.logs)
