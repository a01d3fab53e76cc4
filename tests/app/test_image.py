"""POST /api/image and /api/steps: everything the page draws equals core's numbers on the
working image; step pages by range and by position; the cache-miss path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apptools import decode_arr, encode_image, gradient_rgb

import core
from app.explore.schemas.image import ImageSettings
from app.explore.services import layer
from app.explore.services.plan import make_plan
from app.platform import imaging
from app.platform.samples import sample_bytes

FULL = ["input", "padded", "W", "b", "Z", "A", "pooled", "pool_mask", "dA", "dA_pool", "dZ",
        "dA_prev", "dW", "db", "dZ_up"]


def _core_run(image_u8: np.ndarray, settings: dict):
    """The layer computed here from core directly, as app.explore.services.layer's docs
    describe it."""
    s = ImageSettings.model_validate(settings)
    X = image_u8[None].astype(np.float64) / 255
    W, b = layer.build_filters(make_plan(s, image_u8.shape))
    hp = {"stride": s.stride, "pad": s.pad}
    Z, cache = core.conv_forward(X, W, b, hp, pad_mode=s.pad_mode, pad_value=s.pad_value,
                                 dilation=s.dilation)
    return s, X, W, b, Z, cache


def test_sample_answer_has_every_array_and_matches_core(client):
    settings = {"sample": "chelsea", "size": 48}
    r = client.image(settings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(body["arrays"]) == sorted(FULL)
    assert body["stages"] == ["pad", "conv_forward", "relu", "pool_forward", "pool_backward",
                              "conv_backward", "backward_transpose"]
    assert set(body["steps"]) == {"conv_forward", "pool_forward", "pool_backward",
                                  "conv_backward", "backward_transpose"}
    assert body["settings"]["sample"] == "chelsea" and body["settings"]["size"] == 48
    assert set(body["timing_ms"]) == {"decode", "compute"}

    image = imaging.decode(sample_bytes("chelsea"), size=48, color="rgb", max_pixels=10**8)
    assert image.shape == (32, 48, 3)  # 451 x 300 scaled so the longest side is 48
    assert body["id"] == imaging.image_id(image)
    _, X, W, b, Z, conv_cache = _core_run(image, settings)
    arrays = {k: decode_arr(v) for k, v in body["arrays"].items()}
    for name, v in body["arrays"].items():
        assert v["min"] == pytest.approx(float(arrays[name].min()), rel=1e-6, abs=1e-7)
        assert v["max"] == pytest.approx(float(arrays[name].max()), rel=1e-6, abs=1e-7)
    np.testing.assert_array_equal(arrays["input"], X[0].astype(np.float32))
    np.testing.assert_array_equal(arrays["padded"], core.zero_pad(X, 1)[0].astype(np.float32))
    np.testing.assert_array_equal(arrays["W"], W.astype(np.float32))
    np.testing.assert_array_equal(arrays["Z"], Z[0].astype(np.float32))
    A = np.maximum(Z, 0)
    np.testing.assert_array_equal(arrays["A"], A[0].astype(np.float32))
    pooled, pool_cache = core.pool_forward(A, {"stride": 2, "f": 2})
    np.testing.assert_array_equal(arrays["pooled"], pooled[0].astype(np.float32))
    dOut = np.ones_like(pooled)
    dA_pool = core.pool_backward(dOut, pool_cache)
    np.testing.assert_array_equal(arrays["dA"], dOut[0])
    np.testing.assert_array_equal(arrays["dA_pool"], dA_pool[0].astype(np.float32))
    np.testing.assert_array_equal(arrays["pool_mask"], dA_pool[0].astype(np.float32))
    dZ = dA_pool * (Z > 0)
    np.testing.assert_array_equal(arrays["dZ"], dZ[0].astype(np.float32))
    dA_prev, dW, db = core.conv_backward(dZ, conv_cache)
    np.testing.assert_array_equal(arrays["dA_prev"], dA_prev[0].astype(np.float32))
    np.testing.assert_array_equal(arrays["dW"], dW.astype(np.float32))
    np.testing.assert_array_equal(arrays["db"], db.reshape(-1).astype(np.float32))
    # Geometry is core's, step pages are core's first pages (full float64).
    assert body["geometry"]["conv"] == core.conv_geometry(32, 48, 3, stride=1, pad=1).to_dict()
    assert body["geometry"]["pool"] == core.pool_geometry(32, 48, 2, stride=2).to_dict()
    assert body["steps"]["conv_forward"] == core.conv_forward_trace(
        X, W, b, {"stride": 1, "pad": 1}, limit=64).to_dict()
    assert body["steps"]["conv_backward"] == core.conv_backward_trace(
        dZ, conv_cache, limit=64).to_dict()
    # the app adds `maxima` to max-pool records: every cell equal to the window's max
    pool_page = body["steps"]["pool_backward"]
    for step in pool_page["steps"]:
        window = A[0, step["vert_start"]:step["vert_end"], step["horiz_start"]:step["horiz_end"],
                   step["c"]]
        assert step.pop("maxima") == np.argwhere(window == window.max()).tolist()
    assert pool_page == core.pool_backward_trace(dOut, pool_cache, limit=64).to_dict()


def test_presets_divide_by_channels_and_weights_repeat(client):
    settings = {"sample": "coffee", "size": 16, "f": 3, "filters": [
        {"preset": "box_blur", "bias": 0.5},
        {"weights": [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "bias": -0.25},
        {"weights": np.arange(27, dtype=float).reshape(3, 3, 3).tolist()}]}
    r = client.image(settings)
    assert r.status_code == 200, r.text
    W = decode_arr(r.json()["arrays"]["W"])
    assert W.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(W[..., 0], np.full((3, 3, 3), 1 / 27), rtol=1e-6)
    np.testing.assert_array_equal(W[1, 1, :, 1], [1, 1, 1])
    np.testing.assert_array_equal(W[..., 2], np.arange(27).reshape(3, 3, 3))
    np.testing.assert_array_equal(decode_arr(r.json()["arrays"]["b"]), [0.5, -0.25, 0.0])


@pytest.mark.parametrize("upstream", [{"kind": "ones"}, {"kind": "output"},
                                      {"kind": "random", "seed": 7}])
def test_upstream_kinds(client, upstream):
    settings = {"sample": "camera", "size": 24, "upstream": upstream}
    body = client.image(settings).json()
    dA = decode_arr(body["arrays"]["dA"])
    pooled = decode_arr(body["arrays"]["pooled"])
    if upstream["kind"] == "ones":
        assert np.all(dA == 1)
    elif upstream["kind"] == "output":
        np.testing.assert_array_equal(dA, pooled)  # L = sum(out**2)/2 -> dL/dout = out
    else:
        expected = np.random.default_rng(7).standard_normal(pooled.shape)
        np.testing.assert_array_equal(dA, expected.astype(np.float32))
        again = client.image(settings).json()
        assert again["arrays"]["dA"] == body["arrays"]["dA"]


def test_without_pool_and_relu(client):
    settings = {"sample": "text", "size": 20, "color": "gray", "relu": False, "pool": None,
                "f": 5, "stride": 2, "pad": 2, "pad_mode": "edge", "dilation": 1,
                "filters": [{"preset": "gaussian_blur"}]}
    r = client.image(settings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stages"] == ["pad", "conv_forward", "conv_backward"]
    # pad_mode edge folds the pad's gradient back: no backward_transpose stage, no dZ_up
    assert sorted(body["arrays"]) == sorted(set(FULL) - {"pooled", "pool_mask", "dA_pool",
                                                         "dZ_up"})
    assert set(body["steps"]) == {"conv_forward", "conv_backward"}
    assert body["geometry"]["pool"] is None
    Z = decode_arr(body["arrays"]["Z"])
    np.testing.assert_array_equal(decode_arr(body["arrays"]["A"]), Z)
    assert decode_arr(body["arrays"]["dA"]).shape == Z.shape
    assert decode_arr(body["arrays"]["input"]).shape[2] == 1
    assert decode_arr(body["arrays"]["padded"]).shape == (
        body["geometry"]["conv"]["n_H_pad"], body["geometry"]["conv"]["n_W_pad"], 1)


def test_average_pool_split_ties_and_dilation(client):
    settings = {"sample": "camera", "size": 20, "dilation": 2, "pad": 2,
                "pool": {"mode": "average", "f": 3, "stride": 2, "tie_rule": "split"}}
    r = client.image(settings)
    assert r.status_code == 200, r.text
    g = r.json()["geometry"]
    assert g["conv"]["f_eff"] == 5 and g["pool"]["f"] == 3
    mask = decode_arr(r.json()["arrays"]["pool_mask"])
    assert set(np.unique(np.round(mask * 9)).tolist()) <= {0.0, 1.0, 2.0, 4.0}


# --- steps ----------------------------------------------------------------------------------


def _image(client, settings):
    r = client.image(settings)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("stage", ["conv_forward", "pool_forward", "pool_backward",
                                   "conv_backward"])
def test_steps_by_range_continue_the_first_page(client, stage):
    settings = {"sample": "chelsea", "size": 32}
    body = _image(client, settings)
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings, "stage": stage,
                                        "offset": 60, "limit": 10})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["id"] == body["id"] and page["stage"] == stage and page["kind"] == stage
    assert page["offset"] == 60 and [s["index"] for s in page["steps"]] == list(range(60, 70))
    assert page["total"] == body["steps"][stage]["total"]
    assert page["steps"][:4] == body["steps"][stage]["steps"][60:64]


def test_steps_by_position_and_their_values(client):
    settings = {"sample": "chelsea", "size": 32, "filters": [{"preset": "sobel_x"},
                                                             {"preset": "laplacian"}]}
    body = _image(client, settings)
    Z = decode_arr(body["arrays"]["Z"])
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "conv_forward", "position": [5, 7, 1],
                                        "limit": 1})
    assert r.status_code == 200, r.text
    (step,) = r.json()["steps"]
    n_H, n_W, n_C = Z.shape
    assert step["index"] == core.step_index((1, n_H, n_W, n_C), (0, 5, 7, 1))
    assert (step["h"], step["w"], step["c"]) == (5, 7, 1)
    assert step["z"] == pytest.approx(float(Z[5, 7, 1]), abs=1e-6)
    assert r.json()["offset"] == step["index"]


def test_steps_totals_for_backward_stages(client):
    settings = {"sample": "camera", "size": 16}
    body = _image(client, settings)
    total = body["steps"]["conv_backward"]["total"]
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "conv_backward", "offset": total - 1,
                                        "limit": 1, "totals_at": total - 1})
    assert r.status_code == 200, r.text
    t = r.json()["totals"]
    assert t["index"] == total - 1
    # After the last step the running dW and db are the whole backward pass's.
    np.testing.assert_array_equal(decode_arr(t["dW"]), decode_arr(body["arrays"]["dW"]))
    np.testing.assert_array_equal(decode_arr(t["db"]), decode_arr(body["arrays"]["db"]))
    padded = body["geometry"]["conv"]
    assert decode_arr(t["dA_prev_pad"]).shape == (padded["n_H_pad"], padded["n_W_pad"], 3)
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "pool_backward", "limit": 1, "totals_at": 0})
    assert r.status_code == 200
    dA_prev = decode_arr(r.json()["totals"]["dA_prev"])
    assert dA_prev.shape == decode_arr(body["arrays"]["A"]).shape
    assert np.count_nonzero(dA_prev) == 1  # one max routed after the first step


def test_steps_recompute_after_the_results_were_evicted(make_client):
    client = make_client(cache_entries=3)
    settings = {"sample": "chelsea", "size": 16}
    body = _image(client, settings)
    # A different layer on the same image: its result pushes the first one out.
    other = {**settings, "relu": False}
    _image(client, other)
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "conv_backward", "offset": 64, "limit": 3})
    assert r.status_code == 200
    assert [s["index"] for s in r.json()["steps"]] == [64, 65, 66]


def test_unknown_id_is_404_unknown_image(client):
    r = client.post("/api/steps", json={"id": "0" * 32, "settings": {"sample": "chelsea"},
                                        "stage": "conv_forward"})
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_image"
    assert "send the image to /api/image again" in r.json()["detail"]


def test_evicted_image_is_404_and_a_resend_restores_it(make_client):
    client = make_client(cache_entries=2)
    settings = {"sample": "chelsea", "size": 16}
    first = _image(client, settings)
    _image(client, {"sample": "coffee", "size": 16})
    steps = {"id": first["id"], "settings": settings, "stage": "conv_forward"}
    assert client.post("/api/steps", json=steps).json()["code"] == "unknown_image"
    assert _image(client, settings)["id"] == first["id"]  # content-addressed: the same id
    assert client.post("/api/steps", json=steps).status_code == 200


def test_settings_that_do_not_fit_the_id_are_404(client):
    body = _image(client, {"sample": "chelsea", "size": 16})
    r = client.post("/api/steps", json={"id": body["id"], "stage": "conv_forward",
                                        "settings": {"sample": "chelsea", "size": 20}})
    assert r.status_code == 404 and r.json()["code"] == "unknown_image"
    assert "not one of size 20" in r.json()["detail"]


def test_steps_mistakes(make_client):
    client = make_client(max_steps_per_page=8)
    settings = {"sample": "chelsea", "size": 16, "pool": None}
    body = _image(client, settings)
    base = {"id": body["id"], "settings": settings}
    r = client.post("/api/steps", json={**base, "stage": "pool_forward"})
    assert r.status_code == 422 and r.json()["code"] == "no_such_stage"
    r = client.post("/api/steps", json={**base, "stage": "conv_forward", "limit": 9})
    assert r.status_code == 422 and "max_steps_per_page = 8" in r.json()["detail"]
    r = client.post("/api/steps", json={**base, "stage": "conv_forward", "totals_at": 1,
                                        "limit": 1})
    assert r.status_code == 422 and r.json()["code"] == "no_totals"
    r = client.post("/api/steps", json={**base, "stage": "conv_forward", "limit": 1,
                                        "position": [99, 0, 0]})
    assert r.status_code == 422 and r.json()["code"] == "geometry"
    assert "outside the output" in r.json()["detail"]
    r = client.post("/api/steps", json={**base, "stage": "relu"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "stage"]
    r = client.post("/api/steps", json={**base, "stage": "conv_backward", "limit": 1,
                                        "totals_at": 10**8})
    assert r.status_code == 422 and r.json()["code"] == "geometry"


def test_upload_is_content_addressed(client):
    data = encode_image(gradient_rgb(), "PNG")
    a = client.image({"size": 20}, data)
    b = client.image({"size": 20, "sample": "coffee"}, data)  # the file wins over a sample
    assert a.status_code == b.status_code == 200
    assert a.json()["id"] == b.json()["id"]
    assert b.json()["settings"]["sample"] is None


# --- arrays on demand -------------------------------------------------------------------------


def test_image_with_a_subset_of_arrays_then_the_rest_on_demand(client):
    settings = {"sample": "chelsea", "size": 24}
    full = _image(client, settings)
    r = client.post("/api/image?arrays=input,Z,W", files={
        "settings": (None, json.dumps(settings), "application/json")})
    assert r.status_code == 200, r.text
    part = r.json()
    assert list(part["arrays"]) == ["input", "Z", "W"]  # in the order asked for
    assert part["arrays"]["Z"] == full["arrays"]["Z"]
    assert part["id"] == full["id"] and part["steps"] == full["steps"]
    r = client.post("/api/arrays", json={"id": full["id"], "settings": settings,
                                         "names": ["dA_prev", "dW", "pooled"]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == full["id"]
    assert r.json()["arrays"] == {k: full["arrays"][k] for k in ("dA_prev", "dW", "pooled")}


def test_arrays_route_mistakes(make_client):
    client = make_client(cache_entries=3)
    settings = {"sample": "chelsea", "size": 16, "pool": None}
    body = _image(client, settings)
    r = client.post("/api/arrays", json={"id": body["id"], "settings": settings,
                                         "names": ["pooled", "dZ"]})
    assert r.status_code == 200 and list(r.json()["arrays"]) == ["dZ"]  # no pooling here
    r = client.post("/api/arrays", json={"id": body["id"], "settings": settings,
                                         "names": ["nope"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "names"]
    r = client.post("/api/arrays", json={"id": "f" * 32, "settings": settings, "names": ["Z"]})
    assert r.status_code == 404 and r.json()["code"] == "unknown_image"
    r = client.post("/api/image?arrays=Z,nope", files={"settings": (None, '{"sample": "text"}')})
    assert r.status_code == 422 and r.json()["code"] == "no_such_array"
    assert "nope" in r.json()["detail"]
    # A result evicted from the cache is computed again from the cached image.
    _image(client, {**settings, "relu": False})
    _image(client, {**settings, "relu": False, "f": 5})
    r = client.post("/api/arrays", json={"id": body["id"], "settings": settings,
                                         "names": ["Z"]})
    assert r.status_code == 200
    assert r.json()["arrays"]["Z"] == body["arrays"]["Z"]
