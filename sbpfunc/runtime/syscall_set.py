"""The syscall set programs run against: core syscalls, CPI, and any SBPFunc modules.

Core syscalls live in `sbpfunc.syscalls` (below the runtime); CPI needs the runtime, so the two
are joined here. With modules, an `SBPFuncRegistry` decides per slot which module functions are
callable; `registry_at(slot)` is what a program cache loads against.
"""

from __future__ import annotations

from typing import Iterable

from ..syscalls.core import runtime_registry
from ..syscalls.features import FeatureSet
from ..syscalls.modules import ActivationSource, LoadedModule, SBPFuncRegistry, StaticActivation
from ..syscalls.registry import SyscallRegistry
from .cpi import CPI_SYSCALLS


def core_syscalls(feature_set: FeatureSet | None = None) -> list:
    """Every core syscall (LiteSVM's mainnet set by default) plus sol_invoke_signed_c/_rust."""
    reg = runtime_registry(feature_set, extra=CPI_SYSCALLS)
    return [reg.get(name) for name in reg.names()]


def default_registry(feature_set: FeatureSet | None = None) -> SyscallRegistry:
    """The registry a program sees on a cluster with no SBPFunc modules."""
    return runtime_registry(feature_set, extra=CPI_SYSCALLS)


def sbpfunc_registry(modules: Iterable[LoadedModule] = (), activation: ActivationSource | None = None,
                     feature_set: FeatureSet | None = None) -> SBPFuncRegistry:
    """Core syscalls plus modules; without an activation source every given module is active."""
    modules = list(modules)
    if activation is None:
        activation = StaticActivation([m.sha256 for m in modules])
    return SBPFuncRegistry(core_syscalls(feature_set), modules, activation)
