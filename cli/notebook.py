"""show(conv_forward): your function's steps beside the exercise's, inline in a notebook.

    from core.check import check, show
    check(globals())        # the report (HTML in Jupyter)
    show(conv_forward)      # your loop beside the right one, with a player

`show(fn)` takes one of the exercise's eight functions as the learner wrote it (the function
object; its name says which), checks it on the probe cases as `check` does, and draws the
probe case of its first difference (or the Learn path's case when it is right):

- the looped functions (conv_forward, pool_forward, conv_backward, pool_backward): one step
  per output cell, the exercise's window on a_prev_pad (or A_prev) beside the window the
  learner's loop used at that cell (cli/tracer.py), the right value and its arithmetic, the
  learner's value and line, the output filling in both ways (the right one in the
  exercise's order, the learner's in their loop's order, differing cells marked), the first
  differing step marked; a player (play/pause, prev/next, scrubber, the arrow keys);
- the others (zero_pad, conv_single_step, create_mask_from_window, distribute_value): the
  learner's output beside the right one, differing cells marked.

Every number comes from Python: the exercise's steps are the Learn page's own lesson of that
probe case (app/learn/lesson.py's case_lesson, built with core), the learner's from the
tracer; `widget_state` writes them, with the texts, into one JSON-ready dict, and the
front end (static/js/notebook/widget.js, drawn with static/js/kit/) only draws it.

In Jupyter the view is an anywidget (the optional extra: pip install "convstep[notebook]");
its front end is one ES module inlined from our own files (cli/esm.py), so nothing is
fetched from a CDN. Without anywidget, show() says in one line how to install it; outside
Jupyter it prints a text summary and the way to see the steps on the page (--open).
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from app.platform.paths import shipped_dir
from cli.check import BASE_URL, TIMEOUT_S, _LocalRunner, _Options, check_function
from cli.esm import inline_modules
from cli.learner import quiet
from cli.report import describe_difference, in_jupyter
from cli.tracer import LOOPED, UPSTREAM, page_trace, trace_call
from core.mistakes import Outcome, close, outcome_of, right_outcome
from core.probes import FUNCTIONS, OUTPUTS, arguments, cases_of, get_case

__all__ = ["INSTALL", "show", "widget_state"]

INSTALL = 'show() draws with anywidget: pip install "convstep[notebook]" (or anywidget==0.11.0)'
# the array each looped function's windows sit on, and the output its steps write
GRID = {"conv_forward": "A_prev_pad", "pool_forward": "A_prev",
        "conv_backward": "dA_prev_pad", "pool_backward": "dA_prev"}
OUTPUT = {"conv_forward": ("Z", "z"), "pool_forward": ("A", "value")}
BACKWARD = ("conv_backward", "pool_backward")
# the cell a step is: the output it writes (forward) or the upstream gradient it reads
STEP_CELL = {"conv_forward": "Z", "pool_forward": "A", "conv_backward": "dZ",
             "pool_backward": "dA"}


def _g(x) -> str:
    """0.5 -> '0.5', -1.0 -> '-1', 7.499999999 -> '7.5' (a number as a learner writes it)."""
    return f"{float(x):.6g}"


def _ix(*a) -> str:
    return "[" + ", ".join(str(int(x)) for x in a) + "]"


def _span(w) -> str:
    return f"rows {w[0][0]}:{w[0][1]}, columns {w[1][0]}:{w[1][1]}" if w else "no window"


def _l(a) -> list:
    a = np.asarray(a)
    return a.tolist() if a.dtype == bool else a.astype(np.float64).tolist()


def _range(*arrays) -> list[float]:
    vals = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    vals = vals[np.isfinite(vals)]
    return [float(vals.min()), float(vals.max())] if vals.size else [0.0, 1.0]


def _name_of(fn, name: str | None) -> str:
    name = name or getattr(fn, "__name__", None)
    if name not in FUNCTIONS:
        raise ValueError(f"show() takes one of the exercise's functions ({', '.join(FUNCTIONS)})"
                         f"; got {name!r} (pass name='conv_forward' for a function named "
                         f"otherwise)")
    if not callable(fn):
        raise TypeError(f"show() takes the function itself, e.g. show({name}), not "
                        f"{type(fn).__name__}")
    return name


def _default_case(function: str) -> str:
    """The case a right function is shown on: the first that is not the exercise's random
    check (the Learn path's gray image)."""
    names = [c.name for c in cases_of(function)]
    return next((n for n in names if n != "exercise"), names[0])


# ---------------------------------------------------------------------------------------------
# The exercise's steps: the Learn page's lesson of the probe case, and their texts.

def _lesson(function: str, case: str, step: int) -> dict:
    from app.learn.lesson import LessonOptions, case_lesson  # the page's own lesson builder

    return case_lesson(function, case, LessonOptions(), step)


def _right_lines(function: str, d: dict, s: dict) -> list[str]:
    """The exercise's variables at step s, written out with their numbers (from the lesson)."""
    stride = d["stride"]
    vs, ve, hs, he = s["vert_start"], s["vert_end"], s["horiz_start"], s["horiz_end"]
    i, h, w, c = s["i"], s["h"], s["w"], s["c"]
    lines = [f"vert_start = h * stride = {h} * {stride} = {vs}",
             f"horiz_start = w * stride = {w} * {stride} = {hs}"]
    if function == "conv_forward":
        lines += [f"a_slice_prev = a_prev_pad[{vs}:{ve}, {hs}:{he}, :]",
                  f"Z{_ix(i, h, w, c)} = np.sum(a_slice_prev * W[:, :, :, {c}]) + "
                  f"b[0, 0, 0, {c}] = {_g(s['total'])} + {_g(s['bias'])} = {_g(s['z'])}"]
    elif function == "pool_forward":
        op = "np.max" if d["mode"] == "max" else "np.mean"
        lines += [f"a_prev_slice = a_prev[{vs}:{ve}, {hs}:{he}, {c}]",
                  f"A{_ix(i, h, w, c)} = {op}(a_prev_slice) = {_g(s['value'])}"]
    elif function == "conv_backward":
        lines += [f"da_prev_pad[{vs}:{ve}, {hs}:{he}, :] += W[:, :, :, {c}] * "
                  f"dZ{_ix(i, h, w, c)}   (dZ{_ix(i, h, w, c)} = {_g(s['dz'])})"]
    else:
        share = ("create_mask_from_window(a_prev_slice) * " if d["mode"] == "max"
                 else "distribute_value(")
        tail = "" if d["mode"] == "max" else f", ({d['f']}, {d['f']}))"
        lines += [f"dA_prev[{i}, {vs}:{ve}, {hs}:{he}, {c}] += {share}dA{_ix(i, h, w, c)}"
                  f"{tail}   (dA{_ix(i, h, w, c)} = {_g(s['da'])})"]
    return lines


# ---------------------------------------------------------------------------------------------
# The state the front end draws.

def _replayed(trace: dict, function: str, image: int) -> list[tuple[str, np.ndarray] | None]:
    """A backward loop's own running gradient: per learner step of `image` (page_trace's
    order), (the array its window adds into, that array after the step), from the writes
    the tracer recorded (replayed, not recomputed). A cell the loop has not written yet is
    NaN; None from a write the tracer kept no values of (a large or fancy-indexed one)."""
    steps, events = trace["steps"], trace["events"]
    upstream = UPSTREAM[function]
    arrays: dict[str, np.ndarray] = {}
    broken: set[str] = set()
    out: list = []
    k = -1

    def close_step():
        if k >= 0 and steps[k]["position"] is not None and steps[k]["position"][0] == image:
            name = steps[k]["source"]
            ok = name in arrays and name not in broken
            out.append((name, arrays[name].copy()) if ok else None)

    for e in events:
        nxt = steps[k + 1] if k + 1 < len(steps) else None
        if (nxt is not None and e["kind"] == "read" and e["array"] == upstream
                and e["cells"] == nxt["cells"]):  # where the tracer's next step begins
            close_step()
            k += 1
        if e["kind"] != "write":
            continue
        name = e["array"]
        a = arrays.setdefault(name, np.full(e["shape"], np.nan))
        box = tuple(slice(lo, hi) for lo, hi in e["cells"])
        values = e.get("values", e.get("value"))
        size = int(np.prod([hi - lo for lo, hi in e["cells"]]))
        if values is None or np.size(values) != size:
            broken.add(name)
            continue
        a[box] = np.reshape(values, a[box].shape)
    close_step()
    return out


def _plane(a: np.ndarray, image: int, channel: int) -> np.ndarray:
    """(m, H, W, C) or (H, W, C) -> the (H, W) map of that image and channel."""
    return a[image, :, :, channel] if a.ndim == 4 else a[:, :, min(channel, a.shape[-1] - 1)]

def _loop_state(function: str, fn, result: dict, filename: str | None,
                traced: dict) -> dict:
    first = result.get("first_difference") or {}
    case = first.get("case") or _default_case(function)
    step = first.get("step") if first.get("step") is not None else 0
    d = _lesson(function, case, step)
    steps = [s for s in d["steps"] if s.get("kind", "step") == "step"]
    i = d["image"]
    if result["status"] == "timeout":  # run once more it would hang: no trace of it
        trace = {"function": function, "case": case, "error": result["message"],
                 "steps": [], "events": []}
    elif (function, case) in traced:  # the check traced it already
        trace = traced[function, case]
    else:  # it returned within the time limit on this case: traced, it returns too
        with quiet():
            trace = trace_call(fn, function, case, filename)
    mine = page_trace(function, trace, (i, 0, 0, 0))["steps"]
    backward = function in BACKWARD
    if backward:
        grid_name = f"{GRID[function]}[{i}, :, :, 0]" if function == "conv_backward" else None
    else:
        grid_name = f"{'a_prev_pad' if function == 'conv_forward' else 'a_prev'} = " \
                    f"{GRID[function]}[{i}, :, :, 0]"
    grid = np.asarray(d[GRID[function]] if not backward else d["steps"][0][GRID[function]])
    out = {"kind": "loop", "backward": backward, "image": i, "total_steps": d["total_steps"],
           "trace_note": (None if trace["error"] is None else
                          f"Your function {trace['error']}." if result["status"] == "timeout"
                          else f"Your function raised {trace['error']}.")}
    right_out = None
    if not backward:
        name = OUTPUT[function][0]
        right_out = np.asarray(d[name])[0]  # (n_H, n_W, n_C)
        out["output"] = {"name": name, "right": _l(right_out),
                         "range": _range(right_out, [t["value"] for t in mine
                                                     if t["value"] is not None] or [0])}
        out["grid"] = {"name": grid_name, "values": _l(grid[0, :, :, 0]), "range": _range(grid)}
    else:
        totals = np.stack([np.asarray(s[GRID[function]])[0] for s in steps])  # (k, H, W, C)
        out["grid"] = {"name": None, "values": None, "range": _range(totals)}
    for t in mine:  # whether the learner's step differs from the exercise's at that cell
        p = t["position"]
        t["differs"] = bool(right_out is not None and (
            t["value"] is None or p[1] >= right_out.shape[0] or p[2] >= right_out.shape[1]
            or p[3] >= right_out.shape[2]
            or not close(right_out[p[1], p[2], p[3]], t["value"]).all()))
    replay = _replayed(trace, function, i) if backward else []
    rows = []
    for s in steps:
        pos = [s["i"], s["h"], s["w"], s["c"]]
        same = [k for k, t in enumerate(mine) if t["position"] == pos]
        yours = (same[0] if backward else same[-1]) if same else None
        window = [[s["vert_start"], s["vert_end"]], [s["horiz_start"], s["horiz_end"]]]
        row = {"index": s["index"], "position": pos, "window": window,
               "label": f"{STEP_CELL[function]}{_ix(*pos)}",
               "lines": _right_lines(function, d, s), "yours": yours}
        if backward:
            c = 0 if function == "conv_backward" else s["c"]
            total = np.asarray(s[GRID[function]])[0, :, :, c]
            row["grid"] = {"name": f"{GRID[function]}[{i}, :, :, {c}] after this step",
                           "values": _l(total)}
            row["yours_grid"] = _your_grid(replay[yours] if yours is not None else None,
                                           i, c, total)
        else:
            row["value"] = float(s[OUTPUT[function][1]])
        t = mine[yours] if yours is not None else None
        row["differs"] = t is None or t["window"] != window or t["differs"]
        rows.append(row)
    out["steps"] = rows
    out["yours"] = mine
    # the step the checker found first differing; a difference at the crop after the loop
    # (conv_backward's dA_prev) is no step's: the steps are then shown without a mark
    at = None
    if first and first.get("phase") != "crop":
        at = next((k for k, r in enumerate(rows) if r["index"] == first.get("step")), None)
        if at is None:  # a step of another image, or no step (a shape): the first that differs
            at = next((k for k, r in enumerate(rows) if r["differs"]), None)
    out["first"] = at
    out["start"] = at or 0
    return out


def _your_grid(replayed, image: int, channel: int, right: np.ndarray) -> dict | None:
    """The learner's running gradient after their step, as the front end draws it: values
    (None where not written yet) and the written cells that differ from the right one."""
    if replayed is None:
        return None
    name, a = replayed
    plane = _plane(a, image, channel)
    written = ~np.isnan(plane)
    differs = (written & ~close(right, np.nan_to_num(plane)) if plane.shape == right.shape
               else np.zeros(plane.shape, dtype=bool))
    index = f"[{image}, :, :, {channel}]" if a.ndim == 4 else f"[:, :, {channel}]"
    return {"name": f"your {name}{index} after your step",
            "values": [[None if np.isnan(v) else float(v) for v in row] for row in plane],
            "differs": _l(differs)}


def _arrays_state(function: str, fn, result: dict) -> dict:
    first = result.get("first_difference") or {}
    case = first.get("case") or _default_case(function)
    name = OUTPUTS[function][0]
    right = right_outcome(function, case).arrays[name]
    if result["status"] == "timeout":  # run once more it would hang
        got = Outcome(error=result["message"])
    else:
        with quiet():
            try:
                got = outcome_of(function, fn(*arguments(get_case(function, case))))
            except Exception as exc:  # the learner's error is what their function did
                got = Outcome(error=f"{type(exc).__name__}: {exc}")
    mine = got.arrays.get(name) if got.arrays else None
    out = {"kind": "arrays", "output": name}

    def plane(a):  # the first image's first channel, as the page shows it
        a = np.asarray(a, dtype=np.float64)
        while a.ndim > 2:
            a = a[0] if a.shape[0] and a.ndim == 4 else a[..., 0]
        return a.reshape(1, -1) if a.ndim < 2 else a

    r2 = plane(right)
    out["right"] = {"name": f"right {name}", "values": _l(r2), "shape": list(np.shape(right))}
    if mine is None:
        out["yours"] = None
        out["note"] = got.error or "no output"
        out["differs"] = None
    else:
        m2 = plane(mine)
        out["yours"] = {"name": f"your {name}", "values": _l(m2), "shape": list(np.shape(mine))}
        if np.shape(mine) == np.shape(right):
            out["differs"] = _l(~close(r2, m2))
            out["note"] = None
        else:  # the first image's first channel of each, and no cell compared
            out["differs"] = None
            out["note"] = (f"your {name} has shape {tuple(np.shape(mine))}, the right one "
                           f"{tuple(np.shape(right))}")
    out["range"] = _range(r2, plane(mine) if mine is not None else r2)
    out["case"] = case
    return out


class _Runner(_LocalRunner):
    """The checker's runner in this process, keeping the traces it takes (the check traces a
    looped function that differs; the widget draws that same trace: traced once, not twice)."""

    def __init__(self, ns: dict, timeout: float):
        super().__init__(ns, timeout)
        self.raw: dict[tuple[str, str], dict] = {}

    def trace(self, function: str, case_name: str) -> dict | None:
        trace = super().trace(function, case_name)
        if trace is not None:
            self.raw[function, case_name] = trace
        return trace


def widget_state(fn, name: str | None = None, *, base_url: str = BASE_URL,
                 timeout: float = TIMEOUT_S, filename: str | None = None) -> dict:
    """What the widget draws for the learner's `fn` (JSON-ready): the check's verdict, the
    probe case, and the exercise's and the learner's steps (looped functions) or outputs."""
    function = _name_of(fn, name)
    runner = _Runner({function: fn}, timeout)
    result = check_function(runner, function, _Options(base_url, timeout))
    first = result.get("first_difference")
    state = {"version": 1, "function": function, "status": result["status"],
             "ok": result["ok"], "message": result["message"], "link": result["link"],
             "difference": describe_difference(first) if first else None}
    body = (_loop_state(function, fn, result, filename, runner.raw) if function in LOOPED
            else _arrays_state(function, fn, result))
    case = get_case(function, body.get("case") or (first or {}).get("case")
                    or _default_case(function))
    state.update(body, case=case.name, case_title=case.title)
    return state


# ---------------------------------------------------------------------------------------------
# The front end and the widget.

WIDGET_JS = ("js", "notebook", "widget.js")
WIDGET_CSS = ("css", "notebook.css")


@functools.cache
def widget_esm() -> str:
    """The widget's front end as one ES module (static/js/notebook/widget.js with the kit
    modules it imports inlined: a blob URL resolves no relative import)."""
    return inline_modules(shipped_dir("static").joinpath(*WIDGET_JS))


@functools.cache
def widget_css() -> str:
    return shipped_dir("static").joinpath(*WIDGET_CSS).read_text(encoding="utf-8")


@functools.cache
def _widget_class():
    import anywidget
    import traitlets

    class StepWidget(anywidget.AnyWidget):
        """The step view of one learner function (its state: widget_state's dict)."""

        _esm = widget_esm()
        _css = widget_css()
        data = traitlets.Dict().tag(sync=True)

    return StepWidget


def text_summary(state: dict) -> str:
    """show() outside Jupyter: the verdict, where it differs, and how to see the steps."""
    f = state["function"]
    lines = [f"{'ok  ' if state['ok'] else 'FAIL'} {f}: {state['message']}",
             f"     on probe case {state['case']}: {state['case_title']}"]
    if state["difference"]:
        lines.append(f"     first difference: {state['difference']}")
    if state["kind"] == "loop" and state["first"] is not None:
        row = state["steps"][state["first"]]
        k = row["yours"]
        t = state["yours"][k] if k is not None else None
        lines.append(f"     right: {_span(row['window'])}; " + row["lines"][-1])
        lines.append(f"     yours: {_span(t['window']) if t else 'never reached'}"
                     + (f" (line {t['line']}: {t['code']})" if t else ""))
    if state["link"]:
        lines.append(f"     on the page: {state['link']} (convstep serve)")
        lines.append("     your loop beside the right one: convstep check your_file.py --open")
    lines.append("     in Jupyter, show() draws these steps with a player (anywidget)")
    return "\n".join(lines)


def show(fn, *, name: str | None = None, base_url: str = BASE_URL,
         timeout: float = TIMEOUT_S):
    """Your function's steps beside the exercise's: a widget in Jupyter (returned, so the
    cell shows it), a text summary elsewhere (returns None)."""
    state = widget_state(fn, name, base_url=base_url, timeout=timeout)
    if not in_jupyter():
        print(text_summary(state))
        return None
    try:
        widget = _widget_class()
    except ImportError:
        print(text_summary(state))
        print(INSTALL, file=sys.stderr)
        return None
    return widget(data=state)
