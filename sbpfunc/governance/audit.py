"""Module audit: the review checklist made mechanical, bound to the module file's SHA-256.

Static checks read the file's AST and never run it:

* floats      — no float or complex literals, no true division (`/`, `/=`; `"name" / c.Int32ul`,
                construct's field naming, is not division), no `float()`/
                `complex()`, no `**`/`pow` with a negative literal exponent, no float format specs
                (`{x:.2f}`) — the module's arithmetic is integer-only;
* imports     — absolute imports from an allow-list only (module -> allowed names); nothing that is
                itself a module may be reached through an allowed one (`construct.core.sys`);
* builtins    — only allow-listed builtins (no open, eval, exec, compile, __import__, getattr,
                globals, print, input, hash, id, ...), no dunder names or attributes;
* manifest    — a top-level `MODULE = ...` assignment.

Then, only if those pass, the module runs — never in this process: two fresh interpreter processes
(`python -m sbpfunc.governance.audit --run-vectors`, with different PYTHONHASHSEEDs) load the file
pinned to its hash, read the manifest and run every test vector through the same argument
decoding as the registry (scalars decoded from registers, structs round-tripped through their
layout, sizes from the size expressions, `check` first, outputs range-checked as written back).
The dynamic checks:

* signatures  — every parameter typed, the implementation takes exactly the declared parameters,
                size and cost expressions use only declared names;
* costs       — every function has a cost formula, integer and >= 0 on every vector;
* vectors     — every function has test vectors and all pass;
* determinism — both processes produce byte-identical results;
* calibration — for every vector, the fastest observed time of the implementation is at most
                declared cost x ns_per_cu.

The report (`AuditReport.to_dict()`, JSON, format "sbpfunc-audit-v1") names the module hash; a
proposal opens for voting only with a passing report for its exact hash (see store.check_audit).

This file is the only place in `sbpfunc.governance` that touches `sbpfunc.syscalls` (to read a
module's manifest), and it does so only inside the subprocess runner.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import json
import os
import platform
import subprocess
import symtable
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GovernanceError

AUDIT_FORMAT = "sbpfunc-audit-v1"
# One compute unit should buy no more time than one interpreted sBPF instruction; this simulator's
# interpreter runs ~200 ns per instruction on a current x86 core, and timings are noisy: 1000 ns.
DEFAULT_NS_PER_CU = 1000
DEFAULT_TIMEOUT_S = 120

# module -> names that may be imported from it (None: any name that is not itself a module)
ALLOWED_IMPORTS: dict[str, frozenset[str] | None] = {
    "__future__": None,
    "construct": None,
    "sbpfunc.syscalls.signature": None,
    "typing": None,
    "dataclasses": frozenset({"dataclass", "field"}),
    "functools": frozenset({"reduce", "partial"}),
    "itertools": frozenset({"accumulate", "chain", "product", "repeat", "starmap", "islice", "zip_longest"}),
    "math": frozenset({"isqrt", "gcd", "lcm", "prod", "comb", "perm", "factorial"}),
    "operator": frozenset({"add", "sub", "mul", "floordiv", "mod", "neg", "index", "and_", "or_", "xor",
                           "lshift", "rshift", "itemgetter"}),
    "numpy": None,  # optional backend; attributes restricted by ALLOWED_ATTRS
}

# attributes that may be read from an allow-listed module imported whole (`import numpy as np`);
# modules not listed here allow any attribute that is not itself a module.
ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    # NumPy as an optional, exact-integer vectorized backend: integer dtypes and integer-preserving
    # functions only (no float dtypes, no true_divide/mean/exp/...).
    "numpy": frozenset({"asarray", "array", "zeros", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                        "uint64", "abs", "where", "clip", "dot", "matmul", "sign", "maximum", "minimum", "argmax",
                        "sum", "concatenate", "stack", "iinfo", "ndarray", "floor_divide", "remainder"}),
}
FLOAT_METHODS = frozenset({"mean", "std", "var", "average", "true_divide", "divide", "astype_float", "nanmean",
                           "fromhex", "as_integer_ratio", "is_integer"})
INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "object_"})

ALLOWED_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "bytes", "bytearray", "chr", "dict", "divmod", "enumerate", "filter",
    "frozenset", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "ord",
    "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
    "bin", "hex", "oct", "format", "staticmethod", "classmethod", "property", "super", "object",
    "True", "False", "None", "NotImplemented", "Ellipsis",
    "Exception", "ValueError", "TypeError", "IndexError", "KeyError", "ArithmeticError", "OverflowError",
    "ZeroDivisionError", "AssertionError", "NotImplementedError", "RuntimeError", "StopIteration", "LookupError",
    "ImportError", "ModuleNotFoundError",
})
FORBIDDEN_BUILTINS = frozenset({
    "open", "eval", "exec", "compile", "__import__", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "dir", "input", "print", "breakpoint", "help", "exit", "quit", "memoryview", "id", "hash",
    "type", "float", "complex", "callable", "aiter", "anext", "copyright", "credits", "license",
})
_FLOAT_SPEC_CHARS = set("eEfFgG%")


@dataclass
class Check:
    name: str
    passed: bool = True
    findings: list[str] = field(default_factory=list)
    skipped: str | None = None

    def fail(self, message: str) -> None:
        self.passed = False
        self.findings.append(message)

    def to_dict(self) -> dict:
        d = {"check": self.name, "passed": self.passed, "findings": self.findings}
        if self.skipped:
            d["skipped"] = self.skipped
        return d


@dataclass
class AuditReport:
    path: str
    sha256: str
    checks: list[Check]
    ns_per_cu: int
    module_name: str | None = None
    module_version: str | None = None
    functions: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed and not c.skipped for c in self.checks)

    def failures(self) -> list[str]:
        out = []
        for c in self.checks:
            if c.skipped:
                out.append(f"{c.name}: not run ({c.skipped})")
            for f in c.findings:
                out.append(f"{c.name}: {f}")
        return out

    def to_dict(self) -> dict:
        return {
            "format": AUDIT_FORMAT,
            "module": {"path": self.path, "sha256": self.sha256, "name": self.module_name,
                       "version": self.module_version},
            "passed": self.passed,
            "ns_per_cu": self.ns_per_cu,
            "checks": [c.to_dict() for c in self.checks],
            "functions": self.functions,
            "python": platform.python_version(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        lines = [f"audit of {self.path}",
                 f"  module  {self.module_name or '?'} {self.module_version or ''}".rstrip(),
                 f"  sha256  {self.sha256}"]
        for c in self.checks:
            mark = "skip" if c.skipped else ("pass" if c.passed else "FAIL")
            lines.append(f"  [{mark}] {c.name}" + (f" — not run: {c.skipped}" if c.skipped else ""))
            lines.extend(f"         {f}" for f in c.findings)
        for f in self.functions:
            cal = f.get("calibration") or {}
            worst = cal.get("worst")
            lines.append(f"  {f['signature']}")
            if worst:
                lines.append(f"      {f.get('vectors', 0)} test vectors; slowest per CU: {worst['ns']} ns for "
                             f"{worst['cost']} CU ({worst['ns_per_cu']} ns/CU, budget {self.ns_per_cu})")
        lines.append(f"result: {'PASSED' if self.passed else 'FAILED'} (report bound to sha256 {self.sha256})")
        return "\n".join(lines) + "\n"


# --- static checks -------------------------------------------------------------------------------
def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _global_references(source: bytes, filename: str) -> set[str]:
    """Names read somewhere that resolve to neither a local of their scope nor a module-level
    binding: i.e. builtins (or undefined). Scope-aware (symtable), so a parameter called `input`
    is not the builtin `input`, and a global `open` is."""
    top = symtable.symtable(source.decode("utf-8", errors="replace"), filename, "exec")
    module_bound = {sym.get_name() for sym in top.get_symbols()
                    if sym.is_assigned() or sym.is_imported() or sym.is_namespace()}

    def declared_global_assignments(table) -> set[str]:
        out = {sym.get_name() for sym in table.get_symbols() if sym.is_declared_global() and sym.is_assigned()}
        for child in table.get_children():
            out |= declared_global_assignments(child)
        return out

    module_bound |= declared_global_assignments(top)
    refs: set[str] = set()

    def walk(table) -> None:
        for sym in table.get_symbols():
            if not sym.is_referenced():
                continue
            is_global = sym.is_global() if table.get_type() != "module" else True
            if table.get_type() == "class" and not (sym.is_local() or sym.is_free()):
                is_global = True
            if is_global and sym.get_name() not in module_bound:
                refs.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return refs


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the module binds anywhere (assignments, defs, params, imports, loop targets)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return bound


def _negative_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)) or \
        (isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and node.value < 0)


def static_checks(source: bytes, filename: str = "<module>",
                  allowed_imports: dict[str, frozenset[str] | None] | None = None) -> list[Check]:
    allowed_imports = ALLOWED_IMPORTS if allowed_imports is None else allowed_imports
    syntax, floats, imports, names, manifest = (Check("syntax"), Check("floats"), Check("imports"),
                                                Check("builtins"), Check("manifest"))
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError) as e:
        syntax.fail(f"line {getattr(e, 'lineno', '?')}: {getattr(e, 'msg', e)}")
        for c in (floats, imports, names, manifest):
            c.skipped = "the file does not parse"
        return [syntax, floats, imports, names, manifest]

    def at(node) -> str:
        return f"line {getattr(node, 'lineno', '?')}"

    module_aliases: dict[str, str] = {}  # local name -> imported module
    for node in ast.walk(tree):
        # floats
        if isinstance(node, ast.Constant) and isinstance(node.value, (float, complex)):
            floats.fail(f"{at(node)}: {type(node.value).__name__} literal {node.value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and not (
                isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
            # `"name" / c.Int32ul` is construct's field naming (str has no `/`), not arithmetic
            floats.fail(f"{at(node)}: true division `/` (use `//`)")
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div):
            floats.fail(f"{at(node)}: true division `/=` (use `//=`)")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _negative_literal(node.right):
            floats.fail(f"{at(node)}: `**` with a negative exponent yields a float")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "pow" \
                and len(node.args) == 2 and _negative_literal(node.args[1]):
            floats.fail(f"{at(node)}: pow() with a negative exponent yields a float")
        elif isinstance(node, ast.Name) and node.id in ("float", "complex"):
            floats.fail(f"{at(node)}: `{node.id}`")
        elif isinstance(node, ast.Attribute) and node.attr in FLOAT_METHODS:
            floats.fail(f"{at(node)}: .{node.attr}() works in floats")
        elif isinstance(node, ast.Call):
            dtypes = [k.value for k in node.keywords if k.arg == "dtype"]
            if isinstance(node.func, ast.Attribute) and node.func.attr == "astype" and node.args:
                dtypes.append(node.args[0])
            for d in dtypes:
                if not (isinstance(d, ast.Attribute) and d.attr in INT_DTYPES):
                    floats.fail(f"{at(node)}: dtype {ast.unparse(d)} (only integer dtypes such as np.int64)")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = "".join(v.value for v in ast.walk(node.format_spec)
                           if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if spec and spec[-1] in _FLOAT_SPEC_CHARS:
                floats.fail(f"{at(node)}: float format spec {spec!r}")
        # imports
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name not in allowed_imports:
                    imports.fail(f"{at(node)}: import {a.name} (not on the allow-list)")
                elif allowed_imports[a.name] is not None:
                    imports.fail(f"{at(node)}: import {a.name} (only `from {a.name} import "
                                 f"{', '.join(sorted(allowed_imports[a.name]))}` is allowed)")
                else:
                    module_aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                imports.fail(f"{at(node)}: relative import (a module is one self-contained file)")
                continue
            if mod not in allowed_imports:
                imports.fail(f"{at(node)}: from {mod} import ... (not on the allow-list)")
                continue
            allowed = allowed_imports[mod]
            for a in node.names:
                if a.name == "*":
                    imports.fail(f"{at(node)}: from {mod} import * (name what you use)")
                elif allowed is not None and a.name not in allowed:
                    imports.fail(f"{at(node)}: from {mod} import {a.name} (allowed: {', '.join(sorted(allowed))})")
                elif mod != "__future__" and _is_module_attr(mod, a.name):
                    imports.fail(f"{at(node)}: from {mod} import {a.name} reaches a module")
        # names and attributes
        if isinstance(node, ast.Attribute):
            if _is_dunder(node.attr):
                names.fail(f"{at(node)}: dunder attribute .{node.attr}")
        elif isinstance(node, ast.Name) and _is_dunder(node.id) and node.id != "__name__":
            names.fail(f"{at(node)}: dunder name {node.id}")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            pass

    # attribute chains through imported modules must not reach another module
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in module_aliases:
            mod = module_aliases[node.value.id]
            if mod in ALLOWED_ATTRS:  # an explicit allow-list (it names no submodule)
                if node.attr not in ALLOWED_ATTRS[mod]:
                    imports.fail(f"{at(node)}: {node.value.id}.{node.attr} ({mod}.{node.attr} is not on the "
                                 f"allow-list)")
            elif _is_module_attr(mod, node.attr):
                imports.fail(f"{at(node)}: {node.value.id}.{node.attr} reaches a module")

    first_use: dict[str, ast.AST] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            first_use.setdefault(n.id, n)
    for name in sorted(_global_references(source, filename)):
        node = first_use.get(name)
        if name in FORBIDDEN_BUILTINS or (hasattr(builtins, name) and name not in ALLOWED_BUILTINS):
            if name not in ("float", "complex"):  # reported under floats
                names.fail(f"{at(node)}: builtin `{name}` is not allowed")
        elif name not in ALLOWED_BUILTINS and not _is_dunder(name):
            names.fail(f"{at(node)}: `{name}` is never defined")

    has_manifest = any(
        isinstance(n, (ast.Assign, ast.AnnAssign))
        and any(isinstance(t, ast.Name) and t.id == "MODULE"
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
        for n in tree.body)
    if not has_manifest:
        manifest.fail("no top-level `MODULE = Module(...)` assignment")
    return [syntax, floats, imports, names, manifest]


def _is_module_attr(module: str, attr: str) -> bool:
    """Whether `module.attr` is itself a module (a way around the import allow-list)."""
    try:
        m = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - an allow-listed module that is not installed
        return False
    return isinstance(getattr(m, attr, None), types.ModuleType)


# --- the subprocess runner ------------------------------------------------------------------------
def _expr_names(expr: str) -> set[str]:
    """Names a size/cost expression refers to (struct fields count by their struct's name)."""
    try:
        tree = ast.parse(str(expr), mode="eval")
    except SyntaxError:
        return set()
    attr_bases = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id not in ("max", "min")} | attr_bases


