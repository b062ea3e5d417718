"""Every divergence ever found between the interpreter and the translated engine, kept forever.

Each entry is the program *text* (not a seed), so it stays meaningful when the generator in
`fuzz_programs.py` changes. `test_fuzz_engines.py::test_regression` runs each one on both
engines, eager and lazy, at its full budget and at every budget listed (or every budget up to
the full count when `all_budgets` is set), and compares every observable.

To add one: paste the failing program's `asm` (the fuzz test prints it) with its version and
input, name it after what went wrong, and say in `found` how it was found and which engine was
wrong. Translator-path probes (programs written to hit one fragile path of the translator, not
found by a failure) are kept here too, marked `found="probe"`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regression:
    name: str
    version: int
    asm: str
    found: str
    input: bytes = b""
    budgets: tuple = ()
    all_budgets: bool = False


REGRESSIONS = [
    Regression(
        name="call_depth_exceeded_keeps_r0_r5",
        version=0,
        found=("translator bug, found by tests/vm/cases.py v0_call_depth_64_fails during "
               "development: on CallDepthExceeded the translated engine left r0..r5 of m.regs "
               "stale (the push-frame line was marked 'registers synced' although only r6..r10 "
               "had been written); fixed by writing the locals back there"),
        asm="""
entrypoint:
    mov64 r0, 63
    mov64 r3, 0x41414141
    call f
    exit
f:
    add64 r3, 1
    call f
    exit
""",
        budgets=(10, 64, 127, 128, 129),
    ),
    Regression(
        name="callx_outside_text_after_push_keeps_bumped_r10",
        version=0,
        found="probe: _callx pushes the frame and bumps r10 before its range check fails",
        asm="""
entrypoint:
    mov64 r6, 3
    lddw r2, 0x100100000
    callx r2
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="fault_in_second_inlined_block_of_a_loop",
        version=0,
        found="probe: a deopt (heap end) in the middle of an inlined loop path",
        asm="""
entrypoint:
    lddw r1, 0x300007fa0
    mov64 r2, 0
loop:
    jgt r2, 1000, out
    stxdw [r1+0], r2
    ldxdw r3, [r1+0]
    add64 r1, 24
    add64 r2, r3
    add64 r2, 1
    ja loop
out:
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="gapped_stack_through_pointers_and_straddle",
        version=0,
        found="probe: gap translation for non-r10 pointers, the end-of-frame straddle quirk, a gap hit",
        asm="""
entrypoint:
    lddw r1, 0x200000ffc
    lddw r2, 0x1122334455667788
    stxdw [r1+0], r2
    ldxdw r3, [r1+0]
    lddw r4, 0x200002000
    ldxw r5, [r4+0]
    mov64 r0, r3
    xor64 r0, r5
    lddw r4, 0x200001000
    ldxb r5, [r4+0]
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="frame_relative_access_across_calls",
        version=0,
        found="probe: s10 (host offset of r10) recomputed after call and return",
        asm="""
entrypoint:
    stdw [r10-8], 11
    mov64 r6, 5
    call f
    ldxdw r0, [r10-8]
    add64 r0, r6
    exit
f:
    stdw [r10-8], 22
    stdw [r10-4096], 33
    ldxdw r1, [r10-8]
    jeq r6, 0, back
    sub64 r6, 1
    call f
back:
    ldxdw r2, [r10-4096]
    add64 r1, r2
    stxdw [r10-16], r1
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="addresses_wrap_around_2_64",
        version=0,
        found="probe: unmasked address arithmetic (negative / >= 2^64) must deopt, not alias",
        asm="""
entrypoint:
    mov64 r1, 4
    ldxdw r0, [r1-8]
    exit
""",
    ),
    Regression(
        name="addresses_wrap_past_2_64",
        version=0,
        found="probe: unmasked address arithmetic (>= 2^64) must deopt",
        asm="""
entrypoint:
    mov64 r1, -1
    stb [r1+16], 1
    exit
""",
    ),
    Regression(
        name="syscall_sees_current_registers",
        version=0,
        found="probe: registers held in locals are written back before a syscall reads vm.regs",
        asm="""
entrypoint:
    mov64 r6, 0
loop:
    add64 r7, r6
    mov64 r8, r7
    mul64 r8, 3
    mov64 r9, r8
    call fuzz_regs
    add64 r6, 1
    jlt r6, 5, loop
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="store_to_program_image_faults",
        version=0,
        found="probe: the read-only image is readable inline but must never be written",
        asm="""
entrypoint:
    lddw r1, 0x100000000
    ldxdw r0, [r1+8]
    stxdw [r1+8], r0
    exit
""",
    ),
    Regression(
        name="v2_stack_without_gaps_and_moving_r10",
        version=2,
        found="probe: v2 dynamic frames (add64 r10) with the plain stack inlined",
        asm="""
entrypoint:
    add64 r10, -64
    stdw [r10+0], 5
    mov64 r1, r10
    call f
    ldxdw r0, [r10+0]
    exit
f:
    add64 r10, -128
    ldxdw r2, [r1+0]
    stxdw [r10+8], r2
    ldxdw r3, [r10+8]
    add64 r3, 1
    stxdw [r1+0], r3
    exit
""",
        all_budgets=True,
    ),
    Regression(
        name="budget_smaller_than_longest_region_path",
        version=0,
        found="probe: a region pass that may not fit runs instruction by instruction",
        asm="""
entrypoint:
    mov64 r1, 0
top:
    add64 r1, 1
    jgt r1, 3, long
    ja top
long:
    add64 r1, 1
    add64 r1, 1
    add64 r1, 1
    add64 r1, 1
    jlt r1, 30, top
    mov64 r0, r1
    exit
""",
        all_budgets=True,
    ),
]

# Seeds of fuzz_programs.generate() whose programs diverged at some point, with the generator
# commit they refer to. Prefer adding the program text above (seeds change meaning when the
# generator changes); seeds are kept here only as a pointer.
SEEDS: list[tuple[int, str]] = []
