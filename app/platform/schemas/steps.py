"""Step records as the API sends them (core's StepPage.to_dict()), typed per stage kind.

A page is {"kind", "total", "offset", "steps"}; `kind` (conv_forward, conv_backward,
pool_forward, pool_backward, conv_transpose; Explore's backward_transpose) says which
record every step is, and is the discriminator of the StepPageOut union, so /docs shows
each kind of step with its fields. The step models are built from the fields of core's
step dataclasses (core/trace.py), in their order: a field core adds or renames fails here,
at import, until STEP_FIELDS below names its type.
Every number carries full float64 precision; window arrays are nested lists.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema, create_model

from app.platform.schemas.common import ArrayOut
from core.trace import ConvBackwardStep, ConvForwardStep, PoolBackwardStep, PoolForwardStep
from core.transpose import ConvTransposeStep


def _numbers(depth: int, nullable: bool = False) -> Any:
    """Nested lists of numbers, `depth` deep, in /docs; passed through as they are when an
    answer is checked: core made them, and checking every float of a 256-step page costs
    several times what building the page does."""
    schema: dict = {"type": "number"}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return Annotated[Any, WithJsonSchema(schema)]


Window = _numbers(3)  # (f, f, n_C_prev): a conv window and what it meets
Window2 = _numbers(2)  # (f, f): a pool window of one channel
Window2OrNull = _numbers(2, nullable=True)
Cell = Annotated[list[int], Field(min_length=2, max_length=2)]

# name -> (type, description) of every field of core's step records: a deliberate table.
STEP_FIELDS: dict[str, tuple[Any, str]] = {
    "index": (int, "Loop-order index: step k is np.unravel_index(k, (m, n_H, n_W, n_C))."),
    "i": (int, "Batch index."),
    "h": (int, "Output row."),
    "w": (int, "Output column."),
    "c": (int, "Output channel: the filter (conv) or the channel (pool)."),
    "vert_start": (int, "First padded row of the window: h * stride."),
    "vert_end": (int, "One past the window's last row: vert_start + dilation*(f - 1) + 1."),
    "horiz_start": (int, "First padded column of the window: w * stride."),
    "horiz_end": (int, "One past the window's last column: horiz_start + dilation*(f - 1) "
                       "+ 1."),
    # conv_forward: conv_single_step written out
    "a_slice": (Window, "The window of the padded input (f, f, n_C_prev), taps `dilation` "
                        "apart."),
    "weights": (Window, "W[..., c], the filter (f, f, n_C_prev); for conv_transpose the "
                        "window input channel c spreads (f, f, n_C)."),
    "products": (Window, "a_slice * weights, element by element (f, f, n_C_prev)."),
    "total": (float, "sum(products)."),
    "bias": (float, "b[0, 0, 0, c]."),
    "z": (float, "Z[i, h, w, c] = total + bias."),
    # conv_backward
    "dz": (float, "dZ[i, h, w, c], the gradient this step spreads."),
    "da_add": (Window, "W[..., c] * dz, added to dA_prev_pad over the window."),
    "dw_add": (Window, "a_slice * dz, added to dW[..., c]."),
    "db_running": (float, "db[c] after this step: the sum of dz over steps 0..index of "
                          "filter c."),
    # pool_forward
    "window": (Window2, "The window of the input (f, f) in channel c."),
    "argmax": (Cell | None, "[row, column] in the window of the maximum that np.argmax "
                            "finds (max pooling); null for average pooling."),
    "mask": (Window2OrNull, "The max mask (f, f) by tie rule: 1 at the maximum (at every "
                            "maximum for 'all'), equal shares for 'split'; null for average "
                            "pooling."),
    "value": (float, "The output: the window's maximum or mean."),
    # max pooling, both stages: added by the app (app/explore/services/steps.py), not in
    # core's records
    "maxima": (list[Cell] | None, "[row, column] in the window of every cell equal to its "
                                  "maximum (create_mask_from_window's x == np.max(x)), "
                                  "whichever the tie rule keeps; null for average pooling."),
    # pool_backward
    "da": (float, "dA[i, h, w, c], the gradient this step routes."),
    "route": (Window2, "Where it goes (f, f): the max mask, or 1/(f*f) everywhere for "
                       "average pooling."),
    "added": (Window2, "route * da, added to dA_prev over the window in channel c."),
    # conv_transpose
    "a": (float, "A_prev[i, h, w, c], the input cell this step spreads."),
    "spread": (Window, "a * weights (f, f, n_C), added to the output's canvas (the output "
                       "before the crop of pad on every side) over the window."),
}


def _step_model(record: type, extra: tuple[str, ...] = (), prefix: str = "") -> type[BaseModel]:
    """The Pydantic model of one of core's step dataclasses, field for field, plus the
    `extra` fields the app adds (named `prefix` + the record's name)."""
    return create_model(
        prefix + record.__name__, __doc__=record.__doc__,
        **{f.name: (STEP_FIELDS[f.name][0], Field(description=STEP_FIELDS[f.name][1]))
           for f in dataclasses.fields(record)},
        **{name: (STEP_FIELDS[name][0], Field(None, description=STEP_FIELDS[name][1]))
           for name in extra})


def _page_model(kind: str, step: type[BaseModel]) -> type[BaseModel]:
    """{"kind": kind, "total", "offset", "steps": [step, ...]}."""
    return create_model(
        step.__name__.removesuffix("Step") + "Page",
        __doc__=f"A page of {kind} step records: `steps` from number `offset` on, out of "
                "`total` (loop order i, h, w, c).",
        kind=(Literal[kind], ...),
        total=(int, Field(description="How many steps the stage has: m * n_H * n_W * n_C.")),
        offset=(int, Field(description="Index of the page's first step.")),
        steps=(list[step], Field(description="At most `limit` records, in loop order.")))


ConvForwardPage = _page_model("conv_forward", _step_model(ConvForwardStep))
ConvBackwardPage = _page_model("conv_backward", _step_model(ConvBackwardStep))
PoolForwardPage = _page_model("pool_forward", _step_model(PoolForwardStep))
PoolBackwardPage = _page_model("pool_backward", _step_model(PoolBackwardStep))
ConvTransposePage = _page_model("conv_transpose", _step_model(ConvTransposeStep))
# Explore's backward_transpose stage: conv_single_step over dZ_up (dZ with zeros inserted)
# with the flipped kernel, each z a cell of dA_prev (app/explore/services/steps.py)
BackwardTransposePage = _page_model("backward_transpose",
                                    _step_model(ConvForwardStep, (), "BackwardTranspose"))
# the image API's max-pool pages: core's records plus `maxima` (app/explore/services/steps.py)
ImagePoolForwardPage = _page_model("pool_forward",
                                   _step_model(PoolForwardStep, ("maxima",), "Image"))
ImagePoolBackwardPage = _page_model("pool_backward",
                                    _step_model(PoolBackwardStep, ("maxima",), "Image"))

StepPageOut = Annotated[ConvForwardPage | ConvBackwardPage | PoolForwardPage | PoolBackwardPage,
                        Field(discriminator="kind", title="StepPageOut")]
# /api/image's first pages: the max-pool records with `maxima`
ImageStepPageOut = Annotated[ConvForwardPage | ConvBackwardPage | ImagePoolForwardPage
                             | ImagePoolBackwardPage | BackwardTransposePage,
                             Field(discriminator="kind", title="ImageStepPageOut")]


class ConvBackwardTotals(BaseModel):
    """The running totals after steps 0..index of conv_backward (batch axis dropped)."""

    index: int
    dA_prev_pad: ArrayOut = Field(description="(n_H_prev + 2*pad, n_W_prev + 2*pad, n_C_prev)")
    dW: ArrayOut = Field(description="(f, f, n_C_prev, n_C)")
    db: ArrayOut = Field(description="(n_C,)")


class PoolBackwardTotals(BaseModel):
    """The running total after steps 0..index of pool_backward (batch axis dropped)."""

    index: int
    dA_prev: ArrayOut = Field(description="(n_H_prev, n_W_prev, n_C)")


def _steps_answer(page: type[BaseModel], totals: type[BaseModel] | None) -> type[BaseModel]:
    """A page as /api/steps answers it: with the image id, the stage and the totals."""
    kind = page.model_fields["kind"].annotation
    return create_model(
        page.__name__.removeprefix("Image").removesuffix("Page") + "StepsOut", __base__=page,
        __doc__=f"{page.__doc__} With the image `id`, the `stage`"
                + (" and, when totals_at was sent, the running `totals`." if totals else "."),
        id=(str, Field(description="The id from /api/image.")),
        stage=(kind, Field(description="The stage, as asked (the same as `kind`).")),
        totals=(totals | None if totals else None, None))


StepsOut = Annotated[
    _steps_answer(ConvForwardPage, None) | _steps_answer(ConvBackwardPage, ConvBackwardTotals)
    | _steps_answer(ImagePoolForwardPage, None)
    | _steps_answer(ImagePoolBackwardPage, PoolBackwardTotals)
    | _steps_answer(BackwardTransposePage, None),
    Field(discriminator="kind", title="StepsOut")]
