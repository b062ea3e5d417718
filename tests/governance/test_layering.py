"""Governance does not import the VM: sbpfunc.vm, sbpfunc.runtime and sbpfunc.elf are off limits, and
sbpfunc.syscalls is touched only by audit.py (to read a module's manifest, inside its subprocess)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

GOV = Path(__file__).resolve().parents[2] / "sbpfunc" / "governance"
FORBIDDEN = ("sbpfunc.vm", "sbpfunc.runtime", "sbpfunc.elf", "sbpfunc.bank", "sbpfunc.rpc", "sbpfunc.asm")


def imports_of(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to sbpfunc.governance
                parts = ["sbpfunc", "governance"][: 2 - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
    return out


def test_no_governance_file_imports_the_vm():
    for f in sorted(GOV.glob("*.py")):
        for name in imports_of(f):
            assert not name.startswith(FORBIDDEN), f"{f.name} imports {name}"
            if name.startswith("sbpfunc.syscalls"):
                assert f.name == "audit.py", f"{f.name} imports {name}: only audit.py may read manifests"


def test_importing_governance_loads_no_vm_module():
    code = ("import sys, sbpfunc.governance.store, sbpfunc.governance.dryrun, sbpfunc.governance.audit, "
            "sbpfunc.governance.schedule\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('sbpfunc.vm', 'sbpfunc.runtime', 'sbpfunc.elf', "
            "'sbpfunc.syscalls')))\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
