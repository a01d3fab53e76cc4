"""Learn mode's lesson: the exercise's eight functions run by core, step by step.

The path walks the checker's probe cases (core/probes.py), chosen so that every classic
mistake of the exercise (core/mistakes.py) changes the numbers: a non-square 5 x 7 gray
image of small integers with tied maxima, two 3 x 3 filters without symmetry, biases 0.5 and
-1, conv stride 2 with pad 1 and pad 0 (the `[pad:-pad]` crop is empty at pad 0), an
overlapping pool (f 3, stride 1: `=` instead of `+=` loses gradient) and upstream gradients
of small integers that are neither ones nor constant. Mistake mode (and the checker's links)
opens one function on one named probe case instead.

Every number the page writes comes from here: window corners, slices, products, sums, masks,
shares, and the running gradients after each step (core's traces and running totals). The
page only draws and formats them. A case of several images walks one image at a time (the
one holding the step asked for), so a page stays small.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import core
from app.platform.schemas.common import PadMode, PoolMode, TieRule
from core.geometry import POOL_MODES
from core.learn.listing import listing_json
from core.learn.source import option_edits
from core.mistakes import MISTAKE_IDS, default_case, variant
from core.probes import FUNCTIONS, get_case

Upstream = Literal["probe", "output", "ones"]

# The path: which probe case each function walks, per pad (conv) or pool mode.
PATH_CASES = {
    "zero_pad": {"1": "gray_pad1", "0": "gray_pad0"},
    "conv_forward": {"1": "gray_s2_p1", "0": "gray_s2_p0"},
    "conv_backward": {"1": "gray_s2_p1", "0": "gray_s2_p0"},
    "pool_forward": {"max": "gray_f3_s1_max"},  # average: the same input and window
    "pool_backward": {"max": "gray_f3_s1_max", "average": "gray_f3_s1_average"},
}
# conv_single_step is shown on the window of output pixel (h, w) = (1, 2) of filter 0.
SINGLE_STEP_AT = (1, 2)
PADS = ("1", "0")
MODES = POOL_MODES  # the path walks both pool modes, in core's order


@dataclass(frozen=True)
class LessonOptions:
    """The extras under "More" (the defaults are the exercise's own choices)."""

    dilation: int = 1
    pad_mode: PadMode = "constant"
    tie_rule: TieRule = "all"  # the exercise's create_mask_from_window: x == np.max(x)
    upstream: Upstream = "probe"  # dZ, dA: the probe cases' small integers


def _l(a) -> list:
    """ndarray -> nested lists of Python floats (booleans stay booleans)."""
    a = np.asarray(a)
    return a.tolist() if a.dtype == bool else a.astype(np.float64).tolist()


def _corners(s) -> dict:
    """Where a step is (a core step record or its dict): index, i, h, w, c, the corners."""
    get = s.get if isinstance(s, dict) else lambda k: getattr(s, k)
    return {k: int(get(k)) for k in ("index", "i", "h", "w", "c", "vert_start", "vert_end",
                                     "horiz_start", "horiz_end")}


def _image_range(shape, step: int) -> tuple[int, int, int]:
    """(image, first step, number of steps) of the image holding loop step `step`."""
    per = int(np.prod(shape[1:]))
    image = min(max(0, step) // per, shape[0] - 1)
    return image, image * per, per


def _walk(shape, step: int) -> dict:
    image, offset, per = _image_range(shape, step)
    return {"image": image, "m": int(shape[0]), "step_offset": offset,
            "total_steps": int(np.prod(shape))}, offset, per


def _image_page(shape, step: int, trace, *args, **kw):
    """(walk, image, page): the walk of the image holding loop step `step` of an output of
    `shape`, and that image's steps from `trace(*args, **kw, offset=.., limit=..)`."""
    walk, offset, per = _walk(shape, step)
    return walk, walk["image"], trace(*args, **kw, offset=offset, limit=per)


# ---------------------------------------------------------------------------------------
# one builder per function, from the function's own inputs (the exercise's argument names)

def zero_pad_lesson(X, pad, o: LessonOptions) -> dict:
    """zero_pad(X, pad): one step per row of X_pad[0] (np.pad is one call; the rows show
    which row of X each padded row copies)."""
    X = np.asarray(X, dtype=np.float64)
    X_pad = core.zero_pad(X, pad, pad_mode=o.pad_mode)
    n_H = X.shape[1]
    steps = []
    for q in range(X_pad.shape[1]):
        p = q - pad
        if 0 <= p < n_H:
            src = p
        elif o.pad_mode == "edge":
            src = 0 if p < 0 else n_H - 1
        elif o.pad_mode == "reflect":
            src = -p if p < 0 else 2 * (n_H - 1) - p
        else:
            src = None
        steps.append({"index": q, "row": q, "source_row": src, "inside": 0 <= p < n_H,
                      "values": _l(X_pad[0, q, :, 0])})
    return {"X": _l(X[:1]), "X_shape": list(X.shape), "pad": int(pad), "pad_mode": o.pad_mode,
            "X_pad": _l(X_pad[:1]), "X_pad_shape": list(X_pad.shape), "steps": steps}


def conv_single_step_lesson(a_slice_prev, W, b, window: dict | None = None) -> dict:
    """conv_single_step: one step per product (loop order r, s, channel), the sum, + b."""
    a = np.asarray(a_slice_prev, dtype=np.float64)
    Wc = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    products = a * Wc
    total = float(np.sum(products))
    Z = core.conv_single_step(a, Wc, b)
    steps = [{"kind": "product", "r": r, "s": q, "ch": ch, "a": float(a[r, q, ch]),
              "w": float(Wc[r, q, ch]), "p": float(products[r, q, ch])}
             for r, q, ch in np.ndindex(a.shape)]
    steps.append({"kind": "sum", "total": total})
    steps.append({"kind": "bias", "total": total, "b": float(b.item()), "z": float(Z)})
    for k, step in enumerate(steps):
        step["index"] = k
    return {"window": window, "a_slice_prev": _l(a), "W": _l(Wc), "b": float(b.item()),
            "Z": float(Z), "products": _l(products), "steps": steps}


def conv_forward_lesson(A_prev, W, b, hparameters, o: LessonOptions, step: int = 0) -> dict:
    A_prev = np.asarray(A_prev, dtype=np.float64)
    hp = {"stride": hparameters["stride"], "pad": hparameters["pad"]}
    kw = {"pad_mode": o.pad_mode, "dilation": o.dilation}
    g = core.conv_geometry(A_prev.shape[1], A_prev.shape[2], W.shape[0], stride=hp["stride"],
                           pad=hp["pad"], dilation=o.dilation)
    Z, _ = core.conv_forward(A_prev, W, b, hp, **kw)
    walk, i, page = _image_page(Z.shape, step, core.conv_forward_trace, A_prev, W, b, hp, **kw)
    steps = [{**_corners(s), "a_slice": _l(s.a_slice), "weights": _l(s.weights),
              "products": _l(s.products), "total": s.total, "bias": s.bias, "z": s.z}
             for s in page.steps]
    return {**walk, "A_prev": _l(A_prev[i:i + 1]),
            "A_prev_pad": _l(core.zero_pad(A_prev[i:i + 1], hp["pad"], pad_mode=o.pad_mode)),
            "W": _l(W), "b": _l(b), "stride": hp["stride"], "pad": hp["pad"],
            "dilation": o.dilation, "pad_mode": o.pad_mode, "geometry": g.to_dict(),
            "Z": _l(Z[i:i + 1]), "steps": steps}


def conv_backward_lesson(dZ, A_prev, W, b, hparameters, o: LessonOptions, step: int = 0,
                         upstream: str = "probe") -> dict:
    """conv_backward: each step's additions and the running da_prev_pad, dW, db after it,
    then the crop dA_prev = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]."""
    A_prev = np.asarray(A_prev, dtype=np.float64)
    hp = {"stride": hparameters["stride"], "pad": hparameters["pad"]}
    kw = {"pad_mode": o.pad_mode, "dilation": o.dilation}
    Z, cache = core.conv_forward(A_prev, W, b, hp, **kw)
    if upstream == "probe" and np.shape(dZ) != Z.shape:
        upstream = "output"  # dilation changed Z's shape: the probe's dZ does not fit
    if upstream == "output":
        dZ = Z
    elif upstream == "ones":
        dZ = np.ones_like(Z)
    dZ = np.asarray(dZ, dtype=np.float64)
    g = core.conv_geometry(A_prev.shape[1], A_prev.shape[2], W.shape[0], stride=hp["stride"],
                           pad=hp["pad"], dilation=o.dilation)
    dA_prev, dW, db = core.conv_backward(dZ, cache)
    walk, offset, per = _walk(dZ.shape, step)
    i = walk["image"]
    page = core.conv_backward_trace(dZ, cache, offset=offset, limit=per)
    forward = core.conv_forward_trace(A_prev, W, b, hp, **kw, offset=offset, limit=per)
    steps = []
    for s, fs in zip(page.steps, forward.steps, strict=True):
        da_pad, dW_k, db_k = core.conv_backward_totals(dZ, cache, s.index)
        steps.append({**_corners(s), "kind": "step", "dz": s.dz, "da_add": _l(s.da_add),
                      "dw_add": _l(s.dw_add), "db_running": s.db_running,
                      "a_slice": _l(fs.a_slice), "dA_prev_pad": _l(da_pad[i:i + 1]),
                      "dW": _l(dW_k), "db": _l(db_k)})
    last = steps[-1]
    dW_i, db_i = last["dW"], last["db"]
    steps.append({"index": offset + per, "kind": "crop", "i": i,
                  "dA_prev_pad": last["dA_prev_pad"], "dW": dW_i, "db": db_i,
                  "dA_prev": _l(dA_prev[i:i + 1])})
    return {**walk, "dZ": _l(dZ[i:i + 1]), "A_prev": _l(A_prev[i:i + 1]),
            "A_prev_pad": _l(core.zero_pad(A_prev[i:i + 1], hp["pad"], pad_mode=o.pad_mode)),
            "W": _l(W), "stride": hp["stride"], "pad": hp["pad"], "dilation": o.dilation,
            "pad_mode": o.pad_mode, "geometry": g.to_dict(), "upstream": upstream,
            "dA_prev": _l(dA_prev[i:i + 1]), "dW": _l(dW), "db": _l(db), "steps": steps}


def pool_forward_lesson(A_prev, hparameters, mode, o: LessonOptions, step: int = 0) -> dict:
    A_prev = np.asarray(A_prev, dtype=np.float64)
    hp = {"f": hparameters["f"], "stride": hparameters["stride"]}
    A, _ = core.pool_forward(A_prev, hp, mode=mode)
    g = core.pool_geometry(A_prev.shape[1], A_prev.shape[2], hp["f"], stride=hp["stride"])
    walk, i, page = _image_page(A.shape, step, core.pool_forward_trace, A_prev, hp, mode=mode,
                                tie_rule=o.tie_rule)
    steps = []
    for s in page.steps:
        window = np.asarray(s.window)
        is_max = core.create_mask_from_window(window)  # x == np.max(x), whatever the tie rule
        steps.append({**_corners(s), "window": _l(window), "value": s.value,
                      "argmax": list(s.argmax) if s.argmax is not None else None,
                      "mask": _l(s.mask) if s.mask is not None else None,
                      "is_max": _l(is_max), "ties": int(np.count_nonzero(is_max)),
                      # the sum the mean divides (average mode)
                      "window_sum": float(window.sum()), "count": int(window.size)})
    return {**walk, "A_prev": _l(A_prev[i:i + 1]), "f": hp["f"], "stride": hp["stride"],
            "mode": mode, "tie_rule": o.tie_rule, "geometry": g.to_dict(),
            "A": _l(A[i:i + 1]), "steps": steps}


def create_mask_lesson(x=None, pool: dict | None = None) -> dict:
    """create_mask_from_window(x): mask = (x == np.max(x)); on one x (a probe case), or on
    every window of a max-pool lesson (the path)."""
    windows = ([(np.asarray(s["window"]), _corners(s)) for s in pool["steps"]] if pool
               else [(np.asarray(x, dtype=np.float64), None)])
    steps = []
    for k, (xw, where) in enumerate(windows):
        mask = core.create_mask_from_window(xw)
        steps.append({**(where or {"index": k}), "index": k, "x": _l(xw),
                      "max": float(np.max(xw)), "mask": _l(mask),
                      "count": int(np.count_nonzero(mask))})
    out = {"steps": steps}
    if pool:
        out.update({"A_prev": pool["A_prev"], "f": pool["f"], "stride": pool["stride"],
                    "image": pool["image"]})
    return out


def distribute_lesson(dz=None, shape=None, backward: dict | None = None) -> dict:
    """distribute_value(dz, shape): average = dz / (n_H * n_W) in every cell; on one dz (a
    probe case), or on every dz of an average-pool backward lesson (the path)."""
    if backward:
        f = backward["f"]
        dA = np.asarray(backward["dA"])
        entries = [(float(dA[i, h, w, c]), {"i": backward["image"], "h": h, "w": w, "c": c})
                   for i, h, w, c in np.ndindex(dA.shape)]
        shape = (f, f)
    else:
        entries = [(float(dz), None)]
        shape = tuple(int(n) for n in shape)
    steps = []
    for k, (value, where) in enumerate(entries):
        a = core.distribute_value(value, shape)
        steps.append({"index": k, **(where or {}), "dz": value, "n_H": shape[0],
                      "n_W": shape[1], "average": float(a.flat[0]), "a": _l(a)})
    out = {"shape": list(shape), "steps": steps}
    if backward:
        out.update({"dA": backward["dA"], "image": backward["image"]})
    return out


def pool_backward_lesson(dA, A_prev, hparameters, mode, o: LessonOptions, step: int = 0,
                         upstream: str = "probe") -> dict:
    A_prev = np.asarray(A_prev, dtype=np.float64)
    hp = {"f": hparameters["f"], "stride": hparameters["stride"]}
    A, cache = core.pool_forward(A_prev, hp, mode=mode)
    if upstream == "output":
        dA = A
    elif upstream == "ones":
        dA = np.ones_like(A)
    dA = np.asarray(dA, dtype=np.float64)
    dA_prev = core.pool_backward(dA, cache, mode=mode, tie_rule=o.tie_rule)
    walk, i, page = _image_page(dA.shape, step, core.pool_backward_trace, dA, cache, mode=mode,
                                tie_rule=o.tie_rule)
    steps = []
    for s in page.steps:
        window = A_prev[s.i, s.vert_start:s.vert_end, s.horiz_start:s.horiz_end, s.c]
        total = core.pool_backward_totals(dA, cache, s.index, mode=mode, tie_rule=o.tie_rule)
        steps.append({**_corners(s), "da": s.da, "route": _l(s.route), "added": _l(s.added),
                      "window": _l(window), "dA_prev": _l(total[i:i + 1])})
    return {**walk, "A_prev": _l(A_prev[i:i + 1]), "dA": _l(dA[i:i + 1]), "f": hp["f"],
            "stride": hp["stride"], "mode": mode, "tie_rule": o.tie_rule,
            "upstream": upstream, "dA_prev": _l(dA_prev[i:i + 1]), "steps": steps}


def case_lesson(fn: str, case: str, o: LessonOptions, step: int = 0) -> dict:
    """One function's lesson on one probe case (mistake mode, the checker's links)."""
    v = get_case(fn, case).inputs
    if fn == "zero_pad":
        return zero_pad_lesson(v["X"], v["pad"], o)
    if fn == "conv_single_step":
        return conv_single_step_lesson(v["a_slice_prev"], v["W"], v["b"])
    if fn == "conv_forward":
        return conv_forward_lesson(v["A_prev"], v["W"], v["b"], v["hparameters"], o, step)
    if fn == "conv_backward":
        return conv_backward_lesson(v["dZ"], v["A_prev"], v["W"], v["b"], v["hparameters"], o,
                                    step)
    if fn == "pool_forward":
        return pool_forward_lesson(v["A_prev"], v["hparameters"], v["mode"], o, step)
    if fn == "create_mask_from_window":
        return create_mask_lesson(v["x"])
    if fn == "distribute_value":
        return distribute_lesson(v["dz"], v["shape"])
    return pool_backward_lesson(v["dA"], v["A_prev"], v["hparameters"], v["mode"], o, step)


# ---------------------------------------------------------------------------------------

def _numbers(v):
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, int | float):
        yield float(v)
    elif isinstance(v, list) and (not v or not isinstance(v[0], dict)):
        for x in v:
            yield from _numbers(x)


def _ranges(data: dict, out: dict | None = None) -> dict:
    """{key: [min, max]} over every numeric array or number stored under that key, in the
    data and in its steps (the page's colour scales stay fixed while the steps run)."""
    out = {} if out is None else out
    for key, value in data.items():
        if isinstance(value, dict):
            _ranges(value, out)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                _ranges(item, out)
        else:
            vals = list(_numbers(value))
            if vals and key not in ("index", "i", "h", "w", "c", "r", "s", "ch"):
                lo, hi = out.get(key, (min(vals), max(vals)))
                out[key] = [min(lo, *vals), max(hi, *vals)]
    return out


def _inputs(fn: str, key: str) -> dict:
    return get_case(fn, PATH_CASES[fn][key]).inputs


def build_lesson(options: LessonOptions | None = None) -> dict:
    """The path for these options (built once per options: the page's answers share it and
    never change it)."""
    return _build_lesson(options or LessonOptions())


@lru_cache(maxsize=64)
def _build_lesson(o: LessonOptions) -> dict:
    """Every function of the exercise on the path, for pad 1 and 0 and both pool modes.

    {"options", "order", "cases", "functions": {name: {variant: data}}}: conv functions are
    keyed by pad ("1", "0"), pool functions by mode ("max", "average";
    create_mask_from_window only "max", distribute_value only "average"). "cases" names the
    probe case behind each variant.
    """
    up = o.upstream
    fns: dict[str, dict] = {name: {} for name in FUNCTIONS}
    for pad in PADS:
        v = _inputs("zero_pad", pad)
        fns["zero_pad"][pad] = zero_pad_lesson(v["X"], v["pad"], o)
        v = _inputs("conv_forward", pad)
        forward = conv_forward_lesson(v["A_prev"], v["W"], v["b"], v["hparameters"], o)
        fns["conv_forward"][pad] = forward
        h, w = (min(n, forward["geometry"][k] - 1)
                for n, k in zip(SINGLE_STEP_AT, ("n_H", "n_W"), strict=True))
        s = next(s for s in forward["steps"] if (s["h"], s["w"], s["c"]) == (h, w, 0))
        fns["conv_single_step"][pad] = conv_single_step_lesson(
            s["a_slice"], s["weights"], np.asarray(v["b"])[:, :, :, 0], window=_corners(s))
        v = _inputs("conv_backward", pad)
        fns["conv_backward"][pad] = conv_backward_lesson(
            v["dZ"], v["A_prev"], v["W"], v["b"], v["hparameters"], o, upstream=up)
    pool_in = _inputs("pool_forward", "max")
    for mode in MODES:
        fns["pool_forward"][mode] = pool_forward_lesson(pool_in["A_prev"],
                                                        pool_in["hparameters"], mode, o)
        v = _inputs("pool_backward", mode)
        fns["pool_backward"][mode] = pool_backward_lesson(
            v["dA"], v["A_prev"], v["hparameters"], mode, o, upstream=up)
    fns["create_mask_from_window"]["max"] = create_mask_lesson(pool=fns["pool_forward"]["max"])
    fns["distribute_value"]["average"] = distribute_lesson(
        backward=fns["pool_backward"]["average"])
    for variants in fns.values():
        for data in variants.values():
            data["ranges"] = _ranges(data)
    return {"options": asdict(o), "order": list(FUNCTIONS), "cases": PATH_CASES,
            "functions": fns, "code": code_listing(o)}


def code_listing(o: LessonOptions) -> dict[str, list[dict]]:
    """The exercise's code as the page shows it with these extras: {function: [{id, text}]},
    derived from core/learn/source.py (the page never retypes it; step highlights and
    mistake marks refer to the ids)."""
    return listing_json(option_edits(dilation=o.dilation, pad_mode=o.pad_mode,
                                     tie_rule=o.tie_rule))


# ---------------------------------------------------------------------------------------
# the page's query, the site nav, the boot data

FunctionName = Literal[FUNCTIONS]  # type: ignore[valid-type]
MistakeId = Literal[MISTAKE_IDS]  # type: ignore[valid-type]


class LearnQuery(BaseModel):
    """GET /learn's query: where to open (the checker's deep links) and the extras.

    /learn?fn=conv_forward&mistake=stride_missing&step=3 opens conv_forward at step 3 (counted
    from 0) in mistake mode, on the mistake's default probe case (or `case`). pad and mode
    pick the path's variant; the others are the extras under "More".
    """

    model_config = ConfigDict(extra="ignore")

    fn: FunctionName = "zero_pad"  # type: ignore[valid-type]
    step: int = Field(0, ge=0, le=1_000_000)
    mistake: MistakeId | None = None  # type: ignore[valid-type]
    flavour: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z_/]+$")
    case: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9_]+$")
    pad: int = Field(1, ge=0, le=1)
    mode: PoolMode = "max"
    dilation: int = Field(1, ge=1, le=2)
    pad_mode: PadMode = "constant"
    tie: TieRule = "all"
    upstream: Upstream = "probe"

    def options(self) -> LessonOptions:
        return LessonOptions(dilation=self.dilation, pad_mode=self.pad_mode,
                             tie_rule=self.tie, upstream=self.upstream)


