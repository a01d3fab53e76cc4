"""Training jobs: core.train.Trainer stepped in a background thread of the worker that
accepted the job; what it does is published through the shared store
(app/network/store.py), where any worker's watchers read it.

A job starts from random weights (its seed), trains on the shipped training digits and
records a point every `record_every` minibatches: the mean minibatch loss since the last
point, the held-out loss and accuracy, and conv1's filters. Controls: pause (the thread
waits between two minibatches), resume, stop (it ends; its weights stay usable), and the
pace (steps_per_second, changeable while it runs), which spreads the minibatches out so that
a person can watch the filters change: unpaced, 30 epochs take a few seconds. Bounds, all in
NetworkLimits: at most `max_job_epochs` epochs, at most `max_job_seconds` of compute per job
(its minibatches and points, not the waits of its pace, so the slowest pace can finish; it
then stops with reason "time_limit"), a paused job stops after `max_pause_seconds` (reason
"pause_limit"), and every job ends `max_job_wall_seconds` after it started, whatever it
was doing (running, paced or paused: reason "wall_limit"), so that no job holds a slot
for longer. A run whose loss becomes NaN or infinite (too large a learning rate) ends at
once in state "diverged", its reason saying so, its curves and weights those of its last
finite step. How many jobs run at once, and whose, is app/network/store.py's.

After every point and every change of state the thread calls `poke` (from its own thread):
the store then reads `published()` (a snapshot and the weights as of that moment, copied by
the thread itself, so that reading them never waits for a minibatch) and writes them out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.platform.errors import ApiError
from core.data import load_digits
from core.train import DivergedError, TrainConfig, Trainer, evaluate

ACTIVE = ("running", "paused")
RECORDS_PER_EPOCH = 5
SHOW_EVERY = 0.1  # seconds: between two points, the step and weights are published this often


@dataclass(frozen=True)
class JobLimits:
    max_job_epochs: int
    max_job_seconds: float  # compute (minibatches and points), not the pace's waits
    max_pause_seconds: float
    max_job_wall_seconds: float  # the job's whole life: running, paced waits and pauses


def params_bytes(params: dict, names: tuple[str, ...]) -> bytes:
    """The parameters `names`, float64, one after the other (their shapes are the network's)."""
    return b"".join(np.ascontiguousarray(params[n], dtype=np.float64).tobytes() for n in names)


class TrainingJob:
    """One run of the trainer in its own thread; every field is read under `cond`."""

    def __init__(self, job_id: str, config: TrainConfig, limits: JobLimits,
                 names: tuple[str, ...], poke: Callable[[], None],
                 steps_per_second: float | None = None) -> None:
        self.id, self.config, self.limits, self.names = job_id, config, limits, names
        self.poke = poke
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
        self.weights = params_bytes(self.trainer.params, names)
        self.step = 0
        self.train_seconds = 0.0
        self.run_seconds = 0.0  # compute without the paced waits: what max_job_seconds bounds
        self._born = time.monotonic()  # max_job_wall_seconds counts from here
        self._want: str | None = None  # "pause", "stop"
        self._paused_at: float | None = None
        self._losses: list[float] = []
        self._shown = 0.0  # when readers were last given the step and weights
        self._record()  # point 0: the random start
        self.thread = threading.Thread(target=self._run, name=f"train-{job_id[:8]}",
                                       daemon=True)

    # -- the thread

    def _copy_weights(self) -> None:
        """The weights as they are now, for readers (called by the thread, between steps)."""
        weights = params_bytes(self.trainer.params, self.names)
        with self.cond:
            self.weights, self.step = weights, self.trainer.step_count
        self._shown = time.perf_counter()

    def _record(self) -> None:
        """A point of the curves (called by the thread between two minibatches)."""
        with np.errstate(over="ignore", invalid="ignore"):
            test_loss, test_acc = evaluate(self.trainer.params, *self.test)
        if not np.isfinite(test_loss):  # finite weights, but too large for the digits
            raise DivergedError(f"The training diverged at step {self.trainer.step_count}: "
                                f"the held-out loss is {test_loss:.4g}. The learning rate is "
                                "too large for this run; start again with a smaller lr.")
        train_loss = float(np.mean(self._losses)) if self._losses else None
        self._losses = []
        point = {"step": self.trainer.step_count, "epoch": round(self.trainer.epoch, 4),
                 "train_loss": train_loss, "test_loss": test_loss, "test_accuracy": test_acc,
                 "seconds": round(self.train_seconds, 3)}
        weights = params_bytes(self.trainer.params, self.names)
        with self.cond:
            self.points.append(point)
            self.filters = self.trainer.params["conv1.W"].copy()
            self.weights, self.step = weights, self.trainer.step_count
        self._shown = time.perf_counter()
        self.poke()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # never silent: the job says what went wrong
            self._end("failed", f"{type(exc).__name__}: {exc}")

    def _set_state(self, state: str) -> None:
        with self.cond:
            self.state = state
            self._paused_at = time.monotonic() if state == "paused" else None
        self.poke()

    def _loop(self) -> None:
        t = self.trainer
        while t.step_count < t.total_steps:
            with self.cond:
                want = self._want
            if want == "pause":
                if self.state != "paused":
                    self._copy_weights()
                    self._set_state("paused")
                with self.cond:
                    while self._want == "pause":
                        if time.monotonic() - self._paused_at > self.limits.max_pause_seconds:
                            self._want, self.reason = "stop", "pause_limit"
                            break
                        if self._past_wall():
                            self._want, self.reason = "stop", "wall_limit"
                            break
                        self.cond.wait(timeout=0.5)
                    want = self._want
            if want == "stop":
                break
            if self.state == "paused":
                self._set_state("running")
            if self.run_seconds >= self.limits.max_job_seconds or self._past_wall():
                self._copy_weights()
                self._end("stopped", "wall_limit" if self._past_wall() else "time_limit")
                return
            start = time.perf_counter()
            try:
                self._losses.append(t.step())
                self.train_seconds += time.perf_counter() - start
                point = t.step_count % self.record_every == 0 or t.step_count == t.total_steps
                if point:
                    self._record()
            except DivergedError as exc:  # NaN or infinity: no such point on the curves
                self._copy_weights()  # the last finite ones: step() updated nothing
                self._end("diverged", str(exc))
                return
            if not point and time.perf_counter() - self._shown > SHOW_EVERY:  # the step moves
                self._copy_weights()
                self.poke()
            self.run_seconds += time.perf_counter() - start  # compute only: before the wait
            with self.cond:  # paced: wait out the rest of the step's 1 / steps_per_second
                pace = self.steps_per_second
                rest = 1.0 / pace - (time.perf_counter() - start) if pace else 0.0
                rest = min(rest, self._wall_left())
                if rest > 0 and self._want is None and t.step_count < t.total_steps:
                    self.cond.wait(timeout=rest)  # a control or a new pace wakes it early
            time.sleep(0)  # let request threads in between two minibatches
        if t.step_count >= t.total_steps:
            self._end("done", None)
        else:
            if self._losses:
                self._record()
            self._copy_weights()
            self._end("stopped", self.reason or "stopped")

    def _wall_left(self) -> float:
        """Seconds until max_job_wall_seconds since the start (negative past it)."""
        return self.limits.max_job_wall_seconds - (time.monotonic() - self._born)

    def _past_wall(self) -> bool:
        return self._wall_left() <= 0

    def _end(self, state: str, reason: str | None) -> None:
        with self.cond:
            self.state, self.reason = state, reason
            self.cond.notify_all()
        self.poke()

    # -- controls (from the store's loop)

    def control(self, action: str) -> None:
        with self.cond:
            if self.state not in ACTIVE:
                raise ApiError(409, "job_ended", f"The training job has ended "
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
                raise ApiError(409, "job_ended", f"The training job has ended "
                               f"({self.state}); start a new one.")
            self.steps_per_second = steps_per_second
            self.cond.notify_all()
        self.poke()

    def published(self) -> tuple[dict, bytes]:
        """(the whole snapshot, the weights) as of now; cheap: the thread made the copies."""
        with self.cond:
            return {"id": self.id, "state": self.state, "reason": self.reason,
                    "config": self.config.__dict__, "step": self.step,
                    "total_steps": self.trainer.total_steps,
                    "steps_per_epoch": self.trainer.steps_per_epoch,
                    "epoch": round(self.step / self.trainer.steps_per_epoch, 4),
                    "train_seconds": self.train_seconds,
                    "steps_per_second": self.steps_per_second, "points": list(self.points),
                    "filters": self.filters.tolist()}, self.weights
