"""sol_log_data, return data, stack height, processed siblings, epoch stake, the registry."""

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair

from sbpfunc.syscalls.core import runtime_registry, sol_remaining_compute_units
from sbpfunc.syscalls.features import FeatureSet
from sbpfunc.syscalls.registry import Syscall

from ._diff import dump, fill, log_r0, program, ptr, store_bytes, store_slice

# Every syscall name Agave 4.1's create_program_runtime_environment knows.
AGAVE_SYSCALLS = [
    "abort", "sol_panic_", "sol_log_", "sol_log_64_", "sol_log_pubkey", "sol_log_compute_units_",
    "sol_create_program_address", "sol_try_find_program_address", "sol_sha256", "sol_keccak256",
    "sol_secp256k1_recover", "sol_blake3", "sol_sha512", "sol_curve_validate_point", "sol_curve_group_op",
    "sol_curve_multiscalar_mul", "sol_curve_decompress", "sol_curve_pairing_map", "sol_get_clock_sysvar",
    "sol_get_epoch_schedule_sysvar", "sol_get_fees_sysvar", "sol_get_rent_sysvar", "sol_get_last_restart_slot",
    "sol_get_epoch_rewards_sysvar", "sol_memcpy_", "sol_memmove_", "sol_memset_", "sol_memcmp_",
    "sol_get_processed_sibling_instruction", "sol_get_stack_height", "sol_set_return_data",
    "sol_get_return_data", "sol_invoke_signed_c", "sol_invoke_signed_rust", "sol_alloc_free_",
    "sol_alt_bn128_group_op", "sol_big_mod_exp", "sol_poseidon", "sol_remaining_compute_units",
    "sol_alt_bn128_compression", "sol_get_sysvar", "sol_get_epoch_stake", "sol_log_data",
]
CPI = ["sol_invoke_signed_c", "sol_invoke_signed_rust"]


def test_registry_matches_litesvm(diff):
    """A syscall is registered by runtime_registry() exactly when LiteSVM runs it (an unregistered
    one fails with "unsupported BPF instruction"); CPI is added by its own module via `extra`."""
    registered = set(runtime_registry().names())
    in_litesvm = set()
    for name in AGAVE_SYSCALLS:
        pid = diff.deploy_asm(f"entrypoint:\nmov64 r1, 0\nmov64 r2, 0\ncall {name}\nmov64 r0, 0\nexit\n")
        out = diff.run_lite([Instruction(pid, b"", [])])
        if not any(line.endswith("failed: unsupported BPF instruction") for line in out.logs):
            in_litesvm.add(name)
    assert registered | set(CPI) == in_litesvm
    assert not runtime_registry().get("sol_alloc_free_").deployable
    assert all(runtime_registry().get(n).deployable for n in registered - {"sol_alloc_free_"})


def test_registry_extra_and_features():
    dummy = [Syscall(n, lambda vm, a, b, c, d, e: 0) for n in CPI]
    reg = runtime_registry(extra=dummy)
    assert set(CPI) <= set(reg.names())
    full = runtime_registry(FeatureSet.all_enabled())
    assert {"sol_remaining_compute_units", "sol_blake3", "sol_sha512", "sol_big_mod_exp"} <= set(full.names())
    assert "sol_get_fees_sysvar" not in full
    assert "sol_get_fees_sysvar" in runtime_registry(FeatureSet(disable_fees_sysvar=False))
    assert "sol_curve_group_op" not in runtime_registry(FeatureSet(curve25519_syscall_enabled=False))


def test_remaining_compute_units():
    from sbpfunc.vm.interpreter import BudgetMeter

    class Vm:
        context = BudgetMeter(1000)

    assert sol_remaining_compute_units(Vm(), 0, 0, 0, 0, 0) == 900


def test_remaining_compute_units_unregistered(diff):
    diff.check_asm(program("call sol_remaining_compute_units\n" + log_r0()))


# --- sol_log_data -------------------------------------------------------------------------------
def _log_data(fields: list[bytes]) -> str:
    body = ""
    off = 512
    for i, f in enumerate(fields):
        body += store_bytes(off, f) + store_slice(1024 - 16 * i, off, len(f))
        off -= max(8, len(f) + (-len(f)) % 8)
    return body + ptr("r1", 1024) + f"mov64 r2, {len(fields)}\ncall sol_log_data\n" + log_r0()


