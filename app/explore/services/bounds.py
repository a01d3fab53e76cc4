"""The Explore layer's settings checked against the server's limits, and the bytes running
the layer costs, before any work (the generic checks and costs: app/platform/bounds.py)."""

from __future__ import annotations

import numpy as np

from app.explore.schemas.image import FIRST_PAGE, ImageSettings
from app.platform.bounds import (
    FIXED_BYTES,
    check_conv_work,
    check_pool_work,
    page_cost,
    step_numbers,
)
from app.platform.config import Settings
from core import conv_geometry, pool_geometry, workspace


def check_layer_work(image: np.ndarray | tuple[int, int, int], s: ImageSettings,
                     limits: Settings) -> None:
    """Geometry (core's message on failure) and the layer's window reads, before any work,
    for a working image or its shape (H, W, C)."""
    H, W, C = image if isinstance(image, tuple) else image.shape
    g = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
    check_conv_work("settings", 1, g.n_H, g.n_W, s.f, C, limits)
    if s.pool is not None:
        p = pool_geometry(g.n_H, g.n_W, s.pool.f, stride=s.pool.stride)
        check_pool_work("settings.pool", 1, p.n_H, p.n_W, len(s.filters), p.f, limits)


def layer_cost(shape: tuple[int, int, int], s: ImageSettings, *, first_pages: int = 0) -> int:
    """Upper bound of the bytes that running the layer on a (H, W, C) working image holds at
    its peak (app/explore/services/layer.py's run, then its answer): core/workspace.py's bounds of
    conv_forward, conv_backward and the pooling, every array of the result in float64 and
    float32, their JSON text (base64 or one byte per value, and its gzip), and `first_pages`
    pages of FIRST_PAGE steps of every stage."""
    H, W, C = shape
    n_C = len(s.filters)
    hp = {"stride": s.stride, "pad": s.pad}
    conv = {"pad_mode": s.pad_mode, "dilation": s.dilation}
    X, Wsh = (1, H, W, C), (s.f, s.f, C, n_C)
    g = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
    out = g.n_H * g.n_W * n_C
    work = (workspace.conv_forward_bytes(X, Wsh, hp, **conv)
            + workspace.conv_backward_bytes(X, Wsh, hp, **conv))
    kept = H * W * C * 3 + (H + 2 * s.pad) * (W + 2 * s.pad) * C + 4 * out  # input, dA_prev,
    if s.pool is not None:                                 # padded, Z, A, dZ, dA(_pool)
        p_hp = {"stride": s.pool.stride, "f": s.pool.f}
        A = (1, g.n_H, g.n_W, n_C)
        work += (workspace.pool_forward_bytes(A, p_hp, s.pool.mode)
                 + 2 * workspace.pool_backward_bytes(A, p_hp, s.pool.mode,
                                                     tie_rule=s.pool.tie_rule))
        p = pool_geometry(g.n_H, g.n_W, s.pool.f, stride=s.pool.stride)
        kept += 2 * out + 2 * p.n_H * p.n_W * n_C  # pool_mask, dA_pool, pooled, dA
    kept += 2 * s.f * s.f * C * n_C + 2 * n_C
    if s.pad_mode == "constant":  # backward_transpose: dZ_up, built in a buffer at most
        # (n_H - 1)*stride + 1 + 2*|border| + output_padding a side, and W_flip
        border = abs(g.f_eff - 1 - s.pad)
        up_H = (g.n_H - 1) * s.stride + 1 + 2 * border + s.stride
        up_W = (g.n_W - 1) * s.stride + 1 + 2 * border + s.stride
        kept += 2 * up_H * up_W * n_C + s.f * s.f * C * n_C
    pages = 0
    if first_pages:
        per_step = step_numbers("conv", s.f, C)
        pages = 2 * page_cost(FIRST_PAGE, per_step)
        if s.pad_mode == "constant":
            pages += page_cost(FIRST_PAGE, step_numbers("conv", s.f, n_C))
        if s.pool is not None:
            pages += 2 * page_cost(FIRST_PAGE, step_numbers("pool", s.pool.f, 1))
    # float64 while computing + float32 kept (12 bytes), JSON text and gzip (12 bytes)
    return work + 24 * kept + pages + FIXED_BYTES
