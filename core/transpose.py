"""Transposed convolution: each input cell spreads its value, times the filter, over a window
of the output (conv_arithmetic's last row, and the exercise's secret: conv_backward's dA_prev
is the transposed convolution of dZ with W).

Shapes (channels-last, the exercise's names): A_prev (m, n_H_prev, n_W_prev, n_C_prev),
W (f, f, n_C, n_C_prev), b (1, 1, 1, n_C), Z (m, n_H, n_W, n_C) with

    n_H = (n_H_prev - 1)*stride - 2*pad + dilation*(f - 1) + 1 + output_padding

(likewise n_W). W has the layout of the convolution it transposes: that convolution takes
n_C channels to n_C_prev, so W[:, :, :, c] is the window that input channel c spreads.
This is PyTorch's conv_transpose2d(x, w, b, stride, padding, output_padding, dilation=d)
with x = A_prev in NCHW and w = W.transpose(3, 2, 0, 1) (in_channels, out_channels, kH, kW).

Input cell (i, h, w, c) adds A_prev[i, h, w, c] * W[:, :, :, c] into the window of the full
output ("the canvas") that starts at vert_start = h*stride, horiz_start = w*stride and takes
every dilation-th cell up to vert_end = vert_start + dilation*(f - 1) + 1:

    canvas[i, vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]
        += A_prev[i, h, w, c] * W[:, :, :, c]
    Z = canvas[:, pad:pad + n_H, pad:pad + n_W, :] + b

Edge rules: `pad` crops pad rows and columns from every side of the canvas (the crop
[pad:pad + n_H], never [pad:-pad]: the same crop that turns conv_backward's dA_pad into
dA_prev). `output_padding` (a number, or a pair (rows, columns)) adds that many rows at the
bottom and columns at the right, zero unless a window reaches them: it gives back the rows
and columns that the floor of the convolution's output size dropped, so 0 <= output_padding
< max(stride, dilation) (PyTorch's rule; a larger one would only add zeros).

Small example: A_prev = [[1, 2]] (1 x 2), W = [[1, 1]] seen as f = 2 (2 x 2 of ones), stride
2, pad 0: n_W = (2 - 1)*2 + 2 = 4, each cell fills its own 2 x 2 block: Z = [[1 1 2 2]
[1 1 2 2]]. With stride 1 the windows overlap: Z = [[1 3 2] [1 3 2]].

The identity (tests/core/test_conv_transpose.py): for Z, cache = conv_forward(A_prev, W, b, hp)
and any dZ, conv_backward(dZ, cache)[0] == conv_transpose(dZ, W, 0, hp, output_padding=r)
where r = (n_H_prev + 2*pad - f_eff) mod stride, the rows the forward floor dropped.

conv_transpose_loop is the same sum written with loops as the exercise would teach it;
conv_transpose_trace gives one step per input cell (and input channel) in loop order.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

import numpy as np

from .conv import conv_forward
from .geometry import (
    GeometryError,
    _checked_window,
    as_float_array,
    check_grad,
    check_int,
    conv_geometry,
    layer_hparameters,
    prod,
)
from .padding import zero_pad
from .trace import Step, StepPage, _first, _page_range


@dataclass(frozen=True)
class TransposeGeometry:
    """Sizes of one transposed convolution along both axes, with the formula filled in.

    n_H_full / n_W_full: the canvas every window lands in, before `pad` is cropped from each
    side (n_H = n_H_full - 2*pad); output_padding is included in it.
    """

    n_H_prev: int
    n_W_prev: int
    f: int
    stride: int
    pad: int
    dilation: int
    output_padding: tuple[int, int]
    f_eff: int
    n_H_full: int
    n_W_full: int
    n_H: int
    n_W: int
    formula_H: str
    formula_W: str

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["output_padding"] = list(self.output_padding)
        return d


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise GeometryError(
            f"{name} must be a whole number or a pair (rows, columns), but it is {value!r}."
        ) from None
    what = "extra rows and columns at the bottom and right"
    return (check_int(f"{name} (rows)", a, minimum=0, what=what),
            check_int(f"{name} (columns)", b, minimum=0, what=what))


def _formula(axis: str, n_prev: int, f: int, stride: int, pad: int, dilation: int,
             op: int) -> tuple[int, str]:
    n = (n_prev - 1) * stride - 2 * pad + dilation * (f - 1) + 1 + op
    symbolic = (f"n_{axis} = (n_{axis}_prev - 1)*stride - 2*pad + dilation*(f - 1) + 1 "
                f"+ output_padding")
    filled = f"({n_prev} - 1)*{stride} - 2*{pad} + {dilation}*({f} - 1) + 1 + {op}"
    return n, f"{symbolic} = {filled} = {n}"


def transpose_geometry(n_H_prev: int, n_W_prev: int, f: int, *, stride: int = 1, pad: int = 0,
                       dilation: int = 1, output_padding=0) -> TransposeGeometry:
    """Output size of a transposed convolution, with the formula filled in.

    n_H = (n_H_prev - 1)*stride - 2*pad + dilation*(f - 1) + 1 + output_padding.
    Example: transpose_geometry(3, 3, 3, stride=2, pad=1).n_H == 2*2 - 2 + 2 + 1 == 5.
    Raises GeometryError naming the numbers when one is out of range or the output is empty.
    """
    n_H_prev, n_W_prev, f, stride = _checked_window(n_H_prev, n_W_prev, f, stride)
    pad = check_int("pad", pad, minimum=0,
                    what="in a transposed convolution pad crops rows and columns of the output")
    dilation = check_int("dilation", dilation, minimum=1,
                         what="1 means the window's cells are adjacent")
    op = _pair("output_padding", output_padding)
    most = max(stride, dilation) - 1
    if max(op) > most:
        raise GeometryError(
            f"output_padding must be smaller than stride or dilation (at most "
            f"max(stride, dilation) - 1 = max({stride}, {dilation}) - 1 = {most}): it gives "
            f"back rows the convolution's floor dropped, and there are fewer than stride of "
            f"those; but output_padding is {op[0] if op[0] == op[1] else op}."
        )
    f_eff = dilation * (f - 1) + 1
    n_H, formula_H = _formula("H", n_H_prev, f, stride, pad, dilation, op[0])
    n_W, formula_W = _formula("W", n_W_prev, f, stride, pad, dilation, op[1])
    for axis, n, formula in (("H", n_H, formula_H), ("W", n_W, formula_W)):
        if n < 1:
            raise GeometryError(
                f"The transposed convolution's output would be empty: {formula}, and it must "
                f"be at least 1. pad = {pad} crops {2 * pad} of the "
                f"{n + 2 * pad} {'rows' if axis == 'H' else 'columns'} the windows cover; use "
                f"pad <= {max(0, (n + 2 * pad - 1) // 2)}."
            )
    return TransposeGeometry(
        n_H_prev=n_H_prev, n_W_prev=n_W_prev, f=f, stride=stride, pad=pad, dilation=dilation,
        output_padding=op, f_eff=f_eff, n_H_full=n_H + 2 * pad, n_W_full=n_W + 2 * pad,
        n_H=n_H, n_W=n_W, formula_H=formula_H, formula_W=formula_W)


def transposed_counterpart(n_H_prev: int, n_W_prev: int, f: int, *, stride: int = 1,
                           pad: int = 0, dilation: int = 1) -> dict:
    """The transposed convolution that undoes a convolution's shape: its input is the
    convolution's output (n_H x n_W), its output the convolution's input again, with the
    same f, stride, pad and dilation, and output_padding (rows, columns) the rows and
    columns the convolution's floor dropped, (n_H_prev + 2*pad - f_eff) mod stride.
    Example: 5 x 5, f 3, stride 2, pad 1 -> 3 x 3 in, output_padding (0, 0), 5 x 5 out;
    6 x 6 -> 3 x 3 in, output_padding (1, 1), 6 x 6 out.
    """
    g = conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
    dropped = ((g.n_H_pad - g.f_eff) % g.stride, (g.n_W_pad - g.f_eff) % g.stride)
    return {"n_H_prev": g.n_H, "n_W_prev": g.n_W, "f": g.f, "stride": g.stride, "pad": g.pad,
            "dilation": g.dilation, "output_padding": dropped}


@dataclass(frozen=True)
class TransposeSetup:
    """Validated inputs of one conv_transpose call."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray
    hparameters: dict
    geometry: TransposeGeometry
    dtype: np.dtype


