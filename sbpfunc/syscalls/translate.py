"""Agave's pointer translation for syscalls (`translate_type`, `translate_slice`, `translate_mut!`).

Every syscall argument that points into guest memory goes through these, with Agave's order of
checks and its error texts:

* a range is first mapped (an access violation names the range's start and its *total* size in
  bytes), then its alignment is checked ("Unaligned pointer") — unless the running program is
  owned by the deprecated loader, which never checks alignment;
* a slice of zero elements is never mapped (any pointer is fine);
* a slice whose byte size does not fit an `isize` is "InvalidLength" (the size saturates at
  u64::MAX first);
* writable ranges (`translate_mut!`) are all mapped for store first, then all checked for
  alignment, then checked pairwise for overlap ("Overlapping copy").

Errors are `SyscallError`s: they fail the instruction without draining the compute meter.
"""

from __future__ import annotations

import struct

from ..runtime.accounts import BPF_LOADER_DEPRECATED_ID
from ..vm.errors import AccessViolation, StackAccessViolation, SyscallError
from ..vm.isa import M64

I64_MAX = (1 << 63) - 1
U64_MAX = M64

# Agave's SyscallError Display texts.
UNALIGNED_POINTER = "Unaligned pointer"
INVALID_LENGTH = "InvalidLength"
INVALID_POINTER = "Invalid pointer"
OVERLAPPING_COPY = "Overlapping copy"
INVALID_ATTRIBUTE = "InvalidAttribute"

_U64 = struct.Struct("<Q")


def instruction_error(kind: str) -> SyscallError:
    """A syscall failing with an `InstructionError` (the instruction ends with that error)."""
    from ..runtime.errors import MESSAGES

    return SyscallError(MESSAGES.get(kind, kind), kind)


def check_aligned(vm) -> bool:
    """Agave's `InvokeContext::get_check_aligned`: false only for deprecated-loader programs."""
    tx = getattr(vm.context, "tx", None)
    if tx is None or not getattr(tx, "stack", None):
        return True
    return tx.accounts[tx.current.program_id_index].owner != BPF_LOADER_DEPRECATED_ID


def _map(vm, addr: int, size: int, write: bool):
    """(host buffer, offset) of [addr, addr+size); an access violation becomes a SyscallError."""
    try:
        return vm.memory.translate(addr, size, write)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None


class Range:
    """A translated guest range: its host buffer, offset and length."""

    __slots__ = ("buf", "off", "len", "vaddr")

    def __init__(self, buf, off: int, length: int, vaddr: int):
        self.buf, self.off, self.len, self.vaddr = buf, off, length, vaddr

    def read(self) -> bytes:
        return bytes(self.buf[self.off:self.off + self.len])

    def write(self, data: bytes) -> None:
        assert len(data) == self.len
        if self.len:
            self.buf[self.off:self.off + self.len] = data

    def overlaps(self, other: "Range") -> bool:
        if self.len == 0 or other.len == 0 or self.buf is not other.buf:
            return False
        return not (self.off + self.len <= other.off or other.off + other.len <= self.off)


_EMPTY = Range(b"", 0, 0, 0)


def _byte_size(count: int, elem_size: int) -> int:
    total = min(count * elem_size, U64_MAX)  # saturating_mul
    if total > I64_MAX:
        raise SyscallError(INVALID_LENGTH)
    return total


def translate_type(vm, addr: int, size: int, align: int, aligned: bool, write: bool = False) -> Range:
    """`translate_type::<T>`: map `size_of::<T>()` bytes, then check `align_of::<T>()`."""
    buf, off = _map(vm, addr, size, write)
    if aligned and addr % align:
        raise SyscallError(UNALIGNED_POINTER)
    return Range(buf, off, size, addr)


def translate_slice(vm, addr: int, count: int, elem_size: int, align: int, aligned: bool,
                    write: bool = False) -> Range:
    """`translate_slice::<T>`: nothing for zero elements; else InvalidLength, map, alignment."""
    if count == 0:
        return _EMPTY
    total = _byte_size(count, elem_size)
    buf, off = _map(vm, addr, total, write)
    if aligned and addr % align:
        raise SyscallError(UNALIGNED_POINTER)
    return Range(buf, off, total, addr)


def read_bytes(vm, addr: int, length: int, aligned: bool) -> bytes:
    """`translate_slice::<u8>` copied out."""
    return translate_slice(vm, addr, length, 1, 1, aligned).read()


def read_vm_slices(vm, addr: int, count: int, aligned: bool) -> list[tuple[int, int]]:
    """A `&[VmSlice<u8>]` (16-byte {ptr, len} pairs, align 8) as (ptr, len) tuples."""
    raw = translate_slice(vm, addr, count, 16, 8, aligned).read()
    return [(_U64.unpack_from(raw, 16 * i)[0], _U64.unpack_from(raw, 16 * i + 8)[0]) for i in range(count)]


def translate_mut(vm, aligned: bool, specs: list[tuple]) -> list[Range]:
    """Agave's `translate_mut!`: each spec is ("type", addr, size, align) or
    ("slice", addr, count, elem_size, align). Touch all for store, then translate all with the
    alignment check, then refuse pairwise overlaps."""
    # 1. touch (map for store; zero-length slices are skipped)
    for spec in specs:
        if spec[0] == "type":
            _, addr, size, _align = spec
            _map(vm, addr, size, True)
        else:
            _, addr, count, elem_size, _align = spec
            if count:
                _map(vm, addr, min(count * elem_size, U64_MAX), True)
    # 2. translate with alignment (and the slice length check)
    ranges = []
    for spec in specs:
        if spec[0] == "type":
            _, addr, size, align = spec
            ranges.append(translate_type(vm, addr, size, align, aligned, write=True))
        else:
            _, addr, count, elem_size, align = spec
            ranges.append(translate_slice(vm, addr, count, elem_size, align, aligned, write=True))
    # 3. overlap check between every pair of host ranges
    for i, a in enumerate(ranges):
        for b in ranges[i + 1:]:
            if a.overlaps(b):
                raise SyscallError(OVERLAPPING_COPY)
    return ranges


def consume(vm, units: int) -> None:
    """`compute_meter.consume_checked(units)` (units saturate at u64::MAX)."""
    vm.context.consume_checked(min(units, U64_MAX))
