"""What a network route costs (issue 10, item 12 for /api/network): the cost each route gives
the memory budget before it starts is an upper bound of what its work allocates, and within
a stated factor of it, so cheap calls pass as light requests while heavy ones queue.

Measured with tracemalloc (NumPy reports its arrays to it) for the work a route runs in the
thread pool, answer written to JSON included; with the exact peak resident memory (VmHWM)
of a fresh process for a photo, whose decoded image Pillow allocates outside Python's
allocator. Neither depends on timing.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.main import create_app
from app.network import service as service
from app.network.jobs import JobLimits, TrainingJob
from app.network.schemas import NetRunIn, NetRunOut, NetStepsIn, NetStepsOut
from app.platform.config import Settings
from app.platform.heavy import LIGHT_BYTES
from app.platform.network_config import NetworkLimits
from app.platform.weights import PARAM_NAMES, weight_set
from core.data import load_digits
from core.train import TrainConfig, evaluate

ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20
LIMITS = NetworkLimits()
# The stated factor: measured <= cost <= FACTOR x measured + FLOOR (FLOOR: the fixed part
# of the small ones, a pass of one digit).
FACTOR = 3
FLOOR = 1 * MIB


def _traced_peak(fn) -> int:
    fn()  # warm: caches (the digits, the shipped weights) are not the request's
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _within(measured: int, cost: int, what: str) -> None:
    assert measured <= cost <= FACTOR * measured + FLOOR, (what, measured, cost)
    print(f"\n{what}: measured {measured / MIB:.2f} MiB, cost {cost / MIB:.2f} MiB "
          f"({cost / max(1, measured):.1f}x)")


def _ink(n: int) -> list[list[int]]:
    ink = np.zeros((n, n), dtype=int)
    ink[n // 8: 7 * n // 8, n // 3: n // 2] = 255  # a tall bar: a one
    ink[n // 8: n // 4, n // 4: n // 2] = 200
    return ink.tolist()


RUNS = {
    "digit": {"input": {"kind": "digit", "index": 7}},
    "pixels": {"input": {"kind": "pixels", "pixels": np.full((8, 8), 8.0).tolist()},
               "backward": False},
    "canvas 168 (the page's)": {"input": {"kind": "canvas", "ink": _ink(168)}},
    "canvas 168 of noise (redrawn: thousands of dots)": {"input": {"kind": "canvas", "ink": (
        np.random.default_rng(0).integers(0, 2, (168, 168)) * 255).tolist()}},
    "canvas 512 (max_canvas)": {"input": {"kind": "canvas", "ink": _ink(512)}},
    "canvas 512 as base64": {"input": {"kind": "canvas", "shape": [512, 512], "ink_base64":
                                       base64.b64encode(np.array(_ink(512), dtype=np.uint8)
                                                        .tobytes()).decode()}},
}


@pytest.mark.parametrize("name", list(RUNS))
def test_run_cost_bounds_what_it_allocates(name):
    body = NetRunIn.model_validate(RUNS[name])
    params = service.shipped_params()

    def work():
        digit = service.digit_input(body.input, LIMITS)
        NetRunOut.model_validate({"weights": "shipped", **service.run(
            params, digit, body.target, body.backward)}).model_dump_json()

    _within(_traced_peak(work), service.run_cost(body.input, LIMITS), f"run {name}")


def test_the_page_s_runs_are_light_and_the_largest_drawing_is_heavy():
    costs = {n: service.run_cost(NetRunIn.model_validate(b).input, LIMITS)
             for n, b in RUNS.items()}
    assert max(costs["digit"], costs["pixels"], costs["canvas 168 (the page's)"]) <= LIGHT_BYTES
    assert costs["canvas 512 (max_canvas)"] > LIGHT_BYTES


@pytest.mark.parametrize("layer", ["conv1", "pool1", "conv2", "pool2"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_steps_cost_bounds_what_a_page_allocates(layer, direction):
    body = NetStepsIn.model_validate({"input": {"kind": "digit", "index": 3}, "layer": layer,
                                      "direction": direction, "limit": 512})
    params = service.shipped_params()

    def work():
        digit = service.digit_input(body.input, LIMITS)
        NetStepsOut.model_validate(service.step_page(
            params, digit, body.target, body.layer, body.direction, body.offset, body.limit,
            body.position)).model_dump_json()

    cost = service.steps_cost(body.input, layer, body.limit, LIMITS)
    _within(_traced_peak(work), cost, f"steps {layer} {direction}, limit 512")
    assert cost <= LIGHT_BYTES  # the largest page of the largest layer is light


def _npz(params: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **params)
    return buf.getvalue()


def test_upload_cost_bounds_reading_and_evaluating_a_weight_file():
    data = _npz(service.shipped_params())

    def work():
        ws = weight_set(data, service.shipped_params(), "w.npz")
        evaluate(ws.params, *load_digits().split("test"))

    cost = service.upload_cost(data)
    _within(_traced_peak(work), cost, "weight upload (.npz)")
    assert cost > LIGHT_BYTES  # evaluating on 360 digits is heavy work


def test_upload_cost_counts_an_archive_at_its_declared_unpacked_size():
    """1 MB of zeros in an .npz of a few KB: counted at its unpacked size, before reading."""
    data = _npz({"conv1.W": np.zeros(125_000)})
    assert len(data) < 10_000
    assert service.upload_cost(data) >= 3 * 1_000_000


@pytest.mark.slow  # measures real peaks of whole runs
@pytest.mark.parametrize("batch_size", [32, 512])
def test_job_cost_bounds_a_whole_training_job(batch_size):
    load_digits()
    limits = JobLimits(2, 60.0, 60.0, 120.0)

    def work():
        job = TrainingJob("t", TrainConfig(epochs=1, batch_size=batch_size, seed=1), limits,
                          PARAM_NAMES, lambda: None)
        job.thread.start()
        job.thread.join(timeout=120)
        assert job.state == "done"

    _within(_traced_peak(work), service.job_cost(batch_size),
            f"training job, batch_size {batch_size}")


# --- a photo: the decoded image is Pillow's, measured as the process's peak RSS -------------

PHOTO_CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from app.platform.network_config import NetworkLimits
from app.network.schemas import NetRunOut
from app.network import service as service
from bench.load_bench import hwm_bytes, reset_hwm, rss_bytes

data, me = sys.stdin.buffer.read(), os.getpid()
limits = NetworkLimits()
params = service.shipped_params()
service.load_digits()
cost = service.photo_cost(data, limits, 40_000_000)
reset_hwm(me)
before = rss_bytes(me)
digit = service.photo_input(data, limits, 40_000_000)
NetRunOut.model_validate({"weights": "shipped", **service.run(params, digit, None, True)}
                         ).model_dump_json()
print(json.dumps({"growth": hwm_bytes(me) - before, "cost": cost}))
"""


