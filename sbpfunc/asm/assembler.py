"""Assembler for rbpf/sbpf text syntax, driven by the opcode table in `vm/isa.py`.

    entrypoint:
        mov64 r1, 2            # ALU: imm or register form chosen by the operand
        ldxdw r2, [r1+8]       # loads/stores: [reg+off] / [reg-off]
        jeq r1, 0, done        # jump targets: a label or a relative offset (+3, -2)
        lddw r1, message       # a .rodata label (relocated) or a 64-bit number
        call sol_log_          # a label in this file -> internal call; any other name -> syscall
    done:
        exit
    .rodata
    message: .asciz "hello"

Mnemonics without a width (`add`, `mov`, `neg`) mean the 64-bit form. The result is an
`AsmProgram`: position-independent text plus the relocations the ELF writer or the raw
`Executable` builder resolves.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..vm.errors import AsmError
from ..vm.executable import Executable, FunctionRegistry, SyscallLookup, hash_pc, hash_symbol_name
from ..vm.isa import INSN_SIZE, M32, M64, MM_PROGRAM_START, Form, SBPFVersion, by_mnemonic, encode

_ALIASES = {"add": "add64", "sub": "sub64", "mul": "mul64", "div": "div64", "or": "or64",
            "and": "and64", "lsh": "lsh64", "rsh": "rsh64", "neg": "neg64", "mod": "mod64",
            "xor": "xor64", "mov": "mov64", "arsh": "arsh64", "hor": "hor64", "syscall": "call"}
_REG = re.compile(r"^r(10|[0-9])$")
_MEM = re.compile(r"^\[\s*r(10|[0-9])\s*(?:([+-])\s*([0-9a-fA-Fx]+))?\s*\]$")
_LABEL = re.compile(r"^([A-Za-z_.$][\w.$]*)\s*:(.*)$")
_ENDIAN = re.compile(r"^(le|be)(16|32|64)$")


@dataclass
class AsmProgram:
    """Assembled code: text with relocations still symbolic.

    text:     bytecode; internal calls are pc-relative (imm = target - pc - 1), syscall calls
              have imm = -1, lddw of a rodata label holds the offset into rodata
    calls:    (pc, syscall name) for each call to a name not defined here
    rodata_refs: pcs of lddw instructions whose imm is a rodata offset
    functions: label -> pc for labels used as call targets, plus the entrypoint
    """

    version: SBPFVersion
    text: bytes
    rodata: bytes
    entry_pc: int
    functions: dict[str, int]
    labels: dict[str, int]
    calls: list[tuple[int, str]] = field(default_factory=list)
    internal_calls: list[tuple[int, int]] = field(default_factory=list)
    rodata_refs: list[int] = field(default_factory=list)

    # -- outputs ------------------------------------------------------------------------------
    def to_executable(self, syscalls: SyscallLookup | None = None, *, verify: bool = True) -> Executable:
        """An in-memory executable as sbpf's `Executable::from_text_bytes` builds it.

        Text is mapped at MM_PROGRAM_START and rodata right after it (8-aligned) in the same
        read-only region. v0-v2: calls use murmur3 keys; v3: static syscalls and pc-relative calls.
        """
        text = bytearray(self.text)
        rodata_vaddr = MM_PROGRAM_START + len(text) + (-len(text) % 8)
        functions = FunctionRegistry()
        static = self.version.static_syscalls
        for name, pc in self.functions.items():
            key = "entrypoint" if pc == self.entry_pc and name == "entrypoint" else name
            functions.register(hash_pc(pc) if not static else pc, key, pc)
        from ..vm.executable import ENTRYPOINT_KEY
        functions.register(ENTRYPOINT_KEY, "entrypoint", self.entry_pc)
        for pc, target in self.internal_calls:
            if not static:
                _patch_imm(text, pc, hash_pc(target))
        names = {}
        for pc, name in self.calls:
            key = hash_symbol_name(name)
            names[key] = name
            _patch_imm(text, pc, key)
        for pc in self.rodata_refs:
            off = int.from_bytes(text[pc * 8 + 4 : pc * 8 + 8], "little") | \
                (int.from_bytes(text[pc * 8 + 12 : pc * 8 + 16], "little") << 32)
            addr = rodata_vaddr + off
            text[pc * 8 + 4 : pc * 8 + 8] = (addr & M32).to_bytes(4, "little")
            text[pc * 8 + 12 : pc * 8 + 16] = (addr >> 32).to_bytes(4, "little")
        image = bytes(text) + bytes(rodata_vaddr - MM_PROGRAM_START - len(text)) + self.rodata
        exe = Executable(version=self.version, text=bytes(text), entry_pc=self.entry_pc,
                         text_vaddr=MM_PROGRAM_START, ro_region=(MM_PROGRAM_START, image),
                         functions=functions, syscalls=syscalls or _NoSyscalls(),
                         symbols={pc: n for n, pc in self.functions.items()}, syscall_names=names)
        if verify:
            from ..vm.verifier import verify as run_verifier
            run_verifier(exe)
        return exe

    def to_link_image(self):
        """The ELF writer's input (see sbpfunc.elf.writer)."""
        from ..elf.writer import LinkImage, Reloc

        relocs = [Reloc(".text", pc * INSN_SIZE, "syscall", symbol=name) for pc, name in self.calls]
        names = {pc: name for name, pc in self.functions.items()}
        relocs += [Reloc(".text", pc * INSN_SIZE, "call", symbol=names.get(t, f"function_{t}"), addend=t * INSN_SIZE)
                   for pc, t in self.internal_calls if t == pc]
        relocs += [Reloc(".text", pc * INSN_SIZE, "addr", target_section=".rodata") for pc in self.rodata_refs]
        relocs.sort(key=lambda r: r.offset)
        return LinkImage(text=self.text, rodata=self.rodata, entry_offset=self.entry_pc * INSN_SIZE,
                         relocs=relocs, functions={n: pc * INSN_SIZE for n, pc in self.functions.items()},
                         e_flags=int(self.version))

    def to_elf(self) -> bytes:
        from ..elf.writer import write_shared_object

        return write_shared_object(self.to_link_image())


