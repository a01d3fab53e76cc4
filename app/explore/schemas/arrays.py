"""Models of the array routes (one per seed function): bounds on every field, examples
from the exercise.

Arrays are nested lists in the exercise's channels-last shapes
(app/platform/schemas/common.py: every number finite and at most 1e6 in size, every list
axis bounded); the server's `max_array_elements` bounds the total (413 beyond it). What
core checks across fields (W square, its channels A_prev's, the window inside the padded
input, dZ the forward output's shape, ...) is each model's x-convstep-rules: 422
'geometry' with core's words.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.platform.schemas.common import (
    AXIS_MAX,
    ELEMENTS,
    MEMORY,
    PAGE_NUMBERS,
    RECTANGULAR,
    STEP_LIMIT_CEILING,
    WORK,
    Array1,
    Array2,
    Array3,
    Array4,
    Axis,
    Number,
    PadMode,
    PadValue,
    PoolMode,
    Rule,
    Strict,
    TieRule,
    rules,
    server_limit,
)
from app.platform.schemas.steps import (
    ConvBackwardPage,
    ConvForwardPage,
    ConvTransposePage,
    PoolBackwardPage,
    PoolForwardPage,
)


def _geometry(name: str, says: str, match: str, *fields: str) -> Rule:
    """A rule core checks (422 'geometry', core's message starting with `match`)."""
    return Rule(name, says, 422, "geometry", "^" + match, fields=fields)


W_SQUARE = _geometry("w_square", "W is square in its first two axes (f, f, ...).",
                     "W must be square", "W")
CHANNELS = _geometry("channels", "W's third axis (n_C_prev) is A_prev's last (its channels).",
                     "Channel mismatch", "W")
BIAS = _geometry("bias", "b's last axis is W's n_C (one bias per filter).",
                 r"b must have shape", "b")
WINDOW_FITS = _geometry("window_fits", "The window fits the padded input: dilation*(f - 1) "
                        "+ 1 <= n_H_prev + 2*pad, and the same for the width (pooling: pad 0, "
                        "dilation 1).", "The window does not fit", "hparameters")
REFLECT = _geometry("reflect_pad", "pad_mode 'reflect' needs pad below the input's height "
                    "and width.", "Reflect padding", "pad_mode")
STEP_EXISTS = _geometry("step_exists", "steps.offset is below the number of steps.",
                        r"step \d+ does not exist", "steps")
DZ_SHAPE = _geometry("dZ_shape", "dZ has the forward output's shape (m, n_H, n_W, n_C), n_H "
                     "= floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1.",
                     "dZ must have the shape", "dZ")
DA_SHAPE = _geometry("dA_shape", "dA has the pooled output's shape (m, n_H, n_W, n_C), n_H "
                     "= floor((n_H_prev - f) / stride) + 1.", "dA must have the shape", "dA")
SAME_SHAPE = _geometry("same_shape", "a_slice_prev and W have the same shape.",
                       "a_slice_prev and W must have the same shape", "W")
T_CHANNELS = _geometry("channels", "W's last axis (n_C_prev) is A_prev's last (its "
                       "channels).", "Channel mismatch", "W")
T_BIAS = _geometry("bias", "b's last axis is W's third (n_C).", "b must have shape", "b")
T_OUTPUT_PADDING = _geometry("output_padding", "output_padding is below max(stride, "
                             "dilation).", "output_padding must be smaller", "output_padding")
T_NOT_EMPTY = _geometry("not_empty", "The output is not empty: (n_H_prev - 1)*stride - 2*pad "
                        "+ dilation*(f - 1) + 1 + output_padding >= 1, and the same for the "
                        "width.", "The transposed convolution's output would be empty",
                        "hparameters")
T_OUTPUT_PADDING_FORM = Rule("whole_output_padding", "output_padding is a whole number or a "
                             "pair of them (2.0 is neither form).", 422, "list_type",
                             r"output_padding\.list", fields=("output_padding",))
# every array route: rectangular arrays within max_array_elements and the memory budget
ARRAYS = (RECTANGULAR, ELEMENTS, MEMORY)
# and every route with a layer
LAYER = (*ARRAYS, WORK, PAGE_NUMBERS, STEP_EXISTS)


class StepsQuery(Strict):
    """Which step records to add: `limit` of them from step number `offset` (loop order
    i, h, w, c)."""

    offset: int = Field(0, ge=0, le=10**9, description="First step index (0-based).")
    limit: int = Field(64, ge=1, le=STEP_LIMIT_CEILING,
                       description="How many steps; at most the server's max_steps_per_page.",
                       json_schema_extra=server_limit(maximum="max_steps_per_page"))


class ConvHparameters(Strict):
    """The exercise's conv hparameters: {"stride": .., "pad": ..}."""

    stride: int = Field(ge=1, le=64, description="How far the window moves each step.")
    pad: int = Field(ge=0, le=256, description="Rows and columns added on every side.")


class PoolHparameters(Strict):
    """The exercise's pool hparameters: {"stride": .., "f": ..}."""

    stride: int = Field(ge=1, le=64, description="How far the window moves each step.")
    f: int = Field(ge=1, le=AXIS_MAX, description="Window size (f x f).")


def _one(item):
    return Annotated[list[item], Field(min_length=1, max_length=1)]


One3 = _one(_one(_one(Number)))  # (1, 1, 1)
Bias = _one(_one(_one(Array1)))  # (1, 1, 1, n_C)

EXAMPLE_X = [[[[1.0], [2.0]], [[3.0], [4.0]]]]  # (1, 2, 2, 1): np.pad's [[1, 2], [3, 4]]
EXAMPLE_A_PREV = [[[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]], [[7.0], [8.0], [9.0]]]]
EXAMPLE_W = [[[[1.0]], [[0.0]]], [[[0.0]], [[-1.0]]]]  # (2, 2, 1, 1)
EXAMPLE_POOL = [[[[1.0], [3.0]], [[4.0], [2.0]]]]  # the exercise's mask example X


