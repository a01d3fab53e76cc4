"""Models of the image API: the layer's settings, the image answer, the steps and arrays
requests and answers.

Arrays that the page draws in full travel as ARR = {"shape", "dtype": "float32", "data":
base64 of little-endian float32 in C order, "min", "max"} (min/max of the exact values), or
with `?encoding=display` as one byte per value (DisplayArrayOut, docs/CONTRACT.md); step
records carry full float64 precision.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

import annotated_types
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.platform.config import Settings
from app.platform.deps import SampleName
from app.platform.samples import DEFAULT_SAMPLE
from app.platform.schemas.common import (
    ELEMENTS,
    MEMORY,
    PAGE_NUMBERS,
    STEP_LIMIT_CEILING,
    WORK,
    AnyArrayOut,
    ArrayName,
    PadMode,
    PoolMode,
    Rule,
    Strict,
    TieRule,
    rules,
    server_limit,
)
from app.platform.schemas.steps import ImageStepPageOut
from core import PRESETS, Geometry, GeometryError, preset_kernel
from core.kernels import ANY_F

WEIGHT_ABS = 1000.0
SIZE_CEILING = 4096
FILTERS_CEILING = 64
FIRST_PAGE = 64

Weight = Annotated[float, Field(ge=-WEIGHT_ABS, le=WEIGHT_ABS, allow_inf_nan=False)]
Stage = Literal["conv_forward", "pool_forward", "pool_backward", "conv_backward",
                "backward_transpose"]
# Every stage of the layer in order; the five of Stage have step records.
# backward_transpose: dA_prev again, as the stride-1 convolution of dZ_up (dZ with stride - 1
# zeros inserted and a border) with the flipped kernel (app/explore/services/layer.py).
StageName = Literal["pad", "conv_forward", "relu", "pool_forward", "pool_backward",
                    "conv_backward", "backward_transpose"]
STAGES_WITH_STEPS: tuple[str, ...] = typing.get_args(Stage)


def _one_of(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    """A model's JSON schema requiring exactly one of the optional fields `names` to be
    given a value (not null)."""
    schema["oneOf"] = [{"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                       for name in names]


# What ImageSettings' validator and the layer's checks refuse across fields
WEIGHTS_SHAPE = Rule("weights_shape", "Explicit weights are (f, f) or (f, f, C), C being 3 "
                     "for color 'rgb' and 1 for 'gray'.", 422, "value_error",
                     r"weights must have shape", fields=("filters",))
PRESET_CENTRE = Rule("preset_centre", f"A preset other than {' and '.join(ANY_F)} has a "
                     "centre cell: it needs an odd f of at least 3.", 422, "value_error",
                     r"needs a centre cell", fields=("filters",))
# ... as JSON Schema says it: no filter is a preset with a centre cell, or f is odd and at
# least 3 (f's default, 3, is)
CENTRE_SCHEMA = {"anyOf": [
    {"properties": {"filters": {"items": {"not": {
        "required": ["preset"],
        "properties": {"preset": {"enum": [p for p in PRESETS if p not in ANY_F]}}}}}}},
    {"properties": {"f": {"minimum": 3, "not": {"multipleOf": 2}}}}]}
IMAGE_WINDOW = Rule("window_fits", "The window's span dilation*(f - 1) + 1 fits the padded "
                    "image (its sides at size + 2*pad), and pool.f the convolution's output.",
                    422, "geometry", "^The window does not fit", fields=("f", "pool"))
IMAGE_REFLECT = Rule("reflect_pad", "pad_mode 'reflect' needs pad below the image's height "
                     "and width.", 422, "geometry", "^Reflect padding", fields=("pad_mode",))
UNKNOWN_IMAGE = Rule("known_image", "id is one this server answered for these settings' "
                     "size and color and still holds (else 404: send the image to /api/image "
                     "again).", 404, "unknown_image", fields=("id",))
STEP_EXISTS = Rule("step_exists", "offset is below the stage's number of steps.", 422,
                   "geometry", r"step \d+ does not exist", fields=("offset",))
POSITION_INSIDE = Rule("position_inside", "position [h, w, c] is inside the stage's output.",
                       422, "geometry", r"^position .* is outside", fields=("position",))
BACKWARD = tuple(s for s in STAGES_WITH_STEPS if s.endswith("backward"))
POOL_STAGES = tuple(s for s in STAGES_WITH_STEPS if s.startswith("pool"))
TOTALS_BACKWARD = Rule("totals_backward", f"totals_at goes with a backward stage "
                       f"({', '.join(BACKWARD)}): null or left out for the others.", 422,
                       "no_totals", fields=("totals_at",))
STAGE_EXISTS = Rule("stage_exists", f"The stage exists for the settings: "
                    f"{' and '.join(POOL_STAGES)} need settings.pool (not null), "
                    "backward_transpose needs settings.pad_mode 'constant'.", 422,
                    "no_such_stage", fields=("stage",))


def _when_stage(stages: tuple[str, ...], then: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: when `stage` is one of `stages`, the body also matches `then`."""
    return {"if": {"required": ["stage"], "properties": {"stage": {"enum": list(stages)}}},
            "then": {"properties": then}}


