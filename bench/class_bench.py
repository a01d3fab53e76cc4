"""A class on two workers and Redis: how many learners are served with every interaction
under 300 ms at p95, and what each worker holds.

    python -m bench.class_bench [--quick] [--levels 10,20,40] [--seconds 20]

One `python -m app` server with `--workers 2` and CONVSTEP_REDIS_URL on a throwaway
redis-server (bench/redis_server.py: a free loopback port, nothing persisted), and growing
classes of simulated learners, one level after the other. Each learner keeps one connection
and, after a pause of 1-4 s (reading, thinking), does what a person on the pages does:

- Learn: a seed function's probe cases (GET /api/learn/<fn>/cases) or one of the exercise's
  calls (POST /api/conv_forward, /api/pool_forward, /api/conv_backward on its own inputs);
- Explore: a setting changed (POST /api/image of a sample at size 96 with another filter
  size, stride or padding), an upload of a photo, a page of steps of its last image;
- Network: a drawn digit run forward and backward (POST /api/network/run, the ink as base64,
  as the page sends it), a step page of conv1 (POST /api/network/steps);
- a few training jobs: one learner in 15 starts one (paced at the page's 20 steps a second)
  and watches it by server-sent events for the whole level; one in 30 uploads weights and
  runs a digit on them.

A level passes when every kind of interaction answers 200 with a p95 under 300 ms and no
answer is a 5xx. The report gives, per level, each kind's p95, the shed (503) and error
counts, the resident memory of each worker at the end, and the load average while it ran
(other work on the machine slows everything down: say it with the number). Every request
goes to 127.0.0.1; every level stops at its deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.common import p95
from bench.load_bench import LiveServer, array_examples, rss_bytes, upload_images
from bench.redis_server import RedisServer

MIB = 2**20
TARGET_S = 0.300
THINK = (1.0, 4.0)
FUNCTIONS = ("zero_pad", "conv_single_step", "conv_forward", "pool_forward", "conv_backward",
             "pool_backward")
# (kind, weight): what a learner does next
MIX = (("learn_cases", 2), ("learn_call", 2), ("explore_setting", 3), ("explore_upload", 1),
       ("explore_steps", 2), ("network_draw", 4), ("network_steps", 1))


@dataclass
class Level:
    learners: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(
        lambda: defaultdict(int)))
    errors: int = 0
    rss: list[int] = field(default_factory=list)
    load: float = 0.0

    def p95s(self) -> dict[str, float]:
        return {k: p95(v) for k, v in sorted(self.latencies.items()) if v}

    @property
    def passed(self) -> bool:
        bad = sum(n for s in self.statuses.values() for code, n in s.items() if code != 200)
        return (not bad and not self.errors and bool(self.latencies)
                and all(v < TARGET_S for v in self.p95s().values()))


def _ink(rng: random.Random) -> dict:
    """A digit-like stroke on a 64 x 64 canvas, as the page's base64 bytes."""
    ink = np.zeros((64, 64), np.uint8)
    cx, cy, r = rng.uniform(24, 40), rng.uniform(24, 40), rng.uniform(10, 18)
    for t in np.linspace(0, 2 * np.pi * rng.uniform(0.6, 1.0), 80):
        y, x = int(cy + r * np.sin(t)), int(cx + 0.6 * r * np.cos(t))
        ink[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = 255
    return {"kind": "canvas", "ink_base64": base64.b64encode(ink.tobytes()).decode(),
            "shape": [64, 64]}


def _weights(seed: int) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{"dense.b": np.random.default_rng(seed).normal(0, 1, 10)})
    return buf.getvalue()