class ZeroPadIn(Strict):
    """zero_pad(X, pad): pad the height and width of every image in the batch."""

    X: Array4 = Field(description="Batch of images (m, n_H, n_W, n_C).")
    pad: int = Field(ge=0, le=256, description="Rows and columns added on every side.")
    pad_mode: PadMode = "constant"
    pad_value: PadValue = 0.0

    model_config = ConfigDict(json_schema_extra=rules(*ARRAYS, REFLECT, examples=[
        {"X": EXAMPLE_X, "pad": 2},
        {"X": EXAMPLE_X, "pad": 1, "pad_mode": "constant", "pad_value": [4, 6]},
    ]))


class ZeroPadOut(BaseModel):
    """np.pad of X with `pad` rows and columns on every side of height and width."""

    X_pad: list = Field(description="(m, n_H + 2*pad, n_W + 2*pad, n_C)")


class ConvSingleStepIn(Strict):
    """conv_single_step(a_slice_prev, W, b) = sum(a_slice_prev * W) + b."""

    a_slice_prev: Array3 = Field(description="One window of the input (f, f, n_C_prev).")
    W: Array3 = Field(description="One filter's weights (f, f, n_C_prev).")
    b: One3 = Field(description="That filter's bias, shape (1, 1, 1).")

    model_config = ConfigDict(json_schema_extra=rules(*ARRAYS, SAME_SHAPE, examples=[
        {"a_slice_prev": [[[1.0], [2.0]], [[3.0], [4.0]]],
         "W": [[[1.0], [0.0]], [[0.0], [-1.0]]], "b": [[[0.5]]]},
    ]))


class ConvSingleStepOut(BaseModel):
    """conv_single_step's answer: one number."""

    Z: float = Field(description="A scalar: the sum of the element-wise products, plus b.")


class ConvLayerIn(Strict):
    """What conv_forward takes, and so what its cache holds: the input, the weights, the
    hparameters and the extensions as keywords."""

    A_prev: Array4 = Field(description="Input (m, n_H_prev, n_W_prev, n_C_prev).")
    W: Array4 = Field(description="Filters (f, f, n_C_prev, n_C).")
    b: Bias = Field(description="Biases (1, 1, 1, n_C).")
    hparameters: ConvHparameters
    pad_mode: PadMode = "constant"
    pad_value: PadValue = 0.0
    dilation: int = Field(1, ge=1, le=64, description="Spacing of the window's taps.")


