"""Progressive loading: the first /api/image asks only for the arrays of the stage being
opened, one POST /api/arrays brings the rest after the first draw, and every stage still
draws (also one opened before its arrays have arrived, and one opened from the URL)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from pagetools import DEFAULT_QUERY, open_page, selected_stage, wait_ready, wait_until

from bench.api_bench import FIRST_VIEW

STAGES = ["pad", "conv_forward", "relu", "pool_forward", "pool_backward", "conv_backward"]
EVERY = {"input", "padded", "W", "b", "Z", "A", "pooled", "pool_mask", "dA", "dA_pool", "dZ",
         "dA_prev", "dW", "db"}


def first_image_arrays(log) -> list[str]:
    url = next(u for u in log.requests if urlparse(u).path == "/api/image")
    q = parse_qs(urlparse(url).query)
    assert q["encoding"] == ["display"]
    return q["arrays"][0].split(",")


def assert_drawn(page, stage: str) -> None:
    """The stage's view is up (not the loading note), every map has a size and at least one
    is not blank (outputs fill in behind the step; dA of upstream ones is constant)."""
    wait_until(page, "(s) => document.querySelector('#view').dataset.stage === s && "
                     "!document.querySelector('#view').dataset.pending && "
                     "document.querySelectorAll('#view canvas.map-base').length > 0", stage)
    n = page.locator("#view canvas.map-base").count()
    colors = []
    for i in range(n):
        stats = page.evaluate(
            """(i) => {
                const c = document.querySelectorAll('#view canvas.map-base')[i];
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                const seen = new Set();
                for (let k = 0; k < d.length; k += 4) {
                    seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
                }
                return {colors: seen.size, width: Math.min(c.width, c.height)};
            }""", i)
        assert stats["width"] > 0, (stage, i, stats)
        colors.append(stats["colors"])
    assert max(colors) > 1, (stage, colors)


def test_first_request_asks_for_the_conv_arrays_then_every_stage_draws(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=3000")
    names = first_image_arrays(log)
    # the conv_forward view's arrays and W, as the benchmark's headline row measures
    assert names == FIRST_VIEW.split(",")
    assert set(names) < EVERY
    rest = [r for r in log.requests if urlparse(r).path == "/api/arrays"]
    assert any("encoding=display" in r for r in rest)  # the other stages' arrays
    for stage in STAGES:
        page.click(f"#tab-{stage}")
        assert_drawn(page, stage)
    assert log.console_errors == [] and log.page_errors == []


def test_a_stage_opened_before_its_arrays_arrive_draws_when_they_do(page_and_log):
    page, log = page_and_log
    held = []
    page.route("**/api/arrays?encoding=display", lambda route: held.append(route))
    page.goto("/explore?" + DEFAULT_QUERY + "&stage=conv_forward&step=10")
    wait_until(page, "Number(document.body.dataset.renders || 0) >= 1")
    for _ in range(600):  # until the follow-up has been asked for (and held)
        if held:
            break
        page.wait_for_timeout(25)
    page.click("#tab-conv_backward")
    assert selected_stage(page) == "conv_backward"
    assert page.locator("#view[data-pending] .loading").count() == 1
    held[0].continue_()
    wait_ready(page)
    assert_drawn(page, "conv_backward")
    assert log.console_errors == [] and log.page_errors == []


def test_opening_a_backward_stage_from_the_url(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pool_backward&step=40")
    names = first_image_arrays(log)
    assert {"dA", "dA_pool", "W"} <= set(names) and "Z" not in names
    assert selected_stage(page) == "pool_backward"
    assert_drawn(page, "pool_backward")
    assert page.evaluate("document.body.dataset.step") == "40"
    page.click("#tab-conv_backward")
    assert_drawn(page, "conv_backward")
    assert log.console_errors == [] and log.page_errors == []


def test_a_lost_image_on_the_follow_up_is_sent_again(page_and_log):
    page, log = page_and_log
    first = []

    def forget_once(route):
        if not first:
            first.append(route.request.url)
            route.fulfill(status=404, content_type="application/json",
                          body=json.dumps({"detail": "not in the cache", "code": "unknown_image"}))
        else:
            route.continue_()

    page.route("**/api/arrays?encoding=display", forget_once)
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=10")
    images = [u for u in log.requests if urlparse(u).path == "/api/image"]
    assert len(images) == 2  # the first request and the quiet re-send
    page.click("#tab-pool_forward")
    assert_drawn(page, "pool_forward")
    assert log.page_errors == []
