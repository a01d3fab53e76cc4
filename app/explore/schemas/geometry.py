"""Models of POST /api/geometry: does a layer's geometry fit, and if not, why and what
would (core's fit_limits)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.platform.schemas.common import Strict

Side = Annotated[int, Field(ge=1, le=100_000)]


class GeometryCheckIn(Strict):
    """The settings the page is about to send to /api/image, and the image's size."""

    settings: dict[str, Any] = Field(
        description="ImageSettings as /api/image takes them. They are checked here: settings "
                    "/api/image would refuse answer `fits: false` with its reasons, not a 4xx.")
    source: Annotated[list[Side], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[width, height] of the uploaded image file, before the working "
                          "size is applied. Without it (and without `shape`), the size of "
                          "settings.sample is used.")
    shape: Annotated[list[Side], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[n_H_prev, n_W_prev] of the working image when the client has it "
                          "(the last /api/image answer at this size and colour).")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"settings": {"sample": "chelsea", "size": 96, "f": 31, "pad": 0}},
        {"settings": {"size": 64, "f": 3, "stride": 4, "pool": {"f": 10}},
         "source": [640, 480]},
    ]})


class LimitOut(BaseModel):
    """One setting's range that makes the layer fit, the others kept (core.geometry.Limit):
    `setting op value`; `text` reads it with the page's names ("f <= 7", "pool f <= 3",
    "size >= 40")."""

    setting: Literal["f", "pad", "dilation", "stride", "pool_f", "size"]
    op: Literal["<=", ">="]
    value: int
    text: str


class GeometryCheckOut(BaseModel):
    """Always 200: `fits`, and when not, the `message` /api/image would answer with
    (`status`, `code`) and `advice`: the Limits the current settings break."""

    fits: bool
    message: str | None = Field(description="Why it does not fit (core's words), or null.")
    status: int | None = Field(description="The status /api/image would answer (422 or 413).")
    code: str | None = Field(description="Its error code ('geometry', 'validation', ...).")
    advice: list[LimitOut] = Field(description="Each setting that alone would make it fit, "
                                               "with its range; empty when it fits.")
    n_H_prev: int | None = Field(description="The working image's height used.")
    n_W_prev: int | None = Field(description="The working image's width used.")
