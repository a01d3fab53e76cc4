"""The work behind the image routes: working images and layer results, cached, and the
answers of /api/image, /api/steps and /api/arrays.

A working image is decoded once per (source, size, colour) and kept under its content id;
a layer result is computed once per (image id, layer settings) and kept next to its image
(app/platform/cache.py). Every request checks, admits and runs by the layer's LayerPlan
(app/explore/services/plan.py), made from its settings and the image's shape. Computing
runs in a heavy slot in the thread pool (app/platform/heavy.py); a page of steps from a
result already cached runs at once, since it costs only its own steps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.explore.schemas.image import (
    FIRST_PAGE,
    ArraysIn,
    ImageSettings,
    StepsIn,
)
from app.explore.services import layer, steps
from app.explore.services.plan import (
    LayerPlan,
    check_settings,
    has_transpose,
    make_plan,
    stage_step_numbers,
)
from app.platform import imaging
from app.platform.bounds import page_limit
from app.platform.cache import LruCache
from app.platform.config import Settings
from app.platform.encoding import arrays_json
from app.platform.errors import ApiError
from app.platform.heavy import heavy
from app.platform.responses import maybe_gzip

T = TypeVar("T")
Answer = tuple[list[bytes], str | None]  # JSON byte chunks and their Content-Encoding


def parse_names(raw: str | None) -> tuple[str, ...] | None:
    """`arrays=input,Z,dW` -> ("input", "Z", "dW"); None means every array."""
    if raw is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [n for n in names if n not in layer.ARRAY_NAMES]
    if unknown:
        raise ApiError(422, "no_such_array", f"arrays: unknown name(s) {', '.join(unknown)}; "
                       f"choose from {', '.join(layer.ARRAY_NAMES)}.")
    return names


def working_image(cache: LruCache, source: str, data: bytes, s: ImageSettings,
                  limits: Settings) -> tuple[str, np.ndarray]:
    """(id, (H, W, C) uint8) of the source at the settings' size and colour, decoded once."""
    alias = ("alias", source, s.size, s.color)
    image_id = cache.get(alias)
    if image_id is not None:
        image = cache.get(("image", image_id))
        if image is not None:
            return image_id, image
    image = imaging.decode(data, size=s.size, color=s.color, max_pixels=limits.max_pixels,
                           max_decode_bytes=limits.max_decode_bytes)
    image_id = imaging.image_id(image)
    cache.put(("image", image_id), image, image.nbytes + 256)
    cache.put(alias, image_id, 256, keep=(("image", image_id),))
    return image_id, image


def admitted_plan(s: ImageSettings, shape: tuple[int, int, int],
                  limits: Settings) -> LayerPlan:
    """The layer's plan on an image of `shape`, its geometry (core's 422) and its window
    reads (413) checked: what every route admits work by."""
    plan = make_plan(s, shape)
    plan.check_work(limits)
    return plan


def get_result(cache: LruCache, image_id: str, image: np.ndarray,
               plan: LayerPlan) -> layer.LayerResult:
    """The layer's result for this image and this (admitted) plan: from the cache, or
    computed and cached next to its image."""
    key = ("result", image_id, plan.settings.layer_key())
    result = cache.get(key)
    if result is None:
        result = layer.run(image, plan)
        cache.put(key, result, result.nbytes, keep=(("image", image_id),))
    return result


def find_image(cache: LruCache, image_id: str, s: ImageSettings) -> np.ndarray:
    """The cached working image of `image_id`, or 404 unknown_image (also when it does not
    fit the settings' size and colour)."""
    image = cache.get(("image", image_id))
    if image is None:
        raise ApiError(404, "unknown_image", f"id {image_id} is not in this server's cache "
                       "(evicted, restarted or another worker): send the image to /api/image "
                       "again.")
    H, W, C = image.shape
    if max(H, W) != s.size or s.channels != C:
        raise ApiError(404, "unknown_image", f"id {image_id} is a {W} x {H} image with {C} "
                       f"channel(s), not one of size {s.size} in '{s.color}': send the image "
                       "to /api/image again with these settings.")
    return image


