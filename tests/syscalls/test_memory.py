"""sol_memcpy_, sol_memmove_, sol_memset_, sol_memcmp_ and sol_alloc_free_ against LiteSVM."""

import pytest

from ._diff import dump, fill, log_r0, program, ptr, store_bytes

RO = "ro: .ascii \"0123456789abcdefghijklmnopqrstuvwxyz\"\n"


def test_memcpy_memmove_memset_results(diff):
    body = (
        fill(64, 64, 0x1111111111111111)
        + "lddw r2, ro\n" + ptr("r1", 64) + "mov64 r3, 20\ncall sol_memcpy_\n" + log_r0()
        + ptr("r1", 60) + ptr("r2", 64) + "mov64 r3, 12\ncall sol_memmove_\n"   # forward overlap
        + ptr("r1", 64) + ptr("r2", 58) + "mov64 r3, 10\ncall sol_memmove_\n"   # backward overlap
        + ptr("r1", 40) + "mov64 r2, 0x1ab\nmov64 r3, 7\ncall sol_memset_\n" + log_r0()
        + ptr("r1", 64) + "mov64 r2, 0\nmov64 r3, 0\ncall sol_memcpy_\n"        # n = 0, same address
        + "mov64 r1, 0\nmov64 r2, 0\nmov64 r3, 0\ncall sol_memmove_\n"          # n = 0, null
        + "mov64 r1, 0\nmov64 r2, 0x55\nmov64 r3, 0\ncall sol_memset_\n"
        + dump(64, 64)
    )
    diff.check_asm(program(body, RO))


@pytest.mark.parametrize("n", [249, 250, 2500, 10_000])
def test_mem_op_costs(diff, n):
    body = ptr("r1", 4096) + ptr("r2", 2048) + f"mov64 r3, {n // 4}\ncall sol_memmove_\n" \
        + ptr("r1", 4096) + f"mov64 r2, 7\nmov64 r3, {n // 2}\ncall sol_memset_\n" \
        + "call sol_log_compute_units_\n"
    # n-sized ops on the heap (the stack frame is only 4 KiB)
    body += f"lddw r1, 0x300000000\nlddw r2, 0x300004000\nlddw r3, {n}\ncall sol_memcpy_\n" \
        + f"lddw r1, 0x300000000\nlddw r2, 0x300004000\nlddw r3, {n}\nmov64 r4, r10\nsub64 r4, 8\ncall sol_memcmp_\n" \
        + "call sol_log_compute_units_\n"
    diff.check_asm(program(body))


@pytest.mark.parametrize("case", [
    # overlapping memcpy: dst inside src, src inside dst, identical
    ptr("r1", 64) + ptr("r2", 60) + "mov64 r3, 8\ncall sol_memcpy_\n",
    ptr("r1", 60) + ptr("r2", 64) + "mov64 r3, 8\ncall sol_memcpy_\n",
    ptr("r1", 64) + ptr("r2", 64) + "mov64 r3, 1\ncall sol_memcpy_\n",
    # destination read-only (program region) / unmapped / past the end of the stack frame
    "lddw r1, ro\n" + ptr("r2", 64) + "mov64 r3, 8\ncall sol_memcpy_\n",
    "lddw r1, ro\n" + ptr("r2", 64) + "mov64 r3, 8\ncall sol_memmove_\n",
    "lddw r1, 0x500000000\n" + ptr("r2", 64) + "mov64 r3, 8\ncall sol_memmove_\n",
    ptr("r1", 16) + ptr("r2", 64) + "mov64 r3, 17\ncall sol_memcpy_\n",
    # source out of bounds (below stack frame 0, in the heap's end, null)
    ptr("r1", 64) + "lddw r2, 0x1fffffff8\nmov64 r3, 8\ncall sol_memcpy_\n",
    ptr("r1", 64) + "lddw r2, 0x300007ffc\nmov64 r3, 8\ncall sol_memcpy_\n",
    ptr("r1", 64) + "mov64 r2, 0\nmov64 r3, 8\ncall sol_memmove_\n",
    # memset into read-only / unmapped; huge lengths (cost first, then the fault)
    "lddw r1, ro\nmov64 r2, 1\nmov64 r3, 1\ncall sol_memset_\n",
    ptr("r1", 64) + "mov64 r2, 1\nlddw r3, 0x100000\ncall sol_memset_\n",
    ptr("r1", 64) + "mov64 r2, 1\nlddw r3, 0xffffffffffffffff\ncall sol_memset_\n",
    ptr("r1", 64) + ptr("r2", 32) + "lddw r3, 0x7fffffffffffffff\ncall sol_memmove_\n",
    # memcmp: bad inputs and result pointers
    ptr("r1", 64) + "mov64 r2, 0\nmov64 r3, 4\n" + ptr("r4", 8) + "call sol_memcmp_\n",
    ptr("r1", 64) + ptr("r2", 32) + "mov64 r3, 4\n" + ptr("r4", 7) + "call sol_memcmp_\n",
    ptr("r1", 64) + ptr("r2", 32) + "mov64 r3, 4\n" + ptr("r4", 6) + "call sol_memcmp_\n",
    ptr("r1", 64) + ptr("r2", 32) + "mov64 r3, 4\nlddw r4, ro\ncall sol_memcmp_\n",
    ptr("r1", 64) + ptr("r2", 32) + "mov64 r3, 4\nmov64 r4, 0\ncall sol_memcmp_\n",
    # memcmp with n = 0 never reads its inputs
    "mov64 r1, 0\nmov64 r2, 0\nmov64 r3, 0\n" + ptr("r4", 8) + "call sol_memcmp_\n" + "ldxw r1, [r10-8]\ncall sol_log_64_\n",
], ids=lambda s: None)
def test_mem_op_errors(diff, case):
    diff.check_asm(program(case, RO))


