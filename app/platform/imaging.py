"""Uploaded bytes -> the working image: a (H, W, C) uint8 array whose longest side is `size`.

Pillow decodes PNG, JPEG, GIF (first frame), WebP, BMP and TIFF from memory (nothing is
written to disk). EXIF orientation is applied; transparency is composited on white;
16-bit, palette, CMYK and other modes are converted to 8-bit gray or RGB. The declared
size is checked against `max_pixels` right after the header is read and before any pixel is
decoded (Pillow's decompression-bomb error and warning end in the same 413).

Memory is bounded by bytes, not only by pixels. Pillow stores a decoded image with 1 byte
per pixel (modes 1, L, P), 2 (16-bit gray, I;16) or 4 (everything else: RGB, RGBA, LA,
CMYK, 32-bit I and F). A JPEG is decoded already scaled down by 1/2, 1/4 or 1/8 where
the working size allows (libjpeg's "draft" mode). `decoded_bytes` = width x height x bytes
per pixel of what will be decoded is checked against `max_decode_bytes` before decoding
(413 beyond it): a lower pixel limit for the wide modes. The decoded image is the only
full-size allocation: it is then converted to 8 bits and box-reduced tile by tile (each
tile about 512 x 512 pixels, whatever its mode), so a conversion (16-bit to 8-bit, alpha on
white, CMYK to RGB) never holds a second full-size copy. Decoding one upload therefore
costs about `decoded_bytes` plus a few tens of MB (tests/hardening/test_decode_memory.py).

A JPEG whose header declares more pixels than its compressed data can possibly hold (at
least two bits per 8 x 8 block of each component in a sequential Huffman-coded JPEG, one
in a progressive one; see jpeg_shortfall) is refused as truncated: libjpeg would fill
the missing blocks with an invented flat picture.

The working image goes into the layer as float64 values x / 255 in [0, 1].
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import warnings

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from app.platform.errors import ApiError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
ACCEPTED = "PNG, JPEG, GIF, WebP, BMP or TIFF"
# The default of Settings.max_decode_bytes (app/platform/config.py): a 25 Mpx RGB (4 bytes per
# pixel), a 50 Mpx 16-bit or any 8-bit gray or palette image up to max_pixels.
MAX_DECODE_BYTES = 96 * 1024 * 1024
# Pixels of one tile while converting and reducing (a multiple of the reduction factor).
TILE = 512
# Pillow's rule for resize(..., reducing_gap=3.0): box-reduce by int(src / dst / 3) first.
REDUCING_GAP = 3.0

# Pillow warns above its own pixel bound and raises above twice that. A warning would let a
# bomb through to decoding, so it is an error here, process-wide and on purpose: both end in
# the same 413. (Our own max_pixels check right after the header is normally the lower one.)
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def bytes_per_pixel(mode: str) -> int:
    """Bytes of Pillow's storage per pixel: 1 for 1/L/P, 2 for I;16*, 4 for the rest."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def _bomb(width: int, height: int, max_pixels: int) -> ApiError:
    return ApiError(
        413, "too_many_pixels",
        f"file: the image is {width} x {height} = {width * height} pixels; the limit is "
        f"max_pixels = {max_pixels} (CONVSTEP_MAX_PIXELS).")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse oversized images before decoding."""
    if not data:
        raise ApiError(422, "empty_file", "file: the upload is empty (0 bytes).")
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ApiError(413, "too_many_pixels",
                       f"file: the image declares more pixels than allowed ({exc}); "
                       f"the limit is max_pixels = {max_pixels} (CONVSTEP_MAX_PIXELS).") from None
    except UnidentifiedImageError:
        raise ApiError(415, "unsupported_image",
                       f"file: not an image this server reads; send {ACCEPTED}.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ApiError(422, "broken_image",
                       f"file: the image header cannot be read ({exc}).") from None
    if im.width < 1 or im.height < 1:
        raise ApiError(422, "broken_image", f"file: the image is {im.width} x {im.height}.")
    if im.width * im.height > max_pixels:
        raise _bomb(im.width, im.height, max_pixels)
    return im


def _prepare(im: Image.Image, size: int, color: str, max_decode_bytes: int) -> int:
    """Set up JPEG draft decoding and check the decoded bytes; returns them (413 beyond)."""
    if im.format in ("JPEG", "MPO"):
        # Let libjpeg scale down by 1/2, 1/4 or 1/8 while decoding (never below the
        # working size): much faster for large photos, the same quality.
        im.draft("RGB" if color == "rgb" else "L", (size, size))
    bpp = bytes_per_pixel(im.mode)
    n = im.width * im.height * bpp
    if n > max_decode_bytes:
        raise ApiError(
            413, "too_many_bytes",
            f"file: the image is {im.width} x {im.height} pixels in mode {im.mode} ({bpp} "
            f"bytes per pixel) and decodes to {n} bytes; the limit is max_decode_bytes = "
            f"{max_decode_bytes} (CONVSTEP_MAX_DECODE_BYTES): send a smaller image, or an "
            "8-bit or JPEG one.")
    return n


def probe(data: bytes, *, size: int, color: str, max_pixels: int,
          max_decode_bytes: int = MAX_DECODE_BYTES) -> tuple[int, int, int]:
    """(width, height, decoded bytes) that decode() of `data` will meet, from the header
    only (the same 4xx as decode() for a file it refuses at the header)."""
    with _open(data, max_pixels) as im:
        width, height = im.size
        return width, height, _prepare(im, size, color, max_decode_bytes)


def decoded_bytes(data: bytes, *, size: int, color: str, max_pixels: int,
                  max_decode_bytes: int = MAX_DECODE_BYTES) -> int:
    """Bytes that decode() of `data` allocates for the decoded image, from its header only."""
    return probe(data, size=size, color=color, max_pixels=max_pixels,
                 max_decode_bytes=max_decode_bytes)[2]


# --- JPEG: does the compressed data cover the declared pixels? -------------------------------

# A marker ends entropy-coded data: 0xFF followed by anything but 0x00 (stuffing), RST0-7.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOF_HUFFMAN = {0xC0, 0xC1, 0xC2}  # baseline, extended sequential, progressive (Huffman)
_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_shortfall(data: bytes) -> tuple[int, int, int, int] | None:
    """(width, height, scan bytes, least possible scan bytes) of a Huffman-coded JPEG whose
    scans are too short for its declared size, else None.

    Every 8 x 8 block of every component is coded at least once with Huffman codes of at
    least one bit each: in a sequential JPEG a DC code plus an end-of-block code (or a last
    AC coefficient), 2 bits at least; in a progressive one the DC scan's code, 1 bit at
    least. So the scans of a width x height JPEG hold at least ceil(bits * blocks / 8)
    bytes, blocks = sum over components of ceil(w_i / 8) * ceil(h_i / 8) for its w_i x h_i
    samples (w_i = ceil(width * h_i / h_max)). Arithmetic-coded and lossless JPEGs are not
    checked.
    """
    i, n = 2, len(data)
    frame = None
    scan_bytes = 0
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None  # not a marker where one must be: leave it to the decoder
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        (length,) = struct.unpack_from(">H", data, i + 2)
        segment = data[i + 4:i + 2 + length]
        if marker in _SOF_OTHER:
            return None
        if marker in _SOF_HUFFMAN and frame is None:
            frame = _frame_blocks(segment, bits=1 if marker == 0xC2 else 2)
            if frame is None:
                return None
        i += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data follows until the next marker
            end = _SCAN_END.search(data, i)
            stop = n if end is None else end.start()
            scan_bytes += stop - i
            i = stop
    if frame is None:
        return None
    width, height, least_bits = frame
    least = math.ceil(least_bits / 8)
    return (width, height, scan_bytes, least) if scan_bytes < least else None


def _frame_blocks(sof: bytes, bits: int) -> tuple[int, int, int] | None:
    """(width, height, least bits of its scans) from a SOF segment (after its length)."""
    if len(sof) < 6:
        return None
    height, width, ncomp = struct.unpack_from(">HHB", sof, 1)
    sampling = [sof[7 + 3 * k] for k in range(ncomp) if 8 + 3 * k < len(sof)]
    if not sampling or len(sampling) != ncomp or width == 0 or height == 0:
        return None
    hmax = max(c >> 4 for c in sampling) or 1
    vmax = max(c & 15 for c in sampling) or 1
    blocks = sum(math.ceil(math.ceil(width * (c >> 4) / hmax) / 8)
                 * math.ceil(math.ceil(height * (c & 15) / vmax) / 8) for c in sampling)
    return width, height, bits * blocks


# --- decoding ---------------------------------------------------------------------------------


def _to_8bit(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> "L" or "RGB" (alpha composited on white)."""
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("L", "RGB") and "transparency" in im.info:
        im = im.convert("RGBA")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode.startswith("I") or im.mode == "F":
        # 16-bit and 32-bit integer images (I;16, I;16B, I) are read as 0..65535; float
        # images (F) as 0..1. Both are rounded to 8 bits like every other input.
        a = np.array(im, dtype=np.float64)  # (h, w), a tile: in place from here on
        a *= 255.0 if im.mode == "F" else 255.0 / 65535.0
        np.rint(a, out=a)
        np.clip(a, 0, 255, out=a)
        im = Image.fromarray(a.astype(np.uint8), "L")
    elif im.mode not in ("L", "RGB", "LA", "RGBA", "PA", "La", "RGBa"):
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    if im.mode in ("La", "RGBa"):
        im = im.convert(im.mode.upper())
    if im.mode == "PA":
        im = im.convert("RGBA")
    if im.mode in ("LA", "RGBA"):
        base = Image.new(im.mode[:-1], im.size, "white")
        base.paste(im.convert(im.mode[:-1]), mask=im.getchannel("A"))
        im = base
    return im


