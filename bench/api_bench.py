"""API benchmark: the image route and a steps page, through a real server on loopback.

Cases (issue 3, section 8): POST /api/image with a 512x512 JPEG at working size 256, eight
3x3 filters, ReLU, max pooling 2/2 and the backward pass; the same at working size 512; and
a 64-step page from POST /api/steps. Every image request is cold: the JPEG's bytes differ
each time (a comment marker holds the round number), so the server decodes, computes and
encodes everything again; nothing comes from its cache. Server time is the server's own
Server-Timing (request arrival to the answer's first byte); the client's wall time over
loopback, which adds the transfer and JSON parsing, is shown next to it.
"""

from __future__ import annotations

import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

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
    im = Image.open(ROOT / "app" / "samples" / "coffee.jpg").convert("RGB").resize(
        (512, 512), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, comment=f"bench round {round_no}".encode())
    return buf.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m app` on a free loopback port, one worker, for the duration of a block."""

    def __enter__(self) -> Server:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CONVSTEP_QUEUE_WAIT_S": "30"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("the server did not start within 30 s")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _server_ms(r: httpx.Response) -> float:
    timing = r.headers["server-timing"]  # "app;dur=12.345"
    return float(timing.split("dur=")[1].split(",")[0])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _image_case(client: httpx.Client, url: str, size: int, rounds: int,
                query: str = "") -> dict:
    server, wall, sizes, compute, decode = [], [], [], [], []
    settings = json.dumps(_settings(size))
    for r in range(rounds + 1):  # round 0 warms up
        data = _jpeg(r * 1000 + size + len(query))
        t0 = time.perf_counter()
        resp = client.post(url + "/api/image" + query, files={
            "settings": (None, settings, "application/json"),
            "file": ("bench.jpg", data, "image/jpeg")})
        body = resp.json()
        elapsed = time.perf_counter() - t0
        resp.raise_for_status()
        if r == 0:
            continue
        server.append(_server_ms(resp))
        wall.append(elapsed * 1000)
        sizes.append(len(resp.content))
        decode.append(body["timing_ms"]["decode"])
        compute.append(body["timing_ms"]["compute"])
    return {"median": statistics.median(server), "p95": _p95(server),
            "wall": statistics.median(wall), "bytes": statistics.median(sizes),
            "decode": statistics.median(decode), "compute": statistics.median(compute),
            "id": body["id"], "total": body["steps"]["conv_forward"]["total"]}


def _steps_case(client: httpx.Client, url: str, image_id: str, total: int, rounds: int,
                stage: str) -> dict:
    server, wall = [], []
    for r in range(rounds + 1):
        offset = (total // 2 + r * 997) % max(1, total - 64)
        t0 = time.perf_counter()
        resp = client.post(url + "/api/steps", json={
            "id": image_id, "settings": _settings(256), "stage": stage, "offset": offset,
            "limit": 64})
        resp.json()
        elapsed = time.perf_counter() - t0
        resp.raise_for_status()
        if r:
            server.append(_server_ms(resp))
            wall.append(elapsed * 1000)
    return {"median": statistics.median(server), "p95": _p95(server),
            "wall": statistics.median(wall)}


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


def run(quick: bool) -> str:
    rounds = 4 if quick else 20
    with Server() as srv, httpx.Client(timeout=120) as client:
        full256 = _image_case(client, srv.url, 256, rounds)
        # Pages of the last 256 answer, whose result the server holds (as the page's are).
        steps = {stage: _steps_case(client, srv.url, full256["id"], full256["total"], rounds,
                                    stage)
                 for stage in ("conv_forward", "conv_backward")}
        first256 = _image_case(client, srv.url, 256, rounds, "?arrays=input,padded,W,b,Z")
        full512 = _image_case(client, srv.url, 512, max(3, rounds // 2))

    def row(case: str, m: dict, ms_target: float, mb_target: float | None = None) -> str:
        size = f"{m['bytes'] / MB:.2f}" if "bytes" in m else "–"
        parts = f"{m['decode']:.1f} / {m['compute']:.1f}" if "decode" in m else "–"
        time_cell = f"<= {ms_target:g} ms: {_verdict(m['median'] <= ms_target)}"
        size_cell = ("–" if mb_target is None
                     else f"<= {mb_target:g} MB: {_verdict(m['bytes'] <= mb_target * MB)}")
        return (f"| {case} | {m['median']:.1f} | {m['p95']:.1f} | {m['wall']:.1f} | {parts} | "
                f"{size} | {time_cell} | {size_cell} |")

    lines = [
        "## API: the image route and a steps page",
        "A real server (`python -m app`, one worker) on loopback; every image request is a new "
        "512x512 JPEG (quality 90) of the coffee sample, so nothing comes from the server's "
        "cache. Settings: RGB, eight 3x3 presets, stride 1, pad 1, ReLU, max pooling 2/2, "
        "upstream all ones, the backward pass, the first 64-step page of each of the four "
        f"stages. {rounds} rounds after one warm-up (the 512 case: {max(3, rounds // 2)}). "
        "Server ms: the server's Server-Timing (arrival to first byte of the answer); wall "
        "ms: the client's, with the transfer and JSON parsing. Every array is float32 in "
        "base64 as docs/CONTRACT.md fixes it: at size 256 with eight filters that is 18.7 MB "
        "(Z alone 2.8 MB), so the 1.5 MB target cannot be met by the full answer; "
        "`?arrays=` asks for a first view's arrays only (the rest come from /api/arrays).",
        "| case | server median ms | server p95 ms | wall median ms | decode / compute ms "
        "| response MB | time | size |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        row("image, size 256, every array", full256, 100, 1.5),
        row("image, size 256, `?arrays=input,padded,W,b,Z`", first256, 100, 1.5),
        row("image, size 512, every array", full512, 400),
    ]
    for stage, m in steps.items():
        lines.append(row(f"steps page, 64 {stage} steps (256 result cached)", m, 10))
    return "\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])
