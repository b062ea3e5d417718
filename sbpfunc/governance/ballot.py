"""Ballots: ed25519 signatures (pynacl) over domain-separated canonical bytes.

The signed message is

    b"sbpfunc-governance-ballot-v1\\0"
    || u16le(len(cluster)) || cluster (ASCII)
    || u16le(len(proposal_id)) || proposal_id (ASCII)
    || module_sha256 (32 raw bytes)
    || choice (1 byte: 0 = no, 1 = yes, 2 = abstain)
    || slot (u64le)

so a signature binds the cluster, the proposal, the exact module, the choice and the slot: it
verifies for nothing else (another proposal, another cluster, another module hash, another choice).
The prefix keeps these bytes apart from anything else a validator key signs (transactions start
with a signature count and a message header, never with this ASCII text), and the cancellation
message has its own prefix.

Ballot file (JSON, fixed):

    {"format": "sbpfunc-ballot-v1", "cluster": "...", "proposal": "...", "module_sha256": "<hex>",
     "choice": "yes" | "no" | "abstain", "slot": N, "voter": "<base58 pubkey>",
     "signature": "<base58 64-byte signature>"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .encoding import Keypair, b58decode, b58encode, check_sha256, verify_signature
from .errors import BallotRejected, GovernanceError

BALLOT_PREFIX = b"sbpfunc-governance-ballot-v1\0"
CANCEL_PREFIX = b"sbpfunc-governance-cancel-v1\0"
BALLOT_FORMAT = "sbpfunc-ballot-v1"
U64_MAX = (1 << 64) - 1


class Choice(str, Enum):
    NO = "no"
    YES = "yes"
    ABSTAIN = "abstain"

    @property
    def code(self) -> int:
        return {"no": 0, "yes": 1, "abstain": 2}[self.value]


def _lp(text: str, what: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise GovernanceError(f"{what} must be ASCII")
    raw = text.encode("ascii")
    if len(raw) > 0xFFFF:
        raise GovernanceError(f"{what} is too long")
    return len(raw).to_bytes(2, "little") + raw


def ballot_message(cluster: str, proposal_id: str, module_sha256: str, choice: Choice | str, slot: int) -> bytes:
    """The canonical bytes a ballot signs."""
    choice = Choice(choice)
    if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot <= U64_MAX:
        raise GovernanceError(f"ballot slot must be an integer in 0..2^64-1, got {slot!r}")
    return (BALLOT_PREFIX + _lp(cluster, "cluster id") + _lp(proposal_id, "proposal id")
            + bytes.fromhex(check_sha256(module_sha256, "module sha256")) + bytes([choice.code])
            + slot.to_bytes(8, "little"))


def cancel_message(cluster: str, proposal_id: str, module_sha256: str, slot: int) -> bytes:
    """The canonical bytes an author signs to cancel a proposal."""
    return (CANCEL_PREFIX + _lp(cluster, "cluster id") + _lp(proposal_id, "proposal id")
            + bytes.fromhex(check_sha256(module_sha256, "module sha256")) + slot.to_bytes(8, "little"))


@dataclass(frozen=True)
class Ballot:
    cluster: str
    proposal: str
    module_sha256: str
    choice: Choice
    slot: int
    voter: str
    signature: bytes

    def message(self) -> bytes:
        return ballot_message(self.cluster, self.proposal, self.module_sha256, self.choice, self.slot)

    def signature_valid(self) -> bool:
        try:
            public = b58decode(self.voter, 32)
            msg = self.message()
        except GovernanceError:
            return False
        return verify_signature(public, msg, self.signature)

    @property
    def signature_b58(self) -> str:
        return b58encode(self.signature)

    @classmethod
    def sign(cls, keypair: Keypair, cluster: str, proposal_id: str, module_sha256: str,
             choice: Choice | str, slot: int) -> "Ballot":
        msg = ballot_message(cluster, proposal_id, module_sha256, choice, slot)
        return cls(cluster, proposal_id, module_sha256.lower(), Choice(choice), slot, keypair.pubkey,
                   keypair.sign(msg))

    def to_dict(self) -> dict:
        return {"format": BALLOT_FORMAT, "cluster": self.cluster, "proposal": self.proposal,
                "module_sha256": self.module_sha256, "choice": self.choice.value, "slot": self.slot,
                "voter": self.voter, "signature": self.signature_b58}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "Ballot":
        """Parse a ballot; a malformed one is rejected with code `malformed`."""
        def bad(why: str):
            raise BallotRejected("malformed", f"malformed ballot: {why}")

        if not isinstance(d, dict):
            bad("not a JSON object")
        if d.get("format") != BALLOT_FORMAT:
            bad(f"format must be {BALLOT_FORMAT!r}")
        expected = {"format", "cluster", "proposal", "module_sha256", "choice", "slot", "voter", "signature"}
        if set(d) != expected:
            missing, extra = expected - set(d), set(d) - expected
            bad(("missing " + ", ".join(sorted(missing)) if missing else "")
                + ("; " if missing and extra else "") + ("unknown " + ", ".join(sorted(extra)) if extra else ""))
        for k in ("cluster", "proposal", "module_sha256", "choice", "voter", "signature"):
            if not isinstance(d[k], str):
                bad(f"`{k}` must be a string")
        if d["choice"] not in {c.value for c in Choice}:
            bad(f"choice must be yes, no or abstain, not {d['choice']!r}")
        slot = d["slot"]
        if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot <= U64_MAX:
            bad(f"slot must be an integer in 0..2^64-1, got {slot!r}")
        try:
            check_sha256(d["module_sha256"], "module_sha256")
            b58decode(d["voter"], 32)
            signature = b58decode(d["signature"], 64)
        except GovernanceError as e:
            bad(str(e))
        if not d["cluster"].isascii() or not d["proposal"].isascii():
            bad("cluster and proposal ids are ASCII")
        return cls(d["cluster"], d["proposal"], d["module_sha256"].lower(), Choice(d["choice"]), slot, d["voter"],
                   signature)

    @classmethod
    def load(cls, path: str | Path) -> "Ballot":
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except OSError as e:
            raise GovernanceError(f"cannot read ballot {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise BallotRejected("malformed", f"malformed ballot: {path} is not JSON ({e})") from None
        return cls.from_dict(d)