def _runner_main(path: str, sha256: str, min_time_ns: int) -> dict:
    """Runs in a fresh interpreter: load the pinned file, read its manifest, run its vectors."""
    import copy
    import inspect
    import time

    from ..syscalls.modules import ModuleError, load_module
    from ..syscalls.signature import ELEMENT_TYPES, Pointer, Scalar, StructArg, evaluate

    m64 = (1 << 64) - 1

    def elem_range(elem: str) -> tuple[int, int]:
        size, signed = ELEMENT_TYPES[elem]
        return (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)

    def check_values(values, elem: str, what: str) -> list[int]:
        lo, hi = elem_range(elem)
        for x in values:
            if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
                raise ValueError(f"{what} value {x!r} does not fit {elem}")
        return list(values)

    def run_vector(fn, index: int, vec) -> dict:
        """Decode the vector's inputs as the registry decodes registers and memory, then run."""
        res: dict = {"index": index}
        try:
            inputs = dict(vec.inputs)
            args: dict = {}
            names: dict = {}
            for p in fn.params:
                v = inputs.get(p.name)
                if isinstance(p, Scalar):
                    if isinstance(v, bool) or not isinstance(v, int):
                        raise ValueError(f"input `{p.name}` must be an integer")
                    args[p.name] = names[p.name] = p.decode(v & m64)
                elif isinstance(p, StructArg):
                    if v is None:
                        if not p.optional:
                            raise ValueError(f"input `{p.name}` is NULL but not optional")
                        args[p.name] = None
                        continue
                    fields = dict(p.layout.parse(p.layout.build(v)))  # as read from memory
                    fields.pop("_io", None)
                    args[p.name] = names[p.name] = fields
            early = fn.check(dict(args)) if fn.check is not None else None
            ns = None
            if early is not None:
                r0, written, cost = early & m64, {}, fn.base_cost
            else:
                for p in fn.params:
                    if not isinstance(p, Pointer):
                        continue
                    v = inputs.get(p.name)
                    if p.name in inputs and v is None:  # NULL
                        if not p.optional:
                            raise ValueError(f"input `{p.name}` is NULL but not optional")
                        args[p.name] = None
                        continue
                    count = evaluate(p.count, names)
                    if p.reads:
                        if not isinstance(v, (list, tuple)):
                            raise ValueError(f"input `{p.name}` must be a list of {count} values")
                        # the registry reads exactly `count` values: a shorter list reads zeros after
                        # it (a zeroed heap), a longer one is cut
                        v = (list(v) + [0] * count)[:count]
                        args[p.name] = check_values(v, p.elem, f"input `{p.name}`")
                    else:
                        args[p.name] = count  # write-only: the function learns how many to produce
                cost = evaluate(fn.cost, names)
                r0, outputs = fn.impl(**copy.deepcopy(args))
                if isinstance(r0, bool) or not isinstance(r0, int):
                    raise ValueError(f"r0 is {type(r0).__name__}, not an integer")
                r0 &= m64
                reps, spent = 0, 0
                while reps < 3 or (spent < min_time_ns and reps < 200):
                    a = copy.deepcopy(args)
                    t0 = time.perf_counter_ns()
                    fn.impl(**a)
                    dt = time.perf_counter_ns() - t0
                    ns = dt if ns is None else min(ns, dt)
                    spent += dt
                    reps += 1
                written = {}
                if r0 == 0:
                    for p in fn.params:
                        if isinstance(p, Pointer) and p.writes and args.get(p.name) is not None:
                            vals = (outputs or {}).get(p.name)
                            want = evaluate(p.count, names)
                            if not isinstance(vals, (list, tuple)) or len(vals) != want:
                                raise ValueError(f"output `{p.name}` must be {want} values")
                            written[p.name] = check_values(vals, p.elem, f"output `{p.name}`")
            if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
                raise ValueError(f"cost formula gives {cost!r}, not a non-negative integer")
            res.update({"r0": r0, "outputs": written, "cost": cost, "ns": ns})
            writable = {p.name for p in fn.params if isinstance(p, Pointer) and p.writes}
            expected = {k: list(v) for k, v in dict(vec.outputs).items()}
            problems = []
            if set(expected) - writable:
                problems.append(f"expected outputs for non-writable {', '.join(sorted(set(expected) - writable))}")
            if r0 != vec.r0 & m64:
                problems.append(f"r0 {r0:#x}, expected {vec.r0 & m64:#x}")
            for k, want in expected.items():
                if k in writable and written.get(k) != want:
                    problems.append(f"output `{k}` {written.get(k)!r}, expected {want!r}")
            res["passed"] = not problems
            if problems:
                res["problems"] = problems
        except Exception as e:  # noqa: BLE001 - a failing vector is a finding, never a crash
            res.update({"passed": False, "problems": [f"{type(e).__name__}: {e}"], "ns": None})
        return res

    try:
        loaded = load_module(path, expected_sha256=sha256)
    except ModuleError as e:
        return {"error": str(e)}
    man = loaded.manifest
    out = {"name": man.name, "version": man.version, "functions": []}
    for fn in man.functions:
        info = {"name": fn.name, "signature": fn.signature_text(), "cost": fn.cost, "problems": [], "vectors": []}
        declared = [p.name for p in fn.params]
        expr_names = set()
        for p in fn.params:
            if isinstance(p, (Scalar, StructArg)):
                expr_names.add(p.name)
            elif not isinstance(p, Pointer):
                info["problems"].append(f"parameter {p!r} has no declared type")
        for p in fn.params:
            if isinstance(p, Pointer):
                for n in sorted(_expr_names(p.count) - expr_names):
                    info["problems"].append(f"size of `{p.name}` ({p.count}) uses undeclared `{n}`")
        if not str(fn.cost).strip():
            info["problems"].append("no cost formula")
        for n in sorted(_expr_names(fn.cost) - expr_names):
            info["problems"].append(f"cost formula ({fn.cost}) uses undeclared `{n}`")
        try:
            params = list(inspect.signature(fn.impl).parameters.values())
            impl_names = [q.name for q in params]
            if any(q.kind in (q.VAR_POSITIONAL, q.VAR_KEYWORD) for q in params):
                info["problems"].append("implementation takes *args/**kwargs instead of the declared parameters")
            elif sorted(impl_names) != sorted(declared):
                info["problems"].append(f"implementation takes ({', '.join(impl_names)}), "
                                        f"declared ({', '.join(declared)})")
        except (TypeError, ValueError):
            info["problems"].append("implementation signature cannot be inspected")
        info["vectors"] = [run_vector(fn, i, vec) for i, vec in enumerate(fn.test_vectors)]
        out["functions"].append(info)
    return out


