"""Memory syscalls as Agave 4.1 runs them: sol_memcpy_, sol_memmove_, sol_memset_, sol_memcmp_
and the deprecated heap allocator sol_alloc_free_.

Cost of each mem op: max(mem_op_base_cost = 10, n / cpi_bytes_per_unit = n / 250), charged first.
memcpy refuses ranges that overlap in the VM address space ("Overlapping copy"); the copy itself
is always a memmove. memcmp writes an i32 (the difference of the first differing bytes, a - b) to
a 4-byte-aligned result pointer and returns 0.
"""

from __future__ import annotations

import struct

from ..vm.isa import MM_HEAP_START
from .translate import (
    OVERLAPPING_COPY,
    U64_MAX,
    check_aligned,
    consume,
    translate_mut,
    translate_slice,
)
from ..vm.errors import SyscallError

MEM_OP_BASE_COST = 10
CPI_BYTES_PER_UNIT = 250
BPF_ALIGN_OF_U128 = 8

_I32 = struct.Struct("<i")


def mem_op_consume(vm, n: int) -> None:
    consume(vm, max(MEM_OP_BASE_COST, n // CPI_BYTES_PER_UNIT))


def is_nonoverlapping(src: int, src_len: int, dst: int, dst_len: int) -> bool:
    if src > dst:
        return src - dst >= dst_len
    return dst - src >= src_len


def _memmove(vm, dst: int, src: int, n: int) -> int:
    aligned = check_aligned(vm)
    (dst_range,) = translate_mut(vm, aligned, [("slice", dst, n, 1, 1)])
    data = translate_slice(vm, src, n, 1, 1, aligned).read()
    dst_range.write(data)
    return 0


def sol_memcpy_(vm, dst, src, n, _d, _e) -> int:
    mem_op_consume(vm, n)
    if not is_nonoverlapping(src, n, dst, n):
        raise SyscallError(OVERLAPPING_COPY)
    return _memmove(vm, dst, src, n)


def sol_memmove_(vm, dst, src, n, _d, _e) -> int:
    mem_op_consume(vm, n)
    return _memmove(vm, dst, src, n)


def sol_memcmp_(vm, s1, s2, n, result_addr, _e) -> int:
    mem_op_consume(vm, n)
    aligned = check_aligned(vm)
    a = translate_slice(vm, s1, n, 1, 1, aligned).read()
    b = translate_slice(vm, s2, n, 1, 1, aligned).read()
    result = 0
    if a != b:
        for x, y in zip(a, b):
            if x != y:
                result = x - y
                break
    (out,) = translate_mut(vm, aligned, [("type", result_addr, 4, 4)])
    out.write(_I32.pack(result))
    return 0


def sol_memset_(vm, dst, c, n, _d, _e) -> int:
    mem_op_consume(vm, n)
    aligned = check_aligned(vm)
    (out,) = translate_mut(vm, aligned, [("slice", dst, n, 1, 1)])
    out.write(bytes([c & 0xFF]) * n if n else b"")
    return 0


# --- sol_alloc_free_ ----------------------------------------------------------------------------
class BpfAllocator:
    """Agave's `BpfAllocator`: a bump allocator over the heap region, from its start upwards."""

    def __init__(self, length: int):
        self.len = length
        self.pos = 0

    def alloc(self, size: int, align: int) -> int | None:
        bytes_to_align = (-self.pos) % align
        if self.pos + bytes_to_align + size <= self.len:
            self.pos += bytes_to_align
            addr = MM_HEAP_START + self.pos
            self.pos += size
            return addr
        return None


def _heap_len(vm) -> int:
    region = vm.memory.region_for(MM_HEAP_START)
    return region.host_len if region is not None and region.vaddr == MM_HEAP_START else 0


def _allocator(vm) -> BpfAllocator:
    """The allocator of the running VM: `vm.context.heap_allocators[-1]`, created on first use."""
    stack = getattr(vm.context, "heap_allocators", None)
    if stack is None:  # a bare VM (no runtime): keep the allocator on the VM itself
        alloc = getattr(vm, "_bpf_allocator", None)
        if alloc is None:
            alloc = vm._bpf_allocator = BpfAllocator(_heap_len(vm))
        return alloc
    if not stack:
        stack.append(None)
    if stack[-1] is None:
        stack[-1] = BpfAllocator(_heap_len(vm))
    return stack[-1]


def sol_alloc_free_(vm, size, free_addr, _c, _d, _e) -> int:
    """No compute cost. Allocation aligns to 8 (1 for deprecated-loader programs); a request
    whose rounded-up size exceeds isize::MAX, an exhausted heap, and every free return 0."""
    align = BPF_ALIGN_OF_U128 if check_aligned(vm) else 1
    # Layout::from_size_align: the size rounded up to the alignment must not exceed isize::MAX.
    if size + (-size) % align > (1 << 63) - 1:
        return 0
    if free_addr != 0:
        return 0
    addr = _allocator(vm).alloc(size, align)
    return 0 if addr is None else addr & U64_MAX
