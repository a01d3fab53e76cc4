"""Loop twins: the four layer functions written the way the exercise teaches them.

One Python loop per axis (i over the batch, h over output rows, w over output columns,
c over filters or channels), window corners vert_start/vert_end/horiz_start/horiz_end, and
one small step per output value. They are slow on purpose: they are the oracle the fast
versions are tested against, and the code a learner can read next to the animation.
They take the same arguments (and keyword extensions) as the fast functions.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_single_step, prepare_conv
from .geometry import check_grad
from .padding import zero_pad
from .pool import create_mask_from_window, distribute_value, max_mask, prepare_pool


def conv_forward_loop(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0,
                      dilation=1):
    """conv_forward with four nested loops; returns Z, cache (A_prev, W, b, hparameters)."""
    setup = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                         dilation=dilation)
    A_prev, W, b, hparameters = setup.A_prev, setup.W, setup.b, setup.hparameters
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape  # noqa: RUF059 (the exercise's unpacking)
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    dilation = hparameters["dilation"]
    n_H = int((n_H_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C), dtype=setup.dtype)
    A_prev_pad = zero_pad(A_prev, pad, pad_mode=setup.pad_mode, pad_value=setup.pad_value)
    for i in range(m):  # loop over the batch of training examples
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):  # loop over vertical axis of the output volume
            for w in range(n_W):  # loop over horizontal axis of the output volume
                for c in range(n_C):  # loop over channels (= #filters) of the output volume
                    vert_start = h * stride
                    vert_end = vert_start + dilation * (f - 1) + 1
                    horiz_start = w * stride
                    horiz_end = horiz_start + dilation * (f - 1) + 1
                    a_slice_prev = a_prev_pad[vert_start:vert_end:dilation,
                                              horiz_start:horiz_end:dilation, :]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c],
                                                     b[:, :, :, c])
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def _source(q, n, pad, pad_mode):
    """Which cell of an axis of n cells the padded index q copies (None: a constant)."""
    p = q - pad
    if 0 <= p < n:
        return p
    if pad_mode == "edge":
        return 0 if p < 0 else n - 1
    if pad_mode == "reflect":
        return -p if p < 0 else 2 * (n - 1) - p
    return None


def conv_backward_loop(dZ, cache):
    """conv_backward with four nested loops; returns dA_prev, dW, db."""
    A_prev, W, b, hparameters = cache
    setup = prepare_conv(A_prev, W, b, hparameters)
    A_prev, W, hparameters = setup.A_prev, setup.W, setup.hparameters
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    dilation = hparameters["dilation"]
    dZ = check_grad("dZ", dZ, (m, setup.geometry.n_H, setup.geometry.n_W, n_C))
    (m, n_H, n_W, n_C) = dZ.shape
    dt = np.result_type(setup.dtype, dZ)
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev), dtype=dt)
    dW = np.zeros((f, f, n_C_prev, n_C), dtype=dt)
    db = np.zeros((1, 1, 1, n_C), dtype=dt)
    A_prev_pad = zero_pad(A_prev, pad, pad_mode=setup.pad_mode, pad_value=setup.pad_value)
    dA_prev_pad = np.zeros(A_prev_pad.shape, dtype=dt)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + dilation * (f - 1) + 1
                    horiz_start = w * stride
                    horiz_end = horiz_start + dilation * (f - 1) + 1
                    window = (slice(vert_start, vert_end, dilation),
                              slice(horiz_start, horiz_end, dilation))
                    a_slice = a_prev_pad[window]
                    da_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        # Every padded cell hands its gradient to the input cell it shows: itself in the
        # middle, its mirror (reflect) or the edge (edge), nothing for a constant. This is
        # the crop [pad:pad + n_H_prev] for zero padding, and it works for pad = 0.
        for q in range(n_H_prev + 2 * pad):
            for r in range(n_W_prev + 2 * pad):
                row = _source(q, n_H_prev, pad, setup.pad_mode)
                col = _source(r, n_W_prev, pad, setup.pad_mode)
                if row is not None and col is not None:
                    dA_prev[i, row, col, :] += da_prev_pad[q, r, :]
    return dA_prev, dW, db


def pool_forward_loop(A_prev, hparameters, mode="max"):
    """pool_forward with four nested loops; returns A, cache (A_prev, hparameters)."""
    A_prev, hparameters, _, mode, _ = prepare_pool(A_prev, hparameters, mode)
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    elif mode == "average":
                        A[i, h, w, c] = np.mean(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache


def pool_backward_loop(dA, cache, mode="max", *, tie_rule="first"):
    """pool_backward with four nested loops; returns dA_prev.

    tie_rule "all" uses the exercise's create_mask_from_window; "first" and "split" the
    other masks of core.pool.max_mask (see core/pool.py for the rule).
    """
    A_prev, hparameters = cache
    A_prev, hparameters, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    stride = hparameters["stride"]
    f = hparameters["f"]
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape  # noqa: RUF059 (the exercise's unpacking)
    dA = check_grad("dA", dA, (m, g.n_H, g.n_W, n_C_prev))
    (m, n_H, n_W, n_C) = dA.shape
    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(A_prev, dA))
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        if tie_rule == "all":
                            mask = create_mask_from_window(a_prev_slice)
                        else:
                            mask = max_mask(a_prev_slice, tie_rule)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += (
                            mask * dA[i, h, w, c]
                        )
                    elif mode == "average":
                        da = dA[i, h, w, c]
                        shape = (f, f)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += (
                            distribute_value(da, shape)
                        )
    return dA_prev
