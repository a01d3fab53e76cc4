"""The array routes: the exercise's np.random.seed(1) cases over JSON equal core's results
exactly (float64 survives JSON), the extensions ride along, and every mistake is a 4xx."""

from __future__ import annotations

import math

import numpy as np
import pytest

import core


def _seeded(*shapes):
    np.random.seed(1)
    return [np.random.randn(*s) for s in shapes]


def test_zero_pad_exercise_case(client):
    (x,) = _seeded((4, 3, 3, 2))
    r = client.post("/api/zero_pad", json={"X": x.tolist(), "pad": 2})
    assert r.status_code == 200
    X_pad = np.array(r.json()["X_pad"])
    assert X_pad.shape == (4, 7, 7, 2)
    np.testing.assert_array_equal(X_pad, core.zero_pad(x, 2))
    np.testing.assert_array_equal(X_pad[1, 1], np.zeros((7, 2)))


def test_zero_pad_constant_pair_like_np_pad(client):
    # The seed's np.pad example: constant_values=(4, 6) puts 4 before and 6 after.
    r = client.post("/api/zero_pad", json={"X": [[[[1], [2]], [[3], [4]]]], "pad": 1,
                                           "pad_value": [4, 6]})
    assert r.status_code == 200
    assert np.array(r.json()["X_pad"])[0, :, :, 0].tolist() == [
        [4, 4, 4, 6], [4, 1, 2, 6], [4, 3, 4, 6], [4, 6, 6, 6]]


def test_conv_single_step_exercise_case(client):
    a, W, b = _seeded((4, 4, 3), (4, 4, 3), (1, 1, 1))
    r = client.post("/api/conv_single_step",
                    json={"a_slice_prev": a.tolist(), "W": W.tolist(), "b": b.tolist()})
    assert r.status_code == 200
    assert r.json()["Z"] == core.conv_single_step(a, W, b)
    assert abs(r.json()["Z"] - -6.99908945068) < 1e-10


def _conv_case():
    A_prev, W, b = _seeded((10, 4, 4, 3), (2, 2, 3, 8), (1, 1, 1, 8))
    return A_prev, W, b, {"pad": 2, "stride": 2}


def test_conv_forward_exercise_case(client):
    A_prev, W, b, hp = _conv_case()
    r = client.post("/api/conv_forward", json={"A_prev": A_prev.tolist(), "W": W.tolist(),
                                               "b": b.tolist(), "hparameters": hp})
    assert r.status_code == 200
    Z = np.array(r.json()["Z"])
    Z_core, _ = core.conv_forward(A_prev, W, b, hp)
    np.testing.assert_array_equal(Z, Z_core)  # bit for bit: full float64 precision
    assert np.mean(Z) == pytest.approx(0.0489952035289, abs=1e-11)
    np.testing.assert_allclose(Z[3, 2, 1], [-0.61490741, -6.7439236, -2.55153897, 1.75698377,
                                            3.56208902, 0.53036437, 5.18531798, 8.75898442],
                               atol=1e-8)
    assert "steps" not in r.json() or r.json()["steps"] is None


def test_conv_backward_exercise_case(client):
    A_prev, W, b, hp = _conv_case()
    Z, cache = core.conv_forward(A_prev, W, b, hp)
    r = client.post("/api/conv_backward", json={
        "dZ": Z.tolist(), "A_prev": A_prev.tolist(), "W": W.tolist(), "b": b.tolist(),
        "hparameters": hp})
    assert r.status_code == 200
    body = r.json()
    dA, dW, db = core.conv_backward(Z, cache)
    np.testing.assert_array_equal(body["dA_prev"], dA)
    np.testing.assert_array_equal(body["dW"], dW)
    np.testing.assert_array_equal(body["db"], db)
    assert np.mean(body["dA_prev"]) == pytest.approx(1.45243777754, abs=1e-10)
    assert np.mean(body["dW"]) == pytest.approx(1.72699145831, abs=1e-10)
    assert np.mean(body["db"]) == pytest.approx(7.83923256462, abs=1e-10)


@pytest.mark.parametrize("mode, expected", [
    ("max", [1.74481176, 0.86540763, 1.13376944, 1.13162939, 1.51981682, 2.18557541]),
    ("average", [0.02105773, -0.20328806, -0.40389855, -0.22154621, 0.51716526, 0.48155844]),
])
def test_pool_forward_exercise_case(client, mode, expected):
    (A_prev,) = _seeded((2, 4, 4, 3))
    hp = {"stride": 2, "f": 3}
    r = client.post("/api/pool_forward", json={"A_prev": A_prev.tolist(), "hparameters": hp,
                                               "mode": mode})
    assert r.status_code == 200
    A = np.array(r.json()["A"])
    np.testing.assert_array_equal(A, core.pool_forward(A_prev, hp, mode=mode)[0])
    np.testing.assert_allclose(A.ravel(), expected, atol=1e-8)


