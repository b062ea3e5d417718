"""SBPFunc modules: hash-pinned loading, activation by slot, and dispatch with checked arguments.

A module is one Python file defining `MODULE` (a `signature.Module`). Its identity is the SHA-256
of the file's bytes: the registry loads a file only under the hash it was approved for, and an
edited file is refused with both hashes named.

Which modules are callable is a function of the slot, given by an `ActivationSource` (static for
tests and `--module FILE`; governance provides the real one). `SBPFuncRegistry.registry_at(slot)`
returns the syscall registry programs load against at that slot: the core syscalls, the functions
of active (or deprecated) modules, and — for functions of known but inactive modules — stubs that
fail the call with a log line naming the function, its module and the slot. The registry object
changes when the active set changes, so program caches keyed by it re-load and re-verify programs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

from ..vm import errors as E
from ..vm.errors import AccessViolation, SbpfuncError, StackAccessViolation, SyscallError
from ..vm.executable import hash_symbol_name
from .registry import RegistryError, Syscall, SyscallRegistry
from .signature import ELEMENT_TYPES, Module, Pointer, SBPFunction, Scalar, SignatureError, StructArg, evaluate

MAX_BUFFER_BYTES = 1 << 32  # a size expression beyond this is rejected before touching memory


class ModuleError(SbpfuncError):
    """A module file that cannot be loaded (unreadable, no MODULE, bad signature, wrong hash)."""


class ModuleHashMismatch(ModuleError):
    def __init__(self, path, actual: str, expected: str):
        self.actual, self.expected = actual, expected
        super().__init__(f"module file {path} has SHA-256 {actual}, but the approved hash is {expected}: "
                         f"refusing to load an edited module")


class SBPFuncNotActive(SbpfuncError):
    """A program imports an SBPFunc whose module is not active at the slot."""


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class LoadedModule:
    path: str
    sha256: str
    manifest: Module

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def describe(self) -> str:
        return f"module {self.name} {self.version} (sha256 {self.sha256[:16]}…)"


def load_module(path: str | Path, *, expected_sha256: str | None = None) -> LoadedModule:
    """Read, hash-check and execute a module file; returns its manifest."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModuleError(f"cannot read module {path}: {e.strerror or e}") from None
    digest = file_sha256(data)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ModuleHashMismatch(path, digest, expected_sha256.lower())
    namespace: dict = {"__name__": f"sbpfunc_module_{digest[:16]}", "__file__": str(path)}
    try:
        exec(compile(data, str(path), "exec"), namespace)  # noqa: S102 - modules are hash-pinned
    except SignatureError as e:
        raise ModuleError(f"module {path}: {e}") from None
    except Exception as e:
        raise ModuleError(f"module {path} failed to load: {type(e).__name__}: {e}") from None
    manifest = namespace.get("MODULE")
    if not isinstance(manifest, Module):
        raise ModuleError(f"module {path} defines no MODULE manifest")
    return LoadedModule(str(path), digest, manifest)


# --- activation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleStatus:
    """A module callable at some slot: active, or deprecated until `until_slot`."""

    sha256: str
    deprecated: bool = False
    until_slot: int | None = None


class ActivationSource(Protocol):
    def statuses(self, slot: int) -> dict[str, ModuleStatus]:
        """Modules (by SHA-256) callable at `slot`."""


class StaticActivation:
    """Every given module hash is active at every slot (tests, `--module FILE`)."""

    def __init__(self, hashes: Iterable[str]):
        self._hashes = frozenset(h.lower() for h in hashes)

    def statuses(self, slot: int) -> dict[str, ModuleStatus]:
        return {h: ModuleStatus(h) for h in self._hashes}


# --- dispatch --------------------------------------------------------------------------------------
def _decode(raw: bytes, elem: str) -> list[int]:
    size, signed = ELEMENT_TYPES[elem]
    return [int.from_bytes(raw[i:i + size], "little", signed=signed) for i in range(0, len(raw), size)]


def _encode(values: list[int], elem: str) -> bytes:
    size, signed = ELEMENT_TYPES[elem]
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
    out = bytearray()
    for v in values:
        if not isinstance(v, int) or not lo <= v <= hi:
            raise SyscallError(f"SBPFunc output value {v!r} does not fit in {elem}")
        out += v.to_bytes(size, "little", signed=signed)
    return bytes(out)


def _current_slot(ctx) -> int:
    sysvars = getattr(ctx, "sysvars", None)
    return sysvars.clock().slot if sysvars is not None else 0


