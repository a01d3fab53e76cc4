"""Check your own code: run a learner's exercise functions on the probe cases and say, per
function, whether it is right, which classic mistake it makes, and where it first goes wrong.

    convstep check solution.py                       # a report, one block per function
    convstep check "Convolution_model_Step_by_Step_v1.ipynb"   # a notebook's code cells
    convstep check solution.py --json                # {"functions": {name: {...}}, ...}
    convstep check solution.py --base-url http://localhost:9000 --timeout 10
    python -m core.check solution.py                 # the same, from a checkout

    from core.check import check; check(globals())   # the same from a notebook

The file needs functions with the exercise's names (zero_pad, conv_single_step,
conv_forward, conv_backward, pool_forward, create_mask_from_window, distribute_value,
pool_backward); any subset is checked. Each runs on every probe case of core/probes.py
(built so that every mistake of core/mistakes.py changes the output) and its outputs are
compared with core's under the exercise's rules (np.isclose cell by cell; max-pool ties
`x == np.max(x)`). A function that differs is matched against every mistake variant.

This is a command-line tool, not part of core's pure layer (core/check.py only re-exports
it, so that the names above keep working): it runs the learner's file in a
child process (multiprocessing, "spawn") so that the file's own imports, prints, top-level
code and infinite loops cannot break the report. Each call has a time limit (--timeout,
default 5 s): a call over it kills the child, which is restarted for the next function. In
the child the file's prints go nowhere, a module it imports that is not installed (a
course's test helpers) becomes an inert stub, IPython lines (`%matplotlib inline`, `!pip`)
are skipped, and if its top-level code raises or runs too long its functions are taken
without it (only imports, defs, classes and constants). `check(globals())` runs in the
calling process instead (functions defined in a notebook cannot travel to a child); there
the time limit is a SIGALRM timer, so it applies only in the main thread on Unix.

The server never runs learner code: this runs only where the learner runs it.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import io
import json
import multiprocessing
import os
import signal
import sys
import textwrap
import threading
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cli.links import flavour_of, page_link
from core.mistakes import MISTAKES, Outcome, _difference, diagnose, error_text, outcome_of
from core.probes import FUNCTIONS, arguments, cases_of, get_case

BASE_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 5.0
IMPORT_TIMEOUT_S = 20.0


# ---------------------------------------------------------------------------------------------
# Loading a learner's file (in the child process).

class _Stub(types.ModuleType):
    """A module that is not installed here: every attribute is an inert callable stub."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()


class _Inert:
    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


def _namespace(path: Path, stubbed: list[str]) -> dict:
    """Fresh globals for the learner's code: its own __import__ stubs missing modules."""
    real_import = builtins.__import__

    def learner_import(name, globals=None, locals=None, fromlist=(), level=0):
        try:
            return real_import(name, globals, locals, fromlist, level)
        except ModuleNotFoundError:
            if level or name.split(".")[0] in ("numpy", "core"):
                raise
            stubbed.append(name)
            return _Stub(name)

    own = dict(vars(builtins))
    own["__import__"] = learner_import
    return {"__name__": "learner_solution", "__file__": str(path), "__builtins__": own}


