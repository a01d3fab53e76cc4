"""The numbers on screen are the server's: the detail panel against /api/steps, the backward
view's results against /api/image, settings that change the stated size, settings that do
not fit, and the page re-sending an image the server forgot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pagetools import (
    DEFAULT_QUERY,
    DEFAULT_SETTINGS,
    canvas_stats,
    decode,
    flat_channel,
    open_page,
    post_image,
    post_steps,
    renders,
    scalar_value,
    table_values,
    wait_until,
)


def _detail_matches(page, rec):
    for ch in range(3):
        assert table_values(page, "a_slice", ch) == flat_channel(rec["a_slice"], ch)
        assert table_values(page, "weights", ch) == flat_channel(rec["weights"], ch)
        assert table_values(page, "products", ch) == flat_channel(rec["products"], ch)
    assert scalar_value(page, "total") == rec["total"]
    assert scalar_value(page, "bias") == rec["bias"]
    assert scalar_value(page, "z") == rec["z"]


def test_stepping_shows_the_apis_numbers(page_and_log):
    page, log = page_and_log
    # step 200 is past the first page the image answer carries: fetched lazily
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=200")
    api = post_image(page, DEFAULT_SETTINGS)
    assert page.evaluate("document.body.dataset.imageId") == api["id"]

    def record(k):
        page_ = post_steps(page, {"id": api["id"], "settings": api["settings"],
                                  "stage": "conv_forward", "offset": k, "limit": 1})
        return page_["steps"][0]

    page.wait_for_selector('#view output[data-field="z"]')
    _detail_matches(page, record(200))
    where = page.locator("#view .where").inner_text()
    rec = record(200)
    assert f"Z[{rec['h']}, {rec['w']}, {rec['c']}]" in where
    # step forward with the button, then with the keyboard
    page.get_by_role("button", name="Step forward", exact=True).click()
    wait_until(page, "document.body.dataset.step === '201'")
    page.wait_for_selector('#view output[data-field="z"]')
    _detail_matches(page, record(201))
    page.locator("#scrub").fill("5000")
    wait_until(page, "document.body.dataset.step === '5000'")
    wait_until(page,
        "(v) => Number(document.querySelector('#view output[data-field=\"z\"]')?.dataset.v) === v",
        record(5000)["z"])
    _detail_matches(page, record(5000))
    # full precision on request
    page.select_option("#digits", "full")
    assert float(page.locator('#view output[data-field="z"]').inner_text()) == record(5000)["z"]
    assert log.console_errors == [] and log.page_errors == []


def test_pool_detail_matches_the_api(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pool_forward&step=77")
    api = post_image(page, DEFAULT_SETTINGS)
    rec = post_steps(page, {"id": api["id"], "settings": api["settings"], "stage": "pool_forward",
                            "offset": 77, "limit": 1})["steps"][0]
    page.wait_for_selector('#view output[data-field="value"]')
    assert table_values(page, "window") == [v for row in rec["window"] for v in row]
    assert scalar_value(page, "value") == rec["value"]
    marked = page.eval_on_selector_all('#view table[data-field="window"] td',
                                       "tds => tds.map(td => td.classList.contains('marked'))")
    assert marked == [bool(v) for row in rec["mask"] for v in row]
    assert log.page_errors == []


def test_backward_view_shows_dA_prev_dW_and_db(page_and_log):
    page, log = page_and_log
    api = post_image(page, DEFAULT_SETTINGS)
    last = 64 * 96 * 2 - 1
    open_page(page, DEFAULT_QUERY + f"&stage=conv_backward&step={last}")
    view = page.locator("#view .convb-view")
    # the exercise's formulas beside the live numbers
    text = view.inner_text()
    assert "dA += Σₕ Σ_w W_c × dZ_hw" in text
    assert "dW_c += Σₕ Σ_w a_slice × dZ_hw" in text
    assert "db = Σₕ Σ_w dZ_hw" in text
    # dA_prev over the input (3 channels), dW per filter (2 x 3 maps), db (2 values)
    assert page.locator("#view .map-title", has_text="dA_prev[:, :,").count() == 3
    assert page.locator("#view .map-title", has_text="dW[:, :,").count() == 6
    db = decode(api["arrays"]["db"])
    cells = page.eval_on_selector_all('#view table[data-field="db"] td',
                                      "tds => tds.map(td => Number(td.dataset.v))")
    np.testing.assert_array_equal(np.array(cells, dtype=np.float32), db)
    # at the last step every cell of dA_prev is drawn
    da = canvas_stats(page, "#view .convb-view .da-group canvas.map-base")
    assert da["colors"] > 5 and da["unreached"] == 0
    # the step's own gradient numbers match the API
    rec = post_steps(page, {"id": api["id"], "settings": api["settings"], "stage": "conv_backward",
                            "offset": last, "limit": 1})["steps"][0]
    page.wait_for_selector('#view output[data-field="db_running"]')
    assert scalar_value(page, "db_running") == rec["db_running"]
    for ch in range(3):
        assert table_values(page, "da_add", ch) == flat_channel(rec["da_add"], ch)
        assert table_values(page, "dw_add", ch) == flat_channel(rec["dw_add"], ch)
    assert log.page_errors == []


def test_pool_backward_view_routes_the_gradient(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pool_backward&step=10")
    page.wait_for_selector('#view table[data-field="route"]')
    route = table_values(page, "route")
    added = table_values(page, "added")
    assert sorted(route) == [0.0, 0.0, 0.0, 1.0]  # max pooling, tie rule "first": one cell
    assert added == route  # upstream gradient of ones
    assert log.page_errors == []


def test_stride_and_pad_change_the_stated_size_and_the_map(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=12287")
    out = page.locator('[data-field="out-size"]')
    assert out.inner_text().startswith("Z is 64 × 96 per filter")
    z_before = canvas_stats(page, "#view .map-group figure.map canvas.map-base")
    n = renders(page)
    page.locator("#stride").fill("2")
    page.locator("#pad").fill("0")
    wait_until(page, f"Number(document.body.dataset.renders) > {n}")
    wait_until(page, "document.querySelector('[data-field=\"out-size\"]')"
                     ".textContent.startsWith('Z is 31 × 47')")
    formula = page.locator('[data-field="conv-formula-H"]').inner_text()
    assert "floor((64 + 2*0 - 3) / 2) + 1" in formula
    assert page.locator("#view .map-group .map-shape").first.inner_text() == "31 × 47"
    z_after = canvas_stats(page, "#view .map-group figure.map canvas.map-base")
    assert z_after["sum"] != z_before["sum"]
    # the floor drops the last row and column of the padded input (96 - 3 is odd)
    geo = page.locator("#geometry").inner_text()
    assert "No window reaches row 63 and column 95 of the padded input" in geo
    assert log.console_errors == [] and log.page_errors == []


def test_settings_that_do_not_fit_are_explained_and_undone(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=10")
    page.select_option("#pad-mode", "reflect")
    page.locator("#pad").fill("64")
    box = page.locator("#settings-error")
    box.wait_for(state="visible")
    text = box.inner_text()
    assert "pad = 64" in text and "n_H_prev" in text  # the server's why, with the numbers
    assert "pad <= 63" in text  # and what would fit
    assert page.locator("#view.stale").count() == 1
    page.get_by_role("button", name="Back to the last settings that worked").click()
    box.wait_for(state="hidden")
    assert page.locator("#pad").input_value() == "1"
    assert page.locator("#pad-mode").input_value() == "constant"
    assert page.locator("#view.stale").count() == 0
    # a number outside a control's range is reported too, never silently ignored
    page.locator("#pool-f").fill("70")
    box.wait_for(state="visible")
    assert "Pooling f" in box.inner_text()
    assert page.locator("#pool-f").get_attribute("aria-invalid") == "true"
    page.locator("#pool-f").fill("3")
    box.wait_for(state="hidden")
    assert log.page_errors == []


def test_forgotten_image_is_sent_again(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")
    calls = {"steps": 0, "image": 0}

    def forget_once(route):
        calls["steps"] += 1
        if calls["steps"] == 1:
            route.fulfill(status=404, content_type="application/json",
                          body=json.dumps({"detail": "not in the cache", "code": "unknown_image"}))
        else:
            route.continue_()

    page.route("**/api/steps", forget_once)
    page.on("request", lambda r: calls.__setitem__("image", calls["image"] + 1)
            if "/api/image" in r.url else None)
    page.locator("#scrub").fill("3000")
    page.wait_for_selector('#view output[data-field="z"]')
    assert calls["steps"] >= 2 and calls["image"] == 1
    assert log.page_errors == []


@pytest.mark.parametrize("stage", ["pad", "relu", "pool_forward", "pool_backward", "conv_backward"])
def test_hover_reads_a_value_and_click_jumps(page_and_log, stage):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step=0")
    overlays = page.locator("#view canvas.map-overlay")
    overlay = overlays.first if stage == "conv_backward" else overlays.last
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    assert "=" in tip.inner_text()
    if stage != "pad":
        overlay.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
        wait_until(page, "document.body.dataset.step !== '0'")
    assert log.page_errors == []


COMBOS = [
    # gray, no ReLU, average pooling with overlapping windows, dilation, odd stride
    "sample=camera&size=40&color=gray&f=3&stride=3&pad=2&pad_mode=constant&pad_value=0.5"
    "&dilation=2&k0=laplacian&b0=-0.1&relu=0&pool=average&pool_f=3&pool_stride=2&up=output",
    # RGB, 8 filters, no pooling, edge padding, f = 5
    "sample=text&size=32&color=rgb&f=5&stride=1&pad=2&pad_mode=edge&dilation=1"
    "&k0=gaussian_blur&k1=sharpen&k2=emboss&k3=outline&k4=box_blur&k5=identity&k6=sobel_y"
    "&k7=laplacian&relu=1&pool=none&up=random&seed=11",
    # max pooling that splits ties, f = 1, stride bigger than f, reflect padding
    "sample=coffee&size=20&color=rgb&f=1&stride=2&pad=1&pad_mode=reflect&dilation=1"
    "&k0=identity&relu=1&pool=max&pool_f=2&pool_stride=1&tie=split&up=ones",
]
FIELDS = {"conv_forward": "z", "relu": "a", "pool_forward": "value", "pool_backward": "da",
          "conv_backward": "db_running"}


@pytest.mark.parametrize("combo", range(len(COMBOS)))
def test_every_stage_under_other_settings(page_and_log, combo):
    page, log = page_and_log
    open_page(page, COMBOS[combo] + "&stage=conv_forward&step=0")
    stages = page.eval_on_selector_all("#stage-tabs [role=tab]",
                                       "ts => ts.map(t => t.dataset.stage)")
    for stage in stages:
        page.click(f"#tab-{stage}")
        if stage != "pad":
            page.locator("#btn-last").click()
        if stage in FIELDS:
            page.wait_for_selector(f'#view output[data-field="{FIELDS[stage]}"]')
        # at the last step every map is drawn in full: no cell left unreached
        unreached = page.eval_on_selector_all("#view canvas.map-base", """cs => cs.map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (d[i] === 0xe4 && d[i + 1] === 0xe7 && d[i + 2] === 0xec) n += 1;
            }
            return c.width > 0 && c.height > 0 ? n : -1;
        })""")
        assert unreached and all(n == 0 for n in unreached), (stage, unreached)
    assert ("relu" in stages) == ("relu=1" in COMBOS[combo])
    assert ("pool_forward" in stages) == ("pool=none" not in COMBOS[combo])
    assert log.console_errors == [] and log.page_errors == []


def test_hovering_a_number_lights_its_cell_on_the_map(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=3101&zoom=8")
    page.wait_for_selector('#view table[data-field="a_slice"] td')
    overlay = "#view .conv-view figure.map canvas.map-overlay"
    before = canvas_stats(page, overlay)
    page.hover('#view table[data-field="a_slice"][data-channel="0"] td >> nth=0')
    wait_until(page, "true")
    assert canvas_stats(page, overlay)["sum"] != before["sum"]
    page.mouse.move(0, 0)
    assert log.page_errors == []


def test_backward_views_show_the_servers_running_totals(page_and_log):
    page, log = page_and_log
    api = post_image(page, DEFAULT_SETTINGS)
    k = 5000
    open_page(page, DEFAULT_QUERY + f"&stage=conv_backward&step={k}")
    page.locator("#view .da-group .map-group-title",
                 has_text="running total after this step").wait_for()
    totals = post_steps(page, {"id": api["id"], "settings": api["settings"],
                               "stage": "conv_backward", "offset": k, "limit": 1,
                               "totals_at": k})["totals"]
    cells = page.eval_on_selector_all('#view table[data-field="db"] td',
                                      "tds => tds.map(td => Number(td.dataset.v))")
    np.testing.assert_array_equal(np.array(cells, dtype=np.float32), decode(totals["db"]))
    # and the pool's gradient too
    page.click("#tab-pool_backward")
    page.locator("#scrub").fill("700")
    page.locator("#view .map-group-title", has_text="running total after this step").wait_for()
    assert log.page_errors == []
