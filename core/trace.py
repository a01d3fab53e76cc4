"""Step-by-step traces: what the exercise's loops do at each step, one page at a time.

Step order is the loops' order i, h, w, c (batch, output row, output column, filter or
channel), so step k is np.unravel_index(k, (m, n_H, n_W, n_C)). Window corners are in padded
coordinates: vert_start = h*stride, vert_end = vert_start + dilation*(f - 1) + 1, likewise
horiz. A page asks for `limit` steps from `offset` (or from the step at `position`).

Cost: a page reads only the cells of its own windows, mapping each padded index back to the
unpadded input (a constant for constant padding, the mirrored or edge cell otherwise), so it
costs time and memory in proportion to `limit`, not to the image; nothing builds all steps
and nothing pads the whole image. The one exception is `db_running` in conv backward pages:
db after a step is the sum of every dZ before it. Given `db_prefix`, the running db at the
start of every output row (`conv_backward_row_sums(dZ)`, a small (m, n_H + 1, n_C) array
computed once next to the backward pass, as the server does), a page sums only within its
own output row: O(limit + n_W*n_C). Without it, a page takes one vectorised sum over the dZ
values before the page (no Python loop over steps, no image-sized allocation), so its cost
grows with its position.

Running totals after step k (conv_backward_totals, pool_backward_totals) keep the gradient
of steps 0..k in loop order, zero the rest, and run the vectorised backward pass once.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

from .conv import conv_backward_padded, prepare_conv
from .geometry import GeometryError, as_float_array, check_grad, check_int, prod
from .padding import padded_window
from .pool import max_mask, pool_backward, prepare_pool


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | None | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


@dataclass(frozen=True)
class Step:
    """Where a step is: its index in loop order, output position and window corners."""

    index: int
    i: int
    h: int
    w: int
    c: int
    vert_start: int
    vert_end: int
    horiz_start: int
    horiz_end: int

    def to_dict(self) -> dict:
        """JSON-ready dict: arrays become nested lists of Python floats."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ConvForwardStep(Step):
    """conv_single_step written out: products = a_slice * weights, z = total + bias."""

    a_slice: np.ndarray  # (f, f, n_C_prev), taps `dilation` apart
    weights: np.ndarray  # (f, f, n_C_prev) = W[..., c]
    products: np.ndarray  # (f, f, n_C_prev)
    total: float
    bias: float
    z: float


@dataclass(frozen=True)
class ConvBackwardStep(Step):
    """dA_pad[window] += da_add, dW[..., c] += dw_add, db[c] becomes db_running."""

    dz: float
    da_add: np.ndarray  # (f, f, n_C_prev) = W[..., c] * dz
    dw_add: np.ndarray  # (f, f, n_C_prev) = a_slice * dz
    db_running: float


@dataclass(frozen=True)
class PoolForwardStep(Step):
    """The window, the max (by tie rule) or the mean, and the output value."""

    window: np.ndarray  # (f, f)
    argmax: tuple[int, int] | None
    mask: np.ndarray | None  # (f, f): 0/1, or equal shares for tie_rule "split"
    value: float


@dataclass(frozen=True)
class PoolBackwardStep(Step):
    """dA_prev[i, window, c] += added = route * da."""

    da: float
    route: np.ndarray  # (f, f): the max mask, or 1/(f*f) everywhere for average
    added: np.ndarray  # (f, f)


@dataclass(frozen=True)
class StepPage:
    """`limit` steps (or fewer at the end) from `offset`, out of `total` steps."""

    kind: str
    total: int
    offset: int
    steps: tuple[Step, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "total": self.total, "offset": self.offset,
                "steps": [s.to_dict() for s in self.steps]}


def step_index(shape, position) -> int:
    """Loop-order index of output position (i, h, w, c) in an output of shape (m, n_H, n_W, n_C).

    Example: step_index((1, 2, 3, 4), (0, 1, 0, 2)) == 1*3*4 + 0*4 + 2 == 14.
    """
    shape = tuple(int(s) for s in shape)
    try:
        position = tuple(position)
    except TypeError:
        position = (position,)
    names = ("i", "h", "w", "c")
    if len(position) != len(shape):
        raise GeometryError(
            f"A position has {len(shape)} numbers (i, h, w, c) for an output of shape "
            f"{shape}, but {tuple(position)} has {len(position)}."
        )
    checked = []
    for name, p, n in zip(names, position, shape, strict=True):
        p = check_int(f"position {name}", p, minimum=0, what="positions count from 0")
        if p >= n:
            raise GeometryError(
                f"position {tuple(position)} is outside the output of shape (m, n_H, n_W, "
                f"n_C) = {shape}: {name} = {p} but it must be below {n}."
            )
        checked.append(p)
    return int(np.ravel_multi_index(tuple(checked), shape))


