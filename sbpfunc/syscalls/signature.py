"""Typed SBPFunc signatures, after Linux kfunc BTF argument annotations.

A module declares each function's parameters so the registry can check them against VM memory
*before* the function runs and charge compute units from a declared formula:

    scalar("len", "u64")                         a plain register argument
    scalar("kind", "u64", const=True)            `__k`: must be a known constant per call site*
    pointer("out", "i32", count="m*n", access="write")     `__sz`-style sized buffer
    pointer("bias", "i32", count="n", optional=True)       `__opt`: may be NULL
    struct("d", ML_DIMS)                         pointer to a parameter struct (construct layout);
                                                 its fields become names for size expressions

(*) sBPF has no verifier-time constants; `const` is recorded for documentation and audit.

A function receives decoded inputs (ints for scalars, lists of ints for read buffers, a dict for
structs) and returns `(r0, outputs)` where outputs maps write-buffer names to lists of values. The
registry encodes and writes outputs only after the function succeeds, so a failing call never
writes memory. Everything is integer-only.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import construct as c

ELEMENT_TYPES: dict[str, tuple[int, bool]] = {  # name -> (size in bytes, signed)
    "u8": (1, False), "i8": (1, True), "u16": (2, False), "i16": (2, True),
    "u32": (4, False), "i32": (4, True), "u64": (8, False), "i64": (8, True),
}
SCALAR_TYPES = {"u32", "u64", "i64", "i32"}
ACCESS = {"read", "write", "uninit", "readwrite"}
EINVAL = (-22) & 0xFFFF_FFFF_FFFF_FFFF  # r0 for invalid arguments, as the ML ABI fixes it


class SignatureError(ValueError):
    """A malformed signature declaration (caught when the module is loaded)."""


@dataclass(frozen=True)
class Scalar:
    name: str
    type: str = "u64"
    const: bool = False

    def __post_init__(self):
        if self.type not in SCALAR_TYPES:
            raise SignatureError(f"scalar {self.name}: unknown type {self.type}")

    def decode(self, reg: int) -> int:
        bits = 64 if self.type in ("u64", "i64") else 32
        v = reg & ((1 << bits) - 1)
        if self.type.startswith("i") and v >> (bits - 1):
            v -= 1 << bits
        return v


@dataclass(frozen=True)
class Pointer:
    name: str
    elem: str
    count: str  # size expression (elements) over scalar and struct-field names
    access: str = "read"
    optional: bool = False

    def __post_init__(self):
        if self.elem not in ELEMENT_TYPES:
            raise SignatureError(f"pointer {self.name}: unknown element type {self.elem}")
        if self.access not in ACCESS:
            raise SignatureError(f"pointer {self.name}: unknown access {self.access}")
        _check_expression(self.count, f"pointer {self.name} count")

    @property
    def elem_size(self) -> int:
        return ELEMENT_TYPES[self.elem][0]

    @property
    def writes(self) -> bool:
        return self.access in ("write", "uninit", "readwrite")

    @property
    def reads(self) -> bool:
        return self.access in ("read", "readwrite")


@dataclass(frozen=True)
class StructArg:
    """A pointer to a parameter struct, read in full before anything else."""

    name: str
    layout: c.Construct
    optional: bool = False

    @property
    def size(self) -> int:
        return self.layout.sizeof()


Param = Scalar | Pointer | StructArg


def scalar(name: str, type: str = "u64", *, const: bool = False) -> Scalar:
    return Scalar(name, type, const)


def pointer(name: str, elem: str, count: str, access: str = "read", *, optional: bool = False) -> Pointer:
    return Pointer(name, elem, count, access, optional)


def struct(name: str, layout: c.Construct, *, optional: bool = False) -> StructArg:
    return StructArg(name, layout, optional)


_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load, ast.Add,
                  ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.USub, ast.Attribute, ast.Call,
                  ast.Compare, ast.IfExp, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
                  ast.Pow, ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr)
_ALLOWED_CALLS = {"max", "min"}


def _check_expression(expr: str, what: str) -> ast.Expression:
    """Size and cost expressions are integer arithmetic over parameter names: nothing else."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as e:
        raise SignatureError(f"{what}: bad expression {expr!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise SignatureError(f"{what}: {type(node).__name__} not allowed in {expr!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int):
            raise SignatureError(f"{what}: only integer constants allowed in {expr!r}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_CALLS):
            raise SignatureError(f"{what}: only max() and min() may be called in {expr!r}")
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            raise SignatureError(f"{what}: only struct.field attributes allowed in {expr!r}")
    return tree


class _Fields(dict):
    """Struct fields reachable as `d.m` in expressions."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None


@functools.lru_cache(maxsize=1024)
def _compiled(expr: str):
    return compile(_check_expression(expr, "expression"), "<sbpfunc expr>", "eval")


def evaluate(expr: str, names: dict[str, Any]) -> int:
    """Evaluate a size/cost expression with integer semantics (/ is not allowed, // truncates).

    Expressions are checked and compiled once (cached): dispatch pays only the evaluation."""
    code = _compiled(expr)
    env = {k: (_Fields(v) if isinstance(v, dict) else v) for k, v in names.items()}
    value = eval(code, {"__builtins__": {}, "max": max, "min": min}, env)  # noqa: S307 - checked AST
    if not isinstance(value, int):
        raise SignatureError(f"expression {expr!r} is not an integer")
    return value


@dataclass(frozen=True)
class TestVector:
    """Inputs (by parameter name; buffers as lists) -> expected r0 and outputs."""

    inputs: dict
    r0: int = 0
    outputs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SBPFunction:
    """One SBPFunc: its name (the symbol programs import), parameters, cost and implementation.

    `check(args) -> r0 | None` runs first on scalars and struct fields only (no memory touched);
    returning a value (e.g. EINVAL) ends the call with that r0 after charging `base_cost`.
    `cost` is the CU formula, charged before the function runs.
    """

    name: str
    params: tuple
    cost: str
    impl: Callable[..., tuple[int, dict]]
    doc: str = ""
    check: Callable[[dict], int | None] | None = None
    base_cost: int = 100
    test_vectors: tuple = ()

    def __post_init__(self):
        if len(self.params) > 5:
            raise SignatureError(f"{self.name}: at most 5 register parameters; put the rest in a struct")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise SignatureError(f"{self.name}: duplicate parameter names")
        _check_expression(self.cost, f"{self.name} cost")

    def signature_text(self) -> str:
        parts = []
        for p in self.params:
            if isinstance(p, Scalar):
                parts.append(f"{'const ' if p.const else ''}{p.type} {p.name}")
            elif isinstance(p, Pointer):
                flags = [p.access] + (["opt"] if p.optional else [])
                parts.append(f"{p.elem} *{p.name}[{p.count}] __{'__'.join(flags)}")
            else:
                fields = ", ".join(f"{sc.name}" for sc in p.layout.subcons)
                parts.append(f"struct {{{fields}}} *{p.name}{' __opt' if p.optional else ''}")
        return f"u64 {self.name}({', '.join(parts)})  cost: {self.cost}"


@dataclass(frozen=True)
class Module:
    """A module manifest: what a module file defines as `MODULE`."""

    name: str
    version: str
    description: str
    functions: tuple

    def __post_init__(self):
        seen = set()
        for f in self.functions:
            if not isinstance(f, SBPFunction):
                raise SignatureError(f"module {self.name}: {f!r} is not an SBPFunction")
            if f.name in seen:
                raise SignatureError(f"module {self.name}: function {f.name} declared twice")
            seen.add(f.name)
