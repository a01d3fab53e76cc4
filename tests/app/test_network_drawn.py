"""Drawings sent as strokes or as pixels, photos, and the "not a digit" verdict in every run's
answer."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data import load_manifold
from core.drawn import PAD, PAD_PEN, draw_digit
from core.net_input import (
    MAX_POINTS,
    PEN_SHARE,
    digit_from_ink,
    digit_from_pixels,
    ink_from_strokes,
    render_segments,
    segments_of,
)

SAMPLES = Path(__file__).resolve().parents[2] / "app" / "platform" / "samples"


def _run(client, **body):
    r = client.post("/api/network/run", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_strokes_are_drawn_with_a_pen_a_share_of_the_digit(client):
    seven = draw_digit(7, "plain", np.random.default_rng(4), size=0.2)  # a fifth of the pad
    strokes = [s.round(1).tolist() for s in seven]
    j = _run(client, input={"kind": "strokes", "strokes": strokes}, backward=False)
    want = digit_from_ink(ink_from_strokes(strokes)).pixels
    np.testing.assert_array_equal(j["input"]["pixels"], want)
    pre = j["input"]["preprocess"]
    size = float(np.ptp(np.concatenate(strokes), axis=0).max())
    assert pre["strokes"] == 1 and pre["size"] == pytest.approx(size)
    assert pre["pen"] == pytest.approx(PEN_SHARE * size)
    assert j["forward"]["prediction"] == 7
    assert j["digit_like"]["digit_like"] is True and j["digit_like"]["nearest"] == 7


def test_strokes_work_for_the_step_view_too(client):
    body = {"input": {"kind": "strokes", "strokes": [[[10, 10], [60, 10], [30, 90]]]},
            "layer": "conv1", "direction": "forward", "limit": 2}
    r = client.post("/api/network/steps", json=body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("strokes, status, words", [
    ([], 422, "at least 1 item"),
    ([[]], 422, "at least 1 item"),
    ([[[1, 2, 3]]], 422, "at most 2 items"),
    ([[[0, 0]] * (MAX_POINTS // 2 + 1)] * 2, 422, f"the limit is {MAX_POINTS}"),
    ([[[0, 0], [5000, 0]]], 422, "less than or equal to 4096"),
    ([[[0, 0], [10, 10]] * 30], 422, "input.strokes: The strokes are"),
])
def test_bad_strokes_are_422_naming_the_field(client, strokes, status, words):
    r = client.post("/api/network/run", json={"input": {"kind": "strokes", "strokes": strokes}})
    assert r.status_code == status, r.text
    assert words in r.text


def test_every_answer_says_whether_the_input_looks_like_a_digit(client):
    m = load_manifold()
    held_out = _run(client, input={"kind": "digit", "index": 3}, backward=False)
    assert held_out["digit_like"]["threshold"] == m.threshold
    assert held_out["digit_like"]["digit_like"] is True
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 17, (8, 8)).tolist()
    j = _run(client, input={"kind": "pixels", "pixels": noise}, backward=False)
    assert j["digit_like"]["digit_like"] is False
    assert j["digit_like"]["distance"] > j["digit_like"]["threshold"]


def test_a_photo_that_is_no_digit_says_so(client):
    buf = io.BytesIO()
    Image.open(SAMPLES / "coffee.jpg").convert("L").save(buf, format="PNG")
    r = client.post("/api/network/run/photo",
                    files={"file": ("coffee.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["digit_like"]["digit_like"] is False


# Drawn by hand on a 168-pixel pad (pad pixels), not by core/drawn.py's generator: the
# letterforms the issue named (a plain 7 had been read as 3 at 53%, a short-topped one as 3
# at 92%, a curved one as 3 at 86%) and a few more, some of them small.
HAND = {
    "plain 7": (7, [[[40, 30], [130, 32], [70, 150]]]),
    "short-topped 7": (7, [[[95, 35], [130, 30], [75, 150]]]),
    "curved 7": (7, [[[40, 35], [130, 30], [110, 60], [92, 95], [82, 130], [80, 150]]]),
    "crossed 7": (7, [[[40, 30], [130, 32], [70, 150]], [[60, 90], [120, 90]]]),
    "1 with a base": (1, [[[65, 50], [90, 25], [90, 150]], [[60, 150], [120, 150]]]),
    "plain 1": (1, [[[84, 20], [82, 150]]]),
    "open 4": (4, [[[50, 20], [45, 100], [130, 100]], [[110, 30], [110, 155]]]),
    "closed 4": (4, [[[110, 155], [110, 20], [40, 105], [135, 105]]]),
    "9, straight tail": (9, [[[120, 50], [100, 25], [70, 25], [55, 50], [70, 75], [100, 75],
                              [120, 50], [120, 150]]]),
    "9, curved tail": (9, [[[120, 50], [100, 25], [70, 25], [55, 50], [70, 75], [100, 75],
                            [120, 50], [118, 110], [100, 145], [70, 150]]]),
    "small 3": (3, [[[20, 20], [35, 15], [45, 25], [35, 35], [45, 45], [35, 55], [20, 50]]]),
    "small 8": (8, [[[40, 10], [30, 20], [40, 30], [50, 40], [40, 50], [30, 40], [40, 30],
                     [50, 20], [40, 10]]]),
}


@pytest.mark.parametrize("name", list(HAND))
def test_hand_drawn_letterforms_are_read(client, name):
    digit, strokes = HAND[name]
    j = _run(client, input={"kind": "strokes", "strokes": strokes}, backward=False)
    assert j["forward"]["prediction"] == digit
    assert j["forward"]["probs"][digit] > 0.9
    assert j["digit_like"]["digit_like"] is True


def _pad_ink(strokes, pen: float) -> np.ndarray:
    """The strokes as the pad's pixels (0..255), drawn with a pen `pen` pixels wide."""
    ink = render_segments(*segments_of([np.asarray(s, float) for s in strokes]), (PAD, PAD), pen)
    return np.rint(ink * 255).astype(np.uint8)


