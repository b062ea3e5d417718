"""The trading agent end to end: the SBPFunc agent in sbpfunc's runtime with the ML module active, its
pure-C twin in sbpfunc's runtime and in LiteSVM (where it is just a program), and a Python reference,
all agree on 1,000 random inputs; the agent fails to load where the module is not active."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest

from sbpfunc.elf.loader import load_elf
from sbpfunc.modules import ml
from sbpfunc.modules import model_format as mf
from sbpfunc.runtime.syscall_set import sbpfunc_registry
from sbpfunc.syscalls.modules import SBPFuncNotActive, StaticActivation

pytest.importorskip("solders")
from solders.account import Account  # noqa: E402
from solders.instruction import AccountMeta, Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.litesvm import LiteSVM  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction  # noqa: E402
from solders.transaction_metadata import FailedTransactionMetadata  # noqa: E402

from sbpfunc.testing import Harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "fixtures" / "ml_trading_agent.so"
PURE = ROOT / "fixtures" / "ml_trading_agent_pure.so"
LINE = re.compile(r"^Program log: AI prediction: action=(\d+), confidence=(\d+)$")
AGENT_ID, PURE_ID, MODEL_KEY, OWNER = (Pubkey(hashlib.sha256(n).digest())
                                       for n in (b"agent", b"agent-pure", b"model", b"owner"))


def registry(ml_module, active: bool):
    """The runtime's full syscall set (core + CPI) plus the ML module, active or not."""
    return sbpfunc_registry([ml_module], StaticActivation([ml_module.sha256] if active else []))


def features(rng: random.Random) -> list[int]:
    kind = rng.random()
    if kind < 0.7:  # market-like features within +-4.0 (Q12)
        return [rng.randint(-4 * mf.AGENT_SCALE, 4 * mf.AGENT_SCALE) for _ in range(12)]
    if kind < 0.9:  # anything an i32 can hold
        return [rng.randint(-(1 << 31), (1 << 31) - 1) for _ in range(12)]
    return [rng.choice([-(1 << 31), (1 << 31) - 1, 0, 1, -1]) for _ in range(12)]


def encode(feats: list[int]) -> bytes:
    return b"".join(v.to_bytes(4, "little", signed=True) for v in feats)


def reference(model: bytes, feats: list[int]) -> tuple[int, int]:
    out = ml.run_model(ml.parse_model(model), feats)
    best = max(range(len(out)), key=lambda i: (out[i], -i))
    return best, (out[best] * 10000 // mf.AGENT_SCALE if out[best] > 0 else 0)


def prediction(logs: list[str]) -> tuple[int, int]:
    found = [LINE.match(line) for line in logs if LINE.match(line)]
    assert len(found) == 1, logs
    return int(found[0].group(1)), int(found[0].group(2))


class Ours:
    def __init__(self, syscalls, model: bytes):
        self.h = Harness(syscalls=syscalls)
        self.h.add_program(AGENT_ID, AGENT)
        self.h.add_program(PURE_ID, PURE)
        self.model = Account(10**9, model, OWNER, False, 0)

    def run(self, pid, data: bytes):
        ix = Instruction(pid, data, [AccountMeta(MODEL_KEY, False, False)])
        return self.h.process_instruction(ix, [(MODEL_KEY, self.model)])


class Lite:
    def __init__(self, model: bytes):
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**12)
        self.svm.add_program(PURE_ID, PURE.read_bytes())
        self.svm.set_account(MODEL_KEY, Account(10**9, model, OWNER, False, 0))

    def run(self, data: bytes):
        ix = Instruction(PURE_ID, data, [AccountMeta(MODEL_KEY, False, False)])
        msg = Message.new_with_blockhash([ix], self.payer.pubkey(), self.svm.latest_blockhash())
        res = self.svm.send_transaction(Transaction([self.payer], msg, self.svm.latest_blockhash()))
        self.svm.expire_blockhash()  # the same input twice must not be an AlreadyProcessed duplicate
        return res


def lite_consumed(logs: list[str]) -> int:
    for line in logs:
        m = re.match(rf"Program {PURE_ID} consumed (\d+) of", line)
        if m:
            return int(m.group(1))
    raise AssertionError(logs)


