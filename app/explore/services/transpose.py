"""Explore's transposed-convolution op on the working image, via core:

    X (1, H, W, C)      = working image / 255
    kernel (f, f)       = core.upsampling.upsampling_kernel(name, stride) for bilinear and
                          nearest, core.preset_kernel(name, f) for the others, or the weights
    W (f, f, C, C)      = kernel on the diagonal of the channels (channel c spreads into c)
    canvas              = core.conv_transpose_totals(X, W, b, hp, last step)  (no crop)
    Z_full              = canvas + b;   Z = Z_full[pad:pad + n_H, pad:pad + n_W]
                          (== core.conv_transpose(X, W, b, hp, ...)[0], tests say so)

Every bound is checked from the shapes before anything is allocated: the settings against
the server's limits, core's geometry (the output_padding rule, an empty output), the
canvas's elements (max_array_elements, 413 naming the output's size) and the spread's work
(max_work_elements); the bytes it holds are admitted like the other Explore routes'. The
working image comes from the image routes' cache (app/explore/services/image.py), so the
same id serves both.
"""

from __future__ import annotations

import time

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

import core
from app.explore.schemas.image import FIRST_PAGE, ImageSettings
from app.explore.schemas.transpose import TransposeOpSettings, TransposeStepsIn
from app.explore.services.image import find_image, possible_shapes, working_image
from app.platform.bounds import (
    FIXED_BYTES,
    check_conv_work,
    check_elements,
    over_limit,
    page_cost,
    page_limit,
)
from app.platform.cache import LruCache
from app.platform.config import Settings
from app.platform.encoding import encode
from app.platform.errors import ApiError
from app.platform.heavy import heavy
from core.transpose import conv_transpose_totals, conv_transpose_trace
from core.upsampling import UPSAMPLING, conv_transpose_windows, upsampling_kernel


def check_op_settings(s: TransposeOpSettings, limits: Settings) -> TransposeOpSettings:
    """The settings within the server's limits (a default size capped at max_size; a size
    the client chose beyond it is a 422) and `f` filled in from the kernel."""
    if "size" not in s.model_fields_set and s.size > limits.max_size:
        s = s.model_copy(update={"size": limits.max_size})
    if s.size > limits.max_size:
        raise over_limit(f"settings.size is {s.size}", limits, "max_size")
    if s.weights is not None:
        return s.model_copy(update={"f": len(s.weights)})
    return s


def kernel_of(s: TransposeOpSettings) -> np.ndarray:
    """The (f, f) kernel the settings name (core's presets and upsampling kernels)."""
    if s.weights is not None:
        return np.asarray(s.weights, dtype=np.float64)
    if s.kernel in UPSAMPLING:
        return upsampling_kernel(s.kernel, s.stride)
    return core.preset_kernel(s.kernel, s.f)


def _hp(s: TransposeOpSettings) -> tuple[dict, dict]:
    return {"stride": s.stride, "pad": s.pad}, {"output_padding": s.output_padding,
                                                "dilation": s.dilation}


def check_op_work(shape: tuple[int, int, int], s: TransposeOpSettings, kernel: np.ndarray,
                  limits: Settings) -> core.transpose.TransposeGeometry:
    """core's geometry (a GeometryError is a 422 with its words), then the output's size
    and the spread's work within the limits (413), from the shapes alone."""
    H, W, C = shape
    g = core.transpose_geometry(H, W, kernel.shape[0], stride=s.stride, pad=s.pad,
                                dilation=s.dilation, output_padding=s.output_padding)
    try:
        check_elements(f"the output before the crop (n_H_full x n_W_full x C = {g.n_H_full} x "
                       f"{g.n_W_full} x {C}; n_H = {g.n_H}, n_W = {g.n_W})",
                       g.n_H_full * g.n_W_full * C, limits)
    except ApiError as exc:
        raise ApiError(exc.status, exc.code, f"{exc.detail} Use a smaller working size, "
                       "stride, f or dilation, or gray.") from None
    check_conv_work("settings", 1, H, W, g.f, C * C, limits)  # each cell spreads f*f*C*C
    return g


def step_numbers(f: int, C: int) -> int:
    """Numbers one step record carries: weights, spread, before and after, (f, f, C) each."""
    return 4 * f * f * C


def op_cost(shape: tuple[int, int, int], g: core.transpose.TransposeGeometry,
            pages: int = 1) -> int:
    """Upper bound of the bytes one run holds: the input, the weights, the canvas twice
    (core's and Z_full) in float64, their float32 copies and base64 text, the `pages` of
    steps (each from a canvas of its own), fixed overhead."""
    H, W, C = shape
    canvas = g.n_H_full * g.n_W_full * C
    kept = H * W * C + g.f * g.f * C * C + 2 * canvas
    steps = pages * (page_cost(FIRST_PAGE, step_numbers(g.f, C)) + 8 * canvas)
    return 24 * kept + steps + FIXED_BYTES


