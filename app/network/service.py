"""The network routes' work: inputs made into the 8 x 8 digit, forward and backward passes,
layer step pages, the architecture. Everything is computed by core (core/net.py and the
layer traces); this module only picks the arrays and turns them into JSON-ready lists.

No weights are global: each request names its set ('shipped', an uploaded id, or a training
job's 'job:<id>'), kept in NetworkState (app.state.network): the shared store's.
"""

from __future__ import annotations

import base64
import io
import threading
import zipfile
from dataclasses import dataclass

import numpy as np
from fastapi import Request
from PIL import Image

from app.network.store import Jobs, WeightSets
from app.platform import imaging
from app.platform.bounds import nested_list_bytes
from app.platform.deps import NetLimitsDep, SettingsDep
from app.platform.errors import ApiError
from app.platform.network_config import NetworkLimits
from app.platform.shared import Shared, call, open_shared, submit
from app.platform.weights import (
    FLOAT64_MAX,
    backward_arrays,
    first_overflow,
    forward_arrays,
    shipped_params,
)
from core.data import load_digits, load_manifold, weights_info
from core.net import DEFAULT_NET, NetBackward, NetForward, net_backward, net_forward, scale_pixels
from core.net_input import (
    PEN_SHARE,
    InkError,
    Preprocessed,
    digit_from_ink,
    digit_from_pixels,
    ink_from_gray,
    ink_from_strokes,
)

NET = DEFAULT_NET


@dataclass
class NetworkState:
    """The network routes' state: uploaded weight sets and training jobs, in the shared
    store (app/platform/shared.py: this process, or Redis for every worker)."""

    shared: Shared
    weights: WeightSets
    jobs: Jobs


_state_lock = threading.Lock()


async def network_state(request: Request, settings: SettingsDep,
                        limits: NetLimitsDep) -> NetworkState:
    """The app's NetworkState, made on first use (once: under a lock, whatever the loop)."""
    state = getattr(request.app.state, "network", None)
    if state is None:
        with _state_lock:
            state = getattr(request.app.state, "network", None)
            if state is None:
                try:
                    sh = submit(open_shared(settings.redis_url)).result(timeout=15)
                except Exception as exc:
                    raise ApiError(503, "store_unavailable", "The shared store (Redis, "
                                   f"CONVSTEP_REDIS_URL) does not answer ({type(exc).__name__}"
                                   "); try again later.", headers={"Retry-After": "5"}
                                   ) from None
                state = NetworkState(sh, WeightSets(sh), Jobs(sh, limits))
                request.app.state.network = state
    state.jobs.limits = limits
    return state


async def resolve_weights(weights_id: str, state: NetworkState) -> dict:
    """The parameters a request names (404 when the set is unknown)."""
    if weights_id == "shipped":
        return shipped_params()
    if weights_id.startswith("job:"):
        params = await call(state.jobs.weights(weights_id[4:]))
        bad = [k for k, v in params.items() if not np.isfinite(v).all()]
        if bad:  # a training run that diverged: never NaN (null in JSON) in an answer
            raise ApiError(422, "weights_overflow", f"weights: {weights_id}'s weights hold "
                           f"NaN or infinity (in {', '.join(bad)}): its training diverged. "
                           "Start it again with a smaller lr.")
        return params
    params = await call(state.weights.get(weights_id))
    if params is None:
        raise ApiError(404, "unknown_weights", f"weights: no uploaded set {weights_id!r} "
                       "(forgotten after its time to live or after newer uploads, or the "
                       "server restarted); upload the file again.")
    return params


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class DigitIn:
    """The 8 x 8 pixels (0..16), and what the answer says about where they came from."""

    pixels: np.ndarray
    label: int | None = None
    index: int | None = None
    preprocess: dict | None = None

    @property
    def X(self) -> np.ndarray:
        return scale_pixels(self.pixels[None])  # (1, 8, 8, 1)

    def to_json(self) -> dict:
        pixels = self.pixels.tolist() if self.pixels.dtype.kind == "f" else \
            self.pixels.astype(int).tolist()
        return {"pixels": pixels, "X": self.X[0].tolist(), "label": self.label,
                "index": self.index, "preprocess": self.preprocess}


