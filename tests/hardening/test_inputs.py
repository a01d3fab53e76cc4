"""Odd and hostile request bodies get a clear 4xx naming the field and the limit, never a
500 (issue 10: items 3, 8, 10 and §2.1). Through the ASGI app in this process."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.explore.schemas.image import ImageSettings
from app.main import create_app
from app.platform.config import Settings

from . import hostile_images as hi
from .asgi import asgi_request

APP = create_app()


def _png(w: int = 40, h: int = 30) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 90, np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


# --- item 3: multipart boundary -----------------------------------------------------------


@pytest.mark.parametrize("length, status", [(70, 422), (256, 422), (257, 422), (5000, 422)])
def test_a_long_multipart_boundary_is_a_4xx(length, status):
    """`curl -H "Content-Type: multipart/form-data; boundary=bbbb...(257)" --data x` was a
    500 (python-multipart's own check, not caught). A boundary within the limit but with no
    body is the ordinary 422 of an incomplete form."""
    r = asgi_request(APP, "POST", "/api/image", content=b"x", headers={
        "content-type": "multipart/form-data; boundary=" + "b" * length})
    assert r.status_code == status, r.text
    assert r.json()["code"] == "bad_multipart"
    if length > 256:
        assert f"is {length} characters" in r.json()["detail"]
        assert "limit is 256" in r.json()["detail"]


def test_a_long_boundary_with_a_real_form_is_refused_before_reading_it():
    boundary = "b" * 300
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"settings\"\r\n\r\n{{}}"
            f"\r\n--{boundary}--\r\n").encode()
    r = asgi_request(APP, "POST", "/api/image", content=body, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 422 and "300 characters" in r.json()["detail"]


# --- §2.1: settings are optional ----------------------------------------------------------


def test_an_upload_without_settings_uses_the_defaults():
    """`curl -F file=@photo.jpg localhost:8000/api/image` was a 422 'settings: Field
    required'; every setting has a default."""
    r = asgi_request(APP, "POST", "/api/image",
                     files={"file": ("photo.png", _png(), "image/png")})
    assert r.status_code == 200, r.text
    answer = r.json()
    expected = ImageSettings().model_dump(mode="json")
    assert {k: v for k, v in answer["settings"].items() if k != "sample"} == {
        k: v for k, v in expected.items() if k != "sample"}
    assert answer["arrays"]["input"]["shape"][:2] == [72, 96]  # 40 x 30 at size 96


def test_no_file_and_no_settings_names_what_is_missing():
    r = asgi_request(APP, "POST", "/api/image", files={"other": (None, "1")})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart"
    boundary = "xx"
    body = f"--{boundary}--\r\n".encode()
    r = asgi_request(APP, "POST", "/api/image", content=body, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 422 and "settings.sample" in r.json()["detail"]


def test_the_docs_say_settings_are_optional():
    schema = asgi_request(APP, "GET", "/openapi.json").json()
    body = schema["paths"]["/api/image"]["post"]["requestBody"]["content"][
        "multipart/form-data"]["schema"]
    assert "settings" not in body.get("required", [])
    assert "default" in body["properties"]["settings"]["description"]


# --- item 6 through the app: max_decode_bytes is a setting ----------------------------------


def test_max_decode_bytes_is_a_setting_named_in_the_413():
    app = create_app(Settings(max_decode_bytes=50 * 2**20))
    files = {"settings": (None, json.dumps({"size": 24, "color": "gray"})),
             "file": ("w.png", hi.png16_zeros(), "image/png")}  # 6324 x 6324 x 2 = 76 MiB
    r = asgi_request(app, "POST", "/api/image", files=files)
    assert r.status_code == 413 and r.json()["code"] == "too_many_bytes"
    detail = r.json()["detail"]
    assert "max_decode_bytes = 52428800" in detail and "CONVSTEP_MAX_DECODE_BYTES" in detail
    assert "2 bytes per pixel" in detail
    assert asgi_request(APP, "POST", "/api/image", files=files).status_code == 200


def test_the_default_decode_bound_is_the_settings_default():
    from app.platform import imaging

    assert Settings().max_decode_bytes == imaging.MAX_DECODE_BYTES
    assert Settings.from_env({"CONVSTEP_MAX_DECODE_BYTES": "2000000"}).max_decode_bytes == 2_000_000


# --- item 8: deep nesting, long integers -----------------------------------------------------


def _raw(route: str, text: str):
    return asgi_request(APP, "POST", f"/api/{route}", content=text.encode(),
                        headers={"content-type": "application/json"})


@pytest.mark.parametrize("route, text, words", [
    ("distribute_value", '{"dz": ' + "[" * 5000 + "]" * 5000 + ', "shape": [2, 2]}',
     ("nests", "too deeply")),
    ("distribute_value", '{"dz": ' + "9" * 5000 + ', "shape": [2, 2]}',
     ("number", "too long", "1e6")),
    ("conv_forward", '{"A_prev": ' + "[" * 3000 + "]" * 3000 + "}", ("too deeply",)),
    ("steps", '{"id": ' + "[" * 5000 + "]" * 5000 + "}", ("too deeply",)),
    ("distribute_value", b"\xff\xfe".decode("latin-1"), ("JSON",)),
])
def test_unreadable_json_is_a_422_that_says_what_is_wrong(route, text, words):
    """Both were 422 "the body is not UTF-8 text"."""
    r = _raw(route, text)
    assert r.status_code == 422, r.text[:300]
    msg = r.json()["detail"][0]["msg"]
    assert r.json()["detail"][0]["type"] == "json_invalid"
    assert "not UTF-8" not in msg or words == ("JSON",)
    for word in words:
        assert word in msg, msg


def test_fastapi_parsed_bodies_say_what_is_wrong_too():
    """A JSON body that FastAPI itself parses (routes outside the array and image routers)
    gets the same words from app/platform/errors.py."""
    from app.platform.errors import json_problem

    assert "too deeply" in json_problem(RecursionError())
    assert "4300 digits" in json_problem(ValueError("Exceeds the limit (4300 digits) for "
                                                    "integer string conversion"))
    assert "UTF-8" in json_problem(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"))


# --- item 10: strict types on the array routes ---------------------------------------------

EXAMPLE = {"A_prev": [[[[1.0], [2.0]], [[3.0], [4.0]]]], "W": [[[[1.0]]]], "b": [[[[0.0]]]],
           "hparameters": {"stride": 1, "pad": 0}}


def _with(path: tuple, value) -> dict:
    body = json.loads(json.dumps(EXAMPLE))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize("path, value", [
    (("A_prev", 0, 0, 0, 0), "1"), (("A_prev", 0, 0, 0, 0), True),
    (("hparameters", "pad"), "3"), (("hparameters", "stride"), True),
    (("hparameters", "pad"), 1.0), (("b", 0, 0, 0, 0), None),
])
def test_array_routes_take_numbers_only(path, value):
    """"1", true and pad "3" were accepted as numbers."""
    r = asgi_request(APP, "POST", "/api/conv_forward", json=_with(path, value))
    assert r.status_code == 422, r.text[:300]
    assert r.json()["detail"][0]["loc"] == ["body", *path]


def test_integers_are_numbers_and_strictness_keeps_other_checks():
    r = asgi_request(APP, "POST", "/api/conv_forward", json=_with(("A_prev", 0, 0, 0, 0), 1))
    assert r.status_code == 200 and r.json()["Z"][0][0][0][0] == 1.0
    r = asgi_request(APP, "POST", "/api/distribute_value", json={"dz": "2", "shape": [2, 2]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dz"]
    r = asgi_request(APP, "POST", "/api/pool_forward", json={
        "A_prev": [[[[1.0]]]], "hparameters": {"stride": 1, "f": 1}, "mode": "maximum"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "mode"]
