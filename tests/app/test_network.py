"""The network routes: architecture, runs (equal to core's numbers), inputs, step pages."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from core.data import load_digits, load_weights, weights_info
from core.net import DEFAULT_NET, net_backward, net_forward, scale_pixels
from core.net_input import digit_from_pixels
from core.trace import conv_backward_trace, conv_forward_trace, pool_forward_trace


def _run(client, **body):
    r = client.post("/api/network/run", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_architecture(client):
    r = client.get("/api/network")
    assert r.status_code == 200
    j = r.json()
    assert j["input_shape"] == [8, 8, 1] and j["parameter_count"] == 1898
    assert [(x["name"], x["output_shape"]) for x in j["layers"]] == [
        (layer.name, list(shape)) for layer, shape in zip(DEFAULT_NET.layers, DEFAULT_NET.shapes,
                                                          strict=True)]
    assert j["layers"][0]["params"] == {"W": [3, 3, 1, 8], "b": [1, 1, 1, 8]}
    assert "floor((8 + 2*1 - 3) / 1) + 1 = floor(7 / 1) + 1 = 8" in j["layers"][0]["formula"]
    assert j["shipped"]["test_accuracy"] == weights_info()["test_accuracy"] >= 0.97
    assert j["data"]["licence"] == "CC BY 4.0" and j["data"]["held_out"] == 360


def test_shipped_weights_and_held_out_digits(client):
    w = client.get("/api/network/weights").json()
    params = load_weights()
    assert w["id"] == "shipped"
    for name, value in params.items():
        np.testing.assert_array_equal(np.array(w["params"][name]), value)
    d = client.get("/api/network/digits").json()
    images, labels = load_digits().split("test")
    assert d["count"] == 360 and d["labels"] == labels.tolist()
    np.testing.assert_array_equal(np.array(d["images"]), images)


@pytest.mark.parametrize("index, target", [(0, None), (17, 3), (359, 9)])
def test_run_equals_core_forward_and_backward(client, index, target):
    j = _run(client, input={"kind": "digit", "index": index}, target=target)
    images, labels = load_digits().split("test")
    X = scale_pixels(images[index][None])
    fwd = net_forward(load_weights(), X)
    want_target = int(labels[index]) if target is None else target
    bwd = net_backward(fwd, [want_target])
    assert j["input"]["label"] == int(labels[index]) and j["input"]["index"] == index
    np.testing.assert_array_equal(j["input"]["pixels"], images[index])
    np.testing.assert_array_equal(np.array(j["input"]["X"]), X[0])
    # exactly what core computes: JSON carries float64 in full
    np.testing.assert_array_equal(np.array(j["forward"]["probs"]), fwd.probs[0])
    assert j["forward"]["prediction"] == int(np.argmax(fwd.probs[0]))
    for layer, got, want in zip(DEFAULT_NET.layers, j["forward"]["layers"], fwd.outputs,
                                strict=True):
        assert got["name"] == layer.name
        np.testing.assert_array_equal(np.array(got["output"]), want[0])
    b = j["backward"]
    assert b["target"] == want_target and b["loss"] == bwd.loss
    np.testing.assert_array_equal(np.array(b["saliency"]), bwd.dX[0])
    for got, want in zip(b["layers"], bwd.layers, strict=True):
        np.testing.assert_array_equal(np.array(got["d_out"]), want["d_out"][0])
        np.testing.assert_array_equal(np.array(got["dA_prev"]), want["dA_prev"][0])
        if "dW" in want:
            np.testing.assert_array_equal(np.array(got["dW"]), want["dW"])
            np.testing.assert_array_equal(np.array(got["db"]), want["db"].reshape(-1))
        else:
            assert got["dW"] is None


def test_shipped_weights_classify_held_out_digits(client):
    _, labels = load_digits().split("test")
    right = sum(_run(client, input={"kind": "digit", "index": i}, backward=False)["forward"]
                ["prediction"] == labels[i] for i in range(0, 360, 12))
    assert right >= 28  # of 30 (the whole split: 98%)


def test_pixels_input_and_forward_only(client):
    pixels = load_digits().images[5].astype(float)
    j = _run(client, input={"kind": "pixels", "pixels": pixels.tolist()}, backward=False)
    assert j["backward"] is None and j["input"]["label"] is None
    fwd = net_forward(load_weights(), scale_pixels(pixels[None]))
    np.testing.assert_array_equal(np.array(j["forward"]["probs"]), fwd.probs[0])


def _seven(h=120, w=90) -> np.ndarray:
    ink = np.zeros((h, w), dtype=np.uint8)
    ink[15:27, 15:75] = 255  # the top bar
    for r in range(27, 110):  # the stem, slanting left
        c = int(75 - (r - 27) * 0.45)
        ink[r, c - 6:c + 6] = 255
    return ink


def test_canvas_input_is_preprocessed_as_the_data(client):
    ink = _seven()
    j = _run(client, input={"kind": "canvas", "ink": ink.tolist()})
    p, _ = digit_from_pixels(ink / 255.0)
    np.testing.assert_array_equal(j["input"]["pixels"], p.pixels)
    assert j["input"]["preprocess"]["box"] == list(p.box)
    assert j["input"]["preprocess"]["source_shape"] == [120, 90]
    assert j["forward"]["prediction"] == 7
    assert j["backward"]["target"] == 7  # no label: the backward pass starts from the prediction


def _b64(ink: np.ndarray) -> dict:
    return {"kind": "canvas", "shape": list(ink.shape),
            "ink_base64": base64.b64encode(ink.astype(np.uint8).tobytes()).decode()}


@pytest.mark.parametrize("backward", [True, False])
def test_base64_ink_gives_the_nested_forms_answer(client, backward):
    ink = _seven(117, 131)  # not square: rows and columns in their order
    ink[40:60, 100:120] = 77  # and not only 0 and 255
    nested = _run(client, input={"kind": "canvas", "ink": ink.tolist()}, backward=backward)
    compact = _run(client, input=_b64(ink), backward=backward)
    assert compact == nested
    p, _ = digit_from_pixels(ink / 255.0)
    np.testing.assert_array_equal(compact["input"]["pixels"], p.pixels)
    assert compact["input"]["preprocess"]["source_shape"] == [117, 131]
    fwd = net_forward(load_weights(), scale_pixels(p.pixels[None]), DEFAULT_NET)
    np.testing.assert_array_equal(compact["forward"]["probs"], fwd.probs[0])


def test_base64_ink_in_the_step_pages(client):
    ink = _seven()
    body = {"layer": "conv1", "direction": "backward", "limit": 4}
    nested = client.post("/api/network/steps", json={
        **body, "input": {"kind": "canvas", "ink": ink.tolist()}})
    compact = client.post("/api/network/steps", json={**body, "input": _b64(ink)})
    assert compact.status_code == 200, compact.text
    assert compact.json() == nested.json()


_B4 = base64.b64encode(bytes(range(0, 240, 15))).decode()  # 16 bytes: a 4 x 4 drawing


@pytest.mark.parametrize("canvas, status, field, words", [
    ({"ink_base64": "AP//AAAA/wAA/wAAAP8AA!=", "shape": [4, 4]}, 422, "ink_base64",
     "String should match pattern"),
    # padding that does not complete a group of 4: the schema's pattern says it
    ({"ink_base64": "AP//AAAA/wAA/wAAAP8AAA=", "shape": [4, 4]}, 422, "ink_base64",
     "String should match pattern"),
    ({"ink_base64": _B4, "shape": [4, 5]}, 422, "canvas", "ink_base64 holds 16 bytes, "
     "but shape 4 x 5 needs 20"),
    ({"ink_base64": _B4}, 422, "canvas", "ink_base64 needs shape"),
    ({"ink_base64": _B4, "shape": [16]}, 422, "shape", "at least 2 items"),
    ({"ink_base64": _B4, "shape": [0, 4]}, 422, "shape", "greater than or equal to 1"),
    ({"ink_base64": _B4, "shape": [4, 4], "ink": [[0, 255]]}, 422, "canvas", "exactly one"),
    ({}, 422, "canvas", "exactly one of ink"),
    ({"ink": [[0, 255]], "shape": [1, 2]}, 422, "canvas", "shape goes with ink_base64"),
    ({"ink_base64": base64.b64encode(bytes(600)).decode(), "shape": [1, 600]}, 413, None,
     "input.shape is 1 x 600; the limit is max_canvas = 512"),
    ({"ink_base64": base64.b64encode(bytes(16)).decode(), "shape": [4, 4]}, 422, None,
     "blank"),
])
def test_bad_base64_ink_is_4xx_naming_the_field(client, canvas, status, field, words):
    r = client.post("/api/network/run", json={"input": {"kind": "canvas", **canvas}})
    assert r.status_code == status, r.text
    assert words in r.text
    if field:
        assert any(field in e["loc"] for e in r.json()["detail"]), r.text


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("dark_ink", [True, False])
def test_photo_upload_is_gray_cropped_scaled(client, dark_ink):
    ink = _seven()
    photo = np.pad(255 - ink if dark_ink else ink, 40, constant_values=255 if dark_ink else 0)
    rgb = np.repeat(photo[:, :, None], 3, axis=2)
    r = client.post("/api/network/run/photo", files={"file": ("seven.png", _png(rgb),
                                                              "image/png")})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["input"]["preprocess"]["inverted"] is dark_ink
    p, _ = digit_from_pixels(ink / 255.0)
    assert j["input"]["preprocess"]["box"] == [x + 40 for x in p.box]  # the 40-pixel margin
    assert j["input"]["preprocess"]["source_shape"] == [200, 170]
    np.testing.assert_array_equal(j["input"]["pixels"], p.pixels)
    assert j["forward"]["prediction"] == 7


def test_photo_settings_and_errors(client):
    ink = np.pad(_seven(), 10)
    files = {"file": ("d.png", _png(ink), "image/png"),
             "settings": (None, '{"target": 1, "backward": true}', "application/json")}
    j = client.post("/api/network/run/photo", files=files).json()
    assert j["backward"]["target"] == 1
    files["settings"] = (None, '{"target": 12}', "application/json")
    r = client.post("/api/network/run/photo", files=files)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "settings",
                                                                      "target"]
    r = client.post("/api/network/run/photo", files={"file": ("x.png", b"not an image",
                                                              "image/png")})
    assert r.status_code == 415
    r = client.post("/api/network/run/photo", files={"file": ("flat.png", _png(np.full(
        (20, 20), 200, dtype=np.uint8)), "image/png")})
    assert r.status_code == 422 and "flat colour" in r.json()["detail"]


@pytest.mark.parametrize("body, status, words", [
    ({"input": {"kind": "canvas", "ink": [[0, 0], [0, 0]]}}, 422, "blank"),
    ({"input": {"kind": "canvas", "ink": [[0, 255], [0]]}}, 422, "same length"),
    ({"input": {"kind": "canvas", "ink": [[0] * 600]}}, 413, "max_canvas = 512"),
    ({"input": {"kind": "digit", "index": 360}}, 422, "less than or equal to 359"),
    ({"input": {"kind": "pixels", "pixels": [[0] * 8] * 7}}, 422, "at least 8"),
    ({"input": {"kind": "pixels", "pixels": [[17] * 8] * 8}}, 422, "less than or equal to 16"),
    ({"input": {"kind": "digit", "index": 0}, "target": 10}, 422, "less than or equal to 9"),
    ({"input": {"kind": "digit", "index": 0}, "weights": "u00ff"}, 404, "upload the file again"),
    ({"input": {"kind": "digit", "index": 0}, "weights": "job:1-ab"}, 404, "No training job"),
    ({"input": {"kind": "nothing"}}, 422, "does not match any of the expected tags"),
])
def test_bad_run_requests_are_4xx_naming_the_field(client, body, status, words):
    r = client.post("/api/network/run", json=body)
    assert r.status_code == status, r.text
    assert words in r.text


@pytest.mark.parametrize("layer, direction", [("conv1", "forward"), ("pool1", "forward"),
                                              ("conv2", "backward"), ("pool2", "backward")])
def test_layer_steps_are_cores_trace_on_the_layers_real_input(client, layer, direction):
    body = {"input": {"kind": "digit", "index": 4}, "layer": layer, "direction": direction,
            "offset": 3, "limit": 5}
    r = client.post("/api/network/steps", json=body)
    assert r.status_code == 200, r.text
    j = r.json()
    images, labels = load_digits().split("test")
    params = load_weights()
    fwd = net_forward(params, scale_pixels(images[4][None]))
    k = [x.name for x in DEFAULT_NET.layers].index(layer)
    A_prev = fwd.X if k == 0 else fwd.outputs[k - 1]
    np.testing.assert_array_equal(np.array(j["arrays"]["A_prev"]), A_prev[0])
    np.testing.assert_array_equal(np.array(j["arrays"]["output"]), fwd.outputs[k][0])
    assert j["page"]["offset"] == 3 and len(j["page"]["steps"]) == 5
    net_layer = DEFAULT_NET.layers[k]
    if direction == "forward" and layer == "conv1":
        want = conv_forward_trace(A_prev, params["conv1.W"], params["conv1.b"],
                                  net_layer.hparameters, offset=3, limit=5).to_dict()
        assert j["page"] == want
        assert j["geometry"]["n_H_pad"] == 10 and j["target"] is None
        assert np.array(j["arrays"]["A_prev_pad"]).shape == (10, 10, 1)
    elif direction == "forward":
        want = pool_forward_trace(A_prev, net_layer.hparameters, offset=3, limit=5).to_dict()
        assert j["page"] == want
    else:
        bwd = net_backward(fwd, [int(labels[4])])
        assert j["target"] == int(labels[4])
        np.testing.assert_array_equal(np.array(j["arrays"]["d_out"]), bwd.layers[k]["d_out"][0])
        if layer == "conv2":
            want = conv_backward_trace(bwd.layers[k]["d_out"], fwd.caches[k], offset=3,
                                       limit=5).to_dict()
            assert j["page"] == want
            np.testing.assert_array_equal(np.array(j["arrays"]["dW"]), bwd.layers[k]["dW"])
        assert j["page"]["kind"] == f"{net_layer.kind}_backward"


def test_steps_by_position_and_bad_layer(client):
    body = {"input": {"kind": "digit", "index": 0}, "layer": "conv2", "position": [1, 2, 3],
            "limit": 1}
    j = client.post("/api/network/steps", json=body).json()
    step = j["page"]["steps"][0]
    assert (step["h"], step["w"], step["c"]) == (1, 2, 3)
    assert step["index"] == (1 * 4 + 2) * 16 + 3
    body["position"] = [4, 0, 0]
    r = client.post("/api/network/steps", json=body)
    assert r.status_code == 422 and "outside the output" in r.json()["detail"]
    body.update(layer="dense", position=None)
    assert client.post("/api/network/steps", json=body).status_code == 422


def test_routes_are_in_the_openapi_page(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/network", "/api/network/run", "/api/network/run/photo",
              "/api/network/steps", "/api/network/weights", "/api/network/digits",
              "/api/network/train", "/api/network/train/{job_id}",
              "/api/network/train/{job_id}/events", "/api/network/train/{job_id}/{action}"):
        assert p in paths, p