def _digit(p: Preprocessed, **more) -> DigitIn:
    return DigitIn(p.pixels, preprocess={"source_shape": list(p.source_shape),
                                         "box": list(p.box), "placed": list(p.placed), **more})


def _from_pixels(ink: np.ndarray, field: str, inverted: bool | None = None) -> DigitIn:
    """A drawing sent as pixels, or a photo's ink: thinned to its centre line and redrawn
    with the strokes' pen (a share of its size), then as ink (core/net_input.py)."""
    try:
        p, redrawn = digit_from_pixels(ink)
    except InkError as exc:
        raise ApiError(422, "no_digit", f"{field}: {exc}") from None
    return _digit(p, inverted=inverted, size=redrawn.size, pen=PEN_SHARE * redrawn.size,
                  stroke=redrawn.stroke, redrawn=redrawn.redrawn)


def _from_strokes(strokes: list) -> DigitIn:
    """A drawing sent as strokes: drawn with the pen a share of its size, then as ink."""
    try:
        p = digit_from_ink(ink_from_strokes(strokes))
    except InkError as exc:
        raise ApiError(422, "no_digit", f"input.strokes: {exc}") from None
    pts = np.concatenate([np.asarray(s, dtype=np.float64) for s in strokes])
    size = float(np.ptp(pts, axis=0).max())
    return _digit(p, strokes=len(strokes), size=size, pen=PEN_SHARE * size)


def canvas_shape(inp, limits: NetworkLimits) -> tuple[int, int]:
    """(rows, columns) of a drawing (nested rows or base64 with its shape): 422 when the rows
    are ragged, 413 over max_canvas on a side."""
    field = "input.ink"
    if inp.ink_base64 is not None:
        field = "input.shape"
        h, w = inp.shape
    else:
        rows = {len(r) for r in inp.ink}
        if len(rows) != 1:
            raise ApiError(422, "ragged_array", "input.ink: every row must have the same "
                           f"length, but the rows have {len(rows)} different lengths.")
        h, w = len(inp.ink), rows.pop()
    if max(h, w) > limits.max_canvas:
        raise ApiError(413, "canvas_too_large", f"{field} is {h} x {w}; the limit is "
                       f"max_canvas = {limits.max_canvas} on a side (CONVSTEP_NET_MAX_CANVAS).")
    return h, w


def canvas_ink(inp) -> np.ndarray:
    """A drawing's ink (h, w), 0..255, from either of its forms (the schema has checked that
    ink_base64 decodes to shape's h * w bytes)."""
    if inp.ink_base64 is None:
        return np.asarray(inp.ink, dtype=np.float64)
    h, w = inp.shape
    return np.frombuffer(base64.b64decode(inp.ink_base64), dtype=np.uint8).reshape(h, w)


def digit_input(inp, limits: NetworkLimits) -> DigitIn:
    """The DigitIn of a RunInput (pixels, canvas, strokes or held-out digit)."""
    if inp.kind == "pixels":
        return DigitIn(np.asarray(inp.pixels, dtype=np.float64))
    if inp.kind == "digit":
        images, labels = load_digits().split("test")
        return DigitIn(images[inp.index], int(labels[inp.index]), inp.index)
    if inp.kind == "strokes":
        return _from_strokes(inp.strokes)
    canvas_shape(inp, limits)
    return _from_pixels(canvas_ink(inp) / 255.0, "input")


def _photo_size(data: bytes, most: int) -> int:
    """The longest side to decode at: the photo's own, at most `most` (never enlarged)."""
    try:
        with Image.open(io.BytesIO(data)) as im:  # the header only
            return max(1, min(most, max(im.size)))
    except Exception:  # not an image: imaging.decode answers with the right 4xx
        return most


def photo_input(data: bytes, limits: NetworkLimits, max_pixels: int,
                max_decode_bytes: int = imaging.MAX_DECODE_BYTES) -> DigitIn:
    """An uploaded photo or scan: decoded gray (app/platform/imaging.py, at most max_canvas on a
    side), the paper found by its border, the ink redrawn, cropped and scaled like a
    drawing."""
    gray = imaging.decode(data, size=_photo_size(data, limits.max_canvas), color="gray",
                          max_pixels=max_pixels, max_decode_bytes=max_decode_bytes)
    g = gray[:, :, 0].astype(np.float64) / 255.0
    try:
        ink = ink_from_gray(g)
    except InkError as exc:
        raise ApiError(422, "no_digit", f"file: {exc}") from None
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    return _from_pixels(ink, "file", inverted=bool(np.median(border) >= 0.5))


