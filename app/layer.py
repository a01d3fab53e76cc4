"""One conv layer (+ ReLU + pooling) and its backward pass on a working image, via core.

    X (1, H, W, C) = working image / 255
    Z, conv_cache  = conv_forward(X, W, b, {"stride", "pad"}, pad_mode, pad_value, dilation)
    A              = relu(Z) = max(Z, 0)            (Z itself when relu is off)
    out, pool_cache = pool_forward(A, {"stride", "f"}, mode)      (out = A without pooling)
    dOut           = ones | out | standard normal(seed)          (dL/d out, the "upstream")
    dA_pool        = pool_backward(dOut, pool_cache, mode, tie_rule)   (dL/dA)
    dZ             = dA_pool * (Z > 0)   (ReLU lets the gradient through where Z > 0; at
                                          Z == 0 exactly it counts as off, gradient 0)
    dA_prev, dW, db = conv_backward(dZ, conv_cache)

No arithmetic of the layer lives here beyond ReLU and the upstream choice: every conv and
pool number, and every step record, comes from core.
"""

from __future__ import annotations

import base64
import json
import typing
from dataclasses import dataclass

import numpy as np

import core
from app.image_models import FIRST_PAGE, ArrayName, ImageSettings

PoolCache = tuple[np.ndarray, dict]


@dataclass(frozen=True)
class TraceInputs:
    """What every stage's step pages need, kept in the cache between requests."""

    conv_cache: tuple  # (X, W, b, hparameters) as core's conv_forward returns it
    A: np.ndarray | None  # (1, n_H, n_W, n_C), the pooling layer's input
    pool_cache: PoolCache | None
    dOut: np.ndarray  # upstream gradient at the last output
    dZ: np.ndarray  # (1, n_H, n_W, n_C)
    # core.conv_backward_row_sums(dZ), (1, n_H + 1, n_C): db at the start of every output
    # row, computed once with the backward pass so that a conv_backward page anywhere costs
    # O(page), not a sum over every dZ before it.
    db_prefix: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        arrays = [*self.conv_cache[:3], self.dOut, self.dZ]
        if self.db_prefix is not None:
            arrays.append(self.db_prefix)
        if self.A is not None:
            arrays.append(self.A)
        return sum(a.nbytes for a in arrays) + 4096


ARRAY_NAMES: tuple[str, ...] = typing.get_args(ArrayName)


@dataclass(frozen=True)
class LayerResult:
    """Every array the page draws (float32, little-endian, C order; batch axis dropped) with
    the (min, max) of the exact float64 values, the geometry, and what the steps need."""

    arrays: dict[str, np.ndarray]
    ranges: dict[str, tuple[float, float]]
    geometry: dict
    stages: list[str]
    trace: TraceInputs

    @property
    def nbytes(self) -> int:
        return self.trace.nbytes + sum(a.nbytes for a in self.arrays.values())

    def arrays_json(self, names: tuple[str, ...] | None = None,
                    encoding: str = "float32") -> list[bytes]:
        """The JSON object {name: ARR, ...} for `names` (default all) as a list of byte
        chunks to be sent one after the other: the base64 text of each array goes out as it
        is, never copied into one big string (at size 512 that is 74 MB). `encoding`
        "display" sends every array but W, b, dW, db as one byte per value (see
        display_code); "float32" sends them all as float32."""
        chunks = [b"{"]
        for name in names if names is not None else self.arrays:
            if name not in self.arrays:
                continue
            a = self.arrays[name]
            lo, hi = self.ranges[name]
            head: dict = {"shape": list(a.shape)}
            if encoding == "display" and name not in FLOAT32_ALWAYS:
                q, offset, scale, exact = display_code(a, lo, hi)
                head.update(dtype="uint8", encoding="display", min=lo, max=hi, offset=offset,
                            scale=scale, exact=exact)
                data = q.data
            else:
                head.update(dtype="float32", min=lo, max=hi)
                data = a.data
            sep = b"" if len(chunks) == 1 else b", "
            chunks += [sep + json.dumps(name).encode() + b": " + json.dumps(head)[:-1].encode()
                       + b', "data": "', base64.b64encode(data), b'"}']
        chunks.append(b"}")
        return chunks


# The parameters and their gradients stay float32 in the display encoding: they are tiny
# and the page shows their numbers (the filter form, the gradient tables).
FLOAT32_ALWAYS = frozenset({"W", "b", "dW", "db"})
ENCODINGS = ("float32", "display")


def _lut(offset: float, scale: float) -> np.ndarray:
    """The 256 values a display byte decodes to, as the page computes them: float64
    offset + q * scale, then rounded to float32."""
    return (np.arange(256, dtype=np.float64) * scale + offset).astype("<f4")