async def _learner(url: str, n: int, deadline: float, level: Level, examples: dict,
                   uploads: list[bytes]) -> None:
    rng = random.Random(n)
    kinds, weights = zip(*MIX, strict=True)
    last_image: dict | None = None
    weights_id = "shipped"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        if n % 30 == 29:  # uploads weights, then runs its digits on them
            r = await http.post("/api/network/weights", files={"file": (
                "w.npz", _weights(n), "application/octet-stream")})
            if r.status_code == 201:
                weights_id = r.json()["id"]
        await asyncio.sleep(rng.uniform(0, THINK[1]))  # the class does not click at once
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "explore_steps" and last_image is None:
                kind = "explore_setting"
            t0 = time.perf_counter()
            try:
                if kind == "learn_cases":
                    r = await http.get(f"/api/learn/{rng.choice(FUNCTIONS)}/cases")
                elif kind == "learn_call":
                    route = rng.choice(sorted(examples))
                    r = await http.post(f"/api/{route}", json=examples[route])
                elif kind in ("explore_setting", "explore_upload"):
                    f = rng.choice((3, 5, 7))  # the default preset needs a centre cell
                    settings = {"size": 96, "color": "rgb", "f": f, "stride": rng.choice((1, 2)),
                                "pad": f // 2, "sample": rng.choice(("chelsea", "coffee"))}
                    files = {"settings": (None, _json(settings), "application/json")}
                    if kind == "explore_upload":
                        settings.pop("sample")
                        files = {"settings": (None, _json(settings), "application/json"),
                                 "file": ("photo.jpg", rng.choice(uploads), "image/jpeg")}
                    r = await http.post("/api/image", files=files)
                    if r.status_code == 200:
                        a = r.json()
                        last_image = {"id": a["id"], "settings": settings,
                                      "totals": {k: v["total"] for k, v in a["steps"].items()}}
                elif kind == "explore_steps":
                    stage = rng.choice(sorted(last_image["totals"]))
                    r = await http.post("/api/steps", json={
                        "id": last_image["id"], "settings": last_image["settings"],
                        "stage": stage, "offset": rng.randrange(last_image["totals"][stage]),
                        "limit": 64})
                elif kind == "network_draw":
                    r = await http.post("/api/network/run", json={
                        "input": _ink(rng), "weights": weights_id})
                else:
                    r = await http.post("/api/network/steps", json={
                        "input": _ink(rng), "weights": weights_id, "layer": "conv1",
                        "limit": 64})
                level.latencies[kind].append(time.perf_counter() - t0)
                level.statuses[kind][r.status_code] += 1
                if r.status_code != 200:
                    level.latencies[kind].pop()
            except httpx.HTTPError:
                level.errors += 1
            await asyncio.sleep(rng.uniform(*THINK))


async def _trainer(url: str, deadline: float, level: Level) -> None:
    """A learner who starts a training job and watches it by server-sent events."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        t0 = time.perf_counter()
        r = await http.post("/api/network/train", json={"epochs": 30, "steps_per_second": 20})
        level.statuses["train_start"][r.status_code] += 1
        if r.status_code != 201:
            return
        level.statuses["train_start"][200] += level.statuses["train_start"].pop(201)
        level.latencies["train_start"].append(time.perf_counter() - t0)
        job = r.json()
        try:
            async with http.stream("GET", f"/api/network/train/{job['id']}/events") as s:
                async for _ in s.aiter_lines():
                    if time.monotonic() > deadline:
                        break
        except httpx.HTTPError:
            level.errors += 1
        await http.delete(f"/api/network/train/{job['id']}",
                          headers={"X-Control-Token": job["control_token"]})


def _json(value) -> str:
    import json

    return json.dumps(value)


async def _level(url: str, learners: int, seconds: float, examples: dict,
                 uploads: list[bytes]) -> Level:
    level = Level(learners, seconds)
    deadline = time.monotonic() + seconds
    trainers = max(1, learners // 15)
    tasks = [_learner(url, n, deadline, level, examples, uploads) for n in range(learners)]
    tasks += [_trainer(url, deadline, level) for _ in range(trainers)]
    await asyncio.gather(*tasks)
    return level


def run(levels: list[int], seconds: float) -> list[Level]:
    out = []
    with RedisServer() as redis:
        env = {"CONVSTEP_REDIS_URL": redis.url,
               # each simulated learner is a client of its own in a class; here they all
               # come from 127.0.0.1, so the per-client bounds are the class's
               "CONVSTEP_NET_CLIENT_JOBS": "8", "CONVSTEP_NET_MAX_JOBS": "8",
               "CONVSTEP_NET_CLIENT_WATCHERS": "1000", "CONVSTEP_NET_CLIENT_WEIGHT_SETS": "100"}
        log = Path(os.environ.get("TMPDIR", "/tmp")) / "convstep-class-bench.log"
        server = LiveServer(log, env=env, workers=2, access_log=False)
        try:
            examples = array_examples(server.url)
            uploads = upload_images()
            # a few learners first, not reported: both workers import, load and warm up
            asyncio.run(_level(server.url, 4, 5.0, examples, uploads))
            for n in levels:
                redis.flush()
                before = os.getloadavg()[0]
                level = asyncio.run(_level(server.url, n, seconds, examples, uploads))
                level.load = max(before, os.getloadavg()[0])
                level.rss = [rss_bytes(pid) for pid in server.worker_pids()]
                out.append(level)
                print(report_line(level), flush=True)
        finally:
            server.stop()
    return out


def report_line(level: Level) -> str:
    p = ", ".join(f"{k} {v * 1000:.0f}" for k, v in level.p95s().items())
    bad = {k: dict(v) for k, v in level.statuses.items() if set(v) - {200}}
    rss = " + ".join(f"{r / MIB:.0f}" for r in level.rss)
    return (f"{level.learners:4d} learners, {level.seconds:.0f} s: "
            f"{'PASS' if level.passed else 'fail'}; p95 ms: {p}; not 200: {bad or 'none'}; "
            f"transport errors {level.errors}; RSS MiB {rss}; load average {level.load:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.class_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="levels 10, 20 for 10 s each")
    parser.add_argument("--levels", default="10,20,30,45,60,80",
                        help="learners at each level, comma separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of a level")
    args = parser.parse_args(argv)
    levels = [10, 20] if args.quick else [int(x) for x in args.levels.split(",")]
    seconds = 10.0 if args.quick else args.seconds
    results = run(levels, seconds)
    served = [lv.learners for lv in results if lv.passed]
    print(f"served with every interaction's p95 under {TARGET_S * 1000:.0f} ms: "
          f"{max(served) if served else 'none of the levels'} learners")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
