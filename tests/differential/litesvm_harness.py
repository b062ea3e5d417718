"""Run VM cases as real Solana programs in LiteSVM (Agave 4.1 / sbpf 0.21, via solders).

* `serialize_input` builds Agave's input region for an instruction with no accounts; the VM tests
  give our interpreter the same bytes (and r2 = `INSTRUCTION_DATA_VADDR`) so both VMs see one input.
* `LiteSvmRunner` deploys ELFs under fresh program ids in one shared LiteSVM, sends one signed
  transaction per run (with a ComputeBudget limit when the case needs a budget other than Agave's
  default) and parses the program's log lines: "consumed X of Y", the failure text, "Program log:".
* `wrap_case_source` turns a case into a program whose entrypoint calls the case as a function and
  logs its r0 with `sol_log_64_`, so r0 can be read exactly (a program's return value is otherwise
  only visible through the error it maps to).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

MM_INPUT_START = 0x4_0000_0000
INSTRUCTION_DATA_VADDR = MM_INPUT_START + 16  # no accounts: after u64 n_accounts, u64 data_len
MM_PROGRAM_START = 0x1_0000_0000
COMPUTE_BUDGET_IX_COST = 150  # agave-facts 7
DEFAULT_BUDGET = 200_000

# The wrapper appended after the case body: call it, log r0, succeed.
WRAPPER_INSNS = 5
WRAPPER_CU = WRAPPER_INSNS + 100  # + sol_log_64_


def serialize_input(ix_data: bytes, program_id: bytes) -> bytes:
    """Agave's aligned serialization of an instruction with no accounts (BPFLoader2/upgradeable)."""
    assert len(program_id) == 32
    return struct.pack("<QQ", 0, len(ix_data)) + bytes(ix_data) + bytes(program_id)


# ----------------------------------------------------------------------------------------------
# r0 <-> Agave's report of it
# ----------------------------------------------------------------------------------------------
# solana-program-error builtin codes: k << 32 is a builtin error. Only k = 1..10 are listed: their
# InstructionError Display texts are certain; k = 11..26 are reported as "<builtin k>" by
# `agave_r0_report` and cannot be decoded back.
BUILTIN_ERROR_TEXTS = [
    "custom program error: 0x0",  # 1: Custom(0)
    "invalid program argument",
    "invalid instruction data",
    "invalid account data for instruction",
    "account data too small for instruction",
    "insufficient funds for instruction",
    "incorrect program id for instruction",
    "missing required signature for instruction",
    "instruction requires an uninitialized account",
    "instruction requires an initialized account",
]
N_BUILTIN_CODES = 26
INVALID_ERROR_TEXT = "program returned invalid error code"


def r0_from_failure(text: str) -> int | None:
    """The exact r0 behind an r0-caused failure text, or None when Agave does not reveal it.

    "custom program error: 0xN" -> N (the upper 32 bits were zero; 0x0 comes from 1 << 32).
    """
    m = re.fullmatch(r"custom program error: (0x[0-9a-f]+)", text)
    if m:
        v = int(m.group(1), 16)
        return 1 << 32 if v == 0 else v
    for k, t in enumerate(BUILTIN_ERROR_TEXTS, 1):
        if k > 1 and text == t:
            return k << 32
    return None


def agave_r0_report(r0: int) -> str | None:
    """What Agave logs as the failure for a program returning r0 (None: success)."""
    if r0 == 0:
        return None
    if r0 >> 32 == 0:
        return f"custom program error: {r0:#x}"
    if r0 & 0xFFFF_FFFF == 0 and 1 <= (r0 >> 32) <= N_BUILTIN_CODES:
        k = r0 >> 32
        return BUILTIN_ERROR_TEXTS[k - 1] if k <= len(BUILTIN_ERROR_TEXTS) else f"<builtin {k}>"
    return INVALID_ERROR_TEXT


# ----------------------------------------------------------------------------------------------
# Wrapping a case as a called function
# ----------------------------------------------------------------------------------------------
_ENTRY_LABEL = re.compile(r"(?m)^(\s*)entrypoint:")


def wrap_case_source(source: str) -> str:
    """The case body first (so its text address is unchanged), then a wrapper entrypoint.

    Costs WRAPPER_INSNS instructions and WRAPPER_CU compute units on top of the case, and runs the
    case one call frame deeper (r10 moves by one frame, the call depth is one more).
    """
    text, sep, rodata = source.partition(".rodata")
    if _ENTRY_LABEL.search(text):
        text = re.sub(r"\bentrypoint\b", "__case_entry", text)  # the label and calls to it
    else:
        text = "__case_entry:\n" + text
    wrapper = ("entrypoint:\n"
               "call __case_entry\n"
               "mov64 r1, r0\n"
               "call sol_log_64_\n"
               "mov64 r0, 0\n"
               "exit\n")
    if not text.endswith("\n"):
        text += "\n"
    return text + wrapper + (sep + rodata if sep else "")


