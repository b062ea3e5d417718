"""Acceptance: every program in programs/ runs in LiteSVM with the outcome its EXPECT comment promises.

The scenarios (accounts, instructions, compute limit, signers) come from
tests/differential/scenarios.py, the same data the golden-case recorder uses, and run here as real
signed transactions in solders' LiteSVM (Agave 4.1.2). Values a program computes (arithmetic,
hashes, checksums, PDAs) are recomputed here in Python rather than pinned.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

pytest.importorskip("solders")
from solders.account import Account  # noqa: E402
from solders.compute_budget import set_compute_unit_limit  # noqa: E402
from solders.instruction import AccountMeta, Instruction  # noqa: E402
from solders.litesvm import LiteSVM  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction  # noqa: E402
from solders.transaction_metadata import FailedTransactionMetadata  # noqa: E402
from solders.transaction_status import InstructionErrorCustom  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _load_scenarios():
    spec = importlib.util.spec_from_file_location("sbpfunc_test_scenarios", ROOT / "tests/differential/scenarios.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up while the class is built
    spec.loader.exec_module(mod)
    return mod


sc = _load_scenarios()
M64 = 2**64


# ---- running a scenario ---------------------------------------------------------------------------

@dataclass
class Outcome:
    success: bool
    error_index: int | None  # index into the scenario's instructions (the budget instruction not counted)
    error_kind: str | None  # "Custom(42)", "ProgramFailedToComplete", ...
    logs: list[str]  # the scenario's instructions' lines (a SetComputeUnitLimit's excluded)
    compute_units: int  # consumed by the scenario's instructions (a SetComputeUnitLimit excluded)
    return_program: str
    return_data: bytes
    svm: LiteSVM = field(repr=False)

    def account(self, key: str) -> Account | None:
        return self.svm.get_account(Pubkey.from_string(key))

    def lamports(self, key: str) -> int:
        acc = self.account(key)
        return 0 if acc is None else acc.lamports


def run(s) -> Outcome:
    svm = LiteSVM()
    payer = sc.keypair(sc.PAYER)
    svm.set_account(payer.pubkey(), Account(10**12, b"", Pubkey.from_string(sc.SYSTEM), False, 0))
    for pid, path in s.programs.items():
        svm.add_program(Pubkey.from_string(pid), (ROOT / path).read_bytes())
    for a in s.accounts:  # a sysvar account here also redefines the sysvar (LiteSVM updates its cache)
        svm.set_account(Pubkey.from_string(a.pubkey),
                        Account(a.lamports, a.data, Pubkey.from_string(a.owner), a.executable, 0))
    # As the golden-case recorder does: when the scenario's limit is not Agave's default for these
    # instructions, prepend SetComputeUnitLimit(limit + 150) so that the scenario's own instructions
    # get exactly `limit`, and leave that instruction's 150 CU and index out of the outcome.
    ixs = []
    if s.compute_unit_limit != default_limit(s):
        ixs.append(set_compute_unit_limit(s.compute_unit_limit + BUDGET_IX_CU))
    offset = len(ixs)
    for ix in s.instructions:
        ixs.append(Instruction(Pubkey.from_string(ix.program_id), ix.data,
                               [AccountMeta(Pubkey.from_string(m.pubkey), m.is_signer, m.is_writable)
                                for m in ix.accounts]))
    signers = [payer] + [sc.keypair(n) for n in s.signers]
    tx = Transaction(signers, Message(ixs, payer.pubkey()), svm.latest_blockhash())
    result = svm.send_transaction(tx)
    index = kind = None
    if isinstance(result, FailedTransactionMetadata):
        err, meta = result.err(), result.meta()
        index = err.index - offset
        kind = f"Custom({err.err.code})" if isinstance(err.err, InstructionErrorCustom) else str(err.err).split(".")[-1]
    else:
        meta = result
    rd = meta.return_data()
    logs = list(meta.logs())
    if offset:
        assert logs[:2] == [f"Program {BUDGET_PROGRAM} invoke [1]", f"Program {BUDGET_PROGRAM} success"]
        logs = logs[2:]
    return Outcome(kind is None, index, kind, logs, meta.compute_units_consumed() - offset * BUDGET_IX_CU,
                   str(rd.program_id), bytes(rd.data), svm)


BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
BUDGET_IX_CU = 150  # what a SetComputeUnitLimit instruction itself costs (agave-facts #7)


def default_limit(s) -> int:
    """Agave's default transaction limit: 200 000 per program instruction, 3 000 per builtin one."""
    return min(1_400_000, sum(3_000 if ix.program_id == sc.SYSTEM else 200_000 for ix in s.instructions))