# The stage rules as JSON Schema can say them (the rules above stay: they name the refusal)
STAGE_SCHEMA = {"allOf": [
    _when_stage(tuple(s for s in STAGES_WITH_STEPS if s not in BACKWARD),
                {"totals_at": {"type": "null"}}),
    _when_stage(POOL_STAGES, {"settings": {"properties": {"pool": {"not": {"type": "null"}}}}}),
    _when_stage(("backward_transpose",),
                {"settings": {"properties": {"pad_mode": {"const": "constant"}}}}),
]}


class FilterSpec(Strict):
    """One filter: a preset (repeated on every channel, divided by C) or explicit weights
    (f, f) (the same on every channel) or (f, f, C); plus its bias."""

    preset: Literal[PRESETS] | None = Field(None, description="A preset kernel by name.")  # type: ignore[valid-type]
    weights: (
        Annotated[list[Annotated[list[Weight], Field(min_length=1, max_length=31)]],
                  Field(min_length=1, max_length=31)]
        | Annotated[list[Annotated[list[Annotated[list[Weight], Field(min_length=1,
                                                                       max_length=3)]],
                                   Field(min_length=1, max_length=31)]],
                    Field(min_length=1, max_length=31)]
        | None
    ) = Field(None, description="Explicit weights, (f, f) or (f, f, C).")
    bias: Weight = 0.0

    # exactly one of preset and weights, said in the schema too
    model_config = ConfigDict(json_schema_extra=lambda schema: _one_of(schema,
                                                                       ("preset", "weights")))

    @model_validator(mode="after")
    def _one_source(self) -> FilterSpec:
        if (self.preset is None) == (self.weights is None):
            raise ValueError("give exactly one of 'preset' and 'weights'")
        return self


class PoolSpec(Strict):
    """The pooling layer after ReLU (or null in ImageSettings.pool for none)."""

    mode: PoolMode = "max"
    f: int = Field(2, ge=1, le=64, description="Window size (f x f).")
    stride: int = Field(2, ge=1, le=64, description="How far the window moves each step.")
    tie_rule: TieRule = Field("first", description="Where a tied maximum's gradient goes.")


class UpstreamSpec(Strict):
    """The gradient of the loss at the last layer's output: all ones (L = sum(out)), the
    output itself (L = sum(out**2) / 2), or seeded standard normal."""

    kind: Literal["ones", "output", "random"] = "ones"
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the 'random' kind.")


