"""Models of the network routes: the architecture, a run (forward and backward of one digit),
layer step pages, training jobs and weight uploads.

Arrays are nested lists of full float64 numbers in the exercise's channels-last shapes, with
the batch axis dropped (one image): a conv layer's Z is (n_H, n_W, n_C), its W
(f, f, n_C_prev, n_C); the dense layer's Z is (10,).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.platform.schemas.common import Rule, Strict, rules, server_limit
from app.platform.schemas.steps import StepPageOut
from core.net import DEFAULT_NET
from core.net_input import MAX_LENGTH, MAX_POINTS

N_CLASSES = 10
HELD_OUT = 360
CANVAS_CEILING = 4096
MAX_STROKES = 256
MIN_PACE, MAX_PACE = 5, 1000  # a paced job's minibatches a second (30 epochs: 4.5 min at 5)
# base64 of a CANVAS_CEILING x CANVAS_CEILING drawing, one byte a pixel
INK_BASE64_MAX = -(-CANVAS_CEILING * CANVAS_CEILING // 3) * 4
# standard padded base64: groups of 4, the last one padded with = (what b64decode validates)
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

CANVAS_SIDE = server_limit(maxItems="max_canvas")  # a drawing's rows, and each row's pixels
UNKNOWN_JOB = Rule("known_job", "A job id is one this server started and still keeps "
                   "(keep_seconds after it ends).", 404, "unknown_job",
                   settings=("keep_seconds",))
UNKNOWN_WEIGHTS = Rule("known_weights", "An uploaded set's id is one this server answered "
                       "and still keeps (weights_ttl_seconds after its upload).", 404,
                       "unknown_weights", settings=("weights_ttl_seconds",))
Class = Annotated[int, Field(ge=0, le=N_CLASSES - 1)]
Pixel = Annotated[float, Field(ge=0, le=16, allow_inf_nan=False)]
Ink = Annotated[int, Field(ge=0, le=255)]
WeightsId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^(shipped|u[0-9a-f]+|"
                                 r"job:[0-9a-f-]+)$", description="Which weights: 'shipped' "
                                 "(the default), an uploaded set's id, or 'job:<id>' for a "
                                 "training job's current weights. "
                                 + UNKNOWN_WEIGHTS.says + " " + UNKNOWN_JOB.says,
                                 json_schema_extra=rules(UNKNOWN_WEIGHTS, UNKNOWN_JOB))]
JobId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9a-f-]+$",
                            description=UNKNOWN_JOB.says,
                            json_schema_extra=rules(UNKNOWN_JOB))]
Nested = list[Any]  # a nested list of numbers in the shape that the field names
# The network's layer names, and those with a window (the step view), from the network itself
LayerName = Literal[tuple(layer.name for layer in DEFAULT_NET.layers)]  # type: ignore[valid-type]
StepLayer = Literal[tuple(layer.name for layer in DEFAULT_NET.layers  # type: ignore[valid-type]
                          if layer.steppable)]


class NetPixelsInput(Strict):
    """The 8 x 8 input itself, in the data's units: whole or fractional counts 0..16."""

    kind: Literal["pixels"]
    pixels: Annotated[list[Annotated[list[Pixel], Field(min_length=8, max_length=8)]],
                      Field(min_length=8, max_length=8)]


ONE_FORM = Rule("one_form", "A drawing is sent as exactly one of ink (nested rows, no shape) "
                "or ink_base64 with shape, whose bytes number shape[0] x shape[1].", 422,
                "value_error", r"exactly one of ink|shape goes with ink_base64|ink_base64 "
                r"needs shape|ink_base64 holds \d+ bytes", fields=("ink", "ink_base64"))
RECTANGULAR_INK = Rule("rectangular", "ink's rows are all of one length.", 422,
                       "ragged_array", fields=("ink",))
A_DIGIT = Rule("a_digit", "The drawing holds some ink; strokes are at most "
               f"{MAX_LENGTH} times as long as the drawing is large (a digit's are 1 to 6).",
               422, "no_digit")
