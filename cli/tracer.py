"""What a learner's loop really did: their function run on a probe case under a tracer.

    from cli.tracer import trace_call
    t = trace_call(conv_forward, "conv_forward", "gray_s2_p1", "solution.py")
    t["steps"][0]  # {"position": [0, 0, 0, 0], "window": [[0, 3], [0, 3]], "source": "A_prev_pad",
                   #  "value": 1.5, "names": {"h": 0, "vert_start": 0, ...}, "line": 12,
                   #  "code": "Z[i, h, w, c] = conv_single_step(...)", "reads": [...]}

How: the probe case's arrays are handed to the function as `_Watched` views (an ndarray
subclass whose __getitem__ and __setitem__ log the cells they touch), and sys.settrace
follows the learner's own frames (the file's functions, helpers included): at each line it
notes the integer locals (the loop variables; the exercise's names h, w, c, vert_start, ...
where the learner used them) and turns every new array local into a watched view too, so an
`A_prev_pad = np.pad(...)` (a fresh array, whatever its name) or an `a_prev_pad =
A_prev_pad[i]` (a view) is followed as well. Every read or write is recorded in the
coordinates of its root array (a view's offset is decoded from its memory address and
strides), so a window read through `a_prev_pad[vs:ve, hs:he, :]` is the rows and columns
of A_prev_pad it covered. Vectorised code works the same: its steps are its array reads and
writes.

A step of the looped functions is what the page animates: for conv_forward and pool_forward
a write to the output (the window is the last read of the input before it, the value is what
was written), for conv_backward and pool_backward a read of one upstream gradient cell (dZ,
dA; the window is where the step then adds into dA_prev or da_prev_pad). A step's position is
that cell (i, h, w, c), so a learner's step lines up with the exercise's step of the same
position, whatever the learner's loop order or names.

This runs only in the checker's child process (or in a notebook's own process), on the
learner's machine: the server never runs learner code.
"""

from __future__ import annotations

import linecache
import math
import sys
from pathlib import Path

import numpy as np

from core.learn.differences import loop_shape
from core.probes import arguments, get_case
from core.trace import conv_forward_trace, pool_forward_trace

EXERCISE_NAMES = ("i", "h", "w", "c", "vert_start", "vert_end", "horiz_start", "horiz_end")
LOOPED = ("conv_forward", "conv_backward", "pool_forward", "pool_backward")
MAX_EVENTS = 20_000  # a probe case has at most a few hundred steps; a runaway loop stops here
# Which argument's cells a step is (backward: the upstream gradient read at each step)
UPSTREAM = {"conv_backward": "dZ", "pool_backward": "dA"}


class _Root:
    """An array the tracer follows: its label and its memory layout."""

    def __init__(self, label: str, array: np.ndarray):
        self.label = label
        self.shape = tuple(array.shape)
        self.strides = tuple(array.strides)
        self.address = array.__array_interface__["data"][0]
        self.nbytes = array.nbytes
        self.named = False  # labelled by the traced function itself (or an argument)


