"""POST /api/explore/transpose and /api/explore/transpose/steps: Explore's transposed-
convolution op on a sample or an upload, its numbers against core, every step's arithmetic,
and a 4xx naming the field and the limit for every kind of bad input."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from apptools import decode_arr, encode_image, gradient_rgb

from app.explore.services import transpose as service
from app.platform.bounds import FIXED_BYTES
from app.platform.cache import LruCache
from app.platform.config import Settings
from app.platform.samples import sample_bytes
from core import conv_transpose, preset_kernel
from core.upsampling import upsampling_kernel

URL = "/api/explore/transpose"


def op(client, settings: dict, file: bytes | None = None):
    files = {"settings": (None, json.dumps(settings), "application/json")}
    if file is not None:
        files["file"] = ("upload.png", file, "image/png")
    return client.post(URL, files=files)


def core_Z(X: np.ndarray, kernel: np.ndarray, s: dict) -> np.ndarray:
    """core's conv_transpose with the kernel on the channels' diagonal, bias s['bias']."""
    C = X.shape[2]
    W = kernel[:, :, None, None] * np.eye(C)
    Z, _ = conv_transpose(X[None].astype(np.float64), W, np.full((1, 1, 1, C), s["bias"]),
                          {"stride": s["stride"], "pad": s["pad"]},
                          output_padding=s["output_padding"], dilation=s["dilation"])
    return Z[0]


@pytest.mark.parametrize("settings, kernel", [
    ({"kernel": "bilinear", "stride": 2, "pad": 1}, upsampling_kernel("bilinear", 2)),
    ({"kernel": "nearest", "stride": 3, "pad": 0, "output_padding": 2},
     upsampling_kernel("nearest", 3)),
    ({"kernel": "gaussian_blur", "f": 5, "stride": 2, "pad": 2, "dilation": 2,
      "output_padding": 1, "bias": 0.25}, preset_kernel("gaussian_blur", 5)),
    ({"kernel": None, "weights": [[1, -2], [0.5, 3]], "stride": 1, "pad": 0},
     np.array([[1, -2], [0.5, 3]], dtype=float)),
])
@pytest.mark.parametrize("color", ["rgb", "gray"])
def test_the_output_is_cores_conv_transpose(client, settings, kernel, color):
    s = {"sample": "chelsea", "size": 12, "color": color, "output_padding": 0,
         "dilation": 1, "bias": 0.0, **settings}
    r = op(client, s)
    assert r.status_code == 200, r.text
    body = r.json()
    X = decode_arr(body["arrays"]["input"]).astype(np.float64)  # (8, 12, C), float32 of /255
    g = body["geometry"]
    np.testing.assert_array_equal(body["kernel"], kernel)
    assert body["settings"]["f"] in (None, kernel.shape[0])
    assert g["f"] == kernel.shape[0] and g["n_C"] == X.shape[2]
    Z_full = decode_arr(body["arrays"]["Z_full"])
    assert Z_full.shape == (g["n_H_full"], g["n_W_full"], X.shape[2])
    Z = Z_full[g["pad"]:g["pad"] + g["n_H"], g["pad"]:g["pad"] + g["n_W"]]
    np.testing.assert_allclose(Z, core_Z(X, kernel, s), atol=1e-5)
    assert str(g["n_H"]) in g["formula_H"] and "output_padding" in g["formula_H"]
    page = body["steps"]
    assert page["kind"] == "conv_transpose" and page["total"] == X.size


def test_nearest_upsampling_repeats_every_pixel(client):
    r = op(client, {"sample": "chelsea", "size": 10, "color": "gray", "kernel": "nearest",
                    "stride": 2, "pad": 0})
    X = decode_arr(r.json()["arrays"]["input"])
    Z = decode_arr(r.json()["arrays"]["Z_full"])
    np.testing.assert_allclose(Z[:, :, 0], np.kron(X[:, :, 0], np.ones((2, 2))), atol=1e-7)


def test_every_step_writes_out_its_arithmetic(client):
    s = {"sample": "chelsea", "size": 8, "color": "rgb", "kernel": "bilinear", "stride": 2,
         "pad": 1}
    body = op(client, s).json()
    X = decode_arr(body["arrays"]["input"])
    kernel = np.array(body["kernel"])
    steps = body["steps"]["steps"]
    assert [st["index"] for st in steps] == list(range(len(steps)))
    for st in steps:
        h, w, c = st["h"], st["w"], st["c"]
        assert st["a"] == pytest.approx(float(X[h, w, c]), abs=1e-6)
        assert (st["vert_start"], st["horiz_start"]) == (2 * h, 2 * w)
        weights, spread = np.array(st["weights"]), np.array(st["spread"])
        np.testing.assert_array_equal(weights[:, :, c], kernel)  # its own channel only
        assert not weights[:, :, [k for k in range(3) if k != c]].any()
        np.testing.assert_allclose(spread, st["a"] * weights, atol=1e-15)
        np.testing.assert_allclose(np.array(st["after"]) - np.array(st["before"]), spread,
                                   atol=1e-12)
    # the steps route pages on, from the same numbers
    more = client.post(URL + "/steps", json={"id": body["id"], "settings": s, "offset": 60,
                                             "limit": 8})
    assert more.status_code == 200, more.text
    page = more.json()
    assert page["offset"] == 60 and [st["index"] for st in page["steps"]] == list(range(60, 68))
    first = page["steps"][0]
    assert {k: v for k, v in first.items() if k not in ("before", "after")} == {
        k: v for k, v in steps[60].items() if k not in ("before", "after")}
    # a page's running sum starts from core's totals (added per kernel offset, not in loop
    # order), so its last bits may differ from the first page's
    for key in ("before", "after"):
        np.testing.assert_allclose(first[key], steps[60][key], atol=1e-12)
    last = client.post(URL + "/steps", json={"id": body["id"], "settings": s,
                                             "offset": body["steps"]["total"] - 1})
    final = np.array(last.json()["steps"][0]["after"])  # the last window, complete
    st = last.json()["steps"][0]
    Z_full = decode_arr(body["arrays"]["Z_full"])
    np.testing.assert_allclose(final, Z_full[st["vert_start"]:st["vert_end"],
                                              st["horiz_start"]:st["horiz_end"]], atol=1e-6)


def test_an_upload_is_the_input(client):
    png = encode_image(gradient_rgb(20, 10), "PNG")
    r = op(client, {"size": 20, "kernel": "nearest", "stride": 2, "pad": 0}, png)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["sample"] is None
    assert decode_arr(r.json()["arrays"]["Z_full"]).shape == (20, 40, 3)


BASE = {"sample": "chelsea", "size": 12}


@pytest.mark.parametrize("change, field", [
    ({"size": 0}, "size"), ({"size": 5000}, "size"), ({"color": "cmyk"}, "color"),
    ({"sample": "nope"}, "sample"), ({"kernel": "sobel_x"}, "kernel"),
    ({"stride": 0}, "stride"), ({"stride": 17}, "stride"), ({"pad": -1}, "pad"),
    ({"pad": 17}, "pad"), ({"output_padding": -1}, "output_padding"),
    ({"output_padding": 16}, "output_padding"), ({"dilation": 0}, "dilation"),
    ({"dilation": 9}, "dilation"), ({"bias": 1e6}, "bias"), ({"f": 0}, "f"),
    ({"f": 17}, "f"), ({"kernel": None, "weights": [[1e6]]}, "weights"),
    ({"extra": 1}, "extra"),
])
def test_a_field_out_of_range_is_a_422_naming_it(client, change, field):
    r = op(client, {**BASE, **change})
    assert r.status_code == 422, r.text
    locs = [e["loc"] for e in r.json()["detail"]]
    assert any(field in [str(p) for p in loc] for loc in locs), locs
    assert all(loc[:2] == ["body", "settings"] for loc in locs)


@pytest.mark.parametrize("change, words", [
    ({"kernel": "box_blur"}, "f: give the kernel's size for kernel 'box_blur'"),
    ({"kernel": "bilinear", "f": 4}, "f must be left out for kernel 'bilinear'"),
    ({"kernel": "bilinear", "weights": [[1.0]]}, "exactly one of 'kernel'"),
    ({"kernel": None}, "exactly one of 'kernel'"),
    ({"kernel": None, "weights": [[1.0, 2.0], [3.0]]}, "weights must be square"),
    ({"kernel": None, "weights": [[1.0]], "f": 3}, "f is 3, but weights is 1 x 1"),
])
def test_rules_across_fields_are_422_in_words(client, change, words):
    r = op(client, {**BASE, **change})
    assert r.status_code == 422, r.text
    assert words in json.dumps(r.json()["detail"])


@pytest.mark.parametrize("change, words", [
    ({"stride": 2, "output_padding": 2},
     "output_padding must be smaller than stride or dilation (at most max(stride, dilation) "
     "- 1 = max(2, 1) - 1 = 1"),
    ({"stride": 1, "dilation": 3, "output_padding": 3}, "max(1, 3) - 1 = 2"),
    ({"kernel": "nearest", "stride": 1, "pad": 5}, "output would be empty"),
])
def test_geometry_that_cannot_work_is_cores_422(client, change, words):
    r = op(client, {**BASE, **change})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "geometry" and words in r.json()["detail"]


def test_an_output_over_the_limit_is_413_before_decoding(make_client):
    client = make_client(max_array_elements=5000)
    # 12 x 8 x 3 in, stride 4 nearest: 48 x 32 x 3 = 4608 fits; stride 5: 60 x 40 x 3 does not
    assert op(client, {**BASE, "kernel": "nearest", "stride": 4, "pad": 0}).status_code == 200
    r = op(client, {**BASE, "kernel": "nearest", "stride": 5, "pad": 0})
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert "the output before the crop" in detail and "40 x 60 x 3" in detail
    assert "max_array_elements = 5000" in detail and "Use a smaller working size" in detail


def test_a_size_over_the_servers_limit_is_a_422_naming_it(make_client):
    r = op(make_client(max_size=64), {**BASE, "size": 65})
    assert r.status_code == 422 and "max_size = 64" in r.json()["detail"]


def test_no_image_is_a_422(client):
    r = op(client, {"size": 12})
    assert r.status_code == 422 and "settings.sample" in r.json()["detail"]


def test_steps_of_an_unknown_image_or_past_the_end(client):
    s = {**BASE, "kernel": "nearest", "stride": 2, "pad": 0}
    r = client.post(URL + "/steps", json={"id": "ab" * 16, "settings": s})
    assert r.status_code == 404 and r.json()["code"] == "unknown_image"
    body = op(client, s).json()
    r = client.post(URL + "/steps", json={"id": body["id"], "settings": s, "offset": 288})
    assert r.status_code == 422 and "288 steps" in r.json()["detail"]
    r = client.post(URL + "/steps", json={"id": body["id"], "settings": s, "limit": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "limit"


@pytest.mark.parametrize("settings", [
    {"size": 96, "kernel": "bilinear", "stride": 2, "pad": 1},
    {"size": 64, "kernel": "nearest", "stride": 4, "pad": 0},
    {"size": 48, "kernel": "gaussian_blur", "f": 7, "stride": 3, "pad": 0, "dilation": 2,
     "output_padding": 2},
])
def test_the_admitted_cost_bounds_the_runs_peak(settings):
    """tracemalloc's peak (NumPy reports its arrays to it) of one run, the image decoded
    first: at most the cost the route admits, and that cost not more than 4x it plus the
    fixed part (measured: 1.84-1.87x)."""
    limits = Settings()
    s = service.check_op_settings(
        service.TransposeOpSettings(sample="chelsea", **settings), limits)
    cache = LruCache(lambda: limits)
    data = sample_bytes("chelsea")
    service._run(cache, "sample:chelsea", data, s, limits)  # warm: the image is cached
    cost = service._cost(cache, "sample:chelsea", data, s, limits)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        service._run(cache, "sample:chelsea", data, s, limits)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak <= cost <= 4 * peak + FIXED_BYTES, (peak, cost)
