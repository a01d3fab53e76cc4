"""Decoding memory is bounded by bytes, not only by pixels (issue 10, item 6).

Each upload is decoded in a fresh Python process whose exact peak resident memory (VmHWM,
reset through /proc/self/clear_refs just before the decode) is compared with its RSS
before: the growth must stay under decoded_bytes + DECODE_SLACK, where decoded_bytes is
what the header says Pillow will allocate (width x height x bytes per pixel of the mode),
itself at most max_decode_bytes. Before the fix a 78 KB 16-bit 6324 x 6324 PNG cost
+992 MiB and a float TIFF of the same size +1068 MiB (measured the same way).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.platform import imaging

from . import hostile_images as hi

ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20
# The decoders' own buffers (zlib, libtiff strips) and one tile's conversion to 8 bits.
DECODE_SLACK = 32 * MIB

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from app.platform import imaging
from app.platform.errors import ApiError

def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))

data = sys.stdin.buffer.read()
size, color = int(sys.argv[2]), sys.argv[3]
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # VmHWM := VmRSS
before = status("VmRSS")
try:
    shape = list(imaging.decode(data, size=size, color=color, max_pixels=40_000_000).shape)
    code = 200
except ApiError as exc:
    shape, code = None, exc.status
print(json.dumps({"growth": status("VmHWM") - before, "status": code, "shape": shape}))
"""


def decode_in_child(data: bytes, size: int = 96, color: str = "rgb") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(size), color],
                         input=data, capture_output=True, timeout=120, check=True)
    return json.loads(out.stdout)


CASES = [  # (name, file, status)
    ("png16_6324", hi.png16_zeros, 200),  # I;16: 76 MiB decoded
    ("float_tiff_6324", hi.float_tiff_zeros, 413),  # F: 153 MiB > max_decode_bytes
    ("float_tiff_4900", lambda: hi.float_tiff_zeros(4900), 200),  # F: 92 MiB
    ("rgba_png_4900", lambda: hi.rgba_png(4900), 200),  # RGBA: 92 MiB, alpha on white
    ("palette_png_6324", hi.palette_png_transparent, 200),  # P: 38 MiB, RGBA when converted
    ("truncated_jpeg_6000", lambda: hi.jpeg_declaring(6000, 6000), 422),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name, make, status", CASES, ids=[c[0] for c in CASES])
def test_decode_memory_is_bounded_by_decoded_bytes(name, make, status):
    data = make()
    got = decode_in_child(data)
    assert got["status"] == status, got
    if status == 200:
        decoded = imaging.decoded_bytes(data, size=96, color="rgb", max_pixels=40_000_000)
        assert decoded <= imaging.MAX_DECODE_BYTES
        bound = decoded + DECODE_SLACK
    else:  # refused from the header: nothing is decoded
        bound = DECODE_SLACK
    assert got["growth"] < bound, (name, got["growth"] / MIB, bound / MIB)
    print(f"\n{name}: {len(data)} bytes, status {got['status']}, peak growth "
          f"{got['growth'] / MIB:.1f} MiB (bound {bound / MIB:.0f} MiB)")


def test_decoded_bytes_counts_bytes_per_pixel_of_the_mode():
    assert imaging.bytes_per_pixel("L") == 1 and imaging.bytes_per_pixel("P") == 1
    assert imaging.bytes_per_pixel("I;16") == 2 and imaging.bytes_per_pixel("I;16B") == 2
    for mode in ("RGB", "RGBA", "LA", "CMYK", "I", "F"):
        assert imaging.bytes_per_pixel(mode) == 4
    side = hi.WIDE_SIDE
    assert imaging.decoded_bytes(hi.png16_zeros(), size=96, color="rgb",
                                 max_pixels=40_000_000) == side * side * 2
    # a JPEG is decoded at 1/8 scale where the working size allows (libjpeg's draft mode)
    big_jpeg = hi.encode(hi.noise_rgb(4096, 4096), "JPEG")
    assert imaging.decoded_bytes(big_jpeg, size=96, color="rgb",
                                 max_pixels=40_000_000) == 512 * 512 * 4


def test_a_wide_mode_over_max_decode_bytes_is_a_413_naming_the_limit():
    with pytest.raises(imaging.ApiError) as err:
        imaging.decode(hi.float_tiff_zeros(), size=96, color="rgb", max_pixels=40_000_000)
    assert err.value.status == 413 and err.value.code == "too_many_bytes"
    assert "max_decode_bytes" in err.value.detail and "mode F" in err.value.detail
    # the same file under a larger limit decodes
    small = imaging.decode(hi.float_tiff_zeros(), size=8, color="gray", max_pixels=40_000_000,
                           max_decode_bytes=200 * MIB)
    assert small.shape == (8, 8, 1) and not small.any()
