"""Load on loopback: a classroom of clients against a live uvicorn, then past capacity.

    python -m bench --only load_bench          (or: python -m bench.load_bench [--quick]
                                                [--only-mixed])

Three phases against one `python -m app` server (uvicorn, one worker, the default limits
except a smaller steps cache so that its bound is reached within the run), then two more
scenarios on fresh servers:

1. **Classroom**: 32 clients for 30 s, each one looping over a mix of what the page and a
   program send (an upload, a sample image, step pages of its last image, array routes,
   health) with a random pause of 0.2-1.0 s between requests, as people click.
2. **Overload**: 64 clients for 10 s sending heavy image requests (working size 256, eight
   filters; the same one, so its layer is cached after the first, but each is admitted at
   its full cost and takes a heavy slot) with no pause at all: far past `max_heavy` +
   `max_queue`. The server must shed with 503 + Retry-After, not queue without bound or
   grow its memory.
3. **Recovery**: right after, 8 clients for 5 s of the classroom mix: every answer 200 again.
4. **Classroom, short queue**: phase 1 again on a fresh server with CONVSTEP_MAX_QUEUE=8
   and CONVSTEP_QUEUE_WAIT_S=2 (the first defaults), which shed some of a class's bursts.
5. **Mixed overload under a memory budget**: on a fresh server per budget (the default
   512 MiB and 256 MiB), 24 clients sending image requests that are never cached (size
   256, eight filters, other biases each time) and 24 sending the exercise's conv_forward,
   all with no pause, and /healthz polled: the small calls are admitted (the share of 200
   is measured), the heavy ones queue or get 503 + Retry-After, and the worker's exact peak
   RSS stays under the budget + its baseline + a stated slack.

Every request goes to 127.0.0.1 only; every loop stops at its deadline and at a request cap.
Resident memory (VmRSS of the serving processes) is sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.common import stop_process

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS = 50_000  # a hard cap on any one phase, whatever its duration
LATE_S = 60.0  # how long past its deadline a client may go on to reach its minimum count
MIB = 2**20
SERVE = ("import os, sys, uvicorn; from app.__main__ import BLAS_THREADS, uvicorn_options; "
         "[os.environ.setdefault(k, v) for k, v in BLAS_THREADS.items()]; "
         "uvicorn.run('app.main:app', fd=int(sys.argv[1]), workers=int(sys.argv[2]), "
         "access_log=sys.argv[3] == '1', **uvicorn_options())")


# --- a live server ----------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Resident memory of one process, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def hwm_bytes(pid: int) -> int:
    """Peak resident memory of one process since it started or since reset_hwm (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def reset_hwm(pid: int) -> None:
    """Set a process's VmHWM back to its current RSS (Linux >= 4.0, /proc/<pid>/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out.extend(int(c) for c in (task / "children").read_text().split())
    return out


class LiveServer:
    """uvicorn serving app.main:app with `python -m app`'s options, on a socket bound here to
    127.0.0.1 port 0 and passed down (`--fd`), so no port is guessed. Output goes to
    `log_path`; `env` adds CONVSTEP_* limits."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None, workers: int = 1,
                 access_log: bool = True) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(self.sock.fileno()), str(workers),
             "1" if access_log else "0"],
            cwd=ROOT, pass_fds=[self.sock.fileno()], stdout=self._log,
            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.wait_healthy(30)

    def wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as res:
                    if res.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not become healthy:\n{self.log()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the server itself with one worker)."""
        if self.workers == 1:
            return [self.proc.pid]
        # uvicorn's supervisor spawns the workers (and multiprocessing a resource tracker)
        return [pid for pid in children(self.proc.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def rss(self) -> int:
        """Resident memory of the serving processes together, in bytes."""
        return sum(rss_bytes(pid) for pid in self.worker_pids())

    def reset_peak(self) -> None:
        """Start a new exact peak (VmHWM) of every serving process from its current RSS."""
        for pid in self.worker_pids():
            reset_hwm(pid)

    def peak(self) -> int:
        """Peak resident memory of the serving processes since reset_peak, each at its own
        peak, summed (an exact high-water mark, not a sample)."""
        return sum(hwm_bytes(pid) for pid in self.worker_pids())

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_process(self.proc, 15)
        self.sock.close()
        self._log.close()


class RssSampler:
    """Samples a server's RSS every `interval` seconds in a thread, between start and stop."""

    def __init__(self, server: LiveServer, interval: float = 0.2) -> None:
        self.server = server
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, RuntimeError):
                self.samples.append(self.server.rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max(self.samples)


# --- what the clients send --------------------------------------------------------------------


def upload_images(n: int = 8, seed: int = 0) -> list[bytes]:
    """n distinct 160x120 JPEGs (a gradient plus noise), made in memory."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = np.linspace(0, 200, 160)[None, :, None]
        y = np.linspace(0, 200, 120)[:, None, None]
        arr = np.clip(x * rng.random(3) + y * rng.random(3)
                      + rng.normal(0, 20, (120, 160, 3)), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr, "RGB").save(buf, format="JPEG", quality=85)
        out.append(buf.getvalue())
    return out


CLASSROOM_UPLOAD = {"size": 64, "color": "rgb"}
CLASSROOM_SAMPLE = {"sample": "chelsea", "size": 96, "color": "rgb"}
HEAVY = {"sample": "coffee", "size": 256, "color": "rgb",
         "filters": [{"preset": p} for p in ("sobel_x", "sobel_y", "laplacian", "sharpen",
                                              "box_blur", "gaussian_blur", "emboss",
                                              "outline")]}


def fresh_heavy(rng: random.Random) -> dict:
    """HEAVY with other biases on every request: never a cached result, always computed."""
    return {**HEAVY, "filters": [{**f, "bias": round(rng.uniform(-0.5, 0.5), 6)}
                                 for f in HEAVY["filters"]]}


# (kind, weight) of the classroom mix
CLASSROOM_MIX = (("upload", 2), ("sample", 2), ("steps", 4), ("conv_forward", 1),
                 ("pool_forward", 1), ("conv_backward", 1), ("healthz", 1))


@dataclass
class Record:
    kind: str
    status: int
    seconds: float
    retry_after: str | None = None


@dataclass
class PhaseResult:
    name: str
    clients: int
    seconds: float  # wall time from the first request to the last answer
    records: list[Record] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # transport errors by type
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0
    rss_hwm: int = 0  # exact peak (VmHWM) from the phase's start

    @property
    def statuses(self) -> Counter:
        return Counter(r.status for r in self.records)

    @property
    def server_errors(self) -> list[Record]:
        """5xx other than the 503 of load shedding."""
        return [r for r in self.records if r.status >= 500 and r.status != 503]

    @property
    def shed(self) -> list[Record]:
        return [r for r in self.records if r.status == 503]

    def latencies(self, kind: str | None = None, status: int | None = 200) -> list[float]:
        return [r.seconds for r in self.records
                if (kind is None or r.kind == kind) and (status is None or r.status == status)]

    @property
    def throughput(self) -> float:
        return len(self.records) / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between ranks; nan for no values."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), q))


async def _client(url: str, kinds: list[str], weights: list[int], deadline: float,
                  think: tuple[float, float], result: PhaseResult, uploads: list[bytes],
                  examples: dict[str, dict], rng: random.Random, budget: list[int],
                  min_requests: int = 0) -> None:
    """Requests until `deadline`, and at least `min_requests` of them (a busy machine
    answers few per second) unless LATE_S seconds more pass."""
    last: dict | None = None  # {"id", "settings", "totals": {stage: total}}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        done = 0
        while budget[0] > 0 and (time.monotonic() < deadline or (
                done < min_requests and time.monotonic() < deadline + LATE_S)):
            done += 1
            budget[0] -= 1
            kind = rng.choices(kinds, weights)[0]
            if kind == "steps" and last is None:
                kind = "sample"
            t0 = time.perf_counter()
            try:
                if kind in ("upload", "sample", "heavy", "fresh"):
                    settings = (CLASSROOM_UPLOAD if kind == "upload" else
                                CLASSROOM_SAMPLE if kind == "sample" else
                                fresh_heavy(rng) if kind == "fresh" else HEAVY)
                    files = {"settings": (None, json.dumps(settings), "application/json")}
                    if kind == "upload":
                        files["file"] = ("photo.jpg", rng.choice(uploads), "image/jpeg")
                    res = await http.post("/api/image", files=files)
                    if res.status_code == 200 and kind in ("upload", "sample"):
                        answer = res.json()
                        last = {"id": answer["id"], "settings": settings,
                                "totals": {k: v["total"] for k, v in answer["steps"].items()}}
                elif kind == "steps":
                    assert last is not None
                    stage = rng.choice(sorted(last["totals"]))
                    body = {"id": last["id"], "settings": last["settings"], "stage": stage,
                            "offset": rng.randrange(last["totals"][stage]), "limit": 64}
                    res = await http.post("/api/steps", json=body)
                elif kind == "healthz":
                    res = await http.get("/healthz")
                else:
                    res = await http.post(f"/api/{kind}", json=examples[kind])
                elapsed = time.perf_counter() - t0
                result.records.append(Record(kind, res.status_code, elapsed,
                                             res.headers.get("retry-after")))
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
            if think[1] > 0:
                await asyncio.sleep(rng.uniform(*think))


# A group of clients: (how many, their (kind, weight) mix, their pause range in seconds).
Group = tuple[int, tuple[tuple[str, int], ...], tuple[float, float]]


async def _phase(url: str, name: str, groups: list[Group], seconds: float,
                 uploads: list[bytes], examples: dict[str, dict], seed: int,
                 min_requests: int = 0) -> PhaseResult:
    result = PhaseResult(name, sum(g[0] for g in groups), 0.0)
    budget = [MAX_REQUESTS]
    start = time.monotonic()
    deadline = start + seconds
    clients = []
    for clients_in_group, mix, think in groups:
        kinds, weights = [k for k, _ in mix], [w for _, w in mix]
        for _ in range(clients_in_group):
            clients.append(_client(url, kinds, weights, deadline, think, result, uploads,
                                   examples, random.Random(seed * 1000 + len(clients)),
                                   budget, min_requests))
    await asyncio.gather(*clients)
    result.seconds = time.monotonic() - start
    return result


def array_examples(url: str) -> dict[str, dict]:
    """The OpenAPI examples of the array routes (the exercise's own inputs)."""
    schemas = httpx.get(f"{url}/openapi.json", timeout=10).json()["components"]["schemas"]
    return {route: schemas[model]["examples"][0] for route, model in (
        ("conv_forward", "ConvForwardIn"), ("pool_forward", "PoolForwardIn"),
        ("conv_backward", "ConvBackwardIn"))}


def run_phase(server: LiveServer, name: str, clients: int, seconds: float,
              mix: tuple[tuple[str, int], ...], think: tuple[float, float] = (0.0, 0.0),
              seed: int = 0, min_requests: int = 0) -> PhaseResult:
    """One bounded phase of load against `server`, with its RSS before, at peak and after;
    each client sends at least `min_requests` (see _client)."""
    return run_groups(server, name, [(clients, mix, think)], seconds, seed, min_requests)


def run_groups(server: LiveServer, name: str, groups: list[Group], seconds: float,
               seed: int = 0, min_requests: int = 0) -> PhaseResult:
    """run_phase with groups of clients, each group with its own mix and pause: RSS before,
    sampled peak, exact peak (VmHWM from the phase's start) and after."""
    uploads = upload_images()
    examples = array_examples(server.url)
    before = server.rss()
    server.reset_peak()
    with RssSampler(server) as sampler, ThreadPoolExecutor(1) as pool:
        # a thread of its own: the caller's thread may have a running loop (Playwright)
        result = pool.submit(asyncio.run, _phase(server.url, name, groups, seconds, uploads,
                                                 examples, seed, min_requests)).result()
    result.rss_before, result.rss_peak, result.rss_after = before, sampler.peak, server.rss()
    result.rss_hwm = server.peak()
    return result


# The mixed overload (issue 10, items 7 and 12): half the clients send heavy image requests
# that are never cached (size 256, eight filters, other biases each time), half the
# exercise's small conv_forward, with no pause; one client polls /healthz every 0.25 s.
HEALTH_POLL: Group = (1, (("healthz", 1),), (0.25, 0.25))


def mixed_groups(heavy_clients: int, light_clients: int) -> list[Group]:
    return [(heavy_clients, (("fresh", 1),), (0.0, 0.0)),
            (light_clients, (("conv_forward", 1),), (0.0, 0.0)), HEALTH_POLL]


def by_kind(r: PhaseResult, kind: str) -> Counter:
    """Statuses of one kind of request ("fresh", "conv_forward", "healthz")."""
    return Counter(x.status for x in r.records if x.kind == kind)


# --- the report -------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    value = seconds * 1e3
    return "–" if value != value else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def phase_table(results: list[PhaseResult]) -> str:
    lines = ["| phase | clients | requests | req/s | 200 | 503 (shed) | other 5xx | errors "
             "| p50 ms | p95 ms | p99 ms | RSS before / exact peak / after MiB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| --- |"]
    for r in results:
        ok = r.latencies()
        lines.append(md_row(
            r.name, r.clients, len(r.records), f"{r.throughput:.0f}", r.statuses[200],
            len(r.shed), len(r.server_errors), sum(r.errors.values()), ms(percentile(ok, 50)),
            ms(percentile(ok, 95)), ms(percentile(ok, 99)),
            f"{r.rss_before / MIB:.0f} / {r.rss_hwm / MIB:.0f} / {r.rss_after / MIB:.0f}"))
    return "\n".join(lines)


def md_row(*cells) -> str:
    """One row of a Markdown table."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def kind_table(r: PhaseResult) -> str:
    lines = [f"Per request kind, {r.name} (answers with status 200):", "",
             "| kind | requests | p50 ms | p95 ms | p99 ms |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for kind in sorted({rec.kind for rec in r.records}):
        lat = r.latencies(kind)
        lines.append(f"| {kind} | {len([x for x in r.records if x.kind == kind])} | "
                     f"{ms(percentile(lat, 50))} | {ms(percentile(lat, 95))} | "
                     f"{ms(percentile(lat, 99))} |")
    return "\n".join(lines)


# The steps cache is set to 64 MiB for the run, so its bound is reached; the RSS bound is
# the idle server + the cache bound + room for max_heavy computations at working size 512.
CACHE_MIB = 64
RSS_BOUND_MIB = 400


# A second server for the classroom with a longer queue: what a class of 30+ should run.
# the first defaults, for comparison: a short queue sheds a classroom's bursts
SHORT_QUEUE = {"CONVSTEP_MAX_QUEUE": "8", "CONVSTEP_QUEUE_WAIT_S": "2"}


def run_phases(quick: bool) -> str:
    """The three phases on default limits, then the classroom again with a shorter queue
    (shorter phases with quick), as Markdown."""
    import tempfile

    seconds = (8, 4, 3) if quick else (30, 10, 5)
    cache = {"CONVSTEP_CACHE_BYTES": str(CACHE_MIB * MIB)}
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "server.log", access_log=False, env=cache)
        try:
            idle = server.rss()
            classroom = run_phase(server, "classroom", 32, seconds[0], CLASSROOM_MIX,
                                  think=(0.2, 1.0), seed=1)
            overload = run_phase(server, "overload", 64, seconds[1], (("heavy", 1),), seed=2)
            time.sleep(1.0)
            recovery = run_phase(server, "recovery", 8, seconds[2], CLASSROOM_MIX,
                                 think=(0.2, 1.0), seed=3)
            alive = server.proc.poll() is None
        finally:
            server.stop()
        server = LiveServer(Path(tmp) / "server2.log", access_log=False,
                            env={**cache, **SHORT_QUEUE})
        try:
            short_queue = run_phase(server, "classroom, short queue (max_queue 8, 2 s)", 32,
                                   seconds[0], CLASSROOM_MIX, think=(0.2, 1.0), seed=1)
        finally:
            server.stop()
    shed = overload.shed
    with_retry = sum(1 for r in shed if r.retry_after and r.retry_after.isdigit())
    shed_ms = [r.seconds for r in shed]
    results = (classroom, overload, recovery, short_queue)
    peak = max(r.rss_hwm for r in results)
    lines = [
        "## Load on loopback (bench/load_bench.py)",
        "",
        f"One uvicorn worker (`python -m app`'s options), default limits (max_heavy 2, "
        f"max_queue 32, queue_wait_s 10) except a {CACHE_MIB} MiB steps cache. The load "
        "generator runs on the same 2 cores. Classroom: 32 clients, each pausing 0.2-1.0 s "
        "between requests, mixing uploads (160x120 JPEG at size 64), a sample at size 96, "
        "step pages of their last image, three array routes and /healthz. Overload: 64 "
        "clients with no pause sending image requests at size 256 with eight filters (the "
        "same request: its layer is cached after the first, but each is admitted at its "
        "full cost and takes a heavy slot). Recovery: 8 classroom clients right after. "
        "Last row: the classroom again on a fresh server with the first, shorter queue "
        "(CONVSTEP_MAX_QUEUE=8, CONVSTEP_QUEUE_WAIT_S=2), which sheds some bursts.",
        "",
        phase_table(list(results)),
        "",
        kind_table(classroom),
        "",
        f"- load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        f"- idle RSS {idle / MIB:.0f} MiB; exact peak (VmHWM) over all phases "
        f"{peak / MIB:.0f} MiB "
        f"(bound {RSS_BOUND_MIB} MiB: {'held' if peak < RSS_BOUND_MIB * MIB else '**missed**'})",
        f"- shedding: {len(shed)} of {len(overload.records)} overload requests got 503, "
        f"{with_retry} of them with a Retry-After in whole seconds; a 503 took "
        f"p50 {ms(percentile(shed_ms, 50))} ms, p95 {ms(percentile(shed_ms, 95))} ms; "
        f"served heavy requests: {overload.statuses[200]} "
        f"({overload.statuses[200] / overload.seconds:.1f}/s)",
        f"- recovery: {recovery.statuses[200]} of {len(recovery.records)} answers 200, "
        f"5xx {len(recovery.server_errors) + len(recovery.shed)}; server alive: {alive}",
        f"- 5xx other than shedding, all phases: "
        f"{sum(len(r.server_errors) for r in results)}; classroom 503s: {len(classroom.shed)} "
        f"with the default queue, {len(short_queue.shed)} with the short one",
    ]
    return "\n".join(lines)


# The mixed overload at two memory budgets: the default and a low one.
MIX_CLIENTS = (24, 24)  # heavy (uncached size 256, eight filters), light (conv_forward)
MIX_BUDGETS_MIB = (512, 256)
# What one worker holds besides the budget and its baseline: the answers being sent after
# their admission ended (an image answer at size 256 with eight filters is a few MB, one
# per served client), Python's objects around the cached arrays (the cache counts array
# data) and the allocator's free lists (glibc keeps freed arrays below its dynamic mmap
# threshold in its heaps). Measured: up to 64 MiB over budget + baseline with a 256 MiB
# budget, 42 MiB under it with 512 (2 cores, load average 13-18).
MIX_SLACK_MIB = 96


def warm(server: LiveServer) -> int:
    """One small image and one array call (imports and the samples loaded, almost nothing
    cached): the worker's baseline RSS, in bytes."""
    files = {"settings": (None, json.dumps(CLASSROOM_SAMPLE), "application/json")}
    httpx.post(f"{server.url}/api/image", files=files, timeout=60)
    httpx.post(f"{server.url}/api/conv_forward", json=array_examples(server.url)["conv_forward"],
               timeout=60)
    return server.rss()


@dataclass
class MixRun:
    budget_mib: int
    baseline: int
    result: PhaseResult

    @property
    def bound(self) -> int:
        return (self.budget_mib + MIX_SLACK_MIB) * MIB + self.baseline


def run_mix(budget_mib: int, seconds: float, tmp: Path) -> MixRun:
    """The mixed overload against a fresh one-worker server with this memory budget (every
    other limit at its default: max_heavy 2, max_queue 32, queue_wait_s 10, a 256 MiB cap
    on the steps cache)."""
    env = {"CONVSTEP_MEMORY_BUDGET_BYTES": str(budget_mib * MIB)}
    server = LiveServer(tmp / f"mix{budget_mib}.log", access_log=False, env=env)
    try:
        baseline = warm(server)
        result = run_groups(server, f"mixed, budget {budget_mib} MiB", mixed_groups(*MIX_CLIENTS),
                            seconds, seed=5)
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server died:\n{server.log()[-3000:]}")
    finally:
        server.stop()
    return MixRun(budget_mib, baseline, result)


def mix_table(runs: list[MixRun]) -> str:
    lines = ["| budget | requests | conv_forward 200 of n | conv_forward p50 / p95 ms "
             "| heavy 200 / 503 / other | heavy 503 with Retry-After | /healthz 200 of n, "
             "p95 ms | other 5xx | errors | RSS baseline / exact peak / after MiB "
             f"| bound: budget + baseline + {MIX_SLACK_MIB} MiB |",
             "| ---: | ---: | ---: | --- | --- | ---: | --- | ---: | ---: | --- | --- |"]
    for m in runs:
        r = m.result
        light, heavy, health = by_kind(r, "conv_forward"), by_kind(r, "fresh"), by_kind(
            r, "healthz")
        n_light = sum(light.values())
        lat = r.latencies("conv_forward")
        retry = sum(1 for x in r.shed if x.kind == "fresh" and (x.retry_after or "").isdigit())
        other = sum(heavy.values()) - heavy[200] - heavy[503]
        held = r.rss_hwm < m.bound
        lines.append(md_row(
            f"{m.budget_mib} MiB", len(r.records),
            f"{light[200]} of {n_light} ({100 * light[200] / max(1, n_light):.1f} %)",
            f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 95))}",
            f"{heavy[200]} / {heavy[503]} / {other}", f"{retry} of {heavy[503]}",
            f"{health[200]} of {sum(health.values())}, "
            f"{ms(percentile(r.latencies('healthz'), 95))}",
            len(r.server_errors), sum(r.errors.values()),
            f"{m.baseline / MIB:.0f} / {r.rss_hwm / MIB:.0f} / {r.rss_after / MIB:.0f}",
            f"{m.bound / MIB:.0f} MiB: {'held' if held else '**missed**'}"))
    return "\n".join(lines)


