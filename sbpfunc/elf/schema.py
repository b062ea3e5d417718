"""ELF64 little-endian layouts and constants, as `construct` schemas.

Everything the loader, the writer and the toolchain's linker read or write is described here once:
file header, program and section headers, symbols, REL/RELA relocations and dynamic entries,
plus the constants they use. The schemas are plain `construct.Struct`s (build and parse), with a
compiled twin for bulk parsing of tables (symbol tables of real programs have thousands of rows).

Names follow the ELF spec (`e_machine`, `sh_addr`, `st_info`, ...), so a parsed `Container` reads
like C. Helpers at the bottom pack/unpack `st_info` and `r_info` and build string tables.

Only ELF64 LE is described: SBF/BPF objects (clang `-target bpf` / `sbf`, ld.lld, Agave) use it
exclusively.
"""

from __future__ import annotations

import construct as c

# --- e_ident ---------------------------------------------------------------------------------------
ELFMAG = b"\x7fELF"
EI_NIDENT = 16
EI_CLASS, EI_DATA, EI_VERSION, EI_OSABI, EI_ABIVERSION = 4, 5, 6, 7, 8
ELFCLASSNONE, ELFCLASS32, ELFCLASS64 = 0, 1, 2
ELFDATANONE, ELFDATA2LSB, ELFDATA2MSB = 0, 1, 2
ELFOSABI_NONE = 0
EV_NONE, EV_CURRENT = 0, 1

# --- e_type / e_machine ----------------------------------------------------------------------------
ET_NONE, ET_REL, ET_EXEC, ET_DYN, ET_CORE = 0, 1, 2, 3, 4
EM_X86_64 = 62
EM_BPF = 247
EM_SBPF = 263

# --- program headers --------------------------------------------------------------------------------
PT_NULL, PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_SHLIB, PT_PHDR, PT_TLS = range(8)
PT_GNU_EH_FRAME = 0x6474E550
PT_GNU_STACK = 0x6474E551
PF_X, PF_W, PF_R = 0x1, 0x2, 0x4

# --- section headers --------------------------------------------------------------------------------
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_HASH = 5
SHT_DYNAMIC = 6
SHT_NOTE = 7
SHT_NOBITS = 8
SHT_REL = 9
SHT_SHLIB = 10
SHT_DYNSYM = 11
SHT_INIT_ARRAY = 14
SHT_FINI_ARRAY = 15
SHT_PREINIT_ARRAY = 16
SHT_GROUP = 17
SHT_SYMTAB_SHNDX = 18
SHT_LLVM_ADDRSIG = 0x6FFF4C03
SHT_GNU_HASH = 0x6FFFFFF6

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_MERGE = 0x10
SHF_STRINGS = 0x20
SHF_INFO_LINK = 0x40
SHF_LINK_ORDER = 0x80
SHF_OS_NONCONFORMING = 0x100
SHF_GROUP = 0x200
SHF_TLS = 0x400
SHF_EXCLUDE = 0x8000_0000

# --- symbols ----------------------------------------------------------------------------------------
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE, STT_COMMON, STT_TLS = range(7)
STV_DEFAULT, STV_INTERNAL, STV_HIDDEN, STV_PROTECTED = range(4)

# --- relocations (BPF; Agave reads them through the x86-64 numbering, which coincides) ------------
R_BPF_NONE = 0
R_BPF_64_64 = 1  # lddw: S + A into the two imm halves
R_BPF_64_ABS64 = 2  # 8-byte data word: S + A
R_BPF_64_ABS32 = 3  # 4-byte data word: S + A
R_BPF_64_NODYLD32 = 4  # 4-byte data word (.BTF / debug info)
R_BPF_64_RELATIVE = 8  # dynamic: add MM_PROGRAM_START at load
R_BPF_64_32 = 10  # call imm: (S + A) / 8 - 1 in .o files; a syscall import in .so files
RELOCATION_NAMES = {
    R_BPF_NONE: "R_BPF_NONE",
    R_BPF_64_64: "R_BPF_64_64",
    R_BPF_64_ABS64: "R_BPF_64_ABS64",
    R_BPF_64_ABS32: "R_BPF_64_ABS32",
    R_BPF_64_NODYLD32: "R_BPF_64_NODYLD32",
    R_BPF_64_RELATIVE: "R_BPF_64_RELATIVE",
    R_BPF_64_32: "R_BPF_64_32",
}

