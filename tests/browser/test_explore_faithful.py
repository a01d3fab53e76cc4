"""The explore views show the code that was computed, with the server's numbers (issue 8 §2):
tie rules in the pool panels, tied maxima, distribute_value's average, conv backward's
da_prev_pad and its crop, the terms behind an accumulated cell, the cells a weight
multiplies; and what a learner saw wrong: the pad view at pad 0, the magnified corner's
label, code cut off at 1440 px, the arrow keys after a click on a stage tab."""

from __future__ import annotations

import numpy as np
import pytest
from pagetools import (
    DEFAULT_QUERY,
    decode,
    open_page,
    post_image,
    post_steps,
    scalar_value,
    selected_stage,
    wait_until,
)

import core

BASE = {"sample": "chelsea", "size": 24, "color": "gray", "f": 3, "stride": 2, "pad": 1,
        "pad_mode": "constant", "pad_value": 0.0, "dilation": 1,
        "filters": [{"preset": "sobel_x", "bias": 0.0}], "relu": False,
        "pool": {"mode": "max", "f": 2, "stride": 2, "tie_rule": "first"},
        "upstream": {"kind": "random", "seed": 3}}


def _query(s: dict, stage: str, step: int) -> str:
    q = (f"sample={s['sample']}&size={s['size']}&color={s['color']}&f={s['f']}"
         f"&stride={s['stride']}&pad={s['pad']}&pad_mode={s['pad_mode']}&pad_value=0"
         f"&dilation={s['dilation']}&k0={s['filters'][0]['preset']}&b0=0"
         f"&relu={1 if s['relu'] else 0}")
    p = s["pool"]
    q += (f"&pool={p['mode']}&pool_f={p['f']}&pool_stride={p['stride']}&tie={p['tie_rule']}"
          if p else "&pool=none")
    q += f"&up={s['upstream']['kind']}&seed={s['upstream']['seed']}"
    return q + f"&stage={stage}&step={step}"


def _settings(**changes) -> dict:
    s = {**BASE, **changes}
    if "pool" in changes and changes["pool"] is not None:
        s["pool"] = {**BASE["pool"], **changes["pool"]}
    return s


def _records(page, settings: dict, stage: str) -> tuple[dict, list[dict]]:
    api = post_image(page, settings)
    total = api["steps"][stage]["total"]
    steps = []
    for offset in range(0, total, 256):
        steps += post_steps(page, {"id": api["id"], "settings": api["settings"], "stage": stage,
                                   "offset": offset, "limit": 256})["steps"]
    return api, steps


def _hover_cell(page, figure: str, r: int, c: int) -> None:
    """Move the pointer to the centre of cell (r, c) of the first map matching `figure`."""
    canvas = page.locator(f"{figure} canvas.map-overlay").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    rows, cols = page.evaluate(
        "(c) => c.closest('figure').querySelector('.map-shape').textContent"
        ".split('×').map(Number).slice(0, 2)", canvas.element_handle())
    page.mouse.move(box["x"] + (c + 0.5) * box["width"] / cols,
                    box["y"] + (r + 0.5) * box["height"] / rows)


def _terms(page) -> dict:
    wait_until(page, "!!document.querySelector('#view [data-field=\"terms\"] .terms-head')")
    return page.evaluate("""() => {
        const box = document.querySelector('#view [data-field="terms"]');
        return {
            windows: Number(box.querySelector('.terms-head').dataset.windows),
            head: box.querySelector('.terms-head').textContent,
            names: box.querySelector('.terms-names').textContent,
            values: [...box.querySelectorAll('output.term')].map(o => Number(o.dataset.v)),
            total: Number(box.querySelector('output[data-field="terms-total"]').dataset.v),
        };
    }""")


# ------------------------------------------------------------------ pool panels


@pytest.mark.parametrize("tie", ["first", "all", "split"])
def test_pool_panels_show_the_code_of_the_tie_rule(page_and_log, tie):
    page, log = page_and_log
    s = _settings(pool={"tie_rule": tie})
    for stage in ("pool_forward", "pool_backward"):
        open_page(page, _query(s, stage, 7))
        page.wait_for_selector('#view pre[data-field="code"]')
        code = page.locator('#view pre[data-field="code"]').text_content()
        if tie == "first":
            assert "np.argmax(a_prev_slice)" in code
            assert "create_mask_from_window" not in page.locator("#view").text_content()
        else:
            assert "create_mask_from_window(a_prev_slice)" in code
            assert "np.argmax" not in code
            assert ("mask / np.sum(mask)" in code) == (tie == "split")
    assert log.page_errors == []


