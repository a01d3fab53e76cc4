"""The page's input bounds come from the server's settings (boot.limits), not from copies:
the template fills every min/max from `boot.limits`, and the page's JS (the filter grids,
the biases, the URL's filter list) reads the same."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest
from pagetools import DEFAULT_QUERY, open_page

from app.explore.schemas.image import WEIGHT_ABS, ImageSettings, PoolSpec
from app.main import create_app
from app.platform.config import Settings

INPUTS = {  # input id -> (boot.limits key, the model field that bounds it)
    "f": ("f", ImageSettings.model_fields["f"]),
    "stride": ("stride", ImageSettings.model_fields["stride"]),
    "pad": ("pad", ImageSettings.model_fields["pad"]),
    "dilation": ("dilation", ImageSettings.model_fields["dilation"]),
    "pool-f": ("pool_f", PoolSpec.model_fields["f"]),
    "pool-stride": ("pool_stride", PoolSpec.model_fields["stride"]),
}


def _attrs(html: str, input_id: str) -> dict:
    tag = re.search(rf'<input id="{input_id}"[^>]*>', html).group(0)
    return dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag))


def _get_html(app, path: str) -> str:
    async def get() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get(path)).text

    # Playwright's sync API keeps an event loop in this thread: ask from another one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, get).result()


def _bound(field, kind: str) -> float:
    return next(getattr(m, kind) for m in field.metadata if hasattr(m, kind))


@pytest.mark.parametrize("max_filters, max_size", [(8, 512), (64, 300), (3, 64)])
def test_template_bounds_follow_the_server_settings(max_filters, max_size):
    html = _get_html(create_app(Settings(max_filters=max_filters, max_size=max_size)), "/explore")
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>',
                                html, re.S).group(1))
    fields = boot["limits"]
    assert fields["filters"] == {"min": 1, "max": max_filters}
    assert _attrs(html, "n-filters")["max"] == str(max_filters)
    assert f"1 to {max_filters}" in html
    assert _attrs(html, "size")["max"] == str(max_size)
    for input_id, (key, field) in INPUTS.items():
        a = _attrs(html, input_id)
        assert (int(a["min"]), int(a["max"])) == (_bound(field, "ge"), _bound(field, "le"))
        assert fields[key] == {"min": int(a["min"]), "max": int(a["max"])}
    assert float(_attrs(html, "pad-value")["max"]) == WEIGHT_ABS == fields["pad_value"]["max"]


def test_page_inputs_use_the_boot_bounds(page_and_log):
    page, log = page_and_log
    # ten filters asked for in the URL: the server allows max_filters (8 by default)
    extra = "".join(f"&k{i}=box_blur&b{i}=0" for i in range(2, 10))
    open_page(page, DEFAULT_QUERY + extra)
    limits = page.evaluate("JSON.parse(document.getElementById('boot').textContent).limits")
    assert page.locator("#filters fieldset.filter").count() == limits["max_filters"]
    weight = page.locator("#filters input[type=number][aria-label^='Filter 0 weight']").first
    assert float(weight.get_attribute("max")) == limits["weight"]["max"]
    bias = page.locator("#filter-0-bias")
    assert float(bias.get_attribute("min")) == limits["bias"]["min"]
    assert log.page_errors == []
