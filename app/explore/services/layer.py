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
    dZ_up, W_flip   = transpose_as_convolution(dZ, W, hp, output_padding=r, dilation)
                      (the backward_transpose stage, pad_mode constant only: then
                       dA_prev == conv_forward(dZ_up, W_flip, 0, stride 1, pad 0, dilation);
                       r = the rows and columns the forward floor dropped)

No arithmetic of the layer lives here beyond ReLU and the upstream choice: every conv and
pool number comes from core. The step records of a stage are read from the kept
TraceInputs by app/explore/services/steps.py; the arrays go out through
app/platform/encoding.py.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

import core
from app.explore.schemas.image import ArrayName, ImageSettings
from core.transpose import transpose_as_convolution, transposed_counterpart

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
    # backward_transpose: dZ_up (1, n_up_H, n_up_W, n_C) and W_flip (f, f, n_C, C), None
    # without the stage
    dZ_up: np.ndarray | None = None
    W_flip: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        arrays = [*self.conv_cache[:3], self.dOut, self.dZ]
        arrays += [a for a in (self.db_prefix, self.A, self.dZ_up, self.W_flip)
                   if a is not None]
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


def backward_transpose(dZ: np.ndarray, W: np.ndarray,
                       conv_g: core.Geometry) -> tuple[np.ndarray, np.ndarray, dict]:
    """(dZ_up, W_flip, geometry) of dA_prev seen as the transposed convolution of dZ with W,
    drawn as a stride-1 convolution (core.transpose.transpose_as_convolution): the
    transposed convolution with the layer's f, stride, pad and dilation and output_padding
    the rows and columns the forward floor dropped (core.transpose.transposed_counterpart)
    gives back the input's size, so conv_forward(dZ_up, W_flip, 0, {stride 1, pad 0},
    dilation) == dA_prev. Only for pad_mode constant: the other modes fold the gradient of
    the pad cells back into dA_prev, which a transposed convolution does not."""
    back = transposed_counterpart(conv_g.n_H_prev, conv_g.n_W_prev, conv_g.f,
                                  stride=conv_g.stride, pad=conv_g.pad,
                                  dilation=conv_g.dilation)
    hp = {"stride": conv_g.stride, "pad": conv_g.pad}
    dZ_up, W_flip, inserted = transpose_as_convolution(dZ, W, hp, dilation=conv_g.dilation,
                                                output_padding=back["output_padding"])
    up_g = core.conv_geometry(dZ_up.shape[1], dZ_up.shape[2], conv_g.f, stride=1, pad=0,
                              dilation=conv_g.dilation)
    t_g = core.transpose_geometry(dZ.shape[1], dZ.shape[2], conv_g.f, stride=conv_g.stride,
                                  pad=conv_g.pad, dilation=conv_g.dilation,
                                  output_padding=back["output_padding"])
    geometry = {"conv": up_g.to_dict(), "stride": conv_g.stride,
                "border": conv_g.f_eff - 1 - conv_g.pad,
                "output_padding": list(back["output_padding"]),
                "n_H_dZ": dZ.shape[1], "n_W_dZ": dZ.shape[2], "n_C": W.shape[2],
                "dZ_rows": np.flatnonzero((~inserted).any(axis=1)).tolist(),
                "dZ_cols": np.flatnonzero((~inserted).any(axis=0)).tolist(),
                "formula": f"{t_g.formula_H}; {t_g.formula_W}"}
    return dZ_up, W_flip, geometry


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
    geometry = {"conv": conv_g.to_dict(), "pool": pool_g.to_dict() if pool_g else None,
                "transpose": None}
    dZ_up = W_flip = None
    if settings.pad_mode == "constant":  # other modes fold the pad's gradient into dA_prev
        dZ_up, W_flip, geometry["transpose"] = backward_transpose(dZ, W, conv_g)
        arrays["dZ_up"] = dZ_up[0]
        stages.append("backward_transpose")
    trace = TraceInputs(conv_cache, A if pool is not None else None, pool_cache, dOut, dZ,
                        db_prefix=core.conv_backward_row_sums(dZ), dZ_up=dZ_up, W_flip=W_flip)
    ordered = [n for n in ARRAY_NAMES if n in arrays]
    return LayerResult(
        arrays={n: np.ascontiguousarray(arrays[n], dtype="<f4") for n in ordered},
        ranges={n: (float(arrays[n].min()), float(arrays[n].max())) for n in ordered},
        geometry=geometry, stages=stages, trace=trace)