class _Tracer:
    def __init__(self, filename: str | None):
        self.filename = filename
        self.events: list[dict] = []
        self.roots: list[_Root] = []
        self.line: tuple[int, str, str] = (0, "", "")  # (line, code, function)
        self.names: dict = {}
        self.full = False
        self.top = None  # the traced function's frame
        self.max_events = MAX_EVENTS

    # -- roots and views --------------------------------------------------------------------
    def root_of(self, array: np.ndarray):
        """(root, index offset per root axis, root axis of each array axis) or None."""
        address = array.__array_interface__["data"][0]
        for root in reversed(self.roots):
            offset = address - root.address
            if not 0 <= offset < max(root.nbytes, 1):
                continue
            start = []
            for stride in root.strides:
                start.append(offset // stride if stride > 0 else 0)
                offset = offset % stride if stride > 0 else offset
            axes, used = [], set()
            for a, stride in enumerate(array.strides):
                match = next((r for r, s in enumerate(root.strides)
                              if s == stride and r not in used and array.shape[a] > 1), None)
                if match is None and array.shape[a] > 1:
                    break
                if match is not None:
                    used.add(match)
                axes.append(match)
            else:
                return root, start, axes
        return None

    def watch(self, array: np.ndarray, label: str) -> _Watched:
        if self.root_of(array) is None:
            root = _Root(label, array)
            # memory freed and reused: an old root there is gone
            self.roots = [r for r in self.roots if r.address + r.nbytes <= root.address
                          or root.address + root.nbytes <= r.address]
            root.named = self.top is None  # an argument keeps the exercise's name
            self.roots.append(root)
        view = array.view(_Watched)
        view._tracer = self
        return view

    # -- events -----------------------------------------------------------------------------
    def record(self, kind: str, array: np.ndarray, key, value=None) -> None:
        if self.full:
            return
        found = self.root_of(np.asarray(array).view(np.ndarray))
        if found is None:
            return
        root, start, axes = found
        plain = np.asarray(array).view(np.ndarray)
        ranges = [[s, s + 1] for s in start]
        basic = _basic(key, plain.shape)
        for a, r in enumerate(axes):
            if r is None:
                continue
            if basic is not None:
                lo, hi = basic[a]
                ranges[r] = [start[r] + lo, start[r] + hi]
                continue
            grid = np.broadcast_to(np.arange(plain.shape[a]).reshape(
                [-1 if b == a else 1 for b in range(plain.ndim)]), plain.shape)
            try:
                touched = np.asarray(grid[key])
            except Exception:  # the learner's own IndexError happens on the real read below
                return
            if touched.size == 0:
                ranges[r] = [start[r], start[r]]
                continue
            ranges[r] = [start[r] + int(touched.min()), start[r] + int(touched.max()) + 1]
        if not axes:
            ranges = [[s, s + 1] for s in start]
        line, code, function = self.line
        event = {"kind": kind, "array": root.label, "shape": list(root.shape),
                 "cells": ranges, "line": line, "code": code, "function": function,
                 "names": dict(self.names)}
        if value is not None:
            v = np.asarray(value, dtype=np.float64) if _numeric(value) else None
            if v is not None and v.size == 1:
                event["value"] = float(v.reshape(-1)[0])
            elif v is not None and v.size <= 64:
                event["values"] = v.tolist()
        self.events.append(event)
        if len(self.events) >= self.max_events:
            self.full = True
            sys.settrace(None)  # the rest runs at full speed

    # -- sys.settrace -----------------------------------------------------------------------
    def mine(self, frame) -> bool:
        name = frame.f_code.co_filename
        if self.filename is None:
            return not name.startswith((str(Path(np.__file__).parent), _HERE, "<frozen"))
        return name == self.filename or name.startswith(self.filename + ", code cell ")

    def __call__(self, frame, event, arg):
        if self.full or not self.mine(frame):
            frame.f_trace = None
            return None
        if self.top is None:
            self.top = frame
        if event == "return":  # back in the caller: its line and names again
            if frame is not self.top and frame.f_back is not None and self.mine(frame.f_back):
                self.at(frame.f_back, watch=False)
            return self
        if event in ("line", "call"):
            self.at(frame, watch=True)
        return self

    def at(self, frame, watch: bool) -> None:
        """Note the frame's line and integer locals; follow its new array locals."""
        self.line = (frame.f_lineno, linecache.getline(frame.f_code.co_filename,
                                                       frame.f_lineno).strip(),
                     frame.f_code.co_name)
        local = frame.f_locals
        self.names = {k: int(v) for k, v in local.items()
                      if isinstance(v, int | np.integer) and not isinstance(v, bool)}
        if not watch:
            return
        for k, v in list(local.items()):
            if type(v) is np.ndarray and v.ndim >= 3 and v.size > 1:
                local[k] = self.watch(v, k)  # written back when this returns
            if frame is self.top and isinstance(v, np.ndarray) and v.ndim >= 3:
                for root in self.roots:  # the traced function's own name for a root
                    if (root.address == v.__array_interface__["data"][0]
                            and root.shape == v.shape and not root.named):
                        root.label, root.named = k, True


_HERE = str(Path(__file__).resolve().parent)


def _basic(key, shape) -> list | None:
    """[lo, hi) per axis of a key of ints and step-1 slices (the common case, read without
    building index grids); None for anything else (fancy or boolean indexing, Ellipsis)."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > len(shape):
        return None
    out = []
    for k, n in zip(key, shape, strict=False):
        if isinstance(k, int | np.integer) and not isinstance(k, bool):
            k = int(k) + n if k < 0 else int(k)
            if not 0 <= k < n:
                return None
            out.append((k, k + 1))
        elif isinstance(k, slice):
            lo, hi, step = k.indices(n)
            if step != 1:
                return None
            out.append((lo, max(lo, hi)))
        else:
            return None
    return out + [(0, n) for n in shape[len(key):]]


def _numeric(value) -> bool:
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except Exception:
        return False


class _Watched(np.ndarray):
    """An ndarray whose item reads and writes are recorded; what it returns is plain."""

    _tracer: _Tracer | None = None

    def __array_finalize__(self, obj):
        self._tracer = getattr(obj, "_tracer", None)

    def __getitem__(self, key):
        out = np.ndarray.__getitem__(self.view(np.ndarray), key)
        if self._tracer is not None:
            self._tracer.record("read", self, key, out)
        return out

    def __setitem__(self, key, value):
        np.ndarray.__setitem__(self.view(np.ndarray), key, value)
        if self._tracer is not None:
            self._tracer.record("write", self, key,
                                np.ndarray.__getitem__(self.view(np.ndarray), key))

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        out = np.asarray(obj).view(np.ndarray)
        return out[()] if return_scalar and out.ndim == 0 else out


def _watched_arguments(tracer: _Tracer, function: str, case_name: str) -> tuple:
    case = get_case(function, case_name)
    args = arguments(case)
    names = {id(v): k for k, v in case.inputs.items()}  # arguments() copies: match by value

    def label_of(x):
        for k, v in case.inputs.items():
            if isinstance(v, np.ndarray) and v.shape == x.shape and np.array_equal(v, x):
                return k
        return names.get(id(x), "array")

    def wrap(x):
        if isinstance(x, np.ndarray) and x.size > 1 and x.ndim >= 3:
            return tracer.watch(x, label_of(x))
        if isinstance(x, tuple):
            return tuple(wrap(v) for v in x)
        return x

    return tuple(wrap(a) for a in args)


def trace_call(fn, function: str, case_name: str, filename: str | None,
               max_events: int = MAX_EVENTS) -> dict:
    """Run the learner's `fn` on a probe case under the tracer: {"function", "case",
    "events", "steps", "error", "truncated"} (JSON-ready; steps only for looped functions).
    After `max_events` reads and writes the rest runs untraced ("truncated")."""
    tracer = _Tracer(filename)
    tracer.max_events = max_events
    args = _watched_arguments(tracer, function, case_name)
    error = None
    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    except BaseException as exc:  # the learner's error is part of what their loop did
        error = f"{type(exc).__name__}: {exc}"
    finally:
        sys.settrace(old)
    events = tracer.events
    return {"function": function, "case": case_name, "error": error,
            "truncated": tracer.full, "events": events,
            "steps": steps_of(function, events) if function in LOOPED else []}


def _spatial(cells: list) -> list | None:
    """[[row_start, row_end], [col_start, col_end]] of a root's cells (rows, cols are the
    third and second axes from the end: (m, H, W, C) or (H, W, C))."""
    if len(cells) < 3:
        return [list(c) for c in cells[-2:]] if len(cells) == 2 else None
    return [list(cells[-3]), list(cells[-2])]


def steps_of(function: str, events: list[dict]) -> list[dict]:
    """The learner's steps: what the page animates, one per output cell written (forward)
    or upstream gradient cell read (backward), with the window and the arithmetic's inputs."""
    steps: list[dict] = []
    if function in UPSTREAM:
        upstream = UPSTREAM[function]
        starts = [n for n, e in enumerate(events) if e["kind"] == "read"
                  and e["array"] == upstream]
        # a step reads its dZ cell once per gradient (da_prev_pad, dW, db): one step per run
        starts = [n for k, n in enumerate(starts)
                  if k == 0 or events[n]["cells"] != events[starts[k - 1]]["cells"]]
        parameters = shapes_of_parameters(events)
        for k, n in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(events)
            write = next((x for x in events[n + 1:end] if x["kind"] == "write"
                          and x["shape"] not in parameters
                          and len(x["shape"]) >= 3), None)
            steps.append(_step(events[n], write, events[n].get("value"), events[n:end]))
        return steps
    # the output is the 4-D array written most often (not a padded copy filled once)
    counts: dict[str, int] = {}
    for e in events:
        if e["kind"] == "write" and _is_output(e, function):
            counts[e["array"]] = counts.get(e["array"], 0) + 1
    output = max(counts, key=counts.get) if counts else None
    last = 0
    for n, e in enumerate(events):
        if e["kind"] != "write" or e["array"] != output:
            continue
        reads = [x for x in events[last:n] if x["kind"] == "read" and x["array"] != e["array"]
                 and x["array"] not in ("W", "b") and len(x["cells"]) >= 3]
        window = reads[-1] if reads else None
        steps.append(_step(e, window, e.get("value"), events[last:n + 1]))
        last = n + 1
    return steps