def test_memcmp_results(diff):
    body = store_bytes(64, b"abcdef\x00\xff") + store_bytes(32, b"abcdeg\x00\x01")
    for a, b, n in [(64, 32, 5), (64, 32, 6), (32, 64, 6), (64, 32, 0), (64 - 7, 32 - 7, 1), (32 - 7, 64 - 7, 1)]:
        body += fill(8, 8, 0x7777777777777777) + ptr("r1", a) + ptr("r2", b) + f"mov64 r3, {n}\n" \
            + ptr("r4", 8) + "call sol_memcmp_\n" + log_r0() + "ldxdw r1, [r10-8]\ncall sol_log_64_\n"
    diff.check_asm(program(body))


def test_memory_ops_in_deprecated_loader_skip_alignment(diff):
    """BPFLoader1 programs are not alignment-checked (memcmp's i32 result may be unaligned)."""
    body = store_bytes(64, b"abc") + store_bytes(32, b"abd") + ptr("r1", 64) + ptr("r2", 32) \
        + "mov64 r3, 3\n" + ptr("r4", 15) + "call sol_memcmp_\nldxw r1, [r10-15]\ncall sol_log_64_\n"
    diff.check_asm(program(body), loader="deprecated")


def test_memory_ops_in_bpf_loader2(diff):
    body = ptr("r1", 64) + ptr("r2", 60) + "mov64 r3, 8\ncall sol_memcpy_\n"
    diff.check_asm(program(body), loader="bpf2")


# --- sol_alloc_free_ ----------------------------------------------------------------------------
def _alloc(size: int, free: int = 0) -> str:
    return f"lddw r1, {size:#x}\nlddw r2, {free:#x}\ncall sol_alloc_free_\n" + log_r0()


@pytest.mark.parametrize("loader", ["upgradeable", "deprecated"])
def test_alloc_free(diff, loader):
    body = (_alloc(1) + _alloc(0x67) + _alloc(8) + _alloc(0) + _alloc(3, free=0x300000000)
            + _alloc(32 * 1024) + _alloc(0x7ef0) + _alloc(64) + _alloc(1) + _alloc(0xffffffffffffffff)
            + _alloc(0x7ffffffffffffff9) + _alloc(0x8000000000000000))
    diff.check_asm(program(body), loader=loader)


def test_alloc_free_memory_is_usable(diff):
    body = ("mov64 r1, 16\nmov64 r2, 0\ncall sol_alloc_free_\nmov64 r6, r0\n"
            "mov64 r1, r6\nmov64 r2, 0x41\nmov64 r3, 16\ncall sol_memset_\n"
            "ldxdw r1, [r6+0]\nldxdw r2, [r6+8]\ncall sol_log_64_\n")
    diff.check_asm(program(body))


def test_memcpy_across_stack_frames(diff):
    """The v0 stack is gapped: VM ranges that do not overlap can share host bytes (frame 0's end
    and frame 1's start are adjacent on the host). memcpy checks VM overlap only, then moves."""
    body = (fill(32, 32, 0x0102030405060708)
            + "lddw r1, 0x200002000\nlddw r2, 0x200000ff0\nmov64 r3, 32\ncall sol_memcpy_\n" + log_r0()
            + "lddw r6, 0x200002000\nldxdw r1, [r6+0]\nldxdw r2, [r6+8]\nldxdw r3, [r6+16]\nldxdw r4, [r6+24]\n"
            + "call sol_log_64_\n"
            + "lddw r1, 0x200001ff8\n" + ptr("r2", 32) + "mov64 r3, 8\ncall sol_memcpy_\n")  # into a gap
    diff.check_asm(program(body))