def step_position(shape, k) -> tuple[int, ...]:
    """Output position (i, h, w, c) of loop-order step k.

    Example: step_position((1, 2, 3, 4), 14) == (0, 1, 0, 2).
    """
    shape = tuple(int(s) for s in shape)
    total = prod(shape)
    k = check_int("step", k, minimum=0, what="steps count from 0")
    if k >= total:
        raise GeometryError(
            f"step {k} does not exist: shape {shape} has {total} steps (0-{total - 1})."
        )
    return tuple(int(x) for x in np.unravel_index(k, shape))


def _page_range(shape, offset, limit, position) -> range:
    total = prod(shape)
    limit = check_int("limit", limit, minimum=0, what="the number of steps on a page")
    if position is not None:
        offset = step_index(shape, position)
    offset = check_int("offset", offset, minimum=0, what="steps count from 0")
    return range(min(offset, total), min(offset + limit, total))


def _corners(g, h: int, w: int) -> dict:
    vs, hs = h * g.stride, w * g.stride
    return {"vert_start": vs, "vert_end": vs + g.f_eff, "horiz_start": hs,
            "horiz_end": hs + g.f_eff}


def _where(k: int, shape) -> dict:
    i, h, w, c = (int(x) for x in np.unravel_index(k, shape))
    return {"index": k, "i": i, "h": h, "w": w, "c": c}


class _ConvWindows:
    """The padded window of output pixel (i, h, w), read from the unpadded input on demand."""

    def __init__(self, setup):
        self.s, self.g = setup, setup.geometry
        self.key, self.value = None, None

    def __call__(self, i: int, h: int, w: int) -> np.ndarray:
        if self.key != (i, h, w):  # consecutive steps (one per filter) share a window
            g = self.g
            rows = h * g.stride + np.arange(g.f) * g.dilation
            cols = w * g.stride + np.arange(g.f) * g.dilation
            a = self.s.A_prev[i].astype(self.s.dtype, copy=False)
            self.key = (i, h, w)
            self.value = padded_window(a, rows, cols, g.pad, self.s.pad_mode, self.s.pad_value)
        return self.value


def conv_forward_trace(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0,
                       dilation=1, offset=0, limit=64, position=None) -> StepPage:
    """Page of conv forward steps: a_slice, weights, products, total, bias, z per step."""
    s = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                     dilation=dilation)
    g = s.geometry
    shape = (s.A_prev.shape[0], g.n_H, g.n_W, s.W.shape[3])
    W_, b_ = s.W.astype(s.dtype, copy=False), s.b.astype(s.dtype, copy=False)
    window = _ConvWindows(s)
    steps = []
    for k in _page_range(shape, offset, limit, position):
        at = _where(k, shape)
        a_slice = window(at["i"], at["h"], at["w"])  # (f, f, n_C_prev)
        weights = W_[:, :, :, at["c"]]
        products = a_slice * weights
        total = float(np.sum(products))
        bias = float(b_[0, 0, 0, at["c"]])
        steps.append(ConvForwardStep(**at, **_corners(g, at["h"], at["w"]), a_slice=a_slice,
                                     weights=weights, products=products, total=total,
                                     bias=bias, z=total + bias))
    return StepPage("conv_forward", prod(shape), _first(steps, shape, offset, position),
                    tuple(steps))


def _first(steps, shape, offset, position) -> int:
    if steps:
        return steps[0].index
    return step_index(shape, position) if position is not None else min(offset, prod(shape))


def conv_backward_trace(dZ, cache, *, offset=0, limit=64, position=None,
                        db_prefix=None) -> StepPage:
    """Page of conv backward steps: dz, da_add = W[..., c]*dz, dw_add = a_slice*dz, db_running.

    db_prefix: optional, `conv_backward_row_sums(dZ)` computed once for this dZ; the page
    then costs O(limit + n_W*n_C) wherever it is. Without it (None), db before the page is
    summed from dZ itself: correct, but O(position). Both give the same db_running up to
    float64 rounding.
    """
    A_prev, W, b, hparameters = cache
    s = prepare_conv(A_prev, W, b, hparameters)
    g = s.geometry
    n_C = s.W.shape[3]
    shape = (s.A_prev.shape[0], g.n_H, g.n_W, n_C)
    dZ = check_grad("dZ", dZ, shape)
    W_ = s.W.astype(np.result_type(s.dtype, dZ), copy=False)
    window = _ConvWindows(s)
    steps = []
    ks = _page_range(shape, offset, limit, position)
    if len(ks):
        # db before the page: every dZ of earlier output pixels, plus the filters before c
        # at the first pixel (one vectorised sum, no loop over steps).
        p0, c0 = divmod(ks.start, n_C)
        if db_prefix is None:
            running = _pixels_before(dZ, p0)  # (n_C,) float64
        else:  # db at the start of the page's row, then the pixels before it in the row
            i0, h0, w0 = np.unravel_index(p0, shape[:3])
            running = _check_prefix(db_prefix, shape)[i0, h0].astype(np.float64)  # a copy
            running += dZ[i0, h0, :w0].sum(axis=0, dtype=np.float64)
        running[:c0] += dZ[np.unravel_index(p0, shape[:3])][:c0]
    for k in ks:
        at = _where(k, shape)
        dz = dZ[at["i"], at["h"], at["w"], at["c"]]
        a_slice = window(at["i"], at["h"], at["w"])
        running[at["c"]] += dz
        steps.append(ConvBackwardStep(**at, **_corners(g, at["h"], at["w"]), dz=float(dz),
                                      da_add=W_[:, :, :, at["c"]] * dz, dw_add=a_slice * dz,
                                      db_running=float(running[at["c"]])))
    return StepPage("conv_backward", prod(shape), _first(steps, shape, offset, position),
                    tuple(steps))


