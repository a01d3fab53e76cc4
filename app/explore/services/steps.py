"""The step records of one stage of the layer: a page of them, and running totals.

Each stage's records come from core's trace functions, fed from the TraceInputs that
app/explore/services/layer.py keeps with a result and called with the options of the
result's LayerPlan; a page costs time in proportion to its length.
"""

from __future__ import annotations

import numpy as np

import core
from app.explore.schemas.arrays import EXAMPLE_A_PREV, EXAMPLE_W
from app.explore.schemas.image import FIRST_PAGE
from app.explore.services.layer import LayerResult
from app.platform.encoding import encode


def step_page(result: LayerResult, stage: str, *, offset: int = 0, limit: int = FIRST_PAGE,
              position: tuple[int, ...] | None = None) -> dict:
    """core's StepPage for `stage` as a dict (batch index 0); position is (h, w, c)."""
    where = {"offset": offset, "limit": limit,
             "position": None if position is None else (0, *position)}
    trace, plan = result.trace, result.plan
    X, W, b, hp = trace.conv_cache
    pool = plan.settings.pool
    if stage == "conv_forward":
        page = core.conv_forward_trace(X, W, b, hp, **plan.conv_kwargs, **where)
    elif stage == "conv_backward":
        page = core.conv_backward_trace(trace.dZ, trace.conv_cache, db_prefix=trace.db_prefix,
                                        **where)
    elif stage == "backward_transpose":
        if trace.dZ_up is None:
            raise ValueError(f"stage {stage} needs pad_mode constant")
        # conv_single_step over dZ_up with the flipped kernel: step (h, w, c) sums to
        # dA_prev[h, w, c] (bias 0)
        page = core.conv_forward_trace(trace.dZ_up, trace.W_flip,
                                       np.zeros((1, 1, 1, trace.W_flip.shape[3])),
                                       {"stride": 1, "pad": 0},
                                       dilation=plan.conv.dilation, **where)
    elif pool is None:
        raise ValueError(f"stage {stage} needs pooling")
    elif stage == "pool_forward":
        page = core.pool_forward_trace(trace.A, trace.pool_cache[1], mode=pool.mode,
                                       tie_rule=pool.tie_rule, **where)
    else:
        page = core.pool_backward_trace(trace.dOut, trace.pool_cache, mode=pool.mode,
                                        tie_rule=pool.tie_rule, **where)
    out = page.to_dict()
    if stage == "backward_transpose":  # core's conv_forward records, under the stage's name
        out["kind"] = stage
    if stage.startswith("pool") and pool.mode == "max":
        for s in out["steps"]:  # every tied maximum, whatever the tie rule keeps
            s["maxima"] = _maxima(trace.A[s["i"], s["vert_start"]:s["vert_end"],
                                          s["horiz_start"]:s["horiz_end"], s["c"]])
    return out


def _maxima(window) -> list[list[int]]:
    """[row, column] in the window of each cell equal to its max (create_mask_from_window)."""
    return np.argwhere(core.create_mask_from_window(window)).tolist()


def totals(result: LayerResult, stage: str, k: int) -> dict:
    """Running totals after steps 0..k of a backward stage (ARRs, batch axis dropped)."""
    trace = result.trace
    if stage == "conv_backward":
        dA_prev_pad, dW, db = core.conv_backward_totals(trace.dZ, trace.conv_cache, k)
        return {"index": k, "dA_prev_pad": encode(dA_prev_pad[0]), "dW": encode(dW),
                "db": encode(db.reshape(-1))}
    pool = result.plan.settings.pool
    dA_prev = core.pool_backward_totals(trace.dOut, trace.pool_cache, k, mode=pool.mode,
                                        tie_rule=pool.tie_rule)
    return {"index": k, "dA_prev": encode(dA_prev[0])}


def docs_example() -> dict:
    """/docs' example answer of /api/steps: two conv_forward records that core computes for
    the /api/conv_forward example (a 3 x 3 input, a 2 x 2 filter, bias 0.5)."""
    X, W = np.array(EXAMPLE_A_PREV), np.array(EXAMPLE_W)
    page = core.conv_forward_trace(X, W, np.full((1, 1, 1, 1), 0.5), {"stride": 1, "pad": 0},
                                   limit=2)
    return {**page.to_dict(), "id": "0123456789abcdef0123456789abcdef",
            "stage": "conv_forward", "totals": None}
