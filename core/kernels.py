"""Preset f x f kernels for the page's filter picker.

Every preset is a plain (f, f) float64 array; to apply it to an image with C channels the
server repeats it over the channels. identity and box_blur exist for every f >= 1; the others
need a centre cell, so an odd f >= 3. Their 3 x 3 forms are the classic ones:

    sobel_x   [[-1 0 1] [-2 0 2] [-1 0 1]]    laplacian [[0 1 0] [1 -4 1] [0 1 0]]
    sharpen   [[0 -1 0] [-1 5 -1] [0 -1 0]]   outline   [[-1 -1 -1] [-1 8 -1] [-1 -1 -1]]
    emboss    [[-2 -1 0] [-1 1 1] [0 1 2]]    gaussian_blur [[1 2 1] [2 4 2] [1 2 1]] / 16

Larger f generalise them: binomial rows for the Gaussian and the Sobel smoothing, the Sobel
derivative [-1 0 1] smoothed to length f, the 4-neighbour cross of the Laplacian stretched
to the whole centre row and column.
"""

from __future__ import annotations

from math import comb

import numpy as np

from .geometry import GeometryError, check_choice, check_int

PRESETS = ("identity", "box_blur", "gaussian_blur", "sharpen", "sobel_x", "sobel_y",
           "laplacian", "emboss", "outline")
ANY_F = ("identity", "box_blur")


def _binomial(n: int) -> np.ndarray:
    """Row n-1 of Pascal's triangle: _binomial(3) = [1 2 1]."""
    return np.array([comb(n - 1, k) for k in range(n)], dtype=np.float64)


def _identity(f: int) -> np.ndarray:
    # For even f there is no centre: the 1 sits at ((f-1)//2, (f-1)//2), the upper-left of
    # the four middle cells.
    k = np.zeros((f, f))
    k[(f - 1) // 2, (f - 1) // 2] = 1.0
    return k


def _laplacian(f: int) -> np.ndarray:
    c = f // 2
    k = np.zeros((f, f))
    k[c, :] = 1.0
    k[:, c] = 1.0
    k[c, c] = -2.0 * (f - 1)  # rows sum to zero: a flat image gives 0
    return k


def preset_kernel(name: str, f: int) -> np.ndarray:
    """The preset `name` as an (f, f) float64 array.

    Example: preset_kernel("sobel_x", 3) is [[-1 0 1] [-2 0 2] [-1 0 1]].
    Raises GeometryError for an unknown name or an f the preset has no form for.
    """
    name = check_choice("preset", name, PRESETS)
    f = check_int("f (kernel size)", f, minimum=1, what="a kernel has at least one cell")
    if name not in ANY_F and (f < 3 or f % 2 == 0):
        raise GeometryError(
            f"The preset '{name}' needs a centre cell, so f must be odd and at least 3 "
            f"(3, 5, 7, ...), but f = {f}. Only identity and box_blur work for every f."
        )
    c = f // 2
    if name == "identity":
        return _identity(f)
    if name == "box_blur":
        return np.full((f, f), 1.0 / (f * f))
    if name == "gaussian_blur":
        g = np.outer(_binomial(f), _binomial(f))
        return g / g.sum()
    if name in ("sobel_x", "sobel_y"):
        derivative = np.convolve(_binomial(f - 2), [1.0, 0.0, -1.0])[::-1]  # [-1 0 1] for f=3
        k = np.outer(_binomial(f), derivative)
        return k if name == "sobel_x" else k.T.copy()
    if name == "laplacian":
        return _laplacian(f)
    if name == "sharpen":
        return _identity(f) - _laplacian(f)
    if name == "outline":
        k = -np.ones((f, f))
        k[c, c] = f * f - 1.0
        return k
    # emboss: the diagonal ramp (r - c) + (s - c) with 1 at the centre
    r = np.arange(f) - c
    k = (r[:, None] + r[None, :]).astype(np.float64)
    k[c, c] = 1.0
    return k
