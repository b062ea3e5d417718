"""The fast path: sBPF basic blocks translated to Python source and compiled, run side by side
with the reference interpreter.

The interpreter (`interpreter.py`) stays the reference. This engine must be observationally
identical to it: result, error kind/text/pc, compute units, instruction count, registers, memory,
frames. It is built from the *same* semantic templates in `isa.py`. Each instruction's `expr` /
`check` template is pasted into generated code with D/S replaced by register locals and
IMM/UIMM/OFF by literals, as `interpreter._subst` does for the closures. No opcode semantics
live here.

Design
------
* **Blocks.** The text is split into basic blocks. Leaders are the entrypoint, registered
  functions, v3 pc-relative call targets, jump targets, and the slot after every
  jump/call/callx/exit. A block ends at a terminator (jump, call, callx, exit) or falls through
  into the next leader.
* **Regions.** The code for a leader H is a *region*: H's block wrapped in `while True:`, with
  registers in Python locals. A jump back to H is `continue`. If H lies in a loop, the blocks of
  its innermost natural loop (from DFS back edges) are inlined along every path (depth- and
  size-limited, never twice on one path), so a multi-block loop body goes round without the
  dispatcher. Leaving a region is `pc = X; break`.
* **One generated function per program** holds the compiled regions behind a binary if-tree on
  `pc`: `run(vm, m, pc, c, budget, RD, WR, SR, SW)`. A pc without a compiled region returns
  STEP.
* **Tiering.** Compiling costs about 14 µs per generated line (CPython's compiler), far more
  than interpreting cold code. A run therefore starts in the driver's copy of the interpreter
  loop (`EbpfVm._run`, stepping `machine.ops[pc]()`), which counts executions per leader. A
  leader that reaches `HOT_THRESHOLD` becomes pending. The function is (re)built with all hot
  and pending regions once the interpreted work since the last build pays for compiling it
  (`COMPILE_RATIO` interpreted instructions per generated line, a ski-rental rule), at most a
  small factor worse than the best choice. `set_tiering(eager=True)` compiles every leader up
  front (tests, benchmarks). Translations are cached by program content (text hash, version,
  entry, functions, stack gap): on the executable (`executable._cache`) and in a small
  module-level LRU, so re-deploying the same bytes reuses the compiled code and the counters.
* **Metering.** Exact budgets via one check per region pass. `left = budget - c` counts down.
  At the region head, `if left < MAXPATH: return STEP`, where MAXPATH is the longest
  instruction path through the region to any exit. If the pass may not fit, the driver's
  interpreter loop runs the instructions one by one up to the next compiled leader, so
  `ExceededMaxInstructions` is raised by the same per-instruction check (`c >= budget`) at the
  same pc. Each path end (`continue`, `break`, `return`) charges its own length.
* **Faults.** No bookkeeping on the fast path. Instructions are emitted one per line, and a table
  maps each line of the generated source to (pc, position in the region pass, synced). When an
  exception leaves the generated code, the handler returns the register locals and the
  exception. Its traceback line gives the faulting instruction.
  * An `EbpfError` (divide by zero, overflow, call depth, a helper's error) is final: pc is
    set, and the count becomes c + position + 1.
  * Any other exception is a *deopt*: an IndexError / struct.error from an inlined memory
    access, or a negative or ≥ 2^64 address hitting the always-empty table slot. The failing
    line wrote nothing, so the driver restores the registers, charges only the instructions
    before it, and hands that instruction to the interpreter loop. That loop uses
    `MemoryMapping`, which raises the exact access violation, or performs the access for layouts
    the fast path does not cover (e.g. input sub-regions).
* **Memory.** For each 4 GiB slot (vaddr >> 32) the driver passes the host buffer of a plain
  region starting at the slot base: `RD` for loads, `WR` for stores. Other cases get empty
  buffers, so they raise and deopt. Offsets are `a & 0xFFFFFFFF`; bounds are checked by `struct`
  / indexing.
  * The gapped v0 stack (gap G, a power of two) is inlined too. The host offset is
    `(a >> 1) & ~(G-1) | a & (G-1)`. The gap bit is moved out of any buffer's range, so a gap
    hit raises. This is the same quirk as `MemoryRegion.host_offset`: only the start address is
    checked against a gap.
  * `[r10+off]` inside the current frame uses `s10`, the host offset of the frame top,
    recomputed whenever r10 changes (entry, call, return): `SR[s10 - 8]`.
* **Calls, callx, exit, syscalls** use the VM's own helpers (`_call_target`, `_push_frame`,
  `_pop_frame`, `_callx`, `_syscall`), so frames and depth are shared with the interpreter.
  Internal calls, callx and non-final exits run inside the generated code, with registers
  synced through `m.regs` around the helper. Syscalls, the final exit, STEP and faults all
  leave through the one shared path: a return to the driver.

Entry point: `run_translated(vm, machine, pc, start)`, with exactly the contract of
`EbpfVm._run(machine, pc, start)`.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from . import errors as E
from .interpreter import EbpfVm, Machine, ProgramResult, _sdiv, _srem, decode_program
from .isa import M32, M64, MM_STACK_START, SIGN32, SIGN64, Kind
from .memory import MemoryRegion

__all__ = ["run_translated", "translation", "set_tiering", "tiering", "generated_source",
           "HOT_THRESHOLD", "COMPILE_RATIO"]

# status codes returned by the generated function
DONE, SYSCALL, STEP, FAULT = 0, 1, 2, 3

# tiering (see the module docstring); change with set_tiering() / tiering()
HOT_THRESHOLD = 16  # executions of a leader (in the interpreter) before it is worth compiling
COMPILE_RATIO = 40  # interpreted instructions that pay for one generated line
_EAGER = False

# inlining limits (per region)
MAX_INLINE_DEPTH = 8
MAX_REGION_INSNS = 96

_REGS = "r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10"

_LIT = {"M64": "0xFFFFFFFFFFFFFFFF", "M32": "0xFFFFFFFF", "SIGN64": "0x8000000000000000",
        "SIGN32": "0x80000000"}

# names the templates may use, as in interpreter._ENV (the same helpers, not copies)
_ENV = {"M32": M32, "M64": M64, "SIGN32": SIGN32, "SIGN64": SIGN64,
        "DivideByZero": E.DivideByZero, "DivideOverflow": E.DivideOverflow,
        "_sdiv": _sdiv, "_srem": _srem}

_LOAD = {2: struct.Struct("<H").unpack_from, 4: struct.Struct("<I").unpack_from,
         8: struct.Struct("<Q").unpack_from}
_STORE = {2: struct.Struct("<H").pack_into, 4: struct.Struct("<I").pack_into,
          8: struct.Struct("<Q").pack_into}
_LNAME = {2: "L2", 4: "L4", 8: "L8"}  # locals of the generated function
_SNAME = {2: "S2", 4: "S4", 8: "S8"}

_TOKENS = re.compile(r"\b(D|S|IMM|UIMM|OFF|M64|M32|SIGN64|SIGN32)\b")
_FORMATS: dict[str, str] = {}
_REG_RE = re.compile(r"\br(\d+)\b")


def _format_of(template: str) -> str:
    """The template as a str.format pattern (computed once per template)."""
    f = _FORMATS.get(template)
    if f is None:
        def rep(mo):
            t = mo.group(1)
            return _LIT[t] if t in _LIT else "{" + t + "}"
        f = _FORMATS[template] = _TOKENS.sub(rep, template.replace("{", "{{").replace("}", "}}"))
    return f


def _subst(template: str, d: int, s: int, imm: int, uimm: int, off: int) -> str:
    """The template with registers as locals and operands as literals (constant-foldable)."""
    return _format_of(template).format(D=f"r{d}", S=f"r{s}", IMM=f"({imm})", UIMM=hex(uimm),
                                       OFF=f"({off})")


def _simplify(expr: str) -> str:
    """`rX & M64` is rX: register locals always hold u64 values."""
    if expr.endswith(" & 0xFFFFFFFFFFFFFFFF"):
        m = re.fullmatch(r"\(?(r\d+)\)? & 0xFFFFFFFFFFFFFFFF", expr)
        if m:
            return m.group(1)
    return expr


def _fold(expr: str, known: dict) -> str:
    """Known register operands as literals; an expression with no registers left is evaluated."""
    if not known:
        return expr
    regs = set(int(x) for x in _REG_RE.findall(expr))
    hit = regs & set(known)
    if not hit:
        return expr
    expr = _REG_RE.sub(
        lambda mo: hex(known[int(mo.group(1))]) if int(mo.group(1)) in hit else mo.group(0), expr)
    if regs <= hit:
        try:
            return hex(eval(expr, dict(_ENV)))
        except Exception:  # pragma: no cover - leave it to run time
            return expr
    return expr


@dataclass
class Block:
    start: int
    insns: list  # [(pc, spec, insn)]
    kind: str  # "jump" | "ja" | "call" | "callx" | "exit" | "fall"
    target: int | None = None  # jump target
    fall: int | None = None  # fall-through / not-taken successor / return site

    @property
    def n(self) -> int:
        return len(self.insns)

    def succs(self) -> list[int]:
        """Intra-procedural successors (a call continues at its return site)."""
        out = []
        if self.target is not None:
            out.append(self.target)
        if self.fall is not None and self.kind != "ja":
            out.append(self.fall)
        return out


# --- analysis ------------------------------------------------------------------------------------

def _blocks(exe, decoded) -> dict[int, Block]:
    specs, insns = decoded.specs, decoded.insns
    n = len(specs)

    def ok(pc: int) -> bool:
        """Can the instruction at pc be translated? (Everything a verified program contains.)"""
        if not 0 <= pc < n:
            return False
        spec = specs[pc]
        if spec is None:
            return False
        if spec.kind == Kind.LDDW:
            return pc + 1 < n
        if spec.kind == Kind.JUMP:
            return 0 <= pc + 1 + insns[pc].off <= n
        return True

    leaders = {exe.entry_pc}
    for _name, fpc in exe.functions.by_key.values():
        leaders.add(fpc)
    pc = 0
    while pc < n:
        spec, insn = specs[pc], insns[pc]
        step = 2 if spec is not None and spec.kind == Kind.LDDW else 1
        if spec is None:
            leaders.add(pc)
            leaders.add(pc + 1)
        elif spec.kind == Kind.JUMP:
            leaders.add(pc + 1 + insn.off)
            leaders.add(pc + 1)
        elif spec.kind in (Kind.CALL, Kind.CALLX, Kind.EXIT):
            leaders.add(pc + 1)
            if spec.kind == Kind.CALL and exe.version.static_syscalls and insn.src == 1:
                leaders.add(pc + 1 + insn.imm)
        pc += step
    leaders = {p for p in leaders if 0 <= p < n}

    blocks: dict[int, Block] = {}
    for start in sorted(leaders):
        if not ok(start):
            continue
        body = []
        pc = start
        while True:
            spec, insn = specs[pc], insns[pc]
            body.append((pc, spec, insn))
            kind = spec.kind
            nxt = pc + (2 if kind == Kind.LDDW else 1)
            if kind == Kind.JUMP:
                tgt = pc + 1 + insn.off
                if spec.expr == "True":
                    blocks[start] = Block(start, body, "ja", target=tgt, fall=nxt)
                else:
                    blocks[start] = Block(start, body, "jump", target=tgt, fall=nxt)
                break
            if kind in (Kind.CALL, Kind.CALLX, Kind.EXIT):
                blocks[start] = Block(start, body, kind, fall=nxt if kind != Kind.EXIT else None)
                break
            if nxt >= n or nxt in leaders or not ok(nxt):
                blocks[start] = Block(start, body, "fall", fall=nxt)
                break
            pc = nxt
    return blocks


def _natural_loops(blocks: dict[int, Block], roots: list[int]) -> dict[int, set[int]]:
    """Loop header -> its natural loop (the blocks that reach one of its back edges without
    passing through the header, plus the header). Back edges come from an iterative DFS from the
    roots, then from every other block."""
    preds: dict[int, list[int]] = {b: [] for b in blocks}
    for b, blk in blocks.items():
        for s in blk.succs():
            if s in preds:
                preds[s].append(b)
    loops: dict[int, set[int]] = {}
    for src, head in _back_edges(blocks, roots):
        body = loops.setdefault(head, {head})
        work = [src]
        while work:
            v = work.pop()
            if v in body:
                continue
            body.add(v)
            work.extend(preds[v])
    return loops


def _back_edges(blocks: dict[int, Block], roots: list[int]) -> list[tuple[int, int]]:
    state: dict[int, int] = {}  # 1 = on stack, 2 = done
    edges: list[tuple[int, int]] = []
    for root in list(roots) + sorted(blocks):
        if root not in blocks or root in state:
            continue
        state[root] = 1
        work = [(root, iter([s for s in blocks[root].succs() if s in blocks]))]
        while work:
            v, it = work[-1]
            for w in it:
                st = state.get(w)
                if st is None:
                    state[w] = 1
                    work.append((w, iter([s for s in blocks[w].succs() if s in blocks])))
                    break
                if st == 1:
                    edges.append((v, w))
            else:
                state[v] = 2
                work.pop()
    return edges


# --- region code generation ----------------------------------------------------------------------

class _Region:
    """The generated code of one region, relocatable: (relative indent, text, meta) lines."""

    __slots__ = ("head", "lines", "insns")

    def __init__(self, head: int, lines: list, insns: int):
        self.head, self.lines, self.insns = head, lines, insns


class _RegionGen:
    """Generates one region's code (see the module docstring)."""

    def __init__(self, prog: "_Program", head: int):
        self.prog = prog
        self.gap = prog.gap
        self.blocks = prog.blocks
        self.head = head
        self.lines: list = []
        self.size = 0
        self.maxpath = 0

    def emit(self, ind: int, text: str, meta=None) -> None:
        self.lines.append((ind, text, meta))

    def generate(self) -> _Region:
        head = self.head
        self.size = self.blocks[head].n
        self.emit_block(head, 1, [head], 0, 0)
        body = self.lines
        self.lines = [(0, "while True:", None),
                      (1, f"if left < {self.maxpath}: return {STEP}, {head}, budget - left, None, ({_REGS})",
                       None)]
        self.lines.extend(body)
        return _Region(head, self.lines, self.size)

    # path ends: charge the instructions of this region pass -----------------------------------
    def path_end(self, ind: int, total: int) -> None:
        self.maxpath = max(self.maxpath, total)
        if total:
            self.emit(ind, f"left -= {total}")

    def leave(self, ind: int, target: int, total: int) -> None:
        self.path_end(ind, total)
        self.emit(ind, f"pc = {target}")
        self.emit(ind, "break")

    def edge(self, target: int, ind: int, path: list, depth: int, pos: int) -> None:
        if target == self.head:
            self.path_end(ind, pos)
            self.emit(ind, "continue")
            return
        blk = self.blocks.get(target)
        if blk is not None and target not in path and self.inline_ok(target, depth):
            self.size += blk.n
            self.emit_block(target, ind, path + [target], depth + 1, pos)
            return
        self.leave(ind, target, pos)

    def inline_ok(self, target: int, depth: int) -> bool:
        """A block inside a loop inlines the blocks of its innermost natural loop, so every
        path around the loop back to the region's head stays in the region (`continue`).
        Edges that leave the loop go to the dispatcher."""
        prog = self.prog
        if self.size + self.blocks[target].n > MAX_REGION_INSNS or depth >= MAX_INLINE_DEPTH:
            return False
        body = prog.loops.get(self.head) or prog.innermost.get(self.head)
        return body is not None and target in body

    # memory access ----------------------------------------------------------------------------
    # Addresses are NOT masked to 64 bits: base + off is in [-2^15, 2^64 + 2^15). A negative one
    # indexes RD[-1] (= RD[8], always empty), one >= 2^64 raises IndexError: both deopt to the
    # interpreter, which computes the wrapped address and raises its access violation.
    def _host_stack(self, a: str) -> str:
        g = self.gap
        # the gap bit is moved to bit 32, past any host buffer: a gap access raises and deopts
        return (f"{a} >> 1 & {0x7FFFFFFF & ~(g - 1):#x} | {a} & {g - 1:#x} | "
                f"({a} & {g:#x}) << {33 - g.bit_length()}")

    def _mem_target(self, base: int, off: int, n: int, known: dict, ind: int, meta, write: bool):
        """(buffer expr, offset expr) of the access, or (None, address expr) when the address
        may be on the gapped stack or elsewhere (the caller emits the two-way form)."""
        rdwr, stk = ("WR", "SW") if write else ("RD", "SR")
        g = self.gap
        if base in known:
            a = (known[base] + off) & M64
            h = a >> 32
            if g and h == 2:
                if a & g:
                    return stk, hex(1 << 40)  # a gap: raises, deopts, the interpreter faults
                return stk, hex((a >> 1) & (0x7FFFFFFF & ~(g - 1)) | a & (g - 1))
            return f"{rdwr}[{min(h, 8)}]", hex(a & M32)
        if g and base == 10 and -g <= off and off + n <= 0:  # inside the current frame
            return stk, f"s10 - {-off}"
        if off == 0:
            a = f"r{base}"
        else:
            self.emit(ind, f"a = r{base} {'+' if off > 0 else '-'} {abs(off)}", meta)
            a = "a"
        if not g:
            return f"{rdwr}[{a} >> 32]", f"{a} & 0xFFFFFFFF"
        return None, a

    @staticmethod
    def _ld(n: int, buf: str, off: str) -> str:
        return f"{buf}[{off}]" if n == 1 else f"{_LNAME[n]}({buf}, {off})"

    @staticmethod
    def _st(n: int, buf: str, off: str, value: str) -> str:
        return f"{buf}[{off}] = {value}" if n == 1 else f"{_SNAME[n]}({buf}, {off}, {value})"

    def load(self, ind: int, d: int, base: int, off: int, n: int, known: dict, meta) -> None:
        # `rX, = unpack_from(...)` (a statement) is a little faster than `rX = ...[0]`
        tgt = f"r{d}" if n == 1 else f"r{d},"
        buf, o = self._mem_target(base, off, n, known, ind, meta, False)
        if buf is not None:
            self.emit(ind, f"{tgt} = {self._ld(n, buf, o)}", meta)
            return
        self.emit(ind, f"if (h := {o} >> 32) != 2: {tgt} = {self._ld(n, 'RD[h]', f'{o} & 0xFFFFFFFF')}", meta)
        self.emit(ind, f"else: {tgt} = {self._ld(n, 'SR', self._host_stack(o))}", meta)

    def store(self, ind: int, base: int, off: int, n: int, value: str, known: dict, meta) -> None:
        buf, o = self._mem_target(base, off, n, known, ind, meta, True)
        if buf is not None:
            self.emit(ind, self._st(n, buf, o, value), meta)
            return
        self.emit(ind, f"if (h := {o} >> 32) != 2: {self._st(n, 'WR[h]', f'{o} & 0xFFFFFFFF', value)}", meta)
        self.emit(ind, f"else: {self._st(n, 'SW', self._host_stack(o), value)}", meta)

    def s10_update(self, ind: int) -> None:
        if self.gap:
            self.emit(ind, _s10_line(self.gap))

    # blocks -----------------------------------------------------------------------------------
    def emit_block(self, start: int, ind: int, path: list, depth: int, pos: int) -> None:
        """The code of one block; `pos` instructions of this region pass ran before it."""
        blk = self.blocks[start]
        n = blk.n
        known: dict[int, int] = {}
        fused = None  # (dst, expression) of an ALU result folded into the next instruction
        for k, (pc, spec, insn) in enumerate(blk.insns):
            meta = (pc, pos + k, False)
            kind = spec.kind
            d, s, imm, off = insn.dst, insn.src, insn.imm, insn.off
            uimm = imm & M64
            if kind == Kind.ALU or kind == Kind.LDDW:
                fused = self.alu(ind, spec, d, s, imm, uimm, off, known, meta, fused,
                                 blk.insns[k + 1] if k + 1 < n else None)
            elif kind == Kind.LOAD:
                self.load(ind, d, s, off, spec.width, known, meta)
                known.pop(d, None)
            elif kind == Kind.STORE:
                value = _fold(_simplify(_subst(spec.expr, d, s, imm, uimm, off)), known)
                self.store(ind, d, off, spec.width, value, known, meta)
            elif kind == Kind.JUMP:
                self.jump(blk, ind, spec, d, s, imm, uimm, off, known, meta, path, depth, pos + n)
            elif kind == Kind.CALL:
                self.call(ind, pc, insn, pos + k)
            elif kind == Kind.CALLX:
                self.callx(ind, pc, insn, pos + k)
            elif kind == Kind.EXIT:
                self.exit(ind, pc, pos + k)
            else:  # pragma: no cover - every kind is handled above
                raise AssertionError(kind)
        if blk.kind == "fall":
            self.edge(blk.fall, ind, path, depth, pos + n)

    def alu(self, ind, spec, d, s, imm, uimm, off, known, meta, fused, nxt):
        """Emit one ALU instruction, or return (dst, expression) instead of emitting it when the
        next instruction overwrites dst from dst and cannot fault: the two are then one line
        (nothing can observe the intermediate value). Returns the new `fused` state."""
        check = _subst(spec.check, d, s, imm, uimm, off) if spec.check else ""
        expr = _simplify(_subst(spec.expr, d, s, imm, uimm, off))
        if fused is not None:  # the previous instruction computed r{d} = <fused[1]>
            e = fused[1]
            expr = _REG_RE.sub(lambda mo: e if mo.group(0) == f"r{d}" else mo.group(0), expr)
        uses = set(int(x) for x in _REG_RE.findall(check + " " + expr))
        if (nxt is not None and not check and d != 10 and not uses <= set(known)
                and _fuses_into(d, nxt) and len(expr) < 400):
            known.pop(d, None)
            return (d, expr if _REG_RE.fullmatch(expr) else f"({expr})")
        if uses <= set(known):
            # constant folding: evaluate the template now (never folds a check that fires)
            env = dict(_ENV)
            for reg in uses:
                env[f"r{reg}"] = known[reg]
            try:
                if check:
                    exec(check, env)
                value = eval(expr, env)
            except E.EbpfError:
                pass
            else:
                self.emit(ind, f"r{d} = {value:#x}", meta)
                known[d] = value
                if d == 10:
                    self.s10_update(ind)
                return None
        for line in check.splitlines():
            if line.strip():
                self.emit(ind, _fold(line.strip(), known), meta)
        self.emit(ind, f"r{d} = {_fold(expr, known)}", meta)
        known.pop(d, None)
        if d == 10:  # v1/v2 `add64 r10, imm` (never gapped, but keep s10 right regardless)
            self.s10_update(ind)
        return None

    def jump(self, blk, ind, spec, d, s, imm, uimm, off, known, meta, path, depth, total) -> None:
        if blk.kind == "ja":
            self.edge(blk.target, ind, path, depth, total)
            return
        cond = _subst(spec.expr, d, s, imm, uimm, off)
        uses = set(int(x) for x in _REG_RE.findall(cond))
        if uses <= set(known):
            env = dict(_ENV)
            for reg in uses:
                env[f"r{reg}"] = known[reg]
            taken = bool(eval(cond, env))
            self.edge(blk.target if taken else blk.fall, ind, path, depth, total)
            return
        self.emit(ind, f"if {_fold(cond, known)}:", meta)
        self.edge(blk.target, ind + 1, path, depth, total)
        self.emit(ind, "else:", meta)
        self.edge(blk.fall, ind + 1, path, depth, total)

    def call(self, ind, pc, insn, pos) -> None:
        meta = (pc, pos, False)  # _push_frame raises before it bumps r10: the locals are right
        i = self.prog.const(insn)
        self.emit(ind, f"t = CT({pc}, K[{i}])", meta)
        self.emit(ind, "if t is None:", meta)
        self.path_end(ind + 1, pos + 1)
        self.emit(ind + 1, f"return {SYSCALL}, {pc}, budget - left, None, ({_REGS})")
        self.emit(ind, "regs[6:] = (r6, r7, r8, r9, r10)", meta)
        self.emit(ind, f"PF(regs, {pc})", meta)
        self.path_end(ind, pos + 1)
        self.emit(ind, "r10 = regs[10]")
        self.s10_update(ind)
        self.emit(ind, "pc = t")
        self.emit(ind, "break")

    def callx(self, ind, pc, insn, pos) -> None:
        i = self.prog.const(insn)
        self.emit(ind, f"regs[:] = ({_REGS})", (pc, pos, False))
        # _callx may fail after pushing the frame and bumping r10: then m.regs is the truth
        self.emit(ind, f"pc = CX(regs, {pc}, K[{i}])", (pc, pos, True))
        self.path_end(ind, pos + 1)
        self.emit(ind, "r10 = regs[10]")
        self.s10_update(ind)
        self.emit(ind, "break")

    def exit(self, ind, pc, pos) -> None:
        self.path_end(ind, pos + 1)
        self.emit(ind, f"if vm.call_depth == 0: return {DONE}, {pc}, budget - left, None, ({_REGS})")
        self.emit(ind, "pc = PO(regs)")
        self.emit(ind, "r6, r7, r8, r9, r10 = regs[6:]")
        self.s10_update(ind)
        self.emit(ind, "break")


