"""Our linker: relocatable BPF objects -> an SBPF v0 shared object Agave loads.

Debian's `ld.lld` cannot link `-target bpf` objects for Solana (it rejects R_BPF_64_32), so the
objects are linked here and the result handed to the shared ELF writer (`sbpfunc.elf.writer`):

* `.text*` sections are concatenated into `.text`; `.rodata*` (strings, constants) into
  `.rodata`; `.data.rel.ro*` (constant tables holding pointers) into `.data.rel.ro`.
* `call` to a function defined in the link (R_BPF_64_32, implicit addend `(imm+1)*8`) becomes a
  pc-relative imm; the v0 loader keys it by murmur3 of the target pc. No dynamic relocation.
* `call` to an undefined function is a syscall (or SBPFunc): imm -1 plus an R_BPF_64_32 dynamic
  relocation against its name.
* `lddw` of an address (R_BPF_64_64, addend in the imm) becomes an R_BPF_64_RELATIVE.
* A pointer in constant data (R_BPF_64_ABS64, addend in the slot) becomes R_BPF_64_RELATIVE with
  the address in the slot's upper half (the loader's convention; see agave-facts.md).
* Writable data (`.data`, `.bss`) is refused: SBPF programs have no writable globals.

Output is a pure function of the inputs (object order, then section order), so builds are
byte-for-byte reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..elf import schema as S
from ..elf.writer import LinkImage, Reloc, write_shared_object
from .errors import LinkError
from .objfile import ObjectFile, ObjSection, read_object

TEXT, RODATA, DATA_REL_RO = ".text", ".rodata", ".data.rel.ro"
_IGNORED_PREFIXES = (".BTF", ".debug", ".comment", ".note", ".llvm", ".eh_frame", ".rel", ".rela",
                     ".symtab", ".strtab", ".shstrtab")


def _category(sec: ObjSection) -> str | None:
    """Which output section an input section goes to (None: not loaded)."""
    n = sec.name
    if sec.type in (S.SHT_NULL, S.SHT_SYMTAB, S.SHT_STRTAB, S.SHT_REL, S.SHT_RELA) or \
            sec.type == S.SHT_LLVM_ADDRSIG:
        return None
    if n == TEXT or n.startswith(".text."):
        return TEXT
    if n.startswith(".data.rel.ro") or n.startswith(".data.rel"):
        return DATA_REL_RO
    if n.startswith(".rodata") or n.startswith(".srodata"):
        return RODATA
    if n.startswith((".bss", ".sbss", ".data", ".sdata")) or sec.flags & S.SHF_WRITE:
        if sec.size == 0:
            return None
        raise LinkError(
            f"writable section {n} is not supported: SBPF programs cannot have writable globals "
            f"(make the variable `const`, or keep it on the stack or heap)")
    if n.startswith(_IGNORED_PREFIXES) or not sec.flags & S.SHF_ALLOC:
        return None
    raise LinkError(f"section {n} is not supported by the SBPF linker")


@dataclass
class _Placed:
    category: str
    offset: int  # where the input section starts inside its output section


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def link(objects: list[ObjectFile], *, entry: str = "entrypoint", e_machine: int = S.EM_BPF) -> LinkImage:
    """Link parsed objects into the ELF writer's `LinkImage`."""
    out = {TEXT: bytearray(), RODATA: bytearray(), DATA_REL_RO: bytearray()}
    placed: list[dict[int, _Placed]] = []
    for obj in objects:
        where = {}
        for sec in obj.sections:
            cat = _category(sec)
            if cat is None:
                continue
            buf = out[cat]
            align = 8 if cat == TEXT else sec.align
            buf += bytes(_align(len(buf), align) - len(buf))
            where[sec.index] = _Placed(cat, len(buf))
            buf += sec.data if sec.type != S.SHT_NOBITS else bytes(sec.size)
        placed.append(where)

    # Global symbols: name -> (category, offset, type)
    globals_: dict[str, tuple[str, int, int]] = {}
    for obj, where in zip(objects, placed):
        for sym in obj.symbols:
            if sym.bind in (S.STB_GLOBAL, S.STB_WEAK) and sym.defined and sym.shndx in where:
                p = where[sym.shndx]
                hit = (p.category, p.offset + sym.value, sym.type)
                if sym.name in globals_ and sym.bind == S.STB_GLOBAL:
                    raise LinkError(f"symbol {sym.name} is defined more than once")
                globals_.setdefault(sym.name, hit)

    text = out[TEXT]
    relocs: list[Reloc] = []
    functions: dict[str, int] = {}
    for obj, where in zip(objects, placed):
        for sym in obj.symbols:
            if sym.type == S.STT_FUNC and sym.defined and sym.shndx in where:
                p = where[sym.shndx]
                if p.category == TEXT:
                    functions.setdefault(sym.name, p.offset + sym.value)

        def resolve(sym_index: int) -> tuple[str, int] | None:
            sym = obj.symbols[sym_index]
            if sym.defined:
                if sym.shndx not in where:
                    if sym.shndx == S.SHN_ABS:
                        raise LinkError(f"{obj.path}: absolute symbol {sym.name} is not supported")
                    raise LinkError(f"{obj.path}: symbol {sym.name or '?'} lives in a section that is not loaded")
                p = where[sym.shndx]
                return p.category, p.offset + sym.value
            hit = globals_.get(sym.name)
            return None if hit is None else hit[:2]

        for sec in obj.sections:
            if sec.index not in where:
                continue
            base = where[sec.index]
            for rel in sec.relocs:
                sym = obj.symbols[rel.symbol]
                at = base.offset + rel.offset
                buf = out[base.category]
                if rel.type == S.R_BPF_64_32 and base.category == TEXT:
                    if at % 8 or buf[at] != 0x85:
                        raise LinkError(f"{obj.path}: R_BPF_64_32 at {sec.name}+{rel.offset:#x} is not a call")
                    target = resolve(rel.symbol)
                    if target is None:  # an import: syscall or SBPFunc
                        buf[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")
                        relocs.append(Reloc(TEXT, at, "syscall", symbol=sym.name))
                        continue
                    cat, off = target
                    imm = int.from_bytes(buf[at + 4:at + 8], "little", signed=True)
                    dest = off + (imm + 1) * 8
                    if cat != TEXT:
                        raise LinkError(f"{obj.path}: call to {sym.name}, which is data")
                    rel_imm = dest // 8 - at // 8 - 1
                    buf[at + 4:at + 8] = (rel_imm & 0xFFFFFFFF).to_bytes(4, "little")
                    if rel_imm == -1:  # a call to itself: imm -1 would read as an import
                        relocs.append(Reloc(TEXT, at, "call", symbol=sym.name or f"function_{dest // 8}",
                                            addend=dest))
                elif rel.type == S.R_BPF_64_64 and base.category == TEXT:
                    if at % 8 or buf[at] != 0x18:
                        raise LinkError(f"{obj.path}: R_BPF_64_64 at {sec.name}+{rel.offset:#x} is not an lddw")
                    target = resolve(rel.symbol)
                    if target is None:
                        raise LinkError(f"undefined data symbol {sym.name} (referenced from {obj.path})")
                    cat, off = target
                    addend = int.from_bytes(buf[at + 4:at + 8], "little")
                    value = off + addend
                    buf[at + 4:at + 8] = (value & 0xFFFFFFFF).to_bytes(4, "little")
                    buf[at + 12:at + 16] = (value >> 32).to_bytes(4, "little")
                    relocs.append(Reloc(TEXT, at, "addr", target_section=cat))
                elif rel.type == S.R_BPF_64_ABS64 and base.category in (DATA_REL_RO, RODATA):
                    target = resolve(rel.symbol)
                    if target is None:
                        raise LinkError(f"undefined data symbol {sym.name} (referenced from {obj.path})")
                    cat, off = target
                    addend = int.from_bytes(buf[at:at + 8], "little")
                    buf[at:at + 8] = bytes(8)
                    relocs.append(Reloc(base.category, at, "ptr", target_section=cat, addend=off + addend))
                else:
                    name = S.RELOCATION_NAMES.get(rel.type, str(rel.type))
                    raise LinkError(f"{obj.path}: unsupported relocation {name} in {sec.name} "
                                    f"(against {sym.name or 'a section'})")

    if entry not in globals_ or globals_[entry][0] != TEXT:
        raise LinkError(f"no entrypoint: define a global function named `{entry}`")
    relocs.sort(key=lambda r: (r.section, r.offset))
    return LinkImage(text=bytes(text), rodata=bytes(out[RODATA]), data_rel_ro=bytes(out[DATA_REL_RO]),
                     entry_offset=globals_[entry][1], relocs=relocs,
                     functions=dict(sorted(functions.items(), key=lambda kv: (kv[1], kv[0]))),
                     e_machine=e_machine)


def link_files(paths: list[str], **kw) -> bytes:
    """Link object files from disk into shared-object bytes."""
    objects = []
    for p in paths:
        try:
            data = open(p, "rb").read()
        except OSError as e:
            raise LinkError(f"cannot read {p}: {e.strerror or e}") from None
        objects.append(read_object(data, p))
    return write_shared_object(link(objects, **kw))
