"""A drawn or photographed digit made into the network's input, the way the data was made.

The UCI digits are 32 x 32 bitmaps of a digit scaled into its box, then the on-pixels of each
4 x 4 block counted: whole numbers 0..16. Every one of them fills all 8 rows, and 98% reach
16 somewhere. So a drawing (or an upload) goes through the same steps:

1. ink: a 2-D array, 0 = paper, 1 = full ink (ink_from_gray makes one from a gray photo:
   dark ink on light paper or light on dark, whichever the border says is the paper);
2. the ink's bounding box (cells above `threshold` of the strongest ink);
3. the box scaled, keeping its aspect ratio, so that its height fills the 8 rows (or its
   width the 8 columns, if it is wider than tall), centred;
4. each of the 8 x 8 cells gets the share of its area covered by ink (exact area
   resampling: out = Ry @ crop @ Rx.T, Ry[r, i] = length of row i's span inside cell r);
5. scaled so that the strongest cell is 16, and rounded: whole numbers 0..16, as in the data.

Pure NumPy; the server decodes image files and hands over gray arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .net import PIXEL_MAX

SIZE = 8


class InkError(ValueError):
    """An input that holds no digit (blank, or not a 2-D array of numbers)."""


@dataclass(frozen=True)
class Preprocessed:
    """pixels (8, 8) uint8 0..16; box = (top, left, bottom, right) of the ink in the source
    (bottom and right exclusive); placed = (top, left, height, width) of the scaled box in
    the 8 x 8 grid (fractions of a cell); source_shape of the 2-D ink array."""

    pixels: np.ndarray
    box: tuple[int, int, int, int]
    placed: tuple[float, float, float, float]
    source_shape: tuple[int, int]


def _as_ink(ink) -> np.ndarray:
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or min(ink.shape) < 1:
        raise InkError(f"The drawing must be a 2-D array (rows, columns) of ink values, but "
                       f"its shape is {ink.shape}.")
    if not np.isfinite(ink).all():
        raise InkError("The drawing holds values that are NaN or infinite.")
    return np.clip(ink, 0.0, None)


def _overlap(n_src: int, start: float, step: float) -> np.ndarray:
    """(SIZE, n_src): how much of output cell r the source cell i covers, i spanning
    [start + i*step, start + (i + 1)*step) in output units."""
    lo = start + np.arange(n_src) * step  # (n_src,)
    cells = np.arange(SIZE)[:, None]  # (SIZE, 1)
    return np.clip(np.minimum(cells + 1, lo + step) - np.maximum(cells, lo), 0.0, None)


def digit_from_ink(ink, *, threshold: float = 0.1) -> Preprocessed:
    """The 8 x 8 input (0..16) of a drawing: ink (H, W), 0 = paper, larger = more ink.

    Example: a 30 x 10 bar of ink becomes a bar 8 rows high and 8*10/30 = 2.67 columns wide
    in the middle: columns 3 and 4 fully inked (16), columns 2 and 5 a third (16/3 -> 5).
    """
    ink = _as_ink(ink)
    peak = float(ink.max())
    if peak <= 0:
        raise InkError("The drawing is blank: there is no ink to read.")
    rows = np.flatnonzero((ink > threshold * peak).any(axis=1))
    cols = np.flatnonzero((ink > threshold * peak).any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = ink[top:bottom, left:right] / peak  # (h, w) in 0..1
    h, w = crop.shape
    step = SIZE / max(h, w)  # one source cell, in output cells
    height, width = h * step, w * step
    y0, x0 = (SIZE - height) / 2, (SIZE - width) / 2
    covered = _overlap(h, y0, step) @ crop @ _overlap(w, x0, step).T  # (8, 8) in 0..1
    pixels = np.rint(covered * (PIXEL_MAX / covered.max())).astype(np.uint8)
    return Preprocessed(pixels, (top, left, bottom, right), (y0, x0, height, width), ink.shape)


def ink_from_gray(gray) -> np.ndarray:
    """Ink (H, W) in 0..1 from a gray image in 0..1 (0 = black): the paper is the median of
    the border, ink is the distance from it, away from the paper's side, stretched to 1.

    Dark ink on white paper and white chalk on a blackboard both give ink 1 on the strokes.
    """
    gray = _as_ink(gray)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    ink = paper - gray if paper >= 0.5 else gray - paper  # (H, W), > 0 where it differs
    ink = np.clip(ink, 0.0, None)
    peak = float(ink.max())
    if peak <= 1e-3:
        raise InkError("The image is one flat colour: there is no digit to read.")
    return ink / peak