def prepare_transpose(A_prev, W, b, hparameters, *, output_padding=0,
                      dilation=1) -> TransposeSetup:
    """Check shapes and options of a conv_transpose call; GeometryError names the numbers."""
    A_prev = as_float_array("A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C_prev)")
    W = as_float_array("W", W, 4, "(f, f, n_C, n_C_prev)")
    b = as_float_array("b", b, 4, "(1, 1, 1, n_C)")
    hp = layer_hparameters(hparameters, ("stride", "pad"), "conv_transpose")
    # As in conv_forward: an extension may come inside hparameters (the cache stores it);
    # a keyword that differs from its default wins.
    if not isinstance(dilation, bool) and dilation == 1:
        dilation = hp.get("dilation", dilation)
    if not isinstance(output_padding, bool) and output_padding == 0:
        output_padding = hp.get("output_padding", output_padding)
    _, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f2, n_C, n_C_prev_w = W.shape
    if f != f2:
        raise GeometryError(
            f"W must be square in its first two axes (f, f, n_C, n_C_prev), but its shape is "
            f"{W.shape}: {f} x {f2}."
        )
    if n_C_prev_w != n_C_prev:
        raise GeometryError(
            f"Channel mismatch: A_prev has n_C_prev = {n_C_prev} channels (shape "
            f"{A_prev.shape}), but W's last axis has {n_C_prev_w} (W shape {W.shape} = (f, f, "
            f"n_C, n_C_prev), the layout of the convolution it transposes, which takes n_C "
            f"channels to n_C_prev)."
        )
    if b.shape != (1, 1, 1, n_C):
        raise GeometryError(
            f"b must have shape (1, 1, 1, n_C) = (1, 1, 1, {n_C}), one bias per output "
            f"channel (W's third axis), but its shape is {b.shape}."
        )
    g = transpose_geometry(n_H_prev, n_W_prev, f, stride=hp["stride"], pad=hp["pad"],
                           dilation=dilation, output_padding=output_padding)
    hp.update(stride=g.stride, pad=g.pad, dilation=g.dilation,
              output_padding=g.output_padding)
    return TransposeSetup(A_prev, W, b, hp, g, np.result_type(A_prev, W, b))


