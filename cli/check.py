"""Check your own code: run a learner's exercise functions on the probe cases and say, per
function, whether it is right, which classic mistake it makes, and where it first goes wrong.

    convstep check solution.py                       # a report, one block per function
    convstep check "Convolution_model_Step_by_Step_v1.ipynb"   # a notebook's code cells
    convstep check solution.py --json                # {"functions": {name: {...}}, ...}
    convstep check solution.py --open                # your loop drawn beside the right one
    convstep check solution.py --base-url http://localhost:9000 --timeout 10
    python -m core.check solution.py                 # the same, from a checkout

    from core.check import check; check(globals())   # the same from a notebook

The file needs functions with the exercise's names (zero_pad, conv_single_step,
conv_forward, conv_backward, pool_forward, create_mask_from_window, distribute_value,
pool_backward); any subset is checked. Each runs on every probe case of core/probes.py
(built so that every mistake of core/mistakes.py changes the output) and its outputs are
compared with core's under the exercise's rules (np.isclose cell by cell; max-pool ties
`x == np.max(x)`). A function that differs is matched against every mistake variant.

Besides the numbers, the whole return is checked against the exercise's contract (a
conv_forward without its cache is not right), and an error that is one of NumPy's own
pitfalls is named (`float_of_array`: the course's `float(b)` on NumPy 2). See
cli/contract.py.

This is a command-line tool, not part of core's pure layer (core/check.py only re-exports
it, so that the names above keep working): it runs the learner's file in a child process
(multiprocessing, "spawn") so that the file's own imports, prints, top-level code and
infinite loops cannot break the report. Each call has a time limit (--timeout, default 5 s):
a call over it kills the child, which is restarted for the next function. The file is loaded
as far as it runs here (cli/learner.py: missing modules stood in for, failing top-level
statements skipped and noted, a notebook cell by cell); a syntax error makes the exit code 2,
naming the file, cell and line; a top level that runs too long is replaced by its
definitions. `check(globals())` runs in the calling process instead (functions defined in a
notebook cannot travel to a child); there the time limit is a SIGALRM timer, so it applies
only in the main thread on Unix. In Jupyter it shows the report as HTML, elsewhere as text,
and returns the report (a dict) without Jupyter echoing it.

Exit codes: 0 every function found is right, 1 some are not, 2 the file could not be read,
holds code that does not parse, or has none of the exercise's functions that could run.

Your own loop: a looped function that differs is run once more under a tracer
(cli/tracer.py) on the case of its first difference; `first_difference.yours_window` and
`right_window` say where your loop and the exercise's read there, and --open writes your
steps to convstep-trace.json and opens the Learn page with them in the link's fragment.

The server never runs learner code: this runs only where the learner runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cli.contract import contract_gap, pitfall_of
from cli.learner import closest_lines, function_source, load_file, quiet, where
from cli.links import flavour_of, page_link
from cli.report import describe_difference, format_report, show
from cli.tracer import LOOPED as TRACED
from cli.tracer import in_padded, page_trace, right_window, trace_call, trace_fragment, window_at
from core.learn.variants import Part
from core.mistakes import (
    MISTAKES,
    Outcome,
    Variant,
    _difference,
    diagnose,
    error_text,
    outcome_of,
    variant,
)
from core.probes import FUNCTIONS, OUTPUTS, arguments, cases_of, get_case

__all__ = ["BASE_URL", "TIMEOUT_S", "Report", "check", "check_file", "describe_difference",
           "format_report", "load_file", "main"]

BASE_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 5.0
IMPORT_TIMEOUT_S = 20.0
# The notes of code that was not loaded from a file (cli/learner.py's load_file fills them in)
NO_NOTES = {"import_error": None, "stubbed": [], "skipped": [], "syntax_errors": [],
            "definitions_only": False}


def functions_in(ns: dict) -> dict:
    """The exercise's functions found in a namespace, in the exercise's order."""
    return {name: ns[name] for name in FUNCTIONS if callable(ns.get(name))}


class Call(NamedTuple):
    """One call of a learner's function on one probe case: its Outcome (None: no answer in
    time, or the process ended), where it raised (' (file, line 3, in f: `code`)' or what
    ended the process), the learner's line that raised, and what the return leaves out of
    the exercise's contract."""

    outcome: Outcome | None
    where: str = ""
    line: str = ""
    contract: str | None = None
    raised_in: str = ""  # the learner's function whose line raised


