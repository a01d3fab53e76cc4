"""Weight uploads: .safetensors and .npz, the exercise's layout and PyTorch's, and every
kind of bad file answered with a 4xx naming the tensor (pickles are never loaded)."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
from safetensors.numpy import save

from bench.net_bench import torch_module
from core.data import load_digits, load_weights
from core.net import init_params, net_forward, scale_pixels

RUN = {"input": {"kind": "digit", "index": 11}, "backward": False}


def _upload(client, data: bytes, name="w.safetensors"):
    return client.post("/api/network/weights", files={"file": (name, data,
                                                               "application/octet-stream")})


def _npz(arrays: dict, compressed=False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _probs(client, weights: str) -> np.ndarray:
    r = client.post("/api/network/run", json={**RUN, "weights": weights})
    assert r.status_code == 200, r.text
    return np.array(r.json()["forward"]["probs"])


def _core_probs(params) -> np.ndarray:
    images, _ = load_digits().split("test")
    return net_forward(params, scale_pixels(images[11][None])).probs[0]


def test_a_full_safetensors_set_replaces_the_weights_for_its_id_only(client):
    params = init_params(seed=7)
    r = _upload(client, save({k: v.astype(np.float32) for k, v in params.items()}))
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["kept"] == [] and [t["name"] for t in j["replaced"]] == list(params)
    assert all(t["layout"] == "exercise" for t in j["replaced"])
    assert 0 <= j["test_accuracy"] <= 0.3  # random weights
    want = _core_probs({k: v.astype(np.float32).astype(np.float64) for k, v in params.items()})
    np.testing.assert_array_equal(_probs(client, j["id"]), want)
    # nobody else's weights changed
    np.testing.assert_array_equal(_probs(client, "shipped"), _core_probs(load_weights()))
    w = client.get("/api/network/weights", params={"weights": j["id"]}).json()
    np.testing.assert_allclose(np.array(w["params"]["conv2.W"]), params["conv2.W"], rtol=1e-6)


def test_npz_with_some_tensors_keeps_the_rest(client):
    shipped = load_weights()
    new_conv1 = init_params(seed=3)["conv1.W"]
    for compressed in (False, True):
        j = _upload(client, _npz({"W1": new_conv1, "b1": np.ones(8)}, compressed),
                    "w.npz").json()
        assert [t["name"] for t in j["replaced"]] == ["conv1.W", "conv1.b"]
        assert j["replaced"][1]["layout"] == "vector"
        assert j["kept"] == ["conv2.W", "conv2.b", "dense.W", "dense.b"]
        want = _core_probs({**shipped, "conv1.W": new_conv1,
                            "conv1.b": np.ones((1, 1, 1, 8))})
        np.testing.assert_array_equal(_probs(client, j["id"]), want)


def test_a_pytorch_state_dict_gives_pytorchs_probabilities(client):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch_module(torch, dense="fc")  # PyTorch's own initial weights, an "fc" layer
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    j = _upload(client, save(state)).json()
    assert {t["name"]: t["layout"] for t in j["replaced"]} == {
        "conv1.W": "pytorch", "conv1.b": "vector", "conv2.W": "pytorch", "conv2.b": "vector",
        "dense.W": "pytorch", "dense.b": "vector"}
    images, _ = load_digits().split("test")
    x = torch.tensor(images[11] / 16.0).reshape(1, 1, 8, 8)
    want = torch.softmax(model(x), dim=1).detach().numpy()[0]
    np.testing.assert_allclose(_probs(client, j["id"]), want, rtol=1e-10, atol=1e-14)


def test_an_nn_sequential_state_dict_is_read_in_layer_order(client):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 10), nn.Softmax(dim=1)).double()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    j = _upload(client, _npz(state), "seq.npz").json()
    assert [t["file_name"] for t in j["replaced"]] == ["0.weight", "0.bias", "3.weight",
                                                       "3.bias", "7.weight", "7.bias"]
    images, _ = load_digits().split("test")
    want = model(torch.tensor(images[11] / 16.0).reshape(1, 1, 8, 8)).detach().numpy()[0]
    np.testing.assert_allclose(_probs(client, j["id"]), want, rtol=1e-10, atol=1e-14)


def _zip_with(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    return buf.getvalue()


def _npy_header_only(shape) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


BAD = [
    (lambda: save({"conv2.W": np.zeros((3, 3, 16, 8))}), 422,
     "'conv2.W' (conv2.W) has shape (3, 3, 16, 8); expected (3, 3, 8, 16) (the exercise's "
     "layout) or (16, 8, 3, 3) (PyTorch's)"),
    (lambda: save({"dense.b": np.zeros(11)}), 422, "expected (1, 10)"),
    (lambda: save({"conv1.W": np.full((3, 3, 1, 8), np.nan)}), 422,
     "'conv1.W' (conv1.W) holds 72 value(s) that are NaN or infinite"),
    (lambda: _npz({"conv1.W": np.zeros((3, 3, 1, 8), dtype=complex)}), 422,
     "has dtype complex128"),
    (lambda: _npz({"conv1.W": np.array(["a"] * 72).reshape(3, 3, 1, 8)}), 422, "has dtype <U1"),
    (lambda: save({"conv3.W": np.zeros(3)}), 422, "'conv3.W' are not in the network"),
    (lambda: save({"W1": np.zeros((3, 3, 1, 8)), "conv1.weight": np.zeros((8, 1, 3, 3))}), 422,
     "both give conv1.W"),
    (lambda: _npz({"conv1.W": np.array([{"x": 1}], dtype=object)}), 415, "pickles are never"),
    (lambda: pickle.dumps({"conv1.W": np.zeros((3, 3, 1, 8))}), 415, "pickle"),
    (lambda: _zip_with("archive/data.pkl", pickle.dumps([1])), 415, "pickles never are"),
    (lambda: _zip_with("big.npy", _npy_header_only((1000, 1000))), 413, "declares shape "
     "(1000, 1000)"),
    (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "not a .safetensors file or an .npz"),
    (lambda: b"", 422, "empty"),
    (lambda: b"\x10\0\0\0\0\0\0\0{broken", 422, "header says 16 bytes"),
    (lambda: b"\x08\0\0\0\0\0\0\0{\"a\": 1}", 422, "cannot be read"),
    (lambda: save({"conv1.W": np.zeros((3, 3, 1, 8))}) + b"\0" * (1024 * 1024), 413,
     "the limit is max_weights_bytes = 1048576 (CONVSTEP_NET_MAX_WEIGHTS_BYTES)"),
]


@pytest.mark.parametrize("make, status, words", BAD)
def test_bad_weight_files_get_a_4xx_naming_the_tensor(client, make, status, words):
    r = _upload(client, make())
    assert r.status_code == status, r.text
    assert words in r.json()["detail"], r.json()["detail"]


def test_upload_needs_a_file_part(client):
    r = client.post("/api/network/weights", files={"other": (None, "x")})
    assert r.status_code == 422
    r = client.post("/api/network/weights", content=b"{}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 415


def test_only_the_newest_sets_are_kept(make_client):
    from app.platform.network_config import NetworkLimits, get_network_limits

    client = make_client()
    client.app.dependency_overrides[get_network_limits] = lambda: NetworkLimits(weight_sets=1)
    first = _upload(client, save({"dense.b": np.zeros(10)})).json()["id"]
    second = _upload(client, save({"dense.b": np.ones(10)})).json()["id"]
    assert client.post("/api/network/run", json={**RUN, "weights": second}).status_code == 200
    r = client.post("/api/network/run", json={**RUN, "weights": first})
    assert r.status_code == 404 and r.json()["code"] == "unknown_weights"
