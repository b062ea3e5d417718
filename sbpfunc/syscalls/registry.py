"""The syscall registry: murmur3 key -> named handler, shared by core syscalls and SBPFuncs.

The VM only asks `lookup(key)`; the ELF loader asks it to resolve imports at deploy. Names and
keys must be unique: a new name whose murmur3 id collides with a registered one is refused, as
Agave's `SymbolHashCollision` would refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ..vm.errors import SbpfuncError
from ..vm.executable import hash_symbol_name


class RegistryError(SbpfuncError):
    """A syscall could not be registered (duplicate name or murmur3 id collision)."""


@dataclass(frozen=True)
class Syscall:
    name: str
    handler: Callable[..., int]
    deployable: bool = True  # False: runs when called but a deploy importing it is rejected

    @property
    def key(self) -> int:
        return hash_symbol_name(self.name)


class SyscallRegistry:
    """Syscalls by murmur3 key. Implements the VM's `SyscallLookup`."""

    def __init__(self, syscalls: Iterable[Syscall] = ()):
        self._by_key: dict[int, Syscall] = {}
        for s in syscalls:
            self.add(s)

    def add(self, syscall: Syscall) -> None:
        key = syscall.key
        existing = self._by_key.get(key)
        if existing is not None:
            if existing.name == syscall.name:
                raise RegistryError(f"syscall {syscall.name} is already registered")
            raise RegistryError(
                f"syscall {syscall.name} collides with {existing.name}: both hash to {key:#010x}")
        self._by_key[key] = syscall

    def register(self, name: str, handler: Callable[..., int], *, deployable: bool = True) -> None:
        self.add(Syscall(name, handler, deployable))

    def lookup(self, key: int):
        s = self._by_key.get(key)
        return None if s is None else (s.name, s.handler)

    def get(self, name: str) -> Syscall | None:
        s = self._by_key.get(hash_symbol_name(name))
        return s if s is not None and s.name == name else None

    def deployable(self, key: int) -> bool:
        s = self._by_key.get(key)
        return s is not None and s.deployable

    def names(self) -> list[str]:
        return sorted(s.name for s in self._by_key.values())

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        return len(self._by_key)