ALL_POINTS = Rule("all_points", f"The strokes hold at most {MAX_POINTS} points in all.", 422,
                  "value_error", "points in all", fields=("strokes",))


class NetCanvasInput(Strict):
    """A drawing: ink 0..255 per pixel (0 = paper, 255 = full ink, the canvas's alpha), at
    most max_canvas on a side, sent one of two ways: `ink`, its rows as nested lists, or
    `ink_base64` with `shape`: the same pixels as bytes (one uint8 a pixel, row after row,
    rows x columns of them), standard padded base64 (about a third of the nested form's
    bytes for a 168 x 168 pad, and no lists to read). Both give the same answer. The server
    crops it to the ink and scales it to 8 x 8 as the data was made (core/net_input.py)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=rules(
        ONE_FORM, RECTANGULAR_INK, A_DIGIT, oneOf=[  # the two forms, as JSON Schema says them
            {"required": ["ink"], "properties": {"ink": {"not": {"type": "null"}},
                                                 "ink_base64": {"type": "null"},
                                                 "shape": {"type": "null"}}},
            {"required": ["ink_base64", "shape"],
             "properties": {"ink": {"type": "null"}, "ink_base64": {"not": {"type": "null"}},
                            "shape": {"not": {"type": "null"}}}}]))

    kind: Literal["canvas"]
    ink: Annotated[list[Annotated[list[Ink], Field(min_length=1, max_length=CANVAS_CEILING,
                                                   json_schema_extra=CANVAS_SIDE)]],
                   Field(min_length=1, max_length=CANVAS_CEILING,
                         json_schema_extra=CANVAS_SIDE)] | None = Field(
        None, description="Rows of ink 0..255, all of one length (or send ink_base64).")
    ink_base64: Annotated[str, Field(min_length=4, max_length=INK_BASE64_MAX,
                                     pattern=BASE64)] | None = Field(
        None, description="The ink as bytes (uint8, row-major, shape[0] x shape[1] of them), "
                          "standard base64 with its padding; needs `shape`.")
    shape: Annotated[list[Annotated[int, Field(ge=1, le=CANVAS_CEILING,
                                               json_schema_extra=server_limit(
                                                   maximum="max_canvas"))]],
                     Field(min_length=2, max_length=2)] | None = Field(
        None, description="(rows, columns) of ink_base64's pixels.")

    @model_validator(mode="after")
    def _one_form(self) -> NetCanvasInput:
        if (self.ink is None) == (self.ink_base64 is None):
            raise ValueError("send the drawing as exactly one of ink (nested rows) or "
                             "ink_base64 (with shape).")
        if self.ink_base64 is None:
            if self.shape is not None:
                raise ValueError("shape goes with ink_base64; nested ink rows carry their "
                                 "own shape.")
            return self
        if self.shape is None:
            raise ValueError("ink_base64 needs shape: (rows, columns) of its pixels.")
        n = ink_bytes(self.ink_base64)
        h, w = self.shape
        if n != h * w:
            raise ValueError(f"ink_base64 holds {n} bytes, but shape {h} x {w} needs "
                             f"{h * w} (one uint8 a pixel).")
        return self


def ink_bytes(text: str) -> int:
    """How many bytes a padded base64 text decodes to (without decoding it)."""
    return len(text) // 4 * 3 - (len(text) - len(text.rstrip("=")))


Coordinate = Annotated[float, Field(ge=-CANVAS_CEILING, le=CANVAS_CEILING, allow_inf_nan=False)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]


class NetStrokesInput(Strict):
    """A drawing as the pen's path: strokes, each the (x, y) positions of one pen-down to
    pen-up (any units, y down; the page sends its pad's pixels). The server draws them with a
    pen 0.17 of the digit's size (the data's amount of ink at any size), then crops and
    scales as for a canvas (core/net_input.py's ink_from_strokes)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=rules(ALL_POINTS, A_DIGIT))

    kind: Literal["strokes"]
    strokes: Annotated[list[Annotated[list[Point], Field(min_length=1, max_length=MAX_POINTS)]],
                       Field(min_length=1, max_length=MAX_STROKES)] = Field(
        description=f"At most {MAX_STROKES} strokes and {MAX_POINTS} points in all.")

    @model_validator(mode="after")
    def _few_points(self) -> NetStrokesInput:
        total = sum(len(s) for s in self.strokes)
        if total > MAX_POINTS:
            raise ValueError(f"strokes hold {total} points in all; the limit is {MAX_POINTS}.")
        return self


class NetDigitInput(Strict):
    """One of the 360 held-out digits (never trained on), by its index 0..359."""

    kind: Literal["digit"]
    index: int = Field(ge=0, le=HELD_OUT - 1)


NetRunInput = Annotated[NetPixelsInput | NetCanvasInput | NetStrokesInput | NetDigitInput,
                        Field(discriminator="kind")]


class NetRunIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"input": {"kind": "digit", "index": 0}},
        {"input": {"kind": "digit", "index": 5}, "target": 3, "weights": "shipped"},
        {"input": {"kind": "canvas", "ink": [[0, 255, 255, 0], [0, 0, 255, 0],
                                             [0, 255, 0, 0], [0, 255, 0, 0]]},
         "backward": False},
        {"input": {"kind": "canvas", "shape": [4, 4],
                   "ink_base64": "AP//AAAA/wAA/wAAAP8AAA=="}, "backward": False},
        {"input": {"kind": "strokes", "strokes": [[[20, 20], [80, 20], [40, 120]]]},
         "backward": False}]})

    input: NetRunInput
    target: Class | None = Field(None, description="The class whose loss -log p[target] the "
                                 "backward pass starts from (default: the true label of a "
                                 "held-out digit, else the predicted class).")
    weights: WeightsId = "shipped"
    backward: bool = Field(True, description="Also run the backward pass.")


