"""Loading programs from accounts: the BPF loaders' account formats and a per-program cache.

* BPFLoader1 (deprecated) and BPFLoader2: the ELF is the program account's data.
* The upgradeable loader: the program account holds `u32 tag = 2, programdata address`; the
  programdata account holds `u32 tag = 3, u64 slot, Option<Pubkey> authority` (45 bytes) then
  the ELF.

Executables are cached by (program id, ELF hash, syscall set) so a program is parsed, verified and
decoded once, as Agave's program cache does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import construct as c
from solders.pubkey import Pubkey

from ..elf.loader import load_elf
from ..vm.errors import ElfError, VerifierError
from ..vm.executable import Executable
from .accounts import (
    BPF_LOADER_DEPRECATED_ID,
    BPF_LOADER_ID,
    BPF_LOADER_UPGRADEABLE_ID,
    Account,
)

UpgradeableProgram = c.Struct("tag" / c.Const(2, c.Int32ul), "programdata_address" / c.Bytes(32))
ProgramDataHeader = c.Struct(
    "tag" / c.Const(3, c.Int32ul),
    "slot" / c.Int64ul,
    "upgrade_authority" / c.Struct("present" / c.Int8ul, "address" / c.Bytes(32)),
)
PROGRAMDATA_METADATA_SIZE = 45


class ProgramLoadError(Exception):
    """The program cannot be loaded; `reason` is the loader's message (logged by the runtime)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class LoadedProgram:
    executable: Executable
    loader: Pubkey

    @property
    def aligned(self) -> bool:
        return self.loader != BPF_LOADER_DEPRECATED_ID


def programdata_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program_id)], BPF_LOADER_UPGRADEABLE_ID)[0]


def upgradeable_accounts(program_id: Pubkey, elf: bytes, *, slot: int = 0, lamports: int = 1,
                         authority: Pubkey | None = None) -> tuple[Account, Pubkey, Account]:
    """(program account, programdata address, programdata account) for an upgradeable program."""
    pda = programdata_address(program_id)
    program = Account(lamports, UpgradeableProgram.build({"programdata_address": bytes(pda)}),
                      BPF_LOADER_UPGRADEABLE_ID, True)
    header = ProgramDataHeader.build({"slot": slot, "upgrade_authority": {
        "present": 1 if authority else 0, "address": bytes(authority) if authority else bytes(32)}})
    return program, pda, Account(lamports, header + elf, BPF_LOADER_UPGRADEABLE_ID, False)


def elf_holder(program: Account, lookup) -> tuple[bytearray, int]:
    """(data of the account holding the ELF, offset of the ELF in it).

    `lookup(pubkey) -> Account | None` finds the programdata account of upgradeable programs."""
    if program.owner in (BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID):
        return program.data, 0
    if program.owner == BPF_LOADER_UPGRADEABLE_ID:
        try:
            pda = Pubkey.from_bytes(UpgradeableProgram.parse(bytes(program.data[:36])).programdata_address)
        except c.ConstructError:
            raise ProgramLoadError("Program is not deployed") from None
        data = lookup(pda)
        if data is None or len(data.data) < PROGRAMDATA_METADATA_SIZE:
            raise ProgramLoadError("Program is not deployed")
        return data.data, PROGRAMDATA_METADATA_SIZE
    raise ProgramLoadError("Unsupported program id")


def elf_of(program: Account, lookup) -> bytes:
    """The ELF bytes of a program account."""
    data, offset = elf_holder(program, lookup)
    return bytes(data[offset:])


class ProgramCache:
    """Executables by program id, loaded against one syscall registry (execute mode)."""

    def __init__(self, syscalls):
        self.syscalls = syscalls
        self._by_key: dict[tuple, LoadedProgram] = {}
        self._last: dict[bytes, tuple[bytes, LoadedProgram]] = {}  # program id -> (elf, program)

    def load(self, program_id: Pubkey, program: Account, lookup) -> LoadedProgram:
        holder, offset = elf_holder(program, lookup)
        pid = bytes(program_id)
        last = self._last.get(pid)
        # Fast path: the same account bytes as last time (memcmp, far cheaper than hashing).
        if last is not None and last[1].loader == program.owner and last[0] == holder:
            return last[1]
        raw = bytes(holder)
        elf = raw[offset:]
        key = (pid, hashlib.sha256(elf).digest(), program.owner)
        hit = self._by_key.get(key)
        if hit is None:
            try:
                exe = load_elf(elf, self.syscalls)
            except (ElfError, VerifierError) as e:
                raise ProgramLoadError(str(e)) from None
            hit = self._by_key[key] = LoadedProgram(exe, program.owner)
        self._last[pid] = (raw, hit)
        return hit
