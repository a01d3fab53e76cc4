"""Convolution layer, forward and backward, vectorised (the exercise's API, channels-last).

Shapes: A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C),
Z (m, n_H, n_W, n_C) with n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1.

How it is computed (im2col): every window of the padded input is copied into one row of a
contiguous matrix cols (m*n_H*n_W, f*f*n_C_prev), one strided slice per kernel offset, so that
the forward pass is one matrix product cols @ W and the backward pass is two:
dW = cols.T @ dZ and dcols = dZ @ W.T, whose rows are added back over the f*f offsets into a
padded dA_prev (col2im), which is then cropped with [pad:pad + n_H_prev] (never [pad:-pad],
empty for pad 0) and, for reflect/edge padding, folded back onto the cells the pad copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .geometry import (
    Geometry,
    GeometryError,
    as_float_array,
    check_grad,
    conv_geometry,
    layer_hparameters,
    pad_limit_check,
)
from .padding import check_pad_options, fold_pad, zero_pad


@dataclass(frozen=True)
class ConvSetup:
    """Validated inputs of one conv call."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray
    hparameters: dict
    geometry: Geometry
    pad_mode: str
    pad_value: tuple[float, float]
    dtype: np.dtype


def prepare_conv(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0,
                 dilation=1) -> ConvSetup:
    """Check shapes and options of a conv call; raise GeometryError with the numbers."""
    A_prev = as_float_array("A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C_prev)")
    W = as_float_array("W", W, 4, "(f, f, n_C_prev, n_C)")
    b = as_float_array("b", b, 4, "(1, 1, 1, n_C)")
    hp = layer_hparameters(hparameters, ("stride", "pad"), "conv_forward")
    # An extension may come as a keyword or inside hparameters (as the cache stores it);
    # a keyword that differs from its default wins.
    if isinstance(pad_mode, str) and pad_mode == "constant":
        pad_mode = hp.get("pad_mode", pad_mode)
    if not isinstance(pad_value, tuple | list) and pad_value == 0.0:
        pad_value = hp.get("pad_value", pad_value)
    if not isinstance(dilation, bool) and dilation == 1:
        dilation = hp.get("dilation", dilation)
    pad_mode, pair = check_pad_options(pad_mode, pad_value)
    _, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f2, n_C_prev_w, n_C = W.shape
    if f != f2:
        raise GeometryError(
            f"W must be square in its first two axes (f, f, n_C_prev, n_C), but its shape is "
            f"{W.shape}: {f} x {f2}."
        )
    if n_C_prev_w != n_C_prev:
        raise GeometryError(
            f"Channel mismatch: A_prev has n_C_prev = {n_C_prev} channels (shape "
            f"{A_prev.shape}), but W expects {n_C_prev_w} (W shape {W.shape} = (f, f, n_C_prev, "
            f"n_C)). Each filter needs one f x f slice per input channel."
        )
    if b.shape != (1, 1, 1, n_C):
        raise GeometryError(
            f"b must have shape (1, 1, 1, n_C) = (1, 1, 1, {n_C}), one bias per filter, "
            f"but its shape is {b.shape}."
        )
    geometry = conv_geometry(n_H_prev, n_W_prev, f, stride=hp["stride"], pad=hp["pad"],
                             dilation=dilation)
    pad_limit_check(n_H_prev, n_W_prev, geometry.pad, pad_mode)
    hp.update(stride=geometry.stride, pad=geometry.pad, pad_mode=pad_mode,
              pad_value=pair if pair[0] != pair[1] else pair[0], dilation=geometry.dilation)
    return ConvSetup(A_prev, W, b, hp, geometry, pad_mode, pair, np.result_type(A_prev, W, b))


def conv_single_step(a_slice_prev, W, b) -> float:
    """One output value: sum(a_slice_prev * W) + b, as a Python float.

    a_slice_prev, W (f, f, n_C_prev); b (1, 1, 1) (any shape with one value).
    Example: conv_single_step(np.ones((2, 2, 1)), np.ones((2, 2, 1)), np.array([[[0.5]]])) == 4.5.
    """
    a_slice_prev, W, b = np.asarray(a_slice_prev), np.asarray(W), np.asarray(b)
    if a_slice_prev.shape != W.shape:
        raise GeometryError(
            f"a_slice_prev and W must have the same shape (f, f, n_C_prev), but they are "
            f"{a_slice_prev.shape} and {W.shape}."
        )
    if b.size != 1:
        raise GeometryError(f"b must hold one value (shape (1, 1, 1)), but its shape is {b.shape}.")
    s = np.multiply(a_slice_prev, W)  # element-wise product
    return float(np.sum(s)) + float(b.reshape(-1)[0])


def _windows(A_pad: np.ndarray, g: Geometry) -> np.ndarray:
    """Read-only view of every window: (m, n_H, n_W, n_C_prev, f, f), taps `dilation` apart."""
    v = sliding_window_view(A_pad, (g.f_eff, g.f_eff), axis=(1, 2))  # (m, H', W', C, fe, fe)
    return v[:, :: g.stride, :: g.stride, :, :: g.dilation, :: g.dilation][:, : g.n_H, : g.n_W]