def _is_output(e: dict, function: str) -> bool:
    return len(e["shape"]) == 4 and e["array"] not in ("A_prev", "W", "b")


def shapes_of_parameters(events: list[dict]) -> list:
    """The shapes of W and b (dW and db have them: not where a window is added)."""
    return list({tuple(e["shape"]): e["shape"] for e in events
                 if e["array"] in ("W", "b")}.values())


def _step(at: dict, window: dict | None, value, events: list[dict]) -> dict:
    cell = at["cells"]
    position = [a for a, _ in cell] if len(cell) == 4 else None
    w = window or {}
    weights = next((x for x in reversed(events) if x["array"] == "W" and x["kind"] == "read"),
                   None)
    bias = next((x for x in reversed(events) if x["array"] == "b" and x["kind"] == "read"),
                None)
    return {"position": position, "cells": cell, "value": value,
            "window": _spatial(w["cells"]) if w else None,
            "source": w.get("array"), "source_shape": w.get("shape"), "a_slice": w.get("values"),
            "weights": weights.get("values") if weights else None,
            "bias": bias.get("value") if bias else None,
            "names": at["names"], "line": at["line"], "code": at["code"],
            "function": at["function"],
            "window_code": w.get("code"), "window_line": w.get("line")}


def window_at(trace: dict, position, backward: bool) -> dict | None:
    """The learner's step at a loop position (i, h, w, c): the last that wrote that output
    cell (forward; the one that decides its value) or the first that read that upstream
    cell (backward). A vectorised step covering the cell counts. None if no step did."""
    if position is None:
        return None
    hits = [s for s in trace["steps"]
            if all(a <= p < b for p, (a, b) in zip(position, s["cells"], strict=False))
            and len(s["cells"]) == len(position)]
    if not hits:
        return None
    return hits[0] if backward else hits[-1]


