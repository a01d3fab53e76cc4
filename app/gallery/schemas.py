"""The gallery's Pydantic models: what GET /api/animation/plan answers (no computing here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
