"""Conv filters from a weight file, for the single-layer view (Explore).

A file (.safetensors or .npz, read by app/platform/weights.py read_tensors: never a pickle, every
.npz header checked before its data is read) may hold any tensors. A 4-D tensor is a conv
weight tensor when one of the two layouts gives it square kernels:

    exercise  (f, f, n_C_prev, n_C)        shape[0] == shape[1]
    PyTorch   (n_C, n_C_prev, kH, kW)      shape[2] == shape[3]

When both fit, the name decides (".weight" / "_weight": PyTorch's; ".W", "W1": the
exercise's), then the bias's length (n_C differs between the readings); otherwise the answer
holds both readings, marked ambiguous. The bias of "x.weight" is "x.bias" (or "x.b"), of
"x.W" "x.b", of the course's "W1" "b1", of a bare "x" "x.bias" or "x.b": shape (n_C,) or
(1, 1, 1, n_C). Each reading becomes Explore's filters (exact float64 numbers of the file)
and says whether Explore can use it (f range, max_filters, 1 or 3 input channels, weights
within +-WEIGHT_ABS) and, when not, why with the numbers.

Refused with a 4xx naming the tensor: no conv weight tensor (the tensors found are listed),
a conv tensor or bias whose dtype is not a real number, NaN or infinity in one, a bias whose
shape fits no reading; read_tensors refuses the rest (empty, broken, pickle, .pt, image,
too many or too large tensors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.explore.schemas.image import WEIGHT_ABS, control_bounds
from app.platform.config import Settings
from app.platform.weights import read_tensors, real_float64, refuse

PYTORCH_NAME = re.compile(r"(\.|_)weight$")
EXERCISE_NAME = re.compile(r"(^|\.|_)W\d*$")


@dataclass(frozen=True)
class Limits:
    """What Explore takes: f in [f_min, f_max], at most max_filters, 1 or 3 channels."""

    f_min: int
    f_max: int
    max_filters: int


def limits_for(settings: Settings) -> Limits:
    """The bounds a filter must meet to be used in Explore: f within the f control's range,
    at most max_filters filters."""
    f = control_bounds(settings)["f"]
    return Limits(int(f["min"]), int(f["max"]), settings.max_filters)


def _readings(shape: tuple[int, ...]) -> list[str]:
    """The layouts that give `shape` square kernels, in order exercise, pytorch."""
    out = []
    if shape[0] == shape[1]:
        out.append("exercise")
    if shape[2] == shape[3]:
        out.append("pytorch")
    return out


def _exercise_shape(shape: tuple[int, ...], layout: str) -> tuple[int, int, int, int]:
    if layout == "exercise":
        return shape  # type: ignore[return-value]
    n_C, n_C_prev, k, _ = shape
    return (k, k, n_C_prev, n_C)


def bias_names(name: str) -> list[str]:
    """The names a weight tensor's bias may have in the file, most likely first."""
    m = re.fullmatch(r"(.*?)(\.|_)?(weight|W|w)(\d*)", name)
    if m and (m.group(2) or m.group(1) == ""):
        stem, sep, word, k = m.groups()
        sep = sep or ""
        if word == "weight":
            return [f"{stem}{sep}bias{k}", f"{stem}{sep}b{k}"]
        return [f"{stem}{sep}b{k}", f"{stem}{sep}bias{k}"]
    return [f"{name}.bias", f"{name}.b", f"{name}_bias"]


def _bias_fits(shape: tuple[int, ...], n_C: int) -> bool:
    return shape in ((n_C,), (1, 1, 1, n_C))


def _fit(name: str, f: int, n_C_prev: int, n_C: int, W: np.ndarray, b: np.ndarray | None,
         limits: Limits) -> list[str]:
    reasons = []
    if not limits.f_min <= f <= limits.f_max:
        reasons.append(f"{name} has {f} x {f} kernels; Explore's f is {limits.f_min} to "
                       f"{limits.f_max}.")
    if n_C_prev not in (1, 3):
        reasons.append(f"{name} has {n_C_prev} input channels; Explore's image has 1 (gray) "
                       "or 3 (RGB).")
    if n_C > limits.max_filters:
        reasons.append(f"{name} has {n_C} filters > max_filters {limits.max_filters}.")
    big = max(float(np.abs(W).max(initial=0.0)),
              0.0 if b is None else float(np.abs(b).max(initial=0.0)))
    if big > WEIGHT_ABS:
        reasons.append(f"{name} holds a value of magnitude {big:g}; Explore's weights and "
                       f"biases are within -{WEIGHT_ABS:g} to {WEIGHT_ABS:g}.")
    return reasons


def explore_filters(W: np.ndarray, b: np.ndarray | None) -> list[dict]:
    """Explore's filters from W (f, f, n_C_prev, n_C) and b (n_C,) or None: weights (f, f)
    for one input channel, (f, f, C) otherwise (float64, exactly W's numbers)."""
    out = []
    for c in range(W.shape[3]):
        k = W[:, :, :, c]
        out.append({"weights": (k[:, :, 0] if W.shape[2] == 1 else k).tolist(),
                    "bias": 0.0 if b is None else float(b[c])})
    return out