@pytest.mark.parametrize("pen", [3.0, PAD_PEN * PAD, 0.15 * PAD])
def test_hand_drawn_letterforms_sent_as_pixels_are_read(client, pen):
    """The same letterforms sent as the pad's pixels, drawn with a hairline, the page's pen
    (0.085 of the pad) or a felt tip (0.15): thinned, redrawn with the strokes' pen and read.
    Measured: 12, 12 and 11 of 12 right (the small 3 in felt tip, a blob, is read as an 8;
    read as they were before, 12, 12 and 11)."""
    right = 0
    for digit, strokes in HAND.values():
        ink = _pad_ink(strokes, pen)
        j = _run(client, input={"kind": "canvas", "shape": [PAD, PAD], "ink_base64":
                                base64.b64encode(ink.tobytes()).decode()}, backward=False)
        right += j["forward"]["prediction"] == digit
        pre = j["input"]["preprocess"]
        assert pre["pen"] == pytest.approx(PEN_SHARE * pre["size"])
    assert right >= (11 if pen > PAD_PEN * PAD else 12)


def test_a_drawing_sent_as_pixels_says_how_it_was_redrawn(client):
    digit, strokes = HAND["open 4"]
    ink = _pad_ink(strokes, PAD_PEN * PAD)
    j = _run(client, input={"kind": "canvas", "ink": ink.tolist()}, backward=False)
    pre = j["input"]["preprocess"]
    p, r = digit_from_pixels(ink / 255.0)
    np.testing.assert_array_equal(j["input"]["pixels"], p.pixels)
    assert pre["stroke"] == pytest.approx(r.stroke) and pre["stroke"] == pytest.approx(14.3, abs=2)
    assert pre["size"] == pytest.approx(r.size) and pre["redrawn"] is True
    assert j["forward"]["prediction"] == digit


@pytest.mark.parametrize("name", ["plain 7", "open 4", "9, curved tail", "small 8"])
@pytest.mark.parametrize("pen", [2.0, 30.0])
def test_a_photo_of_a_thin_or_thick_digit_is_read(client, name, pen):
    """A photo (dark ink on light paper, a margin, PNG) of a letterform written with a fine
    or a broad pen: its strokes come out the width the network knows."""
    digit, strokes = HAND[name]
    paper = 255 - np.pad(_pad_ink(strokes, pen), 30).astype(int) * 0.8  # gray ink, not black
    buf = io.BytesIO()
    Image.fromarray(paper.astype(np.uint8)).save(buf, format="PNG")
    r = client.post("/api/network/run/photo", files={"file": ("d.png", buf.getvalue(),
                                                              "image/png")})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["input"]["preprocess"]["inverted"] is True
    assert j["forward"]["prediction"] == digit
    assert j["digit_like"]["digit_like"] is True
