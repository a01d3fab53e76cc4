"""Convolution layer, forward and backward (the exercise's API, channels-last, vectorised).

Shapes: A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C),
Z (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1
(likewise n_W); with dilation 1 that is the exercise's floor((n_H_prev + 2*pad - f) / stride) + 1.

Output (i, h, w, c) is the window of the padded input that starts at vert_start = h*stride,
horiz_start = w*stride and takes every dilation-th cell up to vert_end = vert_start +
dilation*(f - 1) + 1, multiplied element-wise by filter c and summed, plus b[c]:

    Z[i, h, w, c] = sum(A_pad[i, vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]
                        * W[:, :, :, c]) + b[0, 0, 0, c]

The backward pass sends dZ[i, h, w, c] back along the same products:

    dA_pad[i, window, :] += W[:, :, :, c] * dZ[i, h, w, c]
    dW[:, :, :, c]       += A_pad[i, window, :] * dZ[i, h, w, c]
    db[0, 0, 0, c]       += dZ[i, h, w, c]

Edge rules: dA_prev is dA_pad without its pad cells, the crop [pad:pad + n_H_prev] (never
[pad:-pad], which is empty for pad = 0); with reflect or edge padding (core/padding.py) a pad
cell is a copy, so its gradient is added to the cell it copies. The rows and columns that the
floor drops get no gradient. Ties and overlaps need no rule: overlapping windows add up.

core/loops.py computes exactly this with loops over (i, h, w, c), as the exercise does; here
the same sums are matrix products (im2col + GEMM, core/_fast/gemm.py says how and why),
reached through core/_fast, the fast path's one door.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fast
from .geometry import (
    Geometry,
    GeometryError,
    as_float_array,
    check_grad,
    conv_geometry,
    layer_hparameters,
    pad_limit_check,
)
from .padding import check_pad_options


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


def conv_forward(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0, dilation=1):
    """Convolution forward pass: Z = A_pad * W + b over every window (module docstring).

    A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C),
    hparameters {"stride", "pad"} -> Z (m, n_H, n_W, n_C) and cache (A_prev, W, b,
    hparameters) with the unpadded A_prev; hparameters is a copy that also holds
    "pad_mode", "pad_value" and "dilation". float32 inputs give float32, others float64.
    Example: A_prev = ones((1, 3, 3, 1)), W = ones((3, 3, 1, 1)), b = zeros((1, 1, 1, 1)),
    {"stride": 1, "pad": 1} gives Z[0, :, :, 0] = [[4 6 4] [6 9 6] [4 6 4]].
    """
    setup = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                         dilation=dilation)
    Z = _fast.conv_forward(setup)  # (m, n_H, n_W, n_C)
    return Z, (setup.A_prev, setup.W, setup.b, setup.hparameters)


def conv_backward(dZ, cache):
    """Convolution backward pass (module docstring: the three += and the crop).

    dZ (m, n_H, n_W, n_C), cache from conv_forward -> dA_prev (m, n_H_prev, n_W_prev,
    n_C_prev), dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C). Works for pad = 0.
    Example: with the forward example's cache and dZ = ones((1, 3, 3, 1)), db = 9 and
    dW[:, :, 0, 0] = [[4 6 4] [6 9 6] [4 6 4]].
    """
    setup, dZ, dtype = _backward_setup(dZ, cache)
    dA_prev, dW, db = _fast.conv_backward(setup, dZ, dtype)  # the crop (or fold) included
    return dA_prev, dW, db


def conv_backward_padded(dZ, cache):
    """(dA_pad (m, n_H_pad, n_W_pad, n_C_prev), dW, db, setup): conv_backward before the
    crop (and fold), for the traces that show the padded gradient."""
    setup, dZ, dtype = _backward_setup(dZ, cache)
    dA_pad, dW, db = _fast.conv_backward_padded(setup, dZ, dtype)
    return dA_pad, dW, db, setup


def _backward_setup(dZ, cache):
    A_prev, W, b, hparameters = cache
    setup = prepare_conv(A_prev, W, b, hparameters)
    g = setup.geometry
    dZ = check_grad("dZ", dZ, (A_prev.shape[0], g.n_H, g.n_W, setup.W.shape[3]))
    return setup, dZ, np.result_type(setup.dtype, dZ)