def _canvas(A_prev: np.ndarray, W: np.ndarray, g: TransposeGeometry, dtype) -> np.ndarray:
    """The canvas (m, n_H_full, n_W_full, n_C): every input cell's window added, no crop.

    One strided slice-add per kernel offset (kh, kw): offset (kh, kw) of every input cell's
    window is the canvas cell (h*stride + kh*dilation, w*stride + kw*dilation), and within
    one offset the cells are distinct, so += is exact where windows overlap.
    """
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    n_C = W.shape[2]
    canvas = np.zeros((m, g.n_H_full, g.n_W_full, n_C), dtype=dtype)
    rows_span = g.stride * (n_H_prev - 1) + 1
    cols_span = g.stride * (n_W_prev - 1) + 1
    for kh in range(g.f):
        for kw in range(g.f):
            r0, c0 = kh * g.dilation, kw * g.dilation
            # (m, n_H_prev, n_W_prev, n_C_prev) @ (n_C_prev, n_C) -> (m, n_H_prev, n_W_prev, n_C)
            canvas[:, r0:r0 + rows_span:g.stride, c0:c0 + cols_span:g.stride, :] += (
                A_prev @ W[kh, kw].T)
    return canvas


def conv_transpose(A_prev, W, b, hparameters, *, output_padding=0, dilation=1):
    """Transposed convolution forward pass (module docstring: the window each cell fills).

    A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C, n_C_prev), b (1, 1, 1, n_C),
    hparameters {"stride", "pad"} -> Z (m, n_H, n_W, n_C),
    n_H = (n_H_prev - 1)*stride - 2*pad + dilation*(f - 1) + 1 + output_padding,
    and cache (A_prev, W, b, hparameters), hparameters a copy that also holds "dilation" and
    "output_padding". float32 inputs give float32, others float64.
    Example: A_prev = [[1, 2]] (shape (1, 1, 2, 1)), W = ones((2, 2, 1, 1)), b = 0,
    {"stride": 2, "pad": 0} gives Z[0, :, :, 0] = [[1 1 2 2] [1 1 2 2]].
    """
    s = prepare_transpose(A_prev, W, b, hparameters, output_padding=output_padding,
                          dilation=dilation)
    g = s.geometry
    canvas = _canvas(s.A_prev.astype(s.dtype, copy=False), s.W.astype(s.dtype, copy=False), g,
                     s.dtype)  # (m, n_H_full, n_W_full, n_C)
    Z = canvas[:, g.pad:g.pad + g.n_H, g.pad:g.pad + g.n_W, :] + s.b.astype(s.dtype)
    return Z, (s.A_prev, s.W, s.b, s.hparameters)


