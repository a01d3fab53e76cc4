"""POST /api/filters and GET /api/network/filters: a weight file's conv tensors (exercise
layout or PyTorch's, with or without biases, ambiguous shapes) as Explore's filters, exact
in float64; every bad file refused with a 4xx naming the tensor and the limit."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import save

from app.explore.services.filters import bias_names
from core.data import load_weights

THIRD = 1 / 3


def _post(client, data: bytes, name="w.safetensors"):
    return client.post("/api/filters", files={"file": (name, data, "application/octet-stream")})


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _ok(client, data: bytes, name="w.safetensors") -> dict:
    r = _post(client, data, name)
    assert r.status_code == 200, r.text
    return r.json()


def _refused(client, data: bytes, status: int, code: str, *words: str, name="w.npz") -> str:
    r = _post(client, data, name)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    detail = r.json()["detail"]
    for w in words:
        assert w in detail, detail
    return detail


def _grid(entry: dict) -> np.ndarray:
    """Explore's filters back to W (f, f, n_C_prev, n_C)."""
    ws = [np.asarray(fl["weights"], dtype=np.float64) for fl in entry["filters"]]
    ws = [w[:, :, None] if w.ndim == 2 else w for w in ws]
    return np.stack(ws, axis=3)


def _biases(entry: dict) -> np.ndarray:
    return np.array([fl["bias"] for fl in entry["filters"]])


def test_pytorch_layout_with_biases_is_transposed_exactly(client):
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(8, 1, 3, 3))
    weight[2, 0, 1, 2] = THIRD
    bias = rng.normal(size=8)
    bias[5] = -THIRD
    j = _ok(client, save({"conv1.weight": weight, "conv1.bias": bias}))
    assert j["format"] == "safetensors" and j["source"] == "w.safetensors" and j["others"] == []
    (e,) = j["tensors"]
    assert (e["name"], e["layout"], e["ambiguous"], e["bias"]) == (
        "conv1.weight", "pytorch", False, "conv1.bias")
    assert e["file_shape"] == [8, 1, 3, 3] and e["exercise_shape"] == [3, 3, 1, 8]
    assert (e["f"], e["n_C_prev"], e["n_C"], e["color"], e["fits"]) == (3, 1, 8, "gray", True)
    assert e["reasons"] == [] and e["bias_shape"] == [8]
    # one input channel: every filter's weights are (f, f)
    assert all(np.asarray(fl["weights"]).shape == (3, 3) for fl in e["filters"])
    assert np.array_equal(_grid(e), weight.transpose(2, 3, 1, 0))  # bit for bit
    assert np.array_equal(_biases(e), bias)
    assert e["filters"][2]["weights"][1][2] == THIRD and e["filters"][5]["bias"] == -THIRD


def test_exercise_layout_rgb_without_bias_in_an_npz(client):
    W = np.random.default_rng(2).normal(size=(5, 5, 3, 4))
    W[0, 4, 2, 3] = THIRD
    j = _ok(client, _npz({"W1": W, "note": np.arange(3)}), "w.npz")
    assert j["format"] == "npz"
    (e,) = j["tensors"]
    assert (e["layout"], e["bias"], e["bias_shape"], e["color"], e["f"]) == (
        "exercise", None, None, "rgb", 5)
    assert "only the exercise layout" in e["why_layout"]
    assert all(np.asarray(fl["weights"]).shape == (5, 5, 3) for fl in e["filters"])
    assert np.array_equal(_grid(e), W) and np.array_equal(_biases(e), np.zeros(4))
    assert e["filters"][3]["weights"][0][4][2] == THIRD
    assert j["others"] == [{"name": "note", "shape": [3], "dtype": "int64",
                            "note": "not 4-D, so not a conv weight tensor"}]


def test_course_bias_and_4d_bias_shape(client):
    W = np.ones((3, 3, 1, 2))
    b = np.array([THIRD, 2.0]).reshape(1, 1, 1, 2)
    (e,) = _ok(client, _npz({"W1": W, "b1": b}), "w.npz")["tensors"]
    assert e["bias"] == "b1" and e["bias_shape"] == [1, 1, 1, 2]
    assert _biases(e).tolist() == [THIRD, 2.0]


def test_float32_and_float16_files_give_their_own_numbers_in_float64(client):
    w32 = np.full((2, 3, 3, 3), THIRD, dtype=np.float32)  # pytorch: 2 filters, RGB
    w16 = np.full((3, 3, 1, 1), THIRD, dtype=np.float16)  # exercise
    j = _ok(client, save({"a.weight": w32, "b.W": w16}))
    by = {e["name"]: e for e in j["tensors"]}
    a, b = by["a.weight"], by["b.W"]
    assert a["dtype"] == "float32" and a["filters"][0]["weights"][0][0][0] == float(w32[0, 0, 0, 0])
    assert b["dtype"] == "float16" and b["filters"][0]["weights"][0][0] == float(w16[0, 0, 0, 0])


