"""Layout measured in the browser at 1280 and 390 px: map size labels sit inside their card
with padding, dW titles stay on one line and no legend is wider than its map, sample names
are not cut off; an RGB picture's legend is its three channels, not a grey bar."""

from __future__ import annotations

import pytest
from pagetools import DEFAULT_QUERY, open_page

MEASURE = r"""() => {
  const r = (e) => e.getBoundingClientRect();
  const out = {labels: [], titles: [], legends: [], samples: []};
  for (const f of document.querySelectorAll('#view figure.map')) {
    const card = f.parentElement.closest('.maps > *') || f;
    const s = f.querySelector('.map-shape');
    const title = f.querySelector('.map-title').textContent;
    if (s && s.offsetParent) {
      out.labels.push({title, right: r(card).right - r(s).right, left: r(s).left - r(card).left});
    }
    if (f.classList.contains('small')) {
      out.titles.push({title, lines: f.querySelector('.map-title').getClientRects().length});
    }
    const leg = f.querySelector('.legend');
    const map = f.querySelector('canvas.map-base');
    if (leg) out.legends.push({title, legend: r(leg).width, map: r(map).width});
  }
  for (const b of document.querySelectorAll('#samples .sample span')) {
    out.samples.push({name: b.textContent, sw: b.scrollWidth, cw: b.clientWidth,
                      sh: b.scrollHeight, ch: b.clientHeight});
  }
  return out;
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("stage", ["conv_backward", "pad", "pool_backward"])
def test_labels_titles_legends_and_sample_names_fit(make_page, width, stage):
    page, log = make_page(width=width)
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step=0")
    m = page.evaluate(MEASURE)
    assert m["labels"] and m["legends"]
    for lab in m["labels"]:
        assert lab["right"] >= 6 and lab["left"] >= 6, lab  # inside the card, with padding
    if stage == "conv_backward":
        assert len(m["titles"]) == 6  # dW[:, :, ch, c]: 3 channels x 2 filters
    for t in m["titles"]:
        assert t["lines"] == 1, t
    for leg in m["legends"]:
        assert leg["legend"] <= leg["map"] + 0.5, leg
    assert len(m["samples"]) == 4
    for smp in m["samples"]:
        assert smp["sw"] <= smp["cw"] and smp["sh"] <= smp["ch"], smp  # not clipped
    assert log.console_errors == [] and log.page_errors == []


LEGEND_BARS = r"""(sel) => [...document.querySelectorAll(sel + ' .legend-bar')].map((c) => {
  const d = c.getContext('2d').getImageData(c.width - 1, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
})"""


def test_an_rgb_picture_has_an_rgb_legend_and_gray_a_gray_one(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pad&step=0")
    first = "#view .pad-view figure.map:first-of-type"
    assert page.locator(f"{first} .legend.rgb").count() == 1
    # the bright ends of its bars: full red, full green, full blue
    assert page.evaluate(LEGEND_BARS, first) == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    assert "R, G, B" in page.locator(f"{first} .legend-labels").inner_text()
    open_page(page, DEFAULT_QUERY.replace("color=rgb", "color=gray") + "&stage=pad&step=0")
    assert page.locator(f"{first} .legend.rgb").count() == 0
    (bar,) = page.evaluate(LEGEND_BARS, first)
    assert bar[0] == bar[1] == bar[2]  # grey
    assert log.console_errors == [] and log.page_errors == []