def im2col(A_pad: np.ndarray, g: Geometry) -> np.ndarray:
    """Windows copied into a contiguous matrix (m*n_H*n_W, f*f*n_C_prev), rows in loop order."""
    m, n_C_prev = A_pad.shape[0], A_pad.shape[3]
    win = _windows(A_pad, g)  # (m, n_H, n_W, C, f, f)
    cols = np.empty((m, g.n_H, g.n_W, g.f, g.f, n_C_prev), dtype=A_pad.dtype)
    for kh in range(g.f):  # f*f strided copies, each (m, n_H, n_W, C)
        for kw in range(g.f):
            cols[:, :, :, kh, kw, :] = win[..., kh, kw]
    return cols.reshape(m * g.n_H * g.n_W, g.f * g.f * n_C_prev)


def col2im(dcols: np.ndarray, g: Geometry, m: int, n_C_prev: int) -> np.ndarray:
    """Add each window's gradient back at its place: (m*n_H*n_W, f*f*C) -> padded (m, Hp, Wp, C)."""
    dcols = dcols.reshape(m, g.n_H, g.n_W, g.f, g.f, n_C_prev)
    dA_pad = np.zeros((m, g.n_H_pad, g.n_W_pad, n_C_prev), dtype=dcols.dtype)
    h_span = g.stride * (g.n_H - 1) + 1
    w_span = g.stride * (g.n_W - 1) + 1
    for kh in range(g.f):  # one strided slice-add per kernel offset; within one offset the
        r0 = kh * g.dilation  # windows hit distinct cells, so += is exact
        for kw in range(g.f):
            c0 = kw * g.dilation
            dA_pad[:, r0 : r0 + h_span : g.stride, c0 : c0 + w_span : g.stride, :] += (
                dcols[:, :, :, kh, kw, :]
            )
    return dA_pad


def conv_forward(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0, dilation=1):
    """Convolution forward pass.

    Z[i, h, w, c] = sum(A_pad[i, vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]
    * W[..., c]) + b[..., c], vert_start = h*stride, vert_end = vert_start + dilation*(f-1) + 1.
    Returns Z (m, n_H, n_W, n_C) and cache (A_prev, W, b, hparameters) with the unpadded
    A_prev; hparameters is a copy holding also "pad_mode", "pad_value" and "dilation".
    Example: A_prev = ones((1, 3, 3, 1)), W = ones((3, 3, 1, 1)), b = zeros((1, 1, 1, 1)),
    {"stride": 1, "pad": 1} gives Z[0, :, :, 0] = [[4 6 4] [6 9 6] [4 6 4]].
    """
    s = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                     dilation=dilation)
    g = s.geometry
    A, Wt, bt = s.A_prev.astype(s.dtype, copy=False), s.W.astype(s.dtype, copy=False), s.b
    m, n_C = A.shape[0], Wt.shape[3]
    A_pad = zero_pad(A, g.pad, pad_mode=s.pad_mode, pad_value=s.pad_value)
    cols = im2col(A_pad, g)  # (m*n_H*n_W, f*f*C)
    Z = cols @ Wt.reshape(-1, n_C)  # (m*n_H*n_W, n_C)
    Z += bt.reshape(1, n_C).astype(s.dtype, copy=False)
    return Z.reshape(m, g.n_H, g.n_W, n_C), (s.A_prev, s.W, s.b, s.hparameters)


def conv_backward_padded(dZ, cache):
    """(dA_prev_pad, dW, db, setup): the backward pass before the pad is cropped/folded."""
    A_prev, W, b, hparameters = cache
    s = prepare_conv(A_prev, W, b, hparameters)
    g = s.geometry
    m, n_C_prev, n_C = s.A_prev.shape[0], s.A_prev.shape[3], s.W.shape[3]
    dZ = check_grad("dZ", dZ, (m, g.n_H, g.n_W, n_C))
    dt = np.result_type(s.dtype, dZ)
    A = s.A_prev.astype(dt, copy=False)
    Wt = s.W.astype(dt, copy=False)
    dZ2 = dZ.astype(dt, copy=False).reshape(-1, n_C)  # (m*n_H*n_W, n_C)
    db = dZ2.sum(axis=0).reshape(1, 1, 1, n_C)
    A_pad = zero_pad(A, g.pad, pad_mode=s.pad_mode, pad_value=s.pad_value)
    cols = im2col(A_pad, g)  # (m*n_H*n_W, f*f*C)
    dW = (cols.T @ dZ2).reshape(g.f, g.f, n_C_prev, n_C)
    dcols = dZ2 @ Wt.reshape(-1, n_C).T  # (m*n_H*n_W, f*f*C)
    dA_pad = col2im(dcols, g, m, n_C_prev)
    return dA_pad, dW, db, s


def conv_backward(dZ, cache):
    """Convolution backward pass.

    dZ (m, n_H, n_W, n_C), cache from conv_forward -> dA_prev (m, n_H_prev, n_W_prev,
    n_C_prev), dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C):
    dA_pad[i, window] += W[..., c] * dZ[i, h, w, c];  dW[..., c] += a_slice * dZ[i, h, w, c];
    db[..., c] += dZ[i, h, w, c]. dA_prev = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]
    plus, for reflect/edge padding, the gradient of every pad cell added to its source cell.
    Works for pad = 0 (the exercise's [pad:-pad] crop would be empty there).
    """
    dA_pad, dW, db, s = conv_backward_padded(dZ, cache)
    g = s.geometry
    return fold_pad(dA_pad, g.pad, s.pad_mode, g.n_H_prev, g.n_W_prev), dW, db
