"""The wing rule: a wing (Explore, Learn, Network, Gallery) uses the kit and never another wing.

Front end: every module under static/js/<wing>/ imports only from static/js/kit/ and from
its own wing; the kit imports nothing from a wing (it is what the wings share).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS_WINGS = ("explore", "learn", "network", "gallery")

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
