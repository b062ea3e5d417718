"""The `sbpfunc` command line.

Every failure the user can cause (a missing file, a malformed ELF, bad assembly, bad hex) ends in
one line on stderr and exit status 1 — never a traceback. A program that loads and then faults is
not a CLI error: `run` reports the fault and exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .vm.errors import SbpfuncError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="sbpfunc: an Agave-compatible sBPF VM and runtime with SBPFunc modules.")


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def _fail(message: str) -> None:
    raise CliError(message)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        _fail(f"cannot read {path}: {e.strerror or e}")


def _load_program(path: Path, version: int, syscalls, *, deploy: bool = False):
    """An Executable from a `.s` (assembled, linked to a .so image, then loaded) or a `.so`."""
    from .asm import assemble
    from .elf.loader import load_elf

    data = _read(path)
    if path.suffix == ".s":
        try:
            source = data.decode()
        except UnicodeDecodeError:
            _fail(f"{path}: assembly source is not UTF-8")
        data = assemble(source, version).to_elf()
    return load_elf(data, syscalls, deploy=deploy)


@app.command("asm")
def asm_cmd(source: Path = typer.Argument(..., help="assembly source (.s)"),
            output: Path = typer.Option(..., "-o", "--output", help="output shared object (.so)"),
            sbpf_version: int = typer.Option(0, "--sbpf-version", help="SBPF version (0-3)")):
    """Assemble FILE.s into an SBPF shared object that Agave loads."""
    from .asm import assemble

    try:
        text = _read(source).decode()
    except UnicodeDecodeError:
        _fail(f"{source}: assembly source is not UTF-8")
    so = assemble(text, _version(sbpf_version)).to_elf()
    try:
        output.write_bytes(so)
    except OSError as e:
        _fail(f"cannot write {output}: {e.strerror or e}")
    typer.echo(f"wrote {output} ({len(so)} bytes)")


@app.command("build")
def build_cmd(sources: list[Path] = typer.Argument(..., help="C sources (or .o objects)"),
              output: Path = typer.Option(..., "-o", "--output", help="output shared object (.so)"),
              cflags: Optional[str] = typer.Option(None, "--cflags",
                                                   help="replace the default clang flags")):
    """Compile C with stock clang (-target bpf) and link an SBPF v0 .so that Agave deploys."""
    import shlex

    from .toolchain.compiler import build

    so = build([str(s) for s in sources], output, shlex.split(cflags) if cflags is not None else None)
    typer.echo(f"wrote {output} ({len(so)} bytes)")


@app.command("disasm")
def disasm_cmd(program: Path = typer.Argument(..., help="shared object (.so)")):
    """Disassemble the text section of FILE.so."""
    from .asm import disassemble
    from .syscalls.core import logging_registry

    exe = _load_program(program, 0, logging_registry())
    typer.echo(disassemble(exe), nl=False)


def _check_engine(engine: str) -> None:
    if engine not in ("interpreter", "translated"):
        _fail(f"unknown engine {engine!r} (expected interpreter or translated)")


def _version(v: int):
    from .vm.isa import SBPFVersion

    if v not in (0, 1, 2, 3):
        _fail(f"unsupported SBPF version {v} (expected 0, 1, 2 or 3)")
    return SBPFVersion(v)


@app.command("run")
def run_cmd(program: Path = typer.Argument(..., help="program: .so, or .s to assemble first"),
            input_hex: str = typer.Option("", "--input", help="input region bytes, hex"),
            max_cu: int = typer.Option(200_000, "--max-cu", help="compute budget"),
            trace: bool = typer.Option(False, "--trace", help="print every executed instruction"),
            as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
            sbpf_version: int = typer.Option(0, "--sbpf-version", help="SBPF version for .s files"),
            module: list[Path] = typer.Option([], "--module", help="SBPFunc module file to activate"),
            engine: str = typer.Option("translated", "--engine",
                                       help="interpreter | translated (--trace always interprets)")):
    """Run the entrypoint with r1 pointing at the input region.

    Exit status: 0 when the program exits normally, 2 when it faults, 1 when it cannot be loaded.
    """
    from .runtime.compute import ComputeMeter
    from .runtime.logs import LogCollector
    from .syscalls.core import logging_registry
    from .vm.interpreter import EbpfVm, VmConfig, standard_regions

    _check_engine(engine)
    if max_cu < 0:
        _fail("--max-cu must not be negative")
    try:
        input_data = bytes.fromhex(input_hex)
    except ValueError:
        _fail("--input is not valid hex")
    syscalls = logging_registry()
    if module:
        from .syscalls.core import LOGGING_SYSCALLS
        from .syscalls.modules import SBPFuncRegistry, StaticActivation, load_module

        loaded = [load_module(m) for m in module]
        syscalls = SBPFuncRegistry(LOGGING_SYSCALLS, loaded,
                                   StaticActivation([m.sha256 for m in loaded])).registry_at(0)
    exe = _load_program(program, _version(sbpf_version), syscalls)
    context = _RunContext(ComputeMeter(max_cu), LogCollector(None))
    vm = EbpfVm(exe, standard_regions(exe, input_data=input_data), context, VmConfig(engine=engine))
    if trace:
        vm.tracer = _Tracer(exe, sys.stdout if not as_json else sys.stderr)
    result = vm.execute()
    r0 = vm.machine_snapshot[0][0]
    err = result.error
    if as_json:
        typer.echo(json.dumps({"r0": r0, "compute_units": result.compute_units,
                               "error": None if err is None else str(err),
                               "error_kind": None if err is None else err.kind}))
    else:
        for line in context.logs.messages:
            typer.echo(line)
        if err is None:
            typer.echo(f"r0 = {r0} ({r0:#x}); {result.compute_units} compute units")
        else:
            typer.echo(f"error: {err.kind}: {err} (pc {result.pc}); {result.compute_units} compute units")
    if err is not None:
        raise typer.Exit(2)


@app.command("exec")
def exec_cmd(case_file: Path = typer.Argument(..., help="case file (fixtures/cases/NAME.json)"),
             as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
             module: list[Path] = typer.Option([], "--module", help="SBPFunc module file to activate"),
             engine: str = typer.Option("translated", "--engine", help="interpreter | translated")):
    """Run one case (instructions executed atomically, like a transaction without fees).

    Exit status: 0 when the result matches the case's `expected` (or it has none), 1 when it differs.
    """
    from .runtime.syscall_set import sbpfunc_registry
    from .syscalls.modules import load_module
    from .testing.cases import diff, load_case, run_case

    from .runtime.invoke_context import ExecutionConfig

    _check_engine(engine)
    case = load_case(case_file)
    syscalls = None
    if module:
        syscalls = sbpfunc_registry([load_module(m) for m in module]).registry_at(0)
    actual = run_case(case, syscalls=syscalls, config=ExecutionConfig.with_engine(engine))
    expected = case.expected
    if as_json:
        typer.echo(json.dumps(actual, indent=2))
    else:
        status = "success" if actual["success"] else f"failed: {actual['error']}"
        typer.echo(f"case {case.name}: {status}; {actual['compute_units_consumed']} compute units")
        for line in actual["logs"]:
            typer.echo(f"  {line}")
        if expected is not None:
            problems = diff(expected, actual)
            typer.echo("matches expected" if not problems else "DIFFERS from expected:")
            for p in problems:
                typer.echo(f"  {p}")
    if expected is not None and diff(expected, actual):
        raise typer.Exit(1)


from .cli_governance import governance_app, module_app  # noqa: E402
from .cli_modules import model_app  # noqa: E402
from .cli_modules import register as register_module_commands  # noqa: E402

app.add_typer(governance_app, name="governance")
app.add_typer(module_app, name="module")
register_module_commands(module_app)
app.add_typer(model_app, name="model")


class _RunContext:
    """What a bare `run` gives syscalls: the meter and a log collector."""

    def __init__(self, meter, logs):
        self.meter, self.logs = meter, logs

    def consume(self, n: int) -> None:
        self.meter.consume(n)

    def consume_checked(self, n: int) -> None:
        self.meter.consume_checked(n)

    def get_remaining(self) -> int:
        return self.meter.get_remaining()

    def log(self, message: str) -> None:
        self.logs.log(message)


class _Tracer:
    """One line per executed instruction: pc, disassembly, registers before it runs."""

    def __init__(self, executable, out):
        from .asm.disassembler import listing

        self.out = out
        self.lines = listing(executable)[1]

    def __call__(self, vm, pc, machine) -> None:
        regs = " ".join(f"r{i}={v:#x}" for i, v in enumerate(machine.regs))
        text = self.lines.get(pc, "<end of text>")
        self.out.write(f"{pc:6d}  {text:<34} {regs}\n")


from .cli_validator import register as register_validator  # noqa: E402

register_validator(app)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point: run the Typer app, turning expected errors into one-line messages."""
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except CliError as e:
        typer.echo(f"error: {e}", err=True)
        return 1
    except SbpfuncError as e:
        kind = getattr(e, "kind", type(e).__name__)
        typer.echo(f"error: {kind}: {e}", err=True)
        return 1
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except Exception as e:  # usage errors and anything unexpected: still one line
        fmt = getattr(e, "format_message", None)  # typer's (vendored click) usage exceptions
        if callable(fmt):
            if fmt():
                typer.echo(f"error: {fmt()}", err=True)
            return int(getattr(e, "exit_code", 2))
        typer.echo(f"error: internal error: {type(e).__name__}: {e}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