def test_tied_maxima_are_never_claimed_as_one(page_and_log):
    page, log = page_and_log
    # ReLU'd Sobel responses: zero over flat patches, so many pool windows tie at 0
    s = _settings(size=32, relu=True, pool={"tie_rule": "first"})
    _, steps = _records(page, s, "pool_forward")
    for rec in steps:  # the server's maxima are every cell equal to the window's max
        w = np.array(rec["window"])
        assert rec["maxima"] == np.argwhere(w == w.max()).tolist()
    tied = next(rec for rec in steps if len(rec["maxima"]) > 1)
    single = next(rec for rec in steps if len(rec["maxima"]) == 1)

    open_page(page, _query(s, "pool_forward", tied["index"]))
    page.wait_for_selector('#view [data-field="max-where"]')
    text = page.locator('#view [data-field="max-where"]').text_content()
    n = len(tied["maxima"])
    assert f"{n} cells tie" in text
    assert "np.argmax takes the first, ({}, {})".format(*tied["argmax"]) in text
    assert "of the window" not in text  # no single "max at (r, c) of the window"
    marked = page.eval_on_selector_all('#view table[data-field="window"] td.marked',
                                       "tds => tds.map(td => [Number(td.dataset.r), "
                                       "Number(td.dataset.c)])")
    assert sorted(marked) == sorted(tied["maxima"])

    open_page(page, _query(s, "pool_forward", single["index"]))
    page.wait_for_selector('#view [data-field="max-where"]')
    text = page.locator('#view [data-field="max-where"]').text_content()
    assert "at ({}, {}) of the window".format(*single["argmax"]) in text and "tie" not in text
    assert log.page_errors == []


def test_distribute_value_shows_the_average_with_its_numbers(page_and_log):
    page, log = page_and_log
    s = _settings(pool={"mode": "average", "f": 3, "stride": 1})
    _, steps = _records(page, s, "pool_backward")
    rec = steps[11]
    open_page(page, _query(s, "pool_backward", 11))
    page.wait_for_selector('#view [data-field="distribute"]')
    line = page.locator('#view [data-field="distribute"]').text_content()
    assert "average = dz / (n_H * n_W)" in line and "/ (3 * 3)" in line
    assert scalar_value(page, "average") == rec["added"][0][0]
    assert rec["added"][0][0] == pytest.approx(core.distribute_value(rec["da"], (3, 3))[0, 0])
    code = page.locator('#view pre[data-field="code"]').text_content()
    assert "distribute_value(da, (3, 3))" in code
    assert log.page_errors == []


# ------------------------------------------------------------------ conv backward


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_backward_draws_da_prev_pad_then_the_crop(page_and_log, pad):
    page, log = page_and_log
    s = _settings(pad=pad, stride=1)
    api = post_image(page, s)
    H, W = api["geometry"]["conv"]["n_H_prev"], api["geometry"]["conv"]["n_W_prev"]
    open_page(page, _query(s, "conv_backward", 0))
    page.wait_for_selector("#view .dapad-group figure.map canvas.map-base")
    shape = page.locator("#view .dapad-group .map-shape").first.text_content()
    assert shape == f"{H + 2 * pad} × {W + 2 * pad}"
    crop = page.locator('#view pre[data-field="crop"]').text_content()
    assert "dA_prev = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]" in crop
    assert f"da_prev_pad[{pad}:{pad + H}, {pad}:{pad + W}, :]" in crop
    note = page.locator('#view [data-field="crop-note"]').text_content()
    assert ("empty" in note) and (("[0:-0, 0:-0, :]" in note) == (pad == 0))
    if pad:
        # the discarded border is grey: a pixel in the top-left border cell of da_prev_pad
        rgb = page.evaluate("""() => {
            const c = document.querySelector('#view .dapad-group canvas.map-base');
            const d = c.getContext('2d').getImageData(2, 2, 1, 1).data;
            return [d[0], d[1], d[2]];
        }""")
        assert max(rgb) - min(rgb) <= 8 and 120 <= rgb[0] <= 220, rgb
    assert log.page_errors == []


