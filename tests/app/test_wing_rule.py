"""The wing rule: a wing (Explore, Learn, Network, Gallery) uses the kit and never another wing.

Front end: every module under static/js/<wing>/ imports only from static/js/kit/ and from
its own wing; the kit imports nothing from a wing (it is what the wings share).
Server: every module under app/<wing>/ imports only app/platform/ (the server's kit), core
and its own wing; the platform imports no wing; app/main.py and app/site.py, which assemble
the site, are the only modules that import several wings.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS_WINGS = ("explore", "learn", "network", "gallery", "notebook")

# import ... from "x", export ... from "x", import "x", import("x")
_JS_IMPORT = re.compile(
    r"""(?:\b(?:import|export)\b[^;'"]*?\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"']+)\1""")


def js_wing_violations(js: Path) -> list[str]:
    """Every import under `js` (a static/js folder) that breaks the wing rule, as text."""
    def home(path: Path) -> str:  # 'kit', a wing's name, or '' (outside both)
        top = path.relative_to(js).parts[0]
        return top if top in ("kit", *JS_WINGS) else ""

    found = []
    for path in sorted(js.rglob("*.js")):
        name = path.relative_to(js).as_posix()
        if not home(path):
            found.append(f"{name}: lives outside kit/ and the wings {JS_WINGS}")
            continue
        for _, spec in _JS_IMPORT.findall(path.read_text(encoding="utf-8")):
            target = (path.parent / spec).resolve()
            where = f"{name} imports {spec}"
            if not target.is_file():
                found.append(f"{where}: no such file")
            elif js.resolve() not in target.parents:
                found.append(f"{where}: outside static/js")
            elif home(target) not in ("kit", home(path)):
                found.append(f"{where}: crosses from {home(path)} into another wing")
    return found


def test_js_wing_rule():
    js = ROOT / "static" / "js"
    assert any(js.glob("kit/*.js")) and all(any(js.glob(f"{w}/*.js")) for w in JS_WINGS)
    assert js_wing_violations(js) == []


def test_js_wing_rule_sees_a_crossing(tmp_path):
    """The scan reports an import across wings, a kit module importing a wing, and a module
    outside kit/ and the wings (so the test above can fail)."""
    js = tmp_path / "js"
    for folder in ("kit", "learn", "network"):
        (js / folder).mkdir(parents=True)
    (js / "kit" / "dom.js").write_text('import { x } from "../network/maps.js";\n')
    (js / "network" / "maps.js").write_text("export const x = 1;\n")
    (js / "learn" / "main.js").write_text(
        'import { el } from "../kit/dom.js";\nimport {\n  x,\n} from "../network/maps.js";\n')
    (js / "stray.js").write_text("")
    assert js_wing_violations(js) == [
        "kit/dom.js imports ../network/maps.js: crosses from kit into another wing",
        "learn/main.js imports ../network/maps.js: crosses from learn into another wing",
        f"stray.js: lives outside kit/ and the wings {JS_WINGS}",
    ]


# ---------------------------------------------------------------- the server (app/)

PY_WINGS = ("explore", "gallery", "learn", "network")
# app/main.py and app/site.py assemble the site from the wings; nothing else may import them.
ASSEMBLERS = ("app.main", "app.site", "app.__main__")


def _module_of(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(root: Path, path: Path) -> list[str]:
    """Every module `path` imports (at any depth: inside functions too), relative imports
    resolved against its package."""
    module = _module_of(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from app import site` names a module of app; `from app.x.y import z` is app.x.y
            found += [f"{base}.{a.name}" for a in node.names] if "." not in base else [base]
    return found


def py_wing_violations(root: Path) -> list[str]:
    """Every import under root/app that breaks the wing rule, as text: a wing importing
    another wing or an assembler, the platform importing a wing or an assembler, a module of
    app/ that is neither the platform, a wing nor an assembler."""
    app = root / "app"
    found = []
    for path in sorted(app.rglob("*.py")):
        name = _module_of(root, path)
        top = name.split(".")[1] if name.count(".") else ""
        if name in ("app", *ASSEMBLERS):
            continue
        if top not in ("platform", *PY_WINGS):
            found.append(f"{name}: lives outside app/platform and the wings {PY_WINGS}")
            continue
        for target in _imports(root, path):
            parts = target.split(".")
            if parts[0] != "app" or len(parts) < 2:
                continue
            if target in ASSEMBLERS or parts[1] in ("main", "site", "__main__"):
                found.append(f"{name} imports {target}: an assembler")
            elif parts[1] in PY_WINGS and parts[1] != top:
                found.append(f"{name} imports {target}: crosses from {top} into another wing")
    return sorted(set(found))


def test_py_wing_rule():
    """app/explore, app/learn, app/network (and app/gallery) import only the platform, core
    and themselves; app/platform imports no wing."""
    packages = {p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").is_file()}
    assert packages == {"platform", *PY_WINGS}
    assert py_wing_violations(ROOT) == []


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Each file of `files` ({path: text}) written under `root`."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_py_wing_rule_sees_a_crossing(tmp_path):
    """The scan reports a wing importing another (absolute, relative and inside a function),
    the platform importing a wing, a module importing an assembler, and a stray module."""
    files = {
        "app/__init__.py": "",
        "app/main.py": "from app.explore import routes\nfrom app.learn import routes\n",
        "app/site.py": "",
        "app/stray.py": "",
        "app/platform/__init__.py": "",
        "app/platform/deps.py": "from app.network.service import state\n",
        "app/explore/__init__.py": "",
        "app/explore/routes.py": ("from app.platform import deps\nfrom . import service\n"
                                  "def f():\n    from app.learn import lesson\n"),
        "app/explore/service.py": "from ..network import jobs\nimport app.site\n",
        "app/learn/__init__.py": "",
        "app/network/__init__.py": "",
    }
    write_tree(tmp_path, files)
    assert py_wing_violations(tmp_path) == [
        "app.explore.routes imports app.learn: crosses from explore into another wing",
        "app.explore.service imports app.network: crosses from explore into another wing",
        "app.explore.service imports app.site: an assembler",
        "app.platform.deps imports app.network.service: crosses from platform into another wing",
        "app.stray: lives outside app/platform and the wings ('explore', 'gallery', 'learn', "
        "'network')",
    ]


# --- routes stay thin: their dependencies live in deps modules -------------------------------


def _route_modules(root: Path) -> list[Path]:
    """app/site.py and every wing's routes.py or routes/*.py."""
    app = root / "app"
    return sorted([app / "site.py", *app.glob("*/routes.py"), *app.glob("*/routes/*.py")])


