"""GET /api/animation: one frame per step for every op and geometry (counted by opening the
GIF / APNG with Pillow), the frames as drawn, and a 4xx naming the field for bad input."""

import io

import numpy as np
import pytest
from PIL import Image

from app.gallery import draw, encode

# (op, h, w, f, stride, pad, dilation, frames)
CASES = [
    ("conv_forward", 5, 5, 3, 1, 0, 1, 3 * 3),
    ("conv_forward", 5, 5, 3, 1, 1, 1, 5 * 5),  # half padding
    ("conv_forward", 5, 5, 3, 1, 2, 1, 7 * 7),  # full padding
    ("conv_forward", 5, 5, 3, 2, 1, 1, 3 * 3),
    ("conv_forward", 6, 7, 3, 2, 1, 1, 3 * 4),  # non-square, the floor drops a column
    ("conv_forward", 7, 7, 3, 1, 0, 2, 3 * 3),  # dilation
    ("conv_backward", 5, 5, 3, 2, 1, 1, 3 * 3),
    ("conv_backward", 4, 6, 2, 1, 0, 1, 3 * 5),
    ("pool_forward", 4, 4, 2, 2, 0, 1, 2 * 2),
    ("pool_forward", 5, 6, 3, 1, 0, 1, 3 * 4),
    ("pool_backward", 6, 6, 2, 2, 0, 1, 3 * 3),
    ("conv_transpose", 2, 2, 3, 1, 0, 1, 2 * 2),
    ("conv_transpose", 3, 4, 3, 2, 1, 1, 3 * 4),  # one per input cell
    ("conv_transpose", 3, 3, 3, 1, 0, 2, 3 * 3),
    ("conv_transpose_direct", 3, 4, 3, 2, 1, 1, 5 * 7),  # one per output cell
    ("conv_transpose_direct", 2, 2, 3, 1, 0, 1, 4 * 4),
]


def test_plan_describes_what_is_drawn(client, make_client):
    # conv_arithmetic's "padding, strides (odd), transposed": 3 x 3 -> 6 x 6
    params = {"op": "conv_transpose", "h": 3, "w": 3, "f": 3, "stride": 2, "pad": 1,
              "output_padding": 1}
    plan = client.get("/api/animation/plan", params=params)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["frames"] == 9
    assert body["grids"] == [{"name": "A_prev", "n_rows": 3, "n_cols": 3, "pad": 0},
                             {"name": "Z", "n_rows": 8, "n_cols": 8, "pad": 1}]
    assert body["formula"].endswith("(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6")
    assert body["filenames"] == {"gif": "conv_transpose-3x3-f3-s2-p1-d1-op1.gif",
                                 "apng": "conv_transpose-3x3-f3-s2-p1-d1-op1.png"}
    r = client.get("/api/animation", params=params)
    im = Image.open(io.BytesIO(r.content))
    assert im.n_frames == 9 and im.size == (body["width"], body["height"])
    conv = client.get("/api/animation/plan", params={"op": "conv_forward", "h": 6, "w": 6,
                                                     "pad": 1, "stride": 2}).json()
    assert conv["formula"].endswith("floor(5 / 2) + 1 = 3") and conv["frames"] == 9
    assert conv["transposed"] == {"op": "conv_transpose", "h": 3, "w": 3, "f": 3, "stride": 2,
                                  "pad": 1, "dilation": 1, "output_padding": 1}
    bad = client.get("/api/animation/plan", params={"op": "conv_forward", "stride": 0})
    assert bad.status_code == 422 and _fields(bad) == ["stride"]
    # what /api/animation would refuse, the plan says with a 200 (no 4xx for a page to log)
    for params, status, code, field in (
            ({"op": "conv_forward", "h": 3, "w": 3, "f": 5}, 422, "geometry", None),
            ({"op": "pool_forward", "pad": 1}, 422, "validation", "pad")):
        refused = client.get("/api/animation/plan", params=params)
        assert refused.status_code == 200
        body = refused.json()
        assert body["fits"] is False and body["frames"] is None
        assert (body["refusal"]["status"], body["refusal"]["code"],
                body["refusal"]["field"]) == (status, code, field)
        assert client.get("/api/animation", params=params).status_code == status
    small = make_client(max_animation_frames=4).get("/api/animation/plan",
                                                   params={"op": "conv_forward"})
    assert small.json()["refusal"]["status"] == 413


