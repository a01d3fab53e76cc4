"""Uploads: every accepted format and mode decodes to the right working image; everything
else gets a clear 4xx. Images are made in memory with Pillow."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from apptools import decode_arr, encode_image, gradient_rgb
from PIL import Image

from app.platform import imaging

SETTINGS = {"size": 20, "filters": [{"preset": "identity"}], "pool": None}


def _input(client, data: bytes, **settings) -> np.ndarray:
    r = client.image({**SETTINGS, **settings}, data)
    assert r.status_code == 200, r.text
    return decode_arr(r.json()["arrays"]["input"])


@pytest.mark.parametrize("fmt, params", [
    ("PNG", {}), ("JPEG", {"quality": 95}), ("GIF", {}), ("WEBP", {"lossless": True}),
    ("BMP", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}),
])
def test_every_format_decodes_to_the_working_size(client, fmt, params):
    im = gradient_rgb(40, 30)
    x = _input(client, encode_image(im, fmt, **params))
    assert x.shape == (15, 20, 3)  # 40 x 30 scaled so the longest side is 20
    assert x.min() >= 0 and x.max() <= 1
    # Red grows to the right and green downwards in every format.
    assert x[7, -1, 0] > x[7, 0, 0] + 0.5
    assert x[-1, 10, 1] > x[0, 10, 1] + 0.5


def test_lossless_png_gives_exact_values(client):
    arr = (np.arange(20 * 20 * 3) % 256).astype(np.uint8).reshape(20, 20, 3)
    x = _input(client, encode_image(Image.fromarray(arr, "RGB"), "PNG"))
    np.testing.assert_array_equal(x, (arr / 255).astype(np.float32))  # no resize at 20


def test_gray_request_of_an_rgb_image_and_rgb_of_a_gray_one(client):
    rgb = encode_image(gradient_rgb(20, 20), "PNG")
    gray = _input(client, rgb, color="gray")
    assert gray.shape == (20, 20, 1)
    lum = np.asarray(gradient_rgb(20, 20).convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(gray[..., 0], lum, atol=1e-6)
    l_png = encode_image(Image.fromarray(np.full((20, 20), 77, np.uint8), "L"), "PNG")
    x = _input(client, l_png)
    assert x.shape == (20, 20, 3) and np.all(x == np.float32(77 / 255))


@pytest.mark.parametrize("mode, fmt", [("RGBA", "PNG"), ("LA", "PNG"), ("RGBA", "WEBP"),
                                       ("RGBA", "TIFF")])
def test_transparency_is_composited_on_white(client, mode, fmt):
    base = Image.new("RGBA", (20, 20), (255, 0, 0, 255))
    base.paste((0, 0, 0, 0), (0, 0, 10, 20))  # left half fully transparent black
    im = base.convert(mode)
    params = {"lossless": True} if fmt == "WEBP" else {}
    x = _input(client, encode_image(im, fmt, **params))
    np.testing.assert_allclose(x[:, :10], 1.0)  # transparent -> white
    assert np.all(x[:, 10:, 0] > 0.2)  # opaque red (or its gray) stays


def test_palette_with_transparency_index(client):
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (10, 0, 20, 20))
    data = encode_image(im, "PNG", transparency=0)
    x = _input(client, data)
    np.testing.assert_allclose(x[:, :10], 1.0)  # index 0 is transparent -> white
    np.testing.assert_array_equal(x[:, 10:], np.broadcast_to(np.float32([0, 1, 0]), (20, 10, 3)))


def test_palette_gif_animated_uses_the_first_frame(client):
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 255, 255), (0, 0, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    x = _input(client, buf.getvalue())
    np.testing.assert_allclose(x, 1.0)


def test_one_bit_image(client):
    im = Image.new("1", (20, 20), 0)
    im.paste(1, (0, 0, 20, 10))
    x = _input(client, encode_image(im, "PNG"), color="gray")
    np.testing.assert_array_equal(x[:10, :, 0], 1.0)
    np.testing.assert_array_equal(x[10:, :, 0], 0.0)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_gray_is_scaled_to_eight_bits(client, fmt):
    arr = np.full((20, 20), 65535, np.uint16)
    arr[10:] = 257 * 100  # 100 in 8 bits
    im = Image.fromarray(arr)  # mode I;16
    assert im.mode.startswith("I")
    x = _input(client, encode_image(im, fmt), color="gray")
    np.testing.assert_allclose(x[:10, :, 0], 1.0)
    np.testing.assert_allclose(x[10:, :, 0], np.float32(100 / 255))


def test_cmyk_jpeg_is_converted(client):
    im = Image.new("CMYK", (20, 20), (0, 255, 255, 0))  # pure red in CMYK
    x = _input(client, encode_image(im, "JPEG", quality=95))
    assert x.shape == (20, 20, 3)
    assert x[..., 0].mean() > 0.9 and x[..., 1].mean() < 0.1 and x[..., 2].mean() < 0.1


@pytest.mark.parametrize("orientation, shape", [(1, (10, 20, 3)), (3, (10, 20, 3)),
                                                (6, (20, 10, 3)), (8, (20, 10, 3))])
def test_exif_orientation_is_applied(client, orientation, shape):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = 255  # white on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode_image(Image.fromarray(arr, "RGB"), "JPEG", quality=95, exif=exif.tobytes())
    x = _input(client, data)
    assert x.shape == shape
    if orientation == 6:  # rotate 90 clockwise: the stored left becomes the top
        assert x[:5].mean() > 0.9 and x[-5:].mean() < 0.1
    if orientation == 3:  # 180: the white half moves to the right
        assert x[:, -5:].mean() > 0.9 and x[:, :5].mean() < 0.1


def test_small_images_are_scaled_up_to_the_working_size(client):
    x = _input(client, encode_image(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG"))
    assert x.shape == (20, 20, 3)
    np.testing.assert_allclose(x[..., 0], 1.0)


def test_upload_never_touches_the_disk(client, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError("an upload must not be written to disk")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    big = np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    data = encode_image(Image.fromarray(big, "RGB"), "PNG")
    assert len(data) > 1024 * 1024  # above Starlette's 1 MiB spool threshold
    assert client.image(SETTINGS, data).status_code == 200


# --- refusals -------------------------------------------------------------------------------


def test_text_file_is_415(client):
    r = client.image(SETTINGS, b"hello, I am not an image", filename="x.png")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_image"
    assert "PNG, JPEG, GIF, WebP, BMP or TIFF" in r.json()["detail"]


def test_unsupported_image_format_is_415(client):
    data = encode_image(gradient_rgb(), "PPM")
    r = client.image(SETTINGS, data, filename="x.ppm", content_type="image/x-portable-pixmap")
    assert r.status_code == 415


def test_empty_file_is_422(client):
    r = client.image(SETTINGS, b"", filename="empty.png")
    assert r.status_code == 422
    assert r.json()["code"] == "empty_file"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_truncated_files_are_422(client, fmt):
    rng = np.random.default_rng(1)
    im = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    data = encode_image(im, fmt)
    r = client.image(SETTINGS, data[: len(data) // 2])
    assert r.status_code in (415, 422), r.text
    assert r.json()["code"] in ("broken_image", "unsupported_image")


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares width x height (1-bit gray) with a few bytes of data."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_too_many_pixels_is_413_before_decoding(make_client):
    client = make_client(max_pixels=10_000)
    r = client.image(SETTINGS, _png_header_only(200, 100))
    assert r.status_code == 413
    assert r.json()["code"] == "too_many_pixels"
    assert "200 x 100 = 20000 pixels" in r.json()["detail"]
    assert "max_pixels = 10000" in r.json()["detail"]


def test_decompression_bomb_is_413(client):
    # 100000 x 100000 declared in a few hundred bytes: far past Pillow's own bound too.
    r = client.image(SETTINGS, _png_header_only(100_000, 100_000))
    assert r.status_code == 413
    assert r.json()["code"] == "too_many_pixels"


def test_pillow_bomb_checks_end_in_413(make_client):
    # Our limit above Pillow's: Pillow's warning and error become the same 413.
    client = make_client(max_pixels=1_000_000_000)
    for side in (10_000, 20_000):  # 1e8 (Pillow warns), 4e8 (Pillow raises)
        r = client.image(SETTINGS, _png_header_only(side, side))
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "too_many_pixels"


def test_file_over_the_byte_limit_is_413(make_client):
    client = make_client(max_upload_bytes=2048)
    big = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode_image(Image.fromarray(big, "RGB"), "BMP")
    assert len(data) > 2048 + 64 * 1024 or len(data) > 2048
    r = client.image(SETTINGS, data)
    assert r.status_code == 413
    assert "max_upload_bytes = 2048" in r.json()["detail"]


def test_the_image_id_does_not_depend_on_the_format(client):
    arr = (np.arange(20 * 20 * 3) % 256).astype(np.uint8).reshape(20, 20, 3)
    ids = {client.image(SETTINGS, encode_image(Image.fromarray(arr, "RGB"), f)).json()["id"]
           for f in ("PNG", "BMP", "TIFF")}
    assert ids == {imaging.image_id(arr)}
