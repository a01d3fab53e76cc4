"""Models of Explore's transposed-convolution op: POST /api/explore/transpose runs one
transposed convolution on the working image (each channel upsampled by the same kernel) and
POST /api/explore/transpose/steps pages its steps, one per input cell and channel.

The kernel is a preset (the upsampling kernels bilinear and nearest take their size from
the stride, core/upsampling.py; identity, box_blur and gaussian_blur take `f`) or the
person's own f x f numbers. W (f, f, C, C) = kernel on the diagonal of the channels, so
Z[:, :, c] is channel c of the image spread by the kernel:

    n_H = (n_H_prev - 1)*stride - 2*pad + dilation*(f - 1) + 1 + output_padding
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.explore.schemas.arrays import T_NOT_EMPTY, T_OUTPUT_PADDING
from app.explore.schemas.image import (
    FIRST_PAGE,
    PRESET_CENTRE,
    SIZE_CEILING,
    STEP_EXISTS,
    UNKNOWN_IMAGE,
    Weight,
)
from app.platform.deps import SampleName
from app.platform.samples import DEFAULT_SAMPLE
from app.platform.schemas.common import (
    ELEMENTS,
    MEMORY,
    PAGE_NUMBERS,
    STEP_LIMIT_CEILING,
    WORK,
    AnyArrayOut,
    Rule,
    Strict,
    rules,
    server_limit,
)
from core.kernels import ANY_F
from core.upsampling import UPSAMPLING

# the presets a transposed convolution is shown with: the upsampling kernels, and the
# conv presets that spread a cell without a sign (the edge detectors would only add noise)
TRANSPOSE_PRESETS = (*UPSAMPLING, "identity", "box_blur", "gaussian_blur")
F_CEILING = 16
PRESET_F = 3  # the f the page gives a preset that takes one (identity, box_blur, gaussian_blur)

Row = Annotated[list[Weight], Field(min_length=1, max_length=F_CEILING)]


# _kernel_fits' rules (422 value_error, its words), stated in the schema
ONE_KERNEL = Rule("one_kernel", "Exactly one of kernel and weights is given (the other "
                  "null).", 422, "value_error", "exactly one of 'kernel'",
                  fields=("kernel", "weights"))
SQUARE_WEIGHTS = Rule("square_weights", "weights is square (f x f), and f, when given, is "
                      "its side.", 422, "value_error", r"weights must be square|f is \d+, "
                      "but weights", fields=("weights",))
CENTRED = tuple(k for k in TRANSPOSE_PRESETS if k not in (*UPSAMPLING, *ANY_F))


def _preset(kernels: tuple[str, ...], f: dict) -> dict:
    return {"required": ["kernel", "f"], "properties": {
        "kernel": {"enum": list(kernels)}, "f": f, "weights": {"type": "null"}}}


# ... as JSON Schema says them (each branch repeats f's bounds: a generator may draw a
# branch alone): an upsampling kernel (the default) without f and weights, a
# preset with f (odd, at least 3, for one with a centre cell), or weights with kernel null
KERNEL_SCHEMA = {"anyOf": [
    {"properties": {"kernel": {"enum": list(UPSAMPLING)}, "f": {"type": "null"},
                    "weights": {"type": "null"}}},
    _preset(tuple(k for k in TRANSPOSE_PRESETS if k in ANY_F),
            {"type": "integer", "minimum": 1, "maximum": F_CEILING}),
    _preset(CENTRED, {"type": "integer", "minimum": 3, "maximum": F_CEILING,
                      "not": {"multipleOf": 2}}),
    {"required": ["kernel", "weights"],
     "properties": {"kernel": {"type": "null"}, "weights": {"type": "array"}}}]}
NOT_EMPTY = dataclasses.replace(T_NOT_EMPTY, fields=("pad",))
F_OF_KERNEL = Rule("f_of_kernel", "f is null for bilinear and nearest (their size comes "
                   "from the stride) and given for the other presets.", 422, "value_error",
                   r"f must be left out|f: give the kernel's size", fields=("f",))
CENTRE = dataclasses.replace(PRESET_CENTRE, code="geometry", fields=("f",))


class TransposeOpSettings(Strict):
    """One transposed convolution on the working image. Rules across fields, checked on
    arrival: exactly one of `kernel` and `weights`; `f` is left out (null) for bilinear and
    nearest (their f comes from the stride), given for the other presets, and equal to the
    side of `weights` when both are given; output_padding < max(stride, dilation) and a
    non-empty output (core's geometry, a 422 naming the numbers); the output within the
    server's max_array_elements (413)."""

    sample: SampleName | None = Field(  # type: ignore[valid-type]
        None, description="A built-in sample to use when no file is uploaded.")
    size: int = Field(96, ge=1, le=SIZE_CEILING, description="Longest side of the working "
                      "image (the input) in pixels, at most the server's max_size.",
                      json_schema_extra=server_limit(maximum="max_size"))
    color: Literal["gray", "rgb"] = "rgb"
    kernel: Literal[TRANSPOSE_PRESETS] | None = Field(  # type: ignore[valid-type]
        "bilinear", description="A preset kernel; null with `weights`.")
    weights: Annotated[list[Row], Field(min_length=1, max_length=F_CEILING)] | None = Field(
        None, description="Your own f x f kernel (then `kernel` is null).")
    f: int | None = Field(None, ge=1, le=F_CEILING, description="Kernel size for identity, "
                          "box_blur and gaussian_blur; null for bilinear and nearest.")
    stride: int = Field(2, ge=1, le=F_CEILING, description="How far apart the input cells' "
                        "windows start in the output (the upsampling factor).")
    pad: int = Field(1, ge=0, le=F_CEILING, description="Rows and columns cropped from "
                     "every side of the output.")
    output_padding: int = Field(0, ge=0, le=F_CEILING - 1, description="Rows and columns "
                                "added at the bottom and right; below max(stride, dilation).")
    dilation: int = Field(1, ge=1, le=8, description="Spacing of the kernel's cells.")
    bias: Weight = 0.0

    model_config = ConfigDict(json_schema_extra=rules(
        ONE_KERNEL, SQUARE_WEIGHTS, F_OF_KERNEL, CENTRE, T_OUTPUT_PADDING, NOT_EMPTY, ELEMENTS,
        WORK,
        MEMORY, **KERNEL_SCHEMA, examples=[
        {"sample": DEFAULT_SAMPLE, "size": 32, "color": "rgb", "kernel": "bilinear",
         "stride": 2, "pad": 1, "output_padding": 0, "dilation": 1, "bias": 0.0},
        {"sample": DEFAULT_SAMPLE, "size": 16, "color": "gray", "kernel": None,
         "weights": [[1, 2], [3, 4]], "stride": 2, "pad": 0},
    ]))

    @model_validator(mode="after")
    def _kernel_fits(self) -> TransposeOpSettings:
        if (self.kernel is None) == (self.weights is None):
            raise ValueError("give exactly one of 'kernel' (a preset) and 'weights'")
        if self.weights is not None:
            n = len(self.weights)
            if any(len(row) != n for row in self.weights):
                raise ValueError(f"weights must be square (f x f): {n} rows, but row lengths "
                                 f"{[len(r) for r in self.weights]}")
            if self.f is not None and self.f != n:
                raise ValueError(f"f is {self.f}, but weights is {n} x {n}")
        elif self.kernel in UPSAMPLING:
            if self.f is not None:
                raise ValueError(f"f must be left out for kernel '{self.kernel}': its size "
                                 "comes from the stride")
        elif self.f is None:
            raise ValueError(f"f: give the kernel's size for kernel '{self.kernel}'")
        return self

    @property
    def channels(self) -> int:
        return 3 if self.color == "rgb" else 1


class TransposeOpGeometry(BaseModel):
    """core.transpose_geometry's sizes with the formulas filled in."""

    n_H_prev: int
    n_W_prev: int
    n_C: int = Field(description="Channels of the input and the output.")
    f: int
    stride: int
    pad: int
    dilation: int
    output_padding: list[int]
    f_eff: int = Field(description="dilation*(f - 1) + 1, the window's span.")
    n_H_full: int = Field(description="Rows of the canvas every window lands in (before "
                          "the crop of pad on each side).")
    n_W_full: int
    n_H: int
    n_W: int
    formula_H: str
    formula_W: str


Window = list[list[list[float]]]  # (f, f, n_C), float64


class TransposeOpStep(BaseModel):
    """One step: input cell (h, w) of channel c spreads a * W[:, :, :, c] into the canvas
    window rows vert_start:vert_end, columns horiz_start:horiz_end (every dilation-th cell;
    canvas coordinates, before the crop of pad). core.transpose.ConvTransposeStep's record
    plus the window's running totals (core.upsampling.conv_transpose_windows)."""

    index: int = Field(description="Loop-order step index: (h*n_W_prev + w)*C + c.")
    i: int
    h: int
    w: int
    c: int
    vert_start: int
    vert_end: int
    horiz_start: int
    horiz_end: int
    a: float = Field(description="A_prev[h, w, c], the value spread.")
    weights: Window = Field(description="W[:, :, :, c]: the kernel in output channel c, "
                            "zero in the others.")
    spread: Window = Field(description="a * weights: what this step adds.")
    before: Window = Field(description="The canvas window (all channels) before the step.")
    after: Window = Field(description="The canvas window after the step: before + spread.")


class TransposeOpPage(BaseModel):
    """A page of the op's steps."""

    kind: Literal["conv_transpose"]
    total: int = Field(description="Steps in all: n_H_prev * n_W_prev * C.")
    offset: int
    steps: list[TransposeOpStep]


class TransposeStepsOut(TransposeOpPage):
    """A page of steps of /api/explore/transpose/steps, for the image `id`."""

    id: str


class TransposeOpOut(BaseModel):
    """The op on one image: its arrays, kernel, geometry and first page of steps."""

    id: str = Field(description="Content hash of the working image; pass it to "
                    "/api/explore/transpose/steps.")
    settings: TransposeOpSettings = Field(description="The settings as used (f filled in).")
    kernel: list[list[float]] = Field(description="The (f, f) kernel, float64.")
    geometry: TransposeOpGeometry
    arrays: dict[Literal["input", "Z_full"], AnyArrayOut] = Field(
        description="input (n_H_prev, n_W_prev, C) / 255; Z_full (n_H_full, n_W_full, C): "
        "the canvas plus b, whose inner n_H x n_W (from pad, pad) is the output Z.")
    steps: TransposeOpPage = Field(description="The first page of steps (at most 64, or "
                                   "max_steps_per_page); /api/explore/transpose/steps pages "
                                   "on.")
    timing_ms: dict[Literal["decode", "compute"], float]


class TransposeStepsIn(Strict):
    """A page of the op's steps for an image the server holds."""

    model_config = ConfigDict(json_schema_extra=rules(UNKNOWN_IMAGE, STEP_EXISTS, PAGE_NUMBERS))

    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")
    settings: TransposeOpSettings
    offset: int = Field(0, ge=0, le=10**9)
    limit: int = Field(FIRST_PAGE, ge=1, le=STEP_LIMIT_CEILING,
                       json_schema_extra=server_limit(maximum="max_steps_per_page"))
