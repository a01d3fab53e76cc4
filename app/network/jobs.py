"""Training jobs: core.train.Trainer stepped in a background thread, watched by polling or SSE.

A job starts from random weights (its seed), trains on the shipped training digits and
records a point every `record_every` minibatches: the mean minibatch loss since the last
point, the held-out loss and accuracy, and conv1's filters. Controls: pause (the thread
waits between two minibatches), resume, stop (it ends; its weights stay usable), and
delete (the page's reset). Bounds, all in NetworkLimits: at most `max_jobs` jobs running or
paused at once (the next start gets 503), at most `max_job_epochs` epochs, at most
`max_job_seconds` of running time per job (training and the waits of its pace; it then stops
with reason "time_limit"), and a paused job stops after `max_pause_seconds`. The pace
(steps_per_second, changeable while it runs) spreads the minibatches out so that a person can
watch the filters change: unpaced, 30 epochs take a few seconds. Ended jobs are kept for
`keep_seconds` (at most `keep_jobs` of them) so that their curves and weights can still be
read.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from app.platform.errors import ApiError
from core.data import load_digits
from core.train import TrainConfig, Trainer, evaluate

ACTIVE = ("running", "paused")
RECORDS_PER_EPOCH = 5


@dataclass(frozen=True)
class JobLimits:
    max_jobs: int
    max_job_epochs: int
    max_job_seconds: float
    max_pause_seconds: float
    keep_jobs: int
    keep_seconds: float


class TrainingJob:
    """One run of the trainer in its own thread; every field is read under `cond`."""

    def __init__(self, job_id: str, config: TrainConfig, limits: JobLimits,
                 steps_per_second: float | None = None) -> None:
        self.id, self.config, self.limits = job_id, config, limits
        # the pace: at most this many minibatches a second (None: as fast as it goes), so
        # that a person can watch the filters change; set_pace changes it while it runs
        self.steps_per_second = steps_per_second
        digits = load_digits()
        self.trainer = Trainer(*digits.split("train"), config)
        self.test = digits.split("test")
        self.record_every = max(1, self.trainer.steps_per_epoch // RECORDS_PER_EPOCH)
        self.cond = threading.Condition()
        self.state = "running"
        self.reason: str | None = None
        self.points: list[dict] = []
        self.filters = self.trainer.params["conv1.W"].copy()
        self.train_seconds = 0.0
        self.run_seconds = 0.0  # training and paced waits: what max_job_seconds bounds
        self.ended_at: float | None = None
        self._want: str | None = None  # "pause", "stop"
        self._step_lock = threading.Lock()  # held while Adam changes the weights
        self._paused_at: float | None = None
        self._losses: list[float] = []
        self._record()  # point 0: the random start
        self.thread = threading.Thread(target=self._run, name=f"train-{job_id}", daemon=True)

    # -- the thread

    def _record(self) -> None:
        """A point of the curves (called with or without the lock: it only appends)."""
        test_loss, test_acc = evaluate(self.trainer.params, *self.test)
        train_loss = float(np.mean(self._losses)) if self._losses else None
        self._losses = []
        point = {"step": self.trainer.step_count, "epoch": round(self.trainer.epoch, 4),
                 "train_loss": train_loss, "test_loss": test_loss, "test_accuracy": test_acc,
                 "seconds": round(self.train_seconds, 3)}
        with self.cond:
            self.points.append(point)
            self.filters = self.trainer.params["conv1.W"].copy()
            self.cond.notify_all()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # never silent: the job says what went wrong
            self._end("failed", f"{type(exc).__name__}: {exc}")

    def _loop(self) -> None:
        t = self.trainer
        while t.step_count < t.total_steps:
            with self.cond:
                while self._want == "pause":
                    if self.state != "paused":
                        self.state, self._paused_at = "paused", time.monotonic()
                        self.cond.notify_all()
                    if time.monotonic() - self._paused_at > self.limits.max_pause_seconds:
                        self._want = "stop"
                        self.reason = "pause_limit"
                        break
                    self.cond.wait(timeout=0.5)
                if self._want == "stop":
                    break
                if self.state == "paused":
                    self.state = "running"
                    self.cond.notify_all()
            if self.run_seconds >= self.limits.max_job_seconds:
                self._end("stopped", "time_limit")
                return
            start = time.perf_counter()
            with self._step_lock:
                self._losses.append(t.step())
            self.train_seconds += time.perf_counter() - start
            if t.step_count % self.record_every == 0 or t.step_count == t.total_steps:
                self._record()
            with self.cond:  # paced: wait out the rest of the step's 1 / steps_per_second
                pace = self.steps_per_second
                rest = 1.0 / pace - (time.perf_counter() - start) if pace else 0.0
                if rest > 0 and self._want is None and t.step_count < t.total_steps:
                    self.cond.wait(timeout=rest)  # a control or a new pace wakes it early
            self.run_seconds += time.perf_counter() - start
            time.sleep(0)  # let request threads in between two minibatches
        if t.step_count >= t.total_steps:
            self._end("done", None)
        else:
            if self._losses:
                self._record()
            self._end("stopped", self.reason or "stopped")

    def _end(self, state: str, reason: str | None) -> None:
        with self.cond:
            self.state, self.reason, self.ended_at = state, reason, time.monotonic()
            self.cond.notify_all()

    # -- controls (from request threads)

    def control(self, action: str) -> None:
        with self.cond:
            if self.state not in ACTIVE:
                raise ApiError(409, "job_ended", f"The training job {self.id} has ended "
                               f"({self.state}); start a new one.")
            if action == "pause":
                self._want = "pause"
            elif action == "resume":
                self._want = None
            else:
                self._want, self.reason = "stop", "stopped"
            self.cond.notify_all()

    def set_pace(self, steps_per_second: float | None) -> None:
        """At most steps_per_second minibatches a second from now on (None: full speed)."""
        with self.cond:
            if self.state not in ACTIVE:
                raise ApiError(409, "job_ended", f"The training job {self.id} has ended "
                               f"({self.state}); start a new one.")
            self.steps_per_second = steps_per_second
            self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Block (up to timeout) until there are more than `seen` points or the state moves."""
        with self.cond:
            state = self.state
            self.cond.wait_for(lambda: len(self.points) > seen or self.state != state,
                               timeout=timeout)

    def snapshot(self, since: int = 0) -> dict:
        with self.cond:
            return {"id": self.id, "state": self.state, "reason": self.reason,
                    "config": self.config.__dict__, "step": self.trainer.step_count,
                    "total_steps": self.trainer.total_steps,
                    "steps_per_epoch": self.trainer.steps_per_epoch,
                    "epoch": round(self.trainer.epoch, 4), "train_seconds": self.train_seconds,
                    "steps_per_second": self.steps_per_second,
                    "points_total": len(self.points), "points_from": min(since, len(self.points)),
                    "points": self.points[since:], "filters": self.filters.tolist()}

    def params(self) -> dict:
        """A copy of the weights as they are now (between two minibatches)."""
        with self._step_lock:
            return {k: v.copy() for k, v in self.trainer.params.items()}