def test_log_data(diff):
    body = (_log_data([]) + _log_data([b""]) + _log_data([b"hello"]) + _log_data([b"a", b"", b"\xff\x00" * 20])
            + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


@pytest.mark.parametrize("case", [
    ptr("r1", 1020) + "mov64 r2, 1\ncall sol_log_data\n",                      # unaligned array
    "mov64 r1, 0\nlddw r2, 0x1000000000000000\ncall sol_log_data\n",           # InvalidLength
    "mov64 r1, 0\nmov64 r2, 1\ncall sol_log_data\n",                           # array unmapped
    store_slice(1024, 512, 8) + "mov64 r9, 0\nstxdw [r10-1024], r9\n" + ptr("r1", 1024)
    + "mov64 r2, 1\ncall sol_log_data\n",                                      # field unmapped
    store_slice(1024, 512, 1 << 40) + ptr("r1", 1024) + "mov64 r2, 1\ncall sol_log_data\n",  # too costly
], ids=lambda s: None)
def test_log_data_errors(diff, case):
    diff.check_asm(program(case))


# --- return data --------------------------------------------------------------------------------
def _get_return(length: int, data_at: int = 128, pid_at: int = 64) -> str:
    return (fill(128, 128, 0x7777777777777777) + ptr("r1", data_at) + f"mov64 r2, {length}\n" + ptr("r3", pid_at)
            + "call sol_get_return_data\n" + log_r0() + dump(128, 128))


def test_return_data(diff):
    body = (_get_return(8) + store_bytes(256, b"return me!") + ptr("r1", 256) + "mov64 r2, 10\n"
            "call sol_set_return_data\n" + log_r0() + _get_return(16) + _get_return(3) + _get_return(0)
            + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


def test_return_data_cleared_and_large(diff):
    body = (store_bytes(256, b"xy") + ptr("r1", 256) + "mov64 r2, 2\ncall sol_set_return_data\n"
            + "mov64 r1, 0\nmov64 r2, 0\ncall sol_set_return_data\n" + _get_return(8))
    diff.check_asm(program(body))
    body = "lddw r1, 0x300000000\nmov64 r2, 1024\ncall sol_set_return_data\n" + _get_return(64)
    diff.check_asm(program(body + "call sol_log_compute_units_\n"))


@pytest.mark.parametrize("case", [
    "lddw r1, 0x300000000\nmov64 r2, 1025\ncall sol_set_return_data\n",
    "mov64 r1, 0\nmov64 r2, 1\ncall sol_set_return_data\n",
    "mov64 r1, 0\nlddw r2, 0xffffffffffffffff\ncall sol_set_return_data\n",
    "lddw r1, 0x300000000\nmov64 r2, 100\ncall sol_set_return_data\n" + _get_return(40, 128, 100),  # overlap
    "lddw r1, 0x300000000\nmov64 r2, 100\ncall sol_set_return_data\n"
    + _get_return(40).replace(ptr("r3", 64), "lddw r3, 0x100000000\n"),
    "lddw r1, 0x300000000\nmov64 r2, 100\ncall sol_set_return_data\n"
    + _get_return(40).replace(ptr("r1", 128), "mov64 r1, 0\n"),
    _get_return(40).replace(ptr("r1", 128), "mov64 r1, 0\n"),  # nothing to copy: never translated
], ids=lambda s: None)
def test_return_data_errors(diff, case):
    diff.check_asm(program(case))


def test_return_data_across_instructions(diff):
    setter = diff.deploy_asm(program(store_bytes(64, b"abc") + ptr("r1", 64) + "mov64 r2, 3\ncall sol_set_return_data\n"))
    getter = diff.deploy_asm(program(_get_return(8)))
    diff.check([Instruction(setter, b"", []), Instruction(getter, b"", [])])
    diff.check([Instruction(setter, b"", []), Instruction(setter, b"", [])])


# --- stack height, epoch stake ----------------------------------------------------------------------
def test_stack_height_and_epoch_stake(diff):
    vote = bytes(Keypair().pubkey())
    body = ("call sol_get_stack_height\n" + log_r0() + "mov64 r1, 0\ncall sol_get_epoch_stake\n" + log_r0()
            + store_bytes(64, vote) + ptr("r1", 64) + "call sol_get_epoch_stake\n" + log_r0()
            + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))
    diff.check_asm(program("mov64 r1, 8\ncall sol_get_epoch_stake\n"))
    diff.check_asm(program(ptr("r1", 8) + "call sol_get_epoch_stake\n"))


# --- processed sibling instructions -------------------------------------------------------------
def _sibling(index: int, meta=None, pid=None, data=None, accounts=None) -> str:
    """Ask for the lengths (header zeroed), then fetch with the returned lengths."""
    regs = (meta or ptr("r2", 16)) + (pid or ptr("r3", 64)) + (data or ptr("r4", 128)) + (accounts or ptr("r5", 512))
    return (fill(512, 512, 0x1111111111111111) + "mov64 r9, 0\nstxdw [r10-16], r9\nstxdw [r10-8], r9\n"
            + f"lddw r1, {index:#x}\n" + regs + "call sol_get_processed_sibling_instruction\n" + log_r0() + dump(16, 16)
            + f"lddw r1, {index:#x}\n" + regs + "call sol_get_processed_sibling_instruction\n" + log_r0()
            + dump(16, 16) + dump(64, 32) + dump(128, 24) + dump(512, 112))


@pytest.fixture(scope="module")
def sibling_setup(diff):
    noop = diff.deploy_asm("entrypoint:\nmov64 r0, 0\nexit\n")
    k1, k2 = Keypair().pubkey(), Keypair().pubkey()
    first = Instruction(noop, b"first!", [AccountMeta(diff.payer.pubkey(), True, True),
                                          AccountMeta(k1, False, False), AccountMeta(k2, False, True),
                                          AccountMeta(k1, False, False)])
    second = Instruction(noop, b"", [])
    return noop, first, second


def test_processed_siblings(diff, sibling_setup):
    noop, first, second = sibling_setup
    reader = diff.deploy_asm(program(_sibling(0) + _sibling(1) + _sibling(2) + _sibling(0xffffffffffffffff)
                                     + "call sol_log_compute_units_\n"))
    diff.check([first, second, Instruction(reader, b"me", [])])
    diff.check([Instruction(reader, b"alone", [])])


@pytest.mark.parametrize("case", [
    _sibling(1, meta=ptr("r2", 12)),                                   # unaligned header
    _sibling(1, meta="lddw r2, 0x100000000\n"),                        # read-only header
    _sibling(1, data=ptr("r4", 20)),                                   # data overlaps the header
    _sibling(1, pid=ptr("r3", 512)),                                   # program id overlaps accounts
    _sibling(1, accounts="mov64 r5, 0\n"),                             # accounts unmapped
    _sibling(5, meta="mov64 r2, 0\n"),                                 # nothing found: not translated
], ids=lambda s: None)
def test_processed_sibling_errors(diff, sibling_setup, case):
    noop, first, second = sibling_setup
    reader = diff.deploy_asm(program(case))
    diff.check([first, second, Instruction(reader, b"", [])])