def _params(op, h, w, f, stride, pad, dilation, **more):
    p = {"op": op, "h": h, "w": w, "f": f, "stride": stride, **more}
    if not op.startswith("pool"):
        p.update(pad=pad, dilation=dilation)
    return p


@pytest.mark.parametrize("fmt, media", [("gif", "image/gif"), ("apng", "image/apng")])
@pytest.mark.parametrize("op, h, w, f, stride, pad, dilation, frames", CASES)
def test_one_frame_per_step(client, op, h, w, f, stride, pad, dilation, frames, fmt, media):
    r = client.get("/api/animation",
                   params=_params(op, h, w, f, stride, pad, dilation, format=fmt))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    assert r.headers["content-disposition"].endswith(
        f'.{"gif" if fmt == "gif" else "png"}"')
    im = Image.open(io.BytesIO(r.content))
    assert im.format == ("GIF" if fmt == "gif" else "PNG")
    assert getattr(im, "n_frames", 1) == frames
    assert len(r.content) < 2_000_000


def test_frames_decode_to_what_was_drawn():
    """Every frame the writers store (deltas with transparent unchanged pixels) decodes to
    exactly the frame drawn, in both formats."""
    from core.animation import animation_size, plan_animation

    colours = np.array(draw.COLOURS, dtype=np.uint8)
    for op, f, stride, pad in (("conv_forward", 3, 1, 1), ("conv_transpose", 3, 2, 1),
                               ("pool_backward", 2, 2, 0)):
        anim = plan_animation(op, 4, 5, f, stride=stride, pad=pad)
        lay = draw.layout(animation_size(op, 4, 5, f, stride=stride, pad=pad)[1:], True)
        frames = list(draw.render(anim, lay, True))
        for data in (encode.gif(iter(frames), draw.PALETTE, draw.UNCHANGED, 100, 10**8),
                     encode.apng(iter(frames), len(frames), draw.PALETTE, draw.UNCHANGED,
                                 100, 10**8)):
            im = Image.open(io.BytesIO(data))
            assert im.n_frames == len(frames) == anim.n_frames
            for k, want in enumerate(frames):
                im.seek(k)
                np.testing.assert_array_equal(np.asarray(im.convert("RGB")), colours[want])


def test_numbers_and_defaults(client):
    plain = client.get("/api/animation", params={"op": "conv_forward"})
    numbers = client.get("/api/animation", params={"op": "conv_forward", "numbers": "true"})
    assert plain.status_code == numbers.status_code == 200
    assert plain.content != numbers.content
    assert 'filename="conv_forward-5x5-f3-s1-p0-d1.gif"' in plain.headers["content-disposition"]
    assert "-numbers.gif" in numbers.headers["content-disposition"]
    im = Image.open(io.BytesIO(plain.content))
    assert im.n_frames == 9 and im.info["duration"] == 700 and im.info["loop"] == 0
    again = client.get("/api/animation", params={"op": "conv_forward"})
    assert again.content == plain.content  # the same query, the same bytes (cached)
    slow = client.get("/api/animation", params={"op": "conv_forward", "delay_ms": 250,
                                                "format": "apng"})
    assert Image.open(io.BytesIO(slow.content)).info["duration"] == 250


def _fields(r) -> list[str]:
    return [e["loc"][-1] for e in r.json()["detail"]]


@pytest.mark.parametrize("params, field", [
    ({"op": "conv_sideways"}, "op"),
    ({"op": "conv_forward", "stride": 0}, "stride"),
    ({"op": "conv_forward", "h": 65}, "h"),
    ({"op": "conv_forward", "w": 0}, "w"),
    ({"op": "conv_forward", "f": 17}, "f"),
    ({"op": "conv_forward", "dilation": 0}, "dilation"),
    ({"op": "conv_forward", "pad": -1}, "pad"),
    ({"op": "conv_forward", "format": "webp"}, "format"),
    ({"op": "conv_forward", "numbers": "maybe"}, "numbers"),
    ({"op": "conv_forward", "delay_ms": 5}, "delay_ms"),
    ({"op": "pool_forward", "pad": 1}, "pad"),
    ({"op": "pool_backward", "dilation": 2}, "dilation"),
    ({"op": "conv_forward", "output_padding": 1}, "output_padding"),
    ({"op": "conv_transpose", "output_padding": 16}, "output_padding"),
    ({}, "op"),
])
def test_bad_fields_are_422_naming_the_field(client, params, field):
    r = client.get("/api/animation", params=params)
    assert r.status_code == 422, r.text
    assert _fields(r) == [field]