def conv_transpose_backward(dZ, cache):
    """Backward pass of conv_transpose: dA_prev, dW, db.

    dZ (m, n_H, n_W, n_C), cache from conv_transpose -> dA_prev (m, n_H_prev, n_W_prev,
    n_C_prev), dW (f, f, n_C, n_C_prev), db (1, 1, 1, n_C). The crop's backward pads dZ back
    to the canvas with zeros (dZ_pad = zero_pad(dZ, pad)); each input cell then reads its
    window of dZ_pad, as a convolution's output reads its window of A_pad:

        dA_prev[i, h, w, c] = sum(dZ_pad[i, window(h, w), :] * W[:, :, :, c])
        dW[:, :, :, c]     += dZ_pad[i, window(h, w), :] * A_prev[i, h, w, c]
        db                  = sum of dZ over (i, h, w)

    so dA_prev is conv_forward(dZ, W, 0, {"stride", "pad"}, dilation), cut to n_H_prev rows
    and n_W_prev columns (the convolution's floor may leave more when output_padding >=
    stride). Example: with the forward example's cache and dZ = ones((1, 2, 4, 1)),
    dA_prev[0, :, :, 0] = [[4 4]], dW[:, :, 0, 0] = [[3 3] [3 3]], db = 8.
    """
    A_prev, W, b, hparameters = cache
    s = prepare_transpose(A_prev, W, b, hparameters)
    g = s.geometry
    m, n_H_prev, n_W_prev, _ = s.A_prev.shape
    n_C = s.W.shape[2]
    dZ = check_grad("dZ", dZ, (m, g.n_H, g.n_W, n_C))
    dt = np.result_type(s.dtype, dZ)
    A, Wt = s.A_prev.astype(dt, copy=False), s.W.astype(dt, copy=False)
    zero_b = np.zeros((1, 1, 1, s.W.shape[3]), dtype=dt)
    dA_prev, _ = conv_forward(dZ.astype(dt, copy=False), Wt, zero_b,
                              {"stride": g.stride, "pad": g.pad}, dilation=g.dilation)
    dA_prev = np.ascontiguousarray(dA_prev[:, :n_H_prev, :n_W_prev, :])
    dZ_pad = zero_pad(dZ.astype(dt, copy=False), g.pad)  # (m, n_H_full, n_W_full, n_C)
    dW = np.zeros(s.W.shape, dtype=dt)
    rows_span = g.stride * (n_H_prev - 1) + 1
    cols_span = g.stride * (n_W_prev - 1) + 1
    for kh in range(g.f):
        for kw in range(g.f):
            r0, c0 = kh * g.dilation, kw * g.dilation
            taps = dZ_pad[:, r0:r0 + rows_span:g.stride, c0:c0 + cols_span:g.stride, :]
            # (m, n_H_prev, n_W_prev, n_C) x (m, n_H_prev, n_W_prev, n_C_prev) -> (n_C, n_C_prev)
            dW[kh, kw] = np.tensordot(taps, A, axes=([0, 1, 2], [0, 1, 2]))
    db = dZ.sum(axis=(0, 1, 2), dtype=dt).reshape(1, 1, 1, n_C)
    return dA_prev, dW, db