def display_code(a: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, float, float, bool]:
    """One byte per value for drawing: (q uint8 of a's shape, offset, scale, exact) with
    value ~= offset + q * scale, within half a step (scale / 2) of the float32 value.

    - values that are all k/255 for k in 0..255 (a working image: input, padded): offset
      0, scale 1/255, q = k, exact;
    - values that are all integers spanning at most 255 (masks, routed ones, counts):
      offset lo, scale 1, exact;
    - a constant array (lo == hi): q = 0, offset lo, scale 0, exact;
    - signed values (lo < 0): zero-symmetric for a diverging scale, m = max(-lo, hi),
      scale = m / 127, offset = -128 * scale: q = 128 + round(v / scale) in 1..255, so
      0 is q = 128 exactly, -m is q = 1 and m is q = 255;
    - otherwise (lo >= 0): offset lo, scale (hi - lo) / 255, q = round((v - lo) / scale):
      q is the index the page's sequential scale (lo..hi, 256 colours) gives the value.

    `exact` is true when every q decodes (float64 offset + q * scale rounded to float32) to
    exactly the float32 value: the picture and every number are then those of float32.
    """
    a = np.asarray(a, dtype=np.float32)
    candidates = []
    if lo >= 0 and hi <= 1 and _integral(lo * 255) and _integral(hi * 255):
        candidates.append((0.0, 1 / 255))
    if _integral(lo) and _integral(hi) and hi - lo <= 255:
        candidates.append((float(lo), 1.0))
    for offset, scale in candidates:
        t = a if offset == 0 else a - np.float32(offset)
        q = np.rint(t / np.float32(scale)).clip(0, 255).astype(np.uint8)
        if np.array_equal(_lut(offset, scale)[q], a):
            return q, offset, scale, True
    if hi == lo:
        return np.zeros(a.shape, np.uint8), float(lo), 0.0, True
    if lo < 0:
        scale = max(-lo, hi) / 127
        offset = -128 * scale
        t = a * np.float32(1 / scale)
        np.rint(t, out=t)
        t += 128
        np.clip(t, 1, 255, out=t)
    else:
        scale = (hi - lo) / 255
        offset = float(lo)
        t = a - np.float32(lo)
        t *= np.float32(1 / scale)
        np.rint(t, out=t)
        np.clip(t, 0, 255, out=t)
    return t.astype(np.uint8), offset, scale, False