def _image_answer(cache: LruCache, source: str, data: bytes, s: ImageSettings,
                  names: tuple[str, ...] | None, limits: Settings, encoding: str,
                  gzip: bool, plans: tuple[LayerPlan, ...] = ()) -> Answer:
    t0 = time.perf_counter()
    image_id, image = working_image(cache, source, data, s, limits)
    t1 = time.perf_counter()
    # the plan admitted for this shape (image_cost's), or made now
    plan = next((p for p in plans if p.shape == image.shape), None)
    if plan is None:
        plan = admitted_plan(s, image.shape, limits)
    result = get_result(cache, image_id, image, plan)
    pages = {stage: steps.step_page(result, stage, limit=page_limit(
                 "limit", FIRST_PAGE, False, limits, plan.step_numbers(stage)))
             for stage in plan.step_stages}
    arrays = arrays_json(result.arrays, result.ranges, names, encoding)
    t2 = time.perf_counter()
    rest = json.dumps({
        "id": image_id, "settings": s.model_dump(mode="json"), "geometry": result.geometry,
        "stages": plan.stages, "steps": pages,
        "timing_ms": {"decode": round((t1 - t0) * 1000, 3),
                      "compute": round((t2 - t1) * 1000, 3)}})
    chunks = [rest[:-1].encode() + b', "arrays": ', *arrays, b"}"]
    del arrays  # gzip frees each plain chunk once it is compressed
    return maybe_gzip(chunks, gzip, limits.gzip_level)


def possible_shapes(cache: LruCache, source: str, data: bytes, size: int, color: str,
                    channels: int, limits: Settings) -> tuple[list[tuple[int, int, int]], int]:
    """(The working shapes the image `source` may have at this size and colour, the bytes its
    decoding will hold), before anything is decoded: the cached image's own shape (0 bytes),
    else both turns of the shape its header gives (EXIF may turn it), checked against the
    pixel and decode limits (imaging.probe's 413/415)."""
    alias = cache.get(("alias", source, size, color))
    image = None if alias is None else cache.get(("image", alias))
    if image is not None:
        return [image.shape], 0
    width, height, decoded = imaging.probe(
        data, size=size, color=color, max_pixels=limits.max_pixels,
        max_decode_bytes=limits.max_decode_bytes)
    w, h = imaging.working_size(width, height, size)
    w2, h2 = imaging.working_size(height, width, size)
    return [(h, w, channels), (h2, w2, channels)], decoded


def image_cost(cache: LruCache, source: str, data: bytes, s: ImageSettings,
               limits: Settings) -> tuple[int, tuple[LayerPlan, ...]]:
    """(Upper bound of the bytes /api/image holds for this source and these settings, the
    plans admitted): the decoded image (from its header, when it is not cached yet) and the
    layer with its answer (LayerPlan.cost) on each shape the image may have, before
    anything is decoded."""
    shapes, decoded = possible_shapes(cache, source, data, s.size, s.color, s.channels, limits)
    plans = tuple(admitted_plan(s, shape, limits) for shape in shapes)
    return decoded + max(p.cost(first_pages=1) for p in plans), plans


async def image_answer(request: Request, source: str, data: bytes, s: ImageSettings,
                       names: tuple[str, ...] | None, limits: Settings, encoding: str,
                       gzip: bool) -> Answer:
    """The JSON answer of /api/image (ImageOut) as byte chunks, gzipped when `gzip`, with
    its content encoding: the image `source` (bytes `data`) decoded, the layer run, the
    first page of every stage's steps. Admitted by its cost (image_cost) first."""
    cache = request.app.state.cache
    cost, plans = await run_in_threadpool(image_cost, cache, source, data, s, limits)
    return await heavy(request, _image_answer, cache, source, data, s, names, limits,
                       encoding, gzip, plans, cost=cost, what="this image request")


