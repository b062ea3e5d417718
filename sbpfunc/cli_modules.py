"""`sbpfunc module hash|info|calibrate` and `sbpfunc model pack|inspect`.

`calibrate` runs each function's test vectors in this process (the audit repeats this in two
fresh interpreters) and reports the fastest time per declared compute unit, so a module author sees
whether the cost formula covers the work at a given nanoseconds-per-unit rate.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

model_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Build and inspect ML model files (the ML module's format).")


def register(module_app: typer.Typer) -> None:
    """Add hash/info/calibrate to the `module` sub-app."""

    @module_app.command("hash")
    def hash_cmd(module: Path = typer.Argument(..., help="module file (.py)")):
        """Print the module's identity: the SHA-256 of the file's bytes."""
        from .syscalls.modules import load_module

        typer.echo(load_module(module).sha256)

    @module_app.command("info")
    def info_cmd(module: Path = typer.Argument(..., help="module file (.py)"),
                 as_json: bool = typer.Option(False, "--json")):
        """List the module's functions with their signatures, murmur3 ids and cost formulas."""
        from .syscalls.modules import load_module
        from .vm.executable import hash_symbol_name

        m = load_module(module)
        funcs = [{"name": f.name, "id": f"{hash_symbol_name(f.name):#010x}", "signature": f.signature_text(),
                  "cost": f.cost, "base_cost": f.base_cost, "test_vectors": len(f.test_vectors),
                  "doc": f.doc} for f in m.manifest.functions]
        if as_json:
            typer.echo(json.dumps({"name": m.name, "version": m.version, "sha256": m.sha256,
                                   "description": m.manifest.description, "functions": funcs}, indent=2))
            return
        typer.echo(f"{m.name} {m.version}  sha256 {m.sha256}")
        typer.echo(f"  {m.manifest.description}")
        for f in funcs:
            typer.echo(f"  {f['id']}  {f['signature']}  ({f['test_vectors']} test vectors)")

    @module_app.command("calibrate")
    def calibrate_cmd(module: Path = typer.Argument(..., help="module file (.py)"),
                      ns_per_cu: int = typer.Option(1000, "--ns-per-cu", help="time one compute unit buys"),
                      as_json: bool = typer.Option(False, "--json")):
        """Time each function's test vectors per unit of its cost formula.

        Exit status 0 when every vector runs within cost x ns-per-cu, 1 otherwise."""
        from .governance.audit import _runner_main
        from .syscalls.modules import load_module

        m = load_module(module)
        result = _runner_main(str(module), m.sha256, 2_000_000)
        rows, ok = [], True
        for f in result.get("functions", []):
            for v in f["vectors"]:
                ns, cost = v.get("ns"), v.get("cost")
                if ns is None or not cost:
                    continue
                per = ns / cost
                covered = ns <= cost * ns_per_cu
                ok &= covered
                rows.append({"function": f["name"], "vector": v["index"], "cost": cost, "ns": ns,
                             "ns_per_cu": round(per, 1), "covered": covered})
        if as_json:
            typer.echo(json.dumps({"module": m.name, "sha256": m.sha256, "ns_per_cu_budget": ns_per_cu,
                                   "ok": ok, "vectors": rows}, indent=2))
        else:
            typer.echo(f"{m.name} {m.version}: budget {ns_per_cu} ns per CU")
            for r in rows:
                mark = "ok " if r["covered"] else "OVER"
                typer.echo(f"  {mark} {r['function']:<28} #{r['vector']:<3} {r['cost']:>9} CU "
                           f"{r['ns']:>10} ns  {r['ns_per_cu']:>8} ns/CU")
        if not ok:
            raise typer.Exit(1)


@model_app.command("pack")
def pack_cmd(spec: Path = typer.Argument(..., help="model spec (JSON: layers with weights, bias, scale, ...)"),
             output: Path = typer.Option(..., "-o", "--output", help="model file to write")):
    """Pack a JSON model spec into the binary model format."""
    from .modules.model_format import ModelFormatError, pack_spec_file

    try:
        blob = pack_spec_file(spec, output)
    except (ModelFormatError, OSError, ValueError, KeyError) as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(f"wrote {output} ({len(blob)} bytes)")


@model_app.command("inspect")
def inspect_cmd(model: Path = typer.Argument(..., help="model file"),
                as_json: bool = typer.Option(False, "--json")):
    """Describe a model file: layers, shapes, activations, scales, size."""
    from .modules.model_format import ModelFormatError, describe_model, format_description

    try:
        info = describe_model(model.read_bytes())
    except (ModelFormatError, OSError) as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(json.dumps(info, indent=2) if as_json else format_description(info))
