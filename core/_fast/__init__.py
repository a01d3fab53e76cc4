"""The fast path, behind one door: what core's layer functions call to be fast.

core/conv.py and core/pool.py read like the exercise (validate, then one call here); the
machinery that makes them fast lives in this package, and nothing else in core reaches into
it (core/workspace.py, the public face of the memory bounds, re-exports them from here):

- gemm.py: the convolution as matrix products (im2col by stride phases + GEMM in blocks),
  forward and backward, and why it is laid out so;
- parallel.py: passes cut over the BLAS threads (ctypes into OpenBLAS), bit-identical to one
  thread;
- scratch.py: the pool of intermediate buffers the convolution reuses between calls;
- bands.py: pooling's bands of rows (cache-sized), on threads, in one thread's order;
- workspace.py: an upper bound of the bytes each fast function allocates, computed from the
  shapes before anything is allocated (the server's admission uses it).

Every function here is checked against the exercise's loops (core/loops.py) and finite
differences in tests/core.
"""

from __future__ import annotations

import numpy as np

from ..padding import fold_pad
from . import gemm
from .bands import pool_backward_bands, pool_bands
from .scratch import scratch_scope
from .workspace import (
    SCRATCH_POOL_MAX_BYTES,
    conv_backward_breakdown,
    conv_backward_bytes,
    conv_forward_breakdown,
    conv_forward_bytes,
    pool_backward_breakdown,
    pool_backward_bytes,
    pool_forward_breakdown,
    pool_forward_bytes,
)

__all__ = [
    "SCRATCH_POOL_MAX_BYTES",
    "conv_backward",
    "conv_backward_breakdown",
    "conv_backward_bytes",
    "conv_backward_padded",
    "conv_forward",
    "conv_forward_breakdown",
    "conv_forward_bytes",
    "pool_backward_bands",
    "pool_backward_breakdown",
    "pool_backward_bytes",
    "pool_bands",
    "pool_forward_breakdown",
    "pool_forward_bytes",
]


def conv_forward(setup) -> np.ndarray:
    """Z (m, n_H, n_W, n_C) of a validated conv call (core/conv.py's ConvSetup)."""
    with scratch_scope():
        return gemm.forward(setup)


def conv_backward(setup, dZ: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dA_prev, dW, db of a validated conv call: the padded gradient cropped (zero padding:
    the pad cells' gradient is dropped on the way) or folded back into the cells the pad
    cells copy (reflect, edge; core/padding.py)."""
    g, m = setup.geometry, setup.A_prev.shape[0]
    with scratch_scope():
        if setup.pad_mode == "constant":
            grad, layout, dW, db = gemm.backward(setup, dZ, dtype, grad_scratch=True)
            return gemm.constant_grad_input(grad, layout, g, m), dW, db
        grad, layout, dW, db = gemm.backward(setup, dZ, dtype, grad_scratch=False)
    dA_pad = gemm.padded_grad_input(grad, layout, g, m)  # (C, m, n_H_pad, n_W_pad)
    dA_prev = fold_pad(dA_pad, g.pad, setup.pad_mode, g.n_H_prev, g.n_W_prev, axes=(2, 3))
    return np.ascontiguousarray(dA_prev.transpose(1, 2, 3, 0)), dW, db


def conv_backward_padded(setup, dZ: np.ndarray, dtype):
    """dA_pad (m, n_H_pad, n_W_pad, n_C_prev), dW, db: the backward pass before the crop."""
    with scratch_scope():
        grad, layout, dW, db = gemm.backward(setup, dZ, dtype, grad_scratch=False)
    dA_pad = gemm.padded_grad_input(grad, layout, setup.geometry, setup.A_prev.shape[0])
    return np.ascontiguousarray(dA_pad.transpose(1, 2, 3, 0)), dW, db
