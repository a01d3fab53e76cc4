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

A drawing made of strokes (the page's pad sends the pen's path, not its pixels) first becomes
ink with ink_from_strokes: the pen's width is a fixed share of the digit's own size (PEN_SHARE
of its box's longer side), the way the data's digits have a nearly constant amount of ink
(310 of the 32 x 32 bitmap's 1024 pixels on average, for every class) whatever size the
writer wrote them. A pen that is a fixed share of the pad instead makes a small digit a thick
blob once its box is scaled up to 8 rows.

Pure NumPy; the server decodes image files and hands over gray arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .net import PIXEL_MAX
from .thinning import depth, thin

SIZE = 8
# The pen's width as a share of the digit's size (its box's longer side, the pen's centre
# line): 0.17 gives the data's amount of ink (about 310 of 1024 bitmap pixels) on the
# drawn-digit set of core/drawn.py (measured by tests/core/test_strokes.py).
PEN_SHARE = 0.17
RESOLUTION = 64  # the side of the square that ink_from_strokes renders the digit into
MAX_POINTS = 4096  # the most pen positions (all strokes together) ink_from_strokes reads
MAX_LENGTH = 40  # the longest path (all strokes), in the digit's size: an 8 is about 4


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


def _overlap(n_src: int, start: float, step: float, n_out: int = SIZE) -> np.ndarray:
    """(n_out, n_src): how much of output cell r the source cell i covers, i spanning
    [start + i*step, start + (i + 1)*step) in output units."""
    lo = start + np.arange(n_src) * step  # (n_src,)
    cells = np.arange(n_out)[:, None]  # (n_out, 1)
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


def _as_strokes(strokes) -> list[np.ndarray]:
    out, total = [], 0
    if not isinstance(strokes, (list, tuple)) or not strokes:
        raise InkError("The drawing is blank: it has no strokes.")
    for k, stroke in enumerate(strokes):
        pts = np.asarray(stroke, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 1:
            raise InkError(f"Stroke {k} must be a list of (x, y) points, but its shape is "
                           f"{pts.shape}.")
        if not np.isfinite(pts).all():
            raise InkError(f"Stroke {k} holds values that are NaN or infinite.")
        total += len(pts)
        out.append(pts)
    if total > MAX_POINTS:
        raise InkError(f"The strokes hold {total} points; the limit is {MAX_POINTS}.")
    return out


def resample_polyline(points, spacing: float) -> np.ndarray:
    """Points every `spacing` along the polyline (n, 2), its ends kept (a dot stays a dot)."""
    points = np.asarray(points, dtype=np.float64)
    d = np.sqrt((np.diff(points, axis=0) ** 2).sum(axis=1))
    s = np.concatenate([[0], np.cumsum(d)])
    if s[-1] <= spacing:
        return points[[0, -1]]
    at = np.linspace(0, s[-1], int(np.ceil(s[-1] / spacing)) + 1)
    return np.stack([np.interp(at, s, points[:, 0]), np.interp(at, s, points[:, 1])], axis=1)


def segments_of(strokes) -> tuple[np.ndarray, np.ndarray]:
    """(starts (S, 2), ends (S, 2)) of the straight pieces of polylines (x, y); a stroke of
    one point is one piece of length 0 (a dot)."""
    starts, ends = [], []
    for pts in strokes:
        pts = np.asarray(pts, dtype=np.float64)
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        starts.append(pts[:-1])
        ends.append(pts[1:])
    return np.concatenate(starts), np.concatenate(ends)


def render_segments(starts, ends, shape: tuple[int, int], width: float,
                    chunk: int = 512) -> np.ndarray:
    """Ink (rows, cols) in 0..1 of a round pen of `width` pixels along the segments
    (x = column, y = row, pixel centres at i + 0.5), anti-aliased over one pixel:
    ink = clip(width/2 + 0.5 - distance to the nearest segment, 0, 1).

    Distance from p to segment a-b: t = clip((p - a).(b - a) / |b - a|^2, 0, 1),
    d = |p - a - t (b - a)|. Segments are first cut into pieces at most one pixel long, and
    each piece is measured only on the K x K pixels around it that the pen can reach
    (K = ceil(width + 3)), so the work grows with the ink, not with the picture; `chunk`
    pieces at a time (memory: about 8 arrays of chunk * K * K floats).
    """
    starts, ends = np.asarray(starts, np.float64), np.asarray(ends, np.float64)
    rows, cols = shape
    cuts = np.maximum(1, np.ceil(np.sqrt(((ends - starts) ** 2).sum(axis=1)))).astype(np.intp)
    seg = np.repeat(np.arange(len(starts)), cuts)  # (S,) the segment each piece is from
    k = np.arange(len(seg)) - np.repeat(np.cumsum(cuts) - cuts, cuts)  # piece index in it
    step = (ends - starts) / cuts[:, None]
    a = starts[seg] + k[:, None] * step[seg]  # (S, 2) the pieces
    ab = step[seg]
    reach = width / 2 + 0.5
    K = int(np.ceil(2 * reach + 2))
    nearest = np.full(rows * cols, np.inf)
    j = np.arange(K)
    for i in range(0, len(a), chunk):  # (chunk, K, K) temporaries at a time
        a_, ab_ = a[i:i + chunk], ab[i:i + chunk]
        corner = np.floor(np.minimum(a_, a_ + ab_) - reach).astype(np.intp)  # (s, 2) x, y
        px = (corner[:, 0, None] + j + 0.5)[:, None, :]  # (s, 1, K) pixel centre x
        py = (corner[:, 1, None] + j + 0.5)[:, :, None]  # (s, K, 1) pixel centre y
        ll = np.maximum((ab_ * ab_).sum(axis=1), 1e-12)[:, None, None]
        ax, ay = a_[:, 0, None, None], a_[:, 1, None, None]
        bx, by = ab_[:, 0, None, None], ab_[:, 1, None, None]
        t = np.clip(((px - ax) * bx + (py - ay) * by) / ll, 0, 1)  # (s, K, K)
        d = np.sqrt((px - ax - t * bx) ** 2 + (py - ay - t * by) ** 2)
        col = np.broadcast_to(px - 0.5, d.shape).astype(np.intp)
        row = np.broadcast_to(py - 0.5, d.shape).astype(np.intp)
        inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols) & (d < reach)
        np.minimum.at(nearest, row[inside] * cols + col[inside], d[inside])
    return np.clip(width / 2 + 0.5 - nearest.reshape(rows, cols), 0.0, 1.0)


def _render_dense(starts, ends, shape, width):
    """render_segments' slow twin: every pixel against every segment (the tests' oracle)."""
    rows, cols = shape
    py = (np.arange(rows) + 0.5)[:, None, None]  # (rows, 1, 1)
    px = (np.arange(cols) + 0.5)[None, :, None]  # (1, cols, 1)
    a, ab = np.asarray(starts, np.float64), np.asarray(ends, np.float64) - starts
    ll = np.maximum((ab * ab).sum(axis=1), 1e-12)
    t = np.clip(((px - a[:, 0]) * ab[:, 0] + (py - a[:, 1]) * ab[:, 1]) / ll, 0, 1)
    d = np.sqrt((px - a[:, 0] - t * ab[:, 0]) ** 2 + (py - a[:, 1] - t * ab[:, 1]) ** 2)
    return np.clip(width / 2 + 0.5 - d.min(axis=2), 0.0, 1.0)


def ink_from_strokes(strokes, *, pen: float = PEN_SHARE,
                     resolution: int = RESOLUTION) -> np.ndarray:
    """Ink (resolution, resolution) in 0..1 of a drawing given as strokes, each a list of
    (x, y) pen positions (any units, y down), drawn with a round pen whose width is `pen`
    times the digit's size D = max(box height, box width) of the positions.

    The digit is scaled so that D + pen * D (its ink) spans resolution - 2 pixels, centred,
    and each stroke is followed in steps of one pixel (pen positions closer than that add
    nothing but work).
    Example: one vertical stroke (0, 0) -> (0, 100): D = 100, the pen 17 units wide; in
    pixels the line is 62 / 1.17 = 53 long and 9 wide, in the middle.
    """
    strokes = _as_strokes(strokes)
    pts = np.concatenate(strokes)
    size, to_pixels = _frame(pts.min(axis=0), pts.max(axis=0), pen, resolution)
    length = sum(float(np.sqrt((np.diff(s, axis=0) ** 2).sum(axis=1)).sum()) for s in strokes)
    if length > MAX_LENGTH * size:
        raise InkError(f"The strokes are {length / size:.0f} times as long as the drawing is "
                       f"large; the limit is {MAX_LENGTH} (a digit's are 1 to 6).")
    px = [resample_polyline(to_pixels(s), 1.0) for s in strokes]
    return render_segments(*segments_of(px), (resolution, resolution), to_pixels.pen)


@dataclass(frozen=True)
class _Frame:
    """Positions (n, 2) in a drawing's units to pixels of the square it is redrawn in;
    `pen`: the pen's width in those pixels."""

    centre: np.ndarray
    scale: float
    resolution: int
    pen: float

    def __call__(self, points) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - self.centre) * self.scale \
            + self.resolution / 2


def _frame(lo, hi, pen: float, resolution: int) -> tuple[float, _Frame]:
    """(D, frame) of a path whose positions span lo..hi (x, y): D = the longer side of that box
    (1 for a single dot, drawn as a disk), scaled so that D + pen * D (its ink) spans
    resolution - 2 pixels, centred; the pen pen * D wide."""
    size = float(np.max(np.asarray(hi, np.float64) - lo))
    if size <= 0:  # a single dot: a disk
        size = 1.0
    scale = (resolution - 2) / (size * (1 + pen))  # pixels per unit
    centre = (np.asarray(lo, np.float64) + hi) / 2
    return size, _Frame(centre, scale, resolution, pen * size * scale)


# ---------------------------------------------------------------- drawings sent as pixels

INK_LEVEL = 0.5  # a pixel of a drawing or photo is ink from this share of its strongest on
WORK = 96  # the longer side, in pixels, at which a drawing's centre line is found
# A centre line shorter than this share of its ink's box has collapsed (measured: 0.7 to 0.9
# for pens up to 0.43 of a digit's size; 0.3 for a small 8 whose loops a thick pen filled).
COLLAPSED = 0.6
# render_segments' pieces at a time when redrawing: a centre line can have thousands (noise),
# and 128 keeps the redrawing's peak near 1 MiB (app/network/service.py's REDRAW_BYTES)
REDRAW_CHUNK = 128


@dataclass(frozen=True)
class Redrawn:
    """A drawing or photo redrawn like strokes: ink (resolution, resolution) in 0..1; box =
    (top, left, bottom, right) of its ink in the source (bottom, right exclusive); size = D,
    the longer side of its centre line's box, and stroke = its strokes' width measured (2 d - 1,
    d the median depth of its centre line's pixels, at least one work pixel: 1 / step), both in
    source pixels; redrawn False: read as it is (its centre line collapsed, see redraw_ink)."""

    ink: np.ndarray
    box: tuple[int, int, int, int]
    size: float
    stroke: float
    redrawn: bool = True


def centre_line(ink, *, level: float = INK_LEVEL, work: int = WORK):
    """(mask (h, w) bool, skeleton (h, w) bool, box, step) of a drawing (H, W), 0 = paper:
    the pixels at least `level` of its strongest ink, cropped to their box (top, left,
    bottom, right), resampled so that the box's longer side is `work` pixels (step = work
    pixels per source pixel; a work pixel is ink if ink covers any of it: a hairline stays
    whole at any scale): the mask; and the mask thinned (core/thinning.py): the skeleton."""
    return _centre_line(_as_ink(ink), level, work)


def _centre_line(ink: np.ndarray, level: float, work: int):
    peak = float(ink.max())
    if peak <= 0:
        raise InkError("The drawing is blank: there is no ink to read.")
    mask = ink >= level * peak  # (H, W)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = mask[top:bottom, left:right].astype(np.float32)  # (h, w); 0 and 1 are exact
    h, w = crop.shape
    step = work / max(h, w)
    n_h, n_w = max(1, round(h * step)), max(1, round(w * step))
    covered = (_overlap(h, 0.0, step, n_h).astype(np.float32) @ crop  # (n_h, w)
               @ _overlap(w, 0.0, step, n_w).T.astype(np.float32))  # (n_h, n_w)
    mask = covered > 0.01
    return mask, thin(mask), (top, left, bottom, right), step


def skeleton_segments(skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(starts (S, 2), ends (S, 2)) in (x, y), pixel centres at i + 0.5: a piece from every
    pixel of a centre line to each of its neighbours right, below, below-right and
    below-left, and a dot for a pixel with no neighbour."""
    skeleton = np.asarray(skeleton, dtype=bool)
    padded = np.pad(skeleton, 1)  # (h + 2, w + 2)
    h, w = skeleton.shape
    starts, ends = [], []
    alone = skeleton.copy()
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        both = skeleton & padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]  # (h, w)
        alone &= ~both & ~padded[1 - dr:1 - dr + h, 1 - dc:1 - dc + w]
        r, c = np.nonzero(both)
        starts.append(np.stack([c, r], axis=1))
        ends.append(np.stack([c + dc, r + dr], axis=1))
    r, c = np.nonzero(alone)
    starts.append(np.stack([c, r], axis=1))
    ends.append(np.stack([c, r], axis=1))
    return np.concatenate(starts) + 0.5, np.concatenate(ends) + 0.5


def redraw_ink(ink, *, pen: float = PEN_SHARE, resolution: int = RESOLUTION,
               level: float = INK_LEVEL, work: int = WORK) -> Redrawn:
    """A drawing or photo (H, W) as ink (0 = paper) redrawn the way strokes are, into a square
    of `resolution` pixels (ink_from_strokes' frame): its centre line (centre_line) followed
    by a round pen `pen` times its size D, and, where the drawing is wider than that pen, what
    is left of it once thinned to the pen's width. A hairline and a felt-tip digit both come
    out with the data's amount of ink, and a loop that a thick pen filled stays a blob (its
    centre line alone would be a line through it: an 8 read as a 1).

    The width: strokes w = 2 d - 1 wide (d the median depth, core/thinning.py, of the centre
    line's pixels) thinned to t = pen * D keep the pixels deeper than (w - t) / 2.
    A drawing whose centre line spans less than COLLAPSED of its ink's box (a small digit
    written with a thick pen, its loops filled in: an 8 thins to a short line) is read as it
    is: its ink, cropped (redrawn False).
    Example: a bar 100 rows high and 30 columns wide (a thick 1) has a centre line about
    100 - 30 = 70 long (thinning stops half a width short of each end), so the pen is
    0.17 * 70 = 12 source pixels wide, and the bar is thinned to a 12-pixel bar.
    """
    ink = _as_ink(ink)
    mask, skeleton, box, step = _centre_line(ink, level, work)
    starts, ends = skeleton_segments(skeleton)
    pts = np.concatenate([starts, ends])
    d = depth(mask)  # (h, w)
    stroke = 2 * float(np.median(d[skeleton])) - 1
    if np.ptp(pts, axis=0).max() < COLLAPSED * max(mask.shape):
        top, left, bottom, right = box  # loops filled in: its ink as it is, cropped
        return Redrawn(ink[top:bottom, left:right] / ink.max(), box,
                       max(mask.shape) / step - stroke / step, stroke / step, redrawn=False)
    size, to_pixels = _frame(pts.min(axis=0), pts.max(axis=0), pen, resolution)
    drawn = render_segments(to_pixels(starts), to_pixels(ends), (resolution, resolution),
                            to_pixels.pen, chunk=REDRAW_CHUNK)
    kept = (mask & (d > (stroke - pen * size) / 2)).astype(np.float64)  # (h, w)
    y0, x0 = to_pixels(np.zeros(2))[::-1]  # where the work image's corner lands
    scale = to_pixels.scale
    left = _overlap(kept.shape[0], y0, scale, resolution) @ kept \
        @ _overlap(kept.shape[1], x0, scale, resolution).T  # (resolution, resolution)
    return Redrawn(np.maximum(drawn, np.minimum(left, 1.0)), box, size / step, stroke / step)


def digit_from_pixels(ink, **redraw) -> tuple[Preprocessed, Redrawn]:
    """The 8 x 8 input of a drawing or photo sent as pixels (redraw_ink, then digit_from_ink;
    its box and source_shape the source's), and the redrawing."""
    r = redraw_ink(ink, **redraw)
    return replace(digit_from_ink(r.ink), box=r.box, source_shape=np.shape(ink)), r