def route_violations(root: Path) -> list[str]:
    """A routes module that calls Depends (an `Annotated[..., Depends(...)]` alias belongs in
    app/platform/deps.py or its wing's deps.py, defined once) or silences a type check."""
    found = []
    for path in _route_modules(root):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Depends":
                found.append(f"{name}:{node.lineno}: Depends in a routes module")
        for n, line in enumerate(text.splitlines(), 1):
            if "type: ignore" in line:
                found.append(f"{name}:{n}: type: ignore in a routes module")
    return found


def test_routes_take_their_dependencies_from_deps_modules():
    assert route_violations(ROOT) == []


def test_route_rule_sees_a_dependency_and_an_ignore(tmp_path):
    files = {"app/site.py": "X = Annotated[int, Depends(f)]\n",
             "app/network/routes.py": "Op = Literal[OPS]  # type: ignore[valid-type]\n",
             "app/network/deps.py": "StateDep = Annotated[S, Depends(state)]\n"}
    write_tree(tmp_path, files)
    assert route_violations(tmp_path) == [
        "app/network/routes.py:1: type: ignore in a routes module",
        "app/site.py:1: Depends in a routes module",
    ]


def test_no_two_test_files_share_a_name():
    """pytest imports test files by their base name (no packages under tests/), so two
    test_x.py in two folders stop the whole run at collection: found here, in the quick loop,
    instead of in CI's full run."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "learner_files" in path.parts:
            continue  # the checker's input, never collected
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not clashes, clashes