def make_handler(fn: SBPFunction, module: LoadedModule, status: ModuleStatus):
    """The syscall handler for `fn`: decode and check arguments, charge, run, write outputs."""

    def translate(vm, addr: int, nbytes: int, write: bool, pname: str):
        try:
            return vm.memory.translate(addr, nbytes, write)
        except (AccessViolation, StackAccessViolation) as err:
            raise SyscallError(f"{fn.name}: argument `{pname}` ({nbytes} bytes at {addr:#x}): {err}") from None

    def handler(vm, r1, r2, r3, r4, r5):
        ctx = vm.context
        if status.deprecated:
            ctx.log(f"SBPFunc {fn.name} is deprecated: {module.describe()} stops working at slot "
                    f"{status.until_slot}")
        regs = (r1, r2, r3, r4, r5)
        args: dict = {}
        names: dict = {}
        pointers: list[tuple[Pointer, int]] = []
        for p, reg in zip(fn.params, regs):
            if isinstance(p, Scalar):
                args[p.name] = names[p.name] = p.decode(reg)
            elif isinstance(p, StructArg):
                if reg == 0:
                    if not p.optional:
                        raise SyscallError(f"{fn.name}: argument `{p.name}` must not be NULL")
                    args[p.name] = None
                    continue
                buf, off = translate(vm, reg, p.size, False, p.name)
                fields = dict(p.layout.parse(bytes(buf[off:off + p.size])))
                fields.pop("_io", None)
                args[p.name] = names[p.name] = fields
            else:
                pointers.append((p, reg))
        if fn.check is not None:
            early = fn.check(dict(args))
            if early is not None:
                ctx.consume_checked(fn.base_cost)
                return early & 0xFFFF_FFFF_FFFF_FFFF
        spans = []
        for p, reg in pointers:
            if reg == 0:
                if not p.optional:
                    raise SyscallError(f"{fn.name}: argument `{p.name}` must not be NULL")
                args[p.name] = None
                continue
            count = evaluate(p.count, names)
            nbytes = count * p.elem_size
            if count < 0 or nbytes > MAX_BUFFER_BYTES:
                raise SyscallError(f"{fn.name}: argument `{p.name}` size {count} is out of range")
            buf, off = translate(vm, reg, nbytes, p.writes, p.name)
            spans.append((p, buf, off, nbytes, count))
            if p.reads:
                args[p.name] = _decode(bytes(buf[off:off + nbytes]), p.elem)
            else:
                args[p.name] = count  # write-only: the function learns how many values to produce
        ctx.consume_checked(evaluate(fn.cost, names))
        r0, outputs = fn.impl(**args)
        if r0 == 0:
            for p, buf, off, nbytes, count in spans:
                if not p.writes:
                    continue
                values = outputs.get(p.name)
                if values is None or len(values) != count:
                    raise SyscallError(f"{fn.name}: module returned {0 if values is None else len(values)} "
                                       f"values for `{p.name}`, expected {count}")
                buf[off:off + nbytes] = _encode(values, p.elem)
        return r0 & 0xFFFF_FFFF_FFFF_FFFF

    return handler


def make_inactive_stub(fn: SBPFunction, module: LoadedModule):
    """A known function whose module is not active: the call fails, saying why."""

    def handler(vm, *_):
        ctx = vm.context
        ctx.log(f"SBPFunc {fn.name} from {module.describe()} is not active at slot {_current_slot(ctx)}")
        raise E.UnsupportedInstruction()

    return handler


class SBPFuncRegistry:
    """Core syscalls plus module functions, as active at a slot."""

    def __init__(self, core: Iterable[Syscall], modules: Iterable[LoadedModule] = (),
                 activation: ActivationSource | None = None):
        self.core = list(core)
        self.modules: dict[str, LoadedModule] = {}
        self._cache: dict[tuple, SyscallRegistry] = {}
        for m in modules:
            self.add_module(m)
        self.activation = activation or StaticActivation(self.modules)

    def add_module(self, module: LoadedModule) -> None:
        """Make a module known (its functions resolve to stubs until activated)."""
        core_keys = {hash_symbol_name(s.name): s.name for s in self.core}
        for f in module.manifest.functions:
            key = hash_symbol_name(f.name)
            if key in core_keys:
                raise RegistryError(f"{module.describe()}: {f.name} collides with core syscall {core_keys[key]}")
            for other in self.modules.values():
                if other.sha256 != module.sha256 and other.name != module.name and \
                        any(hash_symbol_name(g.name) == key for g in other.manifest.functions):
                    raise RegistryError(f"{module.describe()}: {f.name} collides with {other.describe()}")
        self.modules[module.sha256] = module
        self._cache.clear()

    def function_owner(self, name: str) -> LoadedModule | None:
        for m in self.modules.values():
            if any(f.name == name for f in m.manifest.functions):
                return m
        return None

    def registry_at(self, slot: int) -> SyscallRegistry:
        statuses = self.activation.statuses(slot)
        live = {h: s for h, s in statuses.items() if h in self.modules}
        key = tuple(sorted((h, s.deprecated) for h, s in live.items()))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        reg = SyscallRegistry(self.core)
        bound: set[str] = set()
        for h, st in sorted(live.items()):
            m = self.modules[h]
            for f in m.manifest.functions:
                reg.add(Syscall(f.name, make_handler(f, m, st)))
                bound.add(f.name)
        for m in self.modules.values():
            for f in m.manifest.functions:
                if f.name not in bound:
                    reg.add(Syscall(f.name, make_inactive_stub(f, m), deployable=False))
                    bound.add(f.name)
        self._cache[key] = reg
        return reg

    def check_imports(self, imports: Iterable[str], slot: int) -> None:
        """Refuse (at deploy) a program importing an SBPFunc that is not active at `slot`."""
        live = self.activation.statuses(slot)
        for name in imports:
            owner = self.function_owner(name)
            if owner is not None and owner.sha256 not in live:
                raise SBPFuncNotActive(f"program imports SBPFunc {name} from {owner.describe()}, "
                                       f"which is not active at slot {slot}")