def test_pooling_accepts_the_default_pad_and_dilation_spelled_out(client):
    r = client.get("/api/animation", params={"op": "pool_forward", "h": 4, "w": 4, "f": 2,
                                             "stride": 2, "pad": 0, "dilation": 1})
    assert r.status_code == 200


@pytest.mark.parametrize("params, words", [
    ({"op": "conv_forward", "h": 3, "w": 3, "f": 5}, ["f = 5", "h = 3"]),
    ({"op": "conv_forward", "h": 5, "w": 2, "f": 3, "dilation": 2}, ["dilation", "w = 2"]),
    ({"op": "pool_forward", "h": 2, "w": 5, "f": 3}, ["f = 3", "h = 2"]),
    ({"op": "conv_transpose", "h": 1, "w": 1, "f": 1, "pad": 1}, ["empty", "pad"]),
    ({"op": "conv_transpose", "stride": 2, "output_padding": 2}, ["output_padding", "max(2, 1)"]),
])
def test_a_window_that_does_not_fit_is_422_with_the_numbers(client, params, words):
    r = client.get("/api/animation", params=params)
    assert r.status_code == 422 and r.json()["code"] == "geometry"
    for w in words:
        assert w in r.json()["detail"]


def test_limits_are_413_before_drawing(make_client):
    client = make_client(max_animation_frames=100)
    r = client.get("/api/animation", params={"op": "conv_forward", "h": 12, "w": 12, "pad": 1})
    assert r.status_code == 413 and r.json()["code"] == "too_many_frames"
    assert "144 frames" in r.json()["detail"]
    assert "max_animation_frames = 100" in r.json()["detail"]
    client = make_client(max_animation_pixels=1_000_000)
    r = client.get("/api/animation", params={"op": "conv_forward", "h": 10, "w": 10,
                                             "numbers": "true"})
    assert r.status_code == 413 and r.json()["code"] == "animation_too_large"
    assert "max_animation_pixels = 1000000" in r.json()["detail"]
    client = make_client(max_animation_bytes=64 * 1024)
    r = client.get("/api/animation", params={"op": "conv_forward", "h": 20, "w": 20,
                                             "numbers": "true"})
    assert r.status_code == 413 and "max_animation_bytes = 65536" in r.json()["detail"]
    client = make_client(memory_budget_bytes=16 * 1024 * 1024, max_animation_bytes=16 * 2**20)
    r = client.get("/api/animation", params={"op": "conv_forward"})
    assert r.status_code == 413 and r.json()["code"] == "over_memory_budget"


def test_gallery_page_lists_the_set_and_links_from_the_nav(client):
    page = client.get("/gallery")
    assert page.status_code == 200
    for title in ("No padding, no strides", "Half (same) padding", "Full padding", "Dilation"):
        assert title in page.text
    assert 'href="/gallery"' in client.get("/learn").text
    assert 'href="/gallery"' in client.get("/explore").text


@pytest.mark.parametrize("op, f, stride, pad", [("conv_forward", 3, 2, 1),
                                                ("pool_backward", 2, 2, 0),
                                                ("conv_transpose", 3, 2, 1)])
def test_one_frame_as_png_and_svg(client, op, f, stride, pad):
    params = _params(op, 5, 5, f, stride, pad, 1, numbers="true")
    gif = Image.open(io.BytesIO(client.get("/api/animation", params=params).content))
    gif.seek(3)
    png = client.get("/api/animation/frame.png", params={**params, "step": 3})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"].endswith('-numbers-step4.png"')
    # the frame alone is the animation's frame at that step
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png.content)).convert("RGB")),
                                  np.asarray(gif.convert("RGB")))
    svg = client.get("/api/animation/frame.svg", params={**params, "step": 3})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    text = svg.text
    assert text.startswith("<svg") and text.rstrip().endswith("</svg>")
    assert f"{op}, step 4 of" in text and "<text" in text
    import xml.dom.minidom
    xml.dom.minidom.parseString(svg.content)  # well-formed
    late = client.get("/api/animation/frame.svg", params={**params, "step": 10_000})
    assert late.status_code == 422 and _fields(late) == ["step"]
    assert client.get("/api/animation/frame.jpg", params=params).status_code == 422