def conv_backward_row_sums(dZ) -> np.ndarray:
    """Running db at the start of every output row, for fast conv backward pages.

    dZ (m, n_H, n_W, n_C) -> prefix (m, n_H + 1, n_C) float64, where prefix[i, h, c] is the
    sum of dZ[..., c] over every output pixel before row h of image i in loop order (all of
    images 0..i-1, then rows 0..h-1 of image i): db[c] just before step (i, h, 0, 0).
    prefix[i, n_H] is the total through image i (equal to prefix[i + 1, 0]); prefix[-1, -1]
    is db. One O(image) pass; pass the result to conv_backward_trace(..., db_prefix=prefix).
    Example: dZ = ones((1, 2, 3, 1)) gives prefix[0, :, 0] == [0, 3, 6].
    """
    dZ = as_float_array("dZ", dZ, 4, "(m, n_H, n_W, n_C)")
    m, n_H, n_W, n_C = dZ.shape
    rows = _row_sums(dZ.reshape(m * n_H, n_W, n_C) if dZ.flags.c_contiguous else dZ)
    flat = np.zeros((m * n_H + 1, n_C), dtype=np.float64)
    np.cumsum(rows.reshape(m * n_H, n_C), axis=0, out=flat[1:])
    prefix = np.empty((m, n_H + 1, n_C), dtype=np.float64)
    prefix[:, :n_H] = flat[:-1].reshape(m, n_H, n_C)
    prefix[:, n_H] = flat[n_H::n_H]
    return prefix


def _row_sums(X: np.ndarray) -> np.ndarray:
    """Sums over axis -2 in float64 of X (R, n_W, n_C) (contiguous) or (m, n_H, n_W, n_C)
    (any strides). Contiguous rows go in two wide, vectorised reductions (blocks of about
    sqrt(n_W) pixels, then the block sums) instead of one n_C-wide add per pixel."""
    if X.ndim == 4:
        return X.sum(axis=2, dtype=np.float64)
    R, n_W, n_C = X.shape
    k = max(1, math.isqrt(n_W))
    q = n_W // k
    out = X[:, : q * k].reshape(R, k, q * n_C).sum(axis=1, dtype=np.float64)
    out = out.reshape(R, q, n_C).sum(axis=1)
    if q * k < n_W:
        out += X[:, q * k :].sum(axis=1, dtype=np.float64)
    return out


def _check_prefix(db_prefix, shape) -> np.ndarray:
    m, n_H, _, n_C = shape
    db_prefix = np.asarray(db_prefix)
    if db_prefix.shape != (m, n_H + 1, n_C):
        raise GeometryError(
            f"db_prefix must be conv_backward_row_sums(dZ), of shape (m, n_H + 1, n_C) = "
            f"{(m, n_H + 1, n_C)} for dZ of shape {tuple(shape)}, but its shape is "
            f"{db_prefix.shape}."
        )
    return db_prefix


def _column_sums(X: np.ndarray) -> np.ndarray:
    """Column sums of X (p, n_C) in float64, fast: rows are summed in blocks of `rows`
    (a wide, vectorised reduction instead of one 8-wide row at a time), then the block sums."""
    p, n_C = X.shape
    rows = max(1, math.isqrt(p))
    q = p // rows
    blocks = X[: q * rows].reshape(q, rows * n_C).sum(axis=0)  # (rows * n_C,)
    return (blocks.reshape(rows, n_C).sum(axis=0, dtype=np.float64)
            + X[q * rows :].sum(axis=0, dtype=np.float64))


