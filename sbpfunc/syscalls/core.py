"""Core Solana syscalls with Agave's costs and messages.

Handlers are `fn(vm, r1, r2, r3, r4, r5) -> r0`. They reach the runtime through `vm.context`,
which provides `consume_checked(units)`, `get_remaining()` and `log(line)` (Agave's
InvokeContext does the same), and guest memory through `vm.memory`. Failures raise
`SyscallError` with Agave's text; the runtime logs it and does not drain the meter.
"""

from __future__ import annotations

from ..vm.errors import AccessViolation, StackAccessViolation, SyscallError
from ..vm.isa import M64
from .registry import Syscall, SyscallRegistry

SYSCALL_BASE_COST = 100
LOG_64_UNITS = 100
LOG_PUBKEY_UNITS = 100


def read_guest(vm, addr: int, length: int) -> bytes:
    """Bytes from guest memory; an access violation becomes the syscall's error (no CU drain)."""
    try:
        return vm.memory.read(addr, length)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None


def write_guest(vm, addr: int, data: bytes) -> None:
    try:
        vm.memory.write(addr, data)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # Rust's Utf8Error Display, as Agave logs it.
        # Agave's SyscallError::InvalidString(Utf8Error, Vec<u8>) prints "{err}: {bytes:?}".
        raw = "[" + ", ".join(str(b) for b in data) + "]"
        if e.reason == "unexpected end of data":
            raise SyscallError(f"incomplete utf-8 byte sequence from index {e.start}: {raw}") from None
        raise SyscallError(
            f"invalid utf-8 sequence of {e.end - e.start} bytes from index {e.start}: {raw}") from None


def sol_log_(vm, addr, length, _c, _d, _e) -> int:
    vm.context.consume_checked(max(SYSCALL_BASE_COST, length))
    vm.context.log("Program log: " + _utf8(read_guest(vm, addr, length)))
    return 0


def sol_log_64_(vm, a, b, c, d, e) -> int:
    vm.context.consume_checked(LOG_64_UNITS)
    vm.context.log(f"Program log: {a:#x}, {b:#x}, {c:#x}, {d:#x}, {e:#x}")
    return 0


def sol_log_compute_units_(vm, _a, _b, _c, _d, _e) -> int:
    vm.context.consume_checked(SYSCALL_BASE_COST)
    vm.context.log(f"Program consumption: {vm.context.get_remaining()} units remaining")
    return 0


def sol_log_pubkey(vm, addr, _b, _c, _d, _e) -> int:
    from solders.pubkey import Pubkey

    vm.context.consume_checked(LOG_PUBKEY_UNITS)
    vm.context.log("Program log: " + str(Pubkey.from_bytes(read_guest(vm, addr, 32))))
    return 0


def abort(vm, _a, _b, _c, _d, _e) -> int:
    raise SyscallError("SBF program panicked")


def sol_panic_(vm, file_addr, length, line, column, _e) -> int:
    vm.context.consume_checked(length)
    file = _utf8(read_guest(vm, file_addr, length))
    raise SyscallError(f"SBF program Panicked in {file} at {line & M64}:{column & M64}")


LOGGING_SYSCALLS = [
    Syscall("abort", abort),
    Syscall("sol_panic_", sol_panic_),
    Syscall("sol_log_", sol_log_),
    Syscall("sol_log_64_", sol_log_64_),
    Syscall("sol_log_compute_units_", sol_log_compute_units_),
    Syscall("sol_log_pubkey", sol_log_pubkey),
]


def logging_registry() -> SyscallRegistry:
    """The logging syscalls only: what `sbpfunc run` offers a bare program."""
    return SyscallRegistry(LOGGING_SYSCALLS)