def _fuses_into(d: int, nxt) -> bool:
    """Does the next instruction overwrite r{d} from r{d} without a check (cannot fault)?"""
    _pc, nspec, ninsn = nxt
    return (nspec.kind == Kind.ALU and not nspec.check and ninsn.dst == d
            and re.search(r"\bD\b", nspec.expr) is not None)


def _s10_line(g: int) -> str:
    """s10 = host offset of r10 when r10 is a frame top (S + 2G*k + G); else far out of range."""
    return (f"s10 = (r10 - {MM_STACK_START + g:#x} >> 1) + {g:#x} "
            f"if r10 & {0xFFFFFFFF00000000 | (2 * g - 1):#x} == {MM_STACK_START + g:#x} "
            f"else {1 << 40:#x}")


# --- programs: analysis, hot set, compiled function ------------------------------------------------

@dataclass
class Translation:
    """One compiled version of a program's hot regions."""

    fn: object
    source: str
    linemeta: list  # line number -> (pc, position in region pass, synced) or None
    leaders: frozenset


class _Program:
    """Everything translated about one program (content) and stack layout."""

    def __init__(self, exe, gap: int):
        self.gap = gap
        self.decoded = decode_program(exe)
        self.n = len(self.decoded.specs)
        self.blocks = _blocks(exe, self.decoded)
        roots = [exe.entry_pc] + [p for _k, p in exe.functions.by_key.values()]
        self.loops = _natural_loops(self.blocks, roots)
        # the innermost loop around each block (the smallest natural loop containing it)
        self.innermost: dict[int, set[int]] = {}
        for body in sorted(self.loops.values(), key=len, reverse=True):
            for b in body:
                self.innermost[b] = body
        self.consts: list = []
        self.regions: dict[int, _Region] = {}
        # mark[pc]: 0 = no block starts here, 1 = a block not compiled, 2 = compiled entry
        self.mark = [0] * (self.n + 1)
        for b in self.blocks:
            self.mark[b] = 1
        self.counts = [0] * (self.n + 1)
        self.pending: set[int] = set()
        self.pending_lines = 0
        self.current: Translation | None = None
        self.compiled_lines = 0
        self.debt = 0  # instructions interpreted since the last build
        self.builds = 0

    def const(self, obj) -> int:
        self.consts.append(obj)
        return len(self.consts) - 1

    def region(self, head: int) -> _Region:
        r = self.regions.get(head)
        if r is None:
            r = self.regions[head] = _RegionGen(self, head).generate()
        return r

    def make_hot(self, pc: int) -> None:
        if pc not in self.pending and self.mark[pc] == 1:
            self.pending.add(pc)
            self.pending_lines += len(self.region(pc).lines)

    def worth_building(self, extra_debt: int) -> bool:
        if not self.pending:
            return False
        return _EAGER or self.debt + extra_debt >= COMPILE_RATIO * (self.compiled_lines + self.pending_lines)

    def build(self) -> Translation:
        """Compile every hot region (the old ones and the pending ones) into one function."""
        leaders = sorted((self.current.leaders if self.current else frozenset()) | self.pending)
        lines: list[str] = []
        meta: list = []

        def emit(ind: int, text: str, m=None) -> None:
            lines.append("    " * ind + text)
            meta.append(m)

        def dispatch(entries: list[int], ind: int) -> None:
            if len(entries) <= 3:
                for j, e in enumerate(entries):
                    emit(ind, f"{'if' if j == 0 else 'elif'} pc == {e}:")
                    for rind, text, m in self.region(e).lines:
                        emit(ind + 1 + rind, text, m)
                if entries:
                    emit(ind, "else:")
                    ind += 1
                emit(ind, f"return {STEP}, pc, budget - left, None, ({_REGS})")
                return
            mid = len(entries) // 2
            emit(ind, f"if pc < {entries[mid]}:")
            dispatch(entries[:mid], ind + 1)
            emit(ind, "else:")
            dispatch(entries[mid:], ind + 1)

        emit(0, "def run(vm, m, pc, c, budget, RD, WR, SR, SW):")
        emit(1, "regs = m.regs")
        emit(1, "left = budget - c  # instructions that may still run")
        emit(1, f"{_REGS} = regs")
        if self.gap:
            emit(1, _s10_line(self.gap))
        emit(1, "CT = vm._call_target; PF = vm._push_frame; PO = vm._pop_frame; CX = vm._callx")
        emit(1, "L2 = _L2; L4 = _L4; L8 = _L8; S2 = _S2; S4 = _S4; S8 = _S8; K = _K")
        emit(1, "try:")
        emit(2, "while True:")
        dispatch(leaders, 3)
        emit(1, "except Exception as e:")
        emit(2, f"return {FAULT}, pc, budget - left, e, ({_REGS})")
        source = "\n".join(lines) + "\n"
        ns = dict(_ENV)
        ns.update(_L2=_LOAD[2], _L4=_LOAD[4], _L8=_LOAD[8], _S2=_STORE[2], _S4=_STORE[4],
                  _S8=_STORE[8], _K=tuple(self.consts))
        self.builds += 1
        exec(compile(source, f"<sbpf translation {id(self):#x}.{self.builds} gap={self.gap}>", "exec"), ns)
        tr = Translation(ns["run"], source, [None] + meta, frozenset(leaders))
        for pc in leaders:
            self.mark[pc] = 2
        self.current = tr
        self.compiled_lines = len(lines)
        self.pending.clear()
        self.pending_lines = 0
        self.debt = 0
        return tr


