"""Convolution layer, forward and backward, vectorised (the exercise's API, channels-last).

Shapes: A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C),
Z (m, n_H, n_W, n_C) with n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1.

How it is computed (im2col on a flat, channels-first layout, so that BLAS does the work):
the padded input is laid out channels-first (n_C_prev, m, n_H_pad, n_W_pad) and, for
stride > 1, split into its stride phases X[:, :, r::stride, q::stride]. Each is stored flat,
one row per channel. On that flat row, tap (kh, kw) of every output window is one contiguous
slice at a fixed shift, so the im2col matrix cols (n_C_prev*f*f, N) is f*f plain copies and

    forward   Z = cols.T @ W          (one GEMM, W as (n_C_prev*f*f, n_C))
    backward  dW = cols @ dZ,  dcols = W @ dZ.T   (two GEMMs)

and dcols is added back over the f*f taps into the flat padded gradient (col2im: f*f
contiguous slice-adds). The flat grid has a few more cells than the output (the columns past
n_W on each row, the rows past n_H of each image): their outputs are computed and dropped,
and their gradient is set to zero. The padded gradient is then cropped with
[pad:pad + n_H_prev] (never [pad:-pad], empty for pad 0) and, for reflect/edge padding, the
gradient on every pad cell is added to the cell it copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import (
    Geometry,
    GeometryError,
    as_float_array,
    check_grad,
    conv_geometry,
    layer_hparameters,
    pad_limit_check,
)
from .padding import check_pad_options, fold_pad, pad_channels_first


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


@dataclass(frozen=True)
class _Taps:
    """Where each kernel tap reads in the flat, channels-first phase layout (module docstring).

    The padded input (n_C_prev, m, n_H_pad, n_W_pad) is split by stride phase (r, q) into
    sub-images X[:, :, r::stride, q::stride], each stored flat as (n_C_prev, N + slack) with
    N = m*Hs*Ws on a common grid Hs x Ws. Tap (kh, kw) of the output at flat position p then
    reads phase (kh*dilation % stride, kw*dilation % stride) at p + shift, with
    shift = (kh*dilation // stride)*Ws + kw*dilation // stride.
    """

    Hs: int
    Ws: int
    N: int
    slack: int
    phases: tuple[tuple[int, int], ...]
    taps: tuple[tuple[int, int], ...]  # (phase index, shift) for kh, kw in row-major order


def _taps(g: Geometry, m: int) -> _Taps:
    s, d = g.stride, g.dilation
    Hs, Ws = -(-g.n_H_pad // s), -(-g.n_W_pad // s)
    offsets = [(kh * d, kw * d) for kh in range(g.f) for kw in range(g.f)]
    phases = tuple(sorted({(r % s, q % s) for r, q in offsets}))
    taps = tuple((phases.index((r % s, q % s)), (r // s) * Ws + q // s) for r, q in offsets)
    return _Taps(Hs, Ws, m * Hs * Ws, max(sh for _, sh in taps), phases, taps)


def _phase_buffers(A_cf: np.ndarray, t: _Taps, stride: int) -> np.ndarray:
    """(n_phases, n_C_prev, N + slack): the padded input, one flat copy per stride phase."""
    C, m = A_cf.shape[:2]
    buf = np.zeros((len(t.phases), C, t.N + t.slack), dtype=A_cf.dtype)
    for p, (r, q) in enumerate(t.phases):
        sub = A_cf[:, :, r::stride, q::stride]  # (C, m, <=Hs, <=Ws)
        grid = buf[p, :, : t.N].reshape(C, m, t.Hs, t.Ws)
        grid[:, :, : sub.shape[2], : sub.shape[3]] = sub
    return buf


def im2col(buf: np.ndarray, t: _Taps, f: int) -> np.ndarray:
    """cols (n_C_prev*f*f, N): row (c, kh, kw) holds tap (kh, kw) of channel c for every output.

    One contiguous copy per tap (f*f copies), no gather.
    """
    C = buf.shape[1]
    cols = np.empty((C, f * f, t.N), dtype=buf.dtype)
    for k, (p, shift) in enumerate(t.taps):
        cols[:, k, :] = buf[p, :, shift : shift + t.N]
    return cols.reshape(C * f * f, t.N)


def col2im(dcols: np.ndarray, t: _Taps, g: Geometry, m: int) -> np.ndarray:
    """Add each tap's gradient back where it read: (n_C_prev*f*f, N) -> (n_C_prev, m, Hp, Wp).

    f*f contiguous slice-adds into the flat phase buffers; within one tap every output reads
    a distinct cell, so the += is exact. Then the phases are put back in place.
    """
    C = dcols.shape[0] // (g.f * g.f)
    dcols = dcols.reshape(C, g.f * g.f, t.N)
    dbuf = np.zeros((len(t.phases), C, t.N + t.slack), dtype=dcols.dtype)
    for k, (p, shift) in enumerate(t.taps):
        dbuf[p, :, shift : shift + t.N] += dcols[:, k, :]
    if g.stride == 1:
        return dbuf[0, :, : t.N].reshape(C, m, g.n_H_pad, g.n_W_pad)
    dA_cf = np.zeros((C, m, g.n_H_pad, g.n_W_pad), dtype=dcols.dtype)
    for p, (r, q) in enumerate(t.phases):
        dst = dA_cf[:, :, r :: g.stride, q :: g.stride]
        dst[...] = dbuf[p, :, : t.N].reshape(C, m, t.Hs, t.Ws)[:, :, : dst.shape[2], : dst.shape[3]]
    return dA_cf


def _flat_weights(W: np.ndarray) -> np.ndarray:
    """W (f, f, C, n_C) -> (C*f*f, n_C), rows in the (c, kh, kw) order of cols."""
    f, _, C, n_C = W.shape
    return W.transpose(2, 0, 1, 3).reshape(C * f * f, n_C)


def _columns(s: ConvSetup, dt) -> tuple[np.ndarray, _Taps]:
    g = s.geometry
    A = s.A_prev.astype(dt, copy=False)
    A_cf = pad_channels_first(A, g.pad, s.pad_mode, s.pad_value)  # (C, m, Hp, Wp)
    t = _taps(g, A.shape[0])
    return im2col(_phase_buffers(A_cf, t, g.stride), t, g.f), t


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
    m, n_C = s.A_prev.shape[0], s.W.shape[3]
    cols, t = _columns(s, s.dtype)  # (C*f*f, N)
    Z_ext = cols.T @ _flat_weights(s.W.astype(s.dtype, copy=False))  # (N, n_C), one GEMM
    Z_ext = Z_ext.reshape(m, t.Hs, t.Ws, n_C)  # outputs on the phase grid, extra cells unused
    Z = Z_ext[:, : g.n_H, : g.n_W, :] + s.b.reshape(n_C).astype(s.dtype, copy=False)
    return Z, (s.A_prev, s.W, s.b, s.hparameters)


def _backward_cf(dZ, cache):
    """(dA_prev_pad channels-first (C, m, Hp, Wp), dW, db, setup)."""
    A_prev, W, b, hparameters = cache
    s = prepare_conv(A_prev, W, b, hparameters)
    g = s.geometry
    m, n_C = s.A_prev.shape[0], s.W.shape[3]
    dZ = check_grad("dZ", dZ, (m, g.n_H, g.n_W, n_C))
    dt = np.result_type(s.dtype, dZ)
    cols, t = _columns(s, dt)  # (C*f*f, N)
    dZ_ext = np.zeros((m, t.Hs, t.Ws, n_C), dtype=dt)  # zero on the unused grid cells
    dZ_ext[:, : g.n_H, : g.n_W, :] = dZ
    dZ2 = dZ_ext.reshape(t.N, n_C)
    db = dZ2.sum(axis=0).reshape(1, 1, 1, n_C)
    dW_flat = cols @ dZ2  # (C*f*f, n_C), one GEMM
    dW = dW_flat.reshape(-1, g.f, g.f, n_C).transpose(1, 2, 0, 3).copy()  # (f, f, C, n_C)
    dcols = _flat_weights(s.W.astype(dt, copy=False)) @ dZ2.T  # (C*f*f, N), one GEMM
    return col2im(dcols, t, g, m), dW, db, s


def conv_backward_padded(dZ, cache):
    """(dA_prev_pad (m, Hp, Wp, C), dW, db, setup): the backward pass before the crop/fold."""
    dA_cf, dW, db, s = _backward_cf(dZ, cache)
    return np.ascontiguousarray(dA_cf.transpose(1, 2, 3, 0)), dW, db, s


def conv_backward(dZ, cache):
    """Convolution backward pass.

    dZ (m, n_H, n_W, n_C), cache from conv_forward -> dA_prev (m, n_H_prev, n_W_prev,
    n_C_prev), dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C):
    dA_pad[i, window] += W[..., c] * dZ[i, h, w, c];  dW[..., c] += a_slice * dZ[i, h, w, c];
    db[..., c] += dZ[i, h, w, c]. dA_prev = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]
    plus, for reflect/edge padding, the gradient of every pad cell added to its source cell.
    Works for pad = 0 (the exercise's [pad:-pad] crop would be empty there).
    """
    dA_cf, dW, db, s = _backward_cf(dZ, cache)
    g = s.geometry
    dA = fold_pad(dA_cf, g.pad, s.pad_mode, g.n_H_prev, g.n_W_prev, axes=(2, 3))  # (C, m, H, W)
    return np.ascontiguousarray(dA.transpose(1, 2, 3, 0)), dW, db
