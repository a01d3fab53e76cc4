"""Pooling layer, forward and backward, vectorised (the exercise's API, channels-last).

Shapes: A_prev (m, n_H_prev, n_W_prev, n_C), A (m, n_H, n_W, n_C),
n_H = floor((n_H_prev - f) / stride) + 1; each channel is pooled on its own.

Both passes walk the offsets of the window instead of the output pixels: offset (r, s) of
every window at once is the strided slice A_prev[:, r:r + stride*(n_H - 1) + 1:stride, ...].
The forward pass combines the f window rows first (whole image rows, long contiguous runs)
and then the f columns of each window: 2*(f - 1) element-wise maxima (or sums). The backward
pass is f*f strided slice-adds. Within one offset the windows touch distinct cells, so the
+= is exact even when windows overlap (stride < f) and their gradients accumulate. Both
passes go through the output in bands of rows small enough to stay in the CPU cache.

Ties in max pooling (decided here, `tie_rule=`):
- "first" (the default of pool_backward): the whole gradient goes to the first maximum of the
  window in row-major order, as PyTorch does. On real images flat regions are full of ties,
  and routing the gradient to every tied cell would multiply it.
- "all": every cell equal to the maximum gets the whole gradient; this is the exercise's
  mask `x == np.max(x)` (create_mask_from_window keeps exactly that meaning).
- "split": the tied cells share the gradient equally, so the total is preserved.
On inputs without ties the three rules agree.
"""

from __future__ import annotations

import numpy as np

from . import _fast
from .geometry import (
    POOL_MODES,
    TIE_RULES,
    Geometry,
    as_float_array,
    check_choice,
    check_grad,
    layer_hparameters,
    pool_geometry,
)


def prepare_pool(A_prev, hparameters, mode, tie_rule="first"):
    """Validated (A_prev, hparameters copy, geometry, mode, tie_rule) of a pool call."""
    A_prev = as_float_array("A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C)")
    hp = layer_hparameters(hparameters, ("stride", "f"), "pool_forward")
    mode = check_choice("mode", mode, POOL_MODES)
    tie_rule = check_choice("tie_rule", tie_rule, TIE_RULES)
    g = pool_geometry(A_prev.shape[1], A_prev.shape[2], hp["f"], stride=hp["stride"])
    hp.update(f=g.f, stride=g.stride)
    return A_prev, hp, g, mode, tie_rule


def _offset(g: Geometry, r: int, s: int) -> tuple[slice, slice, slice, slice]:
    """Index of window offset (r, s) in every window: (m, n_H, n_W, n_C) cells of A_prev."""
    return (slice(None), slice(r, r + g.stride * (g.n_H - 1) + 1, g.stride),
            slice(s, s + g.stride * (g.n_W - 1) + 1, g.stride), slice(None))


def _pool(A: np.ndarray, g: Geometry, mode: str, out: np.ndarray | None = None) -> np.ndarray:
    """A (m, n_H, n_W, n_C): the max (or mean) of every window, rows first, then columns.

    Rows: the f window rows of every output row are combined as whole image rows,
    A[:, r::stride] for r < f, into (m, n_H, n_W_prev, n_C) (long contiguous runs). Columns:
    the f columns of each window of that, [:, :, s::stride] for s < f. A max (or sum) over
    the window is the same whichever way it is grouped.
    """
    combine = np.maximum if mode == "max" else np.add
    rows = [A[:, r : r + g.stride * (g.n_H - 1) + 1 : g.stride] for r in range(g.f)]
    by_row = rows[0] if g.f == 1 else combine(rows[0], rows[1])  # (m, n_H, n_W_prev, C)
    for row in rows[2:]:
        combine(by_row, row, out=by_row)
    cols = [by_row[:, :, s : s + g.stride * (g.n_W - 1) + 1 : g.stride] for s in range(g.f)]
    if g.f == 1:  # the input's cells themselves
        if out is None:
            return cols[0].copy()
        out[...] = cols[0]
        return out
    out = combine(cols[0], cols[1], out=out)  # (m, n_H, n_W, C)
    for col in cols[2:]:
        combine(out, col, out=out)
    if mode == "average":
        out /= g.f * g.f
    return out


def pool_forward(A_prev, hparameters, mode="max"):
    """Pooling forward pass.

    A[i, h, w, c] = max (or mean) of A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c],
    vert_start = h*stride, vert_end = vert_start + f. Returns A (m, n_H, n_W, n_C) and cache
    (A_prev, hparameters). Example: A_prev[0, :, :, 0] = [[1 3] [4 2]], {"f": 2, "stride": 2}
    gives A = 4 (max) or 2.5 (average).
    """
    A_prev, hp, g, mode, _ = prepare_pool(A_prev, hparameters, mode)
    A = np.empty((A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3]), dtype=A_prev.dtype)
    # the output in bands of rows (on threads), each band's windows pooled by _pool
    _fast.pool_bands(A_prev, g, lambda band, g_band, rows: _pool(band, g_band, mode,
                                                                out=A[:, rows]))
    return A, (A_prev, hp)


