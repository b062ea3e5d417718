"""Proposals: what validators vote on.

A proposal pins one SBPFunc module by the SHA-256 of its file and lists the functions it declares
(name and signature text, as `SBPFunction.signature_text()` prints them). Three kinds:

* `activate`   — make module `sha256` callable from the (effective) activation slot on;
* `upgrade`    — at the activation slot, swap the active module `replaces` for `sha256`;
* `deactivate` — from the activation slot, module `sha256` is deprecated (calls still work and
                 log a deprecation line) for `deprecation_slots`, then it is gone.

The lifecycle (`State`) and the rule of every transition are in docs/governance.md and in
`schedule.py`, which computes them. File format: `Proposal.from_toml` / `to_toml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Iterable, Mapping

import mmh3

from .encoding import b58decode, canonical_json, check_sha256, dump_toml, read_toml, sha256_hex
from .errors import GovernanceError, SyscallCollision
from .stake import DEFAULT_SLOTS_PER_EPOCH

DEFAULT_THRESHOLD_PCT = 67  # SPL feature-proposal's --percent-stake-required default
THRESHOLD_PRESETS = {"default": 67, "supermajority": 67, "core": 95}  # 95: Solana's core feature gate
MIN_THRESHOLD_PCT, MAX_THRESHOLD_PCT = 50, 99  # below 50 a minority could decide; 100 can never pass

MAX_SLOT = (1 << 62) - 1  # slots stay far from SQLite's signed 64-bit integers, with room to add periods
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CLUSTER = re.compile(r"^[\x21-\x7e]{1,128}$")


class Kind(str, Enum):
    ACTIVATE = "activate"
    UPGRADE = "upgrade"
    DEACTIVATE = "deactivate"


class State(str, Enum):
    DRAFT = "Draft"
    VOTING = "Voting"
    SUCCEEDED = "Succeeded"
    DEFEATED = "Defeated"
    CANCELLED = "Cancelled"
    SCHEDULED = "Scheduled"
    ACTIVE = "Active"
    DEPRECATED = "Deprecated"
    DEACTIVATED = "Deactivated"


TERMINAL = {State.DEFEATED, State.CANCELLED, State.DEACTIVATED}

# Every syscall Agave registers (anza-xyz/agave syscalls/src/lib.rs, create_program_runtime_
# environment_v1, all feature gates on), plus names reserved by the SDKs. A proposed function may
# not take one of these names or murmur3 ids, whether or not this simulator implements it yet.
AGAVE_SYSCALLS = (
    "abort", "sol_panic_", "sol_log_", "sol_log_64_", "sol_log_compute_units_", "sol_log_pubkey",
    "sol_log_data", "sol_create_program_address", "sol_try_find_program_address", "sol_sha256",
    "sol_keccak256", "sol_secp256k1_recover", "sol_blake3", "sol_curve_validate_point",
    "sol_curve_group_op", "sol_curve_multiscalar_mul", "sol_curve_pairing_map",
    "sol_get_clock_sysvar", "sol_get_epoch_schedule_sysvar", "sol_get_fees_sysvar",
    "sol_get_rent_sysvar", "sol_get_last_restart_slot", "sol_get_epoch_rewards_sysvar",
    "sol_get_sysvar", "sol_memcpy_", "sol_memmove_", "sol_memset_", "sol_memcmp_",
    "sol_invoke_signed_c", "sol_invoke_signed_rust", "sol_alloc_free_", "sol_set_return_data",
    "sol_get_return_data", "sol_get_processed_sibling_instruction", "sol_get_stack_height",
    "sol_alt_bn128_group_op", "sol_alt_bn128_compression", "sol_big_mod_exp", "sol_poseidon",
    "sol_remaining_compute_units", "sol_get_epoch_stake", "entrypoint",
)


def syscall_key(name: str) -> int:
    """murmur3-32 (seed 0) of the symbol name, as `sbpfunc.vm.executable.hash_symbol_name`."""
    return mmh3.hash(name.encode(), 0, signed=False)


def check_collisions(names: Iterable[str], taken: Mapping[str, str]) -> None:
    """Refuse a name already taken, or one whose murmur3 id equals a taken name's id.

    `taken` maps a syscall name to a description of its owner ("core syscall", "module ml 1.0 …").
    Also refuses two proposed names that collide with each other.
    """
    by_key: dict[int, tuple[str, str]] = {syscall_key(n): (n, owner) for n, owner in taken.items()}
    mine: dict[int, str] = {}
    for name in names:
        key = syscall_key(name)
        if name in taken:
            raise SyscallCollision(f"function {name} is already provided by {taken[name]}")
        hit = by_key.get(key)
        if hit is not None:
            raise SyscallCollision(f"function {name} collides with {hit[0]} ({hit[1]}): both have "
                                   f"murmur3 id {key:#010x}")
        if key in mine:
            raise SyscallCollision(f"functions {mine[key]} and {name} of this proposal both have "
                                   f"murmur3 id {key:#010x}")
        mine[key] = name


@dataclass(frozen=True)
class FunctionDecl:
    name: str
    signature: str

    def to_dict(self) -> dict:
        return {"name": self.name, "signature": self.signature}


def _int(v, what: str, minimum: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise GovernanceError(f"{what} must be an integer >= {minimum}, got {v!r}")
    return v


@dataclass(frozen=True)
class Proposal:
    id: str
    kind: Kind
    cluster: str
    module_name: str
    module_version: str
    module_sha256: str
    functions: tuple[FunctionDecl, ...]
    author: str
    voting_start: int
    voting_end: int
    activation_slot: int
    threshold_pct: int = DEFAULT_THRESHOLD_PCT
    epoch_boundary: bool = False
    slots_per_epoch: int = DEFAULT_SLOTS_PER_EPOCH
    replaces: str | None = None
    deprecation_slots: int | None = None
    audit_sha256: str | None = None
    title: str = ""
    module_path: str | None = field(default=None, compare=False)  # where the file is; not signed

    def __post_init__(self):
        object.__setattr__(self, "kind", Kind(self.kind))
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise GovernanceError(f"proposal id {self.id!r}: 1-64 characters of A-Z a-z 0-9 . _ -")
        if not isinstance(self.cluster, str) or not _CLUSTER.match(self.cluster):
            raise GovernanceError(f"cluster id {self.cluster!r}: 1-128 printable ASCII characters, no spaces")
        if not isinstance(self.module_name, str) or not self.module_name:
            raise GovernanceError("module name must be a non-empty string")
        if not isinstance(self.module_version, str) or not self.module_version:
            raise GovernanceError("module version must be a non-empty string")
        object.__setattr__(self, "module_sha256", check_sha256(self.module_sha256, "module sha256"))
        b58decode(self.author, 32)
        fns = tuple(f if isinstance(f, FunctionDecl) else FunctionDecl(**f) for f in self.functions)
        if not fns:
            raise GovernanceError("a proposal lists at least one function")
        seen = set()
        for f in fns:
            if not isinstance(f.name, str) or not _SYMBOL.match(f.name):
                raise GovernanceError(f"function name {f.name!r} is not a valid symbol")
            if f.name in seen:
                raise GovernanceError(f"function {f.name} is listed twice")
            if not isinstance(f.signature, str) or not f.signature.strip():
                raise GovernanceError(f"function {f.name}: signature text is missing")
            seen.add(f.name)
        object.__setattr__(self, "functions", fns)
        for what in ("voting_start", "voting_end", "activation_slot"):
            if _int(getattr(self, what), what) > MAX_SLOT:
                raise GovernanceError(f"{what} is beyond slot {MAX_SLOT}")
        _int(self.slots_per_epoch, "slots_per_epoch", 1)
        if self.voting_end <= self.voting_start:
            raise GovernanceError(f"voting must end after it starts (start {self.voting_start}, "
                                  f"end {self.voting_end})")
        if self.activation_slot < self.voting_end:
            raise GovernanceError(f"activation slot {self.activation_slot} is before voting ends "
                                  f"({self.voting_end})")
        _int(self.threshold_pct, "threshold_pct")
        if not MIN_THRESHOLD_PCT <= self.threshold_pct <= MAX_THRESHOLD_PCT:
            raise GovernanceError(f"threshold {self.threshold_pct}% is outside {MIN_THRESHOLD_PCT}..."
                                  f"{MAX_THRESHOLD_PCT}% (presets: {THRESHOLD_PRESETS})")
        if not isinstance(self.epoch_boundary, bool):
            raise GovernanceError("epoch_boundary must be true or false")
        if self.kind is Kind.UPGRADE:
            if self.replaces is None:
                raise GovernanceError("an upgrade names the module hash it `replaces`")
            object.__setattr__(self, "replaces", check_sha256(self.replaces, "replaces"))
            if self.replaces == self.module_sha256:
                raise GovernanceError("an upgrade must change the module hash")
        elif self.replaces is not None:
            raise GovernanceError(f"only an upgrade has `replaces` (this is a {self.kind.value})")
        if self.kind is Kind.DEACTIVATE:
            if self.deprecation_slots is None:
                object.__setattr__(self, "deprecation_slots", self.slots_per_epoch)
            if _int(self.deprecation_slots, "deprecation_slots") > MAX_SLOT:
                raise GovernanceError(f"deprecation_slots is beyond {MAX_SLOT}")
        elif self.deprecation_slots is not None:
            raise GovernanceError(f"only a deactivation has `deprecation_slots` (this is a {self.kind.value})")
        if self.audit_sha256 is not None:
            object.__setattr__(self, "audit_sha256", check_sha256(self.audit_sha256, "audit report sha256"))

    # -- derived ----------------------------------------------------------------------------------
    @property
    def function_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.functions)

    @property
    def needs_audit(self) -> bool:
        """Activations and upgrades bring new code; a deactivation removes code and needs none."""
        return self.kind is not Kind.DEACTIVATE

    @property
    def target(self) -> str | None:
        """The module hash this proposal acts on besides its own (upgrade) or instead (deactivate)."""
        if self.kind is Kind.UPGRADE:
            return self.replaces
        if self.kind is Kind.DEACTIVATE:
            return self.module_sha256
        return None

    def describe_module(self) -> str:
        return f"module {self.module_name} {self.module_version} (sha256 {self.module_sha256[:16]}…)"

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind.value, "cluster": self.cluster, "title": self.title,
            "author": self.author,
            "module": {"name": self.module_name, "version": self.module_version, "sha256": self.module_sha256,
                       "replaces": self.replaces},
            "voting": {"start_slot": self.voting_start, "end_slot": self.voting_end,
                       "threshold_pct": self.threshold_pct},
            "activation": {"slot": self.activation_slot, "epoch_boundary": self.epoch_boundary,
                           "slots_per_epoch": self.slots_per_epoch,
                           "deprecation_slots": self.deprecation_slots},
            "audit_sha256": self.audit_sha256,
            "functions": [f.to_dict() for f in self.functions],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of every field except `module_path` (a location)."""
        return sha256_hex(canonical_json(self.to_dict()))

    @classmethod
    def from_dict(cls, d: dict, module_path: str | None = None) -> "Proposal":
        return cls(
            id=d["id"], kind=d["kind"], cluster=d["cluster"], title=d.get("title", ""), author=d["author"],
            module_name=d["module"]["name"], module_version=d["module"]["version"],
            module_sha256=d["module"]["sha256"], replaces=d["module"].get("replaces"),
            voting_start=d["voting"]["start_slot"], voting_end=d["voting"]["end_slot"],
            threshold_pct=d["voting"]["threshold_pct"], activation_slot=d["activation"]["slot"],
            epoch_boundary=d["activation"]["epoch_boundary"], slots_per_epoch=d["activation"]["slots_per_epoch"],
            deprecation_slots=d["activation"].get("deprecation_slots"), audit_sha256=d.get("audit_sha256"),
            functions=tuple(FunctionDecl(f["name"], f["signature"]) for f in d["functions"]),
            module_path=module_path,
        )

    def with_(self, **changes) -> "Proposal":
        return replace(self, **changes)

    # -- TOML -------------------------------------------------------------------------------------
    @classmethod
    def from_toml_dict(cls, doc: dict, source: str = "proposal", base_dir: Path | None = None) -> "Proposal":
        def table(name: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
            t = doc.get(name, {})
            if not isinstance(t, dict):
                raise GovernanceError(f"{source}: [{name}] must be a table")
            extra, missing = set(t) - allowed, required - set(t)
            if extra:
                raise GovernanceError(f"{source}: unknown key(s) in [{name}]: {', '.join(sorted(extra))}")
            if missing:
                raise GovernanceError(f"{source}: [{name}] needs {', '.join(sorted(missing))}")
            return t

        extra = set(doc) - {"id", "kind", "title", "author", "cluster", "module", "voting", "activation",
                            "audit", "function"}
        if extra:
            raise GovernanceError(f"{source}: unknown key(s): {', '.join(sorted(extra))}")
        for k in ("id", "kind", "author"):
            if k not in doc:
                raise GovernanceError(f"{source}: missing `{k}`")
        cluster = table("cluster", {"id", "slots_per_epoch"}, {"id"})
        module = table("module", {"name", "version", "sha256", "path", "replaces"}, {"name", "version", "sha256"})
        voting = table("voting", {"start_slot", "end_slot", "threshold_pct", "threshold"}, {"start_slot", "end_slot"})
        activation = table("activation", {"slot", "epoch_boundary", "deprecation_slots"}, {"slot"})
        audit = table("audit", {"report_sha256"})
        functions = doc.get("function", [])
        if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
            raise GovernanceError(f"{source}: functions are [[function]] tables with `name` and `signature`")
        decls = []
        for i, f in enumerate(functions):
            if set(f) != {"name", "signature"}:
                raise GovernanceError(f"{source}: [[function]] #{i + 1} must have exactly `name` and `signature`")
            decls.append(FunctionDecl(f["name"], f["signature"]))
        threshold = voting.get("threshold_pct", DEFAULT_THRESHOLD_PCT)
        if "threshold" in voting:
            if "threshold_pct" in voting:
                raise GovernanceError(f"{source}: give `threshold_pct` or a `threshold` preset, not both")
            preset = voting["threshold"]
            if preset not in THRESHOLD_PRESETS:
                raise GovernanceError(f"{source}: unknown threshold preset {preset!r} "
                                      f"(presets: {', '.join(THRESHOLD_PRESETS)})")
            threshold = THRESHOLD_PRESETS[preset]
        path = module.get("path")
        if path is not None and base_dir is not None:
            path = str((base_dir / path).resolve()) if not Path(path).is_absolute() else path
        try:
            return cls(
                id=doc["id"], kind=doc["kind"], cluster=cluster.get("id"), title=doc.get("title", ""),
                author=doc["author"], module_name=module["name"], module_version=module["version"],
                module_sha256=module["sha256"], replaces=module.get("replaces"),
                voting_start=voting["start_slot"], voting_end=voting["end_slot"], threshold_pct=threshold,
                activation_slot=activation["slot"], epoch_boundary=activation.get("epoch_boundary", False),
                slots_per_epoch=cluster.get("slots_per_epoch", DEFAULT_SLOTS_PER_EPOCH),
                deprecation_slots=activation.get("deprecation_slots"),
                audit_sha256=audit.get("report_sha256"), functions=tuple(decls), module_path=path,
            )
        except (GovernanceError, ValueError) as e:
            raise GovernanceError(f"{source}: {e}") from None

    @classmethod
    def load(cls, path: str | Path) -> "Proposal":
        path = Path(path)
        return cls.from_toml_dict(read_toml(path), str(path), path.parent)

    def to_toml(self, header: str = "", module_path: str | None = None) -> str:
        doc: dict = {"id": self.id, "kind": self.kind.value}
        if self.title:
            doc["title"] = self.title
        doc["author"] = self.author
        doc["cluster"] = {"id": self.cluster, "slots_per_epoch": self.slots_per_epoch}
        doc["module"] = {"name": self.module_name, "version": self.module_version, "sha256": self.module_sha256,
                         "replaces": self.replaces, "path": module_path}
        doc["voting"] = {"start_slot": self.voting_start, "end_slot": self.voting_end,
                         "threshold_pct": self.threshold_pct}
        doc["activation"] = {"slot": self.activation_slot, "epoch_boundary": self.epoch_boundary,
                             "deprecation_slots": self.deprecation_slots}
        if self.audit_sha256:
            doc["audit"] = {"report_sha256": self.audit_sha256}
        doc["function"] = [f.to_dict() for f in self.functions]
        return dump_toml(doc, header)