class LessonError(ValueError):
    """A query naming a case or flavour that does not exist (the route makes it a 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _case_of(query: LearnQuery) -> str | None:
    """The probe case to open: the query's, else the mistake's default case."""
    if query.mistake is not None:
        try:
            v = variant(query.fn, query.mistake, query.flavour)
        except (KeyError, ValueError) as exc:
            field = "flavour" if query.flavour and "flavour" in str(exc) else "mistake"
            raise LessonError(field, str(exc).strip("'\"")) from exc
        return query.case or default_case(query.fn, query.mistake, v.flavour)
    return query.case


def _num(x: float) -> str:
    """0.5 -> "0.5", -1.0 -> "-1" (a hint's number as a learner writes it)."""
    return f"{float(x):g}"


@lru_cache(maxsize=1)
def settings_hints() -> dict[str, str]:
    """The settings' one-line hints, read from the path's probe cases (never retyped):
    {"pad": "stride 2, f 3, two filters, b = (0.5, -1)", "mode": "f 3, stride 1 ..."}."""
    conv = get_case("conv_forward", PATH_CASES["conv_forward"]["1"]).inputs
    W, b = np.asarray(conv["W"]), np.asarray(conv["b"]).reshape(-1)
    n_C = W.shape[3]
    filters = {1: "one filter", 2: "two filters", 3: "three filters"}.get(n_C, f"{n_C} filters")
    bias = f"b = ({', '.join(_num(x) for x in b)})" if n_C > 1 else f"b = {_num(b[0])}"
    pool = get_case("pool_forward", PATH_CASES["pool_forward"]["max"]).inputs["hparameters"]
    overlap = " (overlapping windows)" if pool["stride"] < pool["f"] else ""
    return {"pad": f"stride {conv['hparameters']['stride']}, f {W.shape[0]}, {filters}, {bias}",
            "mode": f"f {pool['f']}, stride {pool['stride']}{overlap}"}


def learn_boot(query: LearnQuery) -> dict:
    """The page's boot data: the path for the query's extras, where to open, and (mistake
    mode, a checker's link) the one function's lesson on its probe case."""
    o = query.options()
    boot = {"lesson": build_lesson(o), "open": query.model_dump(mode="json"), "case": None}
    name = _case_of(query)
    if name is not None:
        try:
            case = get_case(query.fn, name)
        except KeyError as exc:
            raise LessonError("case", str(exc).strip("'\"")) from exc
        boot["case"] = {"fn": query.fn, "name": name, "title": case.title,
                        "data": _case_data(query.fn, name, query.step),
                        "code": code_listing(LessonOptions())}  # the case's own settings
    return boot


@lru_cache(maxsize=32)
def _case_data(fn: str, name: str, step: int) -> dict:
    """A probe case's lesson, with the exercise's own settings (the mistakes are defined
    so); cached per (function, case, step) like the path."""
    data = case_lesson(fn, name, LessonOptions(), step)
    data["ranges"] = _ranges(data)
    return data
