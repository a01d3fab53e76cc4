"""Weight files on the two routes that read them (POST /api/network/weights and
POST /api/filters), as issue 15's attacks sent them.

.npz members: the compressed-member bomb (a 1.7 KB archive whose bzip2 member declared 200
bytes and inflated to 2 GiB grew the worker by 4 GB) and its deflate twin, replayed with real
compressed streams, and the members whose .npy header alone says they must be refused. Each
answer is a 4xx naming the file, the member and the limit, and tracemalloc shows that the
worker never holds the inflated bytes. .safetensors: a dtype that is not read (BF16,
F8_E4M3) is named with the list of those that are."""

from __future__ import annotations

import bz2
import io
import json
import lzma
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

MIB = 2**20
ROUTES = ["/api/network/weights", "/api/filters"]
BOMB_BYTES = 64 * MIB  # what the bomb members inflate to: enough to see, small to build
# What reading a refused archive may allocate in all (the request, the answer, the app's
# own per-request work); the bomb's inflated bytes alone would be BOMB_BYTES.
READ_BOUND = 8 * MIB


def _npy_header(shape=(8,), descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _zeros_stream(compressor, head: bytes, n: int) -> tuple[bytes, int]:
    """(the compressed stream of head + n zero bytes, its CRC-32), built 1 MiB at a time."""
    parts, crc, chunk = [compressor.compress(head)], zlib.crc32(head), bytes(MIB)
    for _ in range(n // MIB):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def _zip(name: str, method: int, raw: bytes, declared: int, crc: int) -> bytes:
    """A one-member zip archive written by hand, so that its directory can declare any size
    for the member (zipfile's writer would write the true one)."""
    fname = name.encode()
    fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0x21, crc, len(raw), declared)
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(fname), 0) + fname
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields
               + struct.pack("<HHHHHII", len(fname), 0, 0, 0, 0, 0, 0) + fname)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central),
                                      len(local) + len(raw), 0)
    return local + raw + central + end


# A header of 128 bytes and 9 float64 values: 200 bytes, the size the bombs declare.
BOMB_HEAD = _npy_header((9,))


def _bzip2_bomb() -> bytes:
    raw, crc = _zeros_stream(bz2.BZ2Compressor(9), BOMB_HEAD, BOMB_BYTES)
    return _zip("conv1.weight.npy", zipfile.ZIP_BZIP2, raw, 200, crc)


def _deflate_bomb() -> bytes:
    raw, crc = _zeros_stream(zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS),
                             BOMB_HEAD, BOMB_BYTES)
    return _zip("conv1.weight.npy", zipfile.ZIP_DEFLATED, raw, 200, crc)


def _post(client, route: str, data: bytes):
    return client.post(route, files={"file": ("w.npz", data, "application/octet-stream")})