# ---------------------------------------------------------------- forward and backward


def _lists(a: np.ndarray) -> list:
    return np.asarray(a, dtype=np.float64).tolist()


def _finite_forward(params: dict, digit: DigitIn) -> NetForward:
    """The forward pass, or a 422 naming the layer where it passes float64's range. An
    answer never holds NaN or infinity (JSON would carry them as null): an uploaded set is
    checked on the held-out digits (network_weights.check_forward), but another input, a
    backward pass or a training job's weights can still overflow."""
    with np.errstate(all="ignore"):  # an overflow is answered below, not warned about
        fwd = net_forward(params, digit.X, NET, checked=True)
    _refuse_overflow("forward", first_overflow(forward_arrays(fwd)))
    return fwd


def _finite_backward(fwd: NetForward, target: int) -> NetBackward:
    with np.errstate(all="ignore"):
        bwd = net_backward(fwd, np.array([target]), NET)
    _refuse_overflow("backward", first_overflow(backward_arrays(bwd)))
    return bwd


def _refuse_overflow(direction: str, where: str | None) -> None:
    if where is not None:
        raise ApiError(422, "weights_overflow", f"weights: with these weights the {direction} "
                       f"pass on this input overflows at {where}: its values pass float64's "
                       f"range (+-{FLOAT64_MAX:.4g}), which JSON cannot carry. Use smaller "
                       "weights" + (" or ask for no backward pass." if direction == "backward"
                                    else "."))


def run(params: dict, digit: DigitIn, target: int | None, backward: bool) -> dict:
    """Forward (every layer's output, probabilities, prediction) and, if asked, backward
    from the loss -log p[target] (every layer's gradients, the saliency map)."""
    fwd = _finite_forward(params, digit)
    probs = fwd.probs[0]
    prediction = int(np.argmax(probs))
    out = {"input": digit.to_json(), "digit_like": load_manifold().verdict(digit.pixels),
           "forward": {
        "layers": [{"name": layer.name, "kind": layer.kind, "output": _lists(o[0])}
                   for layer, o in zip(NET.layers, fwd.outputs, strict=True)],
        "logits": _lists(fwd.logits[0]), "probs": _lists(probs), "prediction": prediction}}
    if backward:
        if target is None:
            target = digit.label if digit.label is not None else prediction
        bwd = _finite_backward(fwd, target)
        layers = []
        for layer, rec in zip(NET.layers, bwd.layers, strict=True):
            item = {"name": layer.name, "kind": layer.kind, "d_out": _lists(rec["d_out"][0]),
                    "dA_prev": _lists(rec["dA_prev"][0])}
            if "dW" in rec:
                item["dW"] = _lists(rec["dW"])
                item["db"] = _lists(rec["db"].reshape(-1))
            layers.append(item)
        out["backward"] = {"target": int(target), "loss": bwd.loss, "layers": layers,
                           "saliency": _lists(bwd.dX[0])}
    return out


def step_page(params: dict, digit: DigitIn, target: int | None, layer_name: str,
              direction: str, offset: int, limit: int, position) -> dict:
    """A page of core's step records of one conv or pool layer on its real input, and the
    arrays the step view draws."""
    fwd = _finite_forward(params, digit)
    k = NET.index(layer_name)
    layer = NET.layers[k]
    A_prev = fwd.X if k == 0 else fwd.outputs[k - 1]  # (1, n_H_prev, n_W_prev, n_C_prev)
    where = {"offset": offset, "limit": limit,
             "position": None if position is None else (0, *position)}
    arrays = {"A_prev": A_prev[0], "output": fwd.outputs[k][0],
              **layer.forward_arrays(A_prev, params)}
    if direction == "forward":
        target = None
        page = layer.forward_trace(A_prev, params, **where)
    else:
        if target is None:
            target = digit.label if digit.label is not None else int(np.argmax(fwd.probs[0]))
        rec = _finite_backward(fwd, target).layers[k]
        arrays.update(d_out=rec["d_out"][0], dA_prev=rec["dA_prev"][0],
                      **layer.backward_arrays(rec))
        page = layer.backward_trace(rec["d_out"], fwd.caches[k], **where)
    g = layer.geometry(NET.input_shape_of(k))
    arrays = {name: _lists(a) for name, a in arrays.items()}
    return {"layer": layer.name, "direction": direction, "target": target, "geometry": g.to_dict(),
            "arrays": arrays, "page": page.to_dict()}