class NetPreprocessOut(BaseModel):
    """How a drawing or a photo became the 8 x 8 input."""

    source_shape: list[int] = Field(description="(rows, columns) of the drawing or photo.")
    box: list[int] = Field(description="The ink's box in it: top, left, bottom, right "
                           "(bottom and right exclusive).")
    placed: list[float] = Field(description="Where the box went in the 8 x 8 grid: top, left, "
                                "height, width (in cells).")
    inverted: bool | None = Field(None, description="Photos: True when the paper was light "
                                  "(dark ink), so gray was turned into ink as 1 - gray.")
    strokes: int | None = Field(None, description="Strokes: how many.")
    size: float | None = Field(None, description="The digit's size: the longer side of the "
                               "box of its pen positions (strokes, in their units) or of its "
                               "centre line (a drawing or photo, in its pixels).")
    pen: float | None = Field(None, description="The pen's width it was drawn with, in the "
                              "same units (pen_share * size): strokes are drawn with it, a "
                              "drawing or photo is thinned to its centre line and redrawn.")
    stroke: float | None = Field(None, description="A drawing or photo: its strokes' width "
                                 "as measured before the redrawing, in its pixels (measured "
                                 "with the box resampled to 96 pixels: at least box / 96).")
    redrawn: bool | None = Field(None, description="A drawing or photo: True when it was "
                                 "thinned and redrawn with the pen; False when it was read as "
                                 "it is (its loops filled in by a thick pen, its centre line "
                                 "would be a line through it).")


class NetDigitLikeOut(BaseModel):
    """Does the input look like a digit? Its distance to the digits in the 8 x 8 input space
    (core/ood.py: Mahalanobis, to the nearest class's mean, the classes' shared covariance).
    Over the threshold (which 99% of real and drawn digits stay under) it does not, and the
    network's answer means little: softmax always picks some class."""

    distance: float
    threshold: float
    nearest: Class = Field(description="The class whose digits it is nearest to.")
    digit_like: bool = Field(description="distance <= threshold.")


class NetInputOut(BaseModel):
    pixels: list[list[int | float]] = Field(description="(8, 8) in the data's units 0..16.")
    X: Nested = Field(description="(8, 8, 1): what the network reads, pixels / 16.")
    label: Class | None = Field(None, description="The true label (held-out digits).")
    index: int | None = None
    preprocess: NetPreprocessOut | None = None