def _integral(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def build_filters(settings: ImageSettings) -> tuple[np.ndarray, np.ndarray]:
    """W (f, f, C, n_C) and b (1, 1, 1, n_C) from the settings' filters.

    A preset is repeated on every channel and divided by C (so a blur of a gray image and
    of its RGB copy agree); explicit (f, f) weights are repeated as they are.
    """
    f, C = settings.f, settings.channels
    W = np.empty((f, f, C, len(settings.filters)))
    b = np.empty((1, 1, 1, len(settings.filters)))
    for k, flt in enumerate(settings.filters):
        if flt.preset is not None:
            kernel = core.preset_kernel(flt.preset, f)[:, :, None] / C  # (f, f, 1)
        else:
            kernel = np.asarray(flt.weights, dtype=np.float64)
            if kernel.ndim == 2:
                kernel = kernel[:, :, None]  # (f, f, 1), repeated over C below
        W[:, :, :, k] = kernel
        b[0, 0, 0, k] = flt.bias
    return W, b


def conv_kwargs(settings: ImageSettings) -> dict:
    pad_value = settings.pad_value
    return {"pad_mode": settings.pad_mode,
            "pad_value": tuple(pad_value) if isinstance(pad_value, list) else pad_value,
            "dilation": settings.dilation}


def upstream(settings: ImageSettings, out: np.ndarray) -> np.ndarray:
    kind = settings.upstream.kind
    if kind == "ones":
        return np.ones_like(out)
    if kind == "output":
        return out.copy()
    return np.random.default_rng(settings.upstream.seed).standard_normal(out.shape)


def run(image: np.ndarray, settings: ImageSettings) -> LayerResult:
    """Forward and backward through the layer for a (H, W, C) uint8 working image."""
    X = image[None].astype(np.float64) / 255.0  # (1, H, W, C)
    W, b = build_filters(settings)
    hp = {"stride": settings.stride, "pad": settings.pad}
    kw = conv_kwargs(settings)
    Z, conv_cache = core.conv_forward(X, W, b, hp, **kw)  # (1, n_H, n_W, n_C)
    A = np.maximum(Z, 0.0) if settings.relu else Z
    arrays = {
        "input": X[0],
        "padded": core.zero_pad(X, settings.pad, pad_mode=kw["pad_mode"],
                                pad_value=kw["pad_value"])[0],
        "W": W, "b": b.reshape(-1), "Z": Z[0], "A": A[0],
    }
    conv_g = core.conv_geometry(X.shape[1], X.shape[2], settings.f, stride=settings.stride,
                                pad=settings.pad, dilation=settings.dilation)
    stages = ["pad", "conv_forward", *(["relu"] if settings.relu else [])]
    pool_g = None
    pool_cache = None
    pool = settings.pool
    if pool is not None:
        pool_hp = {"stride": pool.stride, "f": pool.f}
        pooled, pool_cache = core.pool_forward(A, pool_hp, mode=pool.mode)  # (1, n_Hp, n_Wp, n_C)
        pool_g = core.pool_geometry(A.shape[1], A.shape[2], pool.f, stride=pool.stride)
        dOut = upstream(settings, pooled)
        dA_pool = core.pool_backward(dOut, pool_cache, mode=pool.mode, tie_rule=pool.tie_rule)
        # pool_mask routes all-ones through the pool: the same as dA_pool for upstream "ones".
        pool_mask = dA_pool if settings.upstream.kind == "ones" else core.pool_backward(
            np.ones_like(pooled), pool_cache, mode=pool.mode, tie_rule=pool.tie_rule)
        arrays.update(pooled=pooled[0], pool_mask=pool_mask[0], dA=dOut[0], dA_pool=dA_pool[0])
        stages += ["pool_forward", "pool_backward"]
    else:
        dOut = upstream(settings, A)
        dA_pool = dOut
        arrays["dA"] = dOut[0]
    dZ = dA_pool * (Z > 0) if settings.relu else dA_pool
    dA_prev, dW, db = core.conv_backward(dZ, conv_cache)
    arrays.update(dZ=dZ[0], dA_prev=dA_prev[0], dW=dW, db=db.reshape(-1))
    stages.append("conv_backward")
    geometry = {"conv": conv_g.to_dict(), "pool": pool_g.to_dict() if pool_g else None}
    trace = TraceInputs(conv_cache, A if pool is not None else None, pool_cache, dOut, dZ,
                        db_prefix=core.conv_backward_row_sums(dZ))
    ordered = [n for n in ARRAY_NAMES if n in arrays]
    return LayerResult(
        arrays={n: np.ascontiguousarray(arrays[n], dtype="<f4") for n in ordered},
        ranges={n: (float(arrays[n].min()), float(arrays[n].max())) for n in ordered},
        geometry=geometry, stages=stages, trace=trace)


def step_page(trace: TraceInputs, settings: ImageSettings, stage: str, *, offset: int = 0,
              limit: int = FIRST_PAGE, position: tuple[int, ...] | None = None) -> dict:
    """core's StepPage for `stage` as a dict (batch index 0); position is (h, w, c)."""
    where = {"offset": offset, "limit": limit,
             "position": None if position is None else (0, *position)}
    X, W, b, hp = trace.conv_cache
    pool = settings.pool
    if stage == "conv_forward":
        page = core.conv_forward_trace(X, W, b, hp, **conv_kwargs(settings), **where)
    elif stage == "conv_backward":
        page = core.conv_backward_trace(trace.dZ, trace.conv_cache, db_prefix=trace.db_prefix,
                                        **where)
    elif pool is None:
        raise ValueError(f"stage {stage} needs pooling")
    elif stage == "pool_forward":
        page = core.pool_forward_trace(trace.A, trace.pool_cache[1], mode=pool.mode,
                                       tie_rule=pool.tie_rule, **where)
    else:
        page = core.pool_backward_trace(trace.dOut, trace.pool_cache, mode=pool.mode,
                                        tie_rule=pool.tie_rule, **where)
    return page.to_dict()


def totals(trace: TraceInputs, settings: ImageSettings, stage: str, k: int) -> dict:
    """Running totals after steps 0..k of a backward stage (ARRs, batch axis dropped)."""
    if stage == "conv_backward":
        dA_prev_pad, dW, db = core.conv_backward_totals(trace.dZ, trace.conv_cache, k)
        return {"index": k, "dA_prev_pad": encode(dA_prev_pad[0]), "dW": encode(dW),
                "db": encode(db.reshape(-1))}
    pool = settings.pool
    dA_prev = core.pool_backward_totals(trace.dOut, trace.pool_cache, k, mode=pool.mode,
                                        tie_rule=pool.tie_rule)
    return {"index": k, "dA_prev": encode(dA_prev[0])}


def encode(a: np.ndarray) -> dict:
    """ARR: {"shape", "dtype": "float32", "data": base64 little-endian, "min", "max"}."""
    return {"shape": list(a.shape), "dtype": "float32",
            "data": base64.b64encode(np.ascontiguousarray(a, dtype="<f4").data).decode("ascii"),
            "min": float(a.min()), "max": float(a.max())}
