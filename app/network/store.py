"""Where the network's uploaded weights and training jobs are kept, who owns them, and how
much of the server each client may hold: the policies of docs/RELIABILITY.md ("Owned jobs
and fair capacity"), written once over app/platform/shared.py's store (this process, or
Redis for every worker and host).

A client is the address `request.client.host` (behind a reverse proxy, the address the
proxy reports, when the server trusts it: CONVSTEP_FORWARDED_ALLOW_IPS, app/__main__.py).

Weight sets (`w:<id>`, content-hashed ids): each lives `weights_ttl_seconds` from its last
upload. A client keeps at most `client_weight_sets` (its own oldest goes first); the server
at most `weight_sets`: past that, the oldest set that is not its owner's newest goes, and
when every set is someone's newest, the upload gets 503 with Retry-After.

Training jobs (`job:<id>` the snapshot, `job:<id>:w` the weights, `job:<id>:meta` the
owner and the token's hash, `job:<id>:hb` the heartbeat): at most `max_jobs` running or
paused, at most `client_jobs` of them one client's (paused ones count); ids carry 128
random bits, control tokens 192. A job runs in the worker that accepted it; that worker
refreshes its heartbeat every HEARTBEAT_EVERY seconds, and any worker marks a job whose
heartbeat is older than HEARTBEAT_TTL failed ("worker_lost") and frees its slot. Ended jobs
are kept `keep_seconds`; a client keeps its `client_keep_jobs` newest; past `keep_jobs` in
all, the oldest that is not its owner's newest goes.

Watchers (a long poll, a stream): at most `job_watchers` on one job and `client_watchers`
of one client; the next gets 503 with Retry-After. Each holds an entry that expires unless
refreshed, so a worker that dies does not leak them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import struct
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import numpy as np
from fastapi import Request

from app.network.jobs import ACTIVE, JobLimits, TrainingJob
from app.platform import shared
from app.platform.errors import ApiError
from app.platform.network_config import NetworkLimits
from app.platform.weights import PARAM_NAMES, WeightSet
from core.net import DEFAULT_NET
from core.train import TrainConfig

HEARTBEAT_EVERY = 2.0  # seconds between two heartbeats of a running or paused job
HEARTBEAT_TTL = 10.0  # a job whose heartbeat is older is marked failed (within + REAP_EVERY)
REAP_EVERY = 2.0
WATCH_TTL = 30.0  # a watcher's entry lives this long unless refreshed (streams: every 5 s)
TOKEN_HEADER = "X-Control-Token"


def client_of(request: Request) -> str:
    """Who a request counts against: its peer address (see the module docstring)."""
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------- parameters as bytes


def params_from_bytes(data: bytes) -> dict:
    """The inverse of network_jobs.params_bytes over every parameter (read-only arrays)."""
    out, at = {}, 0
    for name in PARAM_NAMES:
        shape = DEFAULT_NET.param_shapes[name]
        n = int(np.prod(shape))
        out[name] = np.frombuffer(data, dtype=np.float64, count=n, offset=at).reshape(shape)
        at += 8 * n
    return out


def _pack(meta: dict, body: bytes) -> bytes:
    head = json.dumps(meta).encode()
    return struct.pack("<I", len(head)) + head + body


def _unpack(blob: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack_from("<I", blob)
    return json.loads(blob[4:4 + n]), blob[4 + n:]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def busy(code: str, detail: str, retry_after: float) -> ApiError:
    return ApiError(503, code, detail, headers={"Retry-After": str(max(1, round(retry_after)))})


# ---------------------------------------------------------------- eviction, once for both


async def _evict_for(sh: shared.Shared, index: str, client: str, per_client: int,
                     capacity: int, *, refuse: bool) -> list[str]:
    """Make room in `index` (members "client id", scored by time) for one more of `client`'s:
    its own oldest past `per_client`, then, past `capacity`, the oldest that is not another
    client's newest. Returns the ids dropped; raises a 503 when `refuse` and no room is made
    (every entry is some client's newest)."""
    entries = await sh.zrange(index)
    dropped = []
    mine = [m for m, _ in entries if m.split(" ", 1)[0] == client]
    while len(mine) >= per_client:
        dropped.append(mine.pop(0))
    entries = [(m, s) for m, s in entries if m not in dropped]
    newest: dict[str, str] = {}
    for m, _ in entries:  # lowest score first: the last one seen is each owner's newest
        newest[m.split(" ", 1)[0]] = m
    protected = {m for owner, m in newest.items() if owner != client}
    while len(entries) >= capacity:
        victim = next((m for m, _ in entries if m not in protected), None)
        if victim is None:
            if refuse:
                raise ApiError(503, "full", "")  # the caller words it; nothing dropped
            break
        dropped.append(victim)
        entries = [(m, s) for m, s in entries if m != victim]
    await sh.zrem(index, *dropped)
    return [m.split(" ", 1)[1] for m in dropped]


# ---------------------------------------------------------------- weight sets


class WeightSets:
    def __init__(self, sh: shared.Shared) -> None:
        self.sh = sh

    async def put(self, ws: WeightSet, accuracy: float, client: str,
                  limits: NetworkLimits) -> None:
        sh, ttl = self.sh, limits.weights_ttl_seconds
        async with sh.lock("weights"):
            now = shared.clock()
            await sh.zdrop_below("w:all", now - ttl)
            member = f"{client} {ws.id}"
            await sh.zrem("w:all", member)
            try:
                gone = await _evict_for(sh, "w:all", client, limits.client_weight_sets,
                                        limits.weight_sets, refuse=True)
            except ApiError:
                oldest = min(s for _, s in await sh.zrange("w:all"))
                raise busy("weights_full", f"{limits.weight_sets} weight sets are kept "
                           "(weight_sets, CONVSTEP_NET_WEIGHT_SETS), each the newest of "
                           "another client and inside its time to live; try again later.",
                           oldest + ttl - now) from None
            still = {m.split(" ", 1)[1] for m, _ in await sh.zrange("w:all")}
            await sh.delete(*(f"w:{i}" for i in gone if i not in still and i != ws.id))
            await sh.zadd("w:all", member, now)
            meta = {"source": ws.source, "replaced": list(ws.replaced), "kept": list(ws.kept),
                    "test_accuracy": accuracy}
            await sh.set(f"w:{ws.id}", _pack(meta, _params_body(ws.params)), ttl)

    async def get(self, weights_id: str) -> dict | None:
        blob = await self.sh.get(f"w:{weights_id}")
        return None if blob is None else params_from_bytes(_unpack(blob)[1])


def _params_body(params: dict) -> bytes:
    return b"".join(np.ascontiguousarray(params[n], dtype=np.float64).tobytes()
                    for n in PARAM_NAMES)


# ---------------------------------------------------------------- training jobs


@dataclass
class _Local:
    job: TrainingJob
    client: str
    dirty: asyncio.Event
    task: asyncio.Task | None = None


class Jobs:
    """Training jobs in the shared store; the ones this worker runs in `local`."""

    def __init__(self, sh: shared.Shared, limits: NetworkLimits) -> None:
        self.sh = sh
        self.limits = limits  # the latest request's (the flusher and the reaper use them)
        self.worker = uuid.uuid4().hex[:12]
        self.local: dict[str, _Local] = {}
        self._cache: dict[str, tuple[int, float, dict]] = {}
        self._reaper: asyncio.Task | None = None
        sh.on_control = self._on_control

    # -- starting

    async def reserve(self, config: TrainConfig, client: str, limits: NetworkLimits
                      ) -> tuple[str, str]:
        """(job id, control token) of a slot taken for `client`; 503 past the bounds."""
        sh = self.sh
        self._start_reaper()
        async with sh.lock("jobs"):
            await self._reap_dead()
            active = await sh.zrange("jobs:active")
            if len(active) >= limits.max_jobs:
                raise busy("too_many_jobs", f"{len(active)} training jobs are running or "
                           f"paused (max_jobs = {limits.max_jobs}, CONVSTEP_NET_MAX_JOBS). Stop "
                           "one, or try again when one ends.", 10)
            mine = await sh.zrange(f"jobs:by:{client}")
            if len(mine) >= limits.client_jobs:
                raise busy("client_jobs", f"you have {len(mine)} training job(s) running or "
                           f"paused (client_jobs = {limits.client_jobs}, "
                           "CONVSTEP_NET_CLIENT_JOBS); stop yours first (a paused job counts "
                           f"until it ends, after max_pause_seconds = "
                           f"{limits.max_pause_seconds:g}).", 10)
            job_id, token = secrets.token_hex(16), secrets.token_urlsafe(24)
            now = shared.clock()
            meta = {"token": _token_hash(token), "client": client, "worker": self.worker,
                    "started": now}
            await sh.set(f"job:{job_id}:meta", json.dumps(meta).encode())
            await sh.set(f"job:{job_id}:hb", b"1", HEARTBEAT_TTL)
            await sh.zadd("jobs:active", job_id, now)
            await sh.zadd(f"jobs:by:{client}", job_id, now)
        return job_id, token

    async def launch(self, job_id: str, client: str, make) -> tuple[dict, threading.Thread]:
        """Build the job (make(poke) in a thread), publish its first snapshot, start it:
        (that snapshot, the job's thread)."""
        dirty = asyncio.Event()
        loop = asyncio.get_running_loop()

        def poke() -> None:
            loop.call_soon_threadsafe(dirty.set)

        try:
            job: TrainingJob = await asyncio.to_thread(make, poke)
        except BaseException:
            await self._finish(job_id, client, None)
            raise
        local = self.local[job_id] = _Local(job, client, dirty)
        snap, weights = job.published()
        await self._write(job_id, snap, weights)
        local.task = loop.create_task(self._flush(local))
        job.thread.start()
        return snap, job.thread

    async def _write(self, job_id: str, snap: dict, weights: bytes,
                     ttl: float | None = None) -> None:
        sh = self.sh
        await sh.set(f"job:{job_id}:w", weights, ttl)
        await sh.set(f"job:{job_id}", json.dumps(snap).encode(), ttl)
        await sh.publish(job_id)

    async def _flush(self, local: _Local) -> None:
        """Write the job out after every poke; refresh its heartbeat meanwhile."""
        job, sh = local.job, self.sh
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(local.dirty.wait(), HEARTBEAT_EVERY)
            local.dirty.clear()
            try:
                await sh.set(f"job:{job.id}:hb", b"1", HEARTBEAT_TTL)
                snap, weights = job.published()
                if snap["state"] in ACTIVE:
                    await self._write(job.id, snap, weights)
                    continue
                await self._finish(job.id, local.client, (snap, weights))
                self.local.pop(job.id, None)
                return
            except Exception:  # the store is away: try again at the next poke or beat
                await asyncio.sleep(HEARTBEAT_EVERY)

    async def _finish(self, job_id: str, client: str, last: tuple[dict, bytes] | None,
                      ) -> None:
        """The job has ended: its slot freed, kept keep_seconds, the keep policy applied."""
        limits = self.limits
        sh, keep = self.sh, limits.keep_seconds
        async with sh.lock("jobs"):
            await sh.zrem("jobs:active", job_id)
            await sh.zrem(f"jobs:by:{client}", job_id)
            await sh.delete(f"job:{job_id}:hb")
            if last is None:
                await sh.delete(f"job:{job_id}", f"job:{job_id}:w", f"job:{job_id}:meta")
                return
            await sh.zdrop_below("jobs:ended", shared.clock() - keep)
            gone = await _evict_for(sh, "jobs:ended", client, limits.client_keep_jobs,
                                    limits.keep_jobs, refuse=False)
            for old in gone:
                await sh.delete(f"job:{old}", f"job:{old}:w", f"job:{old}:meta")
                await sh.publish(old)
            await sh.zadd("jobs:ended", f"{client} {job_id}", shared.clock())
            await sh.expire(f"job:{job_id}:meta", keep)
            await self._write(job_id, *last, ttl=keep)

    # -- dead workers

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY)
            with contextlib.suppress(Exception):
                if await self.sh.zrange("jobs:active"):
                    async with self.sh.lock("jobs"):
                        await self._reap_dead()

    async def _reap_dead(self) -> None:
        """Jobs whose worker stopped beating: failed, their slots freed (under the lock)."""
        sh = self.sh
        for job_id, _ in await sh.zrange("jobs:active"):
            if job_id in self.local or await sh.exists(f"job:{job_id}:hb"):
                continue
            raw_meta = await sh.get(f"job:{job_id}:meta")
            client = json.loads(raw_meta)["client"] if raw_meta else "unknown"
            raw, weights = await sh.get(f"job:{job_id}"), await sh.get(f"job:{job_id}:w")
            await sh.zrem("jobs:active", job_id)
            await sh.zrem(f"jobs:by:{client}", job_id)
            if raw is None or weights is None:
                await sh.delete(f"job:{job_id}:meta")
                continue
            snap = json.loads(raw)
            snap.update(state="failed", reason="worker_lost: the worker running it stopped "
                        f"answering for {HEARTBEAT_TTL:g} s")
            keep = self.limits.keep_seconds
            await sh.zadd("jobs:ended", f"{client} {job_id}", shared.clock())
            await sh.expire(f"job:{job_id}:meta", keep)
            await self._write(job_id, snap, weights, ttl=keep)

    # -- reading

    async def snapshot(self, job_id: str) -> dict:
        """The job's whole snapshot (parsed once per change in this worker); 404 if unknown."""
        sig = self.sh.signals.get(job_id)
        version = sig.version
        now = shared.clock()
        cached = self._cache.get(job_id)
        if cached is not None and cached[0] == version and now - cached[1] < 1.0:
            return cached[2]
        raw = await self.sh.get(f"job:{job_id}")
        if raw is None:
            self._cache.pop(job_id, None)
            self.sh.signals.forget(job_id)
            raise unknown_job(job_id)
        snap = json.loads(raw)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[job_id] = (version, now, snap)
        return snap

    async def weights(self, job_id: str) -> dict:
        raw = await self.sh.get(f"job:{job_id}:w")
        if raw is None:
            raise unknown_job(job_id)
        return params_from_bytes(raw)

    # -- controls

    async def _owned(self, job_id: str, token: str | None) -> dict:
        raw = await self.sh.get(f"job:{job_id}:meta")
        if raw is None:
            raise unknown_job(job_id)
        meta = json.loads(raw)
        if not token or not hmac.compare_digest(_token_hash(token), meta["token"]):
            raise ApiError(403, "not_owner", f"{TOKEN_HEADER}: "
                           f"{'missing' if not token else 'not this job’s token'}. Only "
                           "the page that started a training job can pause, resume, stop or "
                           "delete it; anyone with its id can watch it.")
        return meta

    async def control(self, job_id: str, action: str, token: str | None) -> None:
        await self._owned(job_id, token)
        snap = await self.snapshot(job_id)
        if snap["state"] not in ACTIVE:
            raise ApiError(409, "job_ended", f"The training job {job_id} has ended "
                           f"({snap['state']}); start a new one.")
        await self.sh.publish("ctl", f"{job_id} {action}")

    async def _on_control(self, message: str) -> None:
        """A control for a job of this worker: "<id> pause|resume|stop", "<id> pace <n>"."""
        job_id, action, *arg = message.split(" ")
        local = self.local.get(job_id)
        if local is not None:
            with contextlib.suppress(ApiError):  # it ended meanwhile
                if action == "pace":
                    local.job.set_pace(None if arg[0] == "None" else float(arg[0]))
                else:
                    local.job.control(action)

    async def delete(self, job_id: str, token: str | None) -> None:
        meta = await self._owned(job_id, token)
        snap = await self.snapshot(job_id)
        if snap["state"] in ACTIVE:
            await self.sh.publish("ctl", f"{job_id} stop")
            sig = self.sh.signals.get(job_id)
            for _ in range(50):
                seen = sig.version
                if (await self.snapshot(job_id))["state"] not in ACTIVE:
                    break
                await sig.wait(seen, 0.2)
        async with self.sh.lock("jobs"):
            await self.sh.zrem("jobs:ended", f"{meta['client']} {job_id}")
            await self.sh.delete(f"job:{job_id}", f"job:{job_id}:w", f"job:{job_id}:meta")
        await self.sh.publish(job_id)

    async def stop_all(self) -> None:
        for local in list(self.local.values()):
            with contextlib.suppress(ApiError):
                local.job.control("stop")
        for local in list(self.local.values()):
            await asyncio.to_thread(local.job.thread.join, 5)

    # -- watchers (each call runs on the store loop; the routes use `watcher`)

    async def watch_open(self, job_id: str, client: str, limits: NetworkLimits) -> str:
        """A watcher's place (503 past job_watchers or client_watchers): its key."""
        me = uuid.uuid4().hex
        await self.watch_refresh(job_id, client, me)
        now = shared.clock()
        for key, bound, words in (
                (f"watch:client:{client}", limits.client_watchers, f"you have "
                 f"{limits.client_watchers} watchers open (client_watchers, "
                 "CONVSTEP_NET_CLIENT_WATCHERS); close a tab or a stream"),
                (f"watch:job:{job_id}", limits.job_watchers, f"{limits.job_watchers} watchers "
                 "are on this job (job_watchers, CONVSTEP_NET_JOB_WATCHERS)")):
            if await self.sh.zcount_live(key, now) > bound:
                await self.watch_close(job_id, client, me)
                raise busy("too_many_watchers", f"{words}; try again later.", 5)
        return me

    async def watch_refresh(self, job_id: str, client: str, me: str) -> None:
        until = shared.clock() + WATCH_TTL
        await self.sh.zadd(f"watch:job:{job_id}", me, until)
        await self.sh.zadd(f"watch:client:{client}", me, until)

    async def watch_close(self, job_id: str, client: str, me: str) -> None:
        await self.sh.zrem(f"watch:job:{job_id}", me)
        await self.sh.zrem(f"watch:client:{client}", me)


@contextlib.asynccontextmanager
async def watcher(jobs: Jobs, job_id: str, client: str, limits: NetworkLimits
                  ) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A watcher's place for the body (from a request's loop); yields refresh()."""
    me = await shared.call(jobs.watch_open(job_id, client, limits))
    try:
        yield lambda: shared.call(jobs.watch_refresh(job_id, client, me))
    finally:
        with contextlib.suppress(Exception):
            await shared.call(jobs.watch_close(job_id, client, me))


def unknown_job(job_id: str) -> ApiError:
    return ApiError(404, "unknown_job", f"No training job {job_id!r} (it ended long ago, or "
                    "the server restarted); start a new one.")


def job_limits(limits: NetworkLimits) -> JobLimits:
    return JobLimits(limits.max_job_epochs, limits.max_job_seconds, limits.max_pause_seconds,
                     limits.max_job_wall_seconds)


def make_job(job_id: str, config: TrainConfig, limits: NetworkLimits,
             steps_per_second: float | None = None):
    """make(poke) for Jobs.launch."""
    return lambda poke: TrainingJob(job_id, config, job_limits(limits), PARAM_NAMES, poke,
                                    steps_per_second)
