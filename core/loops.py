"""Loop twins: the four layer functions as the exercise writes them, run on core's inputs.

One Python loop per axis (i over the batch, h over output rows, w over output columns,
c over filters or channels), window corners vert_start/vert_end/horiz_start/horiz_end, and
one small step per output value. They are slow on purpose: they are the oracle the fast
versions are tested against, and the code a learner reads next to the animation.

They are not written here: each runs the exercise's own code (core/learn/source.py, the
lines the Learn page shows), with the extras' line edits for dilation, padding modes and
tie rules (core/learn/source.py's option_edits). What this module adds is what the exercise
leaves to its caller: core's validation (prepare_conv, prepare_pool, check_grad, so a twin
refuses what the fast function refuses), the dtype of the result (the input's), and, for
padding that copies cells (reflect, edge), the backward fold of the padded gradient into the
cells the pad cells copy (the exercise's crop only fits zero padding). They take the same
arguments (and keyword extensions) as the fast functions.
"""

from __future__ import annotations

import numpy as np

from .conv import prepare_conv
from .geometry import check_grad
from .learn.exercise import Exercise
from .learn.source import option_edits
from .pool import prepare_pool


def _exercise(**options) -> Exercise:
    return Exercise(edits=option_edits(**options), dilation=options.get("dilation", 1))


def conv_forward_loop(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0,
                      dilation=1):
    """conv_forward with four nested loops; returns Z, cache (A_prev, W, b, hparameters)."""
    setup = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                         dilation=dilation)
    hp = setup.hparameters
    ex = _exercise(dilation=hp["dilation"], pad_mode=setup.pad_mode, pad_value=setup.pad_value)
    Z, _ = ex.conv_forward(setup.A_prev, setup.W, setup.b, hp)
    return Z.astype(setup.dtype, copy=False), (setup.A_prev, setup.W, setup.b, hp)


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


def _fold(dA_prev_pad, pad, pad_mode, n_H_prev, n_W_prev):
    """Every padded cell hands its gradient to the input cell it shows: itself in the middle,
    its mirror (reflect) or the edge (edge), nothing for a constant. For zero padding this is
    the crop [pad:pad + n_H_prev] (which works for pad = 0)."""
    m, _, _, n_C = dA_prev_pad.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C), dtype=dA_prev_pad.dtype)
    for q in range(n_H_prev + 2 * pad):
        for r in range(n_W_prev + 2 * pad):
            row = _source(q, n_H_prev, pad, pad_mode)
            col = _source(r, n_W_prev, pad, pad_mode)
            if row is not None and col is not None:
                dA_prev[:, row, col, :] += dA_prev_pad[:, q, r, :]
    return dA_prev


def conv_backward_loop(dZ, cache):
    """conv_backward with four nested loops; returns dA_prev, dW, db."""
    A_prev, W, b, hparameters = cache
    setup = prepare_conv(A_prev, W, b, hparameters)
    hp = setup.hparameters
    (m, n_H_prev, n_W_prev, _) = setup.A_prev.shape
    dZ = check_grad("dZ", dZ, (m, setup.geometry.n_H, setup.geometry.n_W, setup.W.shape[3]))
    ex = _exercise(dilation=hp["dilation"], pad_mode=setup.pad_mode, pad_value=setup.pad_value)
    steps = ex.conv_backward_steps(dZ, (setup.A_prev, setup.W, setup.b, hp))
    padded = None
    while True:
        try:
            label, accumulators = next(steps)
        except StopIteration as done:
            dA_prev, dW, db = done.value
            break
        if label == "step":
            padded = accumulators[0]  # dA_prev_pad, the same array at every step
    if setup.pad_mode != "constant" and padded is not None:
        dA_prev = _fold(padded, hp["pad"], setup.pad_mode, n_H_prev, n_W_prev)
    dt = np.result_type(setup.dtype, dZ)
    return tuple(x.astype(dt, copy=False) for x in (dA_prev, dW, db))


def pool_forward_loop(A_prev, hparameters, mode="max"):
    """pool_forward with four nested loops; returns A, cache (A_prev, hparameters)."""
    A_prev, hparameters, _, mode, _ = prepare_pool(A_prev, hparameters, mode)
    A, _ = _exercise().pool_forward(A_prev, hparameters, mode)
    return A.astype(A_prev.dtype, copy=False), (A_prev, hparameters)


def pool_backward_loop(dA, cache, mode="max", *, tie_rule="first"):
    """pool_backward with four nested loops; returns dA_prev.

    tie_rule "all" is the exercise's create_mask_from_window (x == np.max(x)); "first" and
    "split" replace its mask line (see core/pool.py for the rule).
    """
    A_prev, hparameters = cache
    A_prev, hparameters, g, mode, tie_rule = prepare_pool(A_prev, hparameters, mode, tie_rule)
    dA = check_grad("dA", dA, (A_prev.shape[0], g.n_H, g.n_W, A_prev.shape[3]))
    dA_prev = _exercise(tie_rule=tie_rule).pool_backward(dA, (A_prev, hparameters), mode)
    return dA_prev.astype(np.result_type(A_prev, dA), copy=False)