# ---------------------------------------------------------------- the architecture


def architecture(limits: NetworkLimits) -> dict:
    layers, shape = [], list(NET.input_shape)
    for layer, out_shape in zip(NET.layers, NET.shapes, strict=True):
        info = {"name": layer.name, "kind": layer.kind, "input_shape": shape,
                "output_shape": list(out_shape),
                "params": {k.split(".")[1]: list(v) for k, v in NET.param_shapes.items()
                           if k.startswith(layer.name + ".")}}
        info.update(layer.describe(tuple(shape)))
        layers.append(info)
        shape = list(out_shape)
    digits = load_digits()
    return {
        "input_shape": list(NET.input_shape), "classes": list(NET.classes), "layers": layers,
        "parameter_count": int(sum(np.prod(s) for s in NET.param_shapes.values())),
        "shipped": weights_info(),
        "data": {"name": "Optical Recognition of Handwritten Digits (UCI), as bundled with "
                         "scikit-learn", "authors": "E. Alpaydin, C. Kaynak",
                 "licence": "CC BY 4.0",
                 "url": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+"
                        "handwritten+digits",
                 "images": len(digits.labels), "train": len(digits.train_index),
                 "held_out": len(digits.test_index), "pixel_max": 16},
        "limits": limits.model_dump(),
    }


def held_out_digits() -> dict:
    images, labels = load_digits().split("test")
    return {"count": len(labels), "images": images.astype(int).tolist(),
            "labels": labels.astype(int).tolist()}


# ---------------------------------------------------------------- what a request costs
# An upper bound of the bytes each route allocates at its peak, known before the work
# starts (app/platform/heavy.py admits it within memory_budget_bytes: at most LIGHT_BYTES
# is a light request, which needs no heavy slot). tests/app/test_network_cost.py measures
# every one against what the work really allocates (tracemalloc; RSS for a photo).

MIB = 2**20
# Forward and backward of one digit and a step page's arrays (measured 0.06-0.29 MB).
PASS_BYTES = 512 * 1024
# The same with /run's answer: every layer's maps and gradients as lists and JSON (0.56 MB).
RUN_BYTES = 1 * MIB
# A drawing of h x w: the parsed ink as float64, scaled, clipped and cropped (about 15-25
# bytes a pixel measured; the thresholds' booleans).
INK_BYTES_PER_PIXEL = 32
# A drawing as strokes (core/net_input.py's ink_from_strokes): at most 4096 points and a path
# 40 times the digit's size, drawn 512 one-pixel pieces at a time (5.2 MiB peak measured on
# the worst case, a 4096-point zigzag of 39 times its size).
STROKES_BYTES = 8 * MIB
# A drawing or photo sent as pixels is redrawn (core/net_input.py's redraw_ink): a copy of
# its ink, the mask, the box as float32 (or, read as it is, float64), and at 96 pixels its
# centre line drawn 128 pieces at a time. Measured with the ink's own arrays: 8.2 MiB for a
# 512 x 512 drawing full of ink or of noise (cost 14.8), 2.2 MiB for 168 x 168 of noise, whose
# centre line is thousands of dots (tests/app/test_network_cost.py).
REDRAW_BYTES_PER_PIXEL = 16
REDRAW_BYTES = 7 * MIB // 4
# A photo's working gray image (at most max_canvas on a side): uint8, float64, the ink
# (core/net_input.py's ink_from_gray: border, difference, clip, stretch), then the drawing's.
PHOTO_BYTES_PER_PIXEL = 80
# app/platform/imaging.py converts and reduces the decoded image tile by tile (about 512 x 512
# pixels of up to 4 bytes, twice), then resizes the small image.
TILE_BYTES = 4 * MIB
# The network on the 360 held-out digits (core.train.evaluate: 7.6 MB measured).
EVALUATE_BYTES = 10 * MIB
# A multipart upload as held while it is worked on: the body read, its part, the file.
HELD_COPIES = 3
# A step record: its dict, keys and small ints, besides its three windows of numbers.
STEP_RECORD_BYTES = 4096
# A training job (core.train.Trainer and its held-out evaluation every point): 8.8-16.6 MB
# at batch_size 32 and 18-29 MB at 512 measured (tracemalloc, peak over a whole job).
JOB_BYTES = 20 * MIB
JOB_BYTES_PER_SAMPLE = 40 * 1024


