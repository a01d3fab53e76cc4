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
pool number comes from core, called as the LayerPlan (app/explore/services/plan.py) says:
its hparameters, options, geometries and stages, decided once per request. The step
records of a stage are read from the kept TraceInputs by app/explore/services/steps.py;
the arrays go out through app/platform/encoding.py.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

import core
from app.explore.schemas.image import ArrayName
from app.explore.services.plan import LayerPlan
from core.transpose import transpose_as_convolution

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
    the (min, max) of the exact float64 values, the geometry, what the steps need, and the
    plan it was computed by."""

    arrays: dict[str, np.ndarray]
    ranges: dict[str, tuple[float, float]]
    geometry: dict
    trace: TraceInputs
    plan: LayerPlan

    @property
    def stages(self) -> tuple[str, ...]:
        return self.plan.stages

    @property
    def nbytes(self) -> int:
        return self.trace.nbytes + sum(a.nbytes for a in self.arrays.values())


def build_filters(plan: LayerPlan) -> tuple[np.ndarray, np.ndarray]:
    """W (f, f, C, n_C) and b (1, 1, 1, n_C) from the settings' filters.

    A preset is repeated on every channel and divided by C (so a blur of a gray image and
    of its RGB copy agree); explicit (f, f) weights are repeated as they are.
    """
    f, C = plan.conv.f, plan.n_C_prev
    W = np.empty(plan.W_shape)
    b = np.empty((1, 1, 1, plan.n_C))
    for k, flt in enumerate(plan.settings.filters):
        if flt.preset is not None:
            kernel = core.preset_kernel(flt.preset, f)[:, :, None] / C  # (f, f, 1)
        else:
            kernel = np.asarray(flt.weights, dtype=np.float64)
            if kernel.ndim == 2:
                kernel = kernel[:, :, None]  # (f, f, 1), repeated over C below
        W[:, :, :, k] = kernel
        b[0, 0, 0, k] = flt.bias
    return W, b


def upstream(plan: LayerPlan, out: np.ndarray) -> np.ndarray:
    kind = plan.settings.upstream.kind
    if kind == "ones":
        return np.ones_like(out)
    if kind == "output":
        return out.copy()
    return np.random.default_rng(plan.settings.upstream.seed).standard_normal(out.shape)


def backward_transpose(dZ: np.ndarray, W: np.ndarray,
                       plan: LayerPlan) -> tuple[np.ndarray, np.ndarray, dict]:
    """(dZ_up, W_flip, geometry) of dA_prev seen as the transposed convolution of dZ with W,
    drawn as a stride-1 convolution (core.transpose.transpose_as_convolution): the plan's
    transposed convolution (the layer's f, stride, pad and dilation, output_padding the rows
    and columns the forward floor dropped) gives back the input's size, so
    conv_forward(dZ_up, W_flip, 0, {stride 1, pad 0}, dilation) == dA_prev."""
    g, t_g = plan.conv, plan.transpose
    dZ_up, W_flip, inserted = transpose_as_convolution(dZ, W, plan.hparameters,
                                                       dilation=g.dilation,
                                                       output_padding=t_g.output_padding)
    up_g = core.conv_geometry(dZ_up.shape[1], dZ_up.shape[2], g.f, stride=1, pad=0,
                              dilation=g.dilation)
    geometry = {"conv": up_g.to_dict(), "stride": g.stride, "border": plan.border,
                "output_padding": list(t_g.output_padding),
                "n_H_dZ": dZ.shape[1], "n_W_dZ": dZ.shape[2], "n_C": W.shape[2],
                "dZ_rows": np.flatnonzero((~inserted).any(axis=1)).tolist(),
                "dZ_cols": np.flatnonzero((~inserted).any(axis=0)).tolist(),
                "formula": f"{t_g.formula_H}; {t_g.formula_W}"}
    return dZ_up, W_flip, geometry


def run(image: np.ndarray, plan: LayerPlan) -> LayerResult:
    """Forward and backward through the layer for a (H, W, C) uint8 working image of the
    plan's shape."""
    s = plan.settings
    X = image[None].astype(np.float64) / 255.0  # (1, H, W, C)
    W, b = build_filters(plan)
    kw = plan.conv_kwargs
    Z, conv_cache = core.conv_forward(X, W, b, plan.hparameters, **kw)  # (1, n_H, n_W, n_C)
    A = np.maximum(Z, 0.0) if s.relu else Z
    arrays = {
        "input": X[0],
        "padded": core.zero_pad(X, plan.conv.pad, pad_mode=kw["pad_mode"],
                                pad_value=kw["pad_value"])[0],
        "W": W, "b": b.reshape(-1), "Z": Z[0], "A": A[0],
    }
    pool_cache = None
    pool = s.pool
    if pool is not None:
        pooled, pool_cache = core.pool_forward(A, plan.pool_hparameters,
                                               mode=pool.mode)  # (1, n_Hp, n_Wp, n_C)
        dOut = upstream(plan, pooled)
        dA_pool = core.pool_backward(dOut, pool_cache, mode=pool.mode, tie_rule=pool.tie_rule)
        # pool_mask routes all-ones through the pool: the same as dA_pool for upstream "ones".
        pool_mask = dA_pool if s.upstream.kind == "ones" else core.pool_backward(
            np.ones_like(pooled), pool_cache, mode=pool.mode, tie_rule=pool.tie_rule)
        arrays.update(pooled=pooled[0], pool_mask=pool_mask[0], dA=dOut[0], dA_pool=dA_pool[0])
    else:
        dOut = upstream(plan, A)
        dA_pool = dOut
        arrays["dA"] = dOut[0]
    dZ = dA_pool * (Z > 0) if s.relu else dA_pool
    dA_prev, dW, db = core.conv_backward(dZ, conv_cache)
    arrays.update(dZ=dZ[0], dA_prev=dA_prev[0], dW=dW, db=db.reshape(-1))
    geometry = {"conv": plan.conv.to_dict(),
                "pool": plan.pool.to_dict() if plan.pool else None, "transpose": None}
    dZ_up = W_flip = None
    if plan.transpose is not None:
        dZ_up, W_flip, geometry["transpose"] = backward_transpose(dZ, W, plan)
        arrays["dZ_up"] = dZ_up[0]
    trace = TraceInputs(conv_cache, A if pool is not None else None, pool_cache, dOut, dZ,
                        db_prefix=core.conv_backward_row_sums(dZ), dZ_up=dZ_up, W_flip=W_flip)
    ordered = [n for n in ARRAY_NAMES if n in arrays]
    return LayerResult(
        arrays={n: np.ascontiguousarray(arrays[n], dtype="<f4") for n in ordered},
        ranges={n: (float(arrays[n].min()), float(arrays[n].max())) for n in ordered},
        geometry=geometry, trace=trace, plan=plan)
