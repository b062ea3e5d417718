"""The test-program corpus as data: one or more scenarios per program in `programs/`.

Each scenario is a transaction's worth of instructions plus the pre-state of every account they
touch. `tests/toolchain/test_programs_litesvm.py` runs them in LiteSVM and checks the outcome each
program's `EXPECT:` comment promises; `tests/differential/record.py` turns them into golden cases
(`fixtures/cases/NAME.json`). Both read this file, so they cannot drift apart.

Everything is deterministic: keys come from `keypair(name)` (a seed derived from the name), never
from `Pubkey.new_unique()` or randomness, so recording twice gives identical files.

Conventions
* Program ids are `program_id("hello")` = `pubkey("program:hello")`; the fixture is
  `fixtures/hello.so`.
* The fee payer is not part of a scenario: use `keypair(PAYER)` (fund it yourself; it never
  appears in an instruction, so its balance does not belong in the golden accounts).
* `signers` lists the seed names of the keypairs that must sign besides the fee payer.
* Sysvar accounts (owner `Sysvar1111...`) in `accounts` define that sysvar for the scenario.
* Balances are rent-exempt (or zero) so no post-execution rent check interferes, except where a
  scenario says otherwise.
* `compute_unit_limit` is what the scenario's instructions get in total. When it differs from
  Agave's default for them (200 000 per program instruction + 3 000 per builtin one), the runner
  prepends SetComputeUnitLimit(limit + 150) (that instruction costs 150 CU) and leaves it out of the
  outcome. Chains set 400 000 explicitly; benchmarks 1 000 000 (below the 1.4M cap).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from solders.keypair import Keypair
from solders.pubkey import Pubkey

SYSTEM = "11111111111111111111111111111111"
SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111"
CLOCK = "SysvarC1ock11111111111111111111111111111111"
RENT = "SysvarRent111111111111111111111111111111111"
PAYER = "payer"
DEFAULT_CU = 200_000
BENCH_CU = 1_000_000  # below the 1.4M cap, so a recorder can add the budget instruction's own 150
LAMPORTS_PER_BYTE = 6960  # LiteSVM's default rent (agave-facts #5)


@dataclass
class AccountSpec:
    pubkey: str
    lamports: int
    data: bytes = b""
    owner: str = SYSTEM
    executable: bool = False


@dataclass
class MetaSpec:
    pubkey: str
    is_signer: bool
    is_writable: bool


@dataclass
class IxSpec:
    program_id: str
    data: bytes
    accounts: list[MetaSpec]


@dataclass
class Scenario:
    name: str
    description: str
    programs: dict[str, str]  # base58 program id -> fixture path relative to the repo root
    accounts: list[AccountSpec]  # pre-state of every non-program account the instructions use
    instructions: list[IxSpec]
    compute_unit_limit: int = DEFAULT_CU  # a SetComputeUnitLimit is added only if this differs
    signers: list[str] = field(default_factory=list)  # seed names of keypairs that must sign


# ---- deterministic keys ---------------------------------------------------------------------------

def keypair(name: str) -> Keypair:
    """The keypair whose seed is sha256(b"sbpfunc:" + name)."""
    return Keypair.from_seed(hashlib.sha256(b"sbpfunc:" + name.encode()).digest())


def pubkey(name: str) -> Pubkey:
    """The deterministic address of `name` (the public key of keypair(name))."""
    return keypair(name).pubkey()


def addr(name: str) -> str:
    return str(pubkey(name))


def program_id(program: str) -> str:
    """Base58 id under which fixtures/PROGRAM.so is installed."""
    return addr("program:" + program)


def fixture(program: str) -> str:
    return f"fixtures/{program}.so"


def pda(seeds: list[bytes], program: str) -> tuple[str, int]:
    """(base58 address, bump) of the PDA of `seeds` under program_id(program)."""
    key, bump = Pubkey.find_program_address(seeds, Pubkey.from_string(program_id(program)))
    return str(key), bump


def other_valid_bump(seeds: list[bytes], program: str) -> int:
    """The highest bump below the canonical one that still gives an off-curve address (a valid PDA
    that is not the account the program was given)."""
    pid = Pubkey.from_string(program_id(program))
    _, bump = Pubkey.find_program_address(seeds, pid)
    for b in range(bump - 1, -1, -1):
        try:
            Pubkey.create_program_address([*seeds, bytes([b])], pid)
            return b
        except Exception:
            continue
    raise AssertionError("no second bump")


# ---- encoding helpers -----------------------------------------------------------------------------

def u64(n: int) -> bytes:
    return (n % 2**64).to_bytes(8, "little")


def rent_exempt(size: int) -> int:
    """LiteSVM's default rent-exempt minimum for `size` data bytes."""
    return (128 + size) * LAMPORTS_PER_BYTE