def pool_backward(dA, cache, mode="max", *, tie_rule="first"):
    """Pooling backward pass: dA (m, n_H, n_W, n_C) -> dA_prev (m, n_H_prev, n_W_prev, n_C).

    max: dA_prev[i, window, c] += mask * dA[i, h, w, c], the mask chosen by `tie_rule`
    (module docstring); average: += dA[i, h, w, c] / (f*f) on every cell of the window.
    Overlapping windows (stride < f) accumulate.
    """
    A_prev, hparameters = cache
    A_prev, _, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    dA = check_grad("dA", dA, (A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3]))
    dt = np.result_type(A_prev, dA)
    dA = dA.astype(dt, copy=False)
    if g.stride == g.f:  # the windows tile the input: every cell is written once, except
        dA_prev = np.empty(A_prev.shape, dtype=dt)  # the rows and columns the floor drops
        dA_prev[:, g.n_H * g.f :] = 0
        dA_prev[:, :, g.n_W * g.f :] = 0
    else:
        dA_prev = np.zeros(A_prev.shape, dtype=dt)
    # the gradient in bands of rows (on threads), each band's windows routed by _backward_band
    _fast.pool_backward_bands(A_prev, dA, g, dA_prev, lambda band, dA_band, g_band, out, add:
                              _backward_band(band, dA_band, g_band, mode, tie_rule, out, add))
    return dA_prev


def _backward_band(A_prev, dA, g: Geometry, mode: str, tie_rule: str, dA_prev, add) -> None:
    """Add one band's gradient into dA_prev (the band's input rows; bands of overlapping
    windows share rows, so everything is added with `add(at, values)`, core/_fast/bands.py's
    dA_prev[at] += values in one thread's order; where windows cannot overlap it is written)."""
    dt = dA_prev.dtype
    offsets = [_offset(g, r, s) for r in range(g.f) for s in range(g.f)]  # row-major order
    # With stride >= f no two windows share a cell: each input cell gets at most one value,
    # so it is written (=) instead of accumulated (+=).
    exclusive = g.stride >= g.f
    if mode == "average":
        share = dA / (g.f * g.f)
        for at in offsets:
            if exclusive:
                dA_prev[at] = share
            else:
                add(at, share)
        return
    A = _pool(A_prev, g, "max")  # (m, n_H, n_W, n_C), the window maxima
    if tie_rule == "split":  # every tied maximum gets dA / (number of tied maxima)
        count = np.zeros(A.shape, dtype=dt)
        for at in offsets:
            count += A_prev[at] == A
        grad = dA / count
    elif tie_rule == "first":  # the window's gradient still to route: zero once it is taken
        grad = dA.copy()
    else:  # "all": every tied maximum gets the whole dA
        grad = dA
    # mask * gradient, as the exercise's loops do (a 0/1 mask times dA), one offset at a time;
    # the scratch arrays are reused (a fresh array per offset costs more than the arithmetic).
    hit = np.empty(A.shape, dtype=bool)
    routed = None if exclusive else np.empty(A.shape, dtype=dt)
    for k, at in enumerate(offsets):
        np.equal(A_prev[at], A, out=hit)  # (m, n_H, n_W, n_C): is this offset a maximum?
        out = dA_prev[at] if exclusive else routed
        np.multiply(hit, grad, out=out)
        if not exclusive:
            add(at, routed)
        if tie_rule == "first" and k < len(offsets) - 1:  # taken: later maxima get nothing
            np.subtract(grad, out, out=grad)  # g - g = 0 where routed, g - 0 = g elsewhere


def create_mask_from_window(x):
    """The exercise's mask: True where x equals its maximum (every tied maximum is True).

    Example: create_mask_from_window(np.array([[1, 3], [4, 2]])) is [[False False] [True False]].
    """
    x = np.asarray(x)
    return x == np.max(x)


def max_mask(window, tie_rule="first") -> np.ndarray:
    """Routing weights of one max-pool window by tie rule, as floats of the window's shape.

    "all" is create_mask_from_window as 0/1; "first" keeps the first maximum in row-major
    order; "split" divides 1 equally among the tied maxima.
    Example: max_mask([[2, 2], [0, 1]], "split") is [[0.5 0.5] [0 0]].
    """
    tie_rule = check_choice("tie_rule", tie_rule, TIE_RULES)
    x = np.asarray(window)
    dt = x.dtype if x.dtype == np.float32 else np.float64
    mask = create_mask_from_window(x).astype(dt)
    if tie_rule == "first":
        mask = np.zeros_like(mask)
        mask.flat[int(np.argmax(x))] = 1
    elif tie_rule == "split":
        mask /= mask.sum()
    return mask


def distribute_value(dz, shape):
    """Spread dz evenly over a window of shape (n_H, n_W): every cell gets dz / (n_H * n_W).

    Example: distribute_value(2, (2, 2)) is [[0.5 0.5] [0.5 0.5]].
    """
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    dt = np.float32 if np.asarray(dz).dtype == np.float32 else np.float64
    return np.full(shape, average, dtype=dt)
