"""Animated GIF and APNG written one frame at a time, from palette-index frames.

Pillow's save_all keeps every frame in memory until the end (frames x width x height bytes:
200 MB for a 28 x 28 convolution); here only the previous frame is kept, and each frame after
the first is stored as the smallest rectangle that changed, its unchanged pixels set to a
transparent palette index `unchanged` (long runs of one index, which compress well): GIF
with disposal "do not dispose" and that transparent index, APNG with dispose_op NONE,
blend_op OVER and a tRNS chunk that makes that index transparent. Pillow's C encoder
still does the GIF's LZW: each rectangle is saved as a one-frame GIF and its image block is
taken out. An answer that grows past `limit` bytes stops with TooLargeError.

Exactly one frame per input frame: a frame equal to the one before is still written (as one
unchanged pixel), so a reader counts as many frames as there are steps.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable

import numpy as np
from PIL import Image


class TooLargeError(Exception):
    """The encoded animation passed its byte limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _delta(prev: np.ndarray | None, cur: np.ndarray, unchanged: int
           ) -> tuple[int, int, np.ndarray]:
    """(x, y, crop): the rectangle where cur differs from prev, with the pixels that did not
    change set to `unchanged` (the whole frame for the first)."""
    x, y, w, h = _bbox(prev, cur)
    crop = cur[y:y + h, x:x + w]
    if prev is not None:
        crop = np.where(prev[y:y + h, x:x + w] == crop, np.uint8(unchanged), crop)
    return x, y, crop


def _bbox(prev: np.ndarray | None, cur: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the rectangle where cur differs from prev (the whole frame
    for the first; one pixel when nothing changed)."""
    if prev is None:
        return 0, 0, cur.shape[1], cur.shape[0]
    diff = prev != cur
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return 0, 0, 1, 1
    cols = np.flatnonzero(diff[rows[0]:rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


class _Sink:
    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit

    def write(self, b: bytes) -> None:
        self.size += len(b)
        if self.size > self.limit:
            raise TooLargeError(self.limit)
        self.parts.append(b)

    def value(self) -> bytes:
        return b"".join(self.parts)


def _table_bits(n_colours: int) -> int:
    return max(1, (n_colours - 1).bit_length())  # the table holds 2**bits colours


def _gif_block(crop: np.ndarray, palette: bytes, x: int, y: int) -> bytes:
    """The image block (descriptor and LZW data) of `crop` placed at (x, y)."""
    im = Image.fromarray(np.ascontiguousarray(crop), "P")
    im.putpalette(palette)
    buf = io.BytesIO()
    im.save(buf, "GIF", optimize=False, interlace=False)
    data = buf.getvalue()
    pos = 13
    if data[10] & 0x80:  # the one-frame file's global colour table
        pos += 3 * 2 ** ((data[10] & 7) + 1)
    while data[pos] == 0x21:  # extensions: label, then sub-blocks up to a zero length
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    assert data[pos] == 0x2C, "a GIF image descriptor"
    flags = data[pos + 9] & ~0x40  # not interlaced
    head = b"\x2c" + struct.pack("<HHHH", x, y, crop.shape[1], crop.shape[0]) + bytes([flags])
    return head + data[pos + 10:-1]  # up to the trailer


def gif(frames: Iterable[np.ndarray], palette: bytes, unchanged: int, delay_ms: int,
        limit: int) -> bytes:
    """An animated GIF (looping forever) of palette-index frames, `delay_ms` each; palette
    index `unchanged` is never drawn (it marks the pixels a frame keeps)."""
    out = _Sink(limit)
    prev = None
    delay = struct.pack("<H", max(2, round(delay_ms / 10)))
    for cur in frames:
        if prev is None:
            n = len(palette) // 3
            bits = _table_bits(n)
            table = palette + bytes(3 * (2**bits - n))
            out.write(b"GIF89a" + struct.pack("<HH", cur.shape[1], cur.shape[0])
                      + bytes([0x80 | 0x70 | (bits - 1), 0, 0]) + table)
            out.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # loop forever
        x, y, crop = _delta(prev, cur, unchanged)
        # Graphic control: disposal 1 (keep the frame), `unchanged` transparent.
        out.write(b"\x21\xf9\x04\x05" + delay + bytes([unchanged, 0]))
        out.write(_gif_block(crop, palette, x, y))
        prev = cur
    out.write(b"\x3b")
    return out.value()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def apng(frames: Iterable[np.ndarray], n_frames: int, palette: bytes, unchanged: int,
         delay_ms: int, limit: int) -> bytes:
    """An animated PNG (looping forever) of `n_frames` palette-index frames; palette index
    `unchanged` is never drawn (it marks the pixels a frame keeps)."""
    out = _Sink(limit)
    prev = None
    seq = 0
    for cur in frames:
        if prev is None:
            out.write(b"\x89PNG\r\n\x1a\n")
            out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", cur.shape[1], cur.shape[0],
                                                  8, 3, 0, 0, 0)))
            out.write(_chunk(b"acTL", struct.pack(">II", n_frames, 0)))
            out.write(_chunk(b"PLTE", palette))
            out.write(_chunk(b"tRNS", bytes([255] * unchanged + [0])))
        x, y, crop = _delta(prev, cur, unchanged)
        h, w = crop.shape
        # dispose_op 0 (none), blend_op 1 (over: `unchanged` shows the frame before)
        out.write(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, x, y, delay_ms, 1000,
                                              0, 1)))
        seq += 1
        rows = np.zeros((h, w + 1), dtype=np.uint8)  # filter byte 0 (none) on every row
        rows[:, 1:] = crop
        data = zlib.compress(rows.tobytes(), 6)
        if prev is None:
            out.write(_chunk(b"IDAT", data))
        else:
            out.write(_chunk(b"fdAT", struct.pack(">I", seq) + data))
            seq += 1
        prev = cur
    out.write(_chunk(b"IEND", b""))
    return out.value()
