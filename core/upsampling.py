"""Kernels for a transposed convolution used as upsampling, and the running output of its
loop: what Explore's transposed-convolution op draws on a person's image.

Upsampling kernels take their size from the stride (a transposed convolution with stride s
makes an image about s times larger; its kernel says how each input cell spreads):

    nearest   f = s, every weight 1: each input cell fills its own s x s block
              (with pad 0: Z = A_prev repeated s times along both axes, n_H = n_H_prev*s).
    bilinear  f = 2s - s mod 2, W[p, q] = (1 - |p - m|/s) * (1 - |q - m|/s) with the centre
              m = (f - 1)/2 (the FCN / Caffe "bilinear filler"): neighbouring windows
              overlap and their weights add to 1 on every cell away from the border, so the
              output is the input interpolated linearly; with pad = s // 2 the output is
              exactly s times the input, n_H = n_H_prev*s (s = 2: f 4, pad 1).

Example: upsampling_kernel("bilinear", 2) is the outer product of [0.25 0.75 0.75 0.25]
with itself; upsampling_kernel("nearest", 3) is ones((3, 3)).

conv_transpose_windows gives, for a run of steps of core.transpose.conv_transpose_trace's
loop, the output window each step adds into before and after its addition (the canvas,
before the crop of pad and without the bias), so a page can write out
canvas[window] = before + a * W[:, :, :, c] = after with every number core's.
"""

from __future__ import annotations

import numpy as np

from .geometry import GeometryError, check_choice, check_int, prod
from .transpose import conv_transpose_totals, prepare_transpose

UPSAMPLING = ("bilinear", "nearest")


def upsampling_size(name: str, stride: int) -> int:
    """f of the upsampling kernel `name` for `stride`: nearest s, bilinear 2s - s mod 2."""
    name = check_choice("kernel", name, UPSAMPLING)
    s = check_int("stride", stride, minimum=1, what="the upsampling factor")
    return s if name == "nearest" else 2 * s - s % 2


def upsampling_kernel(name: str, stride: int) -> np.ndarray:
    """The (f, f) float64 upsampling kernel `name` for `stride` (module docstring)."""
    f = upsampling_size(name, stride)
    if name == "nearest":
        return np.ones((f, f))
    m = (f - 1) / 2
    ramp = 1.0 - np.abs(np.arange(f) - m) / stride  # (f,)
    return np.outer(ramp, ramp)


def conv_transpose_windows(A_prev, W, b, hparameters, *, output_padding=0, dilation=1,
                           offset=0, limit=64) -> list[tuple[np.ndarray, np.ndarray]]:
    """(before, after) of steps offset .. offset + limit - 1 of conv_transpose_trace's loop,
    each (f, f, n_C): the canvas cells of that step's window (every dilation-th cell of
    canvas[i, vert_start:vert_end, horiz_start:horiz_end, :]) before and after the step
    adds a * W[:, :, :, c]. The canvas before the first of them is conv_transpose_totals at
    offset - 1; a page costs one canvas plus O(limit * f*f*n_C)."""
    s = prepare_transpose(A_prev, W, b, hparameters, output_padding=output_padding,
                          dilation=dilation)
    g = s.geometry
    shape = s.A_prev.shape
    total = prod(shape)
    offset = check_int("offset", offset, minimum=0, what="the first step")
    limit = check_int("limit", limit, minimum=1, what="at least one step")
    if offset >= total:
        raise GeometryError(f"step {offset} does not exist: there are {total} steps "
                            f"(0-{total - 1}).")
    canvas = conv_transpose_totals(s.A_prev, s.W, s.b, s.hparameters, offset - 1)
    out = []
    for k in range(offset, min(total, offset + limit)):
        i, h, w, c = (int(x) for x in np.unravel_index(k, shape))
        rows = slice(h * g.stride, h * g.stride + g.f_eff, g.dilation)
        cols = slice(w * g.stride, w * g.stride + g.f_eff, g.dilation)
        before = canvas[i, rows, cols, :].copy()  # (f, f, n_C)
        canvas[i, rows, cols, :] += s.A_prev[i, h, w, c] * s.W[:, :, :, c]
        out.append((before, canvas[i, rows, cols, :].copy()))
    return out
