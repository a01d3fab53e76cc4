"""How arrays travel in JSON: the one place that turns NumPy arrays into ARRs.

ARR (float32): {"shape", "dtype": "float32", "data": base64 of little-endian float32 in C
order, "min", "max"}, with min and max of the exact (float64) values. With the display
encoding (`?encoding=display`) every array but the parameters is one byte per value:
{"shape", "dtype": "uint8", "encoding": "display", "min", "max", "offset", "scale",
"exact", "data"}, value ~= offset + q * scale (display_code). Step records are not ARRs:
they carry nested lists of full float64 numbers (core's to_dict()).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import numpy as np

# The parameters and their gradients stay float32 in the display encoding: they are tiny
# and the page shows their numbers (the filter form, the gradient tables).
FLOAT32_ALWAYS = frozenset({"W", "b", "dW", "db"})


def _arr(a: np.ndarray, lo: float, hi: float, display: bool) -> tuple[dict, bytes]:
    """(the ARR's fields but "data", the raw bytes of its data): float32, or the display
    encoding when `display`."""
    head: dict = {"shape": list(a.shape)}
    if display:
        q, offset, scale, exact = display_code(a, lo, hi)
        head.update(dtype="uint8", encoding="display", min=lo, max=hi, offset=offset,
                    scale=scale, exact=exact)
        return head, q.data
    head.update(dtype="float32", min=lo, max=hi)
    return head, np.ascontiguousarray(a, dtype="<f4").data


def encode(a: np.ndarray) -> dict:
    """ARR of `a` as a dict: {"shape", "dtype": "float32", "data", "min", "max"}."""
    head, data = _arr(a, float(a.min()), float(a.max()), display=False)
    return {**head, "data": base64.b64encode(data).decode("ascii")}


def arrays_json(arrays: Mapping[str, np.ndarray], ranges: Mapping[str, tuple[float, float]],
                names: tuple[str, ...] | None = None, encoding: str = "float32") -> list[bytes]:
    """The JSON object {name: ARR, ...} for `names` (default all; names not in `arrays` are
    left out) as a list of byte chunks to be sent one after the other: the base64 text of
    each array goes out as it is, never copied into one big string (at size 512 that is
    74 MB). `ranges[name]` is the (min, max) of the exact values. `encoding` "display" sends
    every array but W, b, dW, db as one byte per value (see display_code); "float32" sends
    them all as float32."""
    chunks = [b"{"]
    for name in names if names is not None else arrays:
        if name not in arrays:
            continue
        lo, hi = ranges[name]
        display = encoding == "display" and name not in FLOAT32_ALWAYS
        head, data = _arr(arrays[name], lo, hi, display)
        sep = b"" if len(chunks) == 1 else b", "
        chunks += [sep + json.dumps(name).encode() + b": " + json.dumps(head)[:-1].encode()
                   + b', "data": "', base64.b64encode(data), b'"}']
    chunks.append(b"}")
    return chunks


def _lut(offset: float, scale: float) -> np.ndarray:
    """The 256 values a display byte decodes to, as the page computes them: float64
    offset + q * scale, then rounded to float32."""
    return (np.arange(256, dtype=np.float64) * scale + offset).astype("<f4")


def display_code(a: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, float, float, bool]:
    """One byte per value for drawing: (q uint8 of a's shape, offset, scale, exact) with
    value ~= offset + q * scale, within half a step (scale / 2) of the float32 value.

    - values that are all k/255 for k in 0..255 (a working image: input, padded): offset
      0, scale 1/255, q = k, exact;
    - values that are all integers spanning at most 255 (masks, routed ones, counts):
      offset lo, scale 1, exact;
    - a constant array (lo == hi): q = 0, offset lo, scale 0, exact;
    - signed values (lo < 0): zero-symmetric for a diverging scale, m = max(-lo, hi),
      scale = m / 127, offset = -128 * scale: q = 128 + round(v / scale) in 1..255, so
      0 is q = 128 exactly, -m is q = 1 and m is q = 255;
    - otherwise (lo >= 0): offset lo, scale (hi - lo) / 255, q = round((v - lo) / scale):
      q is the index the page's sequential scale (lo..hi, 256 colours) gives the value.

    `exact` is true when every q decodes (float64 offset + q * scale rounded to float32) to
    exactly the float32 value: the picture and every number are then those of float32.
    """
    a = np.asarray(a, dtype=np.float32)
    candidates = []
    if lo >= 0 and hi <= 1 and _integral(lo * 255) and _integral(hi * 255):
        candidates.append((0.0, 1 / 255))
    if _integral(lo) and _integral(hi) and hi - lo <= 255:
        candidates.append((float(lo), 1.0))
    for offset, scale in candidates:
        t = a if offset == 0 else a - np.float32(offset)
        q = np.rint(t / np.float32(scale)).clip(0, 255).astype(np.uint8)
        if np.array_equal(_lut(offset, scale)[q], a):
            return q, offset, scale, True
    if hi == lo:
        return np.zeros(a.shape, np.uint8), float(lo), 0.0, True
    if lo < 0:
        scale = max(-lo, hi) / 127
        offset = -128 * scale
        t = a * np.float32(1 / scale)
        np.rint(t, out=t)
        t += 128
        np.clip(t, 1, 255, out=t)
    else:
        scale = (hi - lo) / 255
        offset = float(lo)
        t = a - np.float32(lo)
        t *= np.float32(1 / scale)
        np.rint(t, out=t)
        np.clip(t, 0, 255, out=t)
    return t.astype(np.uint8), offset, scale, False


def _integral(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))
