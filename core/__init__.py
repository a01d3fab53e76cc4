"""convstep core: the exercise's eight functions, exact and fast, plus geometry and traces.

Pure NumPy, channels-last, the exercise's names:
    Z, cache = conv_forward(A_prev, W, b, {"stride": 2, "pad": 1})
    dA_prev, dW, db = conv_backward(dZ, cache)
    A, cache = pool_forward(A_prev, {"stride": 2, "f": 2}, mode="max")
    dA_prev = pool_backward(dA, cache, mode="max")
    Z, cache = conv_transpose(A_prev, W, b, {"stride": 2, "pad": 1}, output_padding=1)
and a small CNN made of them (core/net.py): net_forward(params, X), net_backward(fwd, y).
"""

from .conv import conv_backward, conv_forward, conv_single_step
from .geometry import Geometry, GeometryError, conv_geometry, pool_geometry
from .kernels import PRESETS, preset_kernel
from .net import DEFAULT_NET, Network, init_params, net_backward, net_forward
from .padding import zero_pad
from .pool import create_mask_from_window, distribute_value, max_mask, pool_backward, pool_forward
from .trace import (
    StepPage,
    conv_backward_row_sums,
    conv_backward_totals,
    conv_backward_trace,
    conv_forward_trace,
    pool_backward_totals,
    pool_backward_trace,
    pool_forward_trace,
    step_index,
    step_position,
)
from .transpose import (
    conv_transpose,
    conv_transpose_backward,
    conv_transpose_trace,
    transpose_geometry,
)

__all__ = [
    "DEFAULT_NET",
    "PRESETS",
    "Geometry",
    "GeometryError",
    "Network",
    "StepPage",
    "conv_backward",
    "conv_backward_row_sums",
    "conv_backward_totals",
    "conv_backward_trace",
    "conv_forward",
    "conv_forward_trace",
    "conv_geometry",
    "conv_single_step",
    "conv_transpose",
    "conv_transpose_backward",
    "conv_transpose_trace",
    "create_mask_from_window",
    "distribute_value",
    "init_params",
    "max_mask",
    "net_backward",
    "net_forward",
    "pool_backward",
    "pool_backward_totals",
    "pool_backward_trace",
    "pool_forward",
    "pool_forward_trace",
    "pool_geometry",
    "preset_kernel",
    "step_index",
    "step_position",
    "transpose_geometry",
    "zero_pad",
]
