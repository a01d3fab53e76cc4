"""API benchmark: the image route and a steps page, through a real server on loopback.

Cases (issue 3, section 8): POST /api/image with a 512x512 JPEG at working size 256, eight
3x3 filters, ReLU, max pooling 2/2 and the backward pass; the same at working size 512; and
a 64-step page from POST /api/steps. Each image case in four forms: float32 without gzip,
float32 gzipped, the display encoding gzipped, and the display encoding of the first
view's arrays only, with bytes on the wire and uncompressed. Every image request is cold:
the JPEG's bytes differ each time (a comment marker holds the round number), so the server
decodes, computes and encodes everything again; nothing comes from its cache. Server time
is the server's own Server-Timing (request arrival to the answer's first byte); the
client's wall time over loopback, which adds the transfer, gunzip and JSON parsing, is
shown next to it.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx
from PIL import Image

from bench.common import free_port, p95, stop_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("sobel_x", "sobel_y", "laplacian", "sharpen", "box_blur", "gaussian_blur", "emboss",
           "outline")
MB = 1_000_000


def _settings(size: int) -> dict:
    return {"size": size, "color": "rgb", "f": 3, "stride": 1, "pad": 1,
            "filters": [{"preset": p} for p in PRESETS], "relu": True,
            "pool": {"mode": "max", "f": 2, "stride": 2, "tie_rule": "first"},
            "upstream": {"kind": "ones"}}


def _jpeg(round_no: int) -> bytes:
    """The coffee sample as a 512x512 RGB JPEG (quality 90), unique per round."""
    im = Image.open(ROOT / "app" / "platform" / "samples" / "coffee.jpg").convert("RGB").resize(
        (512, 512), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, comment=f"bench round {round_no}".encode())
    return buf.getvalue()


class Server:
    """`python -m app` on a free loopback port, one worker, for the duration of a block."""

    def __enter__(self) -> Server:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CONVSTEP_QUEUE_WAIT_S": "30"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.proc, self.url, 30)
        return self

    def __exit__(self, *exc) -> None:
        stop_process(self.proc)


def _server_ms(r: httpx.Response) -> float:
    timing = r.headers["server-timing"]  # "app;dur=12.345"
    return float(timing.split("dur=")[1].split(",")[0])


def _image_case(client: httpx.Client, url: str, size: int, rounds: int,
                query: str = "", accept: str = "gzip") -> dict:
    server, wall, wire, raw, compute, decode = [], [], [], [], [], []
    settings = json.dumps(_settings(size))
    for r in range(rounds + 1):  # round 0 warms up
        data = _jpeg(r * 1000 + size + len(query) + len(accept))
        t0 = time.perf_counter()
        resp = client.post(url + "/api/image" + query, headers={"Accept-Encoding": accept},
                           files={"settings": (None, settings, "application/json"),
                                  "file": ("bench.jpg", data, "image/jpeg")})
        body = resp.json()
        elapsed = time.perf_counter() - t0
        resp.raise_for_status()
        if r == 0:
            continue
        server.append(_server_ms(resp))
        wall.append(elapsed * 1000)
        wire.append(resp.num_bytes_downloaded)
        raw.append(len(resp.content))
        decode.append(body["timing_ms"]["decode"])
        compute.append(body["timing_ms"]["compute"])
    return {"median": statistics.median(server), "p95": p95(server),
            "wall": statistics.median(wall), "bytes": statistics.median(wire),
            "raw": statistics.median(raw),
            "decode": statistics.median(decode), "compute": statistics.median(compute),
            "id": body["id"], "total": body["steps"]["conv_forward"]["total"]}


def _steps_case(client: httpx.Client, url: str, image_id: str, total: int, rounds: int,
                stage: str, accept: str = "gzip") -> dict:
    server, wall, wire, raw = [], [], [], []
    for r in range(rounds + 1):
        offset = (total // 2 + r * 997) % max(1, total - 64)
        t0 = time.perf_counter()
        resp = client.post(url + "/api/steps", headers={"Accept-Encoding": accept}, json={
            "id": image_id, "settings": _settings(256), "stage": stage, "offset": offset,
            "limit": 64})
        resp.json()
        elapsed = time.perf_counter() - t0
        resp.raise_for_status()
        if r:
            server.append(_server_ms(resp))
            wall.append(elapsed * 1000)
            wire.append(resp.num_bytes_downloaded)
            raw.append(len(resp.content))
    return {"median": statistics.median(server), "p95": p95(server),
            "wall": statistics.median(wall), "bytes": statistics.median(wire),
            "raw": statistics.median(raw)}


def _gzip_levels(client: httpx.Client, url: str) -> list[str]:
    """zlib levels on one uncompressed display answer at size 256 (every array), in this
    process: what CONVSTEP_GZIP_LEVEL trades."""
    resp = client.post(url + "/api/image?encoding=display", headers={"Accept-Encoding":
                                                                     "identity"},
                       files={"settings": (None, json.dumps(_settings(256)), "application/json"),
                              "file": ("bench.jpg", _jpeg(7), "image/jpeg")})
    resp.raise_for_status()
    body = resp.content
    rows = ["| gzip level | MB | ms |", "| ---: | ---: | ---: |"]
    for level in (1, 2, 4, 6, 9):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = zlib.compress(body, level)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append(f"| {level} | {len(out) / MB:.2f} | {min(times):.0f} |")
    return rows


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


# What the page's first /api/image asks for when it opens on the convolution (its default
# stage): the arrays the conv_forward view reads plus W (static/js/explore/stages.js, STAGES and
# firstArrays; tests/browser/test_explore_progressive.py checks the two agree). Everything
# else follows in one POST /api/arrays after the first draw.
FIRST_VIEW = "padded,W,Z"
FIRST_LABEL = f"display, the page's first request (conv_forward: `{FIRST_VIEW}`)"


def run(quick: bool) -> str:
    rounds = 4 if quick else 20
    big = max(3, rounds // 2)
    cases = []  # (label, size, query, accept)
    for size in (256, 512):
        # the page's first request is the headline (the size target); the every-array
        # rows are for information
        cases += [(f"size {size}, {FIRST_LABEL}", size,
                   f"?encoding=display&arrays={FIRST_VIEW}", "gzip"),
                  (f"size {size}, float32, every array, no gzip", size, "", "identity"),
                  (f"size {size}, float32, every array", size, "", "gzip"),
                  (f"size {size}, display, every array", size, "?encoding=display", "gzip")]
    results = {}
    with Server() as srv, httpx.Client(timeout=120) as client:
        for label, size, query, accept in cases:
            results[label] = _image_case(client, srv.url, size,
                                         rounds if size == 256 else big, query, accept)
            if size == 256 and "steps" not in results:
                # Pages of this 256 answer, whose result the server holds (as the page's
                # are); gzipped by the middleware, as a browser asks.
                last = results[label]
                results["steps"] = {
                    f"{stage}{note}": _steps_case(client, srv.url, last["id"], last["total"],
                                                  rounds, stage, accept)
                    for stage in ("conv_forward", "conv_backward")
                    for note, accept in (("", "gzip"), (", no gzip", "identity"))}
        levels = _gzip_levels(client, srv.url)

    def row(case: str, m: dict, ms_target: float, mb_target: float | None = None) -> str:
        wire = f"{m['bytes'] / MB:.3f}" if "bytes" in m else "–"
        raw = f"{m['raw'] / MB:.3f}" if "raw" in m else "–"
        parts = f"{m['decode']:.1f} / {m['compute']:.1f}" if "decode" in m else "–"
        time_cell = f"<= {ms_target:g} ms: {_verdict(m['median'] <= ms_target)}"
        size_cell = ("–" if mb_target is None
                     else f"<= {mb_target:g} MB: {_verdict(m['bytes'] <= mb_target * MB)}")
        return (f"| {case} | {m['median']:.1f} | {m['p95']:.1f} | {m['wall']:.1f} | {parts} | "
                f"{wire} | {raw} | {time_cell} | {size_cell} |")

    lines = [
        "## API: the image route and a steps page",
        "A real server (`python -m app`, one worker) on loopback; every image request is a new "
        "512x512 JPEG (quality 90) of the coffee sample, so nothing comes from the server's "
        "cache. Settings: RGB, eight 3x3 presets, stride 1, pad 1, ReLU, max pooling 2/2, "
        "upstream all ones, the backward pass, the first 64-step page of each of the four "
        f"stages. {rounds} rounds after one warm-up (size 512: {big}). Server ms: the "
        "server's Server-Timing (arrival to first byte of the answer, which is built and "
        "gzipped by then); wall ms: the client's, with the transfer, gunzip and JSON "
        "parsing. Wire MB: bytes on the wire (gzip, as browsers ask, unless the case says "
        "no gzip, server level CONVSTEP_GZIP_LEVEL, default 1); JSON MB: the answer "
        "uncompressed. `float32`: every array base64 float32 (the default); `display` "
        "(`?encoding=display`): image-shaped arrays one byte per value, W/b/dW/db float32 "
        "(docs/CONTRACT.md). The page's first request asks `?arrays=` for what the "
        "conv_forward view draws (its size is the target); the rest come from one POST "
        "/api/arrays after the first draw. The every-array rows (size –) are for "
        "comparison.",
        "| case | server median ms | server p95 ms | wall median ms | decode / compute ms "
        "| wire MB | JSON MB | time | size |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for label, size, _query, _accept in cases:
        headline = size == 256 and FIRST_LABEL in label
        lines.append(row("image, " + label, results[label], 100 if size == 256 else 400,
                         1.5 if headline else None))
    for stage, m in results["steps"].items():
        stage, _, note = stage.partition(", ")
        cached = "256 result cached" + (f", {note}" if note else "")
        lines.append(row(f"steps page, 64 {stage} steps ({cached})", m, 10))
    return ("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n\n"
            + "The gzip level: one display answer at size 256 (every array, "
            f"{results['size 256, display, every array']['raw'] / MB:.2f} MB of JSON) "
            "compressed by zlib in the "
            "benchmark's process, best of 3.\n\n" + "\n".join(levels))