def _post_measured(client, route: str, data: bytes):
    """(the answer, the peak of Python's and NumPy's allocations while it was made)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        r = _post(client, route, data)
        return r, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("route", ROUTES)
def test_a_bzip2_member_is_refused_by_its_compression_before_anything_is_inflated(client,
                                                                                  route):
    bomb = _bzip2_bomb()
    assert len(bomb) < 4096  # 64 MiB of zeros behind a 200-byte claim
    r, peak = _post_measured(client, route, bomb)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "unsupported_compression"
    detail = r.json()["detail"]
    assert detail.startswith("file: ") and "'conv1.weight.npy'" in detail, detail
    assert "bzip2" in detail and "stored and deflated" in detail, detail
    assert peak < READ_BOUND, peak / MIB


@pytest.mark.parametrize("route", ROUTES)
def test_a_deflated_member_is_never_inflated_past_its_declared_size(client, route):
    bomb = _deflate_bomb()
    assert len(bomb) < 128 * 1024
    r, peak = _post_measured(client, route, bomb)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "broken_weights"
    assert "'conv1.weight' inflates past the 200 bytes" in r.json()["detail"], r.text
    assert peak < READ_BOUND, peak / MIB


@pytest.mark.parametrize("method, word", [(zipfile.ZIP_LZMA, "LZMA"),
                                          (93, "Zstandard"), (99, "compression method 99")])
def test_every_other_compression_is_named_and_refused(client, method, word):
    head = _npy_header()
    raw = lzma.compress(head + bytes(64)) if method == zipfile.ZIP_LZMA else b"x" * 16
    r = _post(client, ROUTES[0], _zip("conv1.weight.npy", method, raw, 200, 0))
    assert r.status_code == 415 and r.json()["code"] == "unsupported_compression", r.text
    assert word in r.json()["detail"], r.text


def test_what_numpy_writes_is_still_read_stored_and_deflated(client):
    from core.data import load_weights

    w = load_weights()["conv1.W"]
    for save in (np.savez, np.savez_compressed):
        buf = io.BytesIO()
        save(buf, **{"conv1.W": w, "conv1.b": np.arange(8.0)})
        r = _post(client, ROUTES[0], buf.getvalue())
        assert r.status_code == 201, r.text
        got = client.get("/api/network/weights", params={"weights": r.json()["id"]}).json()
        np.testing.assert_array_equal(np.array(got["params"]["conv1.W"]), w)
        np.testing.assert_array_equal(np.array(got["params"]["conv1.b"]).ravel(),
                                      np.arange(8.0))


def _one(name: str, payload: bytes, method=zipfile.ZIP_STORED, declared=None, crc=None):
    raw = payload if method == zipfile.ZIP_STORED else zlib.compress(payload)[2:-4]
    return _zip(name, method, raw, len(payload) if declared is None else declared,
                zlib.crc32(payload) if crc is None else crc)


@pytest.mark.parametrize("data, status, code, words", [
    # a void dtype of 150 MB per value: refused from the header, nothing of it read
    (_one("conv1.W.npy", _npy_header((1,), "|V150000000")), 422, "bad_dtype",
     ("'conv1.W' has dtype |V150000000", "real numbers")),
    (_one("conv1.W.npy", _npy_header((2000, 2000))), 413, "tensor_too_large",
     ("(2000, 2000)", "4000000 values", "at most 100000")),
    (_one("conv1.W.npy", _npy_header((-1, -72))), 422, "broken_weights",
     ("shape (-1, -72) is not", "0 or more")),
    (_one("conv1.W.npy", _npy_header((True, 8))), 422, "broken_weights", ("(True, 8)",)),
    (_one("conv1.W.npy", _npy_header((0, 2**62))), 422, "broken_weights",
     (f"shape (0, {2**62}) of float64 is larger",)),
    (_one("conv1.W.npy", _npy_header((8,)) + bytes(64), crc=1), 422, "broken_weights",
     ("CRC-32",)),
    (_one("conv1.W.npy", _npy_header((8,)) + bytes(64), declared=1000), 422,
     "broken_weights", ("stored with",)),
    (_one("conv1.W.npy", _npy_header((8,)) + bytes(64), zipfile.ZIP_DEFLATED,
          declared=1000), 422, "broken_weights", ("(8,) of float64 (64 bytes)", "declares 872")),
    (_one("conv1.W.npy", _npy_header((9,)) + bytes(64), zipfile.ZIP_DEFLATED), 422,
     "broken_weights", ("(9,) of float64 (72 bytes)", "declares 64 bytes after")),
    (_one("conv1.W.npy", b"not an array at all"), 422, "broken_weights", ("'conv1.W'",)),
], ids=["void dtype", "huge shape", "negative dims", "bool dim", "0 x huge", "bad crc",
        "stored size lie", "deflated size lie", "short data", "no header"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_member_whose_header_or_entry_is_wrong_is_refused_naming_it(client, route, data,
                                                                      status, code, words):
    r, peak = _post_measured(client, route, data)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    assert r.json()["detail"].startswith("file: ")
    for w in words:
        assert w in r.json()["detail"], r.text
    assert peak < READ_BOUND, peak / MIB


def _safetensors(dtype: str, itemsize: int, shape=(8, 1, 3, 3)) -> bytes:
    n = int(np.prod(shape)) * itemsize
    header = json.dumps({"conv1.weight": {"dtype": dtype, "shape": list(shape),
                                          "data_offsets": [0, n]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(n)


@pytest.mark.parametrize("dtype, itemsize", [("BF16", 2), ("F8_E4M3", 1), ("F8_E5M2", 1),
                                             ("BOOL", 1), ("C64", 8)])
@pytest.mark.parametrize("route", ROUTES)
def test_a_safetensors_dtype_that_is_not_read_is_named_with_the_supported_ones(client, route,
                                                                            dtype, itemsize):
    r = _post(client, route, _safetensors(dtype, itemsize))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "bad_dtype"
    assert r.json()["detail"] == (
        f"file: 'conv1.weight' has dtype {dtype}, which is not supported; supported: F16, "
        "F32, F64, I8, I16, I32, I64, U8, U16, U32, U64 (convert bfloat16 or float8 tensors "
        "with .float() before saving).")


def test_every_supported_safetensors_dtype_is_read(client):
    from safetensors.numpy import save

    from app.platform.weights import SAFETENSORS_DTYPES

    kinds = {"F": "float", "I": "int", "U": "uint"}
    for name in SAFETENSORS_DTYPES:
        dtype = np.dtype(f"{kinds[name[0]]}{name[1:]}")
        data = save({"conv1.weight": np.ones((8, 1, 3, 3), dtype=dtype)})
        assert json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])["conv1.weight"][
            "dtype"] == name
        r = _post(client, ROUTES[0], data)
        assert r.status_code == 201, (name, r.text)
