"""Training jobs: start from random weights, progress by polling and by server-sent events,
pause / resume / stop / delete, the bounds (503 past max_jobs, time and epoch limits)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from app.platform.network_config import NetworkLimits, get_network_limits
from app.platform.shared import submit
from core.data import load_digits
from core.net import net_forward, scale_pixels


@pytest.fixture
def jobs_client(make_client):
    """make(**limits) -> a client whose network limits are NetworkLimits(**limits); every
    job is stopped at the end."""
    made = []

    def make(**limits):
        client = make_client()
        client.app.dependency_overrides[get_network_limits] = lambda: NetworkLimits(**limits)
        made.append(client)
        return client

    yield make
    for client in made:
        state = getattr(client.app.state, "network", None)
        if state is not None:
            submit(state.jobs.stop_all()).result()


def _start(client, **body):
    r = client.post("/api/network/train", json={"batch_size": 16, **body})
    assert r.status_code == 201, r.text
    return r.json()


def _until(client, job_id, done, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = client.get(f"/api/network/train/{job_id}", params={"wait": 0.5}).json()
        if done(j):
            return j
    raise AssertionError(f"job {job_id} did not get there: {j['state']} at step {j['step']}")


def test_a_job_trains_from_random_weights_and_its_curves_fall(jobs_client):
    client = jobs_client()
    j = _start(client, epochs=1, seed=3)
    assert j["state"] == "running" and j["total_steps"] == j["steps_per_epoch"] == 90
    first = j["points"][0]
    assert first["step"] == 0 and first["train_loss"] is None
    assert first["test_accuracy"] < 0.35  # random weights
    assert np.array(j["filters"]).shape == (3, 3, 1, 8)
    end = _until(client, j["id"], lambda s: s["state"] == "done")
    assert end["step"] == 90 and end["epoch"] == 1 and end["reason"] is None
    points = end["points"]
    assert [p["step"] for p in points] == sorted({p["step"] for p in points})
    assert points[-1]["test_loss"] < 0.5 * first["test_loss"]
    assert points[-1]["test_accuracy"] > 0.75
    assert points[-1]["train_loss"] < points[1]["train_loss"]
    assert not np.allclose(end["filters"], j["filters"])
    later = client.get(f"/api/network/train/{j['id']}", params={"since": 3}).json()
    assert later["points_from"] == 3 and later["points"] == points[3:]


def test_the_jobs_weights_run_like_cores(jobs_client):
    client = jobs_client()
    j = _start(client, epochs=1)
    _until(client, j["id"], lambda s: s["state"] == "done")
    w = client.get("/api/network/weights", params={"weights": f"job:{j['id']}"}).json()
    params = {k: np.array(v) for k, v in w["params"].items()}
    r = client.post("/api/network/run", json={"input": {"kind": "digit", "index": 2},
                                              "weights": f"job:{j['id']}"})
    images, _ = load_digits().split("test")
    want = net_forward(params, scale_pixels(images[2][None])).probs[0]
    np.testing.assert_array_equal(np.array(r.json()["forward"]["probs"]), want)


def test_pause_resume_stop(jobs_client):
    client = jobs_client()
    j = _start(client, epochs=30)
    url = f"/api/network/train/{j['id']}"
    own = {"X-Control-Token": j["control_token"]}
    paused = client.post(f"{url}/pause", headers=own).json()
    assert paused["state"] == "paused"
    time.sleep(0.3)
    still = client.get(url).json()
    assert still["state"] == "paused" and still["step"] == paused["step"]
    assert client.post(f"{url}/resume", headers=own).json()["state"] == "running"
    _until(client, j["id"], lambda s: s["step"] > paused["step"])
    stopped = client.post(f"{url}/stop", headers=own).json()
    assert stopped["state"] == "stopped" and stopped["reason"] == "stopped"
    assert stopped["step"] < stopped["total_steps"]
    r = client.post(f"{url}/resume", headers=own)
    assert r.status_code == 409 and "has ended" in r.json()["detail"]
    assert client.post(f"{url}/rewind").status_code == 422


def test_concurrent_jobs_are_bounded_and_delete_frees_a_slot(jobs_client):
    client = jobs_client(max_jobs=1, client_jobs=2)
    j = _start(client, epochs=30)
    r = client.post("/api/network/train", json={"epochs": 1})
    assert r.status_code == 503 and "max_jobs = 1" in r.json()["detail"]
    assert r.headers["retry-after"] == "10"
    assert client.request("DELETE", f"/api/network/train/{j['id']}",
                          headers={"X-Control-Token": j["control_token"]}).status_code == 204
    assert client.get(f"/api/network/train/{j['id']}").status_code == 404
    _start(client, epochs=1)


def test_time_and_epoch_limits(jobs_client):
    client = jobs_client(max_job_seconds=0.05, max_job_epochs=5)
    r = client.post("/api/network/train", json={"epochs": 6})
    assert r.status_code == 422 and "max_job_epochs = 5" in r.json()["detail"]
    j = _start(client, epochs=5)
    end = _until(client, j["id"], lambda s: s["state"] != "running")
    assert end["state"] == "stopped" and end["reason"] == "time_limit"
    assert 0 < end["step"] < end["total_steps"]


def test_a_paused_job_stops_after_the_pause_limit(jobs_client):
    client = jobs_client(max_pause_seconds=0.2)
    j = _start(client, epochs=30)
    client.post(f"/api/network/train/{j['id']}/pause",
                headers={"X-Control-Token": j["control_token"]})
    end = _until(client, j["id"], lambda s: s["state"] == "stopped", timeout=10)
    assert end["reason"] == "pause_limit"


def test_progress_streams_as_server_sent_events(jobs_client):
    client = jobs_client()
    j = _start(client, epochs=1)
    r = client.get(f"/api/network/train/{j['id']}/events")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in r.text.split("\n\n"):
        lines = [x for x in block.split("\n") if x and not x.startswith(":")]
        if lines:
            kind = lines[0].removeprefix("event: ")
            events.append((kind, json.loads(lines[1].removeprefix("data: "))))
    assert events[-1] == ("end", {"state": "done"})
    progress = [e for k, e in events if k == "progress"]
    steps = [p["step"] for e in progress for p in e["points"]]
    assert steps[0] == 0 and steps[-1] == 90 and steps == sorted(set(steps))
    assert progress[-1]["state"] == "done"


def test_unknown_jobs_are_404(jobs_client):
    client = jobs_client()
    for method, url in (("GET", "/api/network/train/9-abc"),
                        ("GET", "/api/network/train/9-abc/events"),
                        ("POST", "/api/network/train/9-abc/pause"),
                        ("DELETE", "/api/network/train/9-abc")):
        r = client.request(method, url)
        assert r.status_code == 404 and r.json()["code"] == "unknown_job", (method, url)


@pytest.mark.slow  # waits on the clock
def test_the_pace_waits_do_not_count_against_the_time_limit(jobs_client):
    # 4 steps a second for 1.5 s is about 6 waits of 0.25 s: over max_job_seconds = 0.5 if
    # they counted, far under it in compute (a minibatch of 16 takes a few milliseconds)
    client = jobs_client(max_job_seconds=0.5)
    j = _start(client, epochs=30, steps_per_second=5)
    time.sleep(1.5)
    now = client.get(f"/api/network/train/{j['id']}").json()
    assert now["state"] == "running" and now["reason"] is None and now["step"] >= 3


@pytest.mark.slow  # waits on the clock
def test_a_job_ends_at_its_wall_clock_bound_running_or_paused(jobs_client):
    client = jobs_client(max_job_wall_seconds=1.0, max_pause_seconds=60)
    paced = _start(client, epochs=30, steps_per_second=5)
    end = _until(client, paced["id"], lambda s: s["state"] != "running", timeout=20)
    assert end["state"] == "stopped" and end["reason"] == "wall_limit"
    assert 0 < end["step"] < end["total_steps"]
    paused = _start(client, epochs=30, steps_per_second=5)
    client.post(f"/api/network/train/{paused['id']}/pause",
                headers={"X-Control-Token": paused["control_token"]})
    end = _until(client, paused["id"], lambda s: s["state"] == "stopped", timeout=20)
    assert end["reason"] == "wall_limit"  # long before the pause limit of 60 s


def test_a_diverging_run_ends_diverged_without_nan_in_its_curves(jobs_client, monkeypatch):
    """A learning rate far too large (1e300 from step 12 on: what an unbounded lr would do)
    throws the weights past float64's range; the job ends "diverged" at the next step, says
    why, and its points and weights are those of its last finite step."""
    from app.network import jobs
    from core.train import Trainer

    class Huge(Trainer):
        def learning_rate(self) -> float:
            return 1e300 if self.step_count >= 12 else super().learning_rate()

    monkeypatch.setattr(jobs, "Trainer", Huge)
    client = jobs_client()
    j = _start(client, epochs=1, seed=3)
    end = _until(client, j["id"], lambda s: s["state"] not in ("running", "paused"))
    assert end["state"] == "diverged", end
    assert "diverged at step 13" in end["reason"] and "smaller lr" in end["reason"]
    assert end["step"] == 13  # the step that overflowed was not taken
    losses = [p["train_loss"] for p in end["points"][1:]] + [p["test_loss"] for p in end["points"]]
    assert losses and all(isinstance(x, float) and np.isfinite(x) for x in losses)
    r = client.post(f"/api/network/train/{j['id']}/pause",
                    headers={"X-Control-Token": j["control_token"]})
    assert r.status_code == 409 and "has ended (diverged)" in r.json()["detail"]