class ConvForwardIn(ConvLayerIn):
    """conv_forward(A_prev, W, b, hparameters) with the extensions as keywords."""

    steps: StepsQuery | None = Field(None, description="Add a page of step records.")

    model_config = ConfigDict(json_schema_extra=rules(
        *LAYER, W_SQUARE, CHANNELS, BIAS, WINDOW_FITS, REFLECT, examples=[
        {"A_prev": EXAMPLE_A_PREV, "W": EXAMPLE_W, "b": [[[[0.5]]]],
         "hparameters": {"stride": 1, "pad": 0}, "steps": {"offset": 0, "limit": 2}},
        {"A_prev": EXAMPLE_A_PREV, "W": EXAMPLE_W, "b": [[[[0.0]]]],
         "hparameters": {"stride": 2, "pad": 1}, "pad_mode": "edge", "dilation": 1},
    ]))


class ConvForwardOut(BaseModel):
    """conv_forward's Z, and a page of conv_forward step records when `steps` was sent."""

    Z: list = Field(description="(m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2*pad - f) / "
                                "stride) + 1")
    steps: ConvForwardPage | None = None


class ConvBackwardIn(ConvLayerIn):
    """conv_backward(dZ, cache) with cache = (A_prev, W, b, hparameters) sent back in full."""

    dZ: Array4 = Field(description="Gradient of the cost with respect to Z (m, n_H, n_W, n_C).")
    steps: StepsQuery | None = Field(None, description="Add a page of step records.")

    model_config = ConfigDict(json_schema_extra=rules(
        *LAYER, W_SQUARE, CHANNELS, BIAS, WINDOW_FITS, REFLECT, DZ_SHAPE, examples=[
        {"dZ": [[[[1.0], [1.0]], [[1.0], [1.0]]]], "A_prev": EXAMPLE_A_PREV, "W": EXAMPLE_W,
         "b": [[[[0.5]]]], "hparameters": {"stride": 1, "pad": 0},
         "steps": {"offset": 0, "limit": 1}},
    ]))


class ConvBackwardOut(BaseModel):
    """conv_backward's gradients, and a page of conv_backward step records when `steps`
    was sent."""

    dA_prev: list = Field(description="(m, n_H_prev, n_W_prev, n_C_prev)")
    dW: list = Field(description="(f, f, n_C_prev, n_C)")
    db: list = Field(description="(1, 1, 1, n_C)")
    steps: ConvBackwardPage | None = None


class PoolLayerIn(Strict):
    """What pool_forward takes, and so what its cache holds."""

    A_prev: Array4 = Field(description="Input (m, n_H_prev, n_W_prev, n_C_prev).")
    hparameters: PoolHparameters
    mode: PoolMode = "max"


class PoolForwardIn(PoolLayerIn):
    """pool_forward(A_prev, hparameters, mode); tie_rule only shapes the step records."""

    tie_rule: TieRule = Field("first", description="Which maximum the steps' argmax/mask "
                              "name when a window has ties.")
    steps: StepsQuery | None = Field(None, description="Add a page of step records.")

    model_config = ConfigDict(json_schema_extra=rules(*LAYER, WINDOW_FITS, examples=[
        {"A_prev": EXAMPLE_A_PREV, "hparameters": {"stride": 1, "f": 2}, "mode": "max",
         "steps": {"offset": 0, "limit": 1}},
        {"A_prev": EXAMPLE_POOL, "hparameters": {"stride": 2, "f": 2}, "mode": "average"},
    ]))


class PoolForwardOut(BaseModel):
    """pool_forward's A, and a page of pool_forward step records when `steps` was sent."""

    A: list = Field(description="(m, n_H, n_W, n_C), n_H = floor((n_H_prev - f) / stride) + 1")
    steps: PoolForwardPage | None = None


class PoolBackwardIn(PoolLayerIn):
    """pool_backward(dA, cache, mode) with cache = (A_prev, hparameters) sent back in full."""

    dA: Array4 = Field(description="Gradient with respect to the pooled output (m, n_H, n_W, "
                                   "n_C).")
    tie_rule: TieRule = Field("first", description="Where a tied maximum's gradient goes: "
                              "the first maximum, all of them, or split equally.")
    steps: StepsQuery | None = Field(None, description="Add a page of step records.")

    model_config = ConfigDict(json_schema_extra=rules(*LAYER, WINDOW_FITS, DA_SHAPE, examples=[
        {"dA": [[[[1.0]]]], "A_prev": EXAMPLE_POOL, "hparameters": {"stride": 2, "f": 2},
         "mode": "max", "steps": {"offset": 0, "limit": 1}},
        {"dA": [[[[1.0]]]], "A_prev": EXAMPLE_POOL, "hparameters": {"stride": 2, "f": 2},
         "mode": "average"},
    ]))


