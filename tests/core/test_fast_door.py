"""The fast path has one door: outside core/_fast/, the project imports core._fast (its
__init__) and never one of its modules; the tests and the bench may look inside."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSIDE = {"gemm", "parallel", "scratch", "bands", "workspace"}


def _imports_inside(source: str, package: str) -> list[str]:
    """The modules of core/_fast/ that `source` (a module of `package`) imports by name,
    absolutely or relatively."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [n for n in names if n.startswith("core._fast.")
                  and n.split(".")[2] in INSIDE]
    return found


def test_only_the_fast_package_reaches_its_modules():
    files = [p for top in ("core", "app", "cli") for p in (ROOT / top).rglob("*.py")
             if "_fast" not in p.parts]
    assert len(files) > 20
    crossing = {str(p.relative_to(ROOT)): _imports_inside(
        p.read_text(), ".".join(p.relative_to(ROOT).parts[:-1])) for p in files}
    assert {k: v for k, v in crossing.items() if v} == {}


def test_the_scan_sees_a_crossing():
    """The scan is not blind: relative and absolute imports of a module inside are caught,
    the door itself is not."""
    found = _imports_inside("from ._fast import gemm\nfrom core._fast.parallel import run\n"
                            "import core._fast.scratch\nfrom . import _fast\n", "core")
    assert "core._fast.gemm" in found
    assert "core._fast.parallel" in found
    assert "core._fast.scratch" in found
    assert _imports_inside("from ._fast import conv_forward\n", "core") == []
