"""A corpus of hostile and odd uploads, made in memory with Pillow, numpy and struct.

Each `Case` says what the server must answer: a status and an error code (and words the
message must contain), or 200 plus a check of the working image it returns. Nothing here
touches the disk.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp",
        "BMP": "image/bmp", "TIFF": "image/tiff"}
# Small working images: every accepted upload still runs the whole layer and backward pass.
SETTINGS = {"size": 24, "color": "gray", "f": 3, "stride": 1, "pad": 1,
            "pool": {"mode": "max", "f": 2, "stride": 2}}


@dataclass
class Case:
    name: str
    data: bytes
    status: int
    code: str | None = None  # the error code for a 4xx
    words: tuple[str, ...] = ()  # words the 4xx message must contain
    settings: dict = field(default_factory=lambda: dict(SETTINGS))
    filename: str = "upload.bin"
    content_type: str = "application/octet-stream"
    check: Callable[[np.ndarray], None] | None = None  # on the 200 answer's input (H, W, C)
    alternatives: tuple[tuple[int, str], ...] = ()  # other acceptable (status, code)


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    return buf.getvalue()


def noise_rgb(w: int = 64, h: int = 48, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def decode_input(answer: dict) -> np.ndarray:
    arr = answer["arrays"]["input"]
    data = np.frombuffer(base64.b64decode(arr["data"]), dtype="<f4")
    return data.reshape(arr["shape"])


# --- hand-made files that declare huge sizes in a few bytes ------------------------------


def png_declaring(width: int, height: int, idat: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def png_zero_bomb(side: int) -> bytes:
    """A real bomb: side x side gray zeros, every row present, deflated to a few dozen KB."""
    z = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    out = [z.compress(row * 256) for _ in range(side // 256)]
    out.append(z.compress(row * (side % 256)))
    out.append(z.flush())
    return png_declaring(side, side, b"".join(out))


def gif_declaring(width: int, height: int) -> bytes:
    """GIF89a whose screen and only frame are width x height, with one tiny LZW block."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # 2-colour table
    palette = b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    lzw = b"\x02" + b"\x02\x4c\x01" + b"\x00"  # min code size 2, one small sub-block
    return header + palette + descriptor + lzw + b";"


