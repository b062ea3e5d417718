"""The SBPF program loader: ELF bytes -> a relocated, verified `Executable`, as Agave loads them.

This follows sbpf 0.21 (`Executable::load`, the one in Agave 4.1 / solders 0.29) with Agave's
configuration: `optimize_rodata = false`, `enable_symbol_and_section_labels = false`,
`reject_broken_elfs` only when deploying, SBPF v0..v3 enabled.

* The version comes from `e_flags` (0..4 = v0..v4) and is checked against the enabled range
  *before* anything else is parsed.
* v0, v1 and v2 go through the lenient loader: sbpf's ELF parser (`elf_parser/mod.rs`), then
  `validate`, pc-relative call fixups, `.rel.dyn` relocations, the entrypoint, and the read-only
  image (one buffer from address 0 to the end of the highest of .text/.rodata/.data.rel.ro/
  .eh_frame, mapped at MM_PROGRAM_START; the other bytes are zero).
* v3 goes through the strict loader (two PT_LOADs: PF_R rodata at vaddr 0, PF_X bytecode at 4 GiB;
  sections and relocations are ignored).

Every malformed input raises `ElfError` whose `kind` is the sbpf `ElfError` variant and whose text
is its Display string (parser errors are nested as in sbpf: `FailedToParse("invalid file header")`,
`OutOfBounds` -> `ValueOutOfBounds`, `InvalidProgramHeader` -> `InvalidProgramHeader`). The checks
run in sbpf's order, so the *first* error reported is the one Agave reports. Bytecode problems are
left to the verifier (`VerifierError`), which runs last.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import construct

from ..vm.errors import ElfError
from ..vm.executable import (
    ENTRYPOINT_KEY,
    EmptySyscalls,
    Executable,
    FunctionRegistry,
    SyscallLookup,
    hash_pc,
    hash_symbol_name,
)
from ..vm.isa import INSN_SIZE, MM_PROGRAM_START, MM_RODATA_START, MM_REGION_SIZE, MM_STACK_START, SBPFVersion
from . import schema as S

# ------------------------------------------------------------------------------------------------
# Message tables (sbpf 0.21 `ElfError` / `ElfParserError` Display strings). Keep them here: this
# is the one place to adjust wording.
# ------------------------------------------------------------------------------------------------
ELF_ERROR_MESSAGES: dict[str, str] = {
    "FailedToParse": "Failed to parse ELF file: {0}",
    "EntrypointOutOfBounds": "Entrypoint out of bounds",
    "InvalidEntrypoint": "Invalid entrypoint",
    "FailedToGetSection": "Failed to get section {0}",
    "UnresolvedSymbol": "Unresolved symbol ({0}) at instruction #{1} (ELF file offset {2:#x})",
    "SectionNotFound": "Section not found: {0}",
    "RelativeJumpOutOfBounds": "Relative jump out of bounds at instruction #{0}",
    "SymbolHashCollision": "Symbol hash collision {0:#x}",
    "WrongEndianess": "Incompatible ELF: wrong endianess",
    "WrongAbi": "Incompatible ELF: wrong ABI",
    "WrongMachine": "Incompatible ELF: wrong machine",
    "WrongClass": "Incompatible ELF: wrong class",
    "NotOneTextSection": "Multiple or no text sections, consider removing llc option: -function-sections",
    "WritableSectionNotSupported": "Found writable section ({0}) in ELF, read-write data not supported",
    "AddressOutsideLoadableSection": "Relocation failed, no loadable section contains virtual address {0:#x}",
    "InvalidVirtualAddress": "Relocation failed, invalid referenced virtual address {0:#x}",
    "UnknownRelocation": "Relocation failed, unknown type {0}",
    "FailedToReadRelocationInfo": "Failed to read relocation info",
    "WrongType": "Incompatible ELF: wrong type",
    "UnknownSymbol": "Unknown symbol with index {0}",
    "ValueOutOfBounds": "Offset or value is out of bounds",
    "UnsupportedSBPFVersion": "Detected sbpf_version required by the executable which are not enabled",
    "InvalidProgramHeader": "Invalid ELF program header",
}

PARSER_ERROR_MESSAGES: dict[str, str] = {
    "InvalidFileHeader": "invalid file header",
    "InvalidProgramHeader": "invalid program header",
    "InvalidSectionHeader": "invalid section header",
    "InvalidString": "invalid string",
    "StringTooLong": "Section or symbol name `{0}` is longer than `{1}` bytes",
    "OutOfBounds": "value out of bounds",
    "InvalidSize": "invalid size",
    "Overlap": "values overlap",
    "SectionNotInOrder": "sections not in ascending order",
    "NoSectionNameStringTable": "no section name string table found",
    "InvalidDynamicSectionTable": "invalid dynamic section table",
    "InvalidRelocationTable": "invalid relocation table",
    "InvalidAlignment": "invalid alignment",
    "NoStringTable": "no string table",
    "NoDynamicStringTable": "no dynamic string table",
}

SECTION_NAME_LENGTH_MAXIMUM = 16
SYMBOL_NAME_LENGTH_MAXIMUM = 64
CALL_IMM = 0x85
_U64 = (1 << 64) - 1
_RO_SECTION_NAMES = (b".text", b".rodata", b".data.rel.ro", b".eh_frame")
_DEFAULT_VERSIONS = frozenset({SBPFVersion.V0, SBPFVersion.V1, SBPFVersion.V2, SBPFVersion.V3})

# Turned off by the tests to prove that no input reaches a Python exception the loader did not
# mean to raise. On, any such slip still surfaces as an ElfError instead of crashing the caller.
_SAFETY_NET = True


def elf_error(kind: str, *args) -> ElfError:
    """An `ElfError` of sbpf variant `kind` with its Display text."""
    return ElfError(ELF_ERROR_MESSAGES[kind].format(*args), kind)


class _ParserError(Exception):
    """sbpf's `ElfParserError` (internal); converted to `ElfError` by `_convert`."""

    def __init__(self, variant: str, *args):
        self.variant, self.args_ = variant, args
        super().__init__(PARSER_ERROR_MESSAGES[variant].format(*args))


