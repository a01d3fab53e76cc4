"""Memory before the work: the bytes each fast layer function will allocate at its peak, from
the shapes of a request, before any array is built (the server refuses what is too large).

The public face of core/_fast/workspace.py, which computes the bounds next to the code they
describe (read its docstring for the parts and the formula):

    conv_forward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode=, dilation=, itemsize=)
    conv_backward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode=, dilation=, itemsize=)
    pool_forward_bytes(A_prev_shape, hparameters, mode=, *, itemsize=)
    pool_backward_bytes(A_prev_shape, hparameters, mode=, *, tie_rule=, itemsize=)

and the *_breakdown functions (the same bound as named parts, for error messages).
SCRATCH_POOL_MAX_BYTES is what the convolution's scratch pool may keep between calls.
"""

from __future__ import annotations

from ._fast import (
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
    "conv_backward_breakdown",
    "conv_backward_bytes",
    "conv_forward_breakdown",
    "conv_forward_bytes",
    "pool_backward_breakdown",
    "pool_backward_bytes",
    "pool_forward_breakdown",
    "pool_forward_bytes",
]