def call_on_case(fn, function: str, case_name: str, filename: str | None) -> Call:
    """Run one learner function on one probe case."""
    args = arguments(get_case(function, case_name))
    with quiet():
        try:
            result = fn(*args)
        except _TimeUp:
            raise
        except BaseException as exc:  # anything a learner's code raises is its outcome
            at = where(exc, filename)
            return Call(Outcome(error=error_text(exc)), str(at or ""), at.line if at else "",
                        raised_in=at.function if at else "")
    try:
        return Call(outcome_of(function, result), contract=contract_gap(function, args, result))
    except Exception as exc:  # a return value NumPy cannot read
        return Call(Outcome(error=f"returned something unreadable: {error_text(exc)}"))


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
        if request[0] == "source":
            conn.send(function_source(found[request[1]]))
            continue
        if request[0] == "trace":
            _, function, case_name = request
            with quiet():
                conn.send(trace_call(found[function], function, case_name, path))
            continue
        function, case_name = request
        call = call_on_case(found[function], function, case_name, path)
        conn.send(call._replace(outcome=_portable(call.outcome)))


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
        self.traces: dict = {}  # function -> the learner's steps for the page (--open)

    def start(self) -> None:
        """Start the child; TimeoutError (with what happened) when it does not report what it
        loaded in time or ends before it does."""
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(self.path, self.definitions_only,
                                                          child), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(self.import_timeout):
            self.stop()
            raise TimeoutError(f"did not finish within {self.import_timeout:g} s")
        try:
            _, self.found, self.notes = parent.recv()
        except EOFError:  # the child died while importing (os._exit, a crash)
            self.proc.join(1)
            code = self.proc.exitcode
            self.stop()
            raise TimeoutError(f"ended the process (exit code {code})") from None

    def open(self) -> None:
        """Start, falling back to definitions only when the top level hangs or ends the
        process."""
        try:
            self.start()
        except TimeoutError as exc:
            self.definitions_only = True
            said = f"the file's top-level code {exc}"
            try:
                self.start()
            except TimeoutError as again:  # not even its imports and definitions load
                self.found, self.notes = [], {**NO_NOTES, "import_error": (
                    f"{said}, and with only its imports and definitions it {again}: nothing "
                    f"could be checked")}
                return
            self.notes["import_error"] = (f"{said}; its functions were checked without it "
                                          f"(its imports, definitions and constants only)")

    def call(self, function: str, case_name: str) -> Call:
        """The Call; its outcome is None when the call ran past the time limit (where '')
        or the child died (where says how); the child is then restarted for the next call."""
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
                return Call(None, f"ended the process (exit code {code})")
        self.stop()
        return Call(None)

    def trace(self, function: str, case_name: str) -> dict | None:
        """The learner's function traced on a probe case (cli/tracer.py); None when it does
        not finish in time or ends the process."""
        if self.proc is None:
            self.start()
        self.conn.send(("trace", function, case_name))
        if self.conn.poll(self.timeout * 4):  # tracing costs: a few times the plain call
            try:
                return self.conn.recv()
            except EOFError:
                self.stop()
                return None
        self.stop()
        return None

    def source(self, function: str) -> dict | None:
        """The learner's function's text (cli/learner.py's function_source), or None."""
        if self.proc is None:
            self.start()
        self.conn.send(("source", function))
        if self.conn.poll(self.timeout):
            with contextlib.suppress(EOFError):
                return self.conn.recv()
        self.stop()
        return None

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
        self.notes = dict(NO_NOTES)
        self.traces: dict = {}

    def call(self, function: str, case_name: str) -> Call:
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
            return Call(None)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    def trace(self, function: str, case_name: str) -> dict | None:
        try:
            with quiet():
                return trace_call(self.functions[function], function, case_name, None)
        except Exception:  # pragma: no cover - the tracer itself failing is not a verdict
            return None

    def source(self, function: str) -> dict | None:
        return function_source(self.functions[function])

    def stop(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# The judgement of one function.

@dataclass(frozen=True)
class _Options:
    base_url: str = BASE_URL
    timeout: float = TIMEOUT_S


def check_function(runner, function: str, options: _Options) -> dict:
    """Run one function on its probe cases and judge it (the JSON block of one function)."""
    outcomes: dict[str, Outcome] = {}
    errors, contract = [], None
    for case in cases_of(function):
        call = runner.call(function, case.name)
        if call.outcome is None and call.where:
            return _result(function, options, "raises",
                           message=f"{call.where} on case {case.name}",
                           first=_difference("error", case.name, error=call.where))
        if call.outcome is None:
            return _result(function, options, "timeout", message=(
                f"did not return within {options.timeout:g} s on case {case.name} "
                f"(an infinite loop?)"), first=_difference("timeout", case.name))
        outcomes[case.name] = call.outcome
        contract = contract or call.contract
        if not call.outcome.ok:
            errors.append({"case": case.name, "error": call.outcome.error, "where": call.where,
                           "line": call.line, "function": call.raised_in})
    d = diagnose(function, outcomes, pairs=True)
    cases = d["cases"]
    first = d["first_difference"]
    if first is not None and not d["ok"]:
        first = {**first, **_windows(runner, function, first)}
    common = {"cases": cases, "contract": contract}
    if d["ok"] and contract:
        return _result(function, options, "contract", **common, message=(
            f"{OUTPUTS[function][0]} is right on all {len(outcomes)} probe cases, but it "
            f"{contract}"))
    if d["ok"]:
        return _result(function, options, "correct", **common,
                       message=f"correct on all {len(outcomes)} probe cases")
    if d["mistakes"]:
        titles = "; ".join(f"{m}: {MISTAKES[m].title}" for m in d["mistakes"])
        shown = [_variant_of(function, m, d["variants"]) for m in d["mistakes"]]
        return _result(function, options, "mistake", mistakes=d["mistakes"],
                       variants=d["variants"], first=first, errors=errors, **common,
                       message=f"matches {titles}",
                       lines=[_lines(runner, function, v) for v in shown])
    if d["nearest"]:
        n = d["nearest"]
        v = variant(function, n["mistake"], n["flavour"])
        shown = Part(v, tuple(n["lines"])) if n["lines"] else v
        return _result(function, options, "partial", variants=[v.flavour], first=first,
                       errors=errors, nearest=n, **common, lines=[_lines(runner, function,
                                                                         shown)],
                       message=f"matches {v.mistake} {n['evidence']} (the nearest known "
                               f"mistake: {MISTAKES[v.mistake].title})")
    if errors:
        e = errors[0]
        pitfall = pitfall_of(e["error"], e["line"])
        if pitfall and e["function"] not in (function, ""):  # in a helper: named there
            return _result(function, options, "raises", first=first, errors=errors, **common,
                           message=f"raises on case {e['case']}: {pitfall.id} in your "
                                   f"{e['function']}{e['where']}")
        if pitfall:
            return _result(function, options, "pitfall", pitfall=pitfall.id, first=first,
                           errors=errors, **common, message=(
                               f"raises on case {e['case']}: {pitfall.id}: {pitfall.title}"
                               f"{e['where']}"))
        said = (f"on case {e['case']} it {e['error']}" if e["error"].startswith("returned")
                else f"raises on case {e['case']}: {e['error']}{e['where']}")
        return _result(function, options, "raises", first=first, errors=errors, **common,
                       message=said)
    if first["kind"] == "shape":
        return _result(function, options, "shape", first=first, **common, message=(
            f"returns {first['output']} of shape {tuple(first['got_shape'])} on case "
            f"{first['case']}; expected shape {tuple(first['expected_shape'])}"))
    return _result(function, options, "wrong", first=first, **common,
                   message="differs from the right output; no known mistake matches")


def _variant_of(function: str, mistake: str, flavours) -> Variant:
    """The variant of `mistake` that matched (its flavour among `flavours`)."""
    return next((v for v in MISTAKES[mistake].variants_of(function) if v.flavour in flavours),
                MISTAKES[mistake].variants_of(function)[0])


def _lines(runner, function: str, shown) -> dict:
    """A matched mistake's lines (a Variant, or a Part of one): what goes wrong, the
    learner's own lines that make it ("yours": [{"place", "code"}], found in their function
    and the helper the mistake lives in; None when no line of theirs is alike), the lines as
    the exercise writes the mistake ("mistake") and the right ones ("right")."""
    v = shown.variant if isinstance(shown, Part) else shown
    sources = [runner.source(name) for name in dict.fromkeys((v.shown_in, function))
               if name in runner.found]
    return {"mistake_id": v.mistake, "flavour": v.flavour, "what": v.what_goes_wrong,
            "yours": closest_lines([x for x in sources if x], shown.buggy_line),
            "mistake": shown.buggy_line, "right": shown.right_line}


def _windows(runner, function: str, first: dict) -> dict:
    """Where the learner's loop read (or added into) at the first difference, beside the
    exercise's window there: [[row_start, row_end], [col_start, col_end]] each, None for a
    function without windows or a step the learner's loop never reached; `yours_code` is the
    learner's own line of that step, `yours_source` the array it read (or added into) and
    `yours_read` the window in that array's own coordinates (yours_window is in the padded
    input's, where the exercise's window is: an unpadded read moves by pad)."""
    out = {"yours_window": None, "right_window": None, "yours_source": None,
           "yours_read": None, "yours_code": None, "yours_line": None}
    position, case = first.get("position"), first.get("case")
    if function not in TRACED or position is None or case is None:
        return out
    out["right_window"] = right_window(function, case, position)
    trace = runner.trace(function, case)
    if trace is not None:
        runner.traces[function] = page_trace(function, trace, position)
    step = window_at(trace, position, backward=function in ("conv_backward",
                                                            "pool_backward")) if trace else None
    if step is not None:
        out.update(yours_window=in_padded(function, case, step), yours_read=step["window"],
                   yours_source=step["source"],
                   yours_code=step["window_code"] or step["code"],
                   yours_line=step["window_line"] or step["line"])
    return out


def _result(function, options, status, *, message, mistakes=(), variants=(), first=None,
            cases=None, errors=(), contract=None, pitfall=None, nearest=None,
            lines=()) -> dict:
    step = first.get("step") if first else None
    link = None
    if status not in ("correct", "contract"):
        mistake = mistakes[0] if mistakes else nearest["mistake"] if nearest else None
        link = page_link(options.base_url, function, mistake, step,
                         first.get("case") if first else None,
                         flavour_of(function, mistake, variants))
    return {"ok": status == "correct", "status": status, "mistakes": list(mistakes),
            "variants": list(variants), "pitfall": pitfall, "contract": contract,
            "message": message, "first_difference": first, "link": link,
            "cases": cases or {}, "errors": list(errors), "nearest": nearest,
            "lines": list(lines)}


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


class Report(dict):
    """The report as the dict that --json prints. Jupyter does not echo it (check() has shown
    it already); a plain Python prompt echoes one line. `traces`: the learner's traced steps
    per function with a difference (cli/tracer.py's page_trace), what --open shows."""

    traces: dict = {}  # noqa: RUF012 - replaced per report, never mutated in place

    def _ipython_display_(self) -> None:
        pass

    def __repr__(self) -> str:
        found = self.get("functions", {})
        right = sum(r["ok"] for r in found.values())
        return f"<convstep check of {self.get('source')}: {right} of {len(found)} right>"


def check_file(path, *, base_url: str = BASE_URL, timeout: float = TIMEOUT_S,
               import_timeout: float = IMPORT_TIMEOUT_S) -> Report:
    """Check a learner's .py file or notebook in a child process; returns the report."""
    path = str(Path(path).resolve())
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    runner = _ChildRunner(path, timeout, import_timeout)
    runner.open()
    report = Report(_run(runner, _Options(base_url, timeout), path))
    report.traces = runner.traces
    return report


def check(namespace, *, base_url: str = BASE_URL, timeout: float = TIMEOUT_S,
          quiet: bool = False) -> Report:
    """Check the exercise's functions in a namespace (a notebook's `globals()`) or a file
    path; shows the report (HTML in Jupyter, text elsewhere; nothing when quiet) and returns
    it (the dict that --json prints, which Jupyter does not echo)."""
    if isinstance(namespace, str | os.PathLike):
        report = check_file(namespace, base_url=base_url, timeout=timeout)
    else:
        report = Report(_run(_LocalRunner(dict(namespace), timeout),
                             _Options(base_url, timeout), "globals()"))
    if not quiet:
        show(report)
    return report


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


def _open_trace(report: Report, file: str, prog: str) -> str | None:
    """--open: write the first traced function's steps to convstep-trace.json beside the
    learner's file and open the Learn page on them. The trace travels in the link's fragment
    (#trace=..., base64url JSON): a browser never sends a fragment to the server, so the
    server still never receives learner code or data, and it works offline, with nothing
    else to run. Returns the link (None when no looped function differs)."""
    function = next((f for f in report["functions"] if f in report.traces), None)
    if function is None:
        print(f"{prog}: --open: no loop of yours differs from the exercise's; nothing to "
              f"show beside it", file=sys.stderr)
        return None
    trace = report.traces[function]
    out = Path(file).resolve().parent / "convstep-trace.json"
    text = json.dumps(trace, separators=(",", ":"))
    try:
        out.write_text(text, encoding="utf-8")
        print(f"{prog}: your {function} loop written to {out}", file=sys.stderr)
    except OSError as exc:
        print(f"{prog}: --open: could not write {out}: {exc}", file=sys.stderr)
    link = report["functions"][function]["link"] + "#trace=" + trace_fragment(text)
    print(f"{prog}: opening {link.split('#')[0]} with your loop", file=sys.stderr)
    webbrowser.open(link)
    return link


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
    parser.add_argument("--open", action="store_true",
                        help="write your traced loop (convstep-trace.json, next to the file) "
                             "and open the Learn page on it, beside the exercise's")
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
    if args.open:
        _open_trace(report, args.file, prog)
    if report["notes"]["syntax_errors"]:
        for error in report["notes"]["syntax_errors"]:
            print(f"{prog}: cannot check that code: {error}", file=sys.stderr)
        return 2
    if not report["functions"]:
        print(f"{prog}: no function of the exercise could be checked in {args.file}",
              file=sys.stderr)
        return 2
    return 0 if all(r["ok"] for r in report["functions"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
