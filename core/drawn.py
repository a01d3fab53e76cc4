"""Digits drawn the way people draw them: stroke templates of common letterforms, varied.

The UCI digits were written on forms by 13 people; a person at the page's pad writes their
own letterforms (a 7 without a crossbar, a 1 with a base, an open 4), at any size, slanted.
This module generates such drawings as pen paths, so that they can be measured (the drawn-digit
set: drawn_set) and trained on (training adds some, core/augment.py):

    LETTERFORMS["7"]   # ("plain", "crossbar", "short_top", "curved", "serif")
    drawing = draw_digit(7, "curved", rng, size=0.2)   # strokes in pad pixels, 1/5 of the pad

A template is a list of strokes in a unit box (x right, y down, 0..1), each stroke a polyline
built from lines and elliptic arcs. draw_digit varies it: width 0.55..0.9 of the height,
slant (shear) -0.15..0.4, rotation +-10 degrees, a smooth wobble of 3% of the size, then places
it on a PAD x PAD pad at `size` (its height as a share of the pad) anywhere it fits, and
samples the path every 1.5 pad pixels with 0.3-pixel noise, as pointer events would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .net_input import (
    digit_from_ink,
    digit_from_pixels,
    ink_from_strokes,
    render_segments,
    resample_polyline,
    segments_of,
)

PAD = 168  # the page's pad, in canvas pixels
PAD_PEN = 0.085  # the pen the pad shows, a share of its side (static/js/network/draw.js' PEN)
SIZES = (0.8, 0.5, 0.33, 0.25, 0.2)  # the drawn set's digit heights, as shares of the pad
DRAWN_SEED = 2026  # the drawn set's seed (training's drawings and the OOD calibration's differ)


def arc(cx, cy, rx, ry, a0, a1, n: int = 24) -> np.ndarray:
    """(n, 2) points of an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def line(*points) -> np.ndarray:
    return np.asarray(points, dtype=np.float64)


def path(*pieces) -> np.ndarray:
    """One stroke: the pieces (each (n, 2)) joined end to start."""
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in pieces])


def smooth(*points, n: int = 10) -> np.ndarray:
    """A Catmull-Rom curve through the points (n points per span)."""
    p = np.asarray(points, dtype=np.float64)
    p = np.concatenate([p[:1], p, p[-1:]])
    t = np.linspace(0, 1, n, endpoint=False)[:, None]  # (n, 1)
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(p[-2:-1])
    return np.concatenate(out)


_UPPER_3 = arc(0.5, 0.25, 0.42, 0.25, 200, 450)
_LOWER_BOWL = arc(0.5, 0.68, 0.42, 0.3, 240, 500)
_LOOP_6 = arc(0.5, 0.7, 0.4, 0.3, 180, -170)
_LOOP_9 = arc(0.5, 0.28, 0.42, 0.28, 10, -350)