def _weights(kernel: np.ndarray, C: int) -> np.ndarray:
    """W (f, f, C, C): the kernel where the channels meet, zero elsewhere."""
    return kernel[:, :, None, None] * np.eye(C)[None, None]  # (f, f, C, C)


def _page(X: np.ndarray, W: np.ndarray, b: np.ndarray, s: TransposeOpSettings, offset: int,
          limit: int) -> dict:
    """core's trace page with each record's `before` and `after` window of the canvas."""
    hp, kw = _hp(s)
    page = conv_transpose_trace(X, W, b, hp, **kw, offset=offset, limit=limit).to_dict()
    windows = conv_transpose_windows(X, W, b, hp, **kw, offset=page["offset"],
                                     limit=len(page["steps"]))
    for rec, (before, after) in zip(page["steps"], windows, strict=True):
        rec["before"], rec["after"] = before.tolist(), after.tolist()
    return page


def _run(cache: LruCache, source: str, data: bytes, s: TransposeOpSettings,
         limits: Settings) -> dict:
    t0 = time.perf_counter()
    image_id, image = working_image(cache, source, data, _image_settings(s), limits)
    t1 = time.perf_counter()
    kernel = kernel_of(s)
    g = check_op_work(image.shape, s, kernel, limits)
    C = image.shape[2]
    X = image[None].astype(np.float64) / 255.0  # (1, H, W, C)
    W = _weights(kernel, C)
    b = np.full((1, 1, 1, C), s.bias)
    hp, kw = _hp(s)
    canvas = conv_transpose_totals(X, W, b, hp, X.size - 1, **kw)  # (1, n_H_full, n_W_full, C)
    Z_full = canvas[0] + s.bias
    limit = page_limit("limit", FIRST_PAGE, False, limits, step_numbers(g.f, C))
    steps = _page(X, W, b, s, 0, limit)
    geometry = {**g.to_dict(), "n_C": C}
    return {"id": image_id, "settings": s.model_dump(mode="json"), "kernel": kernel.tolist(),
            "geometry": geometry, "arrays": {"input": encode(X[0]), "Z_full": encode(Z_full)},
            "steps": steps, "timing_ms": {"decode": round((t1 - t0) * 1000, 3),
                                          "compute": round((time.perf_counter() - t1)
                                                           * 1000, 3)}}


def _image_settings(s: TransposeOpSettings) -> ImageSettings:
    """The image part of the settings, as the image cache keys it."""
    return ImageSettings(sample=s.sample, size=s.size, color=s.color)


def _cost(cache: LruCache, source: str, data: bytes, s: TransposeOpSettings,
          limits: Settings) -> int:
    """Bytes of one run, from the image's header (or the cached image) before decoding:
    every shape the image may have (EXIF may turn it) checked and costed."""
    kernel = kernel_of(s)
    shapes, decoded = possible_shapes(cache, source, data, s.size, s.color, s.channels, limits)
    return decoded + max(op_cost(shape, check_op_work(shape, s, kernel, limits))
                         for shape in shapes)


async def run(request: Request, source: str, data: bytes, s: TransposeOpSettings,
              limits: Settings) -> dict:
    """The answer of POST /api/explore/transpose (TransposeOpOut), admitted by its cost."""
    cache = request.app.state.cache
    cost = await run_in_threadpool(_cost, cache, source, data, s, limits)
    return await heavy(request, _run, cache, source, data, s, limits, cost=cost,
                       what="this transposed convolution")


async def steps(request: Request, body: TransposeStepsIn, limits: Settings) -> dict:
    """A page of steps (the records of _page) for an image the server still holds."""
    s = check_op_settings(body.settings, limits)
    image = find_image(request.app.state.cache, body.id, _image_settings(s))
    kernel = kernel_of(s)
    g = check_op_work(image.shape, s, kernel, limits)
    C = image.shape[2]
    limit = page_limit("limit", body.limit, "limit" in body.model_fields_set, limits,
                       step_numbers(g.f, C))
    cost = page_cost(limit, step_numbers(g.f, C)) + 24 * g.n_H_full * g.n_W_full * C

    def page() -> dict:
        X = image[None].astype(np.float64) / 255.0
        total = X.size
        if body.offset >= total:
            raise core.GeometryError(f"offset: step {body.offset} does not exist; there are "
                                     f"{total} steps (0-{total - 1}).")
        out = _page(X, _weights(kernel, C), np.full((1, 1, 1, C), s.bias), s, body.offset,
                    limit)
        return {**out, "id": body.id}

    return await heavy(request, page, cost=cost, what="this page of steps")
