"""A verified, loaded program: bytecode, read-only image, entrypoint and function registry.

An `Executable` is what the ELF loader (or the assembler, or a test harness with raw text)
produces and what the interpreter runs. It is immutable once built; per-run state lives in the VM.
The pre-decoded instruction stream is cached on it, so decoding happens once per program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import mmh3

from .isa import INSN_SIZE, MM_PROGRAM_START, SBPFVersion


def hash_symbol_name(name: bytes | str) -> int:
    """murmur3-32 (seed 0) of a symbol name: the key of syscalls and of the entrypoint."""
    if isinstance(name, str):
        name = name.encode()
    return mmh3.hash(name, 0, signed=False)


def hash_pc(pc: int) -> int:
    """The function-registry key of an internal call target: murmur3-32 of the pc as u64 LE."""
    return mmh3.hash(pc.to_bytes(8, "little"), 0, signed=False)


ENTRYPOINT_KEY = hash_symbol_name(b"entrypoint")

# A syscall handler: (vm, r1..r5) -> r0. It may raise SyscallError (or any EbpfError).
SyscallFn = Callable[..., int]


class SyscallLookup(Protocol):
    """What the VM needs from a syscall registry: name and handler by murmur3 key."""

    def lookup(self, key: int) -> tuple[str, SyscallFn] | None: ...


class EmptySyscalls:
    """A registry with no syscalls (every `call` to an unknown key is unsupported)."""

    def lookup(self, key: int):
        return None


@dataclass
class FunctionRegistry:
    """Internal call targets: key -> (name, pc). Keys are murmur3 hashes as in Agave."""

    by_key: dict[int, tuple[str, int]] = field(default_factory=dict)

    def register(self, key: int, name: str, pc: int) -> None:
        self.by_key[key] = (name, pc)

    def lookup(self, key: int) -> int | None:
        hit = self.by_key.get(key)
        return None if hit is None else hit[1]

    def name_of_pc(self, pc: int) -> str | None:
        for name, p in self.by_key.values():
            if p == pc:
                return name
        return None


@dataclass
class Executable:
    """Everything the interpreter needs to run a program.

    text:      the relocated bytecode (`.text`), a multiple of 8 bytes
    text_vaddr: guest address of text[0] (callx targets are relative to it)
    ro_region: (vaddr, bytes) of the read-only program image mapped for loads
    entry_pc:  instruction index of the entrypoint
    functions: internal call targets by key
    syscalls:  the loader's syscall registry (murmur3 key -> handler)
    """

    version: SBPFVersion
    text: bytes
    entry_pc: int = 0
    text_vaddr: int = MM_PROGRAM_START
    ro_region: tuple[int, bytes] | None = None
    functions: FunctionRegistry = field(default_factory=FunctionRegistry)
    syscalls: SyscallLookup = field(default_factory=EmptySyscalls)
    symbols: dict[int, str] = field(default_factory=dict)  # pc -> function name (for disasm)
    syscall_names: dict[int, str] = field(default_factory=dict)  # key -> imported name
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.version = SBPFVersion(self.version)
        if self.ro_region is None:
            self.ro_region = (self.text_vaddr, self.text)

    @property
    def instruction_count(self) -> int:
        return len(self.text) // INSN_SIZE

    @classmethod
    def from_text(cls, text: bytes, version: SBPFVersion = SBPFVersion.V0, *,
                  syscalls: SyscallLookup | None = None, entry_pc: int = 0,
                  functions: FunctionRegistry | None = None, verify: bool = True) -> "Executable":
        """A bare executable from raw bytecode, as sbpf's `Executable::from_text_bytes`.

        The text is mapped at MM_PROGRAM_START (v0-v2) and the entrypoint is registered.
        """
        from .verifier import verify as run_verifier

        functions = functions or FunctionRegistry()
        if entry_pc is not None and ENTRYPOINT_KEY not in functions.by_key:
            functions.register(ENTRYPOINT_KEY, "entrypoint", entry_pc)
        exe = cls(version=SBPFVersion(version), text=bytes(text), entry_pc=entry_pc,
                  functions=functions, syscalls=syscalls or EmptySyscalls())
        if verify:
            run_verifier(exe)
        return exe