def system_transfer(lamports: int) -> bytes:
    return struct.pack("<IQ", 2, lamports)


def system_create_account(lamports: int, space: int, owner: str) -> bytes:
    return struct.pack("<IQQ", 0, lamports, space) + bytes(Pubkey.from_string(owner))


def clock_data(slot: int, epoch_start_timestamp: int, epoch: int, leader_schedule_epoch: int,
               unix_timestamp: int) -> bytes:
    return struct.pack("<QqQQq", slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp)


def rent_data(lamports_per_byte: int, exemption_threshold: float, burn_percent: int) -> bytes:
    return struct.pack("<QdB", lamports_per_byte, exemption_threshold, burn_percent)


def meta(pubkey_: str, signer: bool = False, writable: bool = False) -> MetaSpec:
    return MetaSpec(pubkey_, signer, writable)


def wallet(name: str, lamports: int = 10_000_000, data: bytes = b"", owner: str = SYSTEM) -> AccountSpec:
    return AccountSpec(addr(name), lamports, data, owner)


def single(name: str, program: str, description: str, data: bytes = b"", *,
           metas: list[MetaSpec] | None = None, accounts: list[AccountSpec] | None = None,
           extra_programs: tuple[str, ...] = (), cu: int = DEFAULT_CU,
           signers: list[str] | None = None) -> Scenario:
    """A scenario with one instruction to `program`."""
    progs = {program_id(p): fixture(p) for p in (program, *extra_programs)}
    return Scenario(name, description, progs, list(accounts or []),
                    [IxSpec(program_id(program), data, list(metas or []))], cu, list(signers or []))


# ---- the scenarios --------------------------------------------------------------------------------