def entry(name: str, layout: str, why: str, x: np.ndarray, dtype: str, bias: str | None,
          b_raw: np.ndarray | None, limits: Limits, ambiguous: bool = False) -> dict:
    """One reading of a conv tensor `x` (as in the file, float64) with its bias."""
    W = x if layout == "exercise" else x.transpose(2, 3, 1, 0)
    f, _, n_C_prev, n_C = W.shape
    b = None if b_raw is None else b_raw.reshape(-1)
    reasons = _fit(name, f, n_C_prev, n_C, W, b, limits)
    return {
        "key": f"{name}@{layout}" if ambiguous else name, "name": name, "layout": layout,
        "ambiguous": ambiguous, "why_layout": why, "dtype": dtype,
        "file_shape": list(x.shape), "exercise_shape": list(W.shape), "f": f,
        "n_C_prev": n_C_prev, "n_C": n_C, "bias": bias,
        "bias_shape": None if b_raw is None else list(b_raw.shape),
        "color": {1: "gray", 3: "rgb"}.get(n_C_prev), "fits": not reasons,
        "reasons": reasons, "filters": None if reasons else explore_filters(W, b),
    }


def _why(name: str, readings: list[str], chosen: str, by: str) -> str:
    if len(readings) == 1:
        return (f"only the {'exercise' if chosen == 'exercise' else 'PyTorch'} layout gives "
                "square kernels")
    if by == "name":
        whose = "PyTorch" if chosen == "pytorch" else "the exercise"
        return f"both layouts fit; the name '{name}' is {whose}'s"
    if by == "bias":
        return "both layouts fit; the bias's length gives n_C"
    return "both layouts fit and neither the name nor a bias decides"


def _find_bias(name: str, tensors: dict[str, np.ndarray]) -> str | None:
    return next((n for n in bias_names(name) if n in tensors and n != name), None)


def _describe(name: str, x: np.ndarray) -> str:
    return f"'{name}' {tuple(x.shape)} {x.dtype}"


def filters_of_tensors(tensors: dict[str, np.ndarray], limits: Limits) -> tuple[list, list]:
    """(conv entries, other tensors) of a file's tensors; 422 without a conv tensor."""
    entries: list[dict] = []
    used: set[str] = set()
    skipped: dict[str, str] = {}
    biases = {b for n, t in tensors.items() if np.ndim(t) == 4
              if (b := _find_bias(n, tensors)) is not None}
    for name, raw in tensors.items():
        x = np.asarray(raw)
        if x.ndim != 4 or name in biases:
            continue
        readings = _readings(x.shape)
        if not readings:
            skipped[name] = ("4-D, but neither layout has square kernels: "
                             "(f, f, n_C_prev, n_C) needs shape[0] == shape[1], "
                             "(n_C, n_C_prev, kH, kW) needs shape[2] == shape[3]")
            continue
        xf = real_float64(f"'{name}'", x)
        bias = _find_bias(name, tensors)
        b_raw = None
        if bias is not None:
            b_raw = real_float64(f"'{bias}'", np.asarray(tensors[bias]))
            fitting = [r for r in readings
                       if _bias_fits(b_raw.shape, _exercise_shape(x.shape, r)[3])]
            if not fitting:
                wants = " or ".join(f"({n},) or (1, 1, 1, {n}) for the {r} layout's n_C = {n}"
                                    for r in readings
                                    for n in [_exercise_shape(x.shape, r)[3]])
                raise refuse("bad_shape", f"'{bias}' (the bias of '{name}', shape "
                              f"{tuple(x.shape)}) has shape {tuple(b_raw.shape)}; expected "
                              f"{wants}.")
            used.add(bias)
        else:
            fitting = readings
        if len(readings) == 2 and PYTORCH_NAME.search(name) and "pytorch" in fitting:
            chosen, by = ["pytorch"], "name"
        elif len(readings) == 2 and EXERCISE_NAME.search(name) and "exercise" in fitting:
            chosen, by = ["exercise"], "name"
        elif len(readings) == 2 and len(fitting) == 1:
            chosen, by = fitting, "bias"
        else:
            chosen, by = fitting, "shape"
        ambiguous = len(chosen) == 2
        for layout in chosen:
            entries.append(entry(name, layout, _why(name, readings, layout, by), xf,
                                 str(x.dtype), bias, b_raw, limits, ambiguous))
        used.add(name)
    if not entries:
        found = "; ".join(_describe(n, np.asarray(t)) + (f" ({skipped[n]})" if n in skipped
                                                          else "")
                          for n, t in tensors.items())
        raise refuse("no_conv_tensor", "no conv weight tensor: a conv tensor is 4-D, "
                      "(f, f, n_C_prev, n_C) in the exercise's layout or (n_C, n_C_prev, k, k) "
                      f"in PyTorch's. The file holds {found}.")
    others = []
    for name, raw in tensors.items():
        if name in used:
            continue
        x = np.asarray(raw)
        note = skipped.get(name) or ("not 4-D, so not a conv weight tensor" if x.ndim != 4
                                     else "not used")
        others.append({"name": name, "shape": list(x.shape), "dtype": str(x.dtype),
                       "note": note})
    return entries, others


def filters_of_file(data: bytes, source: str, limits: Limits) -> dict:
    """The FiltersOut answer of an uploaded file."""
    tensors, kind = read_tensors(data)
    entries, others = filters_of_tensors(tensors, limits)
    return {"source": source, "format": kind, "max_filters": limits.max_filters,
            "f_range": [limits.f_min, limits.f_max], "tensors": entries, "others": others}


def filters_of_layer(params: dict, layer: str, weights_id: str, limits: Limits) -> dict:
    """The FiltersOut answer of one conv layer of the network's weights (exercise layout)."""
    W = np.asarray(params[f"{layer}.W"], dtype=np.float64)
    b = np.asarray(params[f"{layer}.b"], dtype=np.float64)
    e = entry(f"{layer}.W", "exercise", f"the network's own {layer} weights (the exercise's "
              "layout)", W, str(W.dtype), f"{layer}.b", b, limits)
    return {"source": f"network weights {weights_id}", "format": "network",
            "max_filters": limits.max_filters, "f_range": [limits.f_min, limits.f_max],
            "tensors": [e], "others": []}
