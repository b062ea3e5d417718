"""write_shared_object: layout, writer -> loader round trips, and acceptance by the real Agave.

The Agave checks run the bytes through solders' LiteSVM (Agave 4.1.2, sbpf 0.21): `add_program`
(execution path, no deployment checks) and a real BPFLoaderUpgradeable `DeployWithMaxDataLen`
(deployment path: `reject_broken_elfs`, deploy-time syscall registry).
"""

from __future__ import annotations

import re
import struct

import pytest

from sbpfunc.elf import LinkImage, Reloc, load_elf, write_shared_object
from sbpfunc.elf import schema as S
from sbpfunc.elf.writer import WriterError
from sbpfunc.vm.errors import ElfError
from sbpfunc.vm.executable import ENTRYPOINT_KEY, hash_pc, hash_symbol_name
from sbpfunc.vm.isa import MM_PROGRAM_START, SBPFVersion, encode

solders = pytest.importorskip("solders")
from solders.account import Account  # noqa: E402
from solders.instruction import AccountMeta, Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.litesvm import LiteSVM  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction  # noqa: E402
from solders.transaction_metadata import FailedTransactionMetadata  # noqa: E402

# --- opcodes used below ---------------------------------------------------------------------------
LDDW, LDXB, LDXDW, MOV64_IMM, MOV64_REG, ADD64_REG, CALL, EXIT = 0x18, 0x71, 0x79, 0xB7, 0xBF, 0x0F, 0x85, 0x95


def lddw(dst: int, imm64: int = 0) -> bytes:
    return encode(LDDW, dst, 0, 0, imm64 & 0xFFFF_FFFF) + encode(0, 0, 0, 0, (imm64 >> 32) & 0xFFFF_FFFF)


class Syscalls:
    """A syscall registry by name (handlers return 0)."""

    def __init__(self, *names: str):
        self.by_key = {hash_symbol_name(n): (n, lambda vm, *a: 0) for n in names}

    def lookup(self, key):
        return self.by_key.get(key)


SYSCALLS = Syscalls("sol_log_", "sol_log_64_", "abort", "sol_panic_", "sol_memcpy_")


def noop_image(**kw) -> LinkImage:
    return LinkImage(text=encode(MOV64_IMM, 0, 0, 0, 0) + encode(EXIT), **kw)


def hello_image(message: bytes = b"hello from sbpfunc", **kw) -> LinkImage:
    text = (lddw(1) + encode(MOV64_IMM, 2, 0, 0, len(message)) + encode(CALL, 0, 0, 0, -1)
            + encode(MOV64_IMM, 0, 0, 0, 0) + encode(EXIT))
    relocs = [Reloc(".text", 0, "addr", target_section=".rodata"),
              Reloc(".text", 24, "syscall", symbol="sol_log_")]
    return LinkImage(text=text, rodata=message, relocs=relocs, **kw)


RICH_RODATA = b"abcdBxyz"
RICH_RESULT = 5 + ord("B") + ord("b")  # f() + rodata[4] + *ptr where ptr = &rodata[1]


def rich_image() -> LinkImage:
    """Internal call, an lddw into .rodata, an lddw into .data.rel.ro holding a pointer to .rodata+1."""
    text = b"".join([
        encode(CALL, 0, 0, 0, 12),            # 0: call f (pc 13)
        encode(MOV64_REG, 6, 0, 0, 0),         # 1: r6 = r0
        lddw(1, 4),                            # 2: r1 = &rodata[4]
        encode(LDXB, 2, 1, 0, 0),              # 4: r2 = 'B'
        encode(ADD64_REG, 6, 2),               # 5
        lddw(3, 0),                            # 6: r3 = &data_rel_ro[0]
        encode(LDXDW, 4, 3, 0, 0),             # 8: r4 = *(u64*)r3 = &rodata[1]
        encode(LDXB, 5, 4, 0, 0),              # 9: r5 = 'b'
        encode(ADD64_REG, 6, 5),               # 10
        encode(MOV64_REG, 0, 6, 0, 0),         # 11
        encode(EXIT),                          # 12
        encode(MOV64_IMM, 0, 0, 0, 5),         # 13: f: return 5
        encode(EXIT),                          # 14
    ])
    relocs = [Reloc(".text", 16, "addr", target_section=".rodata"),
              Reloc(".text", 48, "addr", target_section=".data.rel.ro"),
              Reloc(".data.rel.ro", 0, "ptr", target_section=".rodata", addend=1)]
    return LinkImage(text=text, rodata=RICH_RODATA, data_rel_ro=bytes(8), relocs=relocs,
                     functions={"f": 13 * 8, "entrypoint": 0})


