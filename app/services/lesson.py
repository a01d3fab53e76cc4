"""Learn mode's lesson: the exercise's eight functions run by core on one small preset.

The preset is chosen so that every classic mistake of the exercise changes the numbers
(core/mistakes.py names them): a non-square 5 x 7 gray input of small integers (so the
arithmetic reads by hand) with tied maxima in some pooling windows, two 3 x 3 filters that
are not symmetric (a height/width swap or a flip shows), a non-zero bias per filter, conv
stride 2 with pad 1 and pad 0 (the `[pad:-pad]` crop is empty at pad 0), an overlapping
pool (f 3, stride 1, so `=` instead of `+=` loses gradient) and an upstream gradient that
is neither ones nor constant (a distribute_value that ignores dz shows).

`build_lesson(options)` returns JSON-ready data: every step of every function with the
numbers the page writes out (window corners, slices, products, sums, masks, shares, the
running gradients after each step). The page only draws and formats them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import core

FUNCTIONS = ("zero_pad", "conv_single_step", "conv_forward", "conv_backward",
             "pool_forward", "create_mask_from_window", "distribute_value", "pool_backward")

# A_prev (m, n_H_prev, n_W_prev, n_C_prev) = (1, 5, 7, 1): small integers, two 7s and two 6s
# that tie inside 3 x 3 pooling windows.
A_PREV = np.array([[1, 3, 0, 2, 5, 1, 4],
                   [2, 0, 7, 1, 3, 8, 0],
                   [0, 2, 1, 4, 0, 2, 1],
                   [3, 7, 2, 0, 6, 1, 2],
                   [1, 4, 0, 3, 1, 0, 6]], dtype=np.float64).reshape(1, 5, 7, 1)
# W (f, f, n_C_prev, n_C) = (3, 3, 1, 2): a vertical-edge filter and a diagonal one.
W = np.stack([np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64),
              np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=np.float64)],
             axis=-1).reshape(3, 3, 1, 2)
B = np.array([1.0, -2.0]).reshape(1, 1, 1, 2)  # b (1, 1, 1, n_C)
STRIDE = 2
POOL = {"f": 3, "stride": 1}
# dA for pool_backward (1, 3, 5, 1): the pool output's shape, signed, with a 0.
DA_POOL = np.array([[2, -1, 3, 0, 1],
                    [-2, 4, 1, -3, 2],
                    [3, 0, -1, 2, -2]], dtype=np.float64).reshape(1, 3, 5, 1)
# conv_single_step is shown on the window of output pixel (h, w) = (1, 2) of filter 0.
SINGLE_STEP_AT = (1, 2)
PADS = (1, 0)
MODES = ("max", "average")

PadMode = Literal["constant", "reflect", "edge"]
TieRule = Literal["all", "first", "split"]
Upstream = Literal["exercise", "ones", "output"]


@dataclass(frozen=True)
class LessonOptions:
    """The extras under "More" (the page's defaults are the exercise's own choices)."""

    dilation: int = 1
    pad_mode: PadMode = "constant"
    tie_rule: TieRule = "all"  # the exercise's create_mask_from_window: x == np.max(x)
    upstream: Upstream = "exercise"  # dZ = Z as the exercise's test; dA = DA_POOL


def _l(a) -> list:
    """ndarray -> nested lists of Python floats."""
    return np.asarray(a, dtype=np.float64).tolist()


def _corners(s) -> dict:
    """Where a step is (a core step record or its dict): index, i, h, w, c, the corners."""
    get = s.get if isinstance(s, dict) else lambda k: getattr(s, k)
    return {k: int(get(k)) for k in ("index", "i", "h", "w", "c", "vert_start", "vert_end",
                              "horiz_start", "horiz_end")}


def _zero_pad(pad: int, o: LessonOptions) -> dict:
    """zero_pad(X, pad): one step per row of X_pad, with the row of X it copies."""
    X_pad = core.zero_pad(A_PREV, pad, pad_mode=o.pad_mode)
    n_H = A_PREV.shape[1]
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
    return {"X": _l(A_PREV), "pad": pad, "pad_mode": o.pad_mode, "X_pad": _l(X_pad),
            "steps": steps}


def _conv_forward(pad: int, o: LessonOptions) -> tuple[dict, np.ndarray, tuple]:
    hp = {"stride": STRIDE, "pad": pad}
    kw = {"pad_mode": o.pad_mode, "dilation": o.dilation}
    g = core.conv_geometry(A_PREV.shape[1], A_PREV.shape[2], W.shape[0], stride=STRIDE,
                           pad=pad, dilation=o.dilation)
    Z, cache = core.conv_forward(A_PREV, W, B, hp, **kw)
    page = core.conv_forward_trace(A_PREV, W, B, hp, **kw, offset=0, limit=Z.size)
    steps = [{**_corners(s), "a_slice": _l(s.a_slice), "weights": _l(s.weights),
              "products": _l(s.products), "total": s.total, "bias": s.bias, "z": s.z}
             for s in page.steps]
    data = {"A_prev": _l(A_PREV), "A_prev_pad": _l(core.zero_pad(A_PREV, pad,
                                                                  pad_mode=o.pad_mode)),
            "W": _l(W), "b": _l(B), "stride": STRIDE, "pad": pad, "dilation": o.dilation,
            "pad_mode": o.pad_mode, "geometry": g.to_dict(), "Z": _l(Z), "steps": steps}
    return data, Z, cache


def _conv_single_step(forward: dict) -> dict:
    """conv_single_step on one window of conv_forward: one step per product, the sum, + b."""
    h, w = SINGLE_STEP_AT
    n_H, n_W = forward["geometry"]["n_H"], forward["geometry"]["n_W"]
    h, w = min(h, n_H - 1), min(w, n_W - 1)
    s = next(s for s in forward["steps"] if (s["h"], s["w"], s["c"]) == (h, w, 0))
    a, Wc = np.array(s["a_slice"]), np.array(s["weights"])
    b = B[:, :, :, 0]
    Z = core.conv_single_step(a, Wc, b)
    steps = []
    for r, q, ch in np.ndindex(a.shape):
        steps.append({"kind": "product", "r": r, "s": q, "ch": ch, "a": a[r, q, ch],
                      "w": Wc[r, q, ch], "p": s["products"][r][q][ch]})
    steps.append({"kind": "sum", "total": s["total"]})
    steps.append({"kind": "bias", "total": s["total"], "b": float(b.item()), "z": float(Z)})
    for k, step in enumerate(steps):
        step["index"] = k
    return {"window": _corners(s), "a_slice_prev": s["a_slice"], "W": s["weights"],
            "b": float(b.item()), "Z": float(Z), "products": s["products"], "steps": steps}


def _upstream_conv(Z: np.ndarray, o: LessonOptions) -> np.ndarray:
    return np.ones_like(Z) if o.upstream == "ones" else Z  # the exercise: conv_backward(Z, ..)


def _conv_backward(forward: dict, Z: np.ndarray, cache: tuple, o: LessonOptions) -> dict:
    """conv_backward: every step's additions and the running dA_prev_pad, dW, db after it,
    then the crop dA_prev = dA_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]."""
    dZ = _upstream_conv(Z, o)
    dA_prev, dW, db = core.conv_backward(dZ, cache)
    page = core.conv_backward_trace(dZ, cache, offset=0, limit=dZ.size)
    steps = []
    for s in page.steps:
        da_pad, dW_k, db_k = core.conv_backward_totals(dZ, cache, s.index)
        steps.append({**_corners(s), "kind": "step", "dz": s.dz, "da_add": _l(s.da_add),
                      "dw_add": _l(s.dw_add), "db_running": s.db_running,
                      "a_slice": forward["steps"][s.index]["a_slice"],
                      "dA_prev_pad": _l(da_pad), "dW": _l(dW_k), "db": _l(db_k)})
    last = steps[-1]
    steps.append({"index": len(steps), "kind": "crop", "dA_prev_pad": last["dA_prev_pad"],
                  "dW": last["dW"], "db": last["db"], "dA_prev": _l(dA_prev)})
    return {"dZ": _l(dZ), "A_prev": forward["A_prev"], "A_prev_pad": forward["A_prev_pad"],
            "W": forward["W"], "stride": STRIDE, "pad": forward["pad"],
            "dilation": o.dilation, "pad_mode": o.pad_mode, "geometry": forward["geometry"],
            "upstream": o.upstream, "dA_prev": _l(dA_prev), "dW": _l(dW), "db": _l(db),
            "steps": steps}


def _pool_forward(mode: str, o: LessonOptions) -> tuple[dict, np.ndarray, tuple]:
    A, cache = core.pool_forward(A_PREV, POOL, mode=mode)
    g = core.pool_geometry(A_PREV.shape[1], A_PREV.shape[2], POOL["f"], stride=POOL["stride"])
    page = core.pool_forward_trace(A_PREV, POOL, mode=mode, tie_rule=o.tie_rule, offset=0,
                                   limit=A.size)
    steps = []
    for s in page.steps:
        window = np.asarray(s.window)
        steps.append({**_corners(s), "window": _l(window), "value": s.value,
                      "argmax": list(s.argmax) if s.argmax is not None else None,
                      "mask": _l(s.mask) if s.mask is not None else None,
                      # the cells equal to the maximum (x == np.max(x)), whatever the tie rule
                      "is_max": core.create_mask_from_window(window).tolist(),
                      "ties": int(np.count_nonzero(core.create_mask_from_window(window))),
                      # the sum the mean divides (average mode)
                      "window_sum": float(window.sum()), "count": int(window.size)})
    return ({"A_prev": _l(A_PREV), "f": POOL["f"], "stride": POOL["stride"], "mode": mode,
             "geometry": g.to_dict(), "A": _l(A), "steps": steps}, A, cache)


def _create_mask(forward_max: dict) -> dict:
    """create_mask_from_window(x) on every window of max pooling: mask = (x == np.max(x))."""
    steps = []
    for s in forward_max["steps"]:
        x = np.array(s["window"])
        mask = core.create_mask_from_window(x)
        steps.append({**_corners(s), "x": _l(x), "max": float(np.max(x)),
                      "mask": [[bool(v) for v in row] for row in mask],
                      "count": int(np.count_nonzero(mask))})
    return {"A_prev": forward_max["A_prev"], "f": POOL["f"], "stride": POOL["stride"],
            "steps": steps}


def _upstream_pool(A: np.ndarray, o: LessonOptions) -> np.ndarray:
    if o.upstream == "ones":
        return np.ones_like(A)
    return A if o.upstream == "output" else DA_POOL


def _distribute(A_avg: np.ndarray, o: LessonOptions) -> dict:
    """distribute_value(dz, (f, f)) for every entry dz of dA (average pooling's backward)."""
    dA = _upstream_pool(A_avg, o)
    f = POOL["f"]
    steps = []
    for k, (i, h, w, c) in enumerate(np.ndindex(dA.shape)):
        dz = float(dA[i, h, w, c])
        a = core.distribute_value(dz, (f, f))
        steps.append({"index": k, "i": i, "h": h, "w": w, "c": c, "dz": dz,
                      "n_H": f, "n_W": f, "average": float(a[0, 0]), "a": _l(a)})
    return {"dA": _l(dA), "shape": [f, f], "steps": steps}


def _pool_backward(mode: str, A: np.ndarray, cache: tuple, o: LessonOptions) -> dict:
    dA = _upstream_pool(A, o)
    dA_prev = core.pool_backward(dA, cache, mode=mode, tie_rule=o.tie_rule)
    page = core.pool_backward_trace(dA, cache, mode=mode, tie_rule=o.tie_rule, offset=0,
                                    limit=dA.size)
    steps = []
    for s in page.steps:
        window = A_PREV[s.i, s.vert_start:s.vert_end, s.horiz_start:s.horiz_end, s.c]
        total = core.pool_backward_totals(dA, cache, s.index, mode=mode, tie_rule=o.tie_rule)
        steps.append({**_corners(s), "da": s.da, "route": _l(s.route), "added": _l(s.added),
                      "window": _l(window), "dA_prev": _l(total)})
    return {"A_prev": _l(A_PREV), "dA": _l(dA), "f": POOL["f"], "stride": POOL["stride"],
            "mode": mode, "tie_rule": o.tie_rule, "upstream": o.upstream,
            "dA_prev": _l(dA_prev), "steps": steps}


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


def build_lesson(options: LessonOptions | None = None) -> dict:
    """Every function of the exercise on the preset, for pad 1 and 0 and both pool modes.

    {"options", "order", "variants": {"pad": [1, 0], "mode": ["max", "average"]},
     "functions": {name: {variant: data}}} where conv functions are keyed by pad ("1", "0")
    and pool functions by mode ("max", "average"; create_mask_from_window only "max",
    distribute_value only "average").
    """
    o = options or LessonOptions()
    fns: dict[str, dict] = {name: {} for name in FUNCTIONS}
    for pad in PADS:
        key = str(pad)
        fns["zero_pad"][key] = _zero_pad(pad, o)
        forward, Z, cache = _conv_forward(pad, o)
        fns["conv_forward"][key] = forward
        fns["conv_single_step"][key] = _conv_single_step(forward)
        fns["conv_backward"][key] = _conv_backward(forward, Z, cache, o)
    for mode in MODES:
        forward, A, cache = _pool_forward(mode, o)
        fns["pool_forward"][mode] = forward
        fns["pool_backward"][mode] = _pool_backward(mode, A, cache, o)
        if mode == "max":
            fns["create_mask_from_window"][mode] = _create_mask(forward)
        else:
            fns["distribute_value"][mode] = _distribute(A, o)
    for variants in fns.values():
        for data in variants.values():
            data["ranges"] = _ranges(data)
    return {"options": asdict(o), "order": list(FUNCTIONS),
            "variants": {"pad": list(PADS), "mode": list(MODES)}, "functions": fns}


# Mistake ids shared by core/mistakes.py, its API, the checker and the page (docs: AREAS).
MISTAKES = ("stride_missing", "bias_per_element", "height_width_swapped", "pad_all_axes",
            "unpadded_slice", "assign_not_accumulate", "distribute_without_dz",
            "crop_minus_pad", "mask_not_max", "dW_without_slice")

FunctionName = Literal[FUNCTIONS]  # type: ignore[valid-type]
MistakeId = Literal[MISTAKES]  # type: ignore[valid-type]


class LearnQuery(BaseModel):
    """GET /learn's query: where to open (the checker's deep links) and the extras.

    /learn?fn=conv_forward&mistake=stride_missing&step=3 opens conv_forward at step 3 (counted
    from 0) in mistake mode. pad and mode pick the variant shown (both are in the page).
    """

    model_config = ConfigDict(extra="ignore")

    fn: FunctionName = "zero_pad"  # type: ignore[valid-type]
    step: int = Field(0, ge=0, le=100_000)
    mistake: MistakeId | None = None  # type: ignore[valid-type]
    pad: int = Field(1, ge=0, le=1)
    mode: Literal["max", "average"] = "max"
    dilation: int = Field(1, ge=1, le=2)
    pad_mode: PadMode = "constant"
    tie: TieRule = "all"
    upstream: Upstream = "exercise"

    def options(self) -> LessonOptions:
        return LessonOptions(dilation=self.dilation, pad_mode=self.pad_mode,
                             tie_rule=self.tie, upstream=self.upstream)


# The site's modes, in the nav's order; a page is linked only when its route exists.
SITE_PAGES = (("learn", "Learn", "/learn"), ("explore", "Explore", "/explore"),
              ("network", "Network", "/network"), ("docs", "API docs", "/docs"))


def site_nav(serves, current: str) -> list[dict]:
    """[{key, label, href, current}] for the pages of SITE_PAGES that the app serves
    (`serves(path)` says whether a GET of path reaches a route).

    Explore falls back to "/" while the /explore alias does not exist.
    """
    out = []
    for key, label, href in SITE_PAGES:
        if not serves(href):
            if key != "explore" or not serves("/"):
                continue
            href = "/"
        out.append({"key": key, "label": label, "href": href, "current": key == current})
    return out


def learn_boot(query: LearnQuery) -> dict:
    """The page's boot data: the lesson for the query's extras, and where to open."""
    return {"lesson": build_lesson(query.options()), "open": query.model_dump(mode="json"),
            "mistakes": list(MISTAKES)}