def _source(path: Path) -> str:
    """The file's text with IPython lines (%magic, !shell) turned into comments; for a
    notebook (.ipynb), its code cells one after the other."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text)["cells"]
            text = "\n\n".join(
                "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in cells if c.get("cell_type") == "code")
        except (ValueError, KeyError, TypeError) as exc:
            raise SyntaxError(f"not a readable notebook ({exc})") from None
    lines = text.splitlines()
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line
                     for line in lines) + "\n"


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


def load_file(path, definitions_only: bool = False) -> tuple[dict, dict]:
    """Execute a learner's file; returns (namespace, notes).

    notes: {"import_error": text or None, "stubbed": [module names], "definitions_only":
    bool}. Prints go nowhere. A file that raises at the top level keeps what it defined
    before the error (the caller may retry with definitions_only).
    """
    path = Path(path)
    stubbed: list[str] = []
    notes = {"import_error": None, "stubbed": stubbed, "definitions_only": definitions_only}
    sys.path.insert(0, str(path.resolve().parent))
    ns = _namespace(path, stubbed)
    try:
        tree = ast.parse(_source(path), filename=str(path))
    except SyntaxError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        notes["import_error"] = f"SyntaxError: {exc.msg}{line}"
        return ns, notes
    if definitions_only:
        tree = _definitions_only(tree)
    with _quiet():
        try:
            exec(compile(tree, str(path), "exec"), ns)
        except BaseException as exc:  # the learner's top level: any failure is a note
            notes["import_error"] = error_text(exc) + _where(exc, str(path))
    return ns, notes


class _Discard(io.TextIOBase):
    """A text stream that keeps nothing (a learner's print loop cannot fill memory)."""

    def write(self, text: str) -> int:
        return len(text)


@contextlib.contextmanager
def _quiet():
    """Learner code runs with its prints, warnings and floating-point alarms muted."""
    sink = _Discard()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _where(exc: BaseException, filename: str | None) -> str:
    """' (solution.py, line 12, in conv_forward: Z[i, h, w, c] = ...)' for the last frame of
    the learner's code in the traceback ('' when there is none)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if filename is None or f.filename == filename]
    if filename is None:
        frames = [f for f in frames if not f.filename.startswith(str(Path(__file__).parent))]
    if not frames:
        return ""
    f = frames[-1]
    line = f" `{f.line.strip()}`" if f.line else ""
    return f" ({Path(f.filename).name}, line {f.lineno}, in {f.name}:{line})"


def functions_in(ns: dict) -> dict:
    """The exercise's functions found in a namespace, in the exercise's order."""
    return {name: ns[name] for name in FUNCTIONS if callable(ns.get(name))}


def call_on_case(fn, function: str, case_name: str, filename: str | None) -> tuple[Outcome, str]:
    """Run one learner function on one probe case: (Outcome, where it raised or '')."""
    args = arguments(get_case(function, case_name))
    with _quiet():
        try:
            result = fn(*args)
        except _TimeUp:
            raise
        except BaseException as exc:  # anything a learner's code raises is its outcome
            return Outcome(error=error_text(exc)), _where(exc, filename)
    try:
        return outcome_of(function, result), ""
    except Exception as exc:  # a return value NumPy cannot read
        return Outcome(error=f"returned something unreadable: {error_text(exc)}"), ""


def _serve(path: str, definitions_only: bool, conn) -> None:
    """Child process: load the file, report what it found, then run calls on request."""
    ns, notes = load_file(path, definitions_only)
    found = functions_in(ns)
    conn.send(("ready", list(found), notes))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        function, case_name = request
        outcome, where = call_on_case(found[function], function, case_name, path)
        conn.send((_portable(outcome), where))


def _portable(outcome: Outcome) -> Outcome:
    """Plain float/bool arrays (a learner's array subclass or odd dtype may not unpickle)."""
    if outcome.arrays is None:
        return outcome
    return Outcome(arrays={k: np.array(v, dtype=bool if v.dtype == bool else np.float64)
                           for k, v in outcome.arrays.items()})


class _TimeUp(BaseException):
    """A call ran past its time limit (BaseException: a learner's `except Exception` must
    not swallow it)."""


# ---------------------------------------------------------------------------------------------
# Runners: a child process for a file, the calling process for a namespace.

class _ChildRunner:
    """Runs a file's functions in a child process, one call at a time, with a time limit."""

    def __init__(self, path: str, timeout: float, import_timeout: float):
        self.path, self.timeout, self.import_timeout = path, timeout, import_timeout
        self.ctx = multiprocessing.get_context("spawn")
        self.proc = None
        self.conn = None
        self.definitions_only = False
        self.found: list[str] = []
        self.notes: dict = {}

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(self.path, self.definitions_only,
                                                          child), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(self.import_timeout):
            self.stop()
            raise TimeoutError
        try:
            _, self.found, self.notes = parent.recv()
        except EOFError:  # the child died while importing (os._exit, a crash)
            self.stop()
            raise TimeoutError from None

    def open(self) -> None:
        """Start, falling back to definitions only when the top level raises or hangs."""
        try:
            self.start()
        except TimeoutError:
            self.definitions_only = True
            self.start()
            self.notes["import_error"] = (
                f"the file's top-level code did not finish within {self.import_timeout:g} s")
            return
        if self.notes.get("import_error") and not self.definitions_only:
            error = self.notes["import_error"]
            self.stop()
            self.definitions_only = True
            self.start()
            self.notes["import_error"] = error

    def call(self, function: str, case_name: str) -> tuple[Outcome | None, str]:
        """(Outcome, where); (None, '') when the call ran past the time limit, (None, what
        happened) when the child died; the child is then restarted for the next call."""
        if self.proc is None:
            self.start()
        self.conn.send((function, case_name))
        if self.conn.poll(self.timeout):
            try:
                return self.conn.recv()
            except EOFError:  # the learner's code ended the process (os._exit, a crash)
                self.proc.join(1)
                code = self.proc.exitcode
                self.stop()
                return None, f"ended the process (exit code {code})"
        self.stop()
        return None, ""

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.proc.join(0.2)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
            self.conn.close()
        self.proc = None


class _LocalRunner:
    """Runs functions from a namespace in this process (a SIGALRM timer when possible)."""

    def __init__(self, ns: dict, timeout: float):
        self.functions = functions_in(ns)
        self.found = list(self.functions)
        self.timeout = timeout
        self.notes = {"import_error": None, "stubbed": [], "definitions_only": False}

    def call(self, function: str, case_name: str) -> tuple[Outcome | None, str]:
        fn = self.functions[function]
        if not (hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread()):
            return call_on_case(fn, function, case_name, None)

        def alarm(signum, frame):
            raise _TimeUp

        old = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            return call_on_case(fn, function, case_name, None)
        except _TimeUp:
            return None, ""
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    def stop(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# The report.

@dataclass(frozen=True)
class _Options:
    base_url: str = BASE_URL
    timeout: float = TIMEOUT_S


def check_function(runner, function: str, options: _Options) -> dict:
    """Run one function on its probe cases and judge it (the JSON block of one function)."""
    outcomes: dict[str, Outcome] = {}
    errors = []
    for case in cases_of(function):
        outcome, where = runner.call(function, case.name)
        if outcome is None and where:
            return _result(function, options, "raises", message=f"{where} on case {case.name}",
                           first=_difference("error", case.name, error=where))
        if outcome is None:
            return _result(function, options, "timeout", message=(
                f"did not return within {options.timeout:g} s on case {case.name} "
                f"(an infinite loop?)"), first=_difference("timeout", case.name))
        outcomes[case.name] = outcome
        if not outcome.ok:
            errors.append({"case": case.name, "error": outcome.error, "where": where})
    d = diagnose(function, outcomes, pairs=True)
    cases = d["cases"]
    first = d["first_difference"]
    if d["ok"]:
        return _result(function, options, "correct", cases=cases,
                       message=f"correct on all {len(outcomes)} probe cases")
    if d["mistakes"]:
        titles = "; ".join(f"{m}: {MISTAKES[m].title}" for m in d["mistakes"])
        return _result(function, options, "mistake", mistakes=d["mistakes"],
                       variants=d["variants"], first=first, cases=cases, errors=errors,
                       message=f"matches {titles}")
    if errors:
        e = errors[0]
        said = (f"on case {e['case']} it {e['error']}" if e["error"].startswith("returned")
                else f"raises on case {e['case']}: {e['error']}{e['where']}")
        return _result(function, options, "raises", first=first, cases=cases, errors=errors,
                       message=said)
    if first["kind"] == "shape":
        return _result(function, options, "shape", first=first, cases=cases, message=(
            f"returns {first['output']} of shape {tuple(first['got_shape'])} on case "
            f"{first['case']}; expected shape {tuple(first['expected_shape'])}"))
    return _result(function, options, "wrong", first=first, cases=cases,
                   message="differs from the right output; no known mistake matches")


def _result(function, options, status, *, message, mistakes=(), variants=(), first=None,
            cases=None, errors=()) -> dict:
    step = first.get("step") if first else None
    link = None
    if status != "correct":
        mistake = mistakes[0] if mistakes else None
        link = page_link(options.base_url, function, mistake, step,
                         first.get("case") if first else None,
                         flavour_of(function, mistake, variants))
    return {"ok": status == "correct", "status": status, "mistakes": list(mistakes),
            "variants": list(variants), "message": message, "first_difference": first,
            "link": link, "cases": cases or {}, "errors": list(errors)}


# The helpers each function calls in the exercise's code: a wrong helper explains a caller
# that goes wrong without a mistake of its own.
CALLS = {"conv_forward": ("zero_pad", "conv_single_step"), "conv_backward": ("zero_pad",),
         "pool_backward": ("create_mask_from_window", "distribute_value")}


def _run(runner, options: _Options, source: str) -> dict:
    report = {"source": source, "functions": {},
              "missing": [f for f in FUNCTIONS if f not in runner.found],
              "notes": dict(runner.notes)}
    try:
        for function in FUNCTIONS:
            if function in runner.found:
                report["functions"][function] = check_function(runner, function, options)
    finally:
        runner.stop()
    results = report["functions"]
    for function, r in results.items():
        wrong = [h for h in CALLS.get(function, ()) if h in results and not results[h]["ok"]]
        r["hint"] = None
        if wrong and not r["ok"] and not r["mistakes"]:
            r["hint"] = (f"it calls your {' and '.join(wrong)}, which "
                         f"{'is' if len(wrong) == 1 else 'are'} wrong: fix "
                         f"{'that' if len(wrong) == 1 else 'those'} first")
    return report


def check_file(path, *, base_url: str = BASE_URL, timeout: float = TIMEOUT_S,
               import_timeout: float = IMPORT_TIMEOUT_S) -> dict:
    """Check a learner's .py file in a child process; returns the report dict."""
    path = str(Path(path).resolve())
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    runner = _ChildRunner(path, timeout, import_timeout)
    runner.open()
    return _run(runner, _Options(base_url, timeout), path)


def check(namespace, *, base_url: str = BASE_URL, timeout: float = TIMEOUT_S,
          quiet: bool = False) -> dict:
    """Check the exercise's functions in a namespace (a notebook's `globals()`) or a file
    path; prints the report (unless quiet) and returns the dict that --json prints."""
    if isinstance(namespace, str | os.PathLike):
        report = check_file(namespace, base_url=base_url, timeout=timeout)
    else:
        report = _run(_LocalRunner(dict(namespace), timeout), _Options(base_url, timeout),
                      "globals()")
    if not quiet:
        print(format_report(report))
    return report


# ---------------------------------------------------------------------------------------------
# Text.

def _fmt(x) -> str:
    return "None" if x is None else f"{x:.6g}"


def describe_difference(d: dict | None) -> str:
    """One line for a first_difference dict."""
    if not d:
        return ""
    case = f"case {d['case']}"
    if d["kind"] == "timeout":
        return f"{case}: no answer in time"
    at = ""
    if d.get("step") is not None:
        at = f", step {d['step']}"
        if d.get("position"):
            at += f" (i, h, w, c) = {tuple(d['position'])}"
        if d.get("phase") == "crop":
            at += ", at the crop after that image's loop"
    if d["kind"] == "error":
        return f"{case}{at}: raises {d['error']}"
    if d["kind"] == "shape":
        return (f"{case}{at}: {d['output']} has shape {tuple(d['got_shape'])}, expected "
                f"{tuple(d['expected_shape'])}")
    cell = "[" + ", ".join(str(x) for x in d["cell"]) + "]" if d["cell"] else ""
    running = " (running total)" if d.get("basis") == "running" and d["output"] not in (
        "Z", "A") else ""
    return (f"{case}{at}: {d['output']}{cell}{running} is {_fmt(d['got'])}, should be "
            f"{_fmt(d['expected'])}")


def format_report(report: dict) -> str:
    found = report["functions"]
    lines = [f"Checking {report['source']}: {len(found)} of the exercise's {len(FUNCTIONS)} "
             f"functions found."]
    notes = report.get("notes", {})
    if notes.get("import_error"):
        lines.append(f"  note: the file's top level failed ({notes['import_error']}); its "
                     f"functions were checked without it.")
    if notes.get("stubbed"):
        lines.append(f"  note: not installed here, stubbed: {', '.join(notes['stubbed'])}.")
    if report.get("missing") and found:
        lines.append(f"  not in the file: {', '.join(report['missing'])}.")
    if not found:
        lines.append("  No function with an exercise name (" + ", ".join(FUNCTIONS) + ").")
    for function, r in found.items():
        if not r["ok"] or (lines[-1].startswith("     ")):
            lines.append("")
        mark = "ok  " if r["ok"] else "FAIL"
        lines.append(f"{mark} {function}: {r['message']}")
        for m in r["mistakes"]:
            variant = next((v for v in MISTAKES[m].variants_of(function)
                            if v.flavour in r["variants"]), MISTAKES[m].variants_of(function)[0])
            lines.extend(textwrap.wrap(variant.what_goes_wrong, 96, initial_indent="     ",
                                       subsequent_indent="     "))
            for prefix, text in (("yours:", variant.buggy_line), ("right:", variant.right_line)):
                for k, code in enumerate(text.splitlines()):
                    lines.append(f"     {prefix if k == 0 else '':6} {code}")
        if not r["ok"] and r["first_difference"] and r["status"] != "timeout":
            lines.append(f"     first difference: {describe_difference(r['first_difference'])}")
        if r.get("hint"):
            lines.append(f"     hint: {r['hint']}")
        if r["errors"] and r["status"] == "mistake":
            e = r["errors"][0]
            lines.append(f"     raises on case {e['case']}: {e['error']}{e['where']}")
        if r["link"]:
            lines.append(f"     see it: {r['link']}")
    return "\n".join(lines)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def main(argv=None, prog: str = "convstep check") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Check your exercise functions on probe cases that every classic "
                    "mistake changes; says which mistake a wrong function makes and where.")
    parser.add_argument("file", help="your .py file (or .ipynb notebook) with the "
                                     "exercise's functions")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--base-url", default=BASE_URL,
                        help=f"where the convstep page runs (default {BASE_URL})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S,
                        help=f"seconds per call before it counts as a hang (default "
                             f"{TIMEOUT_S:g})")
    args = parser.parse_args(argv)
    try:
        report = check_file(args.file, base_url=args.base_url, timeout=args.timeout)
    except FileNotFoundError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_jsonable(report), indent=2))
    else:
        print(format_report(report))
    return 0 if all(r["ok"] for r in report["functions"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
