"""Frames of an animation drawn with Pillow, in conv_arithmetic's look: input cells blue,
padding lighter with a dashed outline, output cells cyan, the window shaded.

core/animation.py decides what each frame shows (grids, window taps, the cell, the numbers);
this module only places it in pixels. Frames are palette ("P") images, one byte per pixel:
a fixed palette of a few colours, so the GIF and APNG writers need no quantising.

Layout: two grids side by side, a caption above each ("A_prev  5 x 5, pad 1"), `margin`
pixels around everything and `gap` between the grids. A cell is `cell` pixels square:
36 with numbers, otherwise 360 / (the larger grid's longer side) within 10..36, so a
28 x 28 input gives 12-pixel cells. `layout()` computes the size before anything is drawn
(the route bounds frames x pixels with it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.animation import Animation, Frame

# Palette indices and colours.
WHITE, INK, CAPTION = 0, 1, 2
BLUE, BLUE_EDGE, BLUE_DARK = 3, 4, 5
PAD_FILL, PAD_EDGE = 6, 7
CYAN, CYAN_EDGE, CYAN_DARK, CYAN_EMPTY, CYAN_CROP = 8, 9, 10, 11, 12
UNCHANGED = 13  # never drawn: the encoders' "same as the frame before" (transparent)
COLOURS = [
    (255, 255, 255), (26, 26, 26), (90, 90, 90),
    (110, 168, 220), (43, 95, 143), (31, 78, 121),
    (236, 243, 250), (120, 160, 200),
    (94, 208, 224), (28, 138, 153), (14, 100, 112), (236, 250, 252), (200, 238, 244),
    (255, 0, 255),
]
PALETTE = bytes(v for rgb in COLOURS for v in rgb)

NUMBERS_CELL = 36
MIN_CELL, MAX_CELL, TARGET = 10, 36, 360


@dataclass(frozen=True)
class Layout:
    cell: int
    margin: int
    caption: int  # caption band height
    gap: int
    origins: tuple[tuple[int, int], tuple[int, int]]  # (x, y) of each grid's top-left cell
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def layout(sizes: tuple[int, int, int, int], numbers: bool) -> Layout:
    """Pixel layout of two grids (rows, cols, rows, cols); nothing is drawn."""
    r0, c0, r1, c1 = sizes
    longest = max(r0, c0, r1, c1)
    cell = NUMBERS_CELL if numbers else max(MIN_CELL, min(MAX_CELL, TARGET // longest))
    margin, caption, gap = 12, 22, max(2 * cell, 28)
    top = margin + caption
    origins = ((margin, top), (margin + c0 * cell + gap, top))
    width = margin * 2 + (c0 + c1) * cell + gap
    height = top + max(r0, r1) * cell + margin
    return Layout(cell, margin, caption, gap, origins, width, height)


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def fmt(v: float) -> str:
    """A cell's number: whole numbers as they are, others with 3 significant digits."""
    if math.isnan(v):
        return ""
    if float(v).is_integer() and abs(v) < 1e5:
        return str(int(v))
    return f"{v:.3g}"


