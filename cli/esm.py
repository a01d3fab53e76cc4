"""One ES module made of several: the notebook widget's front end for anywidget.

anywidget loads a widget's `_esm` from a blob: URL, where the relative imports of our native
ES modules (`import { el } from "../kit/dom.js"`) resolve to nothing, and the project has no
bundler (static/ is plain ES modules, served as they are). `inline_modules(entry)` follows the
entry's relative imports through the kit and writes one module: each imported module, in
dependency order, as a function scope that returns its exports, and the entry module last,
its imports turned into `const { a, b: c } = <module>` and its own exports kept.

    inline_modules(Path("static/js/notebook/widget.js"))  # -> str, one ES module

It reads only the forms our modules use: `import { a, b as c } from "./x.js";` (one or several
lines), `export function|class|const ...`, `export { a, b as c };`. Anything else (a default,
namespace or bare import, `export ... from`, `export let`, whose binding a copy would freeze,
a dynamic `import(...)`, an import cycle) raises ValueError naming the file and what it found,
so a kit module that changes shape fails the widget's tests instead of the learner's
notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

NAME = r"[A-Za-z_$][\w$]*"
IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"(\.{1,2}/[^"]+\.js)";?[ \t]*$', re.M)
EXPORT_DECL = re.compile(rf"^export\s+((?:async\s+)?function\*?|class|const)\s+({NAME})", re.M)
EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\};?[ \t]*$", re.M)
# what is left of an import or export after the forms above are taken out is not understood
OTHER = re.compile(r"^\s*(?:import\b|export\b)|\bimport\s*\(", re.M)


def _pairs(names: str) -> list[tuple[str, str]]:
    """'a, b as c' -> [("a", "a"), ("b", "c")] (name in the module, name here)."""
    out = []
    for part in names.split(","):
        part = part.strip()
        if not part:
            continue
        bits = part.split()
        if len(bits) == 1 and re.fullmatch(NAME, bits[0]):
            out.append((bits[0], bits[0]))
        elif len(bits) == 3 and bits[1] == "as":
            out.append((bits[0], bits[2]))
        else:
            raise ValueError(f"cannot read the name list '{names.strip()}'")
    return out


class _Module:
    def __init__(self, path: Path, root: Path, entry: bool = False):
        self.path = path
        self.label = path.relative_to(root).as_posix()
        self.var = "__" + re.sub(r"\W", "_", self.label.removesuffix(".js"))
        text = path.read_text(encoding="utf-8")
        self.imports = [(_pairs(names), (path.parent / spec).resolve())
                        for names, spec in IMPORT.findall(text)]
        body = IMPORT.sub("", text)
        self.exports: list[tuple[str, str]] = []  # (local name, exported name)
        for m in EXPORT_LIST.finditer(body):
            self.exports += _pairs(m.group(1))
        body = EXPORT_LIST.sub("", body)
        self.exports += [(name, name) for _, name in EXPORT_DECL.findall(body)]
        self.plain = EXPORT_DECL.sub(lambda m: f"{m.group(1)} {m.group(2)}", body)
        self.text = text
        left = OTHER.search(re.sub(r"^export default\b", "", self.plain, flags=re.M)
                            if entry else self.plain)
        if left:
            line = self.plain[left.start():].strip().splitlines()[0]
            raise ValueError(f"{self.label}: cannot inline '{line}' (only named imports of "
                             f"relative .js files and named exports)")

    def bindings(self, modules: dict[Path, _Module]) -> str:
        lines = []
        for names, target in self.imports:
            dep = modules[target]
            exported = {e for _, e in dep.exports}
            for name, _ in names:
                if name not in exported:
                    raise ValueError(f"{self.label} imports {name} from {dep.label}, which "
                                     f"does not export it")
            fields = ", ".join(n if n == local else f"{n}: {local}" for n, local in names)
            lines.append(f"const {{ {fields} }} = {dep.var};")
        return "\n".join(lines)


def inline_modules(entry: Path, root: Path | None = None) -> str:
    """The ES module `entry` with every module it imports (relative paths, followed to the
    end) inlined, dependencies first. `root`: where the modules' labels are taken from (the
    entry's grandparent, static/js, by default)."""
    entry = Path(entry).resolve()
    root = Path(root).resolve() if root else entry.parent.parent
    modules: dict[Path, _Module] = {}
    order: list[_Module] = []
    visiting: list[Path] = []

    def visit(path: Path) -> None:
        if path in modules:
            return
        if path in visiting:
            cycle = " -> ".join(p.relative_to(root).as_posix() for p in [*visiting, path])
            raise ValueError(f"import cycle: {cycle}")
        if not path.is_file():
            raise ValueError(f"no such module: {path}")
        module = _Module(path, root, entry=not visiting)
        visiting.append(path)
        for _, target in module.imports:
            visit(target)
        visiting.pop()
        modules[path] = module
        order.append(module)

    visit(entry)
    parts = [f"// One module made by cli/esm.py from {order[-1].label} and the modules it "
             f"imports.\n"]
    for module in order[:-1]:
        exports = ", ".join(local if local == name else f"{name}: {local}"
                            for local, name in module.exports)
        parts.append(f"// ---- {module.label}\nconst {module.var} = (() => {{\n"
                     f"{module.bindings(modules)}\n{module.plain.strip()}\n"
                     f"return {{ {exports} }};\n}})();\n")
    last = order[-1]
    body = IMPORT.sub("", last.text).strip()
    parts.append(f"// ---- {last.label}\n{last.bindings(modules)}\n{body}\n")
    return "\n".join(parts)
