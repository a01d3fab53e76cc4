"""The gallery's Pydantic models: what GET /api/animation/plan answers (no computing here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.platform.schemas.common import Rule

# What the animation routes check across the query's fields (app/gallery/service.py)
POOL_NO_PAD = Rule("pool_no_pad", "Pooling ops (pool_forward, pool_backward) take no pad "
                   "and no dilation: leave them out.", 422, "value_error",
                   r"^query\.(pad|dilation): pool_\w+ has no")
OUTPUT_PADDING_OP = Rule("output_padding_op", "output_padding is conv_transpose's only, and "
                         "below max(stride, dilation).", 422, "value_error|geometry",
                         r"output_padding")
WINDOW_FITS = Rule("window_fits", "The window fits the padded input: dilation*(f - 1) + 1 "
                   "<= h + 2*pad and <= w + 2*pad (conv_transpose: its output is not empty).",
                   422, "geometry", r"window does not fit|output would be empty")
FRAMES = Rule("frames", "The animation has at most max_animation_frames frames (one per "
              "step: per output cell, per input cell for conv_transpose) and at most "
              "max_animation_pixels frame pixels in all.", 413,
              "too_many_frames|animation_too_large",
              settings=("max_animation_frames", "max_animation_pixels"))
STEP_EXISTS = Rule("step_exists", "step is below the animation's number of frames.", 422,
                   "value_error", r"^query\.step: step \d+ does not exist")
ANIMATION_RULES = (POOL_NO_PAD, OUTPUT_PADDING_OP, WINDOW_FITS, FRAMES)


class GridOut(BaseModel):
    name: str = Field(description="A_prev, Z, A, dZ, dA or dA_prev.")
    n_rows: int
    n_cols: int
    pad: int = Field(description="Outer rings drawn as padding (or, for conv_transpose's "
                                 "output, as the cells the crop removes).")


class TransposedQuery(BaseModel):
    """The query of the transposed convolution that gives a convolution's input size back."""

    op: Literal["conv_transpose"]
    h: int
    w: int
    f: int
    stride: int
    pad: int
    dilation: int
    output_padding: int


class RefusalOut(BaseModel):
    """Why /api/animation would refuse the query: the answer it would give."""

    status: int = Field(description="413 (over a limit) or 422 (geometry, a field).")
    code: str
    message: str
    field: str | None = Field(description="The query field at fault, when it is one field.")


class AnimationPlanOut(BaseModel):
    op: str
    fits: bool = Field(description="Whether /api/animation draws this query; when false, "
                                   "`refusal` says why and the other fields are null.")
    refusal: RefusalOut | None
    frames: int | None = Field(description="One per step: per output window position, or "
                                           "per input cell for conv_transpose.")
    formula: str | None = Field(description="The output size, symbolic and with the numbers.")
    grids: list[GridOut] | None = Field(description="The left grid, then the right one.")
    width: int | None = Field(description="Frame width in pixels.")
    height: int | None
    filenames: dict[str, str] | None = Field(description="The download name per format.")
    transposed: TransposedQuery | None = Field(
        description="conv_forward only: /api/animation's query for its transposed "
                    "convolution (input n_H x n_W, output h x w again); null otherwise, or "
                    "when the rows and columns need different output_padding.")
