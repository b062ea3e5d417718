"""Disassembler: bytecode back to the assembler's text, driven by the opcode table.

The output is the assembler's *normal form*: 4-space indented instructions, labels in column 0
(function symbols by name, other call targets `function_N`, jump targets `lbb_N`), immediates in
signed decimal, lddw values in hex, memory operands `[rN+off]`. Assembling it gives the same
bytes back, and disassembling that gives the same text.
"""

from __future__ import annotations

from ..vm.executable import Executable
from ..vm.isa import INSN_SIZE, M32, M64, Form, Insn, SBPFVersion, opcode_table
from ..vm.verifier import callx_register


def _mem(reg: int, off: int) -> str:
    return f"[r{reg}{'+' if off >= 0 else '-'}{abs(off)}]"


def format_insn(insn: Insn, version: SBPFVersion, *, target: str | None = None,
                call_name: str | None = None, lddw_value: int | None = None) -> str:
    """One instruction as text. `target` names a jump target; `call_name` a call's callee."""
    spec = opcode_table(version).get(insn.opc)
    if spec is None:
        return f".quad {int.from_bytes(insn.encode(), 'little'):#018x}  # invalid opcode {insn.opc:#04x}"
    mn, form = spec.mnemonic, spec.form
    if form == Form.ALU_IMM:
        return f"{mn} r{insn.dst}, {insn.imm}"
    if form == Form.ALU_REG:
        return f"{mn} r{insn.dst}, r{insn.src}"
    if form == Form.UNARY:
        return f"{mn} r{insn.dst}"
    if form == Form.ENDIAN:
        return f"{mn}{insn.imm} r{insn.dst}"
    if form == Form.LDDW:
        value = lddw_value if lddw_value is not None else insn.imm & M32
        return f"lddw r{insn.dst}, {value & M64:#x}"
    if form == Form.LOAD:
        return f"{mn} r{insn.dst}, {_mem(insn.src, insn.off)}"
    if form == Form.STORE_IMM:
        return f"{mn} {_mem(insn.dst, insn.off)}, {insn.imm}"
    if form == Form.STORE_REG:
        return f"{mn} {_mem(insn.dst, insn.off)}, r{insn.src}"
    tgt = target if target is not None else f"{'+' if insn.off >= 0 else '-'}{abs(insn.off)}"
    if form == Form.JA:
        return f"ja {tgt}"
    if form == Form.JUMP_IMM:
        return f"{mn} r{insn.dst}, {insn.imm}, {tgt}"
    if form == Form.JUMP_REG:
        return f"{mn} r{insn.dst}, r{insn.src}, {tgt}"
    if form == Form.CALL:
        return f"call {call_name}" if call_name else f"call {insn.imm & M32:#x}"
    if form == Form.CALLX:
        return f"callx r{callx_register(insn, version)}"
    return "exit"


def disassemble(executable: Executable) -> str:
    """The text section of `executable` in normal form."""
    labels, lines = listing(executable)
    out: list[str] = []
    for pc in sorted(lines):
        if pc in labels:
            out.append(f"{labels[pc]}:")
        out.append("    " + lines[pc])
    return "\n".join(out) + "\n"


def listing(executable: Executable) -> tuple[dict[int, str], dict[int, str]]:
    """(labels by pc, instruction text by pc) — lddw second slots have no line."""
    text, version = executable.text, executable.version
    n = len(text) // INSN_SIZE
    insns = [Insn.decode(text, pc) for pc in range(n)]
    table = opcode_table(version)
    labels: dict[int, str] = dict(executable.symbols)
    labels.setdefault(executable.entry_pc, "entrypoint")
    fn_by_key = {key: pc for key, (_, pc) in executable.functions.by_key.items()}

    def callee(pc: int, insn: Insn) -> tuple[str | None, int | None]:
        key = insn.imm & M32
        if version.static_syscalls:
            if insn.src == 1:
                return None, pc + 1 + insn.imm
        else:
            name = executable.syscall_names.get(key)
            if name is None:
                hit = executable.syscalls.lookup(key)
                name = hit[0] if hit else None
            if name is not None:
                return name, None
            if key in fn_by_key:
                return None, fn_by_key[key]
        return executable.syscall_names.get(key), None

    # Second slots of lddw cannot carry a label: a jump there is printed as an offset.
    skip, pc = set(), 0
    while pc < n:
        spec = table.get(insns[pc].opc)
        if spec is not None and spec.form == Form.LDDW:
            skip.add(pc + 1)
            pc += 1
        pc += 1
    # First pass: name every call and jump target.
    for pc, insn in enumerate(insns):
        if pc in skip:
            continue
        spec = table.get(insn.opc)
        if spec is None:
            continue
        if spec.form == Form.CALL:
            _, target = callee(pc, insn)
            if target is not None and 0 <= target < n and target not in skip:
                labels.setdefault(target, f"function_{target}")
        elif spec.form in (Form.JA, Form.JUMP_IMM, Form.JUMP_REG):
            target = pc + 1 + insn.off
            if 0 <= target < n and target not in skip:
                labels.setdefault(target, f"lbb_{target}")

    lines: dict[int, str] = {}
    pc = 0
    while pc < n:
        insn = insns[pc]
        spec = table.get(insn.opc)
        target = call_name = lddw = None
        if spec is not None:
            if spec.form == Form.LDDW and pc + 1 < n:
                lddw = (insn.imm & M32) | ((insns[pc + 1].imm & M32) << 32)
            elif spec.form == Form.CALL:
                name, tpc = callee(pc, insn)
                call_name = name if name is not None else labels.get(tpc) if tpc is not None else None
            elif spec.form in (Form.JA, Form.JUMP_IMM, Form.JUMP_REG):
                target = labels.get(pc + 1 + insn.off)
        lines[pc] = format_insn(insn, version, target=target, call_name=call_name, lddw_value=lddw)
        pc += 2 if lddw is not None else 1
    return labels, lines
