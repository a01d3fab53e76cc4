"""Issue 15's section-1 attacks against a live server, one after another: each gets its 4xx
(never a 5xx), the server's log holds no traceback and no warning for any of them, and the
worker's peak memory stays flat. (tests/app has each attack's exact answer: test_weight_files,
test_weight_overflow, test_network_strict_types, test_upload_limits, test_learn; the
disconnects are test_disconnects.)"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import httpx
import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import save

pytestmark = pytest.mark.timeout(180)
MIB = 2**20


def _npy(shape, descr="<f8", data=b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue() + data


def _zipped(name: str, data: bytes, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        z.writestr(name, data)
    return buf.getvalue()


def _bf16() -> bytes:
    header = json.dumps({"conv1.weight": {"dtype": "BF16", "shape": [8, 1, 3, 3],
                                          "data_offsets": [0, 144]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(144)


def _photo(width: int) -> bytes:
    im = Image.new("L", (width, width), 255)
    im.paste(0, (width * 7 // 16, width // 8, width * 9 // 16, width * 7 // 8))
    buf = io.BytesIO()
    im.save(buf, "BMP")
    return buf.getvalue()


def _attacks() -> list[tuple[str, str, dict, int, str]]:
    """(name, route, httpx keyword arguments, status, code)."""
    digit = {"kind": "digit", "index": 0}
    diagnose = "/api/learn/conv_forward/diagnose?case=gray_s2_p1"
    files = lambda data: {"files": {"file": ("w.bin", data)}}  # noqa: E731
    bomb = _zipped("conv1.weight.npy", _npy((9,)) + bytes(64 * MIB), zipfile.ZIP_BZIP2)
    out = []
    for route in ("/api/network/weights", "/api/filters"):
        out += [
            ("bzip2 member", route, files(bomb), 415, "unsupported_compression"),
            ("LZMA member", route, files(_zipped("conv1.weight.npy", _npy((8,), data=bytes(
                64)), zipfile.ZIP_LZMA)), 415, "unsupported_compression"),
            ("|V150000000 member", route, files(_zipped("conv1.W.npy", _npy(
                (1,), "|V150000000"), zipfile.ZIP_STORED)), 422, "bad_dtype"),
            ("BF16 safetensors", route, files(_bf16()), 422, "bad_dtype"),
        ]
    out += [
        ("1e308 weights", "/api/network/weights",
         files(save({"conv1.W": np.full((3, 3, 1, 8), 1e308)})), 422, "weights_overflow"),
        ("9 MB weights", "/api/network/weights", files(bytes(9 * 10**6)), 413,
         "body_too_large"),
        ("negative dims", diagnose, files(_npy((-1, -72), data=bytes(576))), 422, "not_npy"),
        ("0 x huge", diagnose, files(_npy((0, 2**62))), 422, "not_npy"),
        ("bool dims", diagnose, files(_npy((True, 8), data=bytes(64))), 422, "not_npy"),
        ("epochs '10'", "/api/network/train", {"json": {"epochs": "10"}}, 422, ""),
        ("index true", "/api/network/run", {"json": {"input": {**digit, "index": True}}}, 422,
         ""),
        ("shape ['4', '12']", "/api/network/run", {"json": {"input": {
            "kind": "canvas", "ink_base64": "AAAA" * 16, "shape": ["4", "12"]}}}, 422, ""),
    ]
    return out


def test_every_section_1_attack_is_a_4xx_with_no_traceback_in_the_log(shared_server):
    server = shared_server
    url = server.url
    assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
    before = len(server.log())
    rss = server.rss()
    server.reset_peak()
    for name, route, kwargs, status, code in _attacks():
        r = httpx.post(f"{url}{route}", timeout=60, **kwargs)
        assert r.status_code == status, (name, r.text[:300])
        if code:
            assert r.json()["code"] == code, (name, r.text[:300])
    # the bzip2 member holds 64 MiB of zeros; nothing near it is ever allocated
    peak = server.peak() - rss
    assert peak < 32 * MIB, peak / MIB
    # the photo the JSON limit refused: read like /api/image reads it
    photo = _photo(3000)
    assert 8 * MIB < len(photo) < 10 * MIB
    r = httpx.post(f"{url}/api/network/run/photo", files={"file": ("one.bmp", photo)},
                   timeout=120)
    assert r.status_code == 200, r.text[:300]
    log = server.log()[before:]
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]
    assert not [x for x in log.splitlines() if x.startswith(("ERROR", "WARNING"))], log[-2000:]
    assert "Warning" not in log, log[-2000:]  # NumPy's RuntimeWarning, for one
    print(f"\n{len(_attacks())} attacks, peak RSS growth {peak / MIB:.1f} MiB, "
          f"{len(log)} bytes of log")
