"""Every route that takes a file reads it with one read_upload and says its own upload
limit (issue 15: a 9 MB photo to /api/network/run/photo was refused in the JSON body
limit's words, max_json_bytes, while /api/image took it; the weights, filters and diagnose
routes said the same)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

MIB = 2**20
FILE_ROUTES = {  # route -> (the limit's words, its form fields)
    "/api/image": ("max_upload_bytes", {"file": ("p.bmp",)}),
    "/api/network/run/photo": ("max_upload_bytes", {"file": ("p.bmp",)}),
    "/api/network/weights": ("max_weights_bytes", {"file": ("w.npz",)}),
    "/api/filters": ("max_weights_bytes", {"file": ("w.npz",)}),
    "/api/learn/conv_forward/diagnose?case=gray_s2_p1": ("65536 bytes", {"file": ("o.npy",)}),
}


def _photo_of_a_one(width: int) -> bytes:
    """An uncompressed BMP of a dark bar on white paper: about 3 * width**2 bytes."""
    im = Image.new("RGB", (width, width), "white")
    im.paste((0, 0, 0), (width * 7 // 16, width // 8, width * 9 // 16, width * 7 // 8))
    buf = io.BytesIO()
    im.save(buf, "BMP")
    return buf.getvalue()


def test_a_9_mb_photo_is_read_by_the_photo_route_as_by_the_image_route(client):
    photo = _photo_of_a_one(1740)
    assert 9 * 10**6 < len(photo) < 10 * MIB  # under max_upload_bytes, over max_json_bytes
    r = client.post("/api/network/run/photo", files={"file": ("one.bmp", photo, "image/bmp")},
                    timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["forward"]["prediction"] == 1
    r = client.image({"size": 32}, photo, filename="one.bmp", content_type="image/bmp")
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("route", FILE_ROUTES)
def test_a_file_over_its_routes_limit_is_refused_in_that_limits_words(make_client, route):
    client = make_client(max_upload_bytes=4096)
    words, _ = FILE_ROUTES[route]
    size = {"max_upload_bytes": 4096, "max_weights_bytes": MIB, "65536 bytes": 65536}[words]
    # the file just over the limit (the form fits): file_too_large, naming the limit
    r = client.post(route, files={"file": ("f.bin", b"\0" * (size + 1))})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "file_too_large"
    assert r.json()["detail"].startswith(f"file is {size + 1} bytes; the limit is {words}")
    # a body past the file and its form: refused before it is read, naming the limit (the
    # route's read_upload, or for the largest limit BodyLimitMiddleware, naming them all)
    r = client.post(route, files={"file": ("f.bin", b"\0" * (size + 70_000))})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "body_too_large"
    detail = r.json()["detail"]
    assert "a file of at most " in detail and words in detail, detail
    assert "plus 65536 bytes for the form" in detail and "max_json_bytes" not in detail


@pytest.mark.parametrize("route", FILE_ROUTES)
def test_a_body_past_every_upload_limit_names_them_not_the_json_limit(client, route):
    r = client.post(route, files={"file": ("f.bin", b"\0" * (11 * MIB))})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "body_too_large"
    detail = r.json()["detail"]
    assert ("a file of at most max_upload_bytes = 10485760 (CONVSTEP_MAX_UPLOAD_BYTES) or "
            "max_weights_bytes = 1048576 (CONVSTEP_NET_MAX_WEIGHTS_BYTES)") in detail, detail
    assert "max_json_bytes" not in detail


@pytest.mark.parametrize("route, fields", [
    ("/api/image", "an optional 'settings' field (JSON text) and an optional 'file' field"),
    ("/api/network/run/photo", "a 'file' field and an optional 'settings' field (JSON text)"),
    ("/api/network/weights", "a 'file' field"),
    ("/api/filters", "a 'file' field"),
    ("/api/learn/conv_forward/diagnose?case=gray_s2_p1", "a 'file' field"),
])
def test_not_multipart_is_415_naming_the_routes_fields(client, route, fields):
    r = client.post(route, content=b"x", headers={"content-type": "application/octet-stream"})
    assert r.status_code == 415, r.text
    assert r.json() == {"code": "unsupported_media_type", "detail": (
        f"Send multipart/form-data with {fields}; got Content-Type "
        "'application/octet-stream'.")}
    r = client.post(route, files={"other": ("a", b"b")})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart", r.text
    assert f"send {fields}" in r.json()["detail"]