def _spawn(path: str, sha256: str, hash_seed: int, min_time_ns: int, timeout: float) -> dict:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = str(hash_seed)
    env.pop("PYTHONSTARTUP", None)
    cmd = [sys.executable, "-B", "-m", "sbpfunc.governance.audit", "--run-vectors", path, sha256,
           str(min_time_ns)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=os.path.dirname(os.path.abspath(path)) or None)
    except subprocess.TimeoutExpired:
        return {"error": f"test vectors did not finish within {timeout} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"runner exited with status {proc.returncode}: {tail}"}
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"error": "runner printed no JSON result"}


def audit_module(path: str | Path, *, ns_per_cu: int = DEFAULT_NS_PER_CU, timeout: float = DEFAULT_TIMEOUT_S,
                 allowed_imports: dict[str, frozenset[str] | None] | None = None,
                 min_time_ns: int = 500_000) -> AuditReport:
    """Audit one module file. Raises GovernanceError only if the file cannot be read."""
    path = Path(path)
    if isinstance(ns_per_cu, bool) or not isinstance(ns_per_cu, int) or ns_per_cu <= 0:
        raise GovernanceError(f"ns per CU must be a positive integer, got {ns_per_cu!r}")
    try:
        source = path.read_bytes()
    except OSError as e:
        raise GovernanceError(f"cannot read module {path}: {e.strerror or e}") from None
    sha = hashlib.sha256(source).hexdigest()
    checks = static_checks(source, str(path), allowed_imports)
    dynamic = {n: Check(n) for n in ("signatures", "costs", "vectors", "determinism", "calibration")}
    report = AuditReport(str(path), sha, checks + list(dynamic.values()), ns_per_cu)
    if not all(c.passed for c in checks):
        for c in dynamic.values():
            c.skipped = "static checks failed: the module is not run"
        return report
    with ThreadPoolExecutor(2) as pool:  # two fresh processes, concurrently, different hash seeds
        runs = list(pool.map(lambda seed: _spawn(str(path.resolve()), sha, seed, min_time_ns, timeout), (1, 2)))
    for run in runs:
        if "error" in run:
            for c in dynamic.values():
                c.skipped = c.skipped or run["error"]
            return report
    a, b = runs
    report.module_name, report.module_version = a.get("name"), a.get("version")

    def results(run):
        return [[{k: v.get(k) for k in ("index", "r0", "outputs", "cost", "passed", "problems")}
                 for v in f["vectors"]] for f in run["functions"]]

    def sigs(run):
        return [(f["name"], f["signature"]) for f in run["functions"]]

    if json.dumps(results(a), sort_keys=True) != json.dumps(results(b), sort_keys=True) or sigs(a) != sigs(b):
        dynamic["determinism"].fail("the two runs produced different results")
    if not a["functions"]:
        dynamic["signatures"].fail("the manifest declares no functions")
    for fa, fb in zip(a["functions"], b["functions"]):
        name = fa["name"]
        for prob in fa["problems"]:
            (dynamic["costs"] if "cost" in prob else dynamic["signatures"]).fail(f"{name}: {prob}")
        if not fa["vectors"]:
            dynamic["vectors"].fail(f"{name}: no test vectors")
        worst = None
        for va, vb in zip(fa["vectors"], fb["vectors"]):
            if not va.get("passed"):
                dynamic["vectors"].fail(f"{name} vector #{va['index']}: {'; '.join(va.get('problems', []))}")
                continue
            times = [t for t in (va.get("ns"), vb.get("ns")) if t is not None]
            if not times:
                continue  # ended early in `check`: charged base_cost without running
            ns = min(times)
            cost = va["cost"]
            if ns > cost * ns_per_cu:
                dynamic["calibration"].fail(f"{name} vector #{va['index']}: {ns} ns > {cost} CU x {ns_per_cu} ns/CU")
            if worst is None or ns * max(worst["cost"], 1) > worst["ns"] * max(cost, 1):
                worst = {"vector": va["index"], "ns": ns, "cost": cost,
                         "ns_per_cu": ns // max(cost, 1)}
        report.functions.append({"name": name, "signature": fa["signature"], "cost": fa["cost"],
                                 "vectors": len(fa["vectors"]), "calibration": {"worst": worst}})
    return report


def load_report(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise GovernanceError(f"cannot read audit report {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise GovernanceError(f"audit report {path} is not JSON: {e}") from None
    if not isinstance(data, dict) or data.get("format") != AUDIT_FORMAT:
        raise GovernanceError(f"{path} is not an audit report (format {AUDIT_FORMAT!r})")
    return data


if __name__ == "__main__":  # the fresh-interpreter runner: --run-vectors PATH SHA256 MIN_TIME_NS
    if len(sys.argv) != 5 or sys.argv[1] != "--run-vectors":
        print("usage: python -m sbpfunc.governance.audit --run-vectors PATH SHA256 MIN_TIME_NS", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(_runner_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
