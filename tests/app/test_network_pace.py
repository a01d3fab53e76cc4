"""A training job's pace: at most steps_per_second minibatches a second, changeable while it
runs, so that a person can watch the filters change (unpaced, 30 epochs end in seconds)."""

from __future__ import annotations

import time

import pytest

from app.platform.network_config import NetworkLimits, get_network_limits
from app.platform.shared import submit


@pytest.fixture
def client(make_client):
    c = make_client()
    c.app.dependency_overrides[get_network_limits] = lambda: NetworkLimits()
    yield c
    state = getattr(c.app.state, "network", None)
    if state is not None:
        submit(state.jobs.stop_all()).result()


@pytest.mark.slow  # waits on the clock
def test_a_paced_job_goes_no_faster_than_its_pace(client):
    r = client.post("/api/network/train", json={"epochs": 30, "steps_per_second": 10})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["steps_per_second"] == 10
    t0 = time.monotonic()
    time.sleep(1.0)
    j = client.get(f"/api/network/train/{job['id']}").json()
    elapsed = time.monotonic() - t0
    # at most 10 a second (one more for the step under way); a slow machine only makes fewer
    assert j["state"] == "running" and j["step"] <= 10 * elapsed + 2


@pytest.mark.slow  # waits on the clock
def test_the_pace_changes_while_the_job_runs(client):
    job = client.post("/api/network/train", json={"epochs": 1, "batch_size": 64,
                                                  "steps_per_second": 5}).json()
    url = f"/api/network/train/{job['id']}"
    own = {"X-Control-Token": job["control_token"]}
    r = client.post(f"{url}/pace", json={"steps_per_second": 20})
    assert r.status_code == 403 and r.json()["code"] == "not_owner"  # the starter's only
    r = client.post(f"{url}/pace", json={"steps_per_second": None}, headers=own)  # it ends
    assert r.status_code == 200 and r.json()["steps_per_second"] is None
    deadline = time.monotonic() + 60
    while client.get(url, params={"wait": 0.5}).json()["state"] == "running":
        assert time.monotonic() < deadline
    assert client.get(url).json()["state"] == "done"
    r = client.post(f"{url}/pace", json={"steps_per_second": 20}, headers=own)
    assert r.status_code == 409 and "has ended" in r.json()["detail"]


@pytest.mark.parametrize("body, words", [
    ({"steps_per_second": 1}, "greater than or equal to 5"),
    ({"steps_per_second": 5000}, "less than or equal to 1000"),
    ({}, "steps_per_second"),
])
def test_bad_paces_are_422(client, body, words):
    job = client.post("/api/network/train", json={"epochs": 1, "steps_per_second": 5}).json()
    r = client.post(f"/api/network/train/{job['id']}/pace", json=body,
                    headers={"X-Control-Token": job["control_token"]})
    assert r.status_code == 422 and words in r.text
    r = client.post("/api/network/train", json={"epochs": 1, **body})
    if body:
        assert r.status_code == 422 and words in r.text
