"""Compact answers: the display encoding of arrays (?encoding=display) and gzip.

A display ARR decodes as the page does it: float64 offset + q * scale, rounded to float32.
Every decoded value is within half a quantisation step of the float32 ARR's value; arrays
whose values sit on the byte lattice (the working image, masks, constants) are exact.
"""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np
import pytest
from apptools import decode_arr

from app.platform import encoding
from app.platform.responses import accepts_gzip, gzip_chunks

FLOAT32_ALWAYS = ("W", "b", "dW", "db")
SETTINGS = [
    {"sample": "chelsea", "size": 24},
    {"sample": "coffee", "size": 20, "color": "gray", "upstream": {"kind": "random",
                                                                   "seed": 3}},
    {"sample": "text", "size": 18, "upstream": {"kind": "output"},
     "pool": {"mode": "average", "f": 3, "stride": 1, "tie_rule": "split"}},
    {"sample": "camera", "size": 16, "relu": False, "pool": None, "pad": 2,
     "pad_mode": "reflect", "filters": [{"preset": "emboss", "bias": -0.25},
                                        {"weights": [[1, -2, 1], [0, 3, 0], [1, 1, 1]]}]},
]


def _post_image(client, settings: dict, query: str = "", accept: str = "gzip"):
    return client.post("/api/image" + query, headers={"Accept-Encoding": accept}, files={
        "settings": (None, json.dumps(settings), "application/json")})


def decode_display(arr: dict) -> np.ndarray:
    """Display ARR -> float32, as the page decodes it (a 256-entry table of values)."""
    assert arr["dtype"] == "uint8" and arr["encoding"] == "display"
    q = np.frombuffer(base64.b64decode(arr["data"]), dtype=np.uint8)
    table = (np.arange(256, dtype=np.float64) * arr["scale"] + arr["offset"]).astype(np.float32)
    return table[q].reshape(arr["shape"])


def _q(arr: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(arr["data"]), dtype=np.uint8).reshape(arr["shape"])


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s["sample"])
def test_display_round_trips_within_half_a_step(client, settings):
    exact = _post_image(client, settings).json()
    r = _post_image(client, settings, "?encoding=display")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert list(shown["arrays"]) == list(exact["arrays"])
    assert shown["id"] == exact["id"] and shown["steps"] == exact["steps"]
    for name, arr in shown["arrays"].items():
        want = decode_arr(exact["arrays"][name])
        assert arr["min"] == exact["arrays"][name]["min"], name
        assert arr["max"] == exact["arrays"][name]["max"], name
        if name in FLOAT32_ALWAYS:
            assert arr == exact["arrays"][name], name  # parameters stay float32
            continue
        got = decode_display(arr)
        assert got.shape == want.shape, name
        step = arr["scale"]
        err = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bound = step / 2 + 4 * np.finfo(np.float32).eps * np.abs(want).astype(np.float64)
        assert np.all(err <= bound), (name, float(err.max()), step)
        if arr["exact"]:
            np.testing.assert_array_equal(got, want, err_msg=name)
        lo, hi = arr["min"], arr["max"]
        if arr["exact"]:
            continue
        if lo < 0:  # zero-symmetric: 0 is q = 128, +-max|v| are q = 255 and 1
            m = max(-lo, hi)
            assert arr["scale"] == pytest.approx(m / 127, rel=1e-12), name
            assert arr["offset"] == -128 * arr["scale"], name
            q = _q(arr)
            assert q.min() >= 1
            np.testing.assert_array_equal(q[want == 0], 128)
            assert arr["offset"] + 128 * arr["scale"] == 0.0
        else:  # the page's sequential scale lo..hi: q is its colour index
            assert arr["offset"] == lo, name
            assert arr["scale"] == pytest.approx((hi - lo) / 255, rel=1e-12), name
            q = _q(arr).astype(np.int64)
            idx = np.rint((want.astype(np.float64) - lo) / (hi - lo) * 255)
            assert np.abs(q - idx).max() <= 1, name


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s["sample"])
def test_input_and_padded_are_exact(client, settings):
    exact = _post_image(client, settings).json()["arrays"]
    shown = _post_image(client, settings, "?encoding=display&arrays=input,padded").json()
    for name in ("input", "padded"):
        arr = shown["arrays"][name]
        assert arr["exact"] is True and arr["offset"] == 0 and arr["scale"] == 1 / 255
        np.testing.assert_array_equal(decode_display(arr), decode_arr(exact[name]))
        # q is the 8-bit pixel value itself
        np.testing.assert_array_equal(_q(arr), np.rint(decode_arr(exact[name]) * 255))


def test_every_byte_of_the_image_lattice_is_exact():
    values = (np.arange(256, dtype=np.float64) / 255).astype(np.float32)
    q, offset, scale, exact = encoding.display_code(values, 0.0, 1.0)
    assert exact and offset == 0 and scale == 1 / 255
    np.testing.assert_array_equal(q, np.arange(256))


