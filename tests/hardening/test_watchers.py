"""Watchers never starve controls (issue 15): training streams and long polls wait on
signals, not in threads. Against a live server: with 200 server-sent-event streams open on a
paused job, pause and resume still answer at once (measured 0.04-0.2 s; before: 160 s), and 8
long polls of 20 s do not delay another job's start (before: 19 s). Once with the jobs in the
process, once through Redis. The bounds asserted are starvation bounds, several times the
measured times, so that a busy machine cannot fail them; the times are printed (-s)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

WATCHERS = 200
LIMITS = {"CONVSTEP_NET_JOB_WATCHERS": "300", "CONVSTEP_NET_CLIENT_WATCHERS": "300",
          "CONVSTEP_NET_MAX_JOBS": "4", "CONVSTEP_NET_CLIENT_JOBS": "4"}


# The watchers live in a child process of their own, so that the time of a control is the
# server's, not this process's loop busy with 200 streams. It prints the streams' statuses
# (200 each, once their first event has arrived) and holds them until its stdin closes.
WATCHERS_CHILD = r"""
import asyncio, json, sys
import httpx

async def watch(url, opened, stop):
    try:
        async with httpx.AsyncClient(base_url=url, timeout=300) as c, \
                c.stream("GET", sys.argv[2]) as r:
            if r.status_code != 200:
                opened.set_result([r.status_code, (await r.aread())[:200].decode()])
                return
            async for line in r.aiter_lines():
                if line.startswith("event: progress"):
                    break
            opened.set_result(200)
            await stop.wait()
    except Exception as exc:
        if not opened.done():
            opened.set_result(repr(exc))

async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    opened = [loop.create_future() for _ in range(int(sys.argv[3]))]
    tasks = [asyncio.create_task(watch(sys.argv[1], o, stop)) for o in opened]
    print(json.dumps(await asyncio.gather(*opened)), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

asyncio.run(main())
"""


def _timed(c: httpx.Client, method: str, url: str, **kw) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = c.request(method, url, **kw)
    return time.perf_counter() - t0, r


def _controls_under_many_watchers(url: str) -> tuple[list[float], float, float]:
    with httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/api/network/train", json={"epochs": 30, "batch_size": 16})
        assert r.status_code == 201, r.text
        job = r.json()
        own = {"X-Control-Token": job["control_token"]}
        base = f"/api/network/train/{job['id']}"
        assert c.post(f"{base}/pause", headers=own).json()["state"] == "paused"
        child = subprocess.Popen([sys.executable, "-c", WATCHERS_CHILD, url, f"{base}/events",
                                  str(WATCHERS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        try:
            statuses = json.loads(child.stdout.readline())
            assert [x for x in statuses if x != 200] == []
            times = []
            for action in ("resume", "pause") * 3:
                took, r = _timed(c, "POST", f"{base}/{action}", headers=own)
                assert r.status_code == 200 and r.json()["state"] in ("running", "paused")
                times.append(took)
            # 8 long polls of 20 s on the paused job, then another job's start
            with ThreadPoolExecutor(8) as pool:
                polls = [pool.submit(c.get, base, params={"wait": 20, "since": 10**6})
                         for _ in range(8)]
                time.sleep(0.5)
                start_took, r = _timed(c, "POST", "/api/network/train",
                                       json={"epochs": 1, "batch_size": 16})
                assert r.status_code == 201, r.text
                health_took, _ = _timed(c, "GET", "/healthz")
                # a control ends the long polls at once (a change of state)
                c.post(f"{base}/stop", headers=own)
                assert [p.result().json()["state"] for p in polls] == ["stopped"] * 8
        finally:
            child.stdin.close()
            child.wait(timeout=60)
            child.stdout.close()
    return times, start_took, health_took


def _check(times: list[float], start_took: float, health_took: float) -> None:
    print(f"controls {[round(t, 3) for t in times]} s, start {start_took:.3f} s, "
          f"healthz {health_took:.3f} s")
    # Starvation, not speed, is what fails here: before the fix a control waited 160 s and a
    # start 19 s. The 0.2 s target is a measurement (RELIABILITY.md, run with -s to see the
    # times), not a timed assertion that a busy machine could break.
    assert statistics.median(times) < 1.0 and max(times) < 3.0, times
    assert start_took < 5.0 and health_took < 2.0, (start_took, health_took)


def test_controls_answer_with_200_watchers_open(start_server):
    server = start_server(env=LIMITS, access_log=False)
    _check(*_controls_under_many_watchers(server.url))


def test_controls_answer_with_200_watchers_open_through_redis(start_server, redis_url):
    server = start_server(env={**LIMITS, "CONVSTEP_REDIS_URL": redis_url}, access_log=False)
    _check(*_controls_under_many_watchers(server.url))