class ImageSettings(Strict):
    """Everything about the layer that the page lets a person choose.

    Rules across fields, checked on arrival (a JSON Schema cannot say them), are its
    x-convstep-rules, said in the fields' descriptions too. The schema's size and filters
    maxima are this server's max_size and max_filters."""

    sample: SampleName | None = Field(  # type: ignore[valid-type]
        None, description="A built-in sample to use when no file is uploaded.")
    size: int = Field(96, ge=1, le=SIZE_CEILING, description="Longest side of the working "
                      "image in pixels (at most the server's max_size).",
                      json_schema_extra=server_limit(maximum="max_size"))
    color: Literal["gray", "rgb"] = "rgb"
    f: int = Field(3, ge=1, le=31, description="Filter size (f x f).")
    stride: int = Field(1, ge=1, le=64)
    pad: int = Field(1, ge=0, le=64)
    pad_mode: PadMode = "constant"
    pad_value: Weight | Annotated[list[Weight], Field(min_length=2, max_length=2)] = 0.0
    dilation: int = Field(1, ge=1, le=16)
    filters: Annotated[list[FilterSpec], Field(min_length=1, max_length=FILTERS_CEILING)] = Field(
        default_factory=lambda: [FilterSpec(preset="sobel_x"), FilterSpec(preset="sobel_y")],
        description="1 to max_filters filters.",
        json_schema_extra=server_limit(maxItems="max_filters"))
    relu: bool = True
    pool: PoolSpec | None = Field(default_factory=PoolSpec)
    upstream: UpstreamSpec = Field(default_factory=UpstreamSpec)

    model_config = ConfigDict(json_schema_extra=rules(
        WEIGHTS_SHAPE, PRESET_CENTRE, IMAGE_WINDOW, IMAGE_REFLECT, WORK, ELEMENTS, MEMORY,
        **CENTRE_SCHEMA, examples=[{
        "sample": DEFAULT_SAMPLE, "size": 96, "color": "rgb", "f": 3, "stride": 1, "pad": 1,
        "pad_mode": "constant", "pad_value": 0.0, "dilation": 1,
        "filters": [{"preset": "sobel_x", "bias": 0.0},
                    {"weights": [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "bias": 0.1}],
        "relu": True, "pool": {"mode": "max", "f": 2, "stride": 2, "tie_rule": "first"},
        "upstream": {"kind": "ones", "seed": 0},
    }]))

    @property
    def channels(self) -> int:
        return 3 if self.color == "rgb" else 1

    @model_validator(mode="after")
    def _filters_fit(self) -> ImageSettings:
        C = self.channels
        for i, flt in enumerate(self.filters):
            if flt.preset is not None:
                try:
                    preset_kernel(flt.preset, self.f)
                except GeometryError as exc:
                    raise ValueError(f"filters[{i}].preset: {exc}") from None
            else:
                shape = _shape(flt.weights)
                if shape not in ((self.f, self.f), (self.f, self.f, C)):
                    raise ValueError(
                        f"filters[{i}].weights must have shape (f, f) = ({self.f}, {self.f}) "
                        f"or (f, f, C) = ({self.f}, {self.f}, {C}) for f = {self.f} and color "
                        f"'{self.color}', but its shape is {shape}.")
        return self

    def layer_key(self) -> str:
        """The settings that shape the computation on a given working image (not the
        image source, size and color, which the image id already fixes)."""
        return self.model_dump_json(exclude={"sample", "size", "color"})


def _range(model: type[BaseModel], name: str, cap: int | None = None) -> dict[str, int]:
    """{"min", "max"} of an int field (its Field(ge=, le=)) or of a list's length (its
    min_length, max_length), the max capped at `cap`."""
    bounds = {}
    for m in model.model_fields[name].metadata:
        if isinstance(m, annotated_types.Ge | annotated_types.MinLen):
            bounds["min"] = m.ge if isinstance(m, annotated_types.Ge) else m.min_length
        elif isinstance(m, annotated_types.Le | annotated_types.MaxLen):
            bounds["max"] = m.le if isinstance(m, annotated_types.Le) else m.max_length
    if cap is not None:
        bounds["max"] = min(bounds["max"], cap)
    return bounds


def control_bounds(limits: Settings) -> dict[str, dict[str, float]]:
    """{"min", "max"} of every number a person sets on the page, from the models' bounds
    and the server's limits (size at most max_size, filters at most max_filters): the page
    keeps its controls within them instead of copies of its own."""
    weight = {"min": -WEIGHT_ABS, "max": WEIGHT_ABS}
    return {
        "size": _range(ImageSettings, "size", limits.max_size),
        **{k: _range(ImageSettings, k) for k in ("f", "stride", "pad", "dilation")},
        "pad_value": weight,
        "filters": _range(ImageSettings, "filters", limits.max_filters),
        "weight": weight,
        "bias": weight,
        "pool_f": _range(PoolSpec, "f"),
        "pool_stride": _range(PoolSpec, "stride"),
        "seed": _range(UpstreamSpec, "seed"),
    }


def _shape(nested: Any) -> tuple[int, ...] | str:
    try:
        return np.asarray(nested, dtype=np.float64).shape
    except ValueError:
        return "ragged (rows of different lengths)"


class TransposeStageGeometry(BaseModel):
    """dA_prev as a transposed convolution of dZ, drawn as a plain convolution: dZ_up is dZ
    with stride - 1 zeros between neighbouring cells and a border of `border` =
    dilation*(f - 1) - pad cells on the top and left (border + output_padding on the bottom
    and right; a negative border crops instead), so dZ[h, w] sits at dZ_up[border +
    h*stride, border + w*stride]; the flipped kernel slides over it with stride 1."""

    conv: Geometry = Field(description="The stride-1, pad-0 convolution over dZ_up (its "
                           "n_H_prev x n_W_prev) that gives dA_prev (its n_H x n_W).")
    stride: int = Field(description="The layer's stride: dZ's cells are this far apart in "
                        "dZ_up.")
    border: int = Field(description="dilation*(f - 1) - pad: zeros on the top and left.")
    output_padding: Annotated[list[int], Field(min_length=2, max_length=2)] = Field(
        description="[rows, columns] added at the bottom and right: the rows and columns "
        "the forward floor dropped, (n_H_prev + 2*pad - f_eff) mod stride.")
    n_H_dZ: int = Field(description="dZ's rows.")
    n_W_dZ: int = Field(description="dZ's columns.")
    n_C: int = Field(description="dA_prev's channels (the image's): the stage has n_H x "
                     "n_W x n_C steps, n_H x n_W being conv's.")
    dZ_rows: list[int] = Field(description="The rows of dZ_up that hold a row of dZ (the "
                               "others are inserted zeros or the border).")
    dZ_cols: list[int] = Field(description="The columns of dZ_up that hold a column of dZ.")
    formula: str = Field(description="The transposed convolution's size, filled in.")


class GeometriesOut(BaseModel):
    """The layer's two geometries: core's Geometry, as core.Geometry.to_dict() writes it."""

    conv: Geometry = Field(description="The convolution: input, padded and output sizes.")
    pool: Geometry | None = Field(description="The pooling (pad 0, dilation 1), or null "
                                  "without pooling.")
    transpose: TransposeStageGeometry | None = Field(
        None, description="The backward_transpose stage, or null when it is not offered "
        "(a pad_mode other than constant folds the padding's gradient back into dA_prev).")


class ImageOut(BaseModel):
    """Everything the page draws for one image and one set of settings."""

    id: str = Field(description="Content hash of the working image; pass it to /api/steps "
                    "and /api/arrays.")
    settings: ImageSettings = Field(description="The settings as used: defaults filled in, "
                                    "size capped at max_size when left out, sample null "
                                    "with an upload.")
    arrays: dict[ArrayName, AnyArrayOut] = Field(
        description="All of input, padded, W, b, Z, A, pooled, pool_mask, dA, dA_pool, dZ, "
        "dA_prev, dW, db, dZ_up that exist for the settings (no pooled, pool_mask, dA_pool "
        "without pooling; no dZ_up without the backward_transpose stage), or those named in "
        "?arrays=. Display ARRs with ?encoding=display (all but "
        "W, b, dW, db); the batch axis is dropped.")
    geometry: GeometriesOut
    stages: list[StageName] = Field(description="The layer's stages in order (relu and the "
                                    "pool stages only when on, backward_transpose only "
                                    "with pad_mode constant).")
    steps: dict[Stage, ImageStepPageOut] = Field(
        description="The first page (at most 64 steps, or max_steps_per_page) of every "
        "stage in `stages` that has steps; /api/steps pages on.")
    timing_ms: dict[Literal["decode", "compute"], float] = Field(
        description="Server time: decoding the image (0 when cached) and computing the "
        "layer and this answer's arrays.")


class ImageRef(Strict):
    """An image the server holds (by the id /api/image answered) under some settings."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$",
                    description="The id from /api/image.")
    settings: ImageSettings = Field(description="The settings of that /api/image request "
                                    "(or others of the same size and color).")


class StepsIn(ImageRef):
    """A page of steps of one stage: by range (`offset`, `limit`) or by output `position`."""

    stage: Stage
    offset: int = Field(0, ge=0, le=10**9, description="First step index (0-based).")
    limit: int = Field(FIRST_PAGE, ge=1, le=STEP_LIMIT_CEILING,
                       description="How many steps; at most the server's max_steps_per_page.",
                       json_schema_extra=server_limit(maximum="max_steps_per_page"))
    position: Annotated[list[Annotated[int, Field(ge=0, le=10**6)]],
                        Field(min_length=3, max_length=3)] | None = Field(
        None, description="[h, w, c] of the output: the page starts at that step.")
    totals_at: int | None = Field(
        None, ge=0, le=10**9, description="For conv_backward and pool_backward: add the "
        "running totals after steps 0..totals_at.")

    model_config = ConfigDict(json_schema_extra=rules(
        UNKNOWN_IMAGE, STEP_EXISTS, POSITION_INSIDE, TOTALS_BACKWARD, STAGE_EXISTS, PAGE_NUMBERS,
        **STAGE_SCHEMA, examples=[
        {"id": "0123456789abcdef0123456789abcdef", "settings": {"sample": "chelsea"},
         "stage": "conv_forward", "offset": 64, "limit": 64},
        {"id": "0123456789abcdef0123456789abcdef", "settings": {"sample": "chelsea"},
         "stage": "conv_backward", "position": [10, 20, 1], "limit": 1, "totals_at": 100},
    ]))


class ArraysIn(ImageRef):
    """Arrays of an /api/image answer, by name, for an image the server still holds."""

    names: Annotated[list[ArrayName],
                     Field(min_length=1, max_length=len(typing.get_args(ArrayName)))] = Field(
        description="Which arrays (ARR each, as in /api/image).")

    model_config = ConfigDict(json_schema_extra=rules(UNKNOWN_IMAGE, examples=[
        {"id": "0123456789abcdef0123456789abcdef", "settings": {"sample": "chelsea"},
         "names": ["dZ", "dA_prev", "dW", "db"]},
    ]))


class ArraysOut(BaseModel):
    """The asked-for arrays of the image `id` (ARR each, as in /api/image)."""

    id: str = Field(description="The id sent.")
    arrays: dict[ArrayName, AnyArrayOut] = Field(
        description="The arrays named in `names` that exist for these settings.")