def _convert(err: _ParserError) -> ElfError:
    """`impl From<ElfParserError> for ElfError`."""
    if err.variant == "InvalidProgramHeader":
        return elf_error("InvalidProgramHeader")
    if err.variant == "OutOfBounds":
        return elf_error("ValueOutOfBounds")
    return elf_error("FailedToParse", str(err))


def _lossy(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _checked_add(a: int, b: int) -> int:
    r = a + b
    if r > _U64:
        raise _ParserError("OutOfBounds")
    return r


def _sat_add(a: int, b: int) -> int:
    return min(a + b, _U64)


def _no_overlap(a: tuple[int, int], b: tuple[int, int]) -> None:
    if not (a[1] <= b[0] or b[1] <= a[0]):
        raise _ParserError("Overlap")


@dataclass
class LoaderConfig:
    """The loader settings Agave varies. `reject_broken_elfs=None` means "when deploying"."""

    enabled_sbpf_versions: frozenset = field(default_factory=lambda: _DEFAULT_VERSIONS)
    reject_broken_elfs: bool | None = None


# ------------------------------------------------------------------------------------------------
# sbpf's ELF parser (elf_parser/mod.rs)
# ------------------------------------------------------------------------------------------------
class Elf64:
    """A parsed ELF64 file with sbpf's parser checks. Raises `_ParserError`."""

    def __init__(self, data: bytes):
        self.data = data
        n = len(data)
        if n < S.EHDR_SIZE:
            raise _ParserError("OutOfBounds")
        h = self.header = S.parse_one(S.Elf64_Ehdr, data)
        ident = h.e_ident
        if (
            ident.ei_mag != S.ELFMAG
            or ident.ei_class != S.ELFCLASS64
            or ident.ei_data != S.ELFDATA2LSB
            or ident.ei_version != S.EV_CURRENT
            or h.e_version != S.EV_CURRENT
            or h.e_ehsize != S.EHDR_SIZE
            or h.e_phentsize != S.PHDR_SIZE
            or h.e_shentsize != S.SHDR_SIZE
            or h.e_shstrndx >= h.e_shnum
        ):
            raise _ParserError("InvalidFileHeader")
        fh_range = (0, S.EHDR_SIZE)
        ph_range = (h.e_phoff, _checked_add(h.e_phoff, S.PHDR_SIZE * h.e_phnum))
        _no_overlap(fh_range, ph_range)
        self.phdrs = self.slice_table(S.Elf64_Phdr, *ph_range)
        sh_range = (h.e_shoff, _checked_add(h.e_shoff, S.SHDR_SIZE * h.e_shnum))
        _no_overlap(fh_range, sh_range)
        _no_overlap(ph_range, sh_range)
        self.shdrs = self.slice_table(S.Elf64_Shdr, *sh_range)
        if not self.shdrs or self.shdrs[0].sh_type != S.SHT_NULL:
            raise _ParserError("InvalidSectionHeader")

        vaddr = 0
        for ph in self.phdrs:
            if ph.p_type != S.PT_LOAD:
                continue
            if ph.p_vaddr < vaddr:
                raise _ParserError("InvalidProgramHeader")
            if _checked_add(ph.p_offset, ph.p_filesz) > n:
                raise _ParserError("OutOfBounds")
            vaddr = ph.p_vaddr

        offset = 0
        for sh in self.shdrs:
            if sh.sh_type == S.SHT_NOBITS:
                continue
            rng = (sh.sh_offset, _checked_add(sh.sh_offset, sh.sh_size))
            _no_overlap(rng, fh_range)
            _no_overlap(rng, ph_range)
            _no_overlap(rng, sh_range)
            if rng[0] < offset:
                raise _ParserError("SectionNotInOrder")
            offset = rng[1]
            if offset > n:
                raise _ParserError("OutOfBounds")

        self.shstrtab = self.shdrs[h.e_shstrndx] if h.e_shstrndx != S.SHN_UNDEF else None
        self.symtab = self.strtab = self.dynstr = None
        self.names: list[bytes] = []
        self._parse_sections()
        self.dynamic = [0] * S.DT_NUM
        self.relocations = None  # list of Elf64_Rel or None
        self.dynsym = None  # list of Elf64_Sym or None
        self._parse_dynamic()

    # -- generic slicing --------------------------------------------------------------------------
    def slice_table(self, schema, start: int, end: int) -> list:
        """`Elf64::slice_from_bytes`: size, bounds and 8-byte alignment checks, then parse."""
        size = schema.sizeof()
        length = max(0, end - start)
        if length % size:
            raise _ParserError("InvalidSize")
        if start > end or end > len(self.data):
            raise _ParserError("OutOfBounds")
        if start % 8:
            raise _ParserError("InvalidAlignment")
        return S.parse_table(schema, self.data, start, length // size)

    def section_slice(self, schema, sh) -> list:
        return self.slice_table(schema, sh.sh_offset, _checked_add(sh.sh_offset, sh.sh_size))

    def get_string(self, sh, offset_in_section: int, maximum: int) -> bytes:
        """`Elf64::get_string_in_section`."""
        if sh.sh_type != S.SHT_STRTAB:
            raise _ParserError("InvalidSectionHeader")
        start = _checked_add(sh.sh_offset, offset_in_section)
        end = min(_checked_add(sh.sh_offset, sh.sh_size), _checked_add(start, maximum))
        if start > end or end > len(self.data):
            raise _ParserError("OutOfBounds")
        chunk = self.data[start:end]
        nul = chunk.find(b"\0")
        if nul < 0:
            raise _ParserError("StringTooLong", _lossy(chunk), maximum)
        return chunk[:nul]

    # -- sections and dynamic table ---------------------------------------------------------------
    def _parse_sections(self) -> None:
        if self.shstrtab is None:
            raise _ParserError("NoSectionNameStringTable")
        for sh in self.shdrs:
            name = self.get_string(self.shstrtab, sh.sh_name, SECTION_NAME_LENGTH_MAXIMUM)
            self.names.append(name)
            attr = {b".symtab": "symtab", b".strtab": "strtab", b".dynstr": "dynstr"}.get(name)
            if attr is not None:
                if getattr(self, attr) is not None:
                    raise _ParserError("InvalidSectionHeader")
                setattr(self, attr, sh)

    def _parse_dynamic(self) -> None:
        table = None
        dyn_ph = next((p for p in self.phdrs if p.p_type == S.PT_DYNAMIC), None)
        if dyn_ph is not None:
            try:
                table = self._dyn_entries(dyn_ph.p_offset, _checked_add(dyn_ph.p_offset, dyn_ph.p_filesz))
            except _ParserError:
                table = None
        if table is None:
            dyn_sh = next((s for s in self.shdrs if s.sh_type == S.SHT_DYNAMIC), None)
            if dyn_sh is not None:
                try:
                    table = self._dyn_entries(dyn_sh.sh_offset, _checked_add(dyn_sh.sh_offset, dyn_sh.sh_size))
                except _ParserError:
                    raise _ParserError("InvalidDynamicSectionTable") from None
        if table is None:
            return  # a static file
        for tag, val in table:
            if tag == S.DT_NULL:
                break
            if tag >= S.DT_NUM:
                continue
            self.dynamic[tag] = val
        self.relocations = self._parse_dynamic_relocations()
        self.dynsym = self._parse_dynamic_symbol_table()

    def _dyn_entries(self, start: int, end: int):
        """Bounds-check like slice_from_bytes, then yield (d_tag, d_val) lazily."""
        length = max(0, end - start)
        if length % S.DYN_SIZE:
            raise _ParserError("InvalidSize")
        if start > end or end > len(self.data):
            raise _ParserError("OutOfBounds")
        if start % 8:
            raise _ParserError("InvalidAlignment")
        return struct.iter_unpack("<QQ", self.data[start:end])

    def program_header_for_vaddr(self, vaddr: int):
        for ph in self.phdrs:
            end = _checked_add(ph.p_vaddr, ph.p_memsz)  # overflow is an error even if vaddr is below
            if ph.p_vaddr <= vaddr < end:
                return ph
        return None

    def _parse_dynamic_relocations(self):
        vaddr = self.dynamic[S.DT_REL]
        if vaddr == 0:
            return None
        if self.dynamic[S.DT_RELENT] != S.REL_SIZE:
            raise _ParserError("InvalidDynamicSectionTable")
        size = self.dynamic[S.DT_RELSZ]
        if size == 0:
            raise _ParserError("InvalidDynamicSectionTable")
        ph = self.program_header_for_vaddr(vaddr)
        if ph is not None:
            offset = _checked_add(vaddr - ph.p_vaddr, ph.p_offset)
        else:
            sh = next((s for s in self.shdrs if s.sh_addr == vaddr), None)
            if sh is None:
                raise _ParserError("InvalidDynamicSectionTable")
            offset = sh.sh_offset
        end = _checked_add(offset, size)
        try:
            return self.slice_table(S.Elf64_Rel, offset, end)
        except _ParserError:
            raise _ParserError("InvalidDynamicSectionTable") from None

    def _parse_dynamic_symbol_table(self):
        vaddr = self.dynamic[S.DT_SYMTAB]
        if vaddr == 0:
            return None
        sh = next((s for s in self.shdrs if s.sh_addr == vaddr), None)
        if sh is None:
            raise _ParserError("InvalidDynamicSectionTable")
        return self.symbol_table_of_section(sh)

    def symbol_table_of_section(self, sh) -> list:
        if sh.sh_type not in (S.SHT_SYMTAB, S.SHT_DYNSYM):
            raise _ParserError("InvalidSectionHeader")
        return self.section_slice(S.Elf64_Sym, sh)

    # -- names ----------------------------------------------------------------------------------
    def dynamic_symbol_name(self, st_name: int) -> bytes:
        if self.dynstr is None:
            raise _ParserError("NoDynamicStringTable")
        return self.get_string(self.dynstr, st_name, SYMBOL_NAME_LENGTH_MAXIMUM)

    def symbol_name(self, st_name: int) -> bytes:
        if self.strtab is None:
            raise _ParserError("NoStringTable")
        return self.get_string(self.strtab, st_name, SYMBOL_NAME_LENGTH_MAXIMUM)

    def get_section(self, name: bytes):
        for sh, sh_name in zip(self.shdrs, self.names):
            if sh_name == name:
                return sh
        raise elf_error("SectionNotFound", _lossy(name))


def _file_range(sh) -> tuple[int, int]:
    """`Elf64Shdr::file_range().unwrap_or_default()`: empty for SHT_NOBITS."""
    if sh.sh_type == S.SHT_NOBITS:
        return (0, 0)
    return (sh.sh_offset, _sat_add(sh.sh_offset, sh.sh_size))


def _vm_contains(sh, addr: int) -> bool:
    return sh.sh_addr <= addr < _sat_add(sh.sh_addr, sh.sh_size)


# ------------------------------------------------------------------------------------------------
# The loader
# ------------------------------------------------------------------------------------------------
def get_sbpf_version(data: bytes) -> SBPFVersion | None:
    """The version in `e_flags` (None = sbpf's `Reserved`, never enabled)."""
    if len(data) < 0x34:
        raise elf_error("ValueOutOfBounds")
    e_flags = int.from_bytes(data[0x30:0x34], "little")
    return SBPFVersion(e_flags) if e_flags <= 4 else None


def load_elf(data: bytes | bytearray | memoryview, syscalls: SyscallLookup | None = None, *,
             deploy: bool = False, config=None) -> Executable:
    """Load, relocate and verify an SBPF program as Agave does.

    `syscalls` is the loader's syscall registry (used to resolve imports and detect hash
    collisions). `deploy=True` turns on `reject_broken_elfs` (unresolved syscalls and layout
    problems are errors, as at deployment); otherwise an unknown syscall stays in the code and
    fails when executed. `config` may give `enabled_sbpf_versions` and `reject_broken_elfs`.

    Raises `ElfError` for any malformed ELF and `VerifierError` for invalid bytecode.
    """
    from ..vm.verifier import verify

    data = bytes(data)
    syscalls = syscalls if syscalls is not None else EmptySyscalls()
    enabled = getattr(config, "enabled_sbpf_versions", None)
    enabled = _DEFAULT_VERSIONS if enabled is None else frozenset(SBPFVersion(v) for v in enabled)
    reject = getattr(config, "reject_broken_elfs", None)
    reject_broken = deploy if reject is None else bool(reject)
    try:
        exe = _load(data, syscalls, reject_broken, enabled)
    except ElfError:
        raise
    except _ParserError as err:
        raise _convert(err) from None
    except (IndexError, KeyError, ValueError, TypeError, OverflowError, AttributeError,
            struct.error, construct.ConstructError) as err:  # pragma: no cover - safety net
        if not _SAFETY_NET:
            raise
        raise elf_error("FailedToParse", f"{type(err).__name__}: {err}") from err
    verify(exe)
    return exe


def _load(data: bytes, syscalls: SyscallLookup, reject_broken: bool, enabled: frozenset) -> Executable:
    version = get_sbpf_version(data)
    if version is None or version not in enabled:
        raise elf_error("UnsupportedSBPFVersion")
    if version.enable_stricter_elf_headers:
        return _load_strict(data, syscalls, version)
    return _load_lenient(data, syscalls, version, reject_broken)


class _Registry:
    """sbpf's FunctionRegistry with `register_function_hashed_legacy` (labels off)."""

    def __init__(self, syscalls: SyscallLookup):
        self.syscalls = syscalls
        self.by_key: dict[int, int] = {}

    def register_hashed(self, name: bytes, pc: int) -> int:
        key = hash_symbol_name(b"entrypoint") if name == b"entrypoint" else hash_pc(pc)
        if self.syscalls.lookup(key) is not None:
            raise elf_error("SymbolHashCollision", key)
        old = self.by_key.get(key)
        if old is None:
            self.by_key[key] = pc
        elif old != pc:
            raise elf_error("SymbolHashCollision", key)
        return key


def _read_u32(buf: bytearray, off: int) -> int:
    if off < 0 or off + 4 > len(buf):
        raise elf_error("ValueOutOfBounds")
    return int.from_bytes(buf[off:off + 4], "little")


def _write_u32(buf: bytearray, off: int, value: int) -> None:
    if off < 0 or off + 4 > len(buf):
        raise elf_error("ValueOutOfBounds")
    buf[off:off + 4] = (value & 0xFFFF_FFFF).to_bytes(4, "little")


def _load_lenient(data: bytes, syscalls: SyscallLookup, version: SBPFVersion, reject_broken: bool) -> Executable:
    elf = Elf64(data)  # parses the unrelocated bytes
    buf = bytearray(data)  # relocated in place
    _validate(elf, data)

    text = elf.get_section(b".text")
    text_vaddr = _sat_add(text.sh_addr, MM_REGION_SIZE)
    if (reject_broken and text.sh_addr != text.sh_offset) or text_vaddr > MM_STACK_START:
        raise elf_error("ValueOutOfBounds")

    registry = _Registry(syscalls)
    syscall_names: dict[int, str] = {}
    _relocate(elf, buf, text, registry, syscalls, reject_broken, syscall_names)

    # entrypoint
    offset = max(0, elf.header.e_entry - text.sh_addr)
    if offset % INSN_SIZE:
        raise elf_error("InvalidEntrypoint")
    entry_pc = offset // INSN_SIZE
    registry.by_key.pop(ENTRYPOINT_KEY, None)
    registry.register_hashed(b"entrypoint", entry_pc)

    image = _parse_ro_sections(elf, buf, reject_broken)
    t0, t1 = _file_range(text)
    text_bytes = image[text.sh_addr:text.sh_addr + (t1 - t0)]

    symbols = _collect_symbols(elf, text)
    symbols.setdefault(entry_pc, "entrypoint")
    functions = FunctionRegistry()
    for key, pc in registry.by_key.items():
        name = "entrypoint" if key == ENTRYPOINT_KEY else symbols.get(pc, f"function_{pc}")
        functions.register(key, name, pc)
    return Executable(
        version=version, text=text_bytes, entry_pc=entry_pc, text_vaddr=text_vaddr,
        ro_region=(MM_PROGRAM_START, image), functions=functions, syscalls=syscalls,
        symbols=symbols, syscall_names=syscall_names,
    )


def _validate(elf: Elf64, data: bytes) -> None:
    """`Executable::validate`."""
    h = elf.header
    if h.e_ident.ei_class != S.ELFCLASS64:
        raise elf_error("WrongClass")
    if h.e_ident.ei_data != S.ELFDATA2LSB:
        raise elf_error("WrongEndianess")
    if h.e_ident.ei_osabi != S.ELFOSABI_NONE:
        raise elf_error("WrongAbi")
    if h.e_machine not in (S.EM_BPF, S.EM_SBPF):
        raise elf_error("WrongMachine")
    if h.e_type != S.ET_DYN:
        raise elf_error("WrongType")
    if sum(1 for name in elf.names if name == b".text") != 1:
        raise elf_error("NotOneTextSection")
    for sh, name in zip(elf.shdrs, elf.names):
        writable = sh.sh_flags & (S.SHF_ALLOC | S.SHF_WRITE) == S.SHF_ALLOC | S.SHF_WRITE
        if name.startswith(b".bss") or (writable and name.startswith(b".data") and not name.startswith(b".data.rel")):
            raise elf_error("WritableSectionNotSupported", _lossy(name))
    for sh in elf.shdrs:
        end = sh.sh_offset + sh.sh_size
        if end > _U64 or end > len(data):
            raise elf_error("ValueOutOfBounds")
    text = elf.get_section(b".text")
    if not _vm_contains(text, h.e_entry):
        raise elf_error("EntrypointOutOfBounds")


def _relocate(elf: Elf64, buf: bytearray, text, registry: _Registry, syscalls: SyscallLookup,
              reject_broken: bool, syscall_names: dict[int, str]) -> None:
    """`Executable::relocate`: pc-relative call fixups, then the dynamic relocations."""
    t0, t1 = _file_range(text)
    if t1 > len(buf):
        raise elf_error("ValueOutOfBounds")
    count = (t1 - t0) // INSN_SIZE
    for i in range(count):
        at = t0 + i * INSN_SIZE
        if buf[at] != CALL_IMM:
            continue
        imm = int.from_bytes(buf[at + 4:at + 8], "little", signed=True)
        if imm == -1:
            continue
        target = i + 1 + imm
        if target < 0 or target >= count:
            raise elf_error("RelativeJumpOutOfBounds", i)
        key = registry.register_hashed(b"", target)
        buf[at + 4:at + 8] = key.to_bytes(4, "little")

    syscall_cache: dict[int, int] = {}
    for rel in elf.relocations or ():
        r_offset = rel.r_offset
        r_type = S.r_type(rel.r_info)
        r_sym = S.r_sym(rel.r_info)
        imm_offset = r_offset + 4
        if r_type == S.R_BPF_64_64:
            refd = _read_u32(buf, imm_offset)
            if elf.dynsym is None or r_sym >= len(elf.dynsym):
                raise elf_error("UnknownSymbol", r_sym)
            addr = min(elf.dynsym[r_sym].st_value + refd, _U64)
            if addr < MM_REGION_SIZE:
                addr += MM_REGION_SIZE
            _write_u32(buf, imm_offset, addr)
            _write_u32(buf, imm_offset + INSN_SIZE, addr >> 32)
        elif r_type == S.R_BPF_64_RELATIVE:
            if t0 <= r_offset < t1:
                low = _read_u32(buf, imm_offset)
                high = _read_u32(buf, imm_offset + INSN_SIZE)
                addr = (high << 32) | low
                if addr == 0:
                    raise elf_error("InvalidVirtualAddress", addr)
                if addr < MM_REGION_SIZE:
                    addr += MM_REGION_SIZE
                _write_u32(buf, imm_offset, addr)
                _write_u32(buf, imm_offset + INSN_SIZE, addr >> 32)
            else:
                # Older toolchains stored the address in the upper half of the 8-byte slot.
                addr = MM_REGION_SIZE + _read_u32(buf, imm_offset)
                if r_offset + 8 > len(buf):
                    raise elf_error("ValueOutOfBounds")
                buf[r_offset:r_offset + 8] = addr.to_bytes(8, "little")
        elif r_type == S.R_BPF_64_32:
            if elf.dynsym is None or r_sym >= len(elf.dynsym):
                raise elf_error("UnknownSymbol", r_sym)
            sym = elf.dynsym[r_sym]
            try:
                name = elf.dynamic_symbol_name(sym.st_name)
            except _ParserError:
                raise elf_error("UnknownSymbol", sym.st_name) from None
            if S.st_type(sym.st_info) == S.STT_FUNC and sym.st_value != 0:
                if not _vm_contains(text, sym.st_value):
                    raise elf_error("ValueOutOfBounds")
                target = (sym.st_value - text.sh_addr) // INSN_SIZE
                key = registry.register_hashed(name, target)
            else:
                key = syscall_cache.get(sym.st_name)
                if key is None:
                    key = syscall_cache[sym.st_name] = hash_symbol_name(name)
                if reject_broken and syscalls.lookup(key) is None:
                    raise elf_error("UnresolvedSymbol", _lossy(name), r_offset // INSN_SIZE, r_offset)
                syscall_names[key] = _lossy(name)
            _write_u32(buf, imm_offset, key)
        else:
            raise elf_error("UnknownRelocation", r_type)


def _parse_ro_sections(elf: Elf64, buf: bytearray, reject_broken: bool) -> bytes:
    """`Executable::parse_ro_sections` with optimize_rodata = false: one zero-filled image."""
    lowest, highest, fill = _U64, 0, 0
    invalid_offsets = False
    slices = []
    for sh, name in zip(elf.shdrs, elf.names):
        if name not in _RO_SECTION_NAMES:
            continue
        addr = sh.sh_addr
        if addr != sh.sh_offset:
            invalid_offsets = True
        if (reject_broken and invalid_offsets) or _sat_add(addr, MM_REGION_SIZE) > MM_STACK_START:
            raise elf_error("ValueOutOfBounds")
        f0, f1 = _file_range(sh)
        if f1 > len(buf) or f0 > f1:
            raise elf_error("ValueOutOfBounds")
        chunk = bytes(buf[f0:f1])
        lowest = min(lowest, addr)
        highest = max(highest, _sat_add(addr, len(chunk)))
        fill = _sat_add(fill, len(chunk))
        slices.append((addr, chunk))
    if reject_broken and _sat_add(lowest, fill) > highest:
        raise elf_error("ValueOutOfBounds")
    if highest > len(buf):
        raise elf_error("ValueOutOfBounds")
    image = bytearray(highest)
    for addr, chunk in slices:
        image[addr:addr + len(chunk)] = chunk
    return bytes(image)


def _collect_symbols(elf: Elf64, text) -> dict[int, str]:
    """pc -> name of the function symbols in .symtab and .dynsym (best effort, for the disassembler)."""
    symbols: dict[int, str] = {}
    tables = []
    if elf.symtab is not None:
        try:
            tables.append((elf.symbol_table_of_section(elf.symtab), elf.symbol_name))
        except _ParserError:
            pass
    if elf.dynsym is not None:
        tables.append((elf.dynsym, elf.dynamic_symbol_name))
    for table, namer in tables:
        for sym in table:
            if S.st_type(sym.st_info) != S.STT_FUNC or not _vm_contains(text, sym.st_value):
                continue
            try:
                name = namer(sym.st_name)
            except _ParserError:
                continue
            if name:
                symbols.setdefault((sym.st_value - text.sh_addr) // INSN_SIZE, _lossy(name))
    return symbols


# ------------------------------------------------------------------------------------------------
# SBPF v3: the strict loader
# ------------------------------------------------------------------------------------------------
def _load_strict(data: bytes, syscalls: SyscallLookup, version: SBPFVersion) -> Executable:
    """`Executable::load_with_strict_parser` (labels off): two PT_LOADs, no relocation."""
    n = len(data)
    if n < S.EHDR_SIZE:
        raise _ParserError("OutOfBounds")
    h = S.parse_one(S.Elf64_Ehdr, data)
    ident = h.e_ident
    ph_end = _sat_add(S.EHDR_SIZE, S.PHDR_SIZE * h.e_phnum)
    if (
        ident.ei_mag != S.ELFMAG
        or ident.ei_class != S.ELFCLASS64
        or ident.ei_data != S.ELFDATA2LSB
        or ident.ei_version != S.EV_CURRENT
        or ident.ei_osabi != S.ELFOSABI_NONE
        or ident.ei_abiversion != 0
        or ident.ei_pad != bytes(7)
        or h.e_machine != S.EM_BPF
        or h.e_version != S.EV_CURRENT
        or h.e_phoff != S.EHDR_SIZE
        or h.e_ehsize != S.EHDR_SIZE
        or h.e_phentsize != S.PHDR_SIZE
        or h.e_phnum == 0
        or ph_end > n
    ):
        raise _ParserError("InvalidFileHeader")
    phdrs = S.parse_table(S.Elf64_Phdr, data, S.EHDR_SIZE, h.e_phnum)
    expected = [(S.PF_R, MM_RODATA_START), (S.PF_X, MM_PROGRAM_START)]
    skip_rodata = phdrs[0].p_flags != S.PF_R
    if skip_rodata:
        expected = expected[1:]
    elif h.e_phnum < 2:
        raise _ParserError("InvalidFileHeader")
    expected_offset = ph_end
    for ph, (flags, vaddr) in zip(phdrs, expected):
        if (
            ph.p_type != S.PT_LOAD
            or ph.p_flags != flags
            or ph.p_offset != expected_offset
            or ph.p_offset >= n
            or ph.p_offset % INSN_SIZE
            or ph.p_vaddr != vaddr
            or ph.p_paddr != vaddr
            or ph.p_filesz != ph.p_memsz
            or ph.p_filesz > max(0, n - ph.p_offset)
            or ph.p_filesz % INSN_SIZE
            or ph.p_memsz >= MM_REGION_SIZE
        ):
            raise _ParserError("InvalidProgramHeader")
        expected_offset = _sat_add(expected_offset, ph.p_filesz)
    if skip_rodata:
        ro = b""
        code = phdrs[0]
    else:
        ro = data[phdrs[0].p_offset:phdrs[0].p_offset + phdrs[0].p_filesz]
        code = phdrs[1]
    text = data[code.p_offset:code.p_offset + code.p_filesz]
    last = _sat_add(h.e_entry, INSN_SIZE) - 1
    if not (code.p_vaddr <= last < _sat_add(code.p_vaddr, code.p_memsz)) or h.e_entry % INSN_SIZE:
        raise _ParserError("InvalidFileHeader")
    entry_pc = max(0, h.e_entry - code.p_vaddr) // INSN_SIZE
    functions = FunctionRegistry()
    functions.register(ENTRYPOINT_KEY, "entrypoint", entry_pc)
    symbols = _strict_symbols(data, code)
    symbols.setdefault(entry_pc, "entrypoint")
    return Executable(
        version=version, text=text, entry_pc=entry_pc, text_vaddr=code.p_vaddr,
        ro_region=(MM_RODATA_START, ro), functions=functions, syscalls=syscalls, symbols=symbols,
    )


def _strict_symbols(data: bytes, code) -> dict[int, str]:
    """Function names from .symtab of a v3 file, if its section headers are intact (best effort)."""
    try:
        h = S.parse_one(S.Elf64_Ehdr, data)
        if h.e_shnum == 0 or h.e_shentsize != S.SHDR_SIZE or h.e_shoff + h.e_shnum * S.SHDR_SIZE > len(data):
            return {}
        shdrs = S.parse_table(S.Elf64_Shdr, data, h.e_shoff, h.e_shnum)
        if h.e_shstrndx >= len(shdrs):
            return {}
        shstr = shdrs[h.e_shstrndx]
        names = [S.cstring(data[shstr.sh_offset:shstr.sh_offset + shstr.sh_size], sh.sh_name) for sh in shdrs]
        by_name = {nm: sh for nm, sh in zip(names, shdrs) if nm}
        symtab, strtab = by_name.get(b".symtab"), by_name.get(b".strtab")
        if symtab is None or strtab is None or symtab.sh_offset + symtab.sh_size > len(data):
            return {}
        strings = data[strtab.sh_offset:strtab.sh_offset + strtab.sh_size]
        out: dict[int, str] = {}
        for sym in S.parse_table(S.Elf64_Sym, data, symtab.sh_offset, symtab.sh_size // S.SYM_SIZE):
            if S.st_type(sym.st_info) != S.STT_FUNC:
                continue
            if not code.p_vaddr <= sym.st_value < code.p_vaddr + code.p_memsz:
                continue
            name = S.cstring(strings, sym.st_name)
            if name:
                out.setdefault((sym.st_value - code.p_vaddr) // INSN_SIZE, _lossy(name))
        return out
    except Exception:  # noqa: BLE001 - names are cosmetic; never fail a load over them
        return {}
