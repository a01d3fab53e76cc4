"""Work is admitted by its cost within one memory budget (issue 10, items 1, 7 and 12).

- The cost the server computes before a request allocates anything is an upper bound of
  what it really holds: measured as the exact peak (VmHWM) of the same work in a fresh
  process, for array routes and image requests of several sizes.
- Cheap calls pass while heavy ones queue: with every heavy slot taken and a heavy request
  waiting, the exercise's small conv_forward is served at once; another heavy one is shed.
- The steps cache and the work in flight share memory_budget_bytes: taking room for work
  makes the cache give up entries; a request over the budget alone is a 413.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.main import create_app
from app.platform.config import Settings
from app.platform.heavy import LIGHT_BYTES

from .asgi import run_in_thread

ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from app.platform.config import Settings
from app.explore.schemas import arrays as m
from app.explore.services import arrays as service
from app.platform.cache import LruCache
from app.explore.services import image as image_service
from app.explore.schemas.image import ImageSettings
from app.platform.samples import sample_bytes

def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))

kind, payload = sys.argv[2], json.loads(sys.stdin.read())
settings = Settings()
if kind == "image":
    s = ImageSettings(**payload)
    cache = LruCache(lambda: settings)
    data = sample_bytes(s.sample)
    cost = image_service.image_cost(cache, "sample:" + s.sample, data, s, settings)[0]
    run = lambda: image_service._image_answer(cache, "sample:" + s.sample, data, s, None,
                                               settings, "float32", True)
else:
    name, model, answer = kind, getattr(m, payload.pop("_in")), getattr(m, payload.pop("_out"))
    raw = json.dumps(payload).encode()
    from app.platform.json_body import parse_cost
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    body = model.model_validate_json(raw, strict=True)
    cost = parse_cost(raw) + service.cost(name, body, settings)
    run = lambda: answer(**getattr(service, name)(body, settings)).model_dump_json()
if kind == "image":
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
out = run()
print(json.dumps({"growth": status("VmHWM") - before, "cost": cost}))
"""


def _measure(kind: str, payload: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), kind],
                         input=json.dumps(payload), capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def _arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).round(6).tolist()