class PoolBackwardOut(BaseModel):
    """pool_backward's dA_prev, and a page of pool_backward step records when `steps` was
    sent."""

    dA_prev: list = Field(description="(m, n_H_prev, n_W_prev, n_C)")
    steps: PoolBackwardPage | None = None


class CreateMaskIn(Strict):
    """create_mask_from_window(x): True where x equals its maximum."""

    x: Array2 = Field(description="One window (f, f).")

    model_config = ConfigDict(json_schema_extra=rules(*ARRAYS,
                                                      examples=[{"x": [[1, 3], [4, 2]]}]))


class CreateMaskOut(BaseModel):
    """The window's max mask (every maximum is True)."""

    mask: list[list[bool]] = Field(description="x == max(x), same shape as x.")


class DistributeValueIn(Strict):
    """distribute_value(dz, shape): dz shared equally over an (n_H, n_W) window."""

    dz: Number = Field(description="The gradient to share.")
    shape: Annotated[list[Axis], Field(min_length=2, max_length=2)] = Field(
        description="(n_H, n_W) of the window.")

    model_config = ConfigDict(json_schema_extra=rules(*ARRAYS, examples=[
        {"dz": 1, "shape": [2, 2]}, {"dz": 2, "shape": [2, 2]}]))


class DistributeValueOut(BaseModel):
    """dz spread evenly over the window: what average pooling sends back to each cell."""

    a: list[list[float]] = Field(description="np.full(shape, dz / (n_H * n_W)).")


OutputPadding = Annotated[
    Annotated[int, Field(ge=0, le=63)]
    | Annotated[list[Annotated[int, Field(ge=0, le=63)]], Field(min_length=2, max_length=2)],
    Field(description="Rows and columns added at the bottom and right (one number, or "
                      "[rows, columns]); below max(stride, dilation).")]


class ConvTransposeIn(Strict):
    """conv_transpose(A_prev, W, b, hparameters, output_padding=, dilation=): each input cell
    spreads its value times W[..., c] over a window of the output (core/transpose.py)."""

    A_prev: Array4 = Field(description="Input (m, n_H_prev, n_W_prev, n_C_prev).")
    W: Array4 = Field(description="Filters (f, f, n_C, n_C_prev): the layout of the "
                                  "convolution it transposes (n_C channels to n_C_prev).")
    b: Bias = Field(description="Biases (1, 1, 1, n_C).")
    hparameters: ConvHparameters
    output_padding: OutputPadding = 0
    dilation: int = Field(1, ge=1, le=64, description="Spacing of the window's taps.")
    steps: StepsQuery | None = Field(None, description="Add a page of step records (one per "
                                                       "input cell and input channel).")

    model_config = ConfigDict(json_schema_extra=rules(
        *LAYER, W_SQUARE, T_CHANNELS, T_BIAS, T_OUTPUT_PADDING, T_OUTPUT_PADDING_FORM,
        T_NOT_EMPTY, examples=[
        {"A_prev": [[[[1.0], [2.0]]]], "W": [[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]],
         "b": [[[[0.0]]]], "hparameters": {"stride": 2, "pad": 0},
         "steps": {"offset": 0, "limit": 2}},
        {"A_prev": EXAMPLE_A_PREV, "W": EXAMPLE_W, "b": [[[[0.5]]]],
         "hparameters": {"stride": 2, "pad": 1}, "output_padding": 1},
    ]))


class ConvTransposeOut(BaseModel):
    """conv_transpose's Z, and a page of conv_transpose step records when `steps` was sent."""

    Z: list = Field(description="(m, n_H, n_W, n_C), n_H = (n_H_prev - 1)*stride - 2*pad + "
                                "dilation*(f - 1) + 1 + output_padding")
    steps: ConvTransposePage | None = None