class _NoSyscalls:
    def lookup(self, key):
        return None


def _patch_imm(text: bytearray, pc: int, imm: int) -> None:
    text[pc * 8 + 4 : pc * 8 + 8] = (imm & M32).to_bytes(4, "little")


def _parse_int(tok: str, line: int) -> int:
    try:
        return int(tok.replace("_", ""), 0)
    except ValueError:
        raise AsmError(f"line {line}: expected a number, got {tok!r}") from None


def _split_operands(rest: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in rest:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _strip_comment(line: str) -> str:
    in_str = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_str = not in_str
        if not in_str and (ch in "#;" or line.startswith("//", i)):
            return line[:i]
    return line


@dataclass
class _Pending:
    line: int
    mnemonic: str
    operands: list[str]
    pc: int


def assemble(source: str, version: SBPFVersion | int = SBPFVersion.V0) -> AsmProgram:
    """Assemble `source`; raise AsmError naming the line for anything it cannot encode."""
    version = SBPFVersion(version)
    index = by_mnemonic(version)
    mnemonics = {m for m, _ in index}
    section = "text"
    pending: list[_Pending] = []
    labels: dict[str, int] = {}
    rodata = bytearray()
    rodata_labels: dict[str, int] = {}
    pc = 0
    for lineno, raw in enumerate(source.splitlines(), 1):
        line = _strip_comment(raw).strip()
        while line:
            m = _LABEL.match(line)
            if not m:
                break
            name = m.group(1)
            if name in labels or name in rodata_labels:
                raise AsmError(f"line {lineno}: label {name!r} defined twice")
            if section == "text":
                labels[name] = pc
            else:
                rodata_labels[name] = len(rodata)
            line = m.group(2).strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        word = word.strip().lower()
        rest = rest.strip()
        if word.startswith("."):
            section = _directive(word, rest, section, rodata, lineno)
            continue
        if section != "text":
            raise AsmError(f"line {lineno}: instruction {word!r} outside .text")
        mnemonic = _ALIASES.get(word, word)
        if mnemonic not in mnemonics and not _ENDIAN.match(mnemonic):
            raise AsmError(f"line {lineno}: unknown instruction {word!r} for SBPF v{int(version)}")
        pending.append(_Pending(lineno, mnemonic, _split_operands(rest), pc))
        pc += 2 if mnemonic == "lddw" else 1

    text = bytearray()
    prog = AsmProgram(version, b"", bytes(rodata), labels.get("entrypoint", 0), {}, labels)
    for p in pending:
        text += _encode(p, index, labels, rodata_labels, version, prog)
    prog.text = bytes(text)
    prog.functions = {name: target for name, target in labels.items()
                      if name == "entrypoint" or target in {t for _, t in prog.internal_calls}}
    return prog


def _directive(word: str, rest: str, section: str, rodata: bytearray, lineno: int) -> str:
    if word in (".text",):
        return "text"
    if word in (".rodata", ".data"):
        return "rodata"
    if word == ".section":
        name = rest.split(",")[0].strip()
        return "text" if name.startswith(".text") else "rodata"
    if word in (".globl", ".global", ".type", ".size", ".file", ".p2align"):
        return section
    if section != "rodata":
        raise AsmError(f"line {lineno}: data directive {word} outside .rodata")
    if word in (".ascii", ".asciz", ".string"):
        try:
            value = ast.literal_eval(rest)
            data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        except (ValueError, SyntaxError):
            raise AsmError(f"line {lineno}: bad string literal {rest!r}") from None
        rodata += data + (b"\0" if word != ".ascii" else b"")
    elif word in (".byte", ".short", ".half", ".word", ".long", ".int", ".quad"):
        size = {".byte": 1, ".short": 2, ".half": 2, ".word": 4, ".long": 4, ".int": 4, ".quad": 8}[word]
        for tok in rest.split(","):
            v = _parse_int(tok.strip(), lineno)
            if not -(1 << (8 * size - 1)) <= v < (1 << (8 * size)):
                raise AsmError(f"line {lineno}: {v} does not fit in {size} bytes")
            rodata += (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    elif word in (".align", ".balign"):
        n = _parse_int(rest, lineno)
        rodata += bytes(-len(rodata) % n)
    elif word in (".zero", ".skip", ".space"):
        rodata += bytes(_parse_int(rest, lineno))
    else:
        raise AsmError(f"line {lineno}: unknown directive {word}")
    return section


def _reg(tok: str, line: int) -> int:
    m = _REG.match(tok.strip())
    if not m:
        raise AsmError(f"line {line}: expected a register r0..r10, got {tok!r}")
    return int(m.group(1))


def _imm32(tok: str, line: int) -> int:
    v = _parse_int(tok, line)
    if not -(1 << 31) <= v <= M32:
        raise AsmError(f"line {line}: immediate {tok} does not fit in 32 bits")
    return v - (1 << 32) if v > 0x7FFF_FFFF else v


def _mem(tok: str, line: int) -> tuple[int, int]:
    m = _MEM.match(tok.strip())
    if not m:
        raise AsmError(f"line {line}: expected a memory operand [rN+off], got {tok!r}")
    off = 0
    if m.group(3):
        off = _parse_int(m.group(3), line) * (-1 if m.group(2) == "-" else 1)
    if not -(1 << 15) <= off < (1 << 15):
        raise AsmError(f"line {line}: offset {off} does not fit in 16 bits")
    return int(m.group(1)), off


def _jump_off(tok: str, pc: int, labels: dict[str, int], line: int) -> int:
    tok = tok.strip()
    if tok in labels:
        off = labels[tok] - pc - 1
    elif tok[:1] in "+-" or tok[:1].isdigit():
        off = _parse_int(tok, line)
    else:
        raise AsmError(f"line {line}: unknown label {tok!r}")
    if not -(1 << 15) <= off < (1 << 15):
        raise AsmError(f"line {line}: jump offset {off} does not fit in 16 bits")
    return off


def _need(p: _Pending, n: int) -> None:
    if len(p.operands) != n:
        raise AsmError(f"line {p.line}: {p.mnemonic} takes {n} operand(s), got {len(p.operands)}")


def _encode(p: _Pending, index, labels, rodata_labels, version: SBPFVersion, prog: AsmProgram) -> bytes:
    mn, ops, line = p.mnemonic, p.operands, p.line
    em = _ENDIAN.match(mn)
    if em:
        spec = index.get((em.group(1), Form.ENDIAN))
        if spec is None:
            raise AsmError(f"line {line}: {mn} is not available in SBPF v{int(version)}")
        _need(p, 1)
        return encode(spec.opcode, _reg(ops[0], line), 0, 0, int(em.group(2)))
    forms = {f for (m, f) in index if m == mn}
    if Form.LDDW in forms:
        _need(p, 2)
        dst = _reg(ops[0], line)
        tok = ops[1].strip()
        if tok in rodata_labels:
            value = rodata_labels[tok]
            prog.rodata_refs.append(p.pc)
        elif tok in labels:
            raise AsmError(f"line {line}: lddw of a .text label is not supported")
        else:
            value = _parse_int(tok, line)
            if not -(1 << 63) <= value <= M64:
                raise AsmError(f"line {line}: {tok} does not fit in 64 bits")
            value &= M64
        return encode(0x18, dst, 0, 0, value & M32) + encode(0, 0, 0, 0, value >> 32)
    if Form.EXIT in forms:
        _need(p, 0)
        return encode(index[(mn, Form.EXIT)].opcode)
    if Form.CALLX in forms:
        _need(p, 1)
        reg = _reg(ops[0], line)
        opc = index[(mn, Form.CALLX)].opcode
        if version.callx_uses_src_reg:
            return encode(opc, 0, reg, 0, 0)
        if version.callx_uses_dst_reg:
            return encode(opc, reg, 0, 0, 0)
        return encode(opc, 0, 0, 0, reg)
    if Form.CALL in forms:
        _need(p, 1)
        opc = index[(mn, Form.CALL)].opcode
        tok = ops[0].strip()
        if tok in labels:
            target = labels[tok]
            prog.internal_calls.append((p.pc, target))
            return encode(opc, 0, 1 if version.static_syscalls else 0, 0, target - p.pc - 1)
        if re.match(r"^[-+]?(0x[0-9a-fA-F]+|\d+)$", tok):
            return encode(opc, 0, 0, 0, _imm32(tok, line))
        if not re.match(r"^[A-Za-z_][\w.]*$", tok):
            raise AsmError(f"line {line}: bad call target {tok!r}")
        prog.calls.append((p.pc, tok))
        return encode(opc, 0, 0, 0, -1)
    if Form.JA in forms:
        _need(p, 1)
        return encode(index[(mn, Form.JA)].opcode, 0, 0, _jump_off(ops[0], p.pc, labels, line), 0)
    if Form.JUMP_IMM in forms or Form.JUMP_REG in forms:
        _need(p, 3)
        dst = _reg(ops[0], line)
        off = _jump_off(ops[2], p.pc, labels, line)
        if _REG.match(ops[1].strip()):
            return encode(index[(mn, Form.JUMP_REG)].opcode, dst, _reg(ops[1], line), off, 0)
        return encode(index[(mn, Form.JUMP_IMM)].opcode, dst, 0, off, _imm32(ops[1], line))
    if Form.LOAD in forms:
        _need(p, 2)
        src, off = _mem(ops[1], line)
        return encode(index[(mn, Form.LOAD)].opcode, _reg(ops[0], line), src, off, 0)
    if Form.STORE_IMM in forms:
        _need(p, 2)
        dst, off = _mem(ops[0], line)
        return encode(index[(mn, Form.STORE_IMM)].opcode, dst, 0, off, _imm32(ops[1], line))
    if Form.STORE_REG in forms:
        _need(p, 2)
        dst, off = _mem(ops[0], line)
        return encode(index[(mn, Form.STORE_REG)].opcode, dst, _reg(ops[1], line), off, 0)
    if Form.UNARY in forms:
        _need(p, 1)
        return encode(index[(mn, Form.UNARY)].opcode, _reg(ops[0], line), 0, 0, 0)
    if Form.ALU_IMM in forms or Form.ALU_REG in forms:
        _need(p, 2)
        dst = _reg(ops[0], line)
        if _REG.match(ops[1].strip()):
            spec = index.get((mn, Form.ALU_REG))
            if spec is None:
                raise AsmError(f"line {line}: {mn} has no register form in SBPF v{int(version)}")
            return encode(spec.opcode, dst, _reg(ops[1], line), 0, 0)
        spec = index.get((mn, Form.ALU_IMM))
        if spec is None:
            raise AsmError(f"line {line}: {mn} has no immediate form in SBPF v{int(version)}")
        return encode(spec.opcode, dst, 0, 0, _imm32(ops[1], line))
    raise AsmError(f"line {line}: cannot encode {mn}")  # pragma: no cover