def _photo(width: int, height: int, mode: str, fmt: str) -> bytes:
    im = Image.new(mode, (width, height), "white")
    d = ImageDraw.Draw(im)
    d.line([(width // 2, height // 6), (width // 2, 5 * height // 6)], fill="black",
           width=max(2, width // 20))
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


PHOTOS = {
    "RGBA PNG 3000 x 3000": ("RGBA", 3000, 3000, "PNG"),
    "gray PNG 4000 x 3000": ("L", 4000, 3000, "PNG"),
    "RGB JPEG 2400 x 1800 (drafted)": ("RGB", 2400, 1800, "JPEG"),
}


@pytest.mark.slow  # measures real peaks of whole runs
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(PHOTOS))
def test_photo_cost_bounds_the_real_peak(name):
    mode, w, h, fmt = PHOTOS[name]
    data = _photo(w, h, mode, fmt)
    out = subprocess.run([sys.executable, "-c", PHOTO_CHILD, str(ROOT)], input=data,
                         capture_output=True, timeout=240)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    got = json.loads(out.stdout)
    # RSS counts whole pages and what malloc keeps, so the factor is looser than the
    # tracemalloc ones: measured <= cost <= 2 x measured + 16 MiB
    assert got["growth"] <= got["cost"] <= 2 * got["growth"] + 16 * MIB, (name, got)
    print(f"\nphoto {name}: peak growth {got['growth'] / MIB:.1f} MiB, cost "
          f"{got['cost'] / MIB:.1f} MiB")


# --- admission: network runs pass while the heavy slots are full ----------------------------


def test_a_network_run_is_admitted_while_the_heavy_slots_are_full():
    import httpx

    app = create_app(Settings(max_heavy=1, max_queue=1, queue_wait_s=5))
    limiter = app.state.limiter
    photo = _photo(3000, 3000, "RGBA", "PNG")

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            async with limiter.slot(LIGHT_BYTES + 1):  # the only heavy slot
                waiting = asyncio.ensure_future(limiter.slot(LIGHT_BYTES + 1).__aenter__())
                await asyncio.sleep(0.05)
                assert len(limiter._waiters) == 1  # a heavy request queues
                answers = {
                    "run": await c.post("/api/network/run", json=RUNS["digit"]),
                    "drawing": await c.post("/api/network/run",
                                            json=RUNS["canvas 168 (the page's)"]),
                    "steps": await c.post("/api/network/steps", json={
                        "input": {"kind": "digit", "index": 0}, "layer": "conv2",
                        "limit": 256}),
                    "photo": await c.post("/api/network/run/photo", files={
                        "file": ("digit.png", photo, "image/png")}),
                }
            await waiting
            return answers

    answers = run_async(go)
    for name in ("run", "drawing", "steps"):
        assert answers[name].status_code == 200, (name, answers[name].text[:300])
    assert answers["run"].json()["forward"]["prediction"] in range(10)
    photo_answer = answers["photo"]  # heavy: the queue (max_queue 1) is full
    assert photo_answer.status_code == 503, photo_answer.text[:300]
    assert "max_queue = 1" in photo_answer.json()["detail"]
    assert photo_answer.headers["retry-after"] == "5"


def test_a_training_job_holds_its_cost_of_the_budget_while_it_runs(make_client):
    client = make_client()
    limiter = client.app.state.limiter
    r = client.post("/api/network/train", json={"epochs": 30, "batch_size": 64})
    assert r.status_code == 201, r.text
    job, token = r.json()["id"], r.json()["control_token"]
    assert limiter.held == service.job_cost(64)
    assert limiter.cache_room() <= Settings().memory_budget_bytes - service.job_cost(64)
    assert client.post(f"/api/network/train/{job}/stop",
                       headers={"X-Control-Token": token}).status_code == 200
    deadline = time.monotonic() + 30
    while limiter.held and time.monotonic() < deadline:
        time.sleep(0.05)
    assert limiter.held == 0 and limiter.in_flight == 0


def test_a_job_that_does_not_fit_the_budget_is_refused(make_client):
    client = make_client(memory_budget_bytes=16 * MIB)  # under one job's cost
    r = client.post("/api/network/train", json={"epochs": 1})
    assert r.status_code == 413 and r.json()["code"] == "over_memory_budget"
    assert "a training job" in r.json()["detail"]
    assert client.app.state.limiter.in_flight == 0
    client = make_client(memory_budget_bytes=32 * MIB)
    release = client.app.state.limiter.hold(20 * MIB, "other work")
    r = client.post("/api/network/train", json={"epochs": 1})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    release()
    assert client.app.state.limiter.in_flight == 0


def run_async(coroutine_function):
    import anyio

    return anyio.run(coroutine_function)