def _pixels_before(dZ: np.ndarray, p: int) -> np.ndarray:
    """Sum over the first p output pixels (loop order) of dZ (m, n_H, n_W, n_C): (n_C,)."""
    m, n_H, n_W, n_C = dZ.shape
    if dZ.flags.c_contiguous:
        return _column_sums(dZ.reshape(-1, n_C)[:p])  # (m*n_H*n_W, n_C), a view
    # A strided dZ (a view such as Z itself) is summed in place, never copied whole:
    # the whole images before, the whole rows before, then the pixels before in the row.
    i, rest = divmod(p, n_H * n_W)
    h, w = divmod(rest, n_W)
    total = dZ[:i].sum(axis=(0, 1, 2), dtype=np.float64)
    if i < m:
        total += dZ[i, :h].sum(axis=(0, 1), dtype=np.float64)
        total += dZ[i, h, :w].sum(axis=0, dtype=np.float64)
    return total


def pool_forward_trace(A_prev, hparameters, mode="max", *, tie_rule="first", offset=0,
                       limit=64, position=None) -> StepPage:
    """Page of pool forward steps: window, argmax and mask (max) or the mean, value."""
    A_prev, _, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    shape = (A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3])
    steps = []
    for k in _page_range(shape, offset, limit, position):
        at = _where(k, shape)
        corners = _corners(g, at["h"], at["w"])
        window = A_prev[at["i"], corners["vert_start"]:corners["vert_end"],
                        corners["horiz_start"]:corners["horiz_end"], at["c"]]  # (f, f)
        if mode == "max":
            r, q = np.unravel_index(int(np.argmax(window)), window.shape)
            argmax, mask, value = (int(r), int(q)), max_mask(window, tie_rule), window.max()
        else:
            argmax, mask, value = None, None, window.mean()
        steps.append(PoolForwardStep(**at, **corners, window=window, argmax=argmax, mask=mask,
                                     value=float(value)))
    return StepPage("pool_forward", prod(shape), _first(steps, shape, offset, position),
                    tuple(steps))


def pool_backward_trace(dA, cache, mode="max", *, tie_rule="first", offset=0, limit=64,
                        position=None) -> StepPage:
    """Page of pool backward steps: da, route (mask or 1/(f*f) shares), added = route*da."""
    A_prev, hparameters = cache
    A_prev, _, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    shape = (A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3])
    dA = check_grad("dA", dA, shape)
    steps = []
    for k in _page_range(shape, offset, limit, position):
        at = _where(k, shape)
        corners = _corners(g, at["h"], at["w"])
        window = A_prev[at["i"], corners["vert_start"]:corners["vert_end"],
                        corners["horiz_start"]:corners["horiz_end"], at["c"]]
        if mode == "max":
            route = max_mask(window, tie_rule)
        else:
            route = np.full((g.f, g.f), 1.0 / (g.f * g.f))
        da = dA[at["i"], at["h"], at["w"], at["c"]]
        steps.append(PoolBackwardStep(**at, **corners, da=float(da), route=route,
                                      added=route * da))
    return StepPage("pool_backward", prod(shape), _first(steps, shape, offset, position),
                    tuple(steps))


def _keep_first(grad: np.ndarray, k, total: int) -> np.ndarray:
    """Copy of grad with the entries of steps after k (loop order) set to zero."""
    k = check_int("k (last step)", k, minimum=-1, what="-1 means before the first step")
    if k >= total:
        raise GeometryError(f"step {k} does not exist: there are {total} steps (0-{total - 1}).")
    flat = np.zeros(grad.size, dtype=grad.dtype)
    flat[: k + 1] = grad.reshape(-1)[: k + 1]
    return flat.reshape(grad.shape)


def conv_backward_totals(dZ, cache, k):
    """(dA_prev_pad, dW, db) after steps 0..k in loop order (k = -1: all zero).

    dA_prev_pad is the padded gradient (m, n_H_prev + 2*pad, n_W_prev + 2*pad, n_C_prev), as
    the loops hold it before the crop. At k = total - 1 these equal conv_backward's results
    (before the crop/fold for dA_prev).
    """
    A_prev, W, b, hparameters = cache
    s = prepare_conv(A_prev, W, b, hparameters)
    g = s.geometry
    shape = (s.A_prev.shape[0], g.n_H, g.n_W, s.W.shape[3])
    dZ = check_grad("dZ", dZ, shape)
    dA_pad, dW, db, _ = conv_backward_padded(_keep_first(dZ, k, prod(shape)), cache)
    return dA_pad, dW, db


def pool_backward_totals(dA, cache, k, mode="max", tie_rule="first"):
    """dA_prev after steps 0..k in loop order (k = -1: all zero)."""
    A_prev, hparameters = cache
    A_prev, _, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    shape = (A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3])
    dA = check_grad("dA", dA, shape)
    return pool_backward(_keep_first(dA, k, prod(shape)), cache, mode, tie_rule=tie_rule)