# digit -> {letterform name: strokes}
TEMPLATES: dict[int, dict[str, list[np.ndarray]]] = {
    0: {"oval": [arc(0.5, 0.5, 0.45, 0.5, 270, -90, 40)],
        "overlap": [arc(0.5, 0.5, 0.45, 0.5, 300, -100, 40)]},
    1: {"plain": [line((0.5, 0), (0.5, 1))],
        "flag": [line((0.2, 0.28), (0.5, 0), (0.5, 1))],
        "base": [line((0.2, 0.28), (0.5, 0), (0.5, 1)), line((0.15, 1), (0.85, 1))]},
    2: {"curve": [path(arc(0.5, 0.3, 0.45, 0.3, 200, 380), line((0.05, 1), (0.95, 1)))],
        "swan": [path(arc(0.5, 0.3, 0.45, 0.3, 190, 370),
                      smooth((0.9, 0.5), (0.45, 0.75), (0.05, 1.0)), line((0.95, 0.98)))],
        "loop": [path(arc(0.5, 0.3, 0.45, 0.3, 200, 380), line((0.2, 0.85)),
                      arc(0.2, 0.92, 0.1, 0.08, 270, 90), line((0.95, 1)))]},
    3: {"round": [path(_UPPER_3, arc(0.5, 0.75, 0.45, 0.25, 270, 520))],
        "flat_top": [path(line((0.1, 0), (0.9, 0), (0.4, 0.4)),
                          arc(0.5, 0.7, 0.45, 0.3, 250, 520))]},
    4: {"open": [line((0.15, 0), (0.08, 0.62), (0.95, 0.62)), line((0.72, 0.05), (0.72, 1))],
        "closed": [line((0.72, 1), (0.72, 0), (0.05, 0.66), (0.95, 0.66))],
        "two_strokes": [line((0.6, 0), (0.05, 0.66), (0.95, 0.66)),
                        line((0.72, 0.3), (0.72, 1))]},
    5: {"two_strokes": [path(line((0.2, 0), (0.18, 0.42)), _LOWER_BOWL),
                        line((0.2, 0), (0.92, 0))],
        "one_stroke": [path(line((0.92, 0), (0.2, 0), (0.18, 0.42)), _LOWER_BOWL)]},
    6: {"curved": [path(smooth((0.8, 0.02), (0.42, 0.12), (0.14, 0.45), (0.1, 0.7)),
                        _LOOP_6)],
        "straight": [path(line((0.7, 0), (0.12, 0.66)), _LOOP_6)]},
    7: {"plain": [line((0.05, 0), (0.95, 0), (0.35, 1))],
        "crossbar": [line((0.05, 0), (0.95, 0), (0.35, 1)), line((0.3, 0.52), (0.85, 0.52))],
        "short_top": [line((0.5, 0.03), (0.95, 0), (0.4, 1))],
        "curved": [path(line((0.05, 0.03), (0.95, 0)),
                        smooth((0.95, 0), (0.72, 0.32), (0.55, 0.65), (0.5, 1)))],
        "serif": [line((0.05, 0.2), (0.05, 0), (0.95, 0), (0.35, 1))]},
    8: {"one_stroke": [smooth((0.82, 0.1), (0.5, 0.0), (0.18, 0.2), (0.4, 0.45), (0.72, 0.58),
                              (0.92, 0.8), (0.6, 1.0), (0.2, 0.92), (0.14, 0.7), (0.5, 0.5),
                              (0.78, 0.3), (0.82, 0.1))],
          "two_loops": [arc(0.5, 0.24, 0.36, 0.24, 90, 450), arc(0.5, 0.74, 0.45, 0.26, 270, 630)]},
    9: {"straight_tail": [path(_LOOP_9, line((0.9, 1)))],
        "curved_tail": [path(_LOOP_9, smooth((0.92, 0.28), (0.9, 0.62), (0.7, 0.95),
                                             (0.3, 0.98)))]},
}
LETTERFORMS = {d: tuple(t) for d, t in TEMPLATES.items()}


