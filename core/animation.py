"""What an animation of one op shows, frame by frame: two grids of cells and, per frame, a
window on one of them, one cell on the other, and the cells whose numbers change.

Pure geometry and numbers (no pixels: app/ draws them). One frame per step of the op's loop
on a one-channel example, in loop order (row by row):

    op               left grid               right grid              one frame per
    conv_forward     A_prev padded (window)  Z (the cell filled)     output cell (h, w)
    pool_forward     A_prev (window)         A (the cell filled)     output cell (h, w)
    conv_backward    dZ (the cell read)      dA_prev padded (window) dZ cell (h, w)
    pool_backward    dA (the cell read)      dA_prev (window)        dA cell (h, w)
    conv_transpose   A_prev (the cell read)  the canvas (window)     input cell (h, w)

so conv_forward has n_H*n_W frames, n_H = floor((h + 2*pad - dilation*(f - 1) - 1) / stride)
+ 1, and conv_transpose h*w. A padded grid keeps its `pad` outer rings: padding for the
forward and backward convolution (dA_pad's ring is the gradient the crop drops), the rows
and columns the transposed convolution crops from its canvas.

The example (fixed, so that a picture can be checked by hand), on grid cell (r, c) of the
unpadded input, window tap (p, q) and upstream-gradient cell (h, w):

    A_prev[r, c] = (3*r + c) mod 4          (0 1 2 3 0 ... along a row, like conv_arithmetic)
    W[p, q]      = (p + 2*q + 1) mod 3      (f = 3: [[1 0 2] [2 1 0] [0 2 1]]; f = 1: [[1]])
    dZ[h, w]     = 1 + (h + 2*w) mod 3      (the upstream gradient, dA for pooling)
    b = 0, max pooling with tie rule "first"

The numbers of every frame come from core's step traces (core/trace.py, core/transpose.py),
so a frame shows what the page's step view shows at that step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .conv import conv_forward
from .geometry import GeometryError, check_choice, check_int, conv_geometry, pool_geometry
from .pool import pool_forward
from .trace import (
    conv_backward_trace,
    conv_forward_trace,
    pool_backward_trace,
    pool_forward_trace,
)
from .transpose import conv_transpose_trace, transpose_as_convolution, transpose_geometry

OPS = ("conv_forward", "conv_backward", "pool_forward", "pool_backward", "conv_transpose",
       "conv_transpose_direct")
TRANSPOSE_OPS = ("conv_transpose", "conv_transpose_direct")
POOL_OPS = ("pool_forward", "pool_backward")
PAGE = 256  # steps read from a trace at a time


def example_input(n_rows: int, n_cols: int) -> np.ndarray:
    """A_prev[r, c] = (3*r + c) mod 4. Example: example_input(2, 5) = [[0 1 2 3 0] [3 0 1 2 3]]."""
    r, c = np.indices((n_rows, n_cols))
    return ((3 * r + c) % 4).astype(np.float64)


def example_kernel(f: int) -> np.ndarray:
    """W[p, q] = (p + 2*q + 1) mod 3. Example: example_kernel(3) = [[1 0 2] [2 1 0] [0 2 1]]."""
    p, q = np.indices((f, f))
    return ((p + 2 * q + 1) % 3).astype(np.float64)


def example_gradient(n_rows: int, n_cols: int) -> np.ndarray:
    """dZ[h, w] = 1 + (h + 2*w) mod 3. Example: example_gradient(2, 3) = [[1 3 2] [2 1 3]]."""
    h, w = np.indices((n_rows, n_cols))
    return (1 + (h + 2 * w) % 3).astype(np.float64)


@dataclass(frozen=True)
class Grid:
    """One grid of cells. `values` (n_rows, n_cols) are its numbers before the first frame,
    NaN where a cell is still empty; the outer `pad` rings are padding (or cropped cells)."""

    name: str
    n_rows: int
    n_cols: int
    pad: int
    role: str  # "input" (drawn blue) or "output" (cyan)
    values: np.ndarray
    zeros: np.ndarray | None = None  # (n_rows, n_cols) bool: inserted zeros, drawn as padding


@dataclass(frozen=True)
class Frame:
    """One frame: the window's taps on grid `window_grid` (rows x cols, grid coordinates),
    the one cell on the other grid, and the cells that take new numbers at this frame
    (on the grid `update_grid`)."""

    index: int
    cell: tuple[int, int]
    window_rows: tuple[int, ...]
    window_cols: tuple[int, ...]
    kernel: np.ndarray | None  # (f, f) at the taps, None for pooling
    update_grid: int
    update_rows: np.ndarray
    update_cols: np.ndarray
    update_values: np.ndarray


@dataclass(frozen=True)
class Animation:
    """Two grids (left, right), which one the window moves on, the number of frames, the
    output-size formula with the numbers, and the frames (a fresh iterator each call)."""

    op: str
    h: int
    w: int
    f: int
    stride: int
    pad: int
    dilation: int
    grids: tuple[Grid, Grid]
    window_grid: int
    n_frames: int
    formula: str
    output_padding: tuple[int, int] = (0, 0)

    def frames(self) -> Iterator[Frame]:
        """Frame 0 .. n_frames - 1, computed one trace page at a time."""
        return _frames(self)


def _check(op, h, w, f, stride, pad, dilation, output_padding=0) -> tuple:
    op = check_choice("op", op, OPS)
    h = check_int("h", h, minimum=1, what="the input needs at least one row")
    w = check_int("w", w, minimum=1, what="the input needs at least one column")
    f = check_int("f", f, minimum=1, what="a window covers at least one cell")
    stride = check_int("stride", stride, minimum=1,
                       what="the window moves by at least one cell each step")
    pad = check_int("pad", pad, minimum=0, what="padding adds rows and columns")
    dilation = check_int("dilation", dilation, minimum=1,
                         what="1 means the window's cells are adjacent")
    if output_padding and op not in TRANSPOSE_OPS:
        raise GeometryError(f"output_padding is for conv_transpose only; {op} has none.")
    return op, h, w, f, stride, pad, dilation


def animation_size(op, h, w, f, *, stride=1, pad=0, dilation=1,
                   output_padding=0) -> tuple[int, int, int, int, int]:
    """(frames, left rows, left cols, right rows, right cols) without building anything:
    what an animation will cost, known before it is drawn. GeometryError as plan_animation."""
    op, h, w, f, stride, pad, dilation = _check(op, h, w, f, stride, pad, dilation,
                                                output_padding)
    if op in TRANSPOSE_OPS:
        g = transpose_geometry(h, w, f, stride=stride, pad=pad, dilation=dilation,
                               output_padding=output_padding)
        if op == "conv_transpose_direct":
            return (g.n_H * g.n_W, g.n_H + g.f_eff - 1, g.n_W + g.f_eff - 1, g.n_H, g.n_W)
        return h * w, h, w, g.n_H_full, g.n_W_full
    if op in POOL_OPS:
        g = pool_geometry(h, w, f, stride=stride)
    else:
        g = conv_geometry(h, w, f, stride=stride, pad=pad, dilation=dilation)
    padded, out = (g.n_H_pad, g.n_W_pad), (g.n_H, g.n_W)
    left, right = (padded, out) if op.endswith("forward") else (out, padded)
    return g.n_H * g.n_W, *left, *right


def plan_animation(op, h, w, f, *, stride=1, pad=0, dilation=1,
                   output_padding=0) -> Animation:
    """The animation of `op` on an h x w example input with an f x f window.

    Pooling has no pad or dilation: give 0 and 1; output_padding is conv_transpose's
    (core/transpose.py), 0 for the others. Raises GeometryError naming the numbers
    (core's conv_geometry / pool_geometry / transpose_geometry messages).
    Example: plan_animation("conv_forward", 5, 5, 3, pad=1).n_frames == 25.
    """
    op, h, w, f, stride, pad, dilation = _check(op, h, w, f, stride, pad, dilation,
                                                output_padding)
    x = example_input(h, w)
    if op == "conv_transpose_direct":
        g = transpose_geometry(h, w, f, stride=stride, pad=pad, dilation=dilation,
                               output_padding=output_padding)
        A_up, _, inserted = transpose_as_convolution(
            x[None, :, :, None], example_kernel(f)[:, :, None, None],
            {"stride": stride, "pad": pad}, output_padding=g.output_padding, dilation=dilation)
        grids = (Grid("A_up", *inserted.shape, 0, "input", A_up[0, :, :, 0], inserted),
                 Grid("Z", g.n_H, g.n_W, 0, "output", np.full((g.n_H, g.n_W), np.nan)))
        return Animation(op, h, w, f, stride, pad, dilation, grids, 0, g.n_H * g.n_W,
                         f"{g.formula_H}; {g.formula_W}", g.output_padding)
    if op == "conv_transpose":
        g = transpose_geometry(h, w, f, stride=stride, pad=pad, dilation=dilation,
                               output_padding=output_padding)
        grids = (Grid("A_prev", h, w, 0, "input", x),
                 Grid("Z", g.n_H_full, g.n_W_full, pad, "output",
                      np.full((g.n_H_full, g.n_W_full), np.nan)))
        return Animation(op, h, w, f, stride, pad, dilation, grids, 1, h * w,
                         f"{g.formula_H}; {g.formula_W}", g.output_padding)
    if op in POOL_OPS:
        g = pool_geometry(h, w, f, stride=stride)
    else:
        g = conv_geometry(h, w, f, stride=stride, pad=pad, dilation=dilation)
    padded = np.zeros((g.n_H_pad, g.n_W_pad))
    padded[g.pad:g.pad + h, g.pad:g.pad + w] = x
    empty_out = np.full((g.n_H, g.n_W), np.nan)
    name = "A" if op in POOL_OPS else "Z"
    if op.endswith("forward"):
        grids = (Grid("A_prev", g.n_H_pad, g.n_W_pad, g.pad, "input", padded),
                 Grid(name, g.n_H, g.n_W, 0, "output", empty_out))
        window = 0
    else:
        grids = (Grid("d" + name, g.n_H, g.n_W, 0, "input", example_gradient(g.n_H, g.n_W)),
                 Grid("dA_prev", g.n_H_pad, g.n_W_pad, g.pad, "output",
                      np.full((g.n_H_pad, g.n_W_pad), np.nan)))
        window = 1
    return Animation(op, h, w, f, stride, g.pad, g.dilation, grids, window, g.n_H * g.n_W,
                     f"{g.formula_H}; {g.formula_W}")


def _pages(a: Animation) -> Iterator:
    """The op's step records in loop order, one trace page at a time."""
    x = example_input(a.h, a.w)[None, :, :, None]  # (1, h, w, 1)
    W = example_kernel(a.f)[:, :, None, None]  # (f, f, 1, 1)
    b = np.zeros((1, 1, 1, 1))
    conv_hp = {"stride": a.stride, "pad": a.pad}
    pool_hp = {"stride": a.stride, "f": a.f}
    if a.op == "conv_forward":
        def page(offset):
            return conv_forward_trace(x, W, b, conv_hp, dilation=a.dilation, offset=offset,
                                      limit=PAGE)
    elif a.op == "pool_forward":
        def page(offset):
            return pool_forward_trace(x, pool_hp, "max", offset=offset, limit=PAGE)
    elif a.op == "conv_backward":
        Z, cache = conv_forward(x, W, b, conv_hp, dilation=a.dilation)
        dZ = example_gradient(Z.shape[1], Z.shape[2])[None, :, :, None]

        def page(offset):
            return conv_backward_trace(dZ, cache, offset=offset, limit=PAGE)
    elif a.op == "pool_backward":
        A, cache = pool_forward(x, pool_hp, "max")
        dA = example_gradient(A.shape[1], A.shape[2])[None, :, :, None]

        def page(offset):
            return pool_backward_trace(dA, cache, "max", offset=offset, limit=PAGE)
    elif a.op == "conv_transpose_direct":
        A_up, W_flip, _ = transpose_as_convolution(x, W, conv_hp, dilation=a.dilation,
                                                   output_padding=a.output_padding)

        def page(offset):
            return conv_forward_trace(A_up, W_flip, b, {"stride": 1, "pad": 0},
                                      dilation=a.dilation, offset=offset, limit=PAGE)
    else:
        def page(offset):
            return conv_transpose_trace(x, W, b, conv_hp, dilation=a.dilation,
                                        output_padding=a.output_padding, offset=offset,
                                        limit=PAGE)
    for offset in range(0, a.n_frames, PAGE):
        yield from page(offset).steps


def _frames(a: Animation) -> Iterator[Frame]:
    kernel = None if a.op in POOL_OPS else example_kernel(a.f)
    if a.op == "conv_transpose_direct":
        kernel = kernel[::-1, ::-1]  # the flipped kernel slides
    running = np.zeros((a.grids[a.window_grid].n_rows, a.grids[a.window_grid].n_cols))
    taps = np.arange(a.f) * (1 if a.op in POOL_OPS else a.dilation)
    for step in _pages(a):
        rows, cols = step.vert_start + taps, step.horiz_start + taps
        if a.window_grid == 0:  # the output cell is filled with the step's value
            value = step.value if a.op == "pool_forward" else step.z
            grid, ur, uc, uv = 1, np.array([step.h]), np.array([step.w]), np.array([value])
        else:  # the window's cells take their running totals
            added = {"conv_backward": "da_add", "conv_transpose": "spread"}.get(a.op, "added")
            added = getattr(step, added)
            running[np.ix_(rows, cols)] += np.asarray(added).reshape(a.f, a.f)
            rr, cc = np.meshgrid(rows, cols, indexing="ij")
            grid, ur, uc = 1, rr.ravel(), cc.ravel()
            uv = running[ur, uc].copy()
        yield Frame(index=step.index, cell=(step.h, step.w),
                    window_rows=tuple(int(r) for r in rows),
                    window_cols=tuple(int(c) for c in cols), kernel=kernel, update_grid=grid,
                    update_rows=ur, update_cols=uc, update_values=uv)
