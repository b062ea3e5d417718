"""Write a linked program as an SBPF shared object that Agave loads and deploys.

`write_shared_object(LinkImage(...))` lays the program out the way ld.lld does with sbpf's
`elf_sbpfv0.ld` script (see agave-facts.md, "What the v0 loader needs from a linked .so"):

    ELF header | program headers: PT_LOAD R+X .text, PT_LOAD R .rodata+.data.rel.ro (if any),
               |                  PT_LOAD R .dynsym..rel.dyn, PT_DYNAMIC .dynamic
    .text  .rodata  .data.rel.ro  .dynamic  .dynsym  .dynstr  .rel.dyn      (sh_addr == sh_offset)
    .symtab  .strtab  .shstrtab  section header table                     (not loaded)

Relocations the linker hands over (`Reloc`):

* ``addr``    lddw in .text whose imm pair holds an offset into `target_section`: the writer
              stores the section's address + offset (+ addend) and emits R_BPF_64_RELATIVE (the
              loader adds MM_PROGRAM_START).
* ``syscall`` call slot in .text: imm = -1 and an R_BPF_64_32 against an undefined .dynsym symbol.
* ``ptr``     8-byte slot in .data.rel.ro (or .rodata) pointing at `target_section` + addend: the
              writer stores ``vaddr << 32`` (the loader reads the upper half) and emits
              R_BPF_64_RELATIVE.

Internal calls are already pc-relative in the text (the v0 loader keys every `call imm != -1`).
With ``e_flags == 3`` the writer produces the SBPF v3 strict layout instead (rodata at vaddr 0,
bytecode at 4 GiB, no dynamic relocations: addresses are absolute and syscalls are static,
`call` src=0 imm=murmur3(name); internal calls must already use the src=1 form).

The output is a pure function of the `LinkImage`: byte-for-byte deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..vm.executable import hash_symbol_name
from ..vm.isa import MM_PROGRAM_START, MM_RODATA_START
from . import schema as S

LDDW = 0x18
CALL_IMM = 0x85
TEXT, RODATA, DATA_REL_RO = ".text", ".rodata", ".data.rel.ro"
MAX_SYMBOL_NAME = 63  # sbpf reads dynamic symbol names with a 64-byte limit including the NUL
SECTION_ALIGN = 8


class WriterError(ValueError):
    """The LinkImage cannot be written (bad offsets, unknown relocation kind, ...)."""


@dataclass
class Reloc:
    """One relocation the writer must apply and/or emit (see the module docstring)."""

    section: str  # ".text" or ".data.rel.ro" (".rodata" also accepted for "ptr")
    offset: int  # byte offset within that section (for .text: the lddw / call slot)
    kind: str  # "addr" | "syscall" | "ptr" | "call"
    symbol: str = ""
    target_section: str = ""
    addend: int = 0


@dataclass
class LinkImage:
    """A linked program: section contents, entrypoint, relocations and function symbols."""

    text: bytes
    rodata: bytes = b""
    data_rel_ro: bytes = b""
    entry_offset: int = 0  # byte offset of the entrypoint in .text
    relocs: list[Reloc] = field(default_factory=list)
    functions: dict[str, int] = field(default_factory=dict)  # name -> byte offset in .text
    e_machine: int = S.EM_BPF
    e_flags: int = 0


def _align(x: int, a: int = SECTION_ALIGN) -> int:
    return (x + a - 1) & ~(a - 1)


def _pad(buf: bytearray, to: int) -> None:
    if len(buf) < to:
        buf += bytes(to - len(buf))


def _check_common(image: LinkImage) -> None:
    if not image.text:
        raise WriterError("empty .text")
    if len(image.text) % 8:
        raise WriterError(f".text length {len(image.text)} is not a multiple of 8")
    if not (0 <= image.entry_offset < len(image.text)) or image.entry_offset % 8:
        raise WriterError(f"entry offset {image.entry_offset:#x} is not an instruction in .text")
    for name, off in image.functions.items():
        if not (0 <= off < len(image.text)) or off % 8:
            raise WriterError(f"function {name!r} at {off:#x} is not an instruction in .text")
    for r in image.relocs:
        if r.kind not in ("addr", "syscall", "ptr", "call"):
            raise WriterError(f"unknown relocation kind {r.kind!r}")


def _function_symbols(image: LinkImage) -> list[tuple[str, int, int]]:
    """(name, offset, size) sorted by offset then name; sizes run to the next function start."""
    funcs = dict(image.functions)
    funcs.setdefault("entrypoint", image.entry_offset)
    items = sorted(funcs.items(), key=lambda kv: (kv[1], kv[0]))
    starts = sorted(set(funcs.values())) + [len(image.text)]
    out = []
    for name, off in items:
        nxt = next(s for s in starts if s > off)
        out.append((name, off, nxt - off))
    return out


def _apply(image: LinkImage, sections: dict[str, bytearray], addrs: dict[str, int], v3: bool):
    """Patch the section bytes. Returns (relative offsets, [(offset, symbol name)] syscall slots),
    offsets being virtual addresses of the relocated slots (v0 layout only)."""
    relative: list[int] = []
    imports: list[tuple[int, str]] = []
    for r in image.relocs:
        if r.section not in sections:
            raise WriterError(f"relocation in unknown section {r.section!r}")
        buf = sections[r.section]
        off = r.offset
        if r.kind == "addr":
            if r.section != TEXT:
                raise WriterError("an 'addr' relocation must patch an lddw in .text")
            if r.target_section not in addrs:
                raise WriterError(f"unknown target section {r.target_section!r}")
            if off < 0 or off % 8 or off + 16 > len(buf) or buf[off] != LDDW:
                raise WriterError(f"no lddw at .text+{off:#x}")
            cur = int.from_bytes(buf[off + 4:off + 8], "little") | (int.from_bytes(buf[off + 12:off + 16], "little") << 32)
            value = (addrs[r.target_section] + cur + r.addend) & ((1 << 64) - 1)
            buf[off + 4:off + 8] = (value & 0xFFFF_FFFF).to_bytes(4, "little")
            buf[off + 12:off + 16] = (value >> 32).to_bytes(4, "little")
            relative.append(addrs[TEXT] + off)
        elif r.kind == "syscall":
            if r.section != TEXT:
                raise WriterError("a 'syscall' relocation must patch a call in .text")
            if off < 0 or off % 8 or off + 8 > len(buf) or buf[off] != CALL_IMM:
                raise WriterError(f"no call at .text+{off:#x}")
            if not r.symbol:
                raise WriterError(f"syscall relocation at .text+{off:#x} has no symbol")
            if len(r.symbol.encode()) > MAX_SYMBOL_NAME or "\0" in r.symbol:
                raise WriterError(f"syscall name {r.symbol!r} is longer than {MAX_SYMBOL_NAME} bytes")
            if v3:
                buf[off + 1] = buf[off + 1] & 0x0F  # src = 0: static syscall
                buf[off + 4:off + 8] = hash_symbol_name(r.symbol).to_bytes(4, "little")
            else:
                buf[off + 4:off + 8] = b"\xff\xff\xff\xff"
                imports.append((addrs[TEXT] + off, r.symbol, None))
        elif r.kind == "call":
            # An internal call whose pc-relative imm would be -1 (a call to itself) is read by
            # the v0 loader as an unrelocated import; it is emitted as R_BPF_64_32 against a
            # defined function symbol instead (target byte offset in `addend`).
            if r.section != TEXT or off < 0 or off % 8 or off + 8 > len(buf) or buf[off] != CALL_IMM:
                raise WriterError(f"no call at .text+{off:#x}")
            if not r.symbol or not (0 <= r.addend < len(buf)) or r.addend % 8:
                raise WriterError(f"call relocation at .text+{off:#x} needs a symbol and a target offset")
            if v3:
                rel = r.addend // 8 - off // 8 - 1
                buf[off + 1] = (buf[off + 1] & 0x0F) | 0x10  # src = 1: pc-relative internal call
                buf[off + 4:off + 8] = (rel & 0xFFFF_FFFF).to_bytes(4, "little")
            else:
                buf[off + 4:off + 8] = b"\xff\xff\xff\xff"
                imports.append((addrs[TEXT] + off, r.symbol, r.addend))
        else:  # ptr
            if r.section == TEXT:
                raise WriterError("a 'ptr' relocation must patch a data slot, not .text")
            if r.target_section not in addrs:
                raise WriterError(f"unknown target section {r.target_section!r}")
            if off < 0 or off + 8 > len(buf):
                raise WriterError(f"pointer slot {r.section}+{off:#x} is outside the section")
            vaddr = addrs[r.target_section] + r.addend
            if v3:
                buf[off:off + 8] = (vaddr & ((1 << 64) - 1)).to_bytes(8, "little")
            else:
                if not 0 <= vaddr <= 0xFFFF_FFFF:
                    raise WriterError(f"pointer target {vaddr:#x} does not fit in 32 bits")
                buf[off:off + 8] = (vaddr << 32).to_bytes(8, "little")
                relative.append(addrs[r.section] + off)
    return relative, imports


def write_shared_object(image: LinkImage) -> bytes:
    """Serialize `image` as an ELF shared object (SBPF v0..v2 layout, or v3 when e_flags == 3)."""
    _check_common(image)
    if image.e_flags == 3:
        if image.e_machine != S.EM_BPF:
            raise WriterError("the SBPF v3 strict layout requires e_machine EM_BPF (247)")
        return _write_v3(image)
    return _write_v0(image)


# ------------------------------------------------------------------------------------------------
# v0 (lenient loader) layout
# ------------------------------------------------------------------------------------------------
def _write_v0(image: LinkImage) -> bytes:
    text = bytearray(image.text)
    rodata = bytearray(image.rodata)
    drr = bytearray(image.data_rel_ro)
    has_ro = bool(rodata or drr)
    phnum = 4 if has_ro else 3

    # addresses (== file offsets) of the loaded sections
    text_addr = S.EHDR_SIZE + S.PHDR_SIZE * phnum
    cursor = text_addr + len(text)
    rodata_addr = _align(cursor)
    cursor = rodata_addr + len(rodata)
    drr_addr = _align(cursor)
    cursor = drr_addr + len(drr)
    ro_start = rodata_addr if rodata else drr_addr
    ro_end = cursor
    addrs = {TEXT: text_addr, RODATA: rodata_addr, DATA_REL_RO: drr_addr}

    relative, imports = _apply(image, {TEXT: text, RODATA: rodata, DATA_REL_RO: drr}, addrs, v3=False)
    relative.sort()
    imports.sort()

    # dynamic symbols: null, entrypoint, one undefined symbol per imported name (first use order)
    dynstr = S.StringTable()
    import_names: list[str] = []
    defined: dict[str, int] = {}
    for _, name, target in sorted(imports, key=lambda t: t[0]):
        if name not in import_names:
            import_names.append(name)
        if target is not None:
            defined[name] = target
    funcs = _function_symbols(image)
    entry_size = next(size for name, off, size in funcs if off == image.entry_offset)
    TEXT_SHNDX = 1
    dynsym = [S.build(S.Elf64_Sym, st_name=0, st_info=0, st_other=0, st_shndx=0, st_value=0, st_size=0)]
    dynsym.append(S.build(S.Elf64_Sym, st_name=dynstr.add("entrypoint"),
                          st_info=S.st_info(S.STB_GLOBAL, S.STT_FUNC), st_other=S.STV_DEFAULT,
                          st_shndx=TEXT_SHNDX, st_value=text_addr + image.entry_offset, st_size=entry_size))
    sym_index: dict[str, int] = {}
    for name in import_names:
        sym_index[name] = len(dynsym)
        if name in defined:
            dynsym.append(S.build(S.Elf64_Sym, st_name=dynstr.add(name),
                                  st_info=S.st_info(S.STB_GLOBAL, S.STT_FUNC), st_other=S.STV_DEFAULT,
                                  st_shndx=TEXT_SHNDX, st_value=text_addr + defined[name], st_size=0))
            continue
        dynsym.append(S.build(S.Elf64_Sym, st_name=dynstr.add(name),
                              st_info=S.st_info(S.STB_GLOBAL, S.STT_NOTYPE), st_other=S.STV_DEFAULT,
                              st_shndx=S.SHN_UNDEF, st_value=0, st_size=0))
    dynsym_bytes = b"".join(dynsym)
    dynstr_bytes = bytes(dynstr)

    rels = [S.build(S.Elf64_Rel, r_offset=o, r_info=S.r_info(0, S.R_BPF_64_RELATIVE)) for o in relative]
    rels += [S.build(S.Elf64_Rel, r_offset=o, r_info=S.r_info(sym_index[n], S.R_BPF_64_32)) for o, n, _ in imports]
    rel_bytes = b"".join(rels)
    textrel = bool(imports) or any(r.kind == "addr" for r in image.relocs)

    # the dynamic table's size does not depend on addresses, so lay it out first
    def dyn_entries(dynsym_addr: int, dynstr_addr: int, rel_addr: int) -> list[tuple[int, int]]:
        d = []
        if textrel:
            d.append((S.DT_FLAGS, S.DF_TEXTREL))
        if rel_bytes:
            d += [(S.DT_REL, rel_addr), (S.DT_RELSZ, len(rel_bytes)), (S.DT_RELENT, S.REL_SIZE)]
            if relative:
                d.append((S.DT_RELCOUNT, len(relative)))
        d += [(S.DT_SYMTAB, dynsym_addr), (S.DT_SYMENT, S.SYM_SIZE),
              (S.DT_STRTAB, dynstr_addr), (S.DT_STRSZ, len(dynstr_bytes))]
        if textrel:
            d.append((S.DT_TEXTREL, 0))
        d.append((S.DT_NULL, 0))
        return d

    dynamic_addr = _align(ro_end)
    dynamic_size = len(dyn_entries(0, 0, 0)) * S.DYN_SIZE
    dynsym_addr = _align(dynamic_addr + dynamic_size)
    dynstr_addr = dynsym_addr + len(dynsym_bytes)
    rel_addr = _align(dynstr_addr + len(dynstr_bytes))
    loaded_end = rel_addr + len(rel_bytes) if rel_bytes else dynstr_addr + len(dynstr_bytes)
    dynamic_bytes = b"".join(S.build(S.Elf64_Dyn, d_tag=t, d_val=v)
                             for t, v in dyn_entries(dynsym_addr, dynstr_addr, rel_addr))

    # static symbols
    strtab = S.StringTable()
    symtab = [S.build(S.Elf64_Sym, st_name=0, st_info=0, st_other=0, st_shndx=0, st_value=0, st_size=0)]
    for name, off, size in funcs:
        symtab.append(S.build(S.Elf64_Sym, st_name=strtab.add(name),
                              st_info=S.st_info(S.STB_GLOBAL, S.STT_FUNC), st_other=S.STV_DEFAULT,
                              st_shndx=TEXT_SHNDX, st_value=text_addr + off, st_size=size))
    for name in import_names:
        symtab.append(S.build(S.Elf64_Sym, st_name=strtab.add(name),
                              st_info=S.st_info(S.STB_GLOBAL, S.STT_NOTYPE), st_other=S.STV_DEFAULT,
                              st_shndx=S.SHN_UNDEF, st_value=0, st_size=0))
    symtab_bytes = b"".join(symtab)
    strtab_bytes = bytes(strtab)

    # sections: (name, type, flags, addr, content, link-name, info, align, entsize)
    shstrtab = S.StringTable()
    sections: list[dict] = [dict(name="", type=S.SHT_NULL, flags=0, addr=0, data=b"", link="", info=0, align=0, entsize=0)]

    def sec(name, typ, flags, addr, data, link="", info=0, align=8, entsize=0):
        sections.append(dict(name=name, type=typ, flags=flags, addr=addr, data=data, link=link,
                             info=info, align=align, entsize=entsize))

    A, W, X = S.SHF_ALLOC, S.SHF_WRITE, S.SHF_EXECINSTR
    sec(TEXT, S.SHT_PROGBITS, A | X, text_addr, bytes(text))
    if rodata:
        sec(RODATA, S.SHT_PROGBITS, A, rodata_addr, bytes(rodata))
    if drr:
        sec(DATA_REL_RO, S.SHT_PROGBITS, A | W, drr_addr, bytes(drr))
    sec(".dynamic", S.SHT_DYNAMIC, A | W, dynamic_addr, dynamic_bytes, link=".dynstr", entsize=S.DYN_SIZE)
    sec(".dynsym", S.SHT_DYNSYM, A, dynsym_addr, dynsym_bytes, link=".dynstr", info=1, entsize=S.SYM_SIZE)
    sec(".dynstr", S.SHT_STRTAB, A, dynstr_addr, dynstr_bytes, align=1)
    if rel_bytes:
        sec(".rel.dyn", S.SHT_REL, A, rel_addr, rel_bytes, link=".dynsym", entsize=S.REL_SIZE)
    n_loaded = len(sections)
    sec(".symtab", S.SHT_SYMTAB, 0, 0, symtab_bytes, link=".strtab", info=1, entsize=S.SYM_SIZE)
    sec(".strtab", S.SHT_STRTAB, 0, 0, strtab_bytes, align=1)
    sec(".shstrtab", S.SHT_STRTAB, 0, 0, b"", align=1)
    for s in sections:
        s["name_off"] = shstrtab.add(s["name"])
    sections[-1]["data"] = bytes(shstrtab)

    # file offsets: loaded sections sit at their addresses; the rest follow
    out = bytearray()
    _pad(out, text_addr)
    offsets = []
    for i, s in enumerate(sections):
        if i == 0:
            offsets.append(0)
            continue
        if i < n_loaded:
            off = s["addr"]
            assert off >= len(out), "layout overlap"
        else:
            off = _align(len(out), max(1, s["align"]))
        _pad(out, off)
        offsets.append(off)
        out += s["data"]
    shoff = _align(len(out))
    _pad(out, shoff)
    index = {s["name"]: i for i, s in enumerate(sections)}
    for s, off in zip(sections, offsets):
        out += S.build(S.Elf64_Shdr, sh_name=s["name_off"], sh_type=s["type"], sh_flags=s["flags"],
                       sh_addr=s["addr"], sh_offset=off, sh_size=len(s["data"]),
                       sh_link=index[s["link"]] if s["link"] else 0, sh_info=s["info"],
                       sh_addralign=s["align"], sh_entsize=s["entsize"])

    # program headers
    def phdr(p_type, flags, start, size):
        return S.build(S.Elf64_Phdr, p_type=p_type, p_flags=flags, p_offset=start, p_vaddr=start,
                       p_paddr=start, p_filesz=size, p_memsz=size, p_align=8)

    phdrs = [phdr(S.PT_LOAD, S.PF_R | S.PF_X, text_addr, len(text))]
    if has_ro:
        phdrs.append(phdr(S.PT_LOAD, S.PF_R, ro_start, ro_end - ro_start))
    phdrs.append(phdr(S.PT_LOAD, S.PF_R, dynsym_addr, loaded_end - dynsym_addr))
    phdrs.append(phdr(S.PT_DYNAMIC, S.PF_R | S.PF_W, dynamic_addr, len(dynamic_bytes)))
    out[S.EHDR_SIZE:text_addr] = b"".join(phdrs)
    out[0:S.EHDR_SIZE] = _ehdr(image, entry=text_addr + image.entry_offset, phnum=len(phdrs),
                               shoff=shoff, shnum=len(sections), shstrndx=len(sections) - 1)
    return bytes(out)


def _ehdr(image: LinkImage, *, entry: int, phnum: int, shoff: int, shnum: int, shstrndx: int) -> bytes:
    return S.build(
        S.Elf64_Ehdr,
        e_ident=dict(ei_mag=S.ELFMAG, ei_class=S.ELFCLASS64, ei_data=S.ELFDATA2LSB,
                     ei_version=S.EV_CURRENT, ei_osabi=S.ELFOSABI_NONE, ei_abiversion=0,
                     ei_pad=bytes(7)),
        e_type=S.ET_DYN, e_machine=image.e_machine, e_version=S.EV_CURRENT, e_entry=entry,
        e_phoff=S.EHDR_SIZE, e_shoff=shoff, e_flags=image.e_flags, e_ehsize=S.EHDR_SIZE,
        e_phentsize=S.PHDR_SIZE, e_phnum=phnum, e_shentsize=S.SHDR_SIZE, e_shnum=shnum,
        e_shstrndx=shstrndx,
    )


# ------------------------------------------------------------------------------------------------
# v3 (strict loader) layout
# ------------------------------------------------------------------------------------------------
def _write_v3(image: LinkImage) -> bytes:
    text = bytearray(image.text)
    rodata = bytearray(image.rodata)
    drr = bytearray(image.data_rel_ro)
    rodata_vaddr = MM_RODATA_START
    drr_vaddr = rodata_vaddr + _align(len(rodata))
    addrs = {TEXT: MM_PROGRAM_START, RODATA: rodata_vaddr, DATA_REL_RO: drr_vaddr}
    _apply(image, {TEXT: text, RODATA: rodata, DATA_REL_RO: drr}, addrs, v3=True)

    ro = bytearray(rodata)
    if drr:
        _pad(ro, _align(len(ro)))
        ro += drr
    _pad(ro, _align(len(ro)))
    phnum = 2 if ro else 1
    ro_off = S.EHDR_SIZE + S.PHDR_SIZE * phnum
    text_off = ro_off + len(ro)

    def phdr(flags, off, vaddr, size):
        return S.build(S.Elf64_Phdr, p_type=S.PT_LOAD, p_flags=flags, p_offset=off, p_vaddr=vaddr,
                       p_paddr=vaddr, p_filesz=size, p_memsz=size, p_align=8)

    phdrs = []
    if ro:
        phdrs.append(phdr(S.PF_R, ro_off, MM_RODATA_START, len(ro)))
    phdrs.append(phdr(S.PF_X, text_off, MM_PROGRAM_START, len(text)))

    out = bytearray(S.EHDR_SIZE)
    out += b"".join(phdrs)
    out += ro
    out += text

    # section headers for tools (the strict loader ignores them)
    strtab = S.StringTable()
    symtab = [S.build(S.Elf64_Sym, st_name=0, st_info=0, st_other=0, st_shndx=0, st_value=0, st_size=0)]
    text_shndx = 2 if ro else 1
    for name, off, size in _function_symbols(image):
        symtab.append(S.build(S.Elf64_Sym, st_name=strtab.add(name),
                              st_info=S.st_info(S.STB_GLOBAL, S.STT_FUNC), st_other=S.STV_DEFAULT,
                              st_shndx=text_shndx, st_value=MM_PROGRAM_START + off, st_size=size))
    shstrtab = S.StringTable()
    secs = [("", S.SHT_NULL, 0, 0, 0, b"", 0, 0, 0, 0)]
    if ro:
        secs.append((".rodata", S.SHT_PROGBITS, S.SHF_ALLOC, MM_RODATA_START, ro_off, bytes(ro), 0, 0, 8, 0))
    secs.append((TEXT, S.SHT_PROGBITS, S.SHF_ALLOC | S.SHF_EXECINSTR, MM_PROGRAM_START, text_off, bytes(text), 0, 0, 8, 0))
    symtab_bytes, strtab_bytes = b"".join(symtab), bytes(strtab)
    strtab_index = len(secs) + 1
    sym_off = _align(len(out))
    _pad(out, sym_off)
    out += symtab_bytes
    str_off = len(out)
    out += strtab_bytes
    secs.append((".symtab", S.SHT_SYMTAB, 0, 0, sym_off, symtab_bytes, strtab_index, 1, 8, S.SYM_SIZE))
    secs.append((".strtab", S.SHT_STRTAB, 0, 0, str_off, strtab_bytes, 0, 0, 1, 0))
    names = [shstrtab.add(s[0]) for s in secs] + [shstrtab.add(".shstrtab")]
    shstr_bytes = bytes(shstrtab)
    shstr_off = len(out)
    out += shstr_bytes
    secs.append((".shstrtab", S.SHT_STRTAB, 0, 0, shstr_off, shstr_bytes, 0, 0, 1, 0))
    shoff = _align(len(out))
    _pad(out, shoff)
    for (name, typ, flags, addr, off, data, link, info, align, entsize), name_off in zip(secs, names):
        out += S.build(S.Elf64_Shdr, sh_name=name_off, sh_type=typ, sh_flags=flags, sh_addr=addr,
                       sh_offset=off, sh_size=len(data), sh_link=link, sh_info=info,
                       sh_addralign=align, sh_entsize=entsize)
    out[0:S.EHDR_SIZE] = _ehdr(image, entry=MM_PROGRAM_START + image.entry_offset, phnum=len(phdrs),
                               shoff=shoff, shnum=len(secs), shstrndx=len(secs) - 1)
    return bytes(out)
