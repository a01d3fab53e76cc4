"""The network service's training jobs, for the routes of /api/network/train...: starting a
job within its limits and the memory budget, its progress (at once, long-polled or as
server-sent events) and its control (pace, pause, resume, stop, delete). The routes parse,
call these and return their models; the jobs themselves are jobs.py's, their store
store.py's (this process, or Redis for every worker).

Waiting holds no thread: it awaits the job's signal (a future resolved by the next point
or change of state).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from app.network.jobs import ACTIVE
from app.network.schemas import NetJobOut, NetJobStartOut, NetTrainIn
from app.network.service import NetworkState, job_cost
from app.network.store import make_job, watcher
from app.platform.errors import ApiError
from app.platform.heavy import release_when_done
from app.platform.network_config import NetworkLimits
from app.platform.shared import call
from core.train import TrainConfig

# How long a control waits for the job's thread to act (between two minibatches: a few ms)
CONTROL_WAIT = 2.0
# How often an event stream with nothing new sends a keep-alive comment
KEEP_ALIVE = 5.0


def _since(snap: dict, since: int) -> dict:
    """A snapshot with the points from `since` on."""
    points = snap["points"]
    return {**snap, "points_total": len(points), "points_from": min(since, len(points)),
            "points": points[since:]}


async def start(state: NetworkState, body: NetTrainIn, client: str, limiter,
                limits: NetworkLimits) -> NetJobStartOut:
    """A new job from random weights, holding its bytes (service.job_cost) of the memory
    budget while it runs or is paused: 503 when they do not fit beside the work in flight."""
    if body.epochs > limits.max_job_epochs:
        raise ApiError(422, "over_limit", f"epochs is {body.epochs}; the limit is "
                       f"max_job_epochs = {limits.max_job_epochs} (CONVSTEP_NET_MAX_JOB_EPOCHS).")
    config = TrainConfig(epochs=body.epochs, batch_size=body.batch_size, lr=body.lr,
                         lr_final=body.lr_final, seed=body.seed, shift=body.shift)
    release = limiter.hold(job_cost(body.batch_size), "a training job")
    try:
        job_id, token = await call(state.jobs.reserve(config, client, limits))
        make = make_job(job_id, config, limits, body.steps_per_second)
        snap, thread = await call(state.jobs.launch(job_id, client, make))
    except BaseException:
        release()
        raise
    release_when_done(thread, release)
    return NetJobStartOut.model_validate({**_since(snap, 0), "control_token": token})


async def _progress(state: NetworkState, job_id: str, since: int, wait: float,
                    last_state: str | None = None) -> dict:
    """The snapshot; with `wait`, once it has points past `since` or a state other than
    `last_state` (default: the state it has now), or after `wait` seconds."""
    sig = state.shared.signals.get(job_id)
    deadline = time.monotonic() + wait
    while True:
        seen = sig.version
        snap = await call(state.jobs.snapshot(job_id))
        last_state = last_state or snap["state"]
        left = deadline - time.monotonic()
        if (left <= 0 or len(snap["points"]) > since or snap["state"] != last_state
                or snap["state"] not in ACTIVE):
            return snap
        await sig.wait(seen, left)


async def progress(state: NetworkState, job_id: str, since: int, wait: float, client: str,
                   limits: NetworkLimits) -> NetJobOut:
    """The job's snapshot with its points from `since`; with `wait`, a long poll holding a
    watcher's place (404 for an unknown job before taking one)."""
    if not wait:
        return NetJobOut.model_validate(_since(await call(state.jobs.snapshot(job_id)), since))
    await call(state.jobs.snapshot(job_id))
    async with watcher(state.jobs, job_id, client, limits):
        return NetJobOut.model_validate(_since(await _progress(state, job_id, since, wait),
                                               since))


_EVENTS: OrderedDict[tuple, str] = OrderedDict()  # (snapshot, since) -> its event, encoded


def _progress_event(snap: dict, since: int) -> str:
    """A `progress` event, encoded once for every stream at the same place of one snapshot
    (200 streams on one job: one json.dumps, not 200)."""
    key = (id(snap), snap["state"], snap["step"], len(snap["points"]), since)
    text = _EVENTS.get(key)
    if text is None:
        text = f"event: progress\ndata: {json.dumps(_since(snap, since))}\n\n"
        _EVENTS[key] = text
        while len(_EVENTS) > 64:
            _EVENTS.popitem(last=False)
    return text


async def events(state: NetworkState, job_id: str, since: int, client: str,
                 limits: NetworkLimits) -> AsyncIterator[str]:
    """The job's server-sent events: `progress` after each point or change of state, a
    keep-alive comment when nothing changed for KEEP_ALIVE seconds, `end` when the job has
    ended (or was deleted). Unknown job (404) and no watcher's place (503) are raised here,
    before the stream's head."""
    await call(state.jobs.snapshot(job_id))
    deadline = time.monotonic() + limits.max_job_wall_seconds + 30  # a job's longest life
    place = watcher(state.jobs, job_id, client, limits)
    refresh = await place.__aenter__()

    async def stream() -> AsyncIterator[str]:
        try:
            seen, last_state = since, None
            while time.monotonic() < deadline:
                snap = await _progress(state, job_id, seen, KEEP_ALIVE if last_state else 0,
                                       last_state)
                if len(snap["points"]) > seen or snap["state"] != last_state:
                    yield _progress_event(snap, seen)
                    seen, last_state = len(snap["points"]), snap["state"]
                else:
                    yield ": keep-alive\n\n"  # a comment: keeps proxies from closing it
                    await refresh()
                if snap["state"] not in ACTIVE:
                    yield f"event: end\ndata: {json.dumps({'state': snap['state']})}\n\n"
                    return
        except ApiError:  # the job was deleted meanwhile
            yield f"event: end\ndata: {json.dumps({'state': 'deleted'})}\n\n"
        finally:
            await place.__aexit__(None, None, None)

    return stream()


async def _controlled(state: NetworkState, job_id: str, action: str, token: str | None,
                      arrived: Callable[[dict], bool]) -> NetJobOut:
    """Send `action` to the worker running the job (with the owner's token), then answer the
    snapshot once `arrived(snapshot)`, or after CONTROL_WAIT seconds."""
    sig = state.shared.signals.get(job_id)
    await call(state.jobs.control(job_id, action, token))
    deadline = time.monotonic() + CONTROL_WAIT
    while True:
        seen = sig.version
        snap = await call(state.jobs.snapshot(job_id))
        left = deadline - time.monotonic()
        if arrived(snap) or left <= 0:
            return NetJobOut.model_validate(_since(snap, 0))
        await sig.wait(seen, left, first=True)


async def pace(state: NetworkState, job_id: str, steps_per_second: float,
               token: str | None) -> NetJobOut:
    """The job's new pace, once its thread has taken it (or it has ended)."""
    return await _controlled(state, job_id, f"pace {steps_per_second}", token,
                             lambda s: s["steps_per_second"] == steps_per_second
                             or s["state"] not in ACTIVE)


async def control(state: NetworkState, job_id: str, action: str,
                  token: str | None) -> NetJobOut:
    """Pause, resume or stop the job; the snapshot once its thread has acted."""
    want = {"pause": "paused", "resume": "running", "stop": None}[action]
    return await _controlled(state, job_id, action, token,
                             lambda s: s["state"] == want if want else s["state"] not in ACTIVE)


async def delete(state: NetworkState, job_id: str, token: str | None) -> None:
    """Stop and forget the job (its starter only)."""
    await call(state.jobs.delete(job_id, token))