async def _with_result(request: Request, fn: Callable[..., T], image_id: str,
                       s: ImageSettings, limits: Settings, cost_of: Callable[[LayerPlan], int],
                       *args: Any) -> T:
    """fn(result, *args) in the thread pool, admitted with its own cost (`cost_of` the
    layer's plan on the held image) when the result is cached (a page costs only its own
    steps: light, it passes heavy work that waits), else with the layer's cost too,
    computing it first. 404 when the image is no longer held."""
    cache: LruCache = request.app.state.cache
    image = find_image(cache, image_id, s)
    result = cache.get(("result", image_id, s.layer_key()))
    if result is not None:  # its plan was admitted when it was computed
        return await heavy(request, fn, result, *args, cost=cost_of(make_plan(s, image.shape)))
    plan = admitted_plan(s, image.shape, limits)

    def compute_then():
        return fn(get_result(cache, image_id, image, plan), *args)

    return await heavy(request, compute_then, cost=cost_of(plan) + plan.cost(),
                       what="computing this layer")


def _steps_answer(result: layer.LayerResult, body: StepsIn, limit: int) -> dict:
    position = None if body.position is None else tuple(body.position)
    page = steps.step_page(result, body.stage, offset=body.offset, limit=limit,
                           position=position)
    out = {**page, "id": body.id, "stage": body.stage}
    if body.totals_at is not None:
        out["totals"] = steps.totals(result, body.stage, body.totals_at)
    return out


async def steps_answer(request: Request, body: StepsIn, limits: Settings) -> dict:
    """The /api/steps answer (StepsOut): the page's `limit` within the limits (the
    default capped by them), the settings within the limits, the stage one they have."""
    limit = page_limit("limit", body.limit, "limit" in body.model_fields_set, limits,
                       stage_step_numbers(body.settings, body.stage))
    body = body.model_copy(update={"settings": check_settings(body.settings, limits)})
    s = body.settings
    if body.stage.startswith("pool") and s.pool is None:
        raise ApiError(422, "no_such_stage", f"stage '{body.stage}' needs pooling, but "
                       "settings.pool is null.")
    if body.stage == "backward_transpose" and not has_transpose(s):
        raise ApiError(422, "no_such_stage", "stage 'backward_transpose' exists for "
                       f"settings.pad_mode 'constant', not '{s.pad_mode}' (that mode folds "
                       "the padding's gradient back into dA_prev).")
    if body.totals_at is not None and not body.stage.endswith("backward"):
        raise ApiError(422, "no_totals", "totals_at: running totals exist for the backward "
                       f"stages (conv_backward, pool_backward), not for '{body.stage}'.")
    totals = body.totals_at is not None
    return await _with_result(request, _steps_answer, body.id, s, limits,
                              lambda plan: plan.steps_cost(body.stage, limit, totals),
                              body, limit)


def _arrays_answer(result: layer.LayerResult, body: ArraysIn, encoding: str, gzip: bool,
                   level: int) -> Answer:
    return maybe_gzip([b'{"id": ' + json.dumps(body.id).encode() + b', "arrays": ',
                       *arrays_json(result.arrays, result.ranges, tuple(body.names), encoding),
                       b"}"], gzip, level)


async def arrays_answer(request: Request, body: ArraysIn, limits: Settings, encoding: str,
                        gzip: bool) -> Answer:
    """The /api/arrays answer (ArraysOut) as byte chunks, the settings within the limits."""
    body = body.model_copy(update={"settings": check_settings(body.settings, limits)})
    return await _with_result(request, _arrays_answer, body.id, body.settings, limits,
                              lambda plan: plan.arrays_cost(len(body.names)),
                              body, encoding, gzip, limits.gzip_level)
