"""Finite but huge weights (issue 15: 1e308 was accepted, then /run and /steps answered 200
with null for every probability, logit and map value).

What the API does instead: an upload whose forward pass on the held-out digits passes
float64's range is refused (422 `weights_overflow` naming the layer); a forward or backward
pass that still overflows (another input, the backward pass, a training job's weights) is a
422 `weights_overflow` naming the layer and the pass; no answer ever holds null where a
number belongs."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save

from app.platform.network_config import get_network_limits
from app.platform.shared import submit
from app.platform.weights import WeightSet
from core.data import load_weights

DIGIT = {"kind": "digit", "index": 11}


def _upload(client, arrays: dict):
    return client.post("/api/network/weights", files={"file": ("w.safetensors", save(arrays),
                                                               "application/octet-stream")})


def _no_null(value, where="answer") -> None:
    """No NaN, infinity or null among the numbers of an answer (lists hold only numbers)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _no_null(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert v is not None, f"{where}[{i}] is null"
            _no_null(v, f"{where}[{i}]")
    elif isinstance(value, float):
        assert np.isfinite(value), where


def _backward_overflows() -> dict:
    """Weights whose forward pass is finite on every held-out digit (logits about 1e104)
    but whose backward pass passes 1e308 at conv2 (its dA_prev is conv2.W times dense.W)."""
    p = {k: np.zeros_like(v) for k, v in load_weights().items()}
    p["conv1.W"][:] = 1e-300
    p["conv2.W"][:] = 1e200
    p["dense.W"][:] = 1e200
    p["dense.W"][:, 0] = 2e200
    return p


@pytest.mark.parametrize("arrays, layer, largest", [
    ({"conv1.W": np.full((3, 3, 1, 8), 1e308)}, "conv1", "1e+308 (in conv1.W)"),
    ({"dense.W": np.full((64, 10), 1e308)}, "dense", "1e+308 (in dense.W)"),
    ({"conv1.W": np.full((3, 3, 1, 8), 1e200), "conv2.W": np.full((3, 3, 8, 16), 1e200)},
     "conv2", "1e+200"),
], ids=["conv1 1e308", "dense 1e308", "conv1 and conv2 1e200"])
def test_an_upload_whose_forward_pass_overflows_is_refused_naming_the_layer(client, arrays,
                                                                            layer, largest):
    r = _upload(client, arrays)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "weights_overflow"
    detail = r.json()["detail"]
    assert detail.startswith(f"file: with these weights the forward pass overflows at {layer} "
                             "on the 360 held-out digits"), detail
    assert "float64's range (+-1.798e+308)" in detail and largest in detail, detail


def test_a_backward_overflow_is_refused_naming_the_layer_and_the_forward_still_answers(client):
    r = _upload(client, _backward_overflows())
    assert r.status_code == 201, r.text
    weights = r.json()["id"]
    ok = client.post("/api/network/run", json={"input": DIGIT, "weights": weights,
                                               "backward": False})
    assert ok.status_code == 200, ok.text
    _no_null(ok.json())
    for route, body in [
        ("/api/network/run", {"input": DIGIT, "weights": weights}),
        ("/api/network/steps", {"input": DIGIT, "weights": weights, "layer": "conv1",
                                "direction": "backward"}),
    ]:
        r = client.post(route, json=body)
        assert r.status_code == 422, (route, r.text)
        assert r.json() == {"code": "weights_overflow", "detail": (
            "weights: with these weights the backward pass on this input overflows at conv2: "
            "its values pass float64's range (+-1.798e+308), which JSON cannot carry. Use "
            "smaller weights or ask for no backward pass.")}
    r = client.post("/api/network/steps", json={"input": DIGIT, "weights": weights,
                                                "layer": "conv2", "direction": "forward"})
    assert r.status_code == 200, r.text
    _no_null(r.json())


def test_a_forward_overflow_on_any_route_is_a_422_never_null(client, digit_png):
    """A set that never passed the upload's check (as a training job's can be), put in the
    server's store: every route that runs it answers 422 naming conv1."""
    assert client.get("/api/network/weights").status_code == 200  # makes the state
    huge = {**load_weights(), "conv1.W": np.full((3, 3, 1, 8), 1e308)}
    submit(client.app.state.network.weights.put(WeightSet("uaaaa", huge, "test", (), ()), 0.0,
                                                "test", get_network_limits())).result()
    want = ("weights: with these weights the forward pass on this input overflows at conv1")
    answers = [
        client.post("/api/network/run", json={"input": DIGIT, "weights": "uaaaa"}),
        client.post("/api/network/run", json={"input": {"kind": "pixels",
                                                        "pixels": [[16] * 8] * 8},
                                              "weights": "uaaaa", "backward": False}),
        client.post("/api/network/steps", json={"input": DIGIT, "weights": "uaaaa",
                                                "layer": "pool2", "direction": "forward"}),
        client.post("/api/network/run/photo", files={
            "file": ("d.png", digit_png, "image/png"),
            "settings": (None, '{"weights": "uaaaa"}', "application/json")}),
    ]
    for r in answers:
        assert r.status_code == 422, r.text
        assert r.json().get("code") == "weights_overflow", r.text
        assert r.json()["detail"].startswith(want), r.text


def test_a_training_jobs_weights_that_diverged_are_refused_by_name(client, monkeypatch):
    assert client.get("/api/network/weights").status_code == 200  # makes the state
    params = {**load_weights(), "dense.b": np.full((1, 10), np.nan)}

    async def weights(job_id):
        return params

    monkeypatch.setattr(client.app.state.network.jobs, "weights", weights)
    for r in [client.post("/api/network/run", json={"input": DIGIT, "weights": "job:0a1"}),
              client.get("/api/network/weights", params={"weights": "job:0a1"}),
              client.get("/api/network/filters", params={"weights": "job:0a1"})]:
        assert r.status_code == 422, r.text
        assert r.json() == {"code": "weights_overflow", "detail": (
            "weights: job:0a1's weights hold NaN or infinity (in dense.b): its training "
            "diverged. Start it again with a smaller lr.")}


@pytest.fixture
def digit_png() -> bytes:
    import io

    from PIL import Image

    im = Image.new("L", (64, 64), 255)
    im.paste(0, (28, 8, 36, 56))  # a "1"
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()
