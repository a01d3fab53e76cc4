"""The allocation bombs of issue 10 (items 1, 2 and 5) against a live server: each gets
its 4xx naming the limit, and the server's exact peak resident memory (VmHWM, reset before
each bomb) grows by less than BOMB_GROWTH_BOUND. Before the fix the first bomb took RSS
from 106 to 1084 MB, the second was a 500 "Unable to allocate 64.3 GiB", the step page
+655 MB and 8.1 MB of zeros +273 MB (+508 MB for eight at once)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

MIB = 2**20
# What a refused bomb may cost: its body (at most max_json_bytes, 8 MiB) read and, for
# the ones under the element bound, parsed into Python lists, plus the answer.
BOMB_GROWTH_BOUND = 64 * MIB

pytestmark = pytest.mark.timeout(180)


def _bombs() -> list[tuple[str, str, bytes, int, str, tuple[str, ...]]]:
    """(name, route, body, status, code, words in the detail)."""
    ones = lambda *shape: np.ones(shape).tolist()  # noqa: E731
    conv_a = {"dZ": [[[[1.0]]]], "A_prev": ones(1, 1, 1, 1024), "W": ones(6, 6, 1024, 1),
              "b": [[[[0.0]]]], "hparameters": {"stride": 1, "pad": 125}, "dilation": 50}
    conv_b = {"dZ": [[[[1.0]]]], "A_prev": ones(16, 1, 1, 2048), "W": ones(9, 9, 2048, 1),
              "b": [[[[0.0]]]], "hparameters": {"stride": 1, "pad": 256}, "dilation": 64}
    page = {"A_prev": ones(1, 31, 31, 64), "W": ones(16, 16, 64, 1), "b": [[[[0.0]]]],
            "hparameters": {"stride": 1, "pad": 0}, "steps": {"offset": 0, "limit": 256}}
    zeros = (b'{"A_prev": [[[[' + b",".join([b"0"] * 3_680_000) + b']]]], "W": [[[[1]]]], '
             b'"b": [[[[0]]]], "hparameters": {"stride": 1, "pad": 0}}')
    return [
        ("conv_backward pad 125 dilation 50", "conv_backward", json.dumps(conv_a).encode(),
         413, "over_memory_budget", ("memory_budget_bytes",)),
        ("conv_backward pad 256 dilation 64", "conv_backward", json.dumps(conv_b).encode(),
         413, "over_memory_budget", ("memory_budget_bytes",)),
        ("conv_forward f 16 x 64 channels, 256 steps", "conv_forward",
         json.dumps(page).encode(), 422, "over_limit", ("max_page_numbers", "21 steps")),
        ("3.68 M zeros in 7.4 MB", "conv_forward", zeros, 413, "too_many_elements",
         ("max_array_elements",)),
    ]


BOMBS = _bombs()


@pytest.mark.parametrize("name, route, body, status, code, words", BOMBS,
                         ids=[b[0] for b in BOMBS])
def test_allocation_bomb_is_refused_within_the_memory_bound(shared_server, name, route, body,
                                                            status, code, words):
    server = shared_server
    httpx.post(f"{server.url}/api/conv_forward", json=_small(), timeout=30)  # warm
    before = server.rss()
    server.reset_peak()
    r = httpx.post(f"{server.url}/api/{route}", content=body, timeout=60,
                   headers={"content-type": "application/json"})
    peak = server.peak()
    assert r.status_code == status, r.text[:300]
    assert r.json()["code"] == code
    for word in words:
        assert word in r.json()["detail"], r.json()["detail"]
    assert peak - before < BOMB_GROWTH_BOUND, (name, (peak - before) / MIB)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    print(f"\n{name}: {len(body)} bytes -> {r.status_code}, peak RSS growth "
          f"{(peak - before) / MIB:.1f} MiB")


def test_eight_bodies_of_zeros_at_once_stay_bounded(shared_server):
    server = shared_server
    body = BOMBS[3][2]
    before = server.rss()
    server.reset_peak()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: httpx.post(
            f"{server.url}/api/conv_forward", content=body, timeout=60,
            headers={"content-type": "application/json"}), range(8)))
    peak = server.peak()
    assert [r.status_code for r in answers] == [413] * 8
    # eight bodies held at once (each at most max_json_bytes) and nothing parsed
    assert peak - before < 8 * len(body) + BOMB_GROWTH_BOUND, (peak - before) / MIB
    print(f"\neight at once: peak RSS growth {(peak - before) / MIB:.1f} MiB")


def test_a_large_body_within_the_limits_is_parsed_and_answered(shared_server):
    """The other side: 262144 numbers (the element limit) still compute."""
    server = shared_server
    body = {"A_prev": np.zeros((1, 512, 512, 1)).tolist(), "hparameters": {"stride": 2,
            "f": 2}, "mode": "max"}
    r = httpx.post(f"{server.url}/api/pool_forward", json=body, timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert np.asarray(r.json()["A"]).shape == (1, 256, 256, 1)


def _small() -> dict:
    return {"A_prev": [[[[1.0], [2.0]], [[3.0], [4.0]]]], "W": [[[[1.0]]]], "b": [[[[0.0]]]],
            "hparameters": {"stride": 1, "pad": 0}}
