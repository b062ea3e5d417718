"""Rebuild every test program: programs/NAME.c -> fixtures/NAME.so.

    python programs/build.py              # rebuild all into fixtures/
    python programs/build.py hello arith  # only these
    python programs/build.py --check      # rebuild into memory and compare with fixtures/ (exit 1 on a difference)

Uses `sbpfunc.toolchain.compiler.build` (stock clang -target bpf + our linker) with the default flags.
The output is a pure function of the source and the SDK header, so the committed fixtures can be
checked byte for byte (tests/toolchain/test_build.py does that). Nothing here depends on the
build directory: no program uses __FILE__.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "programs"
FIXTURES = ROOT / "fixtures"

if str(ROOT) not in sys.path:  # `python programs/build.py` from a checkout
    sys.path.insert(0, str(ROOT))


def sources() -> list[Path]:
    """Every program source, sorted by name."""
    return sorted(PROGRAMS.glob("*.c"))


def build_one(source: Path, output: Path) -> bytes:
    from sbpfunc.toolchain.compiler import build

    return build([source], output)


def build_all(out_dir: Path = FIXTURES, names: list[str] | None = None) -> dict[str, bytes]:
    """Build the selected programs (all by default) into out_dir/NAME.so; returns name -> bytes."""
    srcs = sources()
    if names:
        known = {s.stem: s for s in srcs}
        missing = [n for n in names if n not in known]
        if missing:
            raise SystemExit(f"unknown program(s): {', '.join(missing)}")
        srcs = [known[n] for n in names]
    out_dir.mkdir(parents=True, exist_ok=True)
    return {s.stem: build_one(s, out_dir / f"{s.stem}.so") for s in srcs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="program names (file stems); default: all")
    ap.add_argument("--out", type=Path, default=FIXTURES, help="output directory (default: fixtures/)")
    ap.add_argument("--check", action="store_true", help="compare fresh builds with the fixtures instead of writing")
    args = ap.parse_args(argv)

    from sbpfunc.vm.errors import SbpfuncError

    try:
        if args.check:
            with tempfile.TemporaryDirectory(prefix="sbpfunc-programs-") as tmp:
                built = build_all(Path(tmp), args.names)
            stale = [n for n, so in built.items()
                     if not (args.out / f"{n}.so").exists() or (args.out / f"{n}.so").read_bytes() != so]
            for n in stale:
                print(f"{n}: fixtures/{n}.so is out of date", file=sys.stderr)
            print(f"checked {len(built)} programs, {len(stale)} out of date")
            return 1 if stale else 0
        built = build_all(args.out, args.names)
    except SbpfuncError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for n, so in built.items():
        print(f"{n:20} {len(so):6} bytes")
    print(f"built {len(built)} programs into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
