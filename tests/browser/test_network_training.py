"""Live training on the network page, driven by its own controls: a job starts from random
weights, its progress streams in (curve points drawn, conv1's filters change, the step count
rises), pause holds it, resume moves it on, stop ends it, reset clears it; "Run on" can run
the digit on the job's weights. The page raises no error throughout."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.pagetools import canvas_stats

MAIN = "#main"


def _loaded(make_page):
    page, log = make_page(1280, 900)
    page.goto("/network")
    expect(page.locator(MAIN)).to_have_attribute("data-prediction", re.compile(r"\d"),
                                                timeout=20000)
    return page, log


def _int(page, name: str) -> int:
    return int(page.locator(MAIN).get_attribute(f"data-{name}") or -1)


def _colour_pixels(page, selector: str, rgb: tuple[int, int, int]) -> int:
    """How many pixels of a canvas are within a few levels of one colour (a curve's)."""
    return page.evaluate(
        """([sel, rgb]) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (Math.abs(d[i] - rgb[0]) < 12 && Math.abs(d[i + 1] - rgb[1]) < 12
                    && Math.abs(d[i + 2] - rgb[2]) < 12) n += 1;
            }
            return n;
        }""",
        [selector, list(rgb)],
    )


def _longest_job(page) -> int:
    """Pick the largest epoch count the page offers (the server's max_job_epochs bounds it),
    so that the job runs long enough to be paused."""
    values = page.eval_on_selector_all("#train-epochs option", "os => os.map(o => Number(o.value))")
    page.select_option("#train-epochs", str(max(values)))
    return max(values)


def test_live_training_streams_pauses_resumes_and_stops(make_page):
    page, log = _loaded(make_page)
    main = page.locator(MAIN)
    assert page.locator("#train-pause").is_disabled()
    assert page.locator("#train-reset").is_disabled()
    epochs = _longest_job(page)
    page.click("#train-start")
    expect(main).to_have_attribute("data-train-state", "running")
    expect(page.locator("#train-start")).to_be_disabled()
    expect(page.locator("#train-filters canvas")).to_have_count(8)
    first = canvas_stats(page, "#train-filters canvas")

    # progress streams in: the step rises, held-out points arrive
    expect(main).to_have_attribute("data-train-points", re.compile(r"^([2-9]|\d\d+)$"))
    page.click("#train-pause")
    expect(main).to_have_attribute("data-train-state", "paused")
    expect(page.locator("#train-pause")).to_have_text("Resume")
    held = _int(page, "train-step")
    assert held > 0
    assert "epoch" in page.locator("#train-state").inner_text()
    assert f"of {epochs}" in page.locator("#train-state").inner_text()
    assert canvas_stats(page, "#train-filters canvas")["sum"] != first["sum"], \
        "conv1's filters did not change after training steps"
    # both loss curves and the accuracy curve are drawn in their colours
    assert _colour_pixels(page, "#chart-loss", (0xd6, 0x60, 0x4d)) > 10
    assert _colour_pixels(page, "#chart-loss", (0x1d, 0x4e, 0xd8)) > 10
    assert _colour_pixels(page, "#chart-acc", (0x0a, 0x8f, 0x3c)) > 10

    # paused: nothing moves
    page.wait_for_timeout(700)
    assert _int(page, "train-step") == held
    assert page.locator(MAIN).get_attribute("data-train-state") == "paused"

    # resume: the step rises past where it was held
    page.click("#train-pause")
    expect(main).to_have_attribute("data-train-state", re.compile("running|done"))
    expect(page.locator("#train-pause")).to_have_text("Pause")
    for _ in range(100):
        if _int(page, "train-step") > held:
            break
        page.wait_for_timeout(50)
    assert _int(page, "train-step") > held

    # stop (if it has not finished on its own): the controls say it ended
    if page.locator(MAIN).get_attribute("data-train-state") == "running":
        page.click("#train-stop")
    expect(main).to_have_attribute("data-train-state", re.compile("stopped|done"))
    expect(page.locator("#train-start")).to_be_enabled()
    expect(page.locator("#train-pause")).to_be_disabled()
    ended = _int(page, "train-step")
    page.wait_for_timeout(300)
    assert _int(page, "train-step") == ended

    # reset: the curves and filters go, the job's option leaves "Run on"
    page.click("#train-reset")
    expect(main).not_to_have_attribute("data-train-state", re.compile("."))
    expect(page.locator("#train-filters canvas")).to_have_count(0)
    expect(page.locator("#weights option[value^='job:']")).to_have_count(0)
    assert _colour_pixels(page, "#chart-loss", (0xd6, 0x60, 0x4d)) == 0
    assert log.page_errors == []
    assert log.console_errors == []


def test_predictions_follow_the_jobs_weights(make_page):
    page, log = _loaded(make_page)
    shipped = page.locator("#prediction").inner_text()
    _longest_job(page)
    page.click("#train-start")
    option = page.locator("#weights option[value^='job:']")
    expect(option).to_have_count(1)
    page.click("#train-pause")
    expect(page.locator(MAIN)).to_have_attribute("data-train-state", "paused")
    job = option.get_attribute("value")
    with page.expect_request(lambda r: r.url.endswith("/api/network/run")) as req:
        page.select_option("#weights", job)
    assert json.loads(req.value.post_data)["weights"] == job
    expect(page.locator("#prediction")).not_to_have_text(shipped)
    expect(option).to_have_text(re.compile(r"training job, step \d+"))
    # the job's weights reach the step view too
    with page.expect_request(lambda r: r.url.endswith("/api/network/steps")) as req:
        page.click("[data-layer=conv1] .open-steps")
    assert json.loads(req.value.post_data)["weights"] == job
    expect(page.locator("#steps-panel")).to_have_attribute("data-kind", "conv_forward")

    # reset while "Run on" names the job: back to the shipped weights and their prediction
    page.click("#train-reset")
    expect(page.locator("#weights")).to_have_value("shipped")
    expect(page.locator("#prediction")).to_have_text(shipped)
    assert log.page_errors == []
    assert log.console_errors == []


def test_training_is_paced_so_a_person_can_pause_it_and_the_speed_changes_live(make_page):
    """At the page's default pace a 30-epoch run is still running seconds later (unpaced it
    ended in about 4 s), the speed shows, and "full speed" lets it finish."""
    page, log = _loaded(make_page)
    main = page.locator(MAIN)
    assert page.locator("#train-speed").input_value() == "20"
    _longest_job(page)
    page.click("#train-start")
    expect(main).to_have_attribute("data-train-state", "running", timeout=20000)
    page.wait_for_timeout(2000)
    assert main.get_attribute("data-train-state") == "running"
    assert "20 steps/s" in page.locator("#train-state").inner_text()
    step = _int(page, "train-step")
    assert 0 < step <= 20 * 3 + 2  # at most 20 a second (and the poll's lag)
    page.click("#train-pause")
    expect(main).to_have_attribute("data-train-state", "paused", timeout=10000)
    page.click("#train-pause")  # Resume
    expect(main).to_have_attribute("data-train-state", "running", timeout=10000)
    page.select_option("#train-speed", "")  # full speed: it ends
    expect(main).to_have_attribute("data-train-state", re.compile("done|stopped"),
                                   timeout=120000)
    assert log.console_errors == [] and log.page_errors == []


def test_a_shared_link_shows_the_job_read_only(make_page):
    page, log = _loaded(make_page)
    _longest_job(page)
    page.click("#train-start")
    main = page.locator(MAIN)
    expect(main).to_have_attribute("data-train-owned", "true")
    page.click("#train-pause")
    expect(main).to_have_attribute("data-train-state", "paused")
    expect(page).to_have_url(re.compile(r"[?&]job=[0-9a-f]{32}"))
    link = page.url

    # another browser (no token in its sessionStorage): the job, its curves, no controls
    other, other_log = make_page(1280, 900)
    other.goto(link)
    theirs = other.locator(MAIN)
    expect(theirs).to_have_attribute("data-train-state", "paused")
    expect(theirs).to_have_attribute("data-train-owned", "false")
    expect(other.locator("#train-owner")).to_be_visible()
    assert "only the page that started it" in other.locator("#train-owner").inner_text()
    for button in ("#train-pause", "#train-stop"):
        expect(other.locator(button)).to_be_disabled()
    expect(other.locator("#train-filters canvas")).to_have_count(8)
    expect(other.locator("#weights option[value^='job:']")).to_have_count(1)

    # the starter's controls still work, and the watcher sees it
    page.click("#train-pause")
    expect(theirs).to_have_attribute("data-train-state", re.compile("running|done"))
    # the watcher's reset only stops watching: the job goes on for its owner
    other.click("#train-reset")
    expect(theirs).not_to_have_attribute("data-train-state", re.compile("."))
    expect(other.locator("#train-owner")).to_be_hidden()
    expect(main).to_have_attribute("data-train-state", re.compile("running|done"))
    page.click("#train-reset")
    assert log.page_errors == [] and other_log.page_errors == []
    assert log.console_errors == [] and other_log.console_errors == []