@pytest.mark.parametrize("mode, expected", [
    ("max", [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]),
    ("average", [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]]),
])
def test_pool_backward_exercise_case(client, mode, expected):
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    dA = np.random.randn(5, 4, 2, 2)
    hp = {"stride": 1, "f": 2}
    r = client.post("/api/pool_backward", json={"dA": dA.tolist(), "A_prev": A_prev.tolist(),
                                                "hparameters": hp, "mode": mode})
    assert r.status_code == 200
    dA_prev = np.array(r.json()["dA_prev"])
    np.testing.assert_array_equal(dA_prev, core.pool_backward(dA, (A_prev, hp), mode=mode))
    np.testing.assert_allclose(dA_prev[1, 1], expected, atol=1e-8)


def test_create_mask_from_window_exercise_cases(client):
    (x,) = _seeded((2, 3))
    r = client.post("/api/create_mask_from_window", json={"x": x.tolist()})
    assert r.json() == {"mask": [[True, False, False], [False, False, False]]}
    r = client.post("/api/create_mask_from_window", json={"x": [[1, 3], [4, 2]]})
    assert r.json() == {"mask": [[False, False], [True, False]]}


@pytest.mark.parametrize("dz, shape, share", [(2, [2, 2], 0.5), (1, [2, 2], 0.25),
                                              (1.0, [2, 3], 1 / 6)])
def test_distribute_value(client, dz, shape, share):
    r = client.post("/api/distribute_value", json={"dz": dz, "shape": shape})
    assert r.status_code == 200
    assert r.json() == {"a": np.full(shape, share).tolist()}


def test_conv_forward_extensions_and_steps(client):
    A_prev, W, b = _seeded((2, 5, 6, 3), (3, 3, 3, 4), (1, 1, 1, 4))
    hp = {"stride": 1, "pad": 2}
    kw = {"pad_mode": "reflect", "pad_value": 0.0, "dilation": 2}
    r = client.post("/api/conv_forward", json={
        "A_prev": A_prev.tolist(), "W": W.tolist(), "b": b.tolist(), "hparameters": hp, **kw,
        "steps": {"offset": 5, "limit": 3}})
    assert r.status_code == 200
    Z, _ = core.conv_forward(A_prev, W, b, hp, **kw)
    np.testing.assert_array_equal(r.json()["Z"], Z)
    page = r.json()["steps"]
    assert page == core.conv_forward_trace(A_prev, W, b, hp, **kw, offset=5, limit=3).to_dict()
    assert [s["index"] for s in page["steps"]] == [5, 6, 7]
    assert page["total"] == Z.size


def test_conv_backward_with_extensions_and_steps(client):
    A_prev, W, b, dZ = _seeded((1, 4, 4, 2), (2, 2, 2, 3), (1, 1, 1, 3), (1, 5, 5, 3))
    hp = {"stride": 1, "pad": 1}
    kw = {"pad_mode": "edge", "dilation": 1}
    r = client.post("/api/conv_backward", json={
        "dZ": dZ.tolist(), "A_prev": A_prev.tolist(), "W": W.tolist(), "b": b.tolist(),
        "hparameters": hp, **kw, "steps": {"offset": 0, "limit": 2}})
    assert r.status_code == 200
    _, cache = core.conv_forward(A_prev, W, b, hp, **kw)
    dA, dW, db = core.conv_backward(dZ, cache)
    np.testing.assert_array_equal(r.json()["dA_prev"], dA)
    np.testing.assert_array_equal(r.json()["dW"], dW)
    np.testing.assert_array_equal(r.json()["db"], db)
    assert r.json()["steps"] == core.conv_backward_trace(dZ, cache, limit=2).to_dict()


@pytest.mark.parametrize("tie_rule", ["first", "all", "split"])
def test_pool_routes_tie_rules_and_steps(client, tie_rule):
    A_prev = np.array([[[[1.0], [3.0]], [[3.0], [2.0]]]])  # a tie between two maxima
    hp = {"stride": 2, "f": 2}
    dA = [[[[1.0]]]]
    r = client.post("/api/pool_backward", json={"dA": dA, "A_prev": A_prev.tolist(),
                                                "hparameters": hp, "tie_rule": tie_rule,
                                                "steps": {"limit": 1}})
    assert r.status_code == 200
    expected = core.pool_backward(np.array(dA), (A_prev, hp), tie_rule=tie_rule)
    np.testing.assert_array_equal(r.json()["dA_prev"], expected)
    assert r.json()["steps"]["kind"] == "pool_backward"
    r = client.post("/api/pool_forward", json={"A_prev": A_prev.tolist(), "hparameters": hp,
                                               "tie_rule": tie_rule, "steps": {"limit": 1}})
    assert r.json()["steps"] == core.pool_forward_trace(A_prev, hp, tie_rule=tie_rule,
                                                        limit=1).to_dict()


# --- mistakes: status, and a detail that names the field and the rule ------------------------


def _detail_text(r) -> str:
    d = r.json()["detail"]
    return d if isinstance(d, str) else " ".join(f"{e['loc']} {e['msg']}" for e in d)