def conv_transpose_loop(A_prev, W, b, hparameters, *, output_padding=0, dilation=1):
    """conv_transpose with four nested loops, as the exercise would teach it: Z, cache."""
    setup = prepare_transpose(A_prev, W, b, hparameters, output_padding=output_padding,
                              dilation=dilation)
    A_prev, W, b, hparameters = setup.A_prev, setup.W, setup.b, setup.hparameters
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C, n_C_prev) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    dilation = hparameters["dilation"]
    (op_H, op_W) = hparameters["output_padding"]
    n_H = (n_H_prev - 1) * stride - 2 * pad + dilation * (f - 1) + 1 + op_H
    n_W = (n_W_prev - 1) * stride - 2 * pad + dilation * (f - 1) + 1 + op_W
    # The canvas every window lands in: the output with its pad rows and columns still on.
    Z_full = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=setup.dtype)
    for i in range(m):  # loop over the batch of training examples
        for h in range(n_H_prev):  # loop over the rows of the input
            for w in range(n_W_prev):  # loop over the columns of the input
                for c in range(n_C_prev):  # loop over the input's channels
                    vert_start = h * stride
                    vert_end = vert_start + dilation * (f - 1) + 1
                    horiz_start = w * stride
                    horiz_end = horiz_start + dilation * (f - 1) + 1
                    # The input cell spreads its value, times the filter, over its window.
                    Z_full[i, vert_start:vert_end:dilation, horiz_start:horiz_end:dilation,
                           :] += A_prev[i, h, w, c] * W[:, :, :, c]
    Z = Z_full[:, pad:pad + n_H, pad:pad + n_W, :] + b  # crop [pad:pad + n_H], then the bias
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def transpose_as_convolution(A_prev, W, hparameters, *, output_padding=0, dilation=1):
    """The same transposed convolution as a plain stride-1 convolution (conv_arithmetic's
    picture): (A_up, W_flip, inserted) with

        conv_transpose(A_prev, W, 0, hp)[0] == conv_forward(A_up, W_flip, 0,
                                                            {"stride": 1, "pad": 0},
                                                            dilation=dilation)[0]

    A_up (m, n_up_H, n_up_W, n_C_prev): A_prev with stride - 1 zeros inserted between
    neighbouring cells, then q = dilation*(f - 1) - pad rows and columns of zeros on the top
    and left and q + output_padding on the bottom and right (a negative border crops that
    many instead). n_up_H = (n_H_prev - 1)*stride + 1 + 2*q + output_padding.
    W_flip (f, f, n_C_prev, n_C) = W turned by 180 degrees, channel axes swapped:
    W_flip[p, q] = W[f - 1 - p, f - 1 - q].T. inserted (n_up_H, n_up_W) bool: True on the
    cells that are not A_prev's (inserted zeros and the border).
    Example: A_prev = [[1, 2]] (1 x 2), f = 2, stride 2, pad 0: q = 1, A_up's row of cells
    is [0 | 1 0 2 | 0] (1 x 5 inside 3 rows: a zero row above and below).
    """
    s = prepare_transpose(A_prev, W, np.zeros((1, 1, 1, np.shape(W)[2])), hparameters,
                          output_padding=output_padding, dilation=dilation)
    g = s.geometry
    m, n_H_prev, n_W_prev, n_C_prev = s.A_prev.shape
    q = g.f_eff - 1 - g.pad

    def axis(n: int, op: int) -> tuple[int, int, int]:
        """(buffer length, where cell 0 lands in it, the first kept index)."""
        n_in = (n - 1) * g.stride + 1
        return n_in + max(q, 0) + max(q + op, 0), max(q, 0), max(-q, 0)

    (len_H, at_H, cut_H), (len_W, at_W, cut_W) = (axis(n_H_prev, g.output_padding[0]),
                                                   axis(n_W_prev, g.output_padding[1]))
    n_up_H = (n_H_prev - 1) * g.stride + 1 + 2 * q + g.output_padding[0]
    n_up_W = (n_W_prev - 1) * g.stride + 1 + 2 * q + g.output_padding[1]
    up = np.zeros((m, len_H, len_W, n_C_prev), dtype=s.dtype)
    real = np.zeros((len_H, len_W), dtype=bool)
    rows = slice(at_H, at_H + (n_H_prev - 1) * g.stride + 1, g.stride)
    cols = slice(at_W, at_W + (n_W_prev - 1) * g.stride + 1, g.stride)
    up[:, rows, cols, :] = s.A_prev  # stride - 1 zeros between neighbouring cells
    real[rows, cols] = True
    keep = (slice(cut_H, cut_H + n_up_H), slice(cut_W, cut_W + n_up_W))
    A_up = np.ascontiguousarray(up[:, keep[0], keep[1], :])  # (m, n_up_H, n_up_W, n_C_prev)
    W_flip = np.ascontiguousarray(s.W[::-1, ::-1].transpose(0, 1, 3, 2))  # (f, f, n_C_prev, n_C)
    return A_up, W_flip, ~real[keep]