# ---- helpers for expected values -------------------------------------------------------------------

def pid(program: str) -> str:
    return sc.program_id(program)


def log64(*values: int) -> str:
    vals = list(values) + [0] * (5 - len(values))
    return "Program log: " + ", ".join(hex(v % M64) for v in vals)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ix_data(name: str, i: int = 0) -> bytes:
    return sc.BY_NAME[name].instructions[i].data


def arg(name: str, k: int = 0) -> int:
    """The k-th u64 of the scenario's instruction data."""
    return int.from_bytes(ix_data(name)[8 * k:8 * k + 8], "little")


def sext32(v: int) -> int:
    v &= 0xFFFFFFFF
    return (v - 2**32 if v & 0x80000000 else v) % M64


def _rol(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) % M64 if n else v


def keccak(data: bytes, pad: int = 0x01) -> bytes:
    """Keccak-256 (pad 0x01; pad 0x06 gives SHA3-256, which checks this code against hashlib)."""
    def f(a):
        r = 1
        for _ in range(24):
            c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
            d = [c[(x + 4) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
            a = [a[i] ^ d[i % 5] for i in range(25)]
            x, y, cur = 1, 0, a[1]
            for t in range(24):
                x, y = y, (2 * x + 3 * y) % 5
                cur, a[x + 5 * y] = a[x + 5 * y], _rol(cur, ((t + 1) * (t + 2) // 2) % 64)
            for y in range(5):
                row = a[5 * y:5 * y + 5]
                for x in range(5):
                    a[x + 5 * y] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5])
            for j in range(7):
                r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256
                if r & 2:
                    a[0] ^= 1 << ((1 << j) - 1)
        return a

    rate = 136
    msg = bytearray(data) + bytes([pad]) + bytes((-len(data) - 1) % rate)
    msg[-1] |= 0x80
    state = [0] * 25
    for off in range(0, len(msg), rate):
        for i in range(rate // 8):
            state[i] ^= int.from_bytes(msg[off + 8 * i:off + 8 * i + 8], "little")
        state = f(state)
    return b"".join(v.to_bytes(8, "little") for v in state)[:32]


def test_keccak_reference():
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    for m in (b"", b"abc", bytes(range(200))):
        assert keccak(m, 0x06) == hashlib.sha3_256(m).digest()


# ---- Python models of the computing programs --------------------------------------------------------

def arith_lines(a: int, b: int) -> list[str]:
    ua, ub = a % M64, b % M64
    sa = ua - M64 if ua >> 63 else ua
    sb = ub - M64 if ub >> 63 else ub
    q = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)
    r = abs(sa) % abs(sb) * (-1 if sa < 0 else 1)
    s = ub & 63
    rot = ((ua << s) | (ua >> ((64 - s) & 63))) % M64
    k = (ub - 96) % M64
    return [log64(ua // ub, ua % ub, q, r),
            log64(ua >> 3, sa >> 3, ua << 5, ua >> s, rot),
            log64(ua * ub, ua & ub, ua | ub, ua ^ ub, -ua),
            log64(sext32(0x7FFFFFFF + k), sext32(0 - k), sext32(ua * ub),
                  (ua & 0xFFFFFFFF) // (ub & 0xFFFFFFFF), (ua & 0xFFFFFFFF) % (ub & 0xFFFFFFFF))]


def bench_sort_line(seed: int) -> str:
    x, xs = seed, []
    for _ in range(1024):
        x = (x * 6364136223846793005 + 1442695040888963407) % M64
        xs.append(x)
    xs.sort()
    return log64(1024, sum((i + 1) * v for i, v in enumerate(xs)), xs[0], xs[-1])


def bench_hash_line(n: int) -> str:
    h = 0xCBF29CE484222325
    for i in range(n):
        h ^= i
        h = h * 0x100000001B3 % M64
        h ^= h >> 29
        h = (h + h % 1000003) % M64
    return log64(n, h)


def bench_matmul_line(rounds: int) -> str:
    n = 32
    a = [(i * 31 + j * 17) % 101 for i in range(n) for j in range(n)]
    b = [(i * 7 + j * 13 + 5) % 97 for i in range(n) for j in range(n)]
    c = [0] * (n * n)
    for r in range(rounds):
        if r:
            a = [v % 1009 for v in c]
        c = [sum(a[i * n + k] * b[k * n + j] for k in range(n)) % M64 for i in range(n) for j in range(n)]
    return log64(rounds, sum((i + 1) * v for i, v in enumerate(c)), c[0], c[-1])


def compute_line(n: int) -> str:
    x = 0x9E3779B97F4A7C15
    for i in range(n):
        x = ((x ^ (x >> 29)) * 0xBF58476D1CE4E5B9 + i) % M64
    return log64(n, x)


def clock_line(name: str) -> str:
    spec = next(a for a in sc.BY_NAME[name].accounts if a.pubkey == sc.CLOCK)
    return log64(*struct.unpack("<QqQQq", spec.data))


def rent_line(lamports_per_byte: int, threshold: float, burn: int) -> str:
    bits = struct.unpack("<Q", struct.pack("<d", threshold))[0]
    years = {1.0: 1, 2.0: 2}.get(threshold, 0)
    return log64(lamports_per_byte, bits, burn, 228 * lamports_per_byte * years)


def pda_lines() -> list[str]:
    key, bump = Pubkey.find_program_address([b"vault"], Pubkey.from_string(pid("pda")))
    return [f"Program log: {key}", f"Program log: {key}", log64(bump, 0, 1)]


def accounts_lines(name: str) -> list[str]:
    s = sc.BY_NAME[name]
    ix = s.instructions[-1]
    state = {a.pubkey: a for a in s.accounts}
    signer = {m.pubkey for i in s.instructions for m in i.accounts if m.is_signer}
    writable = {m.pubkey for i in s.instructions for m in i.accounts if m.is_writable}
    lines = [log64(len(ix.accounts), len(ix.data))]
    for i, m in enumerate(ix.accounts):
        lines.append(f"Program log: {m.pubkey}")
        if m.pubkey == sc.SYSTEM:
            data, lamports, execu = b"system_program", 1, True
        else:
            a = state[m.pubkey]
            data, lamports, execu = a.data, a.lamports, a.executable
            for prior in s.instructions[:-1]:  # a system transfer earlier in the chain
                if prior.program_id == sc.SYSTEM and prior.data[:4] == b"\x02\0\0\0":
                    amount = int.from_bytes(prior.data[4:12], "little")
                    if prior.accounts[1].pubkey == m.pubkey:
                        lamports += amount
                    if prior.accounts[0].pubkey == m.pubkey:
                        lamports -= amount
        flags = (m.pubkey in signer) | (m.pubkey in writable) << 1 | execu << 2
        lines.append(log64(i, flags, lamports, len(data), data[0] if data else 0))
    lines.append(f"Program data: {b64(ix.data)}")
    return lines


# ---- what each scenario must show -------------------------------------------------------------------

@dataclass
class Expect:
    error: str | None = None  # None: the transaction succeeds; else the InstructionError kind
    logs: list[str] = field(default_factory=list)  # must appear in this order (other lines may interleave)
    failed: str | None = None  # the "Program X failed: ..." text (prefix) for failures
    drained: bool = False  # VM fault: the whole budget is consumed
    index: int = 0  # failing instruction (chains)
    check: Callable[[Outcome], None] | None = None


def ml_agent_line(scenario: str) -> str:
    """The agent's prediction, recomputed with the ML module's Python implementation."""
    from sbpfunc.modules import ml

    s = sc.BY_NAME[scenario]
    model = next(a.data for a in s.accounts)
    feats = list(struct.unpack("<12i", s.instructions[0].data))
    out = ml.run_model(ml.parse_model(model), feats)
    best = max(range(len(out)), key=lambda i: (out[i], -i))
    confidence = out[best] * 10000 // ml.parse_model(model)["layers"][-1]["scale"] if out[best] > 0 else 0
    return f"Program log: AI prediction: action={best}, confidence={confidence}"


def invoke(program: str, depth: int = 1) -> str:
    return f"Program {pid(program)} invoke [{depth}]"


def ok(program: str) -> str:
    return f"Program {pid(program)} success"


def _post_lamports(**expected: int):
    """Post-state balances of named accounts (sc.addr(name))."""
    return _balances({sc.addr(name): lamports for name, lamports in expected.items()})


def _balances(expected: dict[str, int]):
    def check(o: Outcome):
        assert {key: o.lamports(key) for key in expected} == expected
    return check


def _post_data(key: str, data: bytes):
    def check(o: Outcome):
        assert bytes(o.account(key).data) == data
    return check


def _log_cu(o: Outcome):
    units = [int(m.group(1)) for line in o.logs if (m := re.fullmatch(r"Program consumption: (\d+) units remaining", line))]
    assert len(units) == 2 and units[0] > units[1] > 0


def _return(program: str, data: bytes):
    def check(o: Outcome):
        assert (o.return_program, o.return_data) == (pid(program), data)
    return check


def _unchanged_counter(o: Outcome):
    assert bytes(o.account(sc.addr("counter")).data) == sc.u64(41) + bytes(8)


COUNTER = sc.addr("counter")
VAULT_PDA = sc.pda([b"vault"], "cpi_transfer_pda")[0]
SYSTEM_INVOKE_2 = f"Program {sc.SYSTEM} invoke [2]"

EXPECT: dict[str, Expect] = {
    "hello": Expect(logs=[invoke("hello"), "Program log: Hello, sbpfunc!", ok("hello")]),
    "log64": Expect(logs=["Program log: 0x1, 0x2, 0x2a, 0xffffffffffffffff, 0x0"]),
    "log_pubkey": Expect(logs=[f"Program log: {pid('log_pubkey')}", f"Program log: {sc.addr('alice')}",
                               f"Program log: {sc.addr('bob')}"]),
    "log_cu": Expect(logs=["Program log: between"], check=_log_cu),
    "log_data": Expect(logs=[f"Program data: {b64(b'sbpfunc')} {b64(b'hi there')} "]),
    "arith": Expect(logs=arith_lines(-1000003, 97)),
    "arith_negative_divisor": Expect(logs=arith_lines(1000003, -7)),
    "memcpy": Expect(logs=["Program log: memcpy: copied", "Program log: payload"]),
    "memcpy_overlap": Expect("ProgramFailedToComplete", ["Program log: memcpy: copied"], failed="Overlapping copy"),
    "memmove": Expect(logs=["Program log: 0123456789", "Program log: 2345678989", "Program log: 2323456789"]),
    "memset": Expect(logs=["Program log: ********", log64(0, 0x2A2A2A2A2A2A2A2A)]),
    "memcmp": Expect(logs=[log64(0, -2, 1, 0)]),
    "sha256": Expect(logs=[f"Program data: {b64(hashlib.sha256(b'sbpfunc:abc').digest())}"]),
    "keccak256": Expect(logs=[f"Program data: {b64(keccak(b'sbpfunc:abc'))}"]),
    "return_data": Expect(logs=[f"Program return: {pid('return_data')} {b64(b'ret:hello')}"],
                          check=_return("return_data", b"ret:hello")),
    "return_get": Expect(logs=[invoke("return_get"), invoke("return_data", 2), ok("return_data"),
                               "Program log: got: ret:xyz", f"Program log: {pid('return_data')}", ok("return_get")],
                         check=_return("return_data", b"ret:xyz")),
    "clock": Expect(logs=[clock_line("clock")]),
    "rent": Expect(logs=[rent_line(6960, 1.0, 50)]),
    "rent_custom": Expect(logs=[rent_line(5000, 2.0, 40)]),
    "pda": Expect(logs=pda_lines()),
    "pda_seed_too_long": Expect("ProgramFailedToComplete", failed="Could not create program address with signer "
                                "seeds: Length of the seed is too long for address generation"),
    "heap_bump": Expect(logs=[log64(0x3_0000_0000, 1000, sum(i * i for i in range(1000)))]),
    "heap_bump_oom": Expect("Custom(1)", ["Program log: out of heap"], failed="custom program error: 0x1"),
    "heap_alloc_free": Expect(logs=[log64(0x3_0000_0000, 0x3_0000_0068, 0, 7)]),
    "accounts": Expect(logs=accounts_lines("accounts")),
    "write_data": Expect(logs=[log64(0x636F756E746572, 42, 4)], check=_post_data(COUNTER, sc.u64(42) + b"abcd" + bytes(4))),
    "write_data_not_owner": Expect("IncorrectProgramId", failed="incorrect program id for instruction"),
    "move_lamports": Expect(logs=[log64(50_000_000 - 1_234_567, 10_000_000 + 1_234_567, 1_234_567)],
                            check=_post_lamports(vault_a=50_000_000 - 1_234_567, vault_b=10_000_000 + 1_234_567)),
    "move_lamports_insufficient": Expect("InsufficientFunds", failed="insufficient funds for instruction",
                                         check=_post_lamports(vault_a=50_000_000, vault_b=10_000_000)),
    "move_lamports_not_owner": Expect("ExternalAccountLamportSpend",
                                      failed="instruction spent from the balance of an account it does not own",
                                      check=_post_lamports(alice=50_000_000, vault_b=10_000_000)),
    "cpi_transfer": Expect(logs=[invoke("cpi_transfer"), SYSTEM_INVOKE_2, f"Program {sc.SYSTEM} success",
                                 ok("cpi_transfer")],
                           check=_post_lamports(alice=50_000_000 - 250_000, bob=20_000_000 + 250_000)),
    "cpi_transfer_unsigned": Expect("PrivilegeEscalation", [f"{sc.addr('alice')}'s signer privilege escalated"],
                                    failed="Cross-program invocation with unauthorized signer or writable account"),
    "cpi_transfer_pda": Expect(logs=[SYSTEM_INVOKE_2, f"Program {sc.SYSTEM} success", ok("cpi_transfer_pda")],
                               check=_balances({VAULT_PDA: 29_000_000, sc.addr("bob"): 21_000_000})),
    "cpi_transfer_pda_wrong_bump": Expect("PrivilegeEscalation", [f"{VAULT_PDA}'s signer privilege escalated"],
                                          failed="Cross-program invocation with unauthorized signer or writable account"),
    "cpi_ours": Expect(logs=[invoke("cpi_ours"), invoke("write_data", 2), log64(0x636F756E746572, 42, 7),
                             ok("write_data"), log64(0, 41, 42), ok("cpi_ours")],
                       check=_post_data(COUNTER, sc.u64(42) + b"via-cpi" + bytes(1))),
    "recursion_ok": Expect(logs=[log64(62, 1 + 62 * 63 // 2)]),
    "recursion_too_deep": Expect("ProgramFailedToComplete", failed="exceeded max BPF to BPF call depth", drained=True),
    "compute_ok": Expect(logs=[compute_line(1000)]),
    "compute_exhaust": Expect("ProgramFailedToComplete", [f"Program {pid('compute_exhaust')} consumed 200000 of "
                                                          "200000 compute units"],
                              failed="exceeded CUs meter at BPF instruction", drained=True),
    "readonly_write": Expect("ReadonlyDataModified", ["Program log: wrote account 0"],
                             failed="instruction modified data of a read-only account"),
    "readonly_write_foreign": Expect("ExternalAccountDataModified", ["Program log: wrote account 0"],
                                     failed="instruction modified data of an account it does not own"),
    "access_violation_null": Expect("ProgramFailedToComplete", drained=True,
                                    failed="Access violation in unknown section at address 0x0 of size 8"),
    "access_violation_rodata": Expect("ProgramFailedToComplete", drained=True,
                                      failed="Access violation in program section at address 0x100000000 of size 8"),
    "access_violation_heap_end": Expect("ProgramFailedToComplete", drained=True,
                                        failed="Access violation in heap section at address 0x300008000 of size 8"),
    "div_ok": Expect(logs=[log64(100, 7, 14, 2)]),
    "div_zero": Expect("ProgramFailedToComplete", failed="divide by zero at BPF instruction", drained=True),
    "abort": Expect("ProgramFailedToComplete", ["Program log: aborting"], failed="SBF program panicked"),
    "panic": Expect("ProgramFailedToComplete", failed="SBF program Panicked in programs/panic.c at 42:7"),
    "errors_ok": Expect(logs=[log64(0)]),
    "errors_custom": Expect("Custom(42)", failed="custom program error: 0x2a"),
    "errors_custom_zero": Expect("Custom(0)", failed="custom program error: 0x0"),
    "errors_builtin": Expect("InvalidInstructionData", failed="invalid instruction data"),
    "errors_invalid": Expect("InvalidError", failed="program returned invalid error code"),
    "bench_sort": Expect(logs=[bench_sort_line(arg("bench_sort"))]),
    "bench_hash": Expect(logs=[bench_hash_line(arg("bench_hash"))]),
    "bench_matmul": Expect(logs=[bench_matmul_line(arg("bench_matmul"))]),
    "ml_agent_pure": Expect(logs=[invoke("ml_trading_agent_pure"), ml_agent_line("ml_agent_pure"),
                                  ok("ml_trading_agent_pure")]),
    "ml_agent_pure_bad_model": Expect("InvalidAccountData", [invoke("ml_trading_agent_pure")]),
    "ml_agent_no_module": Expect("ProgramFailedToComplete", [invoke("ml_trading_agent")],
                                 failed="unsupported BPF instruction", drained=True),
    "chain_create_then_write": Expect(logs=[f"Program {sc.SYSTEM} invoke [1]", f"Program {sc.SYSTEM} success",
                                            invoke("write_data"), log64(0x636F756E746572, 1, 2), ok("write_data")],
                                      check=_post_data(sc.addr("fresh_counter"), sc.u64(1) + b"hi" + bytes(6))),
    "chain_transfer_then_read": Expect(logs=accounts_lines("chain_transfer_then_read"),
                                       check=_post_lamports(alice=45_000_000, bob=25_000_000)),
    "chain_rollback": Expect("Custom(7)", [log64(0x636F756E746572, 42, 1), ok("write_data")],
                             failed="custom program error: 0x7", index=1, check=_unchanged_counter),
}


@pytest.mark.parametrize("name", [s.name for s in sc.SCENARIOS])
def test_scenario(name):
    s = sc.BY_NAME[name]
    want = EXPECT[name]
    o = run(s)
    context = "\n".join(o.logs)
    assert o.error_kind == want.error, context
    if want.error is not None:
        assert o.error_index == want.index, context
        failing = s.instructions[want.index].program_id
        prefix = f"Program {failing} failed: "
        fails = [line[len(prefix):] for line in o.logs if line.startswith(prefix)]
        assert fails, context
        if want.failed is not None:
            assert fails[-1].startswith(want.failed), context
    else:
        assert o.logs[-1].endswith(" success"), context
    it = iter(o.logs)  # the expected lines, in order
    for line in want.logs:
        assert any(line == got for got in it), f"missing or out of order: {line!r}\n{context}"
    if want.drained:
        assert o.compute_units == s.compute_unit_limit, context
    else:
        assert o.compute_units < s.compute_unit_limit, context
    if want.check is not None:
        want.check(o)


def test_every_scenario_has_an_expectation():
    assert sorted(EXPECT) == sorted(s.name for s in sc.SCENARIOS)


def test_every_program_has_a_scenario_and_a_fixture():
    programs = {p.stem for p in (ROOT / "programs").glob("*.c")}
    by_id = {pid(p): p for p in programs}
    top_level = {by_id[ix.program_id] for s in sc.SCENARIOS for ix in s.instructions if ix.program_id in by_id}
    assert programs - top_level == set()  # each program is the top-level instruction of some scenario
    for s in sc.SCENARIOS:
        for program_id_, path in s.programs.items():
            assert program_id_ == pid(Path(path).stem) and (ROOT / path).is_file(), (s.name, path)


def test_scenarios_are_deterministic():
    assert sc.keypair("alice").pubkey() == sc.keypair("alice").pubkey()
    assert str(sc.pubkey("alice")) == "FSfysTVShnt4wLxu6h4M9h7CrNGSxewFTWsoMmDfM5kU"
    assert len({sc.program_id(Path(p).stem) for s in sc.SCENARIOS for p in s.programs.values()}) == \
        len({Path(p).stem for s in sc.SCENARIOS for p in s.programs.values()})