class Painter:
    """Draws cells of an animation's grids onto palette images."""

    def __init__(self, anim: Animation, lay: Layout, numbers: bool) -> None:
        self.a, self.lay, self.numbers = anim, lay, numbers
        self.font = _font(13)
        self.small = _font(9)
        self.caption_font = _font(12)

    def box(self, g: int, r: int, c: int) -> tuple[int, int, int, int]:
        x0, y0 = self.lay.origins[g]
        s = self.lay.cell
        return (x0 + c * s + 1, y0 + r * s + 1, x0 + (c + 1) * s - 2, y0 + (r + 1) * s - 2)

    def in_ring(self, g: int, r: int, c: int) -> bool:
        grid = self.a.grids[g]
        p = grid.pad
        return p > 0 and not (p <= r < grid.n_rows - p and p <= c < grid.n_cols - p)

    def style(self, g: int, r: int, c: int, value: float) -> tuple[int, int, bool]:
        """(fill, edge, dashed) of a cell at rest."""
        grid = self.a.grids[g]
        ring = self.in_ring(g, r, c) or (grid.zeros is not None and bool(grid.zeros[r, c]))
        if grid.role == "input":
            return (PAD_FILL, PAD_EDGE, True) if ring else (BLUE, BLUE_EDGE, False)
        if math.isnan(value):
            return CYAN_EMPTY, CYAN_CROP if ring else CYAN_EDGE, ring
        return (CYAN_CROP, CYAN_EDGE, True) if ring else (CYAN, CYAN_EDGE, False)

    def cell(self, d: ImageDraw.ImageDraw, g: int, r: int, c: int, value: float,
             fill: int | None = None, kernel: float | None = None) -> None:
        rest_fill, edge, dashed = self.style(g, r, c, value)
        fill = rest_fill if fill is None else fill
        x0, y0, x1, y1 = self.box(g, r, c)
        d.rectangle((x0, y0, x1, y1), fill=fill)
        if dashed and fill in (PAD_FILL, CYAN_EMPTY, CYAN_CROP):
            step = max(3, self.lay.cell // 6)
            for t in range(0, x1 - x0 + 1, 2 * step):  # dashes along the four sides
                e = min(x0 + t + step - 1, x1)
                d.line((x0 + t, y0, e, y0), fill=edge)
                d.line((x0 + t, y1, e, y1), fill=edge)
                d.line((x0, y0 + t, x0, min(y0 + t + step - 1, y1)), fill=edge)
                d.line((x1, y0 + t, x1, min(y0 + t + step - 1, y1)), fill=edge)
        else:
            d.rectangle((x0, y0, x1, y1), outline=edge)
        if self.numbers:
            dark = fill in (BLUE_DARK, CYAN_DARK)
            text = fmt(value)
            if text:
                d.text(((x0 + x1) / 2, (y0 + y1) / 2 - (3 if kernel is not None else 0)), text,
                       fill=WHITE if dark else INK, font=self.font, anchor="mm")
            if kernel is not None:
                d.text((x1 - 2, y1 - 1), fmt(kernel), fill=WHITE if dark else INK,
                       font=self.small, anchor="rd")

    def base(self, values: list[np.ndarray]) -> Image.Image:
        im = Image.new("P", (self.lay.width, self.lay.height), WHITE)
        im.putpalette(PALETTE)
        d = ImageDraw.Draw(im)
        for g, grid in enumerate(self.a.grids):
            x0, _ = self.lay.origins[g]
            inner = grid.n_rows - 2 * grid.pad, grid.n_cols - 2 * grid.pad
            ring = {True: "pad", False: "cropped"}[grid.role == "input"
                                                    or self.a.op != "conv_transpose"]
            text = f"{grid.name}  {inner[0]} x {inner[1]}" + (
                f", {ring} {grid.pad}" if grid.pad else "") + (
                ", zeros inserted, kernel flipped" if grid.zeros is not None else "")
            d.text((x0, self.lay.margin + self.lay.caption - 6), text, fill=CAPTION,
                   font=self.caption_font, anchor="ld")
            for r in range(grid.n_rows):
                for c in range(grid.n_cols):
                    self.cell(d, g, r, c, values[g][r, c])
        return im


def render(anim: Animation, lay: Layout, numbers: bool) -> Iterator[np.ndarray]:
    """One (height, width) uint8 array of palette indices per frame, in step order."""
    p = Painter(anim, lay, numbers)
    values = [grid.values.copy() for grid in anim.grids]
    base = p.base(values)
    d_base = ImageDraw.Draw(base)
    other = 1 - anim.window_grid
    for fr in anim.frames():
        _apply(p, d_base, values, fr)
        im = base.copy()
        d = ImageDraw.Draw(im)
        _highlight(p, d, values, fr, anim.window_grid, other)
        yield np.asarray(im)


def _apply(p: Painter, d: ImageDraw.ImageDraw, values: list[np.ndarray], fr: Frame) -> None:
    g = fr.update_grid
    for r, c, v in zip(fr.update_rows.tolist(), fr.update_cols.tolist(),
                       fr.update_values.tolist(), strict=True):
        values[g][r, c] = v
        p.cell(d, g, r, c, v)


def _highlight(p: Painter, d: ImageDraw.ImageDraw, values: list[np.ndarray], fr: Frame,
               wg: int, other: int) -> None:
    shade = BLUE_DARK if p.a.grids[wg].role == "input" else CYAN_DARK
    for i, r in enumerate(fr.window_rows):
        for j, c in enumerate(fr.window_cols):
            k = None if fr.kernel is None else float(fr.kernel[i, j])
            p.cell(d, wg, r, c, values[wg][r, c], fill=shade, kernel=k)
    # The window's span (dilation spreads its taps): one outline around it.
    x0, y0, _, _ = p.box(wg, fr.window_rows[0], fr.window_cols[0])
    _, _, x1, y1 = p.box(wg, fr.window_rows[-1], fr.window_cols[-1])
    d.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=shade)
    r, c = fr.cell
    mark = BLUE_DARK if p.a.grids[other].role == "input" else CYAN_DARK
    p.cell(d, other, r, c, values[other][r, c], fill=mark)


def state_at(anim: Animation, k: int) -> tuple[list[np.ndarray], Frame]:
    """Every grid's numbers as frame k shows them, and frame k itself."""
    values = [grid.values.copy() for grid in anim.grids]
    for fr in anim.frames():
        values[fr.update_grid][fr.update_rows, fr.update_cols] = fr.update_values
        if fr.index == k:
            return values, fr
    raise ValueError(f"frame {k} does not exist: there are {anim.n_frames}")


def frame_image(anim: Animation, lay: Layout, numbers: bool, k: int) -> Image.Image:
    """Frame k alone, as a palette image (what the animation shows at that step)."""
    values, fr = state_at(anim, k)
    p = Painter(anim, lay, numbers)
    im = p.base(values)
    _highlight(p, ImageDraw.Draw(im), values, fr, anim.window_grid, 1 - anim.window_grid)
    return im