def input_cost(inp, limits: NetworkLimits) -> int:
    """Bytes of turning a run input into the digit: a drawing's arrays (413 / 422 first
    when it is over max_canvas or ragged), nothing to speak of for pixels or an index."""
    if inp.kind == "strokes":
        return STROKES_BYTES
    if inp.kind != "canvas":
        return 0
    h, w = canvas_shape(inp, limits)
    return (INK_BYTES_PER_PIXEL + REDRAW_BYTES_PER_PIXEL) * h * w + REDRAW_BYTES


def run_cost(inp, limits: NetworkLimits) -> int:
    """/run: the input's digit, forward and backward, the answer (about 1 MiB for an 8 x 8
    digit or the page's 168 x 168 drawing sent as pixels: light; strokes and a 512 x 512
    drawing are heavy)."""
    return RUN_BYTES + input_cost(inp, limits)


def _step_bytes(layer_index: int) -> tuple[int, int]:
    """(bytes of one step record, steps of the layer) of NET's layer `layer_index`."""
    window = NET.layers[layer_index].window(NET.input_shape_of(layer_index))
    numbers = int(np.prod(window))
    per_window = nested_list_bytes(window) + 32 * numbers  # lists, floats and JSON text
    return STEP_RECORD_BYTES + 3 * per_window, int(np.prod(NET.shapes[layer_index]))


def steps_cost(inp, layer_name: str, limit: int, limits: NetworkLimits) -> int:
    """/steps: a pass of the digit, then a page of at most `limit` step records (each three
    windows of f x f (x n_C_prev) numbers) of the layer, at most as many as it has."""
    per_step, total = _step_bytes(NET.index(layer_name))
    return PASS_BYTES + input_cost(inp, limits) + min(limit, total) * per_step


def photo_cost(data: bytes, limits: NetworkLimits, max_pixels: int,
               max_decode_bytes: int = imaging.MAX_DECODE_BYTES) -> int:
    """/run/photo, from the file's header only (the same 4xx as decoding for a file that is
    not an image, is a bomb or decodes to more than max_decode_bytes): the decoded image,
    the tiles, the working gray image at most max_canvas on a side and its arrays, the run,
    and the upload as held."""
    size = _photo_size(data, limits.max_canvas)
    width, height, decoded = imaging.probe(data, size=size, color="gray",
                                           max_pixels=max_pixels,
                                           max_decode_bytes=max_decode_bytes)
    w, h = imaging.working_size(width, height, size)
    return (decoded + TILE_BYTES + (PHOTO_BYTES_PER_PIXEL + REDRAW_BYTES_PER_PIXEL) * w * h
            + REDRAW_BYTES + RUN_BYTES + HELD_COPIES * len(data))


def upload_cost(data: bytes) -> int:
    """/weights (POST): the file as held, its tensors (an .npz archive's members at the
    sizes its directory declares, which zipfile never reads past; a .safetensors file's
    within its bytes) read and put in the network's layout (a copy each), and the
    evaluation on the held-out digits."""
    tensors = len(data)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                tensors = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            pass  # app/platform/weights.py answers with its 422
    return HELD_COPIES * len(data) + 3 * tensors + EVALUATE_BYTES


def job_cost(batch_size: int) -> int:
    """A training job while it runs or is paused (its trainer, minibatch and evaluation)."""
    return JOB_BYTES + JOB_BYTES_PER_SAMPLE * batch_size
