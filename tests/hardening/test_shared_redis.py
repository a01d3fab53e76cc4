"""Two server processes on one real Redis (CONVSTEP_REDIS_URL): what one holds, the other
serves. Weights uploaded on A run on B with the same id and the same probabilities; a job
started on A is watched and stopped on B (with its token); a job whose worker dies is
marked failed and its slot freed; per-client quotas hold across the two."""

from __future__ import annotations

import io
import json
import time

import httpx
import numpy as np
import pytest

from app.network.store import HEARTBEAT_TTL, REAP_EVERY

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

RUN = {"input": {"kind": "digit", "index": 5}}


@pytest.fixture
def two(start_server, redis_url):
    """two(**limits) -> (A, B): two `python -m app` processes sharing the test's Redis."""

    def make(**limits):
        env = {"CONVSTEP_REDIS_URL": redis_url,
               **{f"CONVSTEP_NET_{k.upper()}": str(v) for k, v in limits.items()}}
        return start_server(env=env), start_server(env=env)

    return make


def _weights(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    np.savez(buf, **{"dense.W": rng.normal(0, 0.3, (64, 10)), "dense.b": rng.normal(0, 1, 10)})
    return buf.getvalue()


def _upload(url: str, seed: int) -> httpx.Response:
    return httpx.post(url + "/api/network/weights", timeout=30,
                      files={"file": ("w.npz", _weights(seed), "application/octet-stream")})


def _start(url: str, **body) -> dict:
    r = httpx.post(url + "/api/network/train", json={"batch_size": 16, "epochs": 30, **body},
                   timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def test_weights_uploaded_on_one_worker_run_on_the_other(two):
    a, b = two()
    up = _upload(a.url, 1)
    assert up.status_code == 201, up.text
    wid = up.json()["id"]
    on_a = httpx.post(a.url + "/api/network/run", json={**RUN, "weights": wid}, timeout=30)
    on_b = httpx.post(b.url + "/api/network/run", json={**RUN, "weights": wid}, timeout=30)
    assert on_a.status_code == on_b.status_code == 200, on_b.text
    assert on_b.json()["forward"]["probs"] == on_a.json()["forward"]["probs"]
    shipped = httpx.post(b.url + "/api/network/run", json=RUN, timeout=30).json()
    assert shipped["forward"]["probs"] != on_b.json()["forward"]["probs"]
    # content-hashed: the same file uploaded on B has the same id
    assert _upload(b.url, 1).json()["id"] == wid


def _events(url: str, job_id: str, until: str, seconds: float = 30) -> list[tuple[str, dict]]:
    """The stream's events until one whose state is `until` (or the end)."""
    out = []
    with httpx.stream("GET", f"{url}/api/network/train/{job_id}/events", timeout=seconds) as r:
        assert r.status_code == 200
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                out.append((kind, data))
                if kind == "end" or data.get("state") == until:
                    return out
    return out


def test_a_job_started_on_a_is_watched_and_stopped_on_b(two):
    a, b = two()
    j = _start(a.url)
    events = _events(b.url, j["id"], "running")
    assert events[0][0] == "progress" and events[0][1]["id"] == j["id"]
    url = f"{b.url}/api/network/train/{j['id']}"
    for _ in range(100):  # points arrive on B as A's worker trains
        if httpx.get(url, params={"wait": 1}, timeout=30).json()["points_total"] > 2:
            break
    r = httpx.post(f"{url}/stop", timeout=30)
    assert r.status_code == 403 and r.json()["code"] == "not_owner"
    r = httpx.post(f"{url}/pause", headers={"X-Control-Token": j["control_token"]}, timeout=30)
    assert r.status_code == 200 and r.json()["state"] == "paused", r.text
    r = httpx.post(f"{url}/stop", headers={"X-Control-Token": j["control_token"]}, timeout=30)
    assert r.status_code == 200 and r.json()["state"] == "stopped", r.text
    assert r.json()["reason"] == "stopped" and r.json()["step"] > 0
    # its weights, as of its last step, run on either worker alike
    runs = [httpx.post(s.url + "/api/network/run", json={**RUN, "weights": f"job:{j['id']}"},
                       timeout=30).json()["forward"]["probs"] for s in (a, b)]
    assert runs[0] == runs[1]
    assert httpx.get(f"{a.url}/api/network/train/{j['id']}").json()["state"] == "stopped"


def test_a_job_whose_worker_dies_is_marked_failed_and_its_slot_freed(two):
    a, b = two(max_jobs=1)
    j = _start(a.url)
    r = httpx.post(b.url + "/api/network/train", json={"epochs": 1}, timeout=30)
    assert r.status_code == 503 and r.json()["code"] in ("too_many_jobs", "client_jobs")
    a.proc.kill()  # SIGKILL: no goodbye
    a.proc.wait()
    killed = time.monotonic()
    url = f"{b.url}/api/network/train/{j['id']}"
    while True:
        snap = httpx.get(url, params={"wait": 1}, timeout=30).json()
        if snap["state"] == "failed":
            break
        assert time.monotonic() - killed < HEARTBEAT_TTL + 2 * REAP_EVERY + 3, snap["state"]
    assert snap["reason"].startswith("worker_lost")
    _start(b.url, epochs=1)  # the slot is free again


def test_quotas_hold_across_workers(two):
    a, b = two(client_jobs=1, max_jobs=4, client_weight_sets=2)
    j = _start(a.url)
    r = httpx.post(b.url + "/api/network/train", json={"epochs": 1}, timeout=30)
    assert r.status_code == 503 and r.json()["code"] == "client_jobs"
    httpx.post(f"{b.url}/api/network/train/{j['id']}/stop", timeout=30,
               headers={"X-Control-Token": j["control_token"]})
    _start(b.url, epochs=1)
    ids = [_upload(s.url, seed).json()["id"] for seed, s in enumerate((a, b, a))]
    # the client keeps its 2 newest sets, wherever they were uploaded
    codes = [httpx.post(s.url + "/api/network/run", json={**RUN, "weights": w},
                        timeout=30).status_code for w in ids for s in (a, b)]
    assert codes == [404, 404, 200, 200, 200, 200]
