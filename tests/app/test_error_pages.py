"""A browser that mistypes an address gets an HTML page (the site nav, the reason, a link
home); the API, /static/ and any client that does not ask for HTML keep the JSON errors.
And the Learn settings' hints are read from the probe cases, never typed."""

from __future__ import annotations

import numpy as np
import pytest

from app.learn.lesson import PATH_CASES
from core.probes import get_case

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(("url", "status", "says"), [
    ("/explorer", 404, "no page at /explorer"),
    ("/learn?fn=nonsense", 422, "fn = &#39;nonsense&#39;: Input should be &#39;zero_pad&#39;"),
    ("/learn?step=-1", 422, "step = &#39;-1&#39;"),
    ("/learn?fn=conv_forward&case=nope", 422, "conv_forward has no probe case"),
])
def test_a_browser_gets_an_html_error_page(client, url, status, says):
    r = client.get(url, headers=HTML)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in r.headers
    assert says in r.text
    assert 'class="site-nav"' in r.text and 'data-nav="explore"' in r.text
    assert 'class="error-home" href="/learn"' in r.text


@pytest.mark.parametrize("url", ["/explorer", "/learn?fn=nonsense"])
def test_without_accept_html_the_error_stays_json(client, url):
    r = client.get(url)
    assert r.headers["content-type"] == "application/json"
    assert "detail" in r.json()


@pytest.mark.parametrize("url", ["/api/nothing", "/static/nothing.js", "/api/learn/nope/cases"])
def test_api_and_static_answer_json_even_to_a_browser(client, url):
    r = client.get(url, headers=HTML)
    assert r.status_code in (404, 422)
    assert r.headers["content-type"] == "application/json"


def test_learn_settings_hints_come_from_the_path_cases(client):
    html = client.get("/learn").text
    conv = get_case("conv_forward", PATH_CASES["conv_forward"]["1"]).inputs
    b = np.asarray(conv["b"]).reshape(-1)
    assert len(b) == 2 and b[0] != 1  # the case's biases (0.5, -1), not the old hint's
    expect = f"stride {conv['hparameters']['stride']}, f {conv['W'].shape[0]}, two filters, " \
             f"b = ({b[0]:g}, {b[1]:g})"
    assert f'<span class="hint" id="pad-hint">{expect}</span>' in html
    pool = get_case("pool_forward", PATH_CASES["pool_forward"]["max"]).inputs["hparameters"]
    assert f'id="mode-hint">f {pool["f"]}, stride {pool["stride"]}' in html