# --- dynamic tags -----------------------------------------------------------------------------------
DT_NULL = 0
DT_NEEDED = 1
DT_PLTRELSZ = 2
DT_PLTGOT = 3
DT_HASH = 4
DT_STRTAB = 5
DT_SYMTAB = 6
DT_RELA = 7
DT_RELASZ = 8
DT_RELAENT = 9
DT_STRSZ = 10
DT_SYMENT = 11
DT_INIT = 12
DT_FINI = 13
DT_SONAME = 14
DT_RPATH = 15
DT_SYMBOLIC = 16
DT_REL = 17
DT_RELSZ = 18
DT_RELENT = 19
DT_PLTREL = 20
DT_DEBUG = 21
DT_TEXTREL = 22
DT_JMPREL = 23
DT_BIND_NOW = 24
DT_INIT_ARRAY = 25
DT_FINI_ARRAY = 26
DT_INIT_ARRAYSZ = 27
DT_FINI_ARRAYSZ = 28
DT_RUNPATH = 29
DT_FLAGS = 30
DT_PREINIT_ARRAY = 32
DT_PREINIT_ARRAYSZ = 33
DT_SYMTAB_SHNDX = 34
DT_NUM = 35  # sbpf keeps tags below this and ignores the rest
DT_GNU_HASH = 0x6FFFFEF5
DT_RELACOUNT = 0x6FFFFFF9
DT_RELCOUNT = 0x6FFFFFFA
DF_TEXTREL = 0x4

# --- layouts ----------------------------------------------------------------------------------------
Elf64_Ident = c.Struct(
    "ei_mag" / c.Bytes(4),
    "ei_class" / c.Int8ul,
    "ei_data" / c.Int8ul,
    "ei_version" / c.Int8ul,
    "ei_osabi" / c.Int8ul,
    "ei_abiversion" / c.Int8ul,
    "ei_pad" / c.Bytes(7),
)

Elf64_Ehdr = c.Struct(
    "e_ident" / Elf64_Ident,
    "e_type" / c.Int16ul,
    "e_machine" / c.Int16ul,
    "e_version" / c.Int32ul,
    "e_entry" / c.Int64ul,
    "e_phoff" / c.Int64ul,
    "e_shoff" / c.Int64ul,
    "e_flags" / c.Int32ul,
    "e_ehsize" / c.Int16ul,
    "e_phentsize" / c.Int16ul,
    "e_phnum" / c.Int16ul,
    "e_shentsize" / c.Int16ul,
    "e_shnum" / c.Int16ul,
    "e_shstrndx" / c.Int16ul,
)

Elf64_Phdr = c.Struct(
    "p_type" / c.Int32ul,
    "p_flags" / c.Int32ul,
    "p_offset" / c.Int64ul,
    "p_vaddr" / c.Int64ul,
    "p_paddr" / c.Int64ul,
    "p_filesz" / c.Int64ul,
    "p_memsz" / c.Int64ul,
    "p_align" / c.Int64ul,
)

Elf64_Shdr = c.Struct(
    "sh_name" / c.Int32ul,
    "sh_type" / c.Int32ul,
    "sh_flags" / c.Int64ul,
    "sh_addr" / c.Int64ul,
    "sh_offset" / c.Int64ul,
    "sh_size" / c.Int64ul,
    "sh_link" / c.Int32ul,
    "sh_info" / c.Int32ul,
    "sh_addralign" / c.Int64ul,
    "sh_entsize" / c.Int64ul,
)

Elf64_Sym = c.Struct(
    "st_name" / c.Int32ul,
    "st_info" / c.Int8ul,
    "st_other" / c.Int8ul,
    "st_shndx" / c.Int16ul,
    "st_value" / c.Int64ul,
    "st_size" / c.Int64ul,
)

Elf64_Rel = c.Struct(
    "r_offset" / c.Int64ul,
    "r_info" / c.Int64ul,
)

