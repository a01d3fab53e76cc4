"""The page in a real browser (Debian's chromium through Playwright), on loopback.

- upload to drawn: from choosing a file in the page's file input to the first animation
  frame after the result is drawn (the page's own `convstep-drawn` measure: request, JSON
  and base64 decoding, colouring every map, drawing every canvas). Target <= 500 ms.
- drawing per animation frame during playback at working size 256: the time the page's
  requestAnimationFrame callback spends drawing a step (`convstep-frame` measures: moving
  the window, filling in the maps, the detail panel), p95 over a few seconds of playback.
  Target <= 8 ms at the 95th percentile.
"""

from __future__ import annotations

import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.api_bench import Server
from bench.common import p95

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
UPLOAD_TARGET_MS = 500.0
FRAME_TARGET_MS = 8.0


def _query(size: int, stage: str, step: int = 0, speed: float = 1.0) -> str:
    return (f"sample=chelsea&size={size}&color=rgb&f=3&stride=1&pad=1&pad_mode=constant"
            "&pad_value=0&dilation=1&k0=sobel_x&b0=0&k1=sobel_y&b1=0&relu=1&pool=max&pool_f=2"
            f"&pool_stride=2&tie=first&up=ones&stage={stage}&step={step}&speed={speed}")


def _photo(round_no: int, folder: Path) -> Path:
    """The coffee sample as a 1024x683 JPEG, different bytes every round (no cache hit)."""
    from PIL import Image, ImageDraw

    im = Image.open(ROOT / "app" / "platform" / "samples" / "coffee.jpg").convert("RGB").resize(
        (1024, 683), Image.Resampling.LANCZOS)
    ImageDraw.Draw(im).rectangle([round_no * 7 % 900, 10, round_no * 7 % 900 + 40, 50],
                                 fill=(round_no * 37 % 256, 90, 200))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    path = folder / f"photo-{round_no}.jpg"
    path.write_bytes(buf.getvalue())
    return path


def _wait(page, expression: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        page.wait_for_timeout(10)


def _upload_case(browser, url: str, size: int, rounds: int, folder: Path) -> dict:
    ctx = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800},
                              reduced_motion="reduce")
    page = ctx.new_page()
    page.goto("/?" + _query(size, "conv_forward"))
    _wait(page, "Number(document.body.dataset.renders || 0) >= 1")
    page_ms, wall_ms, exact_ms = [], [], []
    for r in range(rounds + 1):  # round 0 warms up
        path = _photo(r + size, folder)
        n = page.evaluate("Number(document.body.dataset.renders)")
        before = page.evaluate("performance.getEntriesByName('convstep-drawn').length")
        before_exact = page.evaluate("performance.getEntriesByName('convstep-exact').length")
        t0 = time.perf_counter()
        page.set_input_files("#upload", str(path))
        _wait(page, f"performance.getEntriesByName('convstep-drawn').length > {before} && "
                    f"Number(document.body.dataset.renders) > {n}")
        wall = (time.perf_counter() - t0) * 1000
        measured = page.evaluate("performance.getEntriesByName('convstep-drawn').at(-1).duration")
        _wait(page, "document.body.dataset.exact === '1' && "
                    f"performance.getEntriesByName('convstep-exact').length > {before_exact}")
        exact = page.evaluate("performance.getEntriesByName('convstep-exact').at(-1).duration")
        if r:
            page_ms.append(measured)
            wall_ms.append(wall)
            exact_ms.append(exact)
    ctx.close()
    return {"median": statistics.median(page_ms), "p95": p95(page_ms),
            "wall": statistics.median(wall_ms), "exact": statistics.median(exact_ms)}


