"""POST /api/geometry: always 200; its verdict is what /api/image answers for the same
settings, its advice is core's fit_limits in the page's names, and every Limit it gives
makes /api/image accept the settings."""

from __future__ import annotations

import pytest
from apptools import encode_image, gradient_rgb

BASE = {"sample": "chelsea", "size": 32, "color": "gray", "filters": [{"preset": "identity"}]}

CASES = [
    {},  # the defaults fit
    {"f": 31, "pad": 0},  # 21 x 32 image: the window is too big
    {"f": 9, "pad": 0, "dilation": 3},
    {"f": 3, "stride": 4, "pool": {"f": 7, "stride": 1}},
    {"f": 5, "pad": 0, "pool": {"f": 20, "stride": 2}},
    {"f": 7, "pad": 30, "pad_mode": "reflect"},
    {"size": 3, "f": 5, "pad": 0},
    {"f": 4},  # a preset that needs odd f: refused by the settings' validation
    {"f": 4, "filters": [{"preset": "sobel_x"}]},
    {"size": 100000},  # over max_size
    {"pool": None, "f": 31, "pad": 0},
]


def png_bytes(width, height):
    return encode_image(gradient_rgb(width, height), "PNG")


def image_status(client, settings):
    return client.image(settings).status_code


@pytest.mark.parametrize("change", CASES)
def test_verdict_matches_api_image(client, change):
    settings = {**BASE, **change}
    res = client.post("/api/geometry", json={"settings": settings})
    assert res.status_code == 200, res.text
    got = res.json()
    status = image_status(client, settings)
    assert got["fits"] == (status == 200), (got, status)
    if not got["fits"]:
        assert got["status"] == status
        image = client.image(settings).json()
        detail = image["detail"]
        if isinstance(detail, str) and got["code"] != "geometry":
            assert got["message"] == detail


@pytest.mark.slow  # runs every advised change
@pytest.mark.parametrize("change", [c for c in CASES[1:7] if c])
def test_each_advised_limit_makes_it_fit(client, change):
    settings = {**BASE, **change}
    got = client.post("/api/geometry", json={"settings": settings}).json()
    assert not got["fits"] and got["code"] == "geometry"
    assert got["advice"], got
    for lim in got["advice"]:
        fixed = {**settings}
        if lim["setting"] == "pool_f":
            fixed["pool"] = {**settings["pool"], "f": lim["value"]}
        else:
            fixed[lim["setting"]] = lim["value"]
        assert image_status(client, fixed) == 200, (lim, fixed)
        # and one step beyond the limit does not fit
        beyond = lim["value"] + (1 if lim["op"] == "<=" else -1)
        if lim["setting"] == "pool_f":
            fixed["pool"] = {**settings["pool"], "f": beyond}
        else:
            fixed[lim["setting"]] = beyond
        if beyond >= (0 if lim["setting"] == "pad" else 1):
            assert image_status(client, fixed) != 200, (lim, fixed)
        assert lim["text"] in got["message"]


def test_precise_numbers_for_the_newcomers_case(client):
    # a 21 x 32 working image and the default 2 x 2 pooling, so Z needs 2 rows:
    # f 31 needs pad >= 6 (21 + 12 - 31 = 2 >= 1*(2 - 1)), or f <= 20
    got = client.post("/api/geometry", json={"settings": {**BASE, "f": 31, "pad": 0}}).json()
    texts = [a["text"] for a in got["advice"]]
    assert "f <= 20" in texts and "pad >= 6" in texts
    assert "smaller f" not in got["message"]
    assert (got["n_H_prev"], got["n_W_prev"]) == (21, 32)
    # stride is advised when the pooling is what does not fit
    got = client.post("/api/geometry", json={"settings": {
        **BASE, "f": 3, "stride": 4, "pad": 1, "pool": {"f": 7, "stride": 1}}}).json()
    assert "stride <= 3" in [a["text"] for a in got["advice"]]
    assert got["message"].startswith("Pooling over Z (6 x 8)")


def test_upload_size_from_source(client):
    # a 40 x 10 upload at size 20 is 5 x 20: f 7 (and the 2 x 2 pooling) needs 8 rows: size 30
    settings = {**BASE, "sample": None, "size": 20, "f": 7, "pad": 0}
    got = client.post("/api/geometry", json={"settings": settings, "source": [40, 10]}).json()
    assert not got["fits"] and (got["n_H_prev"], got["n_W_prev"]) == (5, 20)
    up = client.image(settings, png_bytes(40, 10))
    assert up.status_code == 422
    assert "size >= 30" in [a["text"] for a in got["advice"]]
    ok = client.image({**settings, "size": 30}, png_bytes(40, 10))
    assert ok.status_code == 200


def test_no_image_and_bad_bodies(client):
    got = client.post("/api/geometry", json={"settings": {"f": 3}}).json()
    assert got["fits"] is False and got["code"] == "no_image"
    assert client.post("/api/geometry", json={"settings": {}, "shape": [0, 3]}).status_code == 422
    assert "/api/geometry" in client.get("/openapi.json").json()["paths"]