Elf64_Rela = c.Struct(
    "r_offset" / c.Int64ul,
    "r_info" / c.Int64ul,
    "r_addend" / c.Int64sl,
)

# d_tag is read unsigned, as sbpf does (tags >= DT_NUM, including the OS ranges, are skipped).
Elf64_Dyn = c.Struct(
    "d_tag" / c.Int64ul,
    "d_val" / c.Int64ul,
)

EHDR_SIZE = Elf64_Ehdr.sizeof()  # 64
PHDR_SIZE = Elf64_Phdr.sizeof()  # 56
SHDR_SIZE = Elf64_Shdr.sizeof()  # 64
SYM_SIZE = Elf64_Sym.sizeof()  # 24
REL_SIZE = Elf64_Rel.sizeof()  # 16
RELA_SIZE = Elf64_Rela.sizeof()  # 24
DYN_SIZE = Elf64_Dyn.sizeof()  # 16

_COMPILED: dict[int, c.Construct] = {}


def compiled(schema: c.Construct) -> c.Construct:
    """The compiled twin of a fixed-size schema (several times faster to parse)."""
    key = id(schema)
    hit = _COMPILED.get(key)
    if hit is None:
        hit = _COMPILED[key] = schema.compile()
    return hit


def parse_one(schema: c.Construct, data: bytes | bytearray | memoryview, offset: int = 0):
    """Parse one record at `offset`. The caller has checked that it lies inside `data`."""
    size = schema.sizeof()
    return compiled(schema).parse(bytes(data[offset:offset + size]))


def parse_table(schema: c.Construct, data: bytes | bytearray | memoryview, offset: int, count: int) -> list:
    """Parse `count` consecutive records starting at `offset` (bounds checked by the caller)."""
    size = schema.sizeof()
    one = compiled(schema)
    view = bytes(data[offset:offset + size * count])
    return [one.parse(view[i * size:(i + 1) * size]) for i in range(count)]


def build(schema: c.Construct, **fields) -> bytes:
    """Serialize one record; every field must be given."""
    return schema.build(fields)


# --- packed fields ----------------------------------------------------------------------------------
def st_bind(st_info: int) -> int:
    return st_info >> 4


def st_type(st_info: int) -> int:
    return st_info & 0xF


def st_info(bind: int, typ: int) -> int:
    return ((bind & 0xF) << 4) | (typ & 0xF)


def st_visibility(st_other: int) -> int:
    return st_other & 0x3


def r_sym(r_info: int) -> int:
    return (r_info >> 32) & 0xFFFF_FFFF


def r_type(r_info: int) -> int:
    return r_info & 0xFFFF_FFFF


def r_info(sym: int, typ: int) -> int:
    return ((sym & 0xFFFF_FFFF) << 32) | (typ & 0xFFFF_FFFF)


# --- string tables ----------------------------------------------------------------------------------
class StringTable:
    """An ELF string table under construction: a leading NUL, then NUL-terminated names.

    `add` returns each name's offset; equal names are stored once (deterministic: first come).
    """

    def __init__(self):
        self._data = bytearray(b"\0")
        self._index: dict[bytes, int] = {b"": 0}

    def add(self, name: str | bytes) -> int:
        raw = name.encode() if isinstance(name, str) else bytes(name)
        if b"\0" in raw:
            raise ValueError(f"name contains NUL: {raw!r}")
        off = self._index.get(raw)
        if off is None:
            off = self._index[raw] = len(self._data)
            self._data += raw + b"\0"
        return off

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def __len__(self) -> int:
        return len(self._data)


def cstring(data: bytes | bytearray, offset: int, limit: int | None = None) -> bytes | None:
    """The NUL-terminated string at `offset`, or None if there is no NUL within `limit` bytes."""
    if offset < 0 or offset >= len(data):
        return None
    end = len(data) if limit is None else min(len(data), offset + limit)
    nul = data.find(b"\0", offset, end)
    return None if nul < 0 else bytes(data[offset:nul])


__all__ = [n for n in dir() if n.isupper() or n.startswith("Elf64_")] + [
    "compiled", "parse_one", "parse_table", "build", "st_bind", "st_type", "st_info",
    "st_visibility", "r_sym", "r_type", "r_info", "StringTable", "cstring",
]
