"""Reading relocatable BPF objects (`clang -target bpf -c` output) with the shared ELF schemas."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..elf import schema as S
from .errors import LinkError


@dataclass
class ObjSection:
    index: int
    name: str
    type: int
    flags: int
    data: bytes
    align: int
    size: int
    relocs: list["ObjReloc"] = field(default_factory=list)


@dataclass(frozen=True)
class ObjSymbol:
    name: str
    bind: int
    type: int
    shndx: int
    value: int
    size: int

    @property
    def defined(self) -> bool:
        return self.shndx != S.SHN_UNDEF


@dataclass(frozen=True)
class ObjReloc:
    offset: int
    type: int
    symbol: int  # index into the object's symbol table


@dataclass
class ObjectFile:
    path: str
    sections: list[ObjSection]
    symbols: list[ObjSymbol]


def _check(cond: bool, path: str, what: str) -> None:
    if not cond:
        raise LinkError(f"{path}: malformed object file: {what}")


def read_object(data: bytes, path: str = "<object>") -> ObjectFile:
    """Parse a relocatable ELF64 LE BPF object into sections, symbols and relocations."""
    _check(len(data) >= S.EHDR_SIZE and data[:4] == S.ELFMAG, path, "not an ELF file")
    eh = S.parse_one(S.Elf64_Ehdr, data)
    _check(eh.e_ident.ei_class == S.ELFCLASS64 and eh.e_ident.ei_data == S.ELFDATA2LSB, path,
           "not ELF64 little-endian")
    if eh.e_machine not in (S.EM_BPF, S.EM_SBPF):
        raise LinkError(f"{path}: not a BPF object (e_machine {eh.e_machine}); compile with -target bpf")
    _check(eh.e_type == S.ET_REL, path, "not a relocatable object")
    _check(eh.e_shentsize == S.SHDR_SIZE and eh.e_shoff + eh.e_shnum * S.SHDR_SIZE <= len(data), path,
           "section headers out of bounds")
    shdrs = S.parse_table(S.Elf64_Shdr, data, eh.e_shoff, eh.e_shnum)
    _check(eh.e_shstrndx < len(shdrs), path, "bad section name table index")
    shstr = shdrs[eh.e_shstrndx]

    def body(h) -> bytes:
        if h.sh_type == S.SHT_NOBITS:
            return b""
        _check(h.sh_offset + h.sh_size <= len(data), path, "section data out of bounds")
        return bytes(data[h.sh_offset:h.sh_offset + h.sh_size])

    names = body(shstr)
    sections = []
    for i, h in enumerate(shdrs):
        name = S.cstring(names, h.sh_name)
        _check(name is not None, path, "bad section name")
        sections.append(ObjSection(i, name.decode("utf-8", "replace"), h.sh_type, h.sh_flags, body(h),
                                   max(1, h.sh_addralign), h.sh_size))
    symbols: list[ObjSymbol] = []
    for i, h in enumerate(shdrs):
        if h.sh_type == S.SHT_SYMTAB:
            _check(h.sh_link < len(shdrs), path, "bad symbol string table")
            strtab = body(shdrs[h.sh_link])
            raw = body(h)
            for k in range(len(raw) // S.SYM_SIZE):
                sym = S.parse_one(S.Elf64_Sym, raw, k * S.SYM_SIZE)
                nm = S.cstring(strtab, sym.st_name)
                _check(nm is not None, path, "bad symbol name")
                symbols.append(ObjSymbol(nm.decode("utf-8", "replace"), S.st_bind(sym.st_info),
                                         S.st_type(sym.st_info), sym.st_shndx, sym.st_value, sym.st_size))
    for h in shdrs:
        if h.sh_type in (S.SHT_REL, S.SHT_RELA):
            _check(h.sh_info < len(sections), path, "relocation for a missing section")
            raw = body(h)
            schema, size = (S.Elf64_Rel, S.REL_SIZE) if h.sh_type == S.SHT_REL else (S.Elf64_Rela, S.RELA_SIZE)
            target = sections[h.sh_info]
            for k in range(len(raw) // size):
                rel = S.parse_one(schema, raw, k * size)
                sym = S.r_sym(rel.r_info)
                _check(sym < len(symbols), path, "relocation against a missing symbol")
                target.relocs.append(ObjReloc(rel.r_offset, S.r_type(rel.r_info), sym))
    return ObjectFile(path, sections, symbols)