_LRU: OrderedDict = OrderedDict()
_LRU_SIZE = 32


def _program(exe, gap: int) -> _Program:
    """The (cached) translation state of `exe` for a stack with `gap`-byte gaps (0: none)."""
    key = ("translated", gap)
    prog = exe._cache.get(key)
    if prog is not None:
        return prog
    fkey = (hashlib.sha256(exe.text).digest(), int(exe.version), exe.entry_pc,
            tuple(sorted(p for _k, p in exe.functions.by_key.values())), gap)
    prog = _LRU.get(fkey)
    if prog is None:
        prog = _Program(exe, gap)
        _LRU[fkey] = prog
        while len(_LRU) > _LRU_SIZE:
            _LRU.popitem(last=False)
    else:
        _LRU.move_to_end(fkey)
    if _EAGER and (prog.current is None or len(prog.current.leaders) < len(prog.blocks)):
        for b in prog.blocks:
            prog.make_hot(b)
        prog.build()
    exe._cache[key] = prog
    return prog


def translation(exe, gap: int = 0, *, compile_all: bool = True) -> Translation | None:
    """The current compiled translation of `exe` (compiling every block first if asked)."""
    prog = _program(exe, gap)
    if compile_all:
        for b in prog.blocks:
            prog.make_hot(b)
        if prog.pending:
            prog.build()
    return prog.current