def test_both_layouts_fit_the_name_decides(client):
    x = np.arange(3 * 3 * 3 * 3, dtype=np.float64).reshape(3, 3, 3, 3)
    j = _ok(client, save({"conv.weight": x, "conv.W": x + 1}))
    by = {e["name"]: e for e in j["tensors"]}
    torch_e, ours = by["conv.weight"], by["conv.W"]
    assert (torch_e["layout"], torch_e["ambiguous"]) == ("pytorch", False)
    assert "'conv.weight' is PyTorch's" in torch_e["why_layout"]
    assert np.array_equal(_grid(torch_e), x.transpose(2, 3, 1, 0))
    assert (ours["layout"], ours["ambiguous"]) == ("exercise", False)
    assert np.array_equal(_grid(ours), x + 1)


def test_both_layouts_fit_the_bias_decides(client):
    # (8, 8, 3, 3): exercise f = 8, n_C = 3; PyTorch f = 3, n_C = 8. A bias of 8: PyTorch.
    x = np.random.default_rng(3).normal(size=(8, 8, 3, 3))
    (e,) = _ok(client, save({"k": x, "k.bias": np.ones(8)}))["tensors"]
    assert (e["layout"], e["ambiguous"], e["n_C"]) == ("pytorch", False, 8)
    assert "bias" in e["why_layout"]
    assert e["fits"] is False and "k has 8 input channels" in e["reasons"][0]


def test_an_ambiguous_tensor_is_reported_with_both_readings(client):
    x = np.random.default_rng(4).normal(size=(3, 3, 3, 3))
    j = _ok(client, _npz({"kernel": x}), "w.npz")
    ex, pt = j["tensors"]
    assert [ex["key"], pt["key"]] == ["kernel@exercise", "kernel@pytorch"]
    assert ex["ambiguous"] and pt["ambiguous"]
    assert "neither the name nor a bias decides" in ex["why_layout"]
    assert np.array_equal(_grid(ex), x) and np.array_equal(_grid(pt), x.transpose(2, 3, 1, 0))


def test_entries_that_do_not_fit_explore_say_why_with_the_numbers(client):
    j = _ok(client, save({"conv2.weight": np.zeros((16, 8, 3, 3)),
                          "wide.weight": np.zeros((64, 3, 3, 3)),
                          "huge.weight": np.zeros((1, 1, 33, 33)),
                          "loud.weight": np.full((1, 1, 3, 3), 2000.0)}))
    by = {e["name"]: e for e in j["tensors"]}
    assert j["max_filters"] == 8 and j["f_range"] == [1, 31]
    assert all(e["fits"] is False and e["filters"] is None for e in by.values())
    assert by["conv2.weight"]["reasons"] == [
        "conv2.weight has 8 input channels; Explore's image has 1 (gray) or 3 (RGB).",
        "conv2.weight has 16 filters > max_filters 8."]
    assert by["wide.weight"]["reasons"] == ["wide.weight has 64 filters > max_filters 8."]
    assert by["huge.weight"]["reasons"] == ["huge.weight has 33 x 33 kernels; Explore's f is "
                                            "1 to 31."]
    assert "magnitude 2000" in by["loud.weight"]["reasons"][0]


def test_max_filters_follows_the_server_setting(make_client):
    client = make_client(max_filters=16)
    (e,) = _ok(client, save({"c.weight": np.zeros((16, 3, 3, 3))}))["tensors"]
    assert e["fits"] and len(e["filters"]) == 16


@pytest.mark.parametrize(("name", "want"), [
    ("conv1.weight", ["conv1.bias", "conv1.b"]), ("features.0.weight", ["features.0.bias",
                                                                       "features.0.b"]),
    ("conv1.W", ["conv1.b", "conv1.bias"]), ("W2", ["b2", "bias2"]), ("W", ["b", "bias"]),
    ("conv_weight", ["conv_bias", "conv_b"]), ("kernel", ["kernel.bias", "kernel.b",
                                                          "kernel_bias"]),
])
def test_bias_names(name, want):
    assert bias_names(name) == want


# ---------------------------------------------------------------- refusals


def test_no_conv_tensor_lists_what_was_found(client):
    detail = _refused(client, save({"fc.weight": np.zeros((10, 64)),
                                    "odd": np.zeros((8, 1, 3, 5))}), 422, "no_conv_tensor",
                      "'fc.weight' (10, 64) float64", "'odd' (8, 1, 3, 5)",
                      "neither layout has square kernels", name="w.safetensors")
    assert "no conv weight tensor" in detail


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinity_names_the_tensor(client, bad):
    w = np.zeros((2, 1, 3, 3))
    w[1, 0, 2, 2] = bad
    _refused(client, save({"conv1.weight": w}), 422, "not_finite", "'conv1.weight'",
             "1 value(s)", name="w.safetensors")


def test_nan_in_a_bias_names_the_bias(client):
    _refused(client, save({"conv1.weight": np.zeros((2, 1, 3, 3)),
                           "conv1.bias": np.array([0.0, np.nan])}), 422, "not_finite",
             "'conv1.bias'", name="w.safetensors")


@pytest.mark.parametrize("dtype", [np.complex128, np.bool_])
def test_a_dtype_that_is_not_real_names_the_tensor(client, dtype):
    _refused(client, _npz({"conv1.weight": np.zeros((2, 1, 3, 3), dtype=dtype)}), 422,
             "bad_dtype", "'conv1.weight'", np.dtype(dtype).name)