def right_window(function: str, case_name: str, position) -> list:
    """The exercise's window of loop step (i, h, w, c) on a probe case, in the coordinates
    of the array it reads or adds into (the padded input for conv, the input for pool)."""
    inputs = get_case(function, case_name).inputs
    hp = inputs["hparameters"]
    f = int(inputs["W"].shape[0]) if function.startswith("conv") else int(hp["f"])
    stride = int(hp["stride"])
    _, h, w, _ = (int(p) for p in position)
    return [[h * stride, h * stride + f], [w * stride, w * stride + f]]


def in_padded(function: str, case_name: str, step: dict) -> list | None:
    """The learner's window in the coordinates of the padded input (where the exercise's
    window is drawn): a conv window read from (or added into) an unpadded array, the input
    itself, moves by `pad`; pool has no padding."""
    window = step["window"]
    if window is None or not function.startswith("conv"):
        return window
    inputs = get_case(function, case_name).inputs
    pad = int(inputs["hparameters"]["pad"])
    rows, cols = inputs["A_prev"].shape[1:3]
    shape = step.get("source_shape") or []
    if pad and len(shape) >= 3 and tuple(shape[-3:-1]) == (rows, cols):
        return [[a + pad, b + pad] for a, b in window]
    return window


def page_trace(function: str, trace: dict, position) -> dict:
    """What the Learn page draws beside the exercise's steps: the learner's steps of the
    image of the first difference (one per output or upstream cell, in their loop's order),
    each with its position (i, h, w, c), window in padded-input coordinates, the array it
    was of, the value and the learner's own line; conv_forward's and pool_forward's steps
    also carry their arithmetic beside the right step's (`arithmetic`, see step_arithmetic).
    JSON-ready and small (one image)."""
    i = int(position[0])
    right = _right_steps(function, trace["case"], i)
    steps = []
    for s in trace["steps"]:
        if s["position"] is None or s["position"][0] != i:
            continue
        step = {"position": s["position"], "window": in_padded(function, trace["case"], s),
                "source": s["source"], "value": s["value"], "a_slice": s["a_slice"],
                "line": s["window_line"] or s["line"],
                "code": s["window_code"] or s["code"],
                "write_line": s["line"], "write_code": s["code"]}
        if right is not None:
            step["arithmetic"] = step_arithmetic(function, trace["case"], s,
                                                 right.get(tuple(s["position"])))
        steps.append(step)
    return {"version": 1, "function": function, "case": trace["case"], "image": i,
            "error": trace["error"], "steps": steps}


