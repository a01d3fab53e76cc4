"""Hostile and odd uploads (tests/hardening/hostile_images.py): each gets its 4xx with a
clear message or a correct working image; a live server stays healthy and within its
memory bound while it reads the whole corpus."""

from __future__ import annotations

import json

import httpx
import pytest

from app.main import create_app
from app.platform import imaging

from .asgi import asgi_request
from .hostile_images import SETTINGS, Case, corpus, decode_input

CASES = corpus()
APP = create_app()


def post(case: Case, *, client_url: str | None = None) -> httpx.Response:
    files = {"settings": (None, json.dumps(case.settings), "application/json"),
             "file": (case.filename, case.data, case.content_type)}
    if client_url is not None:
        return httpx.post(f"{client_url}/api/image", files=files, timeout=30)
    return asgi_request(APP, "POST", "/api/image", files=files)


def verify(case: Case, r: httpx.Response) -> None:
    """The answer is the case's expected one (or one of its stated alternatives)."""
    assert r.status_code < 500, (case.name, r.status_code, r.text[:300])
    body = r.json()
    got = (r.status_code, "" if r.status_code == 200 else body.get("code"))
    wanted = [(case.status, case.code or ""), *case.alternatives]
    assert got in wanted, (case.name, got, wanted, r.text[:300])
    if r.status_code == 200:
        if case.check is not None:
            case.check(decode_input(body))
        return
    detail = body["detail"]
    assert isinstance(detail, str) and 20 < len(detail) < 600, detail
    if got == (case.status, case.code):
        for word in case.words:
            assert word in detail, (case.name, word, detail)
    # the upload's name never comes back in a message
    assert case.filename not in detail or case.filename == "upload.bin"


# Pillow warns (UserWarning) on a broken TIFF directory before it refuses the file; the
# server logs the warning and answers 4xx (the live test below runs without this filter).
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_upload(case):
    verify(case, post(case))


def test_the_corpus_covers_what_issue_5_lists():
    names = {c.name for c in CASES}
    for fmt in ("png", "jpeg", "gif", "webp", "bmp", "tiff"):
        assert {f"truncated_{fmt}", f"corrupt_{fmt}", f"one_pixel_{fmt}"} <= names
    assert {f"exif_orientation_{o}" for o in range(1, 9)} <= names
    assert {"bomb_png_header", "bomb_gif_65535", "bomb_tiff", "zero_bytes",
            "animated_gif_first_frame", "sixteen_bit_png", "cmyk_jpeg",
            "palette_transparency_png", "smaller_than_kernel"} <= names
    assert {"truncated_jpeg_declaring_6000", "bomb_png16_6324", "bomb_float_tiff_6324"} <= names
    assert all(len(c.data) < 300_000 for c in CASES)  # every bomb is small on the wire


# Resident memory a worker may gain while reading the whole corpus once: the largest
# decoded image allowed (max_decode_bytes, 96 MiB: the 6324 x 6324 16-bit PNG decodes to
# 76 MiB) plus 32 MiB for the decoders' buffers, one tile's conversion and the steps cache
# filling with small images. Measured as the server's exact peak (VmHWM), not a sample.
RSS_GROWTH_BOUND = imaging.MAX_DECODE_BYTES + 32 * 1024 * 1024


@pytest.mark.timeout(180)
def test_live_server_reads_the_corpus_and_stays_healthy(start_server):
    server = start_server()
    for _ in range(2):  # warm up the decoders and the layer once
        httpx.post(f"{server.url}/api/image", timeout=30, files={
            "settings": (None, json.dumps({**SETTINGS, "sample": "chelsea"}))})
    before = server.rss()
    server.reset_peak()
    for case in CASES:
        verify(case, post(case, client_url=server.url))
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    peak = server.peak()
    after = server.rss()
    assert server.proc.poll() is None
    log = server.log()
    assert "Traceback" not in log and " 500 " not in log, log[-2000:]
    assert peak - before < RSS_GROWTH_BOUND, (before, peak, after)
    print(f"\ncorpus of {len(CASES)}: RSS before {before / 2**20:.0f} MiB, peak "
          f"{peak / 2**20:.0f} MiB, after {after / 2**20:.0f} MiB")
