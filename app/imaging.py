"""Uploaded bytes -> the working image: a (H, W, C) uint8 array whose longest side is `size`.

Pillow decodes PNG, JPEG, GIF (first frame), WebP, BMP and TIFF from memory (nothing is
written to disk). EXIF orientation is applied; transparency is composited on white;
16-bit, palette, CMYK and other modes are converted to 8-bit gray or RGB. The declared
size is checked against `max_pixels` right after the header is read and before any pixel is
decoded (Pillow's decompression-bomb error and warning end in the same 413).

The working image goes into the layer as float64 values x / 255 in [0, 1].
"""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
ACCEPTED = "PNG, JPEG, GIF, WebP, BMP or TIFF"

# Pillow warns above its own pixel bound and raises above twice that. A warning would let a
# bomb through to decoding, so it is an error here, process-wide and on purpose: both end in
# the same 413. (Our own max_pixels check right after the header is normally the lower one.)
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


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
        a = np.asarray(im, dtype=np.float64)
        scale = 255.0 if im.mode == "F" else 255.0 / 65535.0
        im = Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8), "L")
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


def decode(data: bytes, *, size: int, color: str, max_pixels: int) -> np.ndarray:
    """The working image (H, W, C) uint8 of an uploaded file; C = 1 for gray, 3 for rgb.

    Raises ApiError: 415 not an image, 422 truncated/broken, 413 too many pixels.
    """
    im = _open(data, max_pixels)
    try:
        if im.format == "JPEG":
            # Let libjpeg scale down by 1/2, 1/4 or 1/8 while decoding (never below the
            # working size): much faster for large photos, the same quality.
            im.draft("RGB" if color == "rgb" else "L", (size, size))
        im = ImageOps.exif_transpose(im)
        im = _to_8bit(im)
        im = im.convert("RGB" if color == "rgb" else "L")
        target = working_size(im.width, im.height, size)
        if target != im.size:
            im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        arr = np.asarray(im, dtype=np.uint8)
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