ARRAY_CASES = [
    ("conv_forward", {"_in": "ConvForwardIn", "_out": "ConvForwardOut",
                      "A_prev": _arr(2, 64, 64, 3), "W": _arr(3, 3, 3, 8), "b": _arr(1, 1, 1, 8),
                      "hparameters": {"stride": 1, "pad": 1}, "steps": {"limit": 64}}),
    ("conv_forward", {"_in": "ConvForwardIn", "_out": "ConvForwardOut",
                      "A_prev": _arr(1, 8, 8, 64), "W": _arr(5, 5, 64, 4), "b": _arr(1, 1, 1, 4),
                      "hparameters": {"stride": 1, "pad": 40}, "dilation": 8}),
    ("conv_backward", {"_in": "ConvBackwardIn", "_out": "ConvBackwardOut",
                       "dZ": _arr(1, 128, 128, 4), "A_prev": _arr(1, 128, 128, 4),
                       "W": _arr(3, 3, 4, 4), "b": _arr(1, 1, 1, 4),
                       "hparameters": {"stride": 1, "pad": 1}, "pad_mode": "reflect"}),
    ("pool_backward", {"_in": "PoolBackwardIn", "_out": "PoolBackwardOut",
                       "dA": _arr(1, 64, 90, 8), "A_prev": _arr(1, 128, 180, 8),
                       "hparameters": {"stride": 2, "f": 2}, "mode": "max",
                       "tie_rule": "split"}),
    ("zero_pad", {"_in": "ZeroPadIn", "_out": "ZeroPadOut", "X": _arr(1, 256, 256, 1),
                  "pad": 64}),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name, payload", ARRAY_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(ARRAY_CASES)])
def test_array_cost_bounds_the_real_peak(name, payload):
    got = _measure(name, dict(payload))
    assert got["growth"] <= got["cost"], (name, got)
    print(f"\n{name}: peak growth {got['growth'] / MIB:.1f} MiB <= cost "
          f"{got['cost'] / MIB:.1f} MiB")


IMAGE_CASES = [
    {"sample": "chelsea", "size": 96},
    {"sample": "coffee", "size": 256, "filters": [{"preset": "sobel_x"}] * 8},
    {"sample": "coffee", "size": 512, "filters": [{"preset": "box_blur"}] * 8,
     "pool": {"mode": "max", "f": 2, "stride": 2}},
    {"sample": "camera", "size": 512, "color": "gray", "f": 7, "pad": 3, "dilation": 2},
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("settings", IMAGE_CASES, ids=[str(i) for i in range(len(IMAGE_CASES))])
def test_image_cost_bounds_the_real_peak(settings):
    got = _measure("image", settings)
    assert got["growth"] <= got["cost"], (settings, got)
    assert got["cost"] < Settings().memory_budget_bytes  # the page's largest still runs
    print(f"\nimage {settings}: peak growth {got['growth'] / MIB:.1f} MiB <= cost "
          f"{got['cost'] / MIB:.1f} MiB")


# --- admission ---------------------------------------------------------------------------------

SMALL = {"A_prev": [[[[1.0], [2.0]], [[3.0], [4.0]]]], "W": [[[[1.0]]]], "b": [[[[0.0]]]],
         "hparameters": {"stride": 1, "pad": 0}}


def test_cheap_calls_pass_while_heavy_ones_queue():
    """39 of 1092 conv_forward calls were admitted under overload: they waited in the same
    queue as the image requests."""
    app = create_app(Settings(max_heavy=1, max_queue=1, queue_wait_s=5))
    limiter = app.state.limiter
    heavy = LIGHT_BYTES + 1

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            async with limiter.slot(heavy):  # the only heavy slot
                waiting = asyncio.ensure_future(limiter.slot(heavy).__aenter__())
                await asyncio.sleep(0.05)
                assert len(limiter._waiters) == 1  # a heavy request queues
                light = await c.post("/api/conv_forward", json=SMALL)
                shed = await c.post("/api/image", files={"settings": (None, json.dumps(
                    {"sample": "coffee", "size": 256, "filters": [{"preset": "identity"}] * 8}))})
            await waiting  # it got the slot once the first was done
            return light, shed

    light, shed = run_in_thread(go)
    assert light.status_code == 200, light.text
    assert shed.status_code == 503 and "max_queue = 1" in shed.json()["detail"]


def test_the_cache_makes_room_for_work_in_flight():
    budget = 64 * MIB
    app = create_app(Settings(memory_budget_bytes=budget, cache_bytes=48 * MIB))
    cache, limiter = app.state.cache, app.state.limiter
    for k in range(10):
        cache.put(("image", k), object(), 4 * MIB)
    assert cache.nbytes == 40 * MIB

    async def go():
        async with limiter.slot(40 * MIB):
            during = cache.nbytes, limiter.cache_room()
            cache.put(("image", "new"), object(), 30 * MIB)  # no room beside the work
            return during, ("image", "new") in cache._items

    (held, room), kept = run_in_thread(go)
    assert held <= budget - 40 * MIB and room == budget - 40 * MIB
    assert not kept
    assert limiter.cache_room() == 48 * MIB  # the cap again once the work is done


def test_a_request_over_the_budget_alone_is_a_413_naming_it():
    app = create_app(Settings(memory_budget_bytes=32 * MIB))
    from .asgi import asgi_request

    r = asgi_request(app, "POST", "/api/image", files={"settings": (None, json.dumps(
        {"sample": "coffee", "size": 512, "filters": [{"preset": "identity"}] * 8}))})
    assert r.status_code == 413 and r.json()["code"] == "over_memory_budget"
    assert "memory_budget_bytes = 33554432" in r.json()["detail"]
    assert "CONVSTEP_MEMORY_BUDGET_BYTES" in r.json()["detail"]
    r = asgi_request(app, "POST", "/api/conv_forward", json=SMALL)
    assert r.status_code == 200