def working_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(w, h) with the longer side equal to `size`, the aspect ratio kept, each side >= 1."""
    if width >= height:
        return size, max(1, round(height * size / width))
    return max(1, round(width * size / height)), size


def _reduced(im: Image.Image, mode: str, fx: int, fy: int) -> Image.Image:
    """`im` converted to 8-bit `mode` and box-reduced by (fx, fy), one tile at a time: the
    same pixels as im.convert(mode).reduce((fx, fy)), without a second full-size copy."""
    w, h = im.size
    out = Image.new(mode, (math.ceil(w / fx), math.ceil(h / fy)))
    tw = fx * max(1, TILE // fx)  # tiles are whole reduction blocks
    th = fy * max(1, TILE // fy)
    for top in range(0, h, th):
        for left in range(0, w, tw):
            tile = _to_8bit(im.crop((left, top, min(w, left + tw), min(h, top + th))))
            if tile.mode != mode:
                tile = tile.convert(mode)
            if fx > 1 or fy > 1:
                tile = tile.reduce((fx, fy))
            out.paste(tile, (left // fx, top // fy))
    return out


def decode(data: bytes, *, size: int, color: str, max_pixels: int,
           max_decode_bytes: int = MAX_DECODE_BYTES) -> np.ndarray:
    """The working image (H, W, C) uint8 of an uploaded file; C = 1 for gray, 3 for rgb.

    Raises ApiError: 415 not an image, 422 truncated/broken, 413 too many pixels or bytes.
    """
    im = _open(data, max_pixels)
    mode = "RGB" if color == "rgb" else "L"
    try:
        _prepare(im, size, color, max_decode_bytes)
        if im.format in ("JPEG", "MPO"):
            short = jpeg_shortfall(data)
            if short is not None:
                w, h, got, least = short
                raise ApiError(422, "broken_image",
                               f"file: the JPEG is truncated: its header declares {w} x {h} "
                               f"pixels, which need at least {least} bytes of compressed "
                               f"data, but it holds {got}.")
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
        transpose = _ORIENT.get(orientation)
        im.load()  # the one full-size allocation: decoded_bytes
        w, h = im.size
        swap = transpose in (Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
                             Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)
        tw, th = working_size(h, w, size)[::-1] if swap else working_size(w, h, size)
        fx = int(w / tw / REDUCING_GAP) or 1
        fy = int(h / th / REDUCING_GAP) or 1
        small = _reduced(im, mode, fx, fy)
        im.close()
        del im
        box = (0, 0, w / fx, h / fy)
        if small.size != (tw, th) or box != (0, 0, *small.size):
            small = small.resize((tw, th), Image.Resampling.LANCZOS, box=box)
        if transpose is not None:
            small = small.transpose(transpose)
        arr = np.asarray(small, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ApiError(413, "too_many_pixels", f"file: {exc}; the limit is max_pixels = "
                       f"{max_pixels} (CONVSTEP_MAX_PIXELS).") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ApiError(422, "broken_image", f"file: the image data cannot be decoded, it may "
                       f"be truncated or corrupt ({exc}).") from None
    if arr.ndim == 2:
        arr = arr[:, :, None]  # (H, W, 1)
    return np.ascontiguousarray(arr)


def image_id(arr: np.ndarray) -> str:
    """Content hash of a working image (its shape and bytes)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def source_digest(data: bytes) -> str:
    """Hash of the uploaded bytes (to skip decoding the same upload again)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()