def test_hovering_an_accumulated_cell_lists_its_terms(page_and_log):
    page, log = page_and_log
    s = _settings(pool=None)  # stride 2, pad 1, f 3: dA_prev[0, 1] collects from 2 windows
    api = post_image(page, s)
    dZ = decode(api["arrays"]["dZ"]).astype(np.float64)
    Wt = decode(api["arrays"]["W"]).astype(np.float64)
    dA_prev = decode(api["arrays"]["dA_prev"])
    open_page(page, _query(s, "conv_backward", 0))
    _hover_cell(page, "#view .da-group figure.map", 0, 1)
    t = _terms(page)
    assert t["windows"] == 2
    assert "dA_prev[0, 1, 0] = dZ[0, 0, 0] * W[1, 2, 0, 0] + dZ[0, 1, 0] * W[1, 0, 0, 0]" \
        in t["names"]
    want = [dZ[0, 0, 0] * Wt[1, 2, 0, 0], dZ[0, 1, 0] * Wt[1, 0, 0, 0]]
    np.testing.assert_allclose(t["values"], want, rtol=1e-6, atol=1e-9)
    assert t["total"] == float(dA_prev[0, 1, 0])
    assert sum(t["values"]) == pytest.approx(t["total"], rel=1e-5, abs=1e-7)

    # the same in pool backward: f 3, stride 1 windows overlap, a middle cell has 9
    s = _settings(pool={"mode": "max", "f": 3, "stride": 1, "tie_rule": "split"})
    api = post_image(page, s)
    dA_pool = decode(api["arrays"]["dA_pool"])
    open_page(page, _query(s, "pool_backward", 0))
    _hover_cell(page, "#view .poolb-view .map-group:nth-of-type(2) figure.map", 4, 5)
    t = _terms(page)
    assert t["windows"] == 9 and len(t["values"]) == 9
    assert "dA_prev[4, 5, 0] = dA[2, 3, 0] * mask[2, 2]" in t["names"]
    assert t["total"] == float(dA_pool[4, 5, 0])
    assert sum(t["values"]) == pytest.approx(t["total"], rel=1e-5, abs=1e-7)
    assert log.page_errors == []


def test_hovering_a_weight_lights_every_cell_it_multiplies(page_and_log):
    page, log = page_and_log
    s = _settings(pool=None)
    api = post_image(page, s)
    g = api["geometry"]["conv"]
    dW = decode(api["arrays"]["dW"])
    open_page(page, _query(s, "conv_backward", 0))
    _hover_cell(page, "#view .dw-group figure.map", 1, 2)
    page.wait_for_selector('#view [data-field="weight-sum"]')
    assert int(page.locator('#view [data-field="weight-sum"]').get_attribute("data-cells")) \
        == g["n_H"] * g["n_W"]
    assert scalar_value(page, "weight-total") == float(dW[1, 2, 0, 0])
    # on A_prev_pad's overlay: the cells (2h + 1, 2w + 2) are lit blue (outside the step's
    # window, rows and columns 0..2), (0, 5) and (4, 3) are not
    last = [2 * (g["n_H"] - 1) + 1, 2 * (g["n_W"] - 1) + 2]
    lit = page.evaluate("""([rows, cols, cells]) => {
        const c = document.querySelector(
            '#view .convb-view > .maps > figure.map canvas.map-overlay');
        const ctx = c.getContext('2d');
        return cells.map(([r, s]) => {
            const x = Math.floor((s + 0.5) * c.width / cols);
            const y = Math.floor((r + 0.5) * c.height / rows);
            const d = ctx.getImageData(x, y, 1, 1).data;
            return d[3] > 0 && d[2] > d[0];
        });
    }""", [g["n_H_pad"], g["n_W_pad"], [[3, 4], [5, 6], last, [0, 5], [4, 3]]])
    assert lit == [True, True, True, False, False]
    assert log.page_errors == []


# ------------------------------------------------------------------ what a learner saw


def test_pad_view_at_pad_0_speaks_of_no_padding_and_the_corner_label_fits(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY.replace("pad=1", "pad=0") + "&stage=pad&step=0")
    text = page.locator("#view").text_content()
    assert "Tinted" not in text and "pad is 0" in text
    corner = page.locator("#view figure.map.corner")
    assert "A_prev_pad[:10, :10, 0]" in corner.locator(".map-title").text_content()
    assert corner.locator(".map-shape").text_content() == "10 × 10"
    open_page(page, DEFAULT_QUERY + "&stage=pad&step=0")
    assert "Tinted" in page.locator("#view").text_content()
    assert page.locator("#view figure.map.corner .map-shape").text_content() == "10 × 10"
    assert log.page_errors == []


@pytest.mark.parametrize("stage, step", [("conv_forward", 4000), ("pool_backward", 900),
                                         ("conv_backward", 4000), ("pool_forward", 900)])
def test_code_lines_are_not_cut_off_at_1440_px(make_page, stage, step):
    page, log = make_page(1440, 900)
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step={step}")
    page.wait_for_selector("#view .detail pre.code")
    cut = page.eval_on_selector_all(
        "#view pre.code", "ps => ps.filter(p => p.scrollWidth > p.clientWidth + 1)"
        ".map(p => p.textContent)")
    assert cut == []
    assert log.page_errors == []


def test_arrow_keys_step_after_clicking_a_stage_tab(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")
    page.click("#tab-pool_forward")
    wait_until(page, "document.querySelector('#view').dataset.stage === 'pool_forward'")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.body.dataset.step === '2'")
    assert selected_stage(page) == "pool_forward"
    # from the keyboard, on a focused tab, the arrows still move between the tabs
    page.focus("#tab-pool_forward")
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.querySelector('#view').dataset.stage === 'pool_backward'")
    assert selected_stage(page) == "pool_backward"
    assert log.page_errors == []