def generated_source(exe, gap: int = 0) -> str:
    """The Python source of the translation with every block compiled (for reading)."""
    return translation(exe, gap).source


def set_tiering(*, eager: bool | None = None, hot_threshold: int | None = None,
                compile_ratio: int | None = None) -> None:
    """Tune when code is compiled. `eager`: compile every block on first use."""
    global _EAGER, HOT_THRESHOLD, COMPILE_RATIO
    if eager is not None:
        _EAGER = eager
    if hot_threshold is not None:
        HOT_THRESHOLD = hot_threshold
    if compile_ratio is not None:
        COMPILE_RATIO = compile_ratio


@contextmanager
def tiering(**kw):
    """`set_tiering(**kw)` for the duration of a `with` block."""
    saved = (_EAGER, HOT_THRESHOLD, COMPILE_RATIO)
    set_tiering(**kw)
    try:
        yield
    finally:
        set_tiering(eager=saved[0], hot_threshold=saved[1], compile_ratio=saved[2])


def clear_caches() -> None:
    """Forget every translation (the module LRU; executables keep theirs)."""
    _LRU.clear()


# --- memory tables ---------------------------------------------------------------------------------

_NO_R = b""
_NO_W = bytearray()


def _stack_gap(mm) -> int:
    """The gap the generated code inlines for slot 2: the stack region's gap if it is a power of 2."""
    slots = mm._slots
    r = slots[2] if len(slots) > 2 else None
    if r is not None and r.__class__ is MemoryRegion and r.vaddr == MM_STACK_START:
        g = r.gap_size
        if g and g & (g - 1) == 0 and g < (1 << 31):
            return g
    return 0