def run_mixed(quick: bool) -> str:
    """The mixed overload at each budget of MIX_BUDGETS_MIB, as Markdown."""
    import tempfile

    seconds = 8 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_mix(b, seconds, Path(tmp)) for b in MIX_BUDGETS_MIB]
    heavy, light = MIX_CLIENTS
    return "\n".join([
        "### Mixed overload and memory under a budget (issue 10, items 7 and 12)",
        "",
        f"A fresh one-worker server per row, every limit at its default but "
        f"CONVSTEP_MEMORY_BUDGET_BYTES. For {seconds} s, {heavy + light} clients with no pause: "
        f"{heavy} send image requests that are never cached (sample coffee at size 256, eight "
        f"filters, other biases each time), {light} the exercise's conv_forward (OpenAPI's "
        "example); one more polls /healthz every 0.25 s. Before the phase, one small image "
        "and one array call give the baseline RSS; the peak is the worker's exact peak "
        f"(VmHWM, reset at the phase's start). Slack {MIX_SLACK_MIB} MiB: answers being sent "
        "after their admission ended, the objects around cached arrays, the allocator's "
        "free lists.",
        "",
        mix_table(runs),
        "",
        f"- load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
    ])


def run(quick: bool) -> str:
    """Every scenario, as Markdown: the phases, then the mixed overload at two budgets."""
    return run_phases(quick) + "\n\n" + run_mixed(quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only-mixed", action="store_true",
                        help="only the mixed overload at two budgets")
    args = parser.parse_args(argv)
    print(run_mixed(args.quick) if args.only_mixed else run(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