class NetLayerForwardOut(BaseModel):
    name: LayerName
    kind: Literal["conv", "relu", "pool", "flatten", "dense"]
    output: Nested = Field(description="Z for conv and dense, A otherwise; batch axis dropped.")


class NetForwardOut(BaseModel):
    layers: list[NetLayerForwardOut]
    logits: list[float]
    probs: list[float] = Field(description="softmax(logits), exactly as core computes it.")
    prediction: Class


class NetLayerBackwardOut(BaseModel):
    name: LayerName
    kind: Literal["conv", "relu", "pool", "flatten", "dense"]
    d_out: Nested = Field(description="The loss's gradient on this layer's output (dZ for conv "
                          "and dense, dA otherwise).")
    dA_prev: Nested = Field(description="... on its input.")
    dW: Nested | None = None
    db: Nested | None = None


class NetBackwardOut(BaseModel):
    target: Class
    loss: float = Field(description="-log probs[target].")
    layers: list[NetLayerBackwardOut] = Field(description="In forward order (conv1 first).")
    saliency: Nested = Field(description="(8, 8, 1): the gradient on the input pixels X, "
                             "conv1's dA_prev.")


class NetRunOut(BaseModel):
    weights: str
    input: NetInputOut
    digit_like: NetDigitLikeOut
    forward: NetForwardOut
    backward: NetBackwardOut | None = None


class NetLayerInfo(BaseModel):
    name: LayerName
    kind: Literal["conv", "relu", "pool", "flatten", "dense"]
    title: str = Field(description="What the page calls it: conv, ReLU, max pool, ...")
    note: str = Field(description="One line of its settings, e.g. '3×3, pad 1, 8 filters'.")
    output: Literal["Z", "A"] = Field(description="The exercise's name of its output.")
    steppable: bool = Field(description="Whether /api/network/steps walks it (a window).")
    input_shape: list[int]
    output_shape: list[int]
    f: int | None = None
    n_C: int | None = None
    stride: int | None = None
    pad: int | None = None
    mode: str | None = None
    n_out: int | None = None
    params: dict[str, list[int]] = Field(default_factory=dict)
    formula: str | None = Field(None, description="The output size formula with the numbers.")


class NetworkOut(BaseModel):
    input_shape: list[int]
    classes: list[str]
    layers: list[NetLayerInfo]
    parameter_count: int
    shipped: dict[str, Any] = Field(description="What core/data/NET_WEIGHTS.json records: the "
                                    "training command, its settings, the held-out accuracy.")
    data: dict[str, Any] = Field(description="The digits: source, licence, split sizes.")
    limits: dict[str, Any]


class NetWeightsOut(BaseModel):
    id: str
    params: dict[str, Nested] = Field(description="Every parameter by name, the exercise's "
                                      "layout.")


class NetDigitsOut(BaseModel):
    """The held-out digits: pixels 0..16 and labels, in index order."""

    count: int
    images: list[list[list[int]]]
    labels: list[int]


POSITION_INSIDE = Rule("position_inside", "position (h, w, c) is inside the layer's output "
                       "(NetLayerInfo.output_shape).", 422, "geometry",
                       r"^position .* is outside", fields=("position",))
CLIENT_JOBS = Rule("client_jobs", "A client has at most client_jobs jobs running or paused "
                   "(503 with Retry-After until one ends).", 503, "client_jobs",
                   settings=("client_jobs",))
MAX_JOBS = Rule("max_jobs", "The server runs at most max_jobs jobs at once (503 with "
                "Retry-After until one ends).", 503, "too_many_jobs", settings=("max_jobs",))


class NetStepsIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=rules(POSITION_INSIDE, examples=[
        {"input": {"kind": "digit", "index": 0}, "layer": "conv1", "direction": "forward",
         "offset": 0, "limit": 8},
        {"input": {"kind": "digit", "index": 0}, "layer": "pool2", "direction": "backward",
         "target": 0, "position": [1, 1, 5], "limit": 1}]))

    input: NetRunInput
    weights: WeightsId = "shipped"
    target: Class | None = None
    layer: StepLayer
    direction: Literal["forward", "backward"] = "forward"
    offset: int = Field(0, ge=0, le=10**6)
    limit: int = Field(64, ge=1, le=512)
    position: Annotated[list[Annotated[int, Field(ge=0, le=64)]],
                        Field(min_length=3, max_length=3)] | None = Field(
        None, description="(h, w, c): start the page at this output position instead.")


class NetStepsOut(BaseModel):
    layer: StepLayer
    direction: Literal["forward", "backward"]
    target: Class | None = Field(description="The class whose loss the backward pass starts "
                                 "from (None for the forward pass).")
    geometry: dict[str, Any] = Field(description="core's Geometry of the layer (formula, "
                                     "padded size, rows no window reaches).")
    arrays: dict[str, Nested] = Field(description="The layer's real arrays: A_prev (and "
                                      "A_prev_pad, W, b for conv), the output, and for the "
                                      "backward pass the incoming gradient and the results.")
    page: StepPageOut


class NetTrainIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=rules(
        CLIENT_JOBS, MAX_JOBS,
        examples=[{"epochs": 10}, {"epochs": 3, "batch_size": 64, "lr": 0.005, "seed": 7}]))

    epochs: int = Field(10, ge=1, le=1000, description="At most max_job_epochs.",
                        json_schema_extra=server_limit(maximum="max_job_epochs"))
    batch_size: int = Field(32, ge=1, le=512)
    lr: float = Field(1e-2, gt=0, le=1.0)
    lr_final: float = Field(5e-4, gt=0, le=1.0)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the random start and of the "
                      "order of the digits.")
    shift: int = Field(1, ge=0, le=2)
    steps_per_second: float | None = Field(
        None, ge=MIN_PACE, le=MAX_PACE, description="The pace: at most this many minibatches "
        "a second, so that the curves and filters can be watched (the page starts at 20); "
        "none: as fast as the server goes (30 epochs in a few seconds).")


class NetPaceIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"steps_per_second": 5}, {"steps_per_second": None}]})

    steps_per_second: float | None = Field(ge=MIN_PACE, le=MAX_PACE, description="At most "
                                           "this many minibatches a second; null: full speed.")


class NetTrainPoint(BaseModel):
    step: int
    epoch: float
    train_loss: float | None = Field(description="Mean minibatch loss since the last point "
                                     "(None at the start).")
    test_loss: float
    test_accuracy: float
    seconds: float


class NetJobOut(BaseModel):
    id: str
    state: Literal["running", "paused", "stopped", "done", "failed", "diverged"] = Field(
        description="diverged: the loss became NaN or infinite (too large an lr); the job "
        "ended there, its curves and weights those of its last finite step.")
    reason: str | None
    config: dict[str, Any]
    step: int
    total_steps: int
    steps_per_epoch: int
    epoch: float
    train_seconds: float
    steps_per_second: float | None = Field(description="The pace (null: full speed).")
    points_total: int
    points_from: int
    points: list[NetTrainPoint]
    filters: Nested = Field(description="conv1.W now, (3, 3, 1, 8).")


class NetJobStartOut(NetJobOut):
    control_token: str = Field(description="Send it as the X-Control-Token header to pause, "
                               "resume, stop or delete this job; keep it to yourself.")


class NetTensorOut(BaseModel):
    name: str
    file_name: str
    file_shape: list[int]
    layout: Literal["exercise", "pytorch", "vector"]


class NetUploadOut(BaseModel):
    id: str = Field(description="Pass it as `weights` to /run and /steps.")
    source: str
    replaced: list[NetTensorOut]
    kept: list[str] = Field(description="Parameters the file did not hold: they keep the "
                            "shipped values.")
    test_accuracy: float = Field(description="Held-out accuracy with these weights.")


class NetPhotoSettings(Strict):
    """The `settings` part of POST /api/network/run/photo (JSON text): all optional."""

    target: Class | None = None
    weights: WeightsId = "shipped"
    backward: bool = True