@pytest.mark.parametrize("dtype,count", [("i32", 1000), ("i8", 200)])
def test_agents_agree_on_random_inputs(ml_module, dtype, count):
    model = mf.example_trading_model(dtype=dtype)
    ours = Ours(registry(ml_module, True).registry_at(0), model)
    lite = Lite(model)
    rng = random.Random(f"agent-{dtype}")
    actions = set()
    for _ in range(count):
        feats = features(rng)
        data = encode(feats)
        want = reference(model, feats)
        a = ours.run(AGENT_ID, data)
        assert a.success, (a.error, a.logs)
        p = ours.run(PURE_ID, data)
        assert p.success, (p.error, p.logs)
        lr = lite.run(data)
        assert not isinstance(lr, FailedTransactionMetadata), lr
        assert prediction(a.logs) == prediction(p.logs) == prediction(lr.logs()) == want, feats
        assert p.compute_units_consumed == lite_consumed(lr.logs())  # Agave's CU for the pure program
        assert a.compute_units_consumed < p.compute_units_consumed
        actions.add(want[0])
    assert actions == {0, 1, 2}  # the inputs exercise every action


def test_agent_log_line_and_cost(ml_module):
    model = mf.example_trading_model()
    ours = Ours(registry(ml_module, True).registry_at(0), model)
    res = ours.run(AGENT_ID, encode([4096] * 12))
    assert res.success
    assert [line for line in res.logs if "AI prediction" in line] == \
        [f"Program log: AI prediction: action={reference(model, [4096] * 12)[0]}, "
         f"confidence={reference(model, [4096] * 12)[1]}"]
    assert res.logs[0] == f"Program {AGENT_ID} invoke [1]" and res.logs[-1] == f"Program {AGENT_ID} success"


def test_agent_does_not_load_when_the_module_is_not_active(ml_module):
    inactive = registry(ml_module, False)
    imports = sorted(load_elf(AGENT.read_bytes(), inactive.registry_at(0)).syscall_names.values())
    assert {"sol_ml_model_info", "sol_ml_matmul_bias", "sol_ml_argmax", "sol_ml_dequantize_int8"} <= set(imports)
    with pytest.raises(SBPFuncNotActive) as e:
        inactive.check_imports(imports, 42)
    msg = str(e.value)
    assert re.search(r"program imports SBPFunc sol_ml_\w+ from module ml 1\.0\.0 \(sha256 [0-9a-f]{16}…\), "
                     r"which is not active at slot 42", msg), msg
    registry(ml_module, True).check_imports(imports, 42)  # active: loads
    # the pure twin imports no SBPFunc: it loads either way
    pure_imports = load_elf(PURE.read_bytes(), inactive.registry_at(0)).syscall_names.values()
    inactive.check_imports(pure_imports, 42)
    assert not any(n.startswith("sol_ml_") for n in pure_imports)


def test_agent_already_loaded_fails_at_the_call_when_inactive(ml_module):
    ours = Ours(registry(ml_module, False).registry_at(7), mf.example_trading_model())
    ours.h.set_clock(slot=7)
    res = ours.run(AGENT_ID, encode([0] * 12))
    assert not res.success and "unsupported BPF instruction" in res.logs[-1]
    assert res.logs[1] == f"SBPFunc sol_ml_model_info from module ml 1.0.0 (sha256 {ml_module.sha256[:16]}…) " \
                          "is not active at slot 7", res.logs
    assert ours.run(PURE_ID, encode([0] * 12)).success


@pytest.mark.parametrize("case", ["bad_magic", "truncated", "wrong_features", "no_account"])
def test_agents_fail_alike_on_bad_input(ml_module, case):
    model = mf.example_trading_model()
    data = encode([1] * 12)
    if case == "bad_magic":
        model = b"XXXX" + model[4:]
    elif case == "truncated":
        model = model[:-10]
    elif case == "wrong_features":
        data = encode([1] * 11)
    ours = Ours(registry(ml_module, True).registry_at(0), model)
    results = []
    for pid in (AGENT_ID, PURE_ID):
        if case == "no_account":
            res = ours.h.process_instruction(Instruction(pid, data, []), [])
        else:
            res = ours.run(pid, data)
        assert not res.success
        results.append(res.error.kind)
    expected = {"bad_magic": "InvalidAccountData", "truncated": "InvalidAccountData",
                "wrong_features": "InvalidInstructionData", "no_account": "NotEnoughAccountKeys"}[case]
    assert results == [expected, expected], results