@dataclass(frozen=True)
class ConvTransposeStep(Step):
    """canvas[i, window, :] += spread = a * weights (one input cell, one input channel c).

    (h, w) is the input cell, c its channel; the corners are in canvas coordinates (the
    output before the crop of pad on every side).
    """

    a: float  # A_prev[i, h, w, c]
    weights: np.ndarray  # (f, f, n_C) = W[:, :, :, c]
    spread: np.ndarray  # (f, f, n_C) = a * weights


def conv_transpose_trace(A_prev, W, b, hparameters, *, output_padding=0, dilation=1,
                         offset=0, limit=64, position=None) -> StepPage:
    """Page of conv_transpose steps, one per input cell and channel in loop order (i, h, w,
    c) over A_prev's shape: the value a, the weights it multiplies and what it adds.

    A page costs O(limit * f*f*n_C). With one input channel it is one step per input cell.
    """
    s = prepare_transpose(A_prev, W, b, hparameters, output_padding=output_padding,
                          dilation=dilation)
    g = s.geometry
    shape = s.A_prev.shape
    W_ = s.W.astype(s.dtype, copy=False)
    steps = []
    for k in _page_range(shape, offset, limit, position):
        i, h, w, c = (int(x) for x in np.unravel_index(k, shape))
        a = float(s.A_prev[i, h, w, c])
        vs, hs = h * g.stride, w * g.stride
        weights = W_[:, :, :, c]
        steps.append(ConvTransposeStep(
            index=k, i=i, h=h, w=w, c=c, vert_start=vs, vert_end=vs + g.f_eff,
            horiz_start=hs, horiz_end=hs + g.f_eff, a=a, weights=weights,
            spread=weights * s.A_prev[i, h, w, c]))
    return StepPage("conv_transpose", prod(shape), _first(steps, shape, offset, position),
                    tuple(steps))


def conv_transpose_totals(A_prev, W, b, hparameters, k, *, output_padding=0, dilation=1):
    """The canvas (m, n_H_full, n_W_full, n_C) after steps 0..k in loop order (k = -1: zero),
    without the bias; at the last step its crop plus b is conv_transpose's Z."""
    s = prepare_transpose(A_prev, W, b, hparameters, output_padding=output_padding,
                          dilation=dilation)
    total = prod(s.A_prev.shape)
    k = check_int("k (last step)", k, minimum=-1, what="-1 means before the first step")
    if k >= total:
        raise GeometryError(f"step {k} does not exist: there are {total} steps (0-{total - 1}).")
    kept = np.zeros(total, dtype=s.dtype)
    kept[:k + 1] = s.A_prev.reshape(-1)[:k + 1]
    return _canvas(kept.reshape(s.A_prev.shape), s.W.astype(s.dtype, copy=False), s.geometry,
                   s.dtype)