def test_a_pad_value_off_the_lattice_is_not_exact(client):
    settings = {"sample": "chelsea", "size": 16, "pad": 2, "pad_value": 0.3}
    exact = decode_arr(_post_image(client, settings).json()["arrays"]["padded"])
    arr = _post_image(client, settings, "?encoding=display&arrays=padded").json()["arrays"]
    padded = arr["padded"]
    assert padded["exact"] is False
    assert np.abs(decode_display(padded) - exact).max() <= padded["scale"] / 2 + 1e-7


@pytest.mark.parametrize("value", [0.0, 1.0, -3.0, 0.3, -0.7, 1234.5])
def test_constant_arrays_do_not_divide_by_zero(value):
    a = np.full((4, 5, 2), value, dtype=np.float32)
    q, offset, scale, exact = encoding.display_code(a, float(a.min()), float(a.max()))
    assert exact
    table = (np.arange(256) * scale + offset).astype(np.float32)
    np.testing.assert_array_equal(table[q], a)


def test_constant_arrays_in_an_answer(client):
    # Z = 0.5 everywhere (zero weights, bias 0.5); upstream ones: dA is all ones.
    settings = {"sample": "camera", "size": 12, "color": "gray", "pool": None,
                "filters": [{"weights": [[0, 0, 0], [0, 0, 0], [0, 0, 0]], "bias": 0.5}]}
    arrays = _post_image(client, settings, "?encoding=display").json()["arrays"]
    for name, value in (("Z", 0.5), ("A", 0.5), ("dA", 1.0), ("dZ", 1.0)):
        arr = arrays[name]
        assert arr["min"] == arr["max"] == value and arr["exact"] is True, name
        np.testing.assert_array_equal(decode_display(arr), value)
    assert arrays["dA_prev"]["exact"] is True  # zero weights: no gradient reaches the input
    np.testing.assert_array_equal(decode_display(arrays["dA_prev"]), 0.0)


def test_integer_arrays_are_exact():
    a = np.array([[0, 1, 2], [4, 1, 0]], dtype=np.float32)
    q, offset, scale, exact = encoding.display_code(a, 0.0, 4.0)
    assert exact and (offset, scale) == (0.0, 1.0) and q.tolist() == [[0, 1, 2], [4, 1, 0]]
    a = np.array([-5, 0, 250], dtype=np.float32)
    q, offset, scale, exact = encoding.display_code(a, -5.0, 250.0)
    assert exact and (offset, scale) == (-5.0, 1.0) and q.tolist() == [0, 5, 255]


def test_display_arrays_are_a_quarter_of_float32(client):
    settings = {"sample": "chelsea", "size": 96}
    f32 = _post_image(client, settings, accept="identity").json()["arrays"]
    shown = _post_image(client, settings, "?encoding=display", accept="identity").json()
    assert len(json.dumps(shown["arrays"])) < 0.26 * len(json.dumps(f32))


def test_arrays_route_takes_the_encoding(client):
    settings = {"sample": "chelsea", "size": 24}
    body = _post_image(client, settings, "?encoding=display").json()
    ask = {"id": body["id"], "settings": settings, "names": ["Z", "dW", "input"]}
    r = client.post("/api/arrays?encoding=display", json=ask)
    assert r.status_code == 200
    assert r.json()["arrays"] == {k: body["arrays"][k] for k in ("Z", "dW", "input")}
    r = client.post("/api/arrays", json=ask)  # default float32: exact numbers for hover
    assert [a["dtype"] for a in r.json()["arrays"].values()] == ["float32"] * 3
    r = client.post("/api/arrays?encoding=float32", json=ask)
    assert [a["dtype"] for a in r.json()["arrays"].values()] == ["float32"] * 3


@pytest.mark.parametrize("route", ["image", "arrays"])
def test_bad_encoding_is_422_naming_the_field_and_the_choices(client, route):
    if route == "image":
        r = _post_image(client, {"sample": "camera", "size": 8}, "?encoding=png")
    else:
        r = client.post("/api/arrays?encoding=png", json={
            "id": "f" * 32, "settings": {"sample": "camera"}, "names": ["Z"]})
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["loc"] == ["query", "encoding"]
    assert "'float32'" in err["msg"] and "'display'" in err["msg"]


def test_openapi_documents_the_encoding():
    from app.main import create_app

    spec = create_app().openapi()
    for path in ("/api/image", "/api/arrays"):
        (param,) = [p for p in spec["paths"][path]["post"]["parameters"]
                    if p["name"] == "encoding"]
        assert param["in"] == "query" and param["schema"]["enum"] == ["float32", "display"]
        assert param["schema"]["default"] == "float32"
        assert "display" in param["description"]


