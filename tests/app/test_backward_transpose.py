"""Explore's backward_transpose stage: dA_prev of the user's image as a transposed convolution
of dZ, drawn as a stride-1 convolution of dZ_up (dZ with stride - 1 zeros inserted and a
border) with the flipped kernel. Every step's sum is the dA_prev that conv_backward gives,
through /api/image and /api/steps; bad requests are 4xx naming the field."""

from __future__ import annotations

import numpy as np
import pytest
from apptools import decode_arr

import core
from app.explore.schemas.image import ImageSettings
from app.explore.services import layer
from app.explore.services.plan import make_plan
from app.platform import imaging
from app.platform.samples import sample_bytes
from core.transpose import transpose_as_convolution


def _image(client, settings: dict) -> dict:
    r = client.image(settings)
    assert r.status_code == 200, r.text
    return r.json()


def _all_steps(client, body: dict, settings: dict, stage: str) -> list[dict]:
    total = body["steps"][stage]["total"]
    steps: list[dict] = []
    while len(steps) < total:
        r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                            "stage": stage, "offset": len(steps),
                                            "limit": 256})
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["kind"] == stage == page["stage"]
        steps += page["steps"]
    return steps


@pytest.mark.parametrize("geometry", [
    {},  # the default layer: stride 1, pad 1
    {"stride": 2, "pad": 1},  # zeros inserted, output_padding 1 on an even size
    {"stride": 3, "pad": 0, "f": 5},  # two zeros between cells, a border of 4
    {"stride": 2, "pad": 2, "dilation": 2},  # a dilated kernel
    {"stride": 2, "pad": 3, "f": 3},  # pad > dilation*(f - 1): a negative border crops
    {"stride": 2, "color": "gray", "pool": None, "relu": False,
     "upstream": {"kind": "random", "seed": 3}},
])
def test_every_step_sums_to_dA_prev(client, geometry):
    settings = {"sample": "camera", "size": 12, **geometry}
    body = _image(client, settings)
    assert body["stages"][-2:] == ["conv_backward", "backward_transpose"]
    steps = _all_steps(client, body, settings, "backward_transpose")
    dA_prev_f32 = decode_arr(body["arrays"]["dA_prev"])
    n_H, n_W, C = dA_prev_f32.shape
    g = body["geometry"]["transpose"]
    assert len(steps) == n_H * n_W * C == g["conv"]["n_H"] * g["conv"]["n_W"] * g["n_C"]
    assert [s["index"] for s in steps] == list(range(len(steps)))

    # the exact float64 dA_prev from core, on the same working image
    s = ImageSettings.model_validate(settings)
    image = imaging.decode(sample_bytes("camera"), size=12, color=s.color, max_pixels=10**8)
    result = layer.run(image, make_plan(s, image.shape))
    dA_prev = core.conv_backward(result.trace.dZ, result.trace.conv_cache)[0][0]
    z = np.array([st["z"] for st in steps]).reshape(n_H, n_W, C)
    np.testing.assert_allclose(z, dA_prev, rtol=0, atol=1e-12)
    np.testing.assert_allclose(z, dA_prev_f32, rtol=1e-6, atol=1e-6)
    for st in steps[:: max(1, len(steps) // 7)]:
        assert st["bias"] == 0 and st["z"] == st["total"]
        np.testing.assert_allclose(np.multiply(st["a_slice"], st["weights"]), st["products"])

    # dZ_up is dZ with its zeros: dZ's cells at the rows and columns the geometry names
    dZ = decode_arr(body["arrays"]["dZ"])
    up = decode_arr(body["arrays"]["dZ_up"])
    rows, cols = g["dZ_rows"], g["dZ_cols"]
    assert up.shape[:2] == (g["conv"]["n_H_prev"], g["conv"]["n_W_prev"])
    hs = [h for h in range(dZ.shape[0]) if 0 <= g["border"] + h * g["stride"] < up.shape[0]]
    ws = [w for w in range(dZ.shape[1]) if 0 <= g["border"] + w * g["stride"] < up.shape[1]]
    assert rows == [g["border"] + h * g["stride"] for h in hs]
    assert cols == [g["border"] + w * g["stride"] for w in ws]
    np.testing.assert_array_equal(up[np.ix_(rows, cols)], dZ[np.ix_(hs, ws)])
    mask = np.ones(up.shape[:2], bool)
    mask[np.ix_(rows, cols)] = False
    assert not up[mask].any()  # every other cell an inserted zero or the border
    want_up, _, _ = transpose_as_convolution(
        result.trace.dZ, result.trace.conv_cache[1], {"stride": s.stride, "pad": s.pad},
        output_padding=tuple(g["output_padding"]), dilation=s.dilation)
    np.testing.assert_array_equal(up, want_up[0].astype(np.float32))


def test_step_shows_the_flipped_kernel(client):
    settings = {"sample": "camera", "size": 10, "color": "gray", "stride": 2,
                "filters": [{"weights": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}]}
    body = _image(client, settings)
    step = body["steps"]["backward_transpose"]["steps"][0]
    assert step["weights"] == [[[9.0], [8.0], [7.0]], [[6.0], [5.0], [4.0]],
                               [[3.0], [2.0], [1.0]]]
    assert body["geometry"]["transpose"]["border"] == 1  # dilation*(f - 1) - pad = 2 - 1


def test_position_paging_and_first_page(client):
    settings = {"sample": "chelsea", "size": 16, "stride": 2}
    body = _image(client, settings)
    first = body["steps"]["backward_transpose"]
    assert first["kind"] == "backward_transpose" and first["offset"] == 0
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "backward_transpose", "position": [3, 5, 2],
                                        "limit": 1})
    assert r.status_code == 200, r.text
    (step,) = r.json()["steps"]
    assert (step["h"], step["w"], step["c"]) == (3, 5, 2)
    dA_prev = decode_arr(body["arrays"]["dA_prev"])
    assert step["z"] == pytest.approx(float(dA_prev[3, 5, 2]), abs=1e-6)


@pytest.mark.parametrize("mode", ["reflect", "edge"])
def test_other_pad_modes_have_no_stage_and_say_why(client, mode):
    settings = {"sample": "camera", "size": 12, "pad_mode": mode}
    body = _image(client, settings)
    assert "backward_transpose" not in body["stages"]
    assert body["geometry"]["transpose"] is None and "dZ_up" not in body["arrays"]
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "backward_transpose"})
    assert r.status_code == 422
    assert "pad_mode" in r.text and mode in r.text


def test_bad_requests_name_the_field(client):
    settings = {"sample": "camera", "size": 12}
    body = _image(client, settings)
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "backward_transpose", "totals_at": 3})
    assert r.status_code == 422 and "totals_at" in r.text
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "backward_transposed"})
    assert r.status_code == 422 and "stage" in r.text
    r = client.post("/api/steps", json={"id": body["id"], "settings": settings,
                                        "stage": "backward_transpose", "limit": 0})
    assert r.status_code == 422 and "limit" in r.text
    r = client.post("/api/arrays", json={"id": body["id"], "settings": settings,
                                         "names": ["dZ_upp"]})
    assert r.status_code == 422 and "names" in r.text
