"""Agave's `ComputeMeter`: one budget shared by every instruction and syscall of a transaction."""

from __future__ import annotations

from ..vm.errors import SyscallError


class ComputeMeter:
    """Remaining compute units. The VM reports executed instructions with `consume` (saturating);
    syscalls charge with `consume_checked`, which zeroes the meter and fails when short."""

    def __init__(self, limit: int):
        self.limit = limit
        self.remaining = limit

    def consume(self, amount: int) -> None:
        self.remaining = max(0, self.remaining - amount)

    def consume_checked(self, amount: int) -> None:
        if self.remaining < amount:
            self.remaining = 0
            raise SyscallError("Computational budget exceeded", "ComputationalBudgetExceeded")
        self.remaining -= amount

    def get_remaining(self) -> int:
        return self.remaining

    def deplete(self) -> None:
        """Agave drains the meter after a VM fault (SIMD-0182)."""
        self.remaining = 0
