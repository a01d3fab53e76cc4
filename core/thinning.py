"""Thinning: a binary drawing reduced to its centre line, one pixel wide, its shape kept.

A photo of a digit or a drawing sent as pixels has strokes of any width; the network's input
path redraws them with a pen a share of the digit's size (core/net_input.py), as it does for
strokes. Thinning finds the path that pen follows. Guo and Hall's parallel algorithm
(Guo & Hall, "Parallel thinning with two-subiteration algorithms", CACM 32(3), 1989, A1)
peels the drawing's border in two alternating sub-iterations until nothing changes. A pixel p
with neighbours x1..x8 (x1 east, then counter-clockwise: NE, N, NW, W, SW, S, SE; x9 = x1) is
removed in a sub-iteration when all three hold:

    C(p) = sum over i = 1..4 of [not x(2i-1) and (x(2i) or x(2i+1))] == 1
           (p joins exactly one piece of its neighbours: removing it disconnects nothing)
    2 <= min(N1, N2) <= 3, N1 = sum over k of (x(2k-1) or x(2k)), N2 = (x(2k) or x(2k+1))
           (p is neither an end of a line nor inside the drawing)
    first sub-iteration:  (x2 or x3 or not x8) and x1 == 0   (a south-east border pixel)
    second sub-iteration: (x6 or x7 or not x4) and x5 == 0   (a north-west border pixel)

Whether p goes depends only on its 8 neighbours, so each condition is a table of the 256
neighbourhoods, and a sub-iteration is one table look-up for every pixel at once. Example: a
bar 3 rows high and 7 columns long thins to its middle row without the end columns (5 pixels:
a line stops about half its width short of its ends, as a round pen's path does); a 2 x 2
square to one pixel.
"""

from __future__ import annotations

import numpy as np

# The neighbours' offsets (row, column) in the order x1..x8: east, then counter-clockwise.
NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))


def _removable(code: int, sub: int) -> bool:
    """Whether a pixel whose neighbourhood is `code` (bit k = x(k+1)) goes in sub-iteration
    `sub` (0 or 1): the three conditions of the module's docstring, written out."""
    x = [bool(code >> k & 1) for k in range(8)] * 2  # x[0] = x1 ... x[7] = x8, then again
    c = sum(not x[2 * i] and (x[2 * i + 1] or x[2 * i + 2]) for i in range(4))
    n1 = sum(x[2 * k] or x[2 * k + 1] for k in range(4))
    n2 = sum(x[2 * k + 1] or x[2 * k + 2] for k in range(4))
    side = ((x[1] or x[2] or not x[7]) and x[0] if sub == 0  # south-east border
            else (x[5] or x[6] or not x[3]) and x[4])  # north-west border
    return c == 1 and 2 <= min(n1, n2) <= 3 and not side


# (2, 256): whether a pixel goes, by sub-iteration and neighbourhood code
REMOVABLE = np.array([[_removable(code, sub) for code in range(256)] for sub in (0, 1)])


def _padded(mask: np.ndarray, dtype=bool) -> np.ndarray:
    """(H + 2, W + 2): mask with a border of zeros (np.pad's result, without its overhead)."""
    h, w = mask.shape
    out = np.zeros((h + 2, w + 2), dtype=dtype)
    out[1:-1, 1:-1] = mask
    return out


def neighbourhood_codes(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8: bit k set where neighbour x(k+1) of the pixel is set (outside: unset)."""
    padded = _padded(mask, np.uint8)  # (H + 2, W + 2)
    h, w = mask.shape
    codes = np.zeros((h, w), dtype=np.uint8)
    for k, (dr, dc) in enumerate(NEIGHBOURS):
        codes |= padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w] << k
    return codes


def thin(mask) -> np.ndarray:
    """The centre line (H, W) bool of a binary drawing (H, W): the pixels Guo and Hall's
    thinning keeps (a subset of mask, as connected as it, one pixel wide)."""
    skeleton = np.asarray(mask, dtype=bool).copy()
    changed = True
    while changed:
        changed = False
        for sub in (0, 1):
            gone = skeleton & REMOVABLE[sub][neighbourhood_codes(skeleton)]
            if gone.any():
                skeleton &= ~gone
                changed = True
    return skeleton


def _thin_loop(mask) -> np.ndarray:
    """thin's slow twin (the tests' oracle): every pixel's conditions evaluated one by one,
    the sub-iteration's removals applied together (the algorithm is parallel)."""
    skeleton = np.asarray(mask, dtype=bool).copy()
    h, w = skeleton.shape
    changed = True
    while changed:
        changed = False
        for sub in (0, 1):
            gone = []
            for r in range(h):
                for c in range(w):
                    if not skeleton[r, c]:
                        continue
                    code = 0
                    for k, (dr, dc) in enumerate(NEIGHBOURS):
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < h and 0 <= cc < w and skeleton[rr, cc]:
                            code |= 1 << k
                    if _removable(code, sub):
                        gone.append((r, c))
            for r, c in gone:
                skeleton[r, c] = False
            changed = changed or bool(gone)
    return skeleton


def depth(mask) -> np.ndarray:
    """(H, W) int: how many layers of the drawing are peeled off before each pixel goes (0 on
    paper, 1 on the border): a distance to the paper in pixels, each layer peeled alternately
    with the 4 and the 8 neighbours (an octagon, within 8% of a circle).
    Example: a bar 5 pixels wide is 1, 2, 3, 2, 1 across: its width is 2 * 3 - 1."""
    left = np.asarray(mask, dtype=bool)
    out = left.astype(np.intp)
    h, w = left.shape
    for k in range(1, h * w + 1):  # a layer a time, until nothing is left
        padded = _padded(left)  # (H + 2, W + 2)
        offsets = NEIGHBOURS[::2] if k % 2 else NEIGHBOURS
        for dr, dc in offsets:
            left = left & padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
        if not left.any():
            break
        out += left
    return out