def _right_steps(function: str, case_name: str, image: int) -> dict | None:
    """core's step records of one image of a probe case by position (i, h, w, c), for the
    forward functions (None for the others): what the right step computed."""
    if function not in ("conv_forward", "pool_forward"):
        return None
    args = arguments(get_case(function, case_name))
    shape = loop_shape(function, case_name)
    per = math.prod(shape[1:])
    if function == "conv_forward":
        page = conv_forward_trace(*args, offset=image * per, limit=per)
    else:  # the exercise's tie rule: every tied maximum (x == np.max(x))
        page = pool_forward_trace(*args, tie_rule="all", offset=image * per, limit=per)
    return {(s.i, s.h, s.w, s.c): s for s in page.steps}


def _numbers(values) -> np.ndarray | None:
    """Recorded values as finite floats (None when not recorded or not all finite: JSON
    has no NaN)."""
    if values is None:
        return None
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return out if out.size and np.all(np.isfinite(out)) else None


TERMS_MAX = 27  # a step's terms listed up to 3 x 3 x 3 (the link's fragment stays small)


def _short(x: float) -> float:
    """6 significant digits: what the page shows, and a small fragment."""
    return float(f"{x:.6g}")


def _conv_side(a: np.ndarray, w: np.ndarray, total: float, bias, value) -> dict:
    listed = a.size <= TERMS_MAX
    return {"kind": "conv", "count": int(a.size),
            "terms": [[_short(x), _short(y)] for x, y in zip(a.ravel(), w.ravel(),
                                                              strict=True)] if listed else None,
            "total": _short(total), "bias": None if bias is None else _short(bias),
            "value": None if value is None else _short(value),
            "adds_up": None if value is None or bias is None else bool(
                np.isclose(total + bias, value, rtol=1e-5, atol=1e-6))}


def _pool_side(op: str, window: np.ndarray, value) -> dict:
    listed = window.size <= TERMS_MAX
    return {"kind": "pool", "op": op, "count": int(window.size),
            "terms": [_short(x) for x in window.ravel()] if listed else None,
            "value": None if value is None else _short(value)}


def step_arithmetic(function: str, case_name: str, step: dict, right) -> dict:
    """A forward step's arithmetic as the learner's code did it, beside the right step's.

    conv_forward: {"yours": {"kind": "conv", "count": the number of products, "terms":
    [[a, w], ...] (the window's values and the weights the learner's code read, C order over
    (f, f, n_C_prev), broadcast as NumPy broadcasts them; null past TERMS_MAX), "total":
    the sum of a*w, "bias": the b it read (null when it read none through the tracer),
    "value": what it wrote, "adds_up": whether total + bias is that value (not so with a
    bias added to every product; null without a bias or a value)}, "right": the same
    from core's step record, "differs": per term, whether yours and the right one differ
    (null when not both listed with one count)}. pool_forward: "kind" "pool", "op" "max" or
    "mean", "terms" the window's values, "value". Numbers to 6 significant digits. A side is
    null when it is not known (a read too large to record, a step the right loop has not).
    """
    mode = get_case(function, case_name).inputs.get("mode")
    yours = right_side = None
    if function == "conv_forward":
        a, w = _numbers(step.get("a_slice")), _numbers(step.get("weights"))
        if a is not None and w is not None:
            try:
                a, w = np.broadcast_arrays(a, w)
            except ValueError:  # shapes NumPy cannot multiply: the learner's code raised
                a = None
        if a is not None and w is not None:
            yours = _conv_side(a, w, float((a * w).sum()), step.get("bias"), step.get("value"))
        if right is not None:
            right_side = _conv_side(right.a_slice, right.weights, float(right.total),
                                    float(right.bias), float(right.z))
    else:
        op = "max" if mode == "max" else "mean"
        a = _numbers(step.get("a_slice"))
        if a is not None:
            yours = _pool_side(op, a, step.get("value"))
        if right is not None:
            right_side = _pool_side(op, right.window, float(right.value))
    differs = None
    if (yours and right_side and yours["terms"] is not None and right_side["terms"] is not None
            and yours["count"] == right_side["count"]):
        apart = ~np.isclose(np.asarray(yours["terms"]), np.asarray(right_side["terms"]),
                            rtol=1e-5, atol=1e-6)
        differs = (apart.any(axis=1) if apart.ndim == 2 else apart).tolist()
    return {"yours": yours, "right": right_side, "differs": differs}


def trace_fragment(text: str) -> str:
    """The trace JSON as the Learn link's fragment value (base64url, no padding)."""
    import base64
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