class JobStore:
    """The server's training jobs; at most limits.max_jobs running or paused."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, TrainingJob] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _forget_old(self, limits: JobLimits) -> None:
        now = time.monotonic()
        ended = [j for j in self._jobs.values() if j.ended_at is not None]
        for j in ended:
            if now - j.ended_at > limits.keep_seconds:
                del self._jobs[j.id]
        ended = [j for j in self._jobs.values() if j.ended_at is not None]
        for j in ended[: max(0, len(ended) - limits.keep_jobs)]:
            del self._jobs[j.id]

    def start(self, config: TrainConfig, limits: JobLimits,
              steps_per_second: float | None = None) -> TrainingJob:
        with self._lock:
            self._forget_old(limits)
            active = [j for j in self._jobs.values() if j.state in ACTIVE]
            if len(active) >= limits.max_jobs:
                raise ApiError(503, "too_many_jobs", f"{len(active)} training jobs are running "
                               f"or paused (max_jobs = {limits.max_jobs}, "
                               "CONVSTEP_NET_MAX_JOBS). Stop one, or try again when one ends.",
                               headers={"Retry-After": "10"})
            job_id = f"{next(self._ids)}-{secrets.token_hex(4)}"
            job = TrainingJob(job_id, config, limits, steps_per_second)
            self._jobs[job_id] = job
        job.thread.start()
        return job

    def get(self, job_id: str) -> TrainingJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, "unknown_job", f"No training job {job_id!r} on this server "
                           "(it ended long ago, or the server restarted); start a new one.")
        return job

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        if job.state in ACTIVE:
            job.control("stop")
        job.thread.join(timeout=5)
        with self._lock:
            self._jobs.pop(job_id, None)

    def stop_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for j in jobs:
            if j.state in ACTIVE:
                j.control("stop")
        for j in jobs:
            j.thread.join(timeout=5)
