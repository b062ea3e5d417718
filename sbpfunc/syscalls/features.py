"""The feature gates that decide which syscalls are registered and how a few of them behave.

Field names follow Agave's `SVMFeatureSet`. The defaults are what LiteSVM (solders 0.29, Agave
4.1) runs with, which is the mainnet feature set (agave-facts #1) — each was observed there: e.g.
`sol_remaining_compute_units`, `sol_blake3`, `sol_sha512`, `sol_big_mod_exp` and
`sol_get_fees_sysvar` are not registered, `sol_get_sysvar` refuses a destination in the input
region ("Invalid pointer"), an unknown curve id or group op aborts ("InvalidAttribute"), and
BLS12-381 curve ids are accepted by the curve syscalls.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class FeatureSet:
    blake3_syscall_enabled: bool = False
    enable_sha512_syscall: bool = False
    curve25519_syscall_enabled: bool = True
    enable_bls12_381_syscall: bool = True
    abort_on_invalid_curve: bool = True
    disable_fees_sysvar: bool = True
    last_restart_slot_sysvar: bool = True
    remaining_compute_units_syscall_enabled: bool = False
    get_sysvar_syscall_enabled: bool = True
    enable_get_epoch_stake_syscall: bool = True
    syscall_parameter_address_restrictions: bool = True
    enable_alt_bn128_syscall: bool = True
    enable_alt_bn128_compression_syscall: bool = True
    enable_poseidon_syscall: bool = True
    enable_big_mod_exp_syscall: bool = False

    @classmethod
    def mainnet(cls) -> "FeatureSet":
        """LiteSVM's default (mainnet) feature set."""
        return cls()

    @classmethod
    def all_enabled(cls) -> "FeatureSet":
        """Every gate on (as Agave's `SVMFeatureSet::all_enabled`; fees sysvar disabled)."""
        return cls(**{f.name: True for f in fields(cls)})

    def with_(self, **changes) -> "FeatureSet":
        return replace(self, **changes)


MAINNET = FeatureSet()
