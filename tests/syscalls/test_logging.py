"""The logging syscalls (sol_log_, sol_log_64_, sol_log_pubkey, sol_log_compute_units_, abort,
sol_panic_) against LiteSVM, in each loader."""

import pytest

from ._diff import program, ptr, store_bytes

RO = 'msg: .ascii "hello, world"\nbad: .byte 0xff, 0xfe, 0x6f, 0x6b\nfile: .ascii "src/lib.rs"\n'


@pytest.mark.parametrize("loader", ["upgradeable", "bpf2", "deprecated"])
def test_logs(diff, loader):
    body = ("lddw r1, msg\nmov64 r2, 12\ncall sol_log_\nlddw r1, msg\nmov64 r2, 0\ncall sol_log_\n"
            "lddw r1, 0x1234\nmov64 r2, -1\nmov64 r3, 0\nmov64 r4, 7\nmov64 r5, 8\ncall sol_log_64_\n"
            "lddw r1, msg\ncall sol_log_pubkey\n" + store_bytes(61, bytes(range(32))) + ptr("r1", 61)
            + "call sol_log_pubkey\ncall sol_log_compute_units_\n"
            "lddw r1, 0x300000000\nlddw r2, 0x200\ncall sol_log_\ncall sol_log_compute_units_\n")
    diff.check_asm(program(body, RO), loader=loader)


@pytest.mark.parametrize("case", [
    "lddw r1, bad\nmov64 r2, 4\ncall sol_log_\n",
    "lddw r1, bad\nmov64 r2, 1\ncall sol_log_\n",
    "mov64 r1, 0\nmov64 r2, 1\ncall sol_log_\n",
    "lddw r1, msg\nmov64 r2, 0x1000\ncall sol_log_\n",
    "mov64 r1, 8\ncall sol_log_pubkey\n",
    "call abort\n",
    "lddw r1, file\nmov64 r2, 10\nmov64 r3, 42\nmov64 r4, 7\ncall sol_panic_\n",
    "lddw r1, bad\nmov64 r2, 4\nmov64 r3, 42\nmov64 r4, 7\ncall sol_panic_\n",
    "mov64 r1, 0\nmov64 r2, 4\nmov64 r3, 42\nmov64 r4, 7\ncall sol_panic_\n",
], ids=lambda s: None)
def test_log_errors(diff, case):
    diff.check_asm(program(case, RO))