# ----------------------------------------------------------------------------------------------
# ELF helpers
# ----------------------------------------------------------------------------------------------
def elf_text_vaddr(elf: bytes) -> int:
    """Guest address of .text in a v0-v2 ELF (sh_addr + MM_PROGRAM_START), or of the PF_X
    segment (v3, strict layout: already at 4 GiB)."""
    e_flags = struct.unpack_from("<I", elf, 48)[0]
    if e_flags == 3:
        phoff = struct.unpack_from("<Q", elf, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", elf, 54)
        for i in range(phnum):
            p_type, p_flags, _off, p_vaddr = struct.unpack_from("<IIQQ", elf, phoff + i * phentsize)
            if p_type == 1 and p_flags & 1:
                return p_vaddr
        raise ValueError("no PF_X segment")
    shoff = struct.unpack_from("<Q", elf, 40)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 58)
    strtab_off = struct.unpack_from("<Q", elf, shoff + shstrndx * shentsize + 24)[0]
    for i in range(shnum):
        base = shoff + i * shentsize
        name_off = struct.unpack_from("<I", elf, base)[0]
        name = elf[strtab_off + name_off: elf.index(b"\0", strtab_off + name_off)]
        if name == b".text":
            return struct.unpack_from("<Q", elf, base + 16)[0] + MM_PROGRAM_START
    raise ValueError("no .text section")


def build_elf(case, wrapped: bool = False) -> tuple[bytes, int]:
    """Assemble `case` (optionally wrapped) into an ELF with `{case_vaddr}` resolved.

    Returns (elf, case_vaddr). Two passes: the text address does not depend on the immediates.
    """
    from sbpfunc.asm import assemble

    def make(vaddr: int) -> bytes:
        src = case.source(vaddr)
        if wrapped:
            src = wrap_case_source(src)
        return assemble(src, case.version).to_elf()

    elf = make(MM_PROGRAM_START)
    vaddr = elf_text_vaddr(elf)
    if "{case_vaddr" in case.asm:
        elf = make(vaddr)
        assert elf_text_vaddr(elf) == vaddr
    return elf, vaddr


# ----------------------------------------------------------------------------------------------
# LiteSVM runner
# ----------------------------------------------------------------------------------------------
@dataclass
class LiteResult:
    ok: bool
    logs: list[str]
    consumed: int | None  # from "Program <id> consumed X of Y compute units"
    budget_seen: int | None  # Y
    failure: str | None  # the first "Program <id> failed: <text>" text
    err: str | None  # the transaction error (repr)
    tx_compute_units: int | None
    program_logs: list[str] = field(default_factory=list)  # "Program log: ..." / consumption lines

    @property
    def r0(self) -> int | None:
        """r0 when Agave's report determines it exactly."""
        if self.ok:
            return 0
        return None if self.failure is None else r0_from_failure(self.failure)

    def logged_r0(self) -> int | None:
        """r0 as logged by the wrapper's sol_log_64_ (the last "Program log: 0x.., ..." line)."""
        for line in reversed(self.program_logs):
            m = re.fullmatch(r"Program log: (0x[0-9a-f]+), 0x[0-9a-f]+, 0x[0-9a-f]+, "
                             r"0x[0-9a-f]+, 0x[0-9a-f]+", line)
            if m:
                return int(m.group(1), 16)
        return None


def _get(attr):
    """solders exposes some metadata fields as methods and others as properties."""
    return attr() if callable(attr) else attr


class LiteSvmRunner:
    """One LiteSVM (mainnet feature set) shared by many programs; one transaction per run."""

    def __init__(self):
        from solders.keypair import Keypair
        from solders.litesvm import LiteSVM

        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 1_000 * 10**9)
        self.deployed: set[bytes] = set()

    def deploy(self, program_id: bytes, elf: bytes) -> None:
        from solders.pubkey import Pubkey

        assert program_id not in self.deployed, "each program gets a fresh id"
        self.svm.add_program(Pubkey.from_bytes(program_id), elf)
        self.deployed.add(program_id)

    def run(self, program_id: bytes, ix_data: bytes = b"", budget: int = DEFAULT_BUDGET) -> LiteResult:
        from solders.compute_budget import set_compute_unit_limit
        from solders.instruction import Instruction
        from solders.message import Message
        from solders.pubkey import Pubkey
        from solders.transaction import Transaction
        from solders.transaction_metadata import FailedTransactionMetadata

        pid = Pubkey.from_bytes(program_id)
        ixs = []
        if budget != DEFAULT_BUDGET:
            ixs.append(set_compute_unit_limit(budget + COMPUTE_BUDGET_IX_COST))
        ixs.append(Instruction(pid, bytes(ix_data), []))
        blockhash = self.svm.latest_blockhash()
        msg = Message.new_with_blockhash(ixs, self.payer.pubkey(), blockhash)
        tx = Transaction([self.payer], msg, blockhash)
        res = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        if isinstance(res, FailedTransactionMetadata):
            meta, err, ok = _get(res.meta), repr(_get(res.err)), False
        else:
            meta, err, ok = res, None, True
        logs = list(_get(meta.logs))
        sid = str(pid)
        consumed = budget_seen = None
        failure = None
        program_logs = []
        in_program = False
        for line in logs:
            if line.startswith(f"Program {sid} invoke"):
                in_program = True
                continue
            m = re.fullmatch(rf"Program {sid} consumed (\d+) of (\d+) compute units", line)
            if m:
                consumed, budget_seen = int(m.group(1)), int(m.group(2))
                continue
            if line.startswith(f"Program {sid} failed: "):
                if failure is None:
                    failure = line[len(f"Program {sid} failed: "):]
                in_program = False
                continue
            if line == f"Program {sid} success":
                in_program = False
                continue
            if in_program:
                program_logs.append(line)
        return LiteResult(ok, logs, consumed, budget_seen, failure, err,
                          _get(meta.compute_units_consumed), program_logs)