def _tables(mm, gap: int):
    """(RD, WR, SR, SW): host buffers the generated code may touch directly; empty elsewhere."""
    rd = [_NO_R] * 9  # index 8 (and -1: negative addresses) is never mapped
    wr = [_NO_W] * 9
    sr, sw = _NO_R, _NO_W
    for i, r in enumerate(mm._slots[:8]):
        if r is None or r.__class__ is not MemoryRegion or r.vaddr != i << 32:
            continue
        data = r.data
        if len(data) != r.host_len:
            continue
        if r.gap_size:
            if i == 2 and r.gap_size == gap:
                sr = data
                if r.writable:
                    sw = data
            continue
        rd[i] = data
        if r.writable:
            wr[i] = data
    return rd, wr, sr, sw


# --- the driver ------------------------------------------------------------------------------------

def run_translated(vm: EbpfVm, machine: Machine, pc: int, start: int) -> ProgramResult:
    """Run like `vm._run(machine, pc, start)`, in compiled regions wherever they exist."""
    if vm.tracer is not None:  # tracing is the interpreter's job
        return vm._run(machine, pc, start)
    m = machine
    gap = _stack_gap(m.memory)
    prog = _program(vm.executable, gap)
    mark, counts = prog.mark, prog.counts
    n_marks = len(mark)  # n + 1: pc == n is the end of the text (ExecutionOverrun)
    threshold = HOT_THRESHOLD
    ops, r = m.ops, m.regs
    specs, insns = m.specs, m.insns
    context = vm.context
    budget = start
    c = 0
    executed = 0
    error = None
    try:
        while True:
            if 0 <= pc < n_marks and mark[pc] == 2:
                tr = prog.current  # this call's code and line table (a CPI may rebuild)
                rd, wr, sr, sw = _tables(m.memory, gap)
                st, xpc, c, exc, locs = tr.fn(vm, m, pc, c, budget, rd, wr, sr, sw)
                rd = wr = sr = sw = None
                if st == FAULT:
                    meta = tr.linemeta[exc.__traceback__.tb_lineno]
                    if meta is None:  # pragma: no cover - a bug in the generator
                        r[:] = locs
                        raise exc
                    ipc, pos, synced = meta
                    if not synced:
                        r[:] = locs
                    pc = ipc
                    if isinstance(exc, E.EbpfError) or synced:
                        c += pos + 1  # the faulting instruction counts, as in the interpreter
                        raise exc
                    c += pos  # deopt: this instruction runs again, in the interpreter
                else:
                    r[:] = locs
                    pc = xpc
                    if st == DONE:
                        break
                    if st == SYSCALL:  # the generated code already resolved the target (None)
                        _name, handler = vm._syscall(pc, insns[pc])
                        executed += c
                        context.consume(c)
                        c = 0
                        vm.pc = pc
                        r[0] = handler(vm, r[1], r[2], r[3], r[4], r[5]) & M64
                        budget = context.get_remaining()
                        pc += 1
                        continue
                    # STEP: not compiled, or the region pass may not fit in the budget
            # The interpreter's loop (EbpfVm._run) up to the next compiled block.
            base = executed + c
            done = False
            while True:
                if c >= budget:
                    raise E.ExceededMaxInstructions()
                c += 1
                npc = ops[pc]()
                if npc < 0:
                    spec = specs[pc]
                    insn = insns[pc]
                    if spec.kind == Kind.EXIT:
                        if vm.call_depth == 0:
                            done = True
                            break
                        npc = vm._pop_frame(r)
                    elif spec.kind == Kind.CALLX:
                        npc = vm._callx(r, pc, insn)
                    else:
                        target = vm._call_target(pc, insn)
                        if target is None:  # syscall
                            _name, handler = vm._syscall(pc, insn)
                            executed += c
                            context.consume(c)
                            c = 0
                            vm.pc = pc
                            r[0] = handler(vm, r[1], r[2], r[3], r[4], r[5]) & M64
                            budget = context.get_remaining()
                            npc = pc + 1
                        else:
                            vm._push_frame(r, pc)
                            npc = target
                pc = npc
                if mark[pc]:  # a block starts here (pc <= n: verified jumps, calls, returns)
                    if mark[pc] == 2:
                        break
                    cnt = counts[pc] = counts[pc] + 1  # not compiled: count it, maybe compile
                    if cnt >= threshold:
                        prog.make_hot(pc)
                        if prog.worth_building(executed + c - base):
                            prog.debt += executed + c - base
                            base = executed + c
                            prog.build()
                            if mark[pc] == 2:
                                break
            prog.debt += executed + c - base
            if done:
                break
    except E.EbpfError as err:
        err.pc = pc
        error = err
    except RecursionError:  # pragma: no cover - defensive, as in _run
        error = E.CallDepthExceeded(pc=pc)
    executed += c
    context.consume(c)
    vm.pc = pc
    return ProgramResult(r[0] if error is None else None, error,
                         start - context.get_remaining(), executed, pc)
