"""A learner's code, loaded as far as it can run here: a .py file, or a notebook's code cells.

Learners check the file they work in, which is often the course's notebook as it is: its first
cell imports h5py and matplotlib, runs `%matplotlib inline` and sets `plt.rcParams[...]`;
later cells plot, load the course's datasets and call its test helpers, none of which this
machine may have. So:

- IPython lines (`%magic`, `%%cell_magic`, `!shell`) are skipped (made comments, so that
  line numbers stay the file's);
- a module that is not installed becomes a stand-in (`_Stub`): every attribute, call, item
  and item assignment of it is an inert object, so `plt.rcParams['figure.figsize'] = ...`
  and `plt.imshow(x)` run and do nothing;
- the code runs one top-level statement at a time, each cell on its own: a statement that
  raises (a dataset file that is not here, a test helper's name that was never defined, an
  unpacking of a stand-in) is skipped and noted, and the rest still runs;
- a syntax error is kept with its file, cell and line: that code cannot be checked;
- a notebook's cells are compiled under their own names ("notebook.ipynb, code cell 4"),
  with their text in linecache, so a traceback quotes the cell's code, not the file's JSON.

This runs in the checker's child process (cli/check.py), never in a server.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import difflib
import inspect
import io
import json
import linecache
import sys
import textwrap
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.mistakes import error_text

HERE = str(Path(__file__).resolve().parent)


class _Stub(types.ModuleType):
    """A module that is not installed here: every attribute is an inert stand-in."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()


class _Inert:
    """A stand-in that takes any call, attribute, item or assignment and does nothing."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self

    def __setitem__(self, key, value):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


@dataclass(frozen=True)
class Cell:
    """One unit of the learner's code: a whole .py file, or one code cell of a notebook."""

    label: str  # "" for a file, "code cell 4" for a notebook's fourth code cell
    filename: str  # what compile() and tracebacks call it
    source: str


def _without_ipython(text: str) -> str:
    """IPython's own lines (%magic, %%cell magic, !shell) as comments; line numbers kept."""
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line
                     for line in text.splitlines()) + "\n"


def cells_of(path: Path) -> list[Cell]:
    """The learner's code in the order it runs: one Cell for a .py file, one per code cell
    of a notebook (.ipynb), each cell's text registered in linecache under its name."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return [Cell("", str(path), _without_ipython(text))]
    try:
        sources = [c["source"] for c in json.loads(text)["cells"]
                   if c.get("cell_type") == "code"]
        sources = ["".join(s) if isinstance(s, list) else str(s) for s in sources]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SyntaxError(f"not a readable notebook ({exc})") from None
    cells = []
    for n, source in enumerate(sources, start=1):
        label = f"code cell {n}"
        filename = f"{path}, {label}"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        cells.append(Cell(label, filename, _without_ipython(source)))
    return cells


def namespace(path: Path, stubbed: list[str]) -> dict:
    """Fresh globals for the learner's code: its own __import__ stands in for missing modules."""
    real_import = builtins.__import__

    def learner_import(name, globals=None, locals=None, fromlist=(), level=0):
        try:
            return real_import(name, globals, locals, fromlist, level)
        except ModuleNotFoundError:
            if level or name.split(".")[0] in ("numpy", "core"):
                raise
            if name not in stubbed:
                stubbed.append(name)
            return _Stub(name)

    own = dict(vars(builtins))
    own["__import__"] = learner_import
    return {"__name__": "learner_solution", "__file__": str(path), "__builtins__": own}


_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _definitions_only(tree: ast.Module) -> ast.Module:
    """The module without its top-level statements other than imports, defs, classes and
    assignments of constants (what a function may need, without the notebook's runs)."""
    def keep(node):
        if isinstance(node, _KEEP):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            return value is not None and all(
                isinstance(n, ast.Constant | ast.Tuple | ast.List | ast.Dict | ast.Name
                           | ast.Load | ast.UnaryOp | ast.USub | ast.BinOp | ast.operator)
                for n in ast.walk(value))
        return False

    return ast.Module(body=[n for n in tree.body if keep(n)], type_ignores=[])


def _place(cell: Cell, line: int | None) -> str:
    """'code cell 4, line 2' (a notebook) or 'line 2' (a file)."""
    at = f"line {line}" if line else ""
    return ", ".join(p for p in (cell.label, at) if p)


def _first_line(cell: Cell, line: int | None) -> str:
    lines = cell.source.splitlines()
    return lines[line - 1].strip() if line and 0 < line <= len(lines) else ""