def test_a_bias_of_the_wrong_length_names_it_and_the_expected_shape(client):
    _refused(client, save({"conv1.weight": np.zeros((8, 1, 3, 3)), "conv1.bias": np.ones(7)}),
             422, "bad_shape", "'conv1.bias'", "(7,)", "(8,) or (1, 1, 1, 8)",
             name="w.safetensors")


def test_an_oversize_file_is_413_with_the_limit(client):
    data = save({"conv1.weight": np.zeros((8, 1, 3, 3)), "pad": np.zeros(131_000)})
    assert 1024 * 1024 < len(data) < 1024 * 1024 + 60_000  # the form fits its 64 KiB
    _refused(client, data, 413, "file_too_large", f"file is {len(data)} bytes",
             "max_weights_bytes = 1048576 (CONVSTEP_NET_MAX_WEIGHTS_BYTES)")
    data = save({"conv1.weight": np.zeros((8, 1, 3, 3)), "pad": np.zeros(140_000)})
    _refused(client, data, 413, "body_too_large", "a file of at most max_weights_bytes = "
             "1048576 (CONVSTEP_NET_MAX_WEIGHTS_BYTES) plus 65536 bytes for the form")


def test_a_huge_declared_npz_tensor_is_refused_before_reading(client):
    _refused(client, _npz({"conv.weight": np.zeros((64, 64, 5, 5))}), 413, "tensor_too_large",
             "'conv.weight'", "100000")


def test_an_npz_declaring_too_many_values_in_all_is_refused_before_reading(client):
    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"t{k}": np.zeros((90_000,)) for k in range(5)},
                        **{"conv.weight": np.zeros((8, 1, 3, 3))})
    assert len(buf.getvalue()) < 1024 * 1024  # small compressed, 3.6 MB of float64 inside
    _refused(client, buf.getvalue(), 413, "tensor_too_large", "'t4'", "400000")


def test_a_pickle_is_never_loaded(client, monkeypatch):
    called = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: called.append(a))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: called.append(a))
    data = pickle.dumps({"conv1.weight": np.zeros((8, 1, 3, 3))})
    _refused(client, data, 415, "not_weights", "pickle", name="w.pkl")
    assert called == []


def test_an_object_array_in_an_npz_is_refused_as_a_pickle(client):
    _refused(client, _npz({"conv1.weight": np.array([{"a": 1}], dtype=object)}), 415,
             "pickle_refused", "'conv1.weight'")


def test_a_pytorch_pt_archive_is_refused(client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"x": 1}))
        z.writestr("archive/data/0", b"\0" * 16)
    _refused(client, buf.getvalue(), 415, "not_weights", "archive/data.pkl", name="m.pt")


def test_an_image_is_refused(client):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    _refused(client, buf.getvalue(), 415, "not_weights", ".safetensors", name="cat.png")


def test_an_empty_or_missing_file(client):
    _refused(client, b"", 422, "empty_file", "empty")
    r = client.post("/api/filters", files={"settings": (None, "{}")})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart"


# ---------------------------------------------------------------- the network's weights


def test_network_filters_of_the_shipped_conv1_are_exact(client):
    r = client.get("/api/network/filters?weights=shipped&layer=conv1")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["format"] == "network" and j["source"] == "network weights shipped"
    (e,) = j["tensors"]
    params = load_weights()
    assert (e["name"], e["bias"], e["fits"], e["color"], e["n_C"]) == (
        "conv1.W", "conv1.b", True, "gray", 8)
    assert np.array_equal(_grid(e), params["conv1.W"])
    assert np.array_equal(_biases(e), params["conv1.b"].reshape(-1))


def test_network_filters_of_conv2_say_why_not(client):
    (e,) = client.get("/api/network/filters?layer=conv2").json()["tensors"]
    assert e["fits"] is False and e["filters"] is None
    assert "conv2.W has 8 input channels" in e["reasons"][0]


def test_network_filters_of_an_uploaded_set(client):
    w = np.random.default_rng(5).normal(size=(8, 1, 3, 3))
    w[0, 0, 0, 0] = THIRD
    up = client.post("/api/network/weights", files={"file": (
        "w.safetensors", save({"conv1.weight": w}), "application/octet-stream")})
    assert up.status_code == 201, up.text
    (e,) = client.get(f"/api/network/filters?weights={up.json()['id']}").json()["tensors"]
    assert np.array_equal(_grid(e), w.transpose(2, 3, 1, 0))
    assert e["filters"][0]["weights"][0][0] == THIRD


@pytest.mark.parametrize(("query", "status"), [
    ("weights=u0123456789abcdef01234567", 404), ("layer=dense", 422), ("weights=../x", 422)])
def test_network_filters_refusals(client, query, status):
    assert client.get(f"/api/network/filters?{query}").status_code == status


def test_the_routes_are_typed_in_the_docs(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/filters"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/FiltersOut")
    get = spec["paths"]["/api/network/filters"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/FiltersOut")
