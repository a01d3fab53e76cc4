"""One frame of an animation as SVG: the same layout, colours and cell styles as the
Pillow frames (app/gallery/draw.py), written as vector shapes and text, so a slide can
scale it without blur."""

from __future__ import annotations

from xml.sax.saxutils import escape

from app.gallery import draw
from core.animation import Animation


def _hex(index: int) -> str:
    r, g, b = draw.COLOURS[index]
    return f"#{r:02x}{g:02x}{b:02x}"


def frame_svg(anim: Animation, lay: draw.Layout, numbers: bool, k: int) -> str:
    """Frame k of `anim` as an SVG document."""
    values, fr = draw.state_at(anim, k)
    p = draw.Painter(anim, lay, numbers)
    wg, other = anim.window_grid, 1 - anim.window_grid
    shade = draw.BLUE_DARK if anim.grids[wg].role == "input" else draw.CYAN_DARK
    mark = draw.BLUE_DARK if anim.grids[other].role == "input" else draw.CYAN_DARK
    window = {(r, c): (i, j) for i, r in enumerate(fr.window_rows)
              for j, c in enumerate(fr.window_cols)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" '
           f'height="{lay.height}" viewBox="0 0 {lay.width} {lay.height}" '
           f'font-family="DejaVu Sans, Arial, sans-serif">',
           f'<title>{escape(anim.op)}, step {k + 1} of {anim.n_frames}</title>',
           f'<rect width="{lay.width}" height="{lay.height}" fill="#ffffff"/>']
    for g, grid in enumerate(anim.grids):
        x0, _ = lay.origins[g]
        inner = grid.n_rows - 2 * grid.pad, grid.n_cols - 2 * grid.pad
        ring = "cropped" if grid.role == "output" and anim.op == "conv_transpose" else "pad"
        caption = f"{grid.name}  {inner[0]} x {inner[1]}" + (
            f", {ring} {grid.pad}" if grid.pad else "") + (
            ", zeros inserted, kernel flipped" if grid.zeros is not None else "")
        out.append(f'<text x="{x0}" y="{lay.margin + lay.caption - 8}" font-size="12" '
                   f'fill="{_hex(draw.CAPTION)}">{escape(caption)}</text>')
        for r in range(grid.n_rows):
            for c in range(grid.n_cols):
                v = float(values[g][r, c])
                fill, edge, dashed = p.style(g, r, c, v)
                kernel = None
                if g == wg and (r, c) in window:
                    fill, dashed = shade, False
                    if fr.kernel is not None:
                        kernel = float(fr.kernel[window[(r, c)]])
                elif g == other and (r, c) == fr.cell:
                    fill, dashed = mark, False
                x, y, x1, y1 = p.box(g, r, c)
                dash = ' stroke-dasharray="3 3"' if dashed else ""
                out.append(f'<rect x="{x}.5" y="{y}.5" width="{x1 - x}" height="{y1 - y}" '
                           f'fill="{_hex(fill)}" stroke="{_hex(edge)}"{dash}/>')
                if numbers:
                    ink = "#ffffff" if fill in (draw.BLUE_DARK, draw.CYAN_DARK) else "#1a1a1a"
                    text = draw.fmt(v)
                    cx, cy = (x + x1) / 2, (y + y1) / 2 - (3 if kernel is not None else 0)
                    if text:
                        out.append(f'<text x="{cx}" y="{cy}" font-size="13" fill="{ink}" '
                                   f'text-anchor="middle" dominant-baseline="central">'
                                   f'{escape(text)}</text>')
                    if kernel is not None:
                        out.append(f'<text x="{x1 - 2}" y="{y1 - 2}" font-size="9" '
                                   f'fill="{ink}" text-anchor="end">{draw.fmt(kernel)}</text>')
    x0, y0, _, _ = p.box(wg, fr.window_rows[0], fr.window_cols[0])
    _, _, x1, y1 = p.box(wg, fr.window_rows[-1], fr.window_cols[-1])
    out.append(f'<rect x="{x0 - 1}.5" y="{y0 - 1}.5" width="{x1 - x0 + 2}" '
               f'height="{y1 - y0 + 2}" fill="none" stroke="{_hex(shade)}"/>')
    out.append("</svg>")
    return "\n".join(out)
