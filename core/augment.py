"""Training digits varied the way people's drawings vary: slant, rotation, width, stroke weight,
and letterforms the 13 writers of the data did not use. Pure NumPy.

    X = warp_digits(images, rng)          # (m, 8, 8) uint8 0..16, each one varied
    X, y = synthetic_digits(2000, rng)    # drawings of core/drawn.py's letterforms

warp_digits: each 8 x 8 digit is read as a smooth 32 x 32 gray picture (bilinear between the
cell centres), mapped through a random affine map (rotation +-12 degrees, shear -0.3..0.3,
width 0.75..1.2 of the height), cut at a random gray level (0.3..0.6: a low cut thickens the
strokes, a high one thins them), and then made into 8 x 8 again exactly as a drawing is
(core/net_input.py's digit_from_ink: the ink's box scaled to 8 rows, area resampling, the
peak made 16). Size and position need no varying: the input path scales every digit to the
same box (and training shifts it a pixel sideways, core/train.py).

synthetic_digits: drawings by core/drawn.py's draw_digit, every letterform equally likely, at
heights 0.15..0.9 of the pad, through the page's path (drawn_pixels). Its seeds are the
caller's; the drawn-digit set that measures the network (drawn_set, seed 2026) is drawn with
another seed, so no drawing is in both.
"""

from __future__ import annotations

import numpy as np

from .drawn import LETTERFORMS, draw_digit, drawn_pixels
from .net_input import digit_from_ink

FINE = 32  # the side of the smooth picture an 8 x 8 digit is read as


def _bilinear(img: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """img (m, 8, 8) sampled at cell coordinates y, x (m, R, R) (cell centres at k + 0.5),
    zero outside."""
    m, n, _ = img.shape
    padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))  # (m, n + 2, n + 2): zeros around
    yc = np.clip(y - 0.5 + 1, 0, n + 1 - 1e-9)  # in padded cell indices
    xc = np.clip(x - 0.5 + 1, 0, n + 1 - 1e-9)
    y0, x0 = np.floor(yc).astype(np.intp), np.floor(xc).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, n + 1), np.minimum(x0 + 1, n + 1)
    fy, fx = yc - y0, xc - x0
    i = np.arange(m)[:, None, None]
    top = padded[i, y0, x0] * (1 - fx) + padded[i, y0, x1] * fx
    bottom = padded[i, y1, x0] * (1 - fx) + padded[i, y1, x1] * fx
    return top * (1 - fy) + bottom * fy  # (m, R, R)


def warp_digits(images, rng: np.random.Generator, *, rotate: float = 12.0,
                shear: float = 0.3, widths=(0.75, 1.2), cuts=(0.3, 0.6)) -> np.ndarray:
    """Each digit (m, 8, 8) 0..16 varied (see the module docstring); uint8 (m, 8, 8)."""
    images = np.asarray(images, dtype=np.float64) / 16.0
    m, n, _ = images.shape
    a = np.radians(rng.uniform(-rotate, rotate, m))
    s = rng.uniform(-shear, shear, m)
    w = rng.uniform(*widths, m)
    # forward map A = R(a) @ [[w, s], [0, 1]] (x, y); the picture is sampled through A^-1
    c, sn = np.cos(a), np.sin(a)
    A = np.empty((m, 2, 2))
    A[:, 0, 0], A[:, 0, 1] = c * w, c * s - sn
    A[:, 1, 0], A[:, 1, 1] = sn * w, sn * s + c
    inv = np.linalg.inv(A)  # (m, 2, 2)
    # the output picture is 1.5 times as large (FINE cells over n * 1.5), so a warped digit
    # stays inside it
    span = n * 1.5
    g = (np.arange(FINE) + 0.5) / FINE * span - span / 2  # (FINE,) centred coordinates
    gx, gy = np.meshgrid(g, g)  # (FINE, FINE)
    src_x = inv[:, 0, 0, None, None] * gx + inv[:, 0, 1, None, None] * gy + n / 2
    src_y = inv[:, 1, 0, None, None] * gx + inv[:, 1, 1, None, None] * gy + n / 2
    gray = _bilinear(images, src_y, src_x)  # (m, FINE, FINE) in 0..1
    cut = rng.uniform(*cuts, m)[:, None, None] * gray.max(axis=(1, 2), keepdims=True)
    ink = (gray > cut).astype(np.float64)
    out = np.zeros((m, n, n), dtype=np.uint8)
    for i in range(m):
        out[i] = digit_from_ink(ink[i] if ink[i].any() else gray[i]).pixels
    return out


def synthetic_digits(count: int, rng: np.random.Generator,
                     sizes=(0.15, 0.9)) -> tuple[np.ndarray, np.ndarray]:
    """count drawings of random digits and letterforms: (pixels (count, 8, 8) uint8,
    labels (count,) uint8)."""
    labels = rng.integers(0, 10, count)
    strokes = []
    for d in labels:
        forms = LETTERFORMS[int(d)]
        form = forms[rng.integers(len(forms))]
        strokes.append(draw_digit(int(d), form, rng, size=rng.uniform(*sizes)))
    return drawn_pixels(strokes), labels.astype(np.uint8)