def _frames_case(browser, url: str, stage: str, speed: float, seconds: float) -> dict:
    ctx = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800},
                              reduced_motion="reduce")
    page = ctx.new_page()
    page.goto("/?" + _query(256, stage, 0, speed))
    _wait(page, "Number(document.body.dataset.renders || 0) >= 1")
    total = int(page.evaluate("Number(document.getElementById('scrub').max) + 1"))
    page.evaluate("performance.clearMeasures('convstep-frame')")
    page.click("#btn-play")
    page.wait_for_timeout(int(seconds * 1000))
    if page.evaluate("document.body.dataset.playing === '1'"):
        page.click("#btn-play")  # pause (a whole sweep may have ended on its own)
    entries = page.evaluate(
        "performance.getEntriesByName('convstep-frame').map(e => [e.startTime, e.duration])")
    frames = [d for _, d in entries]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(entries)]
    steps = int(page.evaluate("Number(document.body.dataset.step)"))
    ctx.close()
    if not frames:
        raise RuntimeError(f"no frames recorded for {stage}")
    return {"p50": statistics.median(frames), "p95": p95(frames), "max": max(frames),
            "frames": len(frames), "steps": steps, "total": total,
            "gap50": statistics.median(gaps) if gaps else 0.0, "gap95": p95(gaps) if gaps else 0.0}


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


def run(quick: bool) -> str:
    from playwright.sync_api import sync_playwright

    rounds = 3 if quick else 10
    seconds = 1.5 if quick else 2.0  # well inside a whole sweep at full speed (3 s)
    lines = ["## The page in a browser (bench/browser_bench.py)", "",
             f"Debian's chromium ({CHROMIUM}) headless through Playwright, the app served by "
             "`python -m app` on loopback (one uvicorn worker), viewport 1280 x 800. "
             "Upload: a 1024 x 683 JPEG "
             f"(different bytes each round), {rounds} rounds after a warm-up; time from "
             "choosing the file to the first animation frame after everything is drawn, "
             "measured in the page (the answer is display-encoded: colours; the float32 "
             "copies that make every number on the maps exact follow in the background, "
             "'to exact numbers'). Frames: the requestAnimationFrame callback's drawing "
             f"time during {seconds:g} s of playback at working size 256, and the interval between "
             "those callbacks (16.7 ms is 60 frames a second; a longer one is a dropped frame). "
             "Canvas rasterisation runs after the callback, so the interval is the "
             "smoothness a person sees.", ""]
    # served as `python -m app` serves (TCP with TCP_NODELAY): `uvicorn --fd` hands uvicorn
    # a socket it takes for AF_UNIX, never sets TCP_NODELAY on, and answers then stall
    # about 40 ms on delayed ACKs
    with Server() as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            lines += ["| upload to drawn | median ms | p95 ms | wall ms (Playwright) | "
                      "to exact numbers, median ms | target | result |",
                      "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
            for size in (96, 256):
                m = _upload_case(browser, server.url, size, rounds, Path(tmp))
                lines.append(f"| working size {size} | {m['median']:.0f} | {m['p95']:.0f} | "
                             f"{m['wall']:.0f} | {m['exact']:.0f} | <= {UPLOAD_TARGET_MS:.0f} ms | "
                             f"{_verdict(m['p95'] <= UPLOAD_TARGET_MS)} |")
            lines += ["", "| playback at size 256 | speed | frames | steps reached | draw p50 ms | "
                          "draw p95 ms | draw max ms | interval p50 / p95 ms | target (draw p95) "
                          "| result |",
                      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
            cases = [("conv_forward", 1.0, "whole sweep in 3 s"),
                     ("conv_forward", 0.7, "default"),
                     ("pool_forward", 1.0, "whole sweep in 3 s"),
                     ("conv_backward", 1.0, "whole sweep in 3 s")]
            if quick:
                cases = cases[:1] + cases[-1:]
            for stage, speed, label in cases:
                m = _frames_case(browser, server.url, stage, speed, seconds)
                lines.append(f"| {stage} | {label} | {m['frames']} | {m['steps']} of "
                             f"{m['total']} | {m['p50']:.2f} | {m['p95']:.2f} | {m['max']:.1f} | "
                             f"{m['gap50']:.1f} / {m['gap95']:.1f} | "
                             f"<= {FRAME_TARGET_MS:g} ms | "
                             f"{_verdict(m['p95'] <= FRAME_TARGET_MS)} |")
        finally:
            browser.close()
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
