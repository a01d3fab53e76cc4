"""Odd and hostile request bodies get a clear 4xx naming the field and the limit, never a
500 (issue 10: items 3, 8, 10 and §2.1). Through the ASGI app in this process."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.main import create_app
from app.schemas.image import ImageSettings

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
    from app import imaging

    assert Settings().max_decode_bytes == imaging.MAX_DECODE_BYTES
    assert Settings.from_env({"CONVSTEP_MAX_DECODE_BYTES": "2000000"}).max_decode_bytes == 2_000_000