# --- a tiny ELF reader for assertions -------------------------------------------------------------
def sections(so: bytes) -> dict[str, object]:
    h = S.parse_one(S.Elf64_Ehdr, so)
    shdrs = S.parse_table(S.Elf64_Shdr, so, h.e_shoff, h.e_shnum)
    shstr = shdrs[h.e_shstrndx]
    table = so[shstr.sh_offset:shstr.sh_offset + shstr.sh_size]
    return {S.cstring(table, sh.sh_name).decode(): sh for sh in shdrs}


def dynamic_tags(so: bytes) -> dict[int, int]:
    dyn = sections(so)[".dynamic"]
    return {e.d_tag: e.d_val for e in S.parse_table(S.Elf64_Dyn, so, dyn.sh_offset, dyn.sh_size // 16)}


# --- layout ------------------------------------------------------------------------------------------
def test_layout_matches_the_lld_v0_shape():
    so = write_shared_object(rich_image())
    h = S.parse_one(S.Elf64_Ehdr, so)
    assert (h.e_type, h.e_machine, h.e_flags, h.e_phnum) == (S.ET_DYN, S.EM_BPF, 0, 4)
    secs = sections(so)
    assert list(secs) == ["", ".text", ".rodata", ".data.rel.ro", ".dynamic", ".dynsym", ".dynstr",
                          ".rel.dyn", ".symtab", ".strtab", ".shstrtab"]
    for name in (".text", ".rodata", ".data.rel.ro", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn"):
        assert secs[name].sh_addr == secs[name].sh_offset, name
    assert secs[".text"].sh_addr == 64 + 4 * 56 == h.e_entry
    phdrs = S.parse_table(S.Elf64_Phdr, so, h.e_phoff, h.e_phnum)
    assert [(p.p_type, p.p_flags) for p in phdrs] == [
        (S.PT_LOAD, S.PF_R | S.PF_X), (S.PT_LOAD, S.PF_R), (S.PT_LOAD, S.PF_R), (S.PT_DYNAMIC, S.PF_R | S.PF_W)]
    assert phdrs[1].p_offset == secs[".rodata"].sh_offset
    assert phdrs[1].p_filesz == secs[".data.rel.ro"].sh_offset + 8 - secs[".rodata"].sh_offset
    assert phdrs[2].p_offset == secs[".dynsym"].sh_offset
    assert phdrs[2].p_offset + phdrs[2].p_filesz == secs[".rel.dyn"].sh_offset + secs[".rel.dyn"].sh_size
    assert phdrs[3].p_offset == secs[".dynamic"].sh_offset
    tags = dynamic_tags(so)
    assert tags[S.DT_REL] == secs[".rel.dyn"].sh_addr and tags[S.DT_RELENT] == 16
    assert tags[S.DT_RELSZ] == 3 * 16 and tags[S.DT_RELCOUNT] == 3
    assert tags[S.DT_SYMTAB] == secs[".dynsym"].sh_addr


def test_no_relocations_means_no_rel_dyn_and_no_dt_rel():
    so = write_shared_object(noop_image())
    secs = sections(so)
    assert ".rel.dyn" not in secs and ".rodata" not in secs
    tags = dynamic_tags(so)
    assert S.DT_REL not in tags and S.DT_RELSZ not in tags and S.DT_RELENT not in tags
    assert S.parse_one(S.Elf64_Ehdr, so).e_phnum == 3  # no empty rodata segment, like ld.lld


def test_output_is_deterministic():
    assert write_shared_object(rich_image()) == write_shared_object(rich_image())
    assert write_shared_object(hello_image()) == write_shared_object(hello_image())


def test_dynsym_has_entrypoint_and_one_import_per_name():
    text = encode(CALL, 0, 0, 0, -1) * 3 + encode(EXIT)
    img = LinkImage(text=text, relocs=[Reloc(".text", 0, "syscall", symbol="sol_log_"),
                                       Reloc(".text", 8, "syscall", symbol="abort"),
                                       Reloc(".text", 16, "syscall", symbol="sol_log_")])
    so = write_shared_object(img)
    secs = sections(so)
    dynsym = S.parse_table(S.Elf64_Sym, so, secs[".dynsym"].sh_offset, secs[".dynsym"].sh_size // 24)
    dynstr = so[secs[".dynstr"].sh_offset:secs[".dynstr"].sh_offset + secs[".dynstr"].sh_size]
    names = [S.cstring(dynstr, s.st_name).decode() for s in dynsym]
    assert names == ["", "entrypoint", "sol_log_", "abort"]
    assert S.st_type(dynsym[1].st_info) == S.STT_FUNC and S.st_bind(dynsym[1].st_info) == S.STB_GLOBAL
    assert dynsym[2].st_shndx == S.SHN_UNDEF and dynsym[2].st_value == 0
    rels = S.parse_table(S.Elf64_Rel, so, secs[".rel.dyn"].sh_offset, 3)
    text_addr = secs[".text"].sh_addr
    assert [(r.r_offset - text_addr, S.r_type(r.r_info), S.r_sym(r.r_info)) for r in rels] == [
        (0, S.R_BPF_64_32, 2), (8, S.R_BPF_64_32, 3), (16, S.R_BPF_64_32, 2)]


# --- round trip through our loader ---------------------------------------------------------------
def test_round_trip_rich_program():
    so = write_shared_object(rich_image())
    exe = load_elf(so, SYSCALLS, deploy=True)
    secs = sections(so)
    rodata_addr, drr_addr = secs[".rodata"].sh_addr, secs[".data.rel.ro"].sh_addr
    assert exe.version == SBPFVersion.V0 and exe.entry_pc == 0
    assert exe.text_vaddr == MM_PROGRAM_START + secs[".text"].sh_addr
    vaddr, image = exe.ro_region
    assert vaddr == MM_PROGRAM_START
    assert len(image) == drr_addr + 8 and image[:secs[".text"].sh_addr] == bytes(secs[".text"].sh_addr)
    assert image[rodata_addr:rodata_addr + len(RICH_RODATA)] == RICH_RODATA
    # ptr slot: the loader turned (vaddr << 32) into MM_PROGRAM_START + vaddr
    assert struct.unpack_from("<Q", image, drr_addr)[0] == MM_PROGRAM_START + rodata_addr + 1
    # text is the relocated .text, and it is what the image holds at the text address
    assert image[secs[".text"].sh_addr:secs[".text"].sh_addr + len(exe.text)] == exe.text
    lo, hi = struct.unpack_from("<I", exe.text, 16 + 4)[0], struct.unpack_from("<I", exe.text, 24 + 4)[0]
    assert (hi << 32 | lo) == MM_PROGRAM_START + rodata_addr + 4
    lo, hi = struct.unpack_from("<I", exe.text, 48 + 4)[0], struct.unpack_from("<I", exe.text, 56 + 4)[0]
    assert (hi << 32 | lo) == MM_PROGRAM_START + drr_addr
    # internal call: imm replaced by the murmur3 key of the target pc, which is registered
    assert struct.unpack_from("<I", exe.text, 4)[0] == hash_pc(13)
    assert exe.functions.lookup(hash_pc(13)) == 13
    assert exe.functions.lookup(ENTRYPOINT_KEY) == 0
    assert exe.symbols == {0: "entrypoint", 13: "f"}
    assert exe.functions.by_key[hash_pc(13)][0] == "f"


def test_round_trip_syscall_import():
    so = write_shared_object(hello_image())
    exe = load_elf(so, SYSCALLS, deploy=True)
    key = hash_symbol_name("sol_log_")
    assert struct.unpack_from("<I", exe.text, 24 + 4)[0] == key == 0x207559BD
    assert exe.syscall_names == {key: "sol_log_"}
    assert exe.functions.by_key.keys() == {ENTRYPOINT_KEY}


def test_round_trip_runs_in_our_interpreter():
    from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

    exe = load_elf(write_shared_object(rich_image()), SYSCALLS)
    result = EbpfVm(exe, standard_regions(exe), BudgetMeter(1000)).execute()
    assert result.error is None and result.r0 == RICH_RESULT


def test_entry_offset_and_machine_and_version_are_written():
    text = encode(MOV64_IMM, 0, 0, 0, 1) + encode(EXIT) + encode(MOV64_IMM, 0, 0, 0, 0) + encode(EXIT)
    for machine in (S.EM_BPF, S.EM_SBPF):
        for flags in (0, 1):
            so = write_shared_object(LinkImage(text=text, entry_offset=16, e_machine=machine, e_flags=flags))
            exe = load_elf(so, SYSCALLS)
            assert exe.entry_pc == 2 and exe.version == flags
            assert exe.functions.lookup(ENTRYPOINT_KEY) == 2
            assert S.parse_one(S.Elf64_Ehdr, so).e_machine == machine


def test_v3_strict_layout_round_trip():
    img = hello_image(b"v3 says hi", e_flags=3)
    so = write_shared_object(img)
    h = S.parse_one(S.Elf64_Ehdr, so)
    phdrs = S.parse_table(S.Elf64_Phdr, so, 64, h.e_phnum)
    assert [(p.p_flags, p.p_vaddr) for p in phdrs] == [(S.PF_R, 0), (S.PF_X, MM_PROGRAM_START)]
    exe = load_elf(so, SYSCALLS, deploy=True)
    assert exe.version == SBPFVersion.V3
    assert exe.ro_region[0] == 0 and exe.ro_region[1].startswith(b"v3 says hi")
    assert exe.text_vaddr == MM_PROGRAM_START
    lo, hi = struct.unpack_from("<II", exe.text, 4)[0], struct.unpack_from("<I", exe.text, 12)[0]
    assert lo == 0 and hi == 0  # lddw of rodata+0 is the absolute address 0 in v3
    assert struct.unpack_from("<I", exe.text, 28)[0] == hash_symbol_name("sol_log_")


@pytest.mark.parametrize("img, msg", [
    (LinkImage(text=b""), "empty .text"),
    (LinkImage(text=b"\x95" + bytes(6)), "multiple of 8"),
    (LinkImage(text=encode(EXIT), entry_offset=8), "entry offset"),
    (LinkImage(text=encode(EXIT), entry_offset=4), "entry offset"),
    (LinkImage(text=encode(EXIT), relocs=[Reloc(".text", 0, "bogus")]), "unknown relocation kind"),
    (LinkImage(text=encode(EXIT), relocs=[Reloc(".text", 0, "addr", target_section=".rodata")]), "no lddw"),
    (LinkImage(text=encode(EXIT), relocs=[Reloc(".text", 0, "syscall", symbol="x")]), "no call"),
    (LinkImage(text=encode(CALL, imm=-1) + encode(EXIT), relocs=[Reloc(".text", 0, "syscall", symbol="x" * 64)]),
     "longer than 63"),
    (LinkImage(text=encode(EXIT), data_rel_ro=bytes(4),
               relocs=[Reloc(".data.rel.ro", 0, "ptr", target_section=".rodata")]), "outside the section"),
    (LinkImage(text=lddw(1) + encode(EXIT), relocs=[Reloc(".text", 0, "addr", target_section=".bss")]),
     "unknown target section"),
    (LinkImage(text=encode(EXIT), functions={"g": 3}), "function 'g'"),
    (LinkImage(text=encode(EXIT), e_flags=3, e_machine=S.EM_SBPF), "requires e_machine EM_BPF"),
])
def test_writer_rejects_bad_images(img, msg):
    with pytest.raises(WriterError, match=msg):
        write_shared_object(img)


# --- the real Agave ----------------------------------------------------------------------------------
LOADER_V3 = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
RENT = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
CONSUMED = re.compile(r"^Program \w+ consumed \d+ of \d+ compute units$")


@pytest.fixture(scope="module")
def svm():
    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**12)
    svm.payer = payer
    return svm


def invoke(svm, so: bytes):
    """add_program (execution path) + one instruction; returns the transaction result."""
    program_id = Pubkey.new_unique()
    svm.add_program(program_id, so)
    ix = Instruction(program_id, b"", [])
    tx = Transaction([svm.payer], Message([ix], svm.payer.pubkey()), svm.latest_blockhash())
    result = svm.send_transaction(tx)
    svm.expire_blockhash()
    return program_id, result


def deploy(svm, so: bytes):
    """A real BPFLoaderUpgradeable DeployWithMaxDataLen of `so` from a prepared buffer account.

    Returns (ok, the loader's error line or None, logs)."""
    payer = svm.payer
    buffer, program = Pubkey.new_unique(), Pubkey.new_unique()
    data = struct.pack("<I", 1) + b"\x01" + bytes(payer.pubkey()) + so  # Buffer { authority }
    svm.set_account(buffer, Account(svm.minimum_balance_for_rent_exemption(len(data)), data, LOADER_V3, False, 0))
    svm.set_account(program, Account(svm.minimum_balance_for_rent_exemption(36), bytes(36), LOADER_V3, False, 0))
    programdata, _ = Pubkey.find_program_address([bytes(program)], LOADER_V3)
    metas = [AccountMeta(payer.pubkey(), True, True), AccountMeta(programdata, False, True),
             AccountMeta(program, False, True), AccountMeta(buffer, False, True),
             AccountMeta(RENT, False, False), AccountMeta(CLOCK, False, False),
             AccountMeta(SYSTEM, False, False), AccountMeta(payer.pubkey(), True, False)]
    ix = Instruction(LOADER_V3, struct.pack("<IQ", 2, len(so)), metas)
    tx = Transaction([payer], Message([ix], payer.pubkey()), svm.latest_blockhash())
    result = svm.send_transaction(tx)
    svm.expire_blockhash()
    if isinstance(result, FailedTransactionMetadata):
        logs = result.meta().logs()
        lines = [line for line in logs if not line.startswith("Program ")]
        return False, (lines[0] if lines else None), logs
    return True, None, result.logs()


def test_agave_runs_mov_exit(svm):
    program_id, result = invoke(svm, write_shared_object(noop_image()))
    assert not isinstance(result, FailedTransactionMetadata), result
    logs = result.logs()
    assert logs[0] == f"Program {program_id} invoke [1]"
    assert logs[1] == f"Program {program_id} consumed 2 of 200000 compute units"
    assert logs[2] == f"Program {program_id} success"


def test_agave_runs_sol_log_on_rodata(svm):
    program_id, result = invoke(svm, write_shared_object(hello_image()))
    assert not isinstance(result, FailedTransactionMetadata), result
    logs = result.logs()
    assert "Program log: hello from sbpfunc" in logs
    assert any(CONSUMED.match(line) for line in logs)


def test_agave_agrees_on_relocations_and_internal_calls(svm):
    # Exit code RICH_RESULT (169) shows up as a custom error: Agave followed the internal call,
    # the lddw relocations and the (vaddr << 32) pointer in .data.rel.ro exactly as we do.
    program_id, result = invoke(svm, write_shared_object(rich_image()))
    assert isinstance(result, FailedTransactionMetadata)
    assert f"Program {program_id} failed: custom program error: {RICH_RESULT:#x}" in result.meta().logs()


def test_agave_runs_the_v3_layout(svm):
    program_id, result = invoke(svm, write_shared_object(hello_image(b"strict v3", e_flags=3)))
    assert not isinstance(result, FailedTransactionMetadata), result
    assert "Program log: strict v3" in result.logs()


def test_agave_deploys_writer_output(svm):
    for img in (noop_image(), hello_image(), rich_image(), hello_image(e_machine=S.EM_SBPF)):
        so = write_shared_object(img)
        ok, line, logs = deploy(svm, so)
        assert ok, logs
        load_elf(so, SYSCALLS, deploy=True)  # and so do we


def test_deploy_rejects_unknown_syscall_with_the_same_message(svm):
    text = encode(MOV64_IMM, 1, 0, 0, 0) + encode(CALL, 0, 0, 0, -1) + encode(EXIT)
    so = write_shared_object(LinkImage(text=text, relocs=[Reloc(".text", 8, "syscall", symbol="sol_no_such_thing")]))
    ok, line, logs = deploy(svm, so)
    assert not ok
    with pytest.raises(ElfError) as info:
        load_elf(so, SYSCALLS, deploy=True)
    assert info.value.kind == "UnresolvedSymbol"
    assert str(info.value) == line == "Unresolved symbol (sol_no_such_thing) at instruction #30 (ELF file offset 0xf0)"
    # Without deployment checks the import loads and fails only when called (as with add_program).
    exe = load_elf(so, SYSCALLS)
    assert exe.syscall_names == {hash_symbol_name("sol_no_such_thing"): "sol_no_such_thing"}
    program_id, result = invoke(svm, so)
    assert isinstance(result, FailedTransactionMetadata)
    assert result.meta().logs()[-1] == f"Program {program_id} failed: unsupported BPF instruction"