# --- gzip -------------------------------------------------------------------------------


def test_image_answer_gzipped_only_when_asked(client):
    settings = {"sample": "chelsea", "size": 32}
    plain = _post_image(client, settings, accept="identity")
    zipped = _post_image(client, settings, accept="gzip, deflate, br")
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    for r in (plain, zipped):
        assert r.headers["vary"] == "Accept-Encoding"
        assert int(r.headers["content-length"]) == r.num_bytes_downloaded
        assert r.headers["server-timing"].startswith("app;dur=")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in r.headers
    assert zipped.num_bytes_downloaded < 0.5 * plain.num_bytes_downloaded
    a, b = plain.json(), zipped.json()
    a.pop("timing_ms"), b.pop("timing_ms")
    assert a == b


def test_gzip_with_q_zero_or_level_zero_is_not_compressed(client, make_client):
    settings = {"sample": "chelsea", "size": 32}
    r = _post_image(client, settings, accept="gzip;q=0, identity")
    assert "content-encoding" not in r.headers
    off = make_client(gzip_level=0)
    r = _post_image(off, settings, accept="gzip")
    assert "content-encoding" not in r.headers
    r = off.post("/api/steps", headers={"Accept-Encoding": "gzip"}, json={
        "id": r.json()["id"], "settings": settings, "stage": "conv_forward", "limit": 64})
    assert r.status_code == 200 and "content-encoding" not in r.headers


def test_arrays_route_gzipped(client):
    settings = {"sample": "chelsea", "size": 32}
    body = _post_image(client, settings).json()
    ask = {"id": body["id"], "settings": settings, "names": ["Z", "dZ"]}
    z = client.post("/api/arrays", json=ask, headers={"Accept-Encoding": "gzip"})
    p = client.post("/api/arrays", json=ask, headers={"Accept-Encoding": "identity"})
    assert z.headers["content-encoding"] == "gzip" and "content-encoding" not in p.headers
    assert z.json() == p.json()


def test_steps_answers_unchanged_by_gzip(client):
    settings = {"sample": "chelsea", "size": 32}
    body = _post_image(client, settings).json()
    ask = {"id": body["id"], "settings": settings, "stage": "conv_forward", "offset": 5,
           "limit": 64}
    z = client.post("/api/steps", json=ask, headers={"Accept-Encoding": "gzip"})
    p = client.post("/api/steps", json=ask, headers={"Accept-Encoding": "identity"})
    assert z.status_code == p.status_code == 200
    assert z.headers["content-encoding"] == "gzip" and "content-encoding" not in p.headers
    assert z.headers["server-timing"].startswith("app;dur=")
    assert z.headers["x-frame-options"] == "DENY"
    assert z.json() == p.json()
    assert z.json()["offset"] == 5 and len(z.json()["steps"]) == 64


def test_small_answers_are_not_compressed(client):
    r = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    r = client.post("/api/image?encoding=nope", headers={"Accept-Encoding": "gzip"},
                    files={"settings": (None, "{}")})
    assert r.status_code == 422 and "content-encoding" not in r.headers


def test_page_scripts_and_schema_gzipped_images_not(client):
    for url in ("/", "/static/js/explore/main.js", "/openapi.json"):
        z = client.get(url, headers={"Accept-Encoding": "gzip"})
        p = client.get(url, headers={"Accept-Encoding": "identity"})
        assert z.status_code == p.status_code == 200, url
        assert z.headers["content-encoding"] == "gzip", url
        assert "content-encoding" not in p.headers, url
        assert z.content == p.content, url
        assert z.headers["content-security-policy"] == p.headers["content-security-policy"]
        assert z.headers["server-timing"].startswith("app;dur=")
    r = client.get("/api/samples/coffee", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    assert "content-encoding" not in r.headers


def test_gzip_chunks_are_one_gzip_member():
    chunks = [b'{"a": "', b"x" * 5000, b'", "b": ', json.dumps(list(range(999))).encode(), b"}"]
    plain = b"".join(chunks)
    out = gzip_chunks(chunks, 1)
    assert gzip.decompress(b"".join(out)) == plain
    assert chunks == []  # handed over: each plain piece can be freed once compressed


@pytest.mark.parametrize(("header", "ok"), [
    ("gzip", True), ("gzip, deflate, br, zstd", True), ("GZIP", True), ("x-gzip", True),
    ("gzip;q=0", False), ("gzip; q=0.0", False), ("gzip;q=0.5", True), ("deflate", False),
    ("identity", False), ("*", True), ("*;q=0", False), ("br, *", True),
    ("gzip;q=0, *", False), ("", False), (None, False), ("gzip;q=x", False)])
def test_accepts_gzip(header, ok):
    assert accepts_gzip(header) is ok