def load_file(path, definitions_only: bool = False) -> tuple[dict, dict]:
    """Run a learner's file (or notebook) as far as it runs here; returns (namespace, notes).

    notes: "stubbed" (modules stood in for), "skipped" (top-level statements that raised:
    {"where", "code", "error"}), "syntax_errors" (one line each, with file, cell and line:
    that code is not loaded), "definitions_only" (only imports, defs, classes and constants
    were run: the caller's fallback for a top level that hangs), "import_error" (the
    caller's note of why). Prints go nowhere.
    """
    path = Path(path)
    stubbed: list[str] = []
    notes = {"import_error": None, "stubbed": stubbed, "skipped": [], "syntax_errors": [],
             "definitions_only": definitions_only}
    sys.path.insert(0, str(path.resolve().parent))
    ns = namespace(path, stubbed)
    try:
        cells = cells_of(path)
    except SyntaxError as exc:
        notes["syntax_errors"].append(f"{path.name}: {exc.msg}")
        return ns, notes
    for cell in cells:
        try:
            tree = ast.parse(cell.source, filename=cell.filename)
        except SyntaxError as exc:
            code = _first_line(cell, exc.lineno)
            place = ", ".join(p for p in (path.name, _place(cell, exc.lineno)) if p)
            notes["syntax_errors"].append(f"SyntaxError: {exc.msg} ({place}"
                                          + (f": `{code}`" if code else "") + ")")
            continue
        if definitions_only:
            tree = _definitions_only(tree)
        for statement in tree.body:
            code = compile(ast.Module(body=[statement], type_ignores=[]), cell.filename, "exec")
            with quiet():
                try:
                    exec(code, ns)
                except BaseException as exc:  # the learner's top level: a failure is a note
                    place = _place(cell, statement.lineno)
                    notes["skipped"].append({
                        "where": ", ".join(p for p in (path.name, place) if p),
                        "code": _first_line(cell, statement.lineno),
                        "error": error_text(exc)})
    return ns, notes


class _Discard(io.TextIOBase):
    """A text stream that keeps nothing (a learner's print loop cannot fill memory)."""

    def write(self, text: str) -> int:
        return len(text)


@contextlib.contextmanager
def quiet():
    """Learner code runs with its prints, warnings and floating-point alarms muted."""
    sink = _Discard()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


@dataclass(frozen=True)
class Where:
    """The learner's line where an exception was raised (the last frame of their code)."""

    place: str  # "solution.py, line 12" or "notebook.ipynb, code cell 4, line 12"
    function: str
    line: str  # the line's code, stripped ('' when its text is not known)

    def __str__(self) -> str:
        code = f" `{self.line}`" if self.line else ""
        return f" ({self.place}, in {self.function}:{code})"


def where(exc: BaseException, filename: str | None) -> Where | None:
    """Where the learner's code raised `exc`: the last traceback frame in `filename` (or in
    one of its notebook cells); with filename None (a namespace), the last frame outside
    the checker. None when no frame is the learner's."""
    frames = traceback.extract_tb(exc.__traceback__)
    if filename is None:
        frames = [f for f in frames if not f.filename.startswith(HERE)]
    else:
        frames = [f for f in frames
                  if f.filename == filename or f.filename.startswith(filename + ", code cell ")]
    if not frames:
        return None
    f = frames[-1]
    return Where(f"{Path(f.filename).name}, line {f.lineno}", f.name,
                 (f.line or "").strip())


def function_source(fn) -> dict | None:
    """A learner's function as its file holds it: {"file" (its name, with the notebook
    cell), "start" (its first line's number), "lines" (its text, one per line)}; None when
    Python does not have its text (a function typed at a prompt)."""
    try:
        lines, start = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError):
        return None
    name = Path(filename.split(", code cell ")[0]).name
    cell = filename.split(", ", 1)[1] if ", code cell " in filename else ""
    return {"file": ", ".join(p for p in (name, cell) if p), "start": start,
            "lines": [line.rstrip("\n") for line in lines]}


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _statement_end(lines: list[str], k: int) -> int:
    """Index after line k and the lines that continue its statement (open brackets)."""
    depth = 0
    for j in range(k, len(lines)):
        code = lines[j].split("#")[0]
        depth += sum(code.count(o) for o in "([{") - sum(code.count(c) for c in ")]}")
        if depth <= 0:
            return j + 1
    return len(lines)


def closest_lines(sources: list[dict], text: str, least: float = 0.5) -> list[dict] | None:
    """The learner's own lines nearest to each line of `text` (a mistake's buggy lines as
    the exercise writes them): [{"place": "solution.py, line 12", "code"}] in the order of
    `text`, a statement that runs over several lines given whole; None when one of them has
    no line of the learner's at least `least` alike (difflib's ratio, spaces ignored)."""
    found: list[dict] = []
    taken: set = set()
    rows, targets, k = text.split("\n"), [], 0
    while k < len(rows):  # one target per statement (np.pad(...) may run over two lines)
        end = _statement_end(rows, k)
        targets.append(" ".join(rows[k:end]))
        k = end
    for target in targets:
        want = _squeezed(target)
        best = None
        for source in sources:
            lines = source["lines"]
            for k, line in enumerate(lines[1:], start=1):  # not the def line
                code = line.strip()
                if not code or code.startswith("#") or (source["file"], k) in taken:
                    continue
                end = _statement_end(lines, k)
                whole = " ".join(x.strip() for x in lines[k:end])
                ratio = difflib.SequenceMatcher(None, _squeezed(whole), want).ratio()
                if best is None or ratio > best[0]:
                    best = (ratio, source, k, end)
        if best is None or best[0] < least:
            return None
        _, source, k, end = best
        taken.add((source["file"], k))
        found.append({"place": f"{source['file']}, line {source['start'] + k}",
                      "code": textwrap.dedent("\n".join(source["lines"][k:end])).strip()})
    return found