def tiff_declaring(width: int, height: int) -> bytes:
    """Little-endian TIFF, 8-bit gray, one deflated strip of a few bytes."""
    strip = zlib.compress(b"\x00" * 16)
    entries = [  # (tag, type, count, value); type 3 SHORT, 4 LONG
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 8),
        (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, height),
        (279, 4, 1, len(strip)),
    ]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_offset
        fmt = "<HHIHH" if typ == 3 else "<HHII"
        ifd += struct.pack(fmt, tag, typ, count, value, 0) if typ == 3 else struct.pack(
            fmt, tag, typ, count, value)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + b"\x00\x00\x00\x00" + strip


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF0 frame header is patched to width x height."""
    data = bytearray(encode(noise_rgb(16, 16), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


# --- small files that decode to wide modes (issue 10, item 6) -----------------------------
# 6324 x 6324 = 39993 976 pixels, just under max_pixels (40 M).
WIDE_SIDE = 6324


def png16_zeros(side: int = WIDE_SIDE) -> bytes:
    """16-bit gray zeros (mode I;16, 2 bytes per decoded pixel): 78 KB at 6324 x 6324."""
    return encode(Image.fromarray(np.zeros((side, side), np.uint16)), "PNG", compress_level=9)


def float_tiff_zeros(side: int = WIDE_SIDE) -> bytes:
    """32-bit float zeros (mode F, 4 bytes per pixel), deflated: 253 KB at 6324 x 6324."""
    return encode(Image.fromarray(np.zeros((side, side), np.float32)), "TIFF",
                  compression="tiff_adobe_deflate")


def rgba_png(side: int = WIDE_SIDE) -> bytes:
    """Half-transparent black RGBA (4 bytes per pixel): 169 KB at 6324 x 6324."""
    return encode(Image.new("RGBA", (side, side), (0, 0, 0, 128)), "PNG", compress_level=9)


def palette_png_transparent(side: int = WIDE_SIDE) -> bytes:
    """Palette zeros with index 0 transparent (1 byte per pixel, RGBA when converted)."""
    return encode(Image.new("P", (side, side)), "PNG", compress_level=9, transparency=0)


# --- checks on a 200 ----------------------------------------------------------------------


def expect_shape(h: int, w: int, c: int = 1) -> Callable[[np.ndarray], None]:
    def check(a: np.ndarray) -> None:
        assert a.shape == (h, w, c), a.shape
        assert np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1

    return check


def expect_values(expected: np.ndarray, tol: float = 0.5 / 255) -> Callable[[np.ndarray], None]:
    """The working image equals `expected` (H, W) or (H, W, C) uint8 values."""
    exp = expected.astype(np.float64) / 255
    if exp.ndim == 2:
        exp = exp[:, :, None]

    def check(a: np.ndarray) -> None:
        assert a.shape == exp.shape, (a.shape, exp.shape)
        np.testing.assert_allclose(a, exp, atol=tol)

    return check


# The result each EXIF orientation must give for a stored (H, W) picture, written with numpy
# independently of Pillow: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90
# clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
ORIENT = {
    1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.T, 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).T,
    8: lambda a: np.rot90(a, 1),
}


def exif_case(orientation: int) -> Case:
    stored = (np.arange(6, dtype=np.uint8).reshape(2, 3) * 40 + 10)  # (H=2, W=3), all distinct
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(stored, "L"), "PNG", exif=exif.tobytes())
    settings = {**SETTINGS, "size": 3, "pool": None}  # longest side 3: no scaling, exact values
    return Case(f"exif_orientation_{orientation}", data, 200, settings=settings,
                filename="o.png", content_type="image/png",
                check=expect_values(ORIENT[orientation](stored)))


def corpus() -> list[Case]:
    cases: list[Case] = []
    broken = ("file:",)
    for fmt in FORMATS:
        good = encode(noise_rgb(seed=FORMATS.index(fmt)), fmt)
        ext = fmt.lower()
        # Cut in half: the header reads, the pixels do not.
        cases.append(Case(f"truncated_{ext}", good[: len(good) // 2], 422, "broken_image",
                          broken, filename=f"t.{ext}", content_type=MIME[fmt],
                          alternatives=((415, "unsupported_image"),)))
        # Only the signature survives: nothing after the first 12 bytes.
        cases.append(Case(f"signature_only_{ext}", good[:12], 422, "broken_image", broken,
                          filename=f"s.{ext}", content_type=MIME[fmt],
                          alternatives=((415, "unsupported_image"),)))
        # The header kept, the data after it overwritten with noise: a clear 4xx, or a
        # (garbled) picture of the right size when the format has no checksum.
        rng = np.random.default_rng(7)
        keep = min(64, len(good) // 4)
        corrupt = good[:keep] + rng.integers(0, 256, len(good) - keep, dtype=np.uint8).tobytes()
        cases.append(Case(f"corrupt_{ext}", corrupt, 422, "broken_image", broken,
                          filename=f"c.{ext}", content_type=MIME[fmt],
                          alternatives=((415, "unsupported_image"), (200, "")),
                          check=expect_shape(18, 24)))
        # 1 x 1 in every format: scaled up to the working size.
        cases.append(Case(f"one_pixel_{ext}", encode(Image.new("RGB", (1, 1), (200, 200, 200)),
                                                      fmt), 200,
                          filename=f"p.{ext}", content_type=MIME[fmt],
                          check=expect_shape(24, 24)))
    side = 100_000
    cases += [
        Case("bomb_png_header", png_declaring(side, side), 413, "too_many_pixels",
             ("max_pixels",)),
        Case("bomb_png_real_zeros_7000", png_zero_bomb(7000), 413, "too_many_pixels",
             ("7000 x 7000", "max_pixels")),
        Case("bomb_gif_65535", gif_declaring(65535, 65535), 413, "too_many_pixels",
             ("max_pixels",)),
        Case("bomb_tiff", tiff_declaring(side, side), 413, "too_many_pixels", ("max_pixels",)),
        Case("bomb_jpeg_sof", jpeg_declaring(65000, 65000), 413, "too_many_pixels",
             ("max_pixels",)),
        # A 16 x 16 JPEG whose header claims 6000 x 6000 (36 Mpx, under max_pixels): libjpeg
        # would invent the missing blocks; the data cannot cover the declared size.
        Case("truncated_jpeg_declaring_6000", jpeg_declaring(6000, 6000), 422,
             "broken_image", ("truncated", "6000 x 6000")),
        # Under max_pixels but wide: 2 bytes per pixel fits max_decode_bytes, 4 does not.
        Case("bomb_png16_6324", png16_zeros(), 200, check=expect_values(
             np.zeros((24, 24), np.uint8))),
        Case("bomb_float_tiff_6324", float_tiff_zeros(), 413, "too_many_bytes",
             ("6324 x 6324", "mode F", "4 bytes per pixel", "max_decode_bytes")),
        Case("bomb_rgba_png_6324", rgba_png(), 413, "too_many_bytes",
             ("mode RGBA", "max_decode_bytes")),
        Case("bomb_palette_png_6324", palette_png_transparent(), 200,
             check=expect_values(np.full((24, 24), 255, np.uint8))),
        Case("zero_bytes", b"", 422, "empty_file", ("empty",), filename="empty.png",
             content_type="image/png"),
        Case("text_named_png", b"hello, this is not a picture\n" * 4, 415, "unsupported_image",
             ("PNG, JPEG, GIF, WebP, BMP or TIFF",), filename="cat.png",
             content_type="image/png"),
        Case("svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', 415,
             "unsupported_image", ("not an image",), filename="x.svg",
             content_type="image/svg+xml"),
        Case("pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", 415,
             "unsupported_image", (), filename="x.pdf", content_type="application/pdf"),
        Case("png_named_jpg_sent_as_text",
             encode(Image.new("L", (4, 4), 128), "PNG"), 200, filename="photo.jpg",
             content_type="text/plain", settings={**SETTINGS, "size": 4, "pool": None},
             check=expect_values(np.full((4, 4), 128, np.uint8))),
        Case("animated_gif_first_frame", _animated_gif(), 200,
             settings={**SETTINGS, "size": 8, "pool": None}, filename="a.gif",
             content_type="image/gif", check=expect_values(np.full((8, 8), 30, np.uint8))),
        Case("sixteen_bit_png", encode(Image.fromarray(
             np.full((6, 6), 65535, np.uint16)), "PNG"), 200,
             settings={**SETTINGS, "size": 6, "pool": None},
             check=expect_values(np.full((6, 6), 255, np.uint8))),
        Case("sixteen_bit_tiff", encode(Image.fromarray(
             np.full((6, 6), 32896, np.uint16)), "TIFF"), 200,
             settings={**SETTINGS, "size": 6, "pool": None},
             check=expect_values(np.full((6, 6), 128, np.uint8))),
        Case("cmyk_jpeg", encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG",
                                 quality=95), 200,
             settings={**SETTINGS, "size": 8, "color": "rgb", "pool": None},
             check=_near_rgb((255, 0, 0))),
        Case("cmyk_tiff", encode(Image.new("CMYK", (8, 8), (255, 0, 255, 0)), "TIFF"), 200,
             settings={**SETTINGS, "size": 8, "color": "rgb", "pool": None},
             check=_near_rgb((0, 255, 0))),
        Case("palette_transparency_png", _palette_transparent(), 200,
             settings={**SETTINGS, "size": 4, "color": "rgb", "pool": None},
             check=expect_values(np.array([[[255, 255, 255]] * 4, [[0, 0, 255]] * 4] * 2,
                                          np.uint8))),
        # Smaller than the kernel: core's geometry error, or fine once padded.
        Case("smaller_than_kernel", encode(Image.new("L", (2, 2), 50), "PNG"), 422,
             "geometry", ("f",), settings={**SETTINGS, "size": 2, "f": 5, "pad": 0,
                                           "pool": None}),
        Case("smaller_than_kernel_padded", encode(Image.new("L", (2, 2), 50), "PNG"), 200,
             settings={**SETTINGS, "size": 2, "f": 5, "pad": 2, "pool": None},
             check=expect_values(np.full((2, 2), 50, np.uint8))),
        Case("one_pixel_no_pad", encode(Image.new("L", (1, 1), 9), "PNG"), 422, "geometry",
             (), settings={**SETTINGS, "size": 1, "pad": 0, "pool": None}),
        Case("one_pixel_at_size_1", encode(Image.new("L", (1, 1), 9), "PNG"), 200,
             settings={**SETTINGS, "size": 1, "pad": 1, "pool": None},
             check=expect_values(np.full((1, 1), 9, np.uint8))),
    ]
    cases += [exif_case(o) for o in range(1, 9)]
    return cases


def _animated_gif() -> bytes:
    frames = [Image.new("L", (8, 8), v) for v in (30, 200, 90)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50,
                  loop=0)


def _palette_transparent() -> bytes:
    """4x4 palette PNG: rows alternate a transparent index (-> white) and opaque blue."""
    im = Image.new("P", (4, 4))
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.putdata([0] * 4 + [1] * 4 + [0] * 4 + [1] * 4)
    return encode(im, "PNG", transparency=0)


def _near_rgb(rgb: tuple[int, int, int]) -> Callable[[np.ndarray], None]:
    def check(a: np.ndarray) -> None:
        assert a.shape == (8, 8, 3)
        np.testing.assert_allclose(a.mean(axis=(0, 1)) * 255, rgb, atol=12)

    return check