def draw_digit(digit: int, form: str, rng: np.random.Generator, size: float,
               pad: int = PAD) -> list[np.ndarray]:
    """One drawing of `digit` in letterform `form`: strokes (each (n, 2), x and y in pad
    pixels), the digit `size` * pad pixels high, varied as the module's docstring says."""
    strokes = [np.asarray(s, dtype=np.float64) for s in TEMPLATES[digit][form]]
    aspect = rng.uniform(0.55, 0.9)
    shear = rng.uniform(-0.15, 0.4)
    angle = np.radians(rng.uniform(-10, 10))
    k = rng.normal(size=(2, 2)) * 1.5  # the wobble's wave vectors
    phase = rng.uniform(0, 2 * np.pi, size=2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = []
    for s in strokes:
        p = s - 0.5  # (n, 2), centred
        p = p + 0.03 * np.sin(p @ k.T + phase)  # a smooth wobble
        p = p * [aspect, 1.0]
        p[:, 0] += shear * -p[:, 1]  # slant: the top leans right for shear > 0
        out.append(p @ rot.T)
    pts = np.concatenate(out)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    scale = size * pad / max(hi[1] - lo[1], 1e-9)
    extent = (hi - lo) * scale
    fit = np.minimum(1.0, (pad - 4) / extent.max())  # a wide slanted digit still fits
    scale, extent = scale * fit, extent * fit
    corner = rng.uniform(2, np.maximum(2, pad - 2 - extent))  # (2,) where its box starts
    drawn = []
    for p in out:
        p = (p - lo) * scale + corner
        p = resample_polyline(p, 1.5) + rng.normal(scale=0.3, size=(1, 2))
        drawn.append(np.clip(p, 0, pad))
    return drawn


@dataclass(frozen=True)
class DrawnSet:
    """The drawn-digit set: strokes[i] drawn as digit labels[i], letterform forms[i], at
    sizes[i] of the pad's height."""

    strokes: list
    labels: np.ndarray
    forms: tuple[str, ...]
    sizes: np.ndarray


def drawn_set(per_form: int = 6, sizes=SIZES, seed: int = DRAWN_SEED,
              pad: int = PAD) -> DrawnSet:
    """per_form drawings of every letterform of every digit at every size (seeded): with the
    defaults 6 * 26 letterforms * 5 sizes = 780 drawings, 156 a size."""
    rng = np.random.default_rng(seed)
    strokes, labels, forms, at = [], [], [], []
    for size in sizes:
        for digit, names in LETTERFORMS.items():
            for form in names:
                for _ in range(per_form):
                    strokes.append(draw_digit(digit, form, rng, size, pad))
                    labels.append(digit)
                    forms.append(form)
                    at.append(size)
    return DrawnSet(strokes, np.array(labels), tuple(forms), np.array(at))


def drawn_pixels(strokes: list, *, pad_pen: float | None = None,
                 digit_pen: float | None = None, redraw: bool = False,
                 pad: int = PAD) -> np.ndarray:
    """The 8 x 8 inputs (n, 8, 8) uint8 of drawings, made as the page's input path makes them:
    ink_from_strokes (the pen a share of the digit's size), then digit_from_ink.

    With a pen, each drawing is first rendered as pixels on the pad, as a client sending its
    canvas would: pad_pen a share of the pad's side (0.085: the page before it sent strokes),
    or digit_pen a share of the digit's size (its strokes' box's longer side). Those pixels
    are read as the server reads a drawing sent as pixels or a photo: redraw=True thins them
    and redraws them with the strokes' pen (digit_from_pixels), redraw=False reads them as
    they are (digit_from_ink: the path before it; "before" in the README's tables).
    """
    out = np.zeros((len(strokes), 8, 8), dtype=np.uint8)
    for i, s in enumerate(strokes):
        if pad_pen is None and digit_pen is None:
            out[i] = digit_from_ink(ink_from_strokes(s)).pixels
            continue
        if pad_pen is not None:
            width = pad_pen * pad
        else:
            pts = np.concatenate(s)
            width = digit_pen * float((pts.max(axis=0) - pts.min(axis=0)).max())
        ink = render_segments(*segments_of(s), (pad, pad), width)
        out[i] = digit_from_pixels(ink)[0].pixels if redraw else digit_from_ink(ink).pixels
    return out


def accuracy_by_size(params, drawn: DrawnSet | None = None, *, net=None,
                     **how) -> dict[float, float]:
    """The network's accuracy on a drawn set (default: drawn_set()) at each size, and over
    all of it (key 0.0); `how`: drawn_pixels' pen and reading."""
    from .net import DEFAULT_NET, predict, scale_pixels

    drawn = drawn if drawn is not None else drawn_set()
    pixels = drawn_pixels(drawn.strokes, **how)
    right = predict(params, scale_pixels(pixels), net or DEFAULT_NET).argmax(axis=1) == drawn.labels
    out = {float(s): float(right[drawn.sizes == s].mean()) for s in np.unique(drawn.sizes)}
    return {0.0: float(right.mean()), **dict(sorted(out.items(), reverse=True))}


# a hairline, the strokes' pen and a felt tip (shares of the digit's size), and the page's pen
# (a share of the pad): the pens of the README's table of drawings sent as pixels
PIXEL_PENS = (("digit_pen", 0.05), ("digit_pen", 0.17), ("digit_pen", 0.35),
              ("pad_pen", PAD_PEN))


def pixels_table(params, manifold, drawn: DrawnSet | None = None) -> str:
    """The README's table of drawings sent as pixels: for each of PIXEL_PENS, the accuracy at
    each size read as they are and redrawn, and how many of the redrawn ones the manifold
    (core/ood.py) calls no digit. `python -m core.drawn` prints it (about 3 minutes)."""
    from .net import DEFAULT_NET, predict, scale_pixels

    drawn = drawn if drawn is not None else drawn_set()
    sizes = sorted(set(drawn.sizes.tolist()), reverse=True)
    lines = ["| pen | read | " + " | ".join(f"{s:g}" for s in sizes) + " | all | flagged |",
             "|---|---|" + "---|" * (len(sizes) + 2)]
    for key, pen in PIXEL_PENS:
        name = f"{pen:g} of the {'digit' if key == 'digit_pen' else 'pad'}"
        for redraw in (False, True):
            pixels = drawn_pixels(drawn.strokes, redraw=redraw, **{key: pen})
            right = predict(params, scale_pixels(pixels), DEFAULT_NET).argmax(1) == drawn.labels
            flagged = int((manifold.distance(pixels) > manifold.threshold).sum())
            cells = [right[drawn.sizes == s].mean() for s in sizes] + [right.mean()]
            lines.append(f"| {name} | {'redrawn' if redraw else 'as it is'} | " + " | ".join(
                f"{c:.1%}".replace(".0%", "%") for c in cells) + f" | {flagged} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from .data import load_manifold, load_weights

    print(pixels_table(load_weights(), load_manifold()))