def _scenarios() -> list[Scenario]:
    S: list[Scenario] = []
    alice, bob = addr("alice"), addr("bob")

    # logging
    S.append(single("hello", "hello", "sol_log_ prints a greeting"))
    S.append(single("log64", "log64", "sol_log_64_ prints five u64 in hex"))
    S.append(single("log_pubkey", "log_pubkey", "sol_log_pubkey prints the program id and two account keys",
                    metas=[meta(alice, writable=True), meta(bob)],
                    accounts=[wallet("alice"), wallet("bob")]))
    S.append(single("log_cu", "log_cu", "sol_log_compute_units_ twice around a sol_log_"))
    S.append(single("log_data", "log_data", "sol_log_data with a constant, the ix data and an empty field",
                    b"hi there"))

    # arithmetic
    S.append(single("arith", "arith", "signed/unsigned div and mod, shifts, 32-bit ALU on a=-1000003, b=97",
                    u64(-1000003) + u64(97)))
    S.append(single("arith_negative_divisor", "arith", "the same with a=1000003, b=-7",
                    u64(1000003) + u64(-7)))

    # memory syscalls
    S.append(single("memcpy", "memcpy", "sol_memcpy_ from rodata and from the instruction data", b"payload"))
    S.append(single("memcpy_overlap", "memcpy", "an overlapping sol_memcpy_ is refused", b"\x01"))
    S.append(single("memmove", "memmove", "overlapping sol_memmove_ both ways"))
    S.append(single("memset", "memset", "sol_memset_ with '*' and with zero"))
    S.append(single("memcmp", "memcmp", "sol_memcmp_ equal / less / greater / prefix"))

    # hashes
    S.append(single("sha256", "sha256", "sol_sha256 over two slices", b"abc"))
    S.append(single("keccak256", "keccak256", "sol_keccak256 over two slices", b"abc"))

    # return data
    S.append(single("return_data", "return_data", "sol_set_return_data: ret: + ix data", b"hello"))
    S.append(single("return_get", "return_get", "CPI into return_data, then sol_get_return_data", b"xyz",
                    metas=[meta(program_id("return_data"))], extra_programs=("return_data",)))

    # sysvars
    S.append(single("clock", "clock", "sol_get_clock_sysvar with a Clock defined by the scenario",
                    accounts=[AccountSpec(CLOCK, rent_exempt(40), clock_data(1234, 1_700_000_000, 5, 6, 1_700_000_400),
                                          SYSVAR_OWNER)]))
    S.append(single("rent", "rent", "sol_get_rent_sysvar with LiteSVM's default Rent"))
    S.append(single("rent_custom", "rent", "sol_get_rent_sysvar with a Rent defined by the scenario (threshold 2.0)",
                    accounts=[AccountSpec(RENT, rent_exempt(17), rent_data(5000, 2.0, 40), SYSVAR_OWNER)]))

    # program addresses
    S.append(single("pda", "pda", "sol_try_find_program_address then sol_create_program_address"))
    S.append(single("pda_seed_too_long", "pda", "a 33-byte seed is refused by the syscall", b"\x01"))

    # heap
    S.append(single("heap_bump", "heap_bump", "C bump allocator: 1000 u64 on the heap", u64(1000)))
    S.append(single("heap_bump_oom", "heap_bump", "C bump allocator: 5000 u64 do not fit in 32 KiB", u64(5000)))
    S.append(single("heap_alloc_free", "heap_alloc_free", "sol_alloc_free_ allocations (runs without deployment)"))

    # accounts and instruction data
    S.append(single("accounts", "accounts", "read keys, flags, balances, data and a duplicate account",
                    b"\x01\x02\x03",
                    metas=[meta(alice, signer=True, writable=True), meta(bob), meta(alice, signer=True, writable=True),
                           meta(SYSTEM)],
                    accounts=[wallet("alice", 50_000_000), wallet("bob", 20_000_000, b"\x07\x08\x09")],
                    signers=["alice"]))

    # writing account data
    counter = addr("counter")
    wd = program_id("write_data")
    counter_acc = AccountSpec(counter, rent_exempt(16), u64(41) + bytes(8), wd)
    S.append(single("write_data", "write_data", "increment the counter and copy the ix data after it", b"abcd",
                    metas=[meta(counter, writable=True)], accounts=[counter_acc]))
    S.append(single("write_data_not_owner", "write_data", "the counter account is not owned by the program",
                    b"abcd", metas=[meta(counter, writable=True)],
                    accounts=[AccountSpec(counter, rent_exempt(16), u64(41) + bytes(8), SYSTEM)]))

    # lamports between two owned accounts
    ml = program_id("move_lamports")
    vault_a = AccountSpec(addr("vault_a"), 50_000_000, b"", ml)
    vault_b = AccountSpec(addr("vault_b"), 10_000_000, b"", ml)
    ml_metas = [meta(vault_a.pubkey, writable=True), meta(vault_b.pubkey, writable=True)]
    S.append(single("move_lamports", "move_lamports", "move 1234567 lamports between two owned accounts",
                    u64(1_234_567), metas=ml_metas, accounts=[vault_a, vault_b]))
    S.append(single("move_lamports_insufficient", "move_lamports", "more than account 0 holds",
                    u64(10**12), metas=ml_metas, accounts=[vault_a, vault_b]))
    S.append(single("move_lamports_not_owner", "move_lamports",
                    "account 0 belongs to the system program: the runtime rejects the spend",
                    u64(1_234_567), metas=[meta(alice, writable=True), meta(vault_b.pubkey, writable=True)],
                    accounts=[wallet("alice", 50_000_000), vault_b]))

    # CPI to the system program
    S.append(single("cpi_transfer", "cpi_transfer", "CPI system transfer of 250000 from a signer",
                    u64(250_000),
                    metas=[meta(alice, signer=True, writable=True), meta(bob, writable=True), meta(SYSTEM)],
                    accounts=[wallet("alice", 50_000_000), wallet("bob", 20_000_000)], signers=["alice"]))
    S.append(single("cpi_transfer_unsigned", "cpi_transfer", "the source did not sign: privilege escalation",
                    u64(250_000),
                    metas=[meta(alice, writable=True), meta(bob, writable=True), meta(SYSTEM)],
                    accounts=[wallet("alice", 50_000_000), wallet("bob", 20_000_000)]))
    vault, bump = pda([b"vault"], "cpi_transfer_pda")
    pda_accounts = [AccountSpec(vault, 30_000_000), wallet("bob", 20_000_000)]
    pda_metas = [meta(vault, writable=True), meta(bob, writable=True), meta(SYSTEM)]
    S.append(single("cpi_transfer_pda", "cpi_transfer_pda", "CPI system transfer signed by the PDA [vault, bump]",
                    u64(1_000_000) + bytes([bump]), metas=pda_metas, accounts=pda_accounts))
    S.append(single("cpi_transfer_pda_wrong_bump", "cpi_transfer_pda",
                    "signer seeds with another valid bump derive a different address",
                    u64(1_000_000) + bytes([other_valid_bump([b"vault"], "cpi_transfer_pda")]),
                    metas=pda_metas, accounts=pda_accounts))

    # CPI to another program of ours
    S.append(single("cpi_ours", "cpi_ours", "CPI into write_data on its counter account", b"via-cpi",
                    metas=[meta(counter, writable=True), meta(wd)], accounts=[counter_acc],
                    extra_programs=("write_data",)))

    # failures
    S.append(single("recursion_ok", "recursion", "62 nested calls: 63 frames + entrypoint = the limit", u64(62)))
    S.append(single("recursion_too_deep", "recursion", "63 nested calls exceed the 64-frame limit", u64(63)))
    S.append(single("compute_ok", "compute_exhaust", "1000 mixing iterations", u64(1000)))
    S.append(single("compute_exhaust", "compute_exhaust", "2^64-1 iterations exhaust the budget", u64(-1)))
    ro = program_id("readonly_write")
    S.append(single("readonly_write", "readonly_write", "writes a read-only account it owns",
                    metas=[meta(addr("ro_data"))],
                    accounts=[AccountSpec(addr("ro_data"), rent_exempt(4), b"\x01\x02\x03\x04", ro)]))
    S.append(single("readonly_write_foreign", "readonly_write", "writes a writable account owned by the system program",
                    metas=[meta(addr("ro_data"), writable=True)],
                    accounts=[AccountSpec(addr("ro_data"), rent_exempt(4), b"\x01\x02\x03\x04", SYSTEM)]))
    S.append(single("access_violation_null", "access_violation", "load 8 bytes at address 0",
                    u64(0) + b"\x00"))
    S.append(single("access_violation_rodata", "access_violation", "store into the read-only program region",
                    u64(0x1_0000_0000) + b"\x01"))
    S.append(single("access_violation_heap_end", "access_violation", "load just past the 32 KiB heap",
                    u64(0x3_0000_8000) + b"\x00"))
    S.append(single("div_ok", "div_zero", "100 / 7 by register", u64(100) + u64(7)))
    S.append(single("div_zero", "div_zero", "100 / 0 by register", u64(100) + u64(0)))
    S.append(single("abort", "abort", "the abort syscall"))
    S.append(single("panic", "panic", "sol_panic_ with file, line and column"))
    S.append(single("errors_ok", "errors", "r0 = 0", u64(0)))
    S.append(single("errors_custom", "errors", "r0 = 42", u64(42)))
    S.append(single("errors_custom_zero", "errors", "r0 = 1 << 32", u64(1 << 32)))
    S.append(single("errors_builtin", "errors", "r0 = 3 << 32", u64(3 << 32)))
    S.append(single("errors_invalid", "errors", "r0 = 1000 << 32", u64(1000 << 32)))

    # benchmarks
    S.append(single("bench_sort", "bench_sort", "heapsort of 1024 u64 on the heap", u64(42), cu=BENCH_CU))
    S.append(single("bench_hash", "bench_hash", "10000 rounds of the ALU mixer", u64(10_000), cu=BENCH_CU))
    S.append(single("bench_matmul", "bench_matmul", "one 32x32 u64 matrix product", u64(1), cu=BENCH_CU))

    # the trading agent (SBPFunc version: Agave has no ML module; pure-C twin: any runtime)
    from sbpfunc.modules.model_format import example_trading_model

    model = example_trading_model()
    feats = b"".join(v.to_bytes(4, "little", signed=True)
                     for v in (4096, -2048, 8192, 0, 1024, -4096, 12288, 3, -7, 16384, -16384, 2048))
    model_acct = AccountSpec(addr("ml_model"), rent_exempt(len(model)), model, SYSTEM)
    bad_acct = AccountSpec(addr("ml_model_bad"), rent_exempt(len(model)), b"XXXX" + model[4:], SYSTEM)
    S.append(single("ml_agent_pure", "ml_trading_agent_pure", "the 12->8->3 agent in plain C on a fixed input",
                    feats, metas=[meta(addr("ml_model"))], accounts=[model_acct]))
    S.append(single("ml_agent_pure_bad_model", "ml_trading_agent_pure", "a model account with a bad magic",
                    feats, metas=[meta(addr("ml_model_bad"))], accounts=[bad_acct]))
    S.append(single("ml_agent_no_module", "ml_trading_agent", "the SBPFunc agent where no ML module exists",
                    feats, metas=[meta(addr("ml_model"))], accounts=[model_acct]))

    # chains (several instructions, one transaction)
    fresh = addr("fresh_counter")
    S.append(Scenario(
        "chain_create_then_write",
        "system create_account (owner write_data, 16 bytes) then write_data initialises the counter",
        {wd: fixture("write_data")},
        [wallet("alice", 50_000_000), AccountSpec(fresh, 0)],
        [IxSpec(SYSTEM, system_create_account(rent_exempt(16), 16, wd),
                [meta(alice, signer=True, writable=True), meta(fresh, signer=True, writable=True)]),
         IxSpec(wd, b"hi", [meta(fresh, writable=True)])],
        compute_unit_limit=400_000, signers=["alice", "fresh_counter"]))
    S.append(Scenario(
        "chain_transfer_then_read",
        "system transfer alice -> bob, then accounts sees bob's new balance",
        {program_id("accounts"): fixture("accounts")},
        [wallet("alice", 50_000_000), wallet("bob", 20_000_000)],
        [IxSpec(SYSTEM, system_transfer(5_000_000),
                [meta(alice, signer=True, writable=True), meta(bob, writable=True)]),
         IxSpec(program_id("accounts"), b"", [meta(bob)])],
        compute_unit_limit=400_000, signers=["alice"]))
    S.append(Scenario(
        "chain_rollback",
        "write_data succeeds, then errors returns Custom(7): the whole transaction is rolled back",
        {wd: fixture("write_data"), program_id("errors"): fixture("errors")},
        [counter_acc],
        [IxSpec(wd, b"x", [meta(counter, writable=True)]),
         IxSpec(program_id("errors"), u64(7), [])],
        compute_unit_limit=400_000))
    return S


SCENARIOS: list[Scenario] = _scenarios()
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}
assert len(BY_NAME) == len(SCENARIOS), "scenario names must be unique"
