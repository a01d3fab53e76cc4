"""Owned jobs and fair capacity (docs/RELIABILITY.md): control tokens, random ids, per-client
quotas of jobs, weight sets and watchers, eviction that spares other clients' newest sets.
Clients are told apart by their address, as the server sees them (request.client.host)."""

from __future__ import annotations

import asyncio
import io
import re
import time

import anyio
import httpx
import numpy as np
import pytest

from app.platform.network_config import NetworkLimits, get_network_limits
from app.platform.shared import submit

RUN = {"input": {"kind": "digit", "index": 0}}


class As:
    """Requests to one app from one client address."""

    def __init__(self, app, host: str) -> None:
        self.app, self.host = app, host

    async def arequest(self, method: str, url: str, **kw) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app, client=(self.host, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.request(method, url, **kw)

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        return anyio.run(lambda: self.arequest(method, url, **kw))

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)


@pytest.fixture
def app_with(make_client):
    made = []

    def make(**limits):
        app = make_client().app
        app.dependency_overrides[get_network_limits] = lambda: NetworkLimits(**limits)
        made.append(app)
        return app

    yield make
    for app in made:
        state = getattr(app.state, "network", None)
        if state is not None:
            submit(state.jobs.stop_all()).result()


def _start(c: As, **body) -> dict:
    r = c.post("/api/network/train", json={"batch_size": 16, "epochs": 30, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_only_the_starter_controls_a_job_and_anyone_watches_it(app_with):
    app = app_with()
    alice, bob = As(app, "10.0.0.1"), As(app, "10.0.0.2")
    j = _start(alice)
    assert re.fullmatch(r"[0-9a-f]{32}", j["id"])  # 128 random bits
    assert len(j["control_token"]) >= 32  # 24 random bytes, URL-safe base64
    url = f"/api/network/train/{j['id']}"
    for headers in ({}, {"X-Control-Token": "guess"}, {"X-Control-Token": j["id"]}):
        for method, path in (("POST", "/pause"), ("POST", "/stop"), ("DELETE", "")):
            r = bob.request(method, url + path, headers=headers)
            assert r.status_code == 403 and r.json()["code"] == "not_owner", (method, headers)
            assert "X-Control-Token" in r.json()["detail"]
    assert "control_token" not in bob.get(url).json()
    assert bob.get(url, params={"wait": 0.1}).json()["state"] == "running"
    w = bob.get("/api/network/weights", params={"weights": f"job:{j['id']}"})
    assert w.status_code == 200
    # the token works from any address: it is the token that owns the job
    r = bob.post(f"{url}/stop", headers={"X-Control-Token": j["control_token"]})
    assert r.status_code == 200 and r.json()["state"] == "stopped"


def test_one_client_cannot_take_every_job_slot(app_with):
    app = app_with(max_jobs=2, client_jobs=1, max_pause_seconds=0.5)
    alice, bob, carol = (As(app, f"10.0.0.{i}") for i in (1, 2, 3))
    a = _start(alice)
    alice.post(f"/api/network/train/{a['id']}/pause",
               headers={"X-Control-Token": a["control_token"]})
    r = alice.post("/api/network/train", json={"epochs": 1})
    assert r.status_code == 503 and r.json()["code"] == "client_jobs"
    assert "client_jobs = 1" in r.json()["detail"] and r.headers["retry-after"]
    _start(bob)  # alice's paused job holds her slot, not bob's
    r = carol.post("/api/network/train", json={"epochs": 1})
    assert r.status_code == 503 and "max_jobs = 2" in r.json()["detail"]
    # the paused job ends after max_pause_seconds, and its slot is free again
    # (a long poll answers at once while the job has points, so the wait is the test's own)
    deadline = time.monotonic() + 30
    while alice.get(f"/api/network/train/{a['id']}").json()["state"] != "stopped":
        assert time.monotonic() < deadline, "the paused job did not end"
        time.sleep(0.1)
    _start(carol)


def _weights(value: float) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{"dense.b": np.full(10, value)})
    return buf.getvalue()


def _upload(c: As, value: float) -> httpx.Response:
    return c.post("/api/network/weights",
                  files={"file": ("w.npz", _weights(value), "application/octet-stream")})


def test_a_flood_of_uploads_never_takes_another_clients_newest_set(app_with):
    app = app_with(weight_sets=4, client_weight_sets=3)
    alice, mallory = As(app, "10.0.0.1"), As(app, "10.0.0.66")
    mine = _upload(alice, 0.5).json()["id"]
    ids = [_upload(mallory, float(v)).json()["id"] for v in range(12)]
    assert alice.post("/api/network/run", json={**RUN, "weights": mine}).status_code == 200
    # mallory keeps her 3 newest (client_weight_sets), her older ones are gone
    for gone in ids[:-3]:
        assert mallory.post("/api/network/run", json={**RUN, "weights": gone}
                            ).status_code == 404
    for kept in ids[-3:]:
        assert mallory.post("/api/network/run", json={**RUN, "weights": kept}
                            ).status_code == 200


def test_when_every_set_is_someones_newest_an_upload_waits(app_with):
    app = app_with(weight_sets=2)
    assert _upload(As(app, "10.0.0.1"), 1.0).status_code == 201
    assert _upload(As(app, "10.0.0.2"), 2.0).status_code == 201
    r = _upload(As(app, "10.0.0.3"), 3.0)
    assert r.status_code == 503 and r.json()["code"] == "weights_full"
    assert "weight_sets" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
    # a client replacing its own set is never refused
    assert _upload(As(app, "10.0.0.1"), 4.0).status_code == 201


def test_weight_sets_expire_after_their_time_to_live(app_with):
    app = app_with(weights_ttl_seconds=0.3)
    c = As(app, "10.0.0.1")
    wid = _upload(c, 1.0).json()["id"]
    assert c.post("/api/network/run", json={**RUN, "weights": wid}).status_code == 200
    anyio.run(anyio.sleep, 0.4)
    r = c.post("/api/network/run", json={**RUN, "weights": wid})
    assert r.status_code == 404 and "time to live" in r.json()["detail"]


def test_ended_jobs_of_others_survive_a_start_stop_flood(app_with):
    app = app_with(keep_jobs=3, client_keep_jobs=2, max_jobs=4)
    alice, mallory = As(app, "10.0.0.1"), As(app, "10.0.0.66")
    a = _start(alice, epochs=1)
    alice.post(f"/api/network/train/{a['id']}/stop",
               headers={"X-Control-Token": a["control_token"]})
    flood = []
    for _ in range(6):
        m = _start(mallory, epochs=1)
        r = mallory.post(f"/api/network/train/{m['id']}/stop",
                         headers={"X-Control-Token": m["control_token"]})
        assert r.json()["state"] in ("stopped", "done")
        flood.append(m["id"])
    assert alice.get(f"/api/network/train/{a['id']}").status_code == 200
    assert [mallory.get(f"/api/network/train/{i}").status_code for i in flood] == \
        [404] * 4 + [200] * 2


@pytest.mark.slow  # opens and waits on many watchers
def test_watchers_are_bounded_per_job_and_per_client(app_with):
    app = app_with(job_watchers=3, client_watchers=2, max_jobs=2, client_jobs=2)
    alice, bob, carol = As(app, "10.0.0.1"), As(app, "10.0.0.2"), As(app, "10.0.0.3")
    j = _start(alice)
    url = f"/api/network/train/{j['id']}"
    alice.post(f"{url}/pause", headers={"X-Control-Token": j["control_token"]})

    async def poll(c: As) -> httpx.Response:
        return await c.arequest("GET", url, params={"wait": 1.5, "since": 10**6})

    async def go():
        async def later(c: As) -> httpx.Response:
            await asyncio.sleep(0.5)  # the first ones hold their places by now
            return await poll(c)

        return await asyncio.gather(poll(alice), poll(alice), later(alice), poll(bob),
                                    later(carol))

    a1, a2, a3, b1, c1 = anyio.run(go)
    assert [a1.status_code, a2.status_code, b1.status_code] == [200] * 3
    assert a3.status_code == 503 and a3.json()["code"] == "too_many_watchers"
    assert "client_watchers" in a3.json()["detail"] and a3.headers["retry-after"]
    assert c1.status_code == 503 and "job_watchers" in c1.json()["detail"]
    # the places are given back when the waits end
    assert carol.get(url, params={"wait": 0.1}).status_code == 200


def test_a_job_that_ends_at_once_still_starts_cleanly(app_with):
    """A job may end before its start has answered (here: 1 ms of running time)."""
    app = app_with(max_job_seconds=0.001, client_jobs=1)
    c = As(app, "10.0.0.1")
    for _ in range(5):
        j = _start(c, epochs=1)
        end = c.get(f"/api/network/train/{j['id']}", params={"wait": 5}).json()
        for _ in range(20):
            if end["state"] != "running":
                break
            end = c.get(f"/api/network/train/{j['id']}", params={"wait": 1}).json()
        assert end["state"] == "stopped" and end["reason"] == "time_limit"