def test_geometry_error_is_422_with_cores_message(client):
    r = client.post("/api/conv_forward", json={
        "A_prev": [[[[1.0]], [[2.0]]]], "W": np.ones((3, 3, 1, 1)).tolist(),
        "b": [[[[0.0]]]], "hparameters": {"stride": 1, "pad": 0}})
    assert r.status_code == 422
    assert r.json()["code"] == "geometry"
    with pytest.raises(core.GeometryError) as err:
        core.conv_forward(np.ones((1, 2, 1, 1)), np.ones((3, 3, 1, 1)), np.zeros((1, 1, 1, 1)),
                          {"stride": 1, "pad": 0})
    assert r.json()["detail"] == str(err.value)
    assert "does not fit" in r.json()["detail"]


def test_channel_mismatch_is_422(client):
    r = client.post("/api/conv_forward", json={
        "A_prev": np.ones((1, 3, 3, 2)).tolist(), "W": np.ones((2, 2, 3, 1)).tolist(),
        "b": [[[[0.0]]]], "hparameters": {"stride": 1, "pad": 0}})
    assert r.status_code == 422
    assert "Channel mismatch" in r.json()["detail"]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(client, bad):
    raw = '{"x": [[1, ' + bad + '], [3, 4]]}'
    r = client.post("/api/create_mask_from_window", content=raw,
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "x", 0, 1]
    assert "finite" in r.json()["detail"][0]["msg"]


def test_huge_numbers_are_refused_with_the_bound(client):
    r = client.post("/api/distribute_value", json={"dz": 1e300, "shape": [2, 2]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "dz"]
    assert "1000000" in r.json()["detail"][0]["msg"]


def test_unknown_fields_are_refused(client):
    r = client.post("/api/distribute_value", json={"dz": 1, "shape": [2, 2], "extra": 1})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "extra"]
    assert r.json()["detail"][0]["type"] == "extra_forbidden"


def test_wrong_rank_is_refused_with_the_shape(client):
    r = client.post("/api/zero_pad", json={"X": [[1.0, 2.0]], "pad": 1})
    assert r.status_code == 422
    assert "X" in _detail_text(r)


def test_ragged_arrays_are_422(client):
    r = client.post("/api/zero_pad", json={"X": [[[[1.0], [2.0]], [[3.0]]]], "pad": 1})
    assert r.status_code == 422
    assert r.json()["code"] == "ragged_array"
    assert r.json()["detail"].startswith("X:")


def test_too_many_elements_is_413_naming_the_limit(make_client):
    client = make_client(max_array_elements=100)
    r = client.post("/api/zero_pad", json={"X": np.zeros((1, 11, 10, 1)).tolist(), "pad": 0})
    assert r.status_code == 413
    assert r.json()["code"] == "too_many_elements"
    assert "X has 110 elements" in r.json()["detail"]
    assert "max_array_elements = 100" in r.json()["detail"]
    # The output counts too: padding a small input into a huge one.
    r = client.post("/api/zero_pad", json={"X": np.zeros((1, 2, 2, 1)).tolist(), "pad": 10})
    assert r.status_code == 413
    assert "X_pad" in r.json()["detail"]
    r = client.post("/api/distribute_value", json={"dz": 1, "shape": [20, 20]})
    assert r.status_code == 413


def test_conv_work_bound_is_413(make_client):
    client = make_client(max_work_elements=1024)
    r = client.post("/api/conv_forward", json={
        "A_prev": np.zeros((1, 10, 10, 3)).tolist(), "W": np.zeros((5, 5, 3, 1)).tolist(),
        "b": [[[[0.0]]]], "hparameters": {"stride": 1, "pad": 2}})
    assert r.status_code == 413
    assert r.json()["code"] == "too_much_work"
    assert "max_work_elements = 1024" in r.json()["detail"]


def test_steps_limit_over_the_setting_is_422(make_client):
    client = make_client(max_steps_per_page=4)
    r = client.post("/api/pool_forward", json={"A_prev": np.zeros((1, 4, 4, 1)).tolist(),
                                               "hparameters": {"stride": 1, "f": 1},
                                               "steps": {"offset": 0, "limit": 5}})
    assert r.status_code == 422
    assert r.json()["detail"] == ("steps.limit is 5; the limit is max_steps_per_page = 4 "
                                  "(CONVSTEP_MAX_STEPS_PER_PAGE).")


def test_bad_option_values_are_422(client):
    r = client.post("/api/pool_forward", json={"A_prev": [[[[1.0]]]],
                                               "hparameters": {"stride": 0, "f": 1},
                                               "mode": "median"})
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", "hparameters", "stride") in locs
    assert ("body", "mode") in locs


def test_malformed_json_is_422(client):
    r = client.post("/api/zero_pad", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_reflect_pad_too_large_is_geometry_422(client):
    r = client.post("/api/zero_pad", json={"X": [[[[1.0], [2.0]]]], "pad": 2,
                                           "pad_mode": "reflect"})
    assert r.status_code == 422
    assert r.json()["code"] == "geometry"
    assert "Reflect" in r.json()["detail"]


def test_outputs_are_full_precision_floats(client):
    r = client.post("/api/distribute_value", json={"dz": 1, "shape": [1, 3]})
    assert r.json()["a"][0][0] == 1 / 3
    assert math.isclose(sum(r.json()["a"][0]), 1.0)
