"""Security: strict headers on every response, /docs served offline under its CSP, client
names never used as paths, templates autoescaped, bodies bounded before they are read, slow
clients timed out without blocking others, and nothing from an upload on disk or in a log."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


def api_operations(openapi: dict) -> int:
    return sum(1 for ops in openapi["paths"].values() for m in ops
               if m in ("get", "post", "put", "patch", "delete"))


# --- /docs works offline ------------------------------------------------------------------


@pytest.mark.browser
def test_docs_render_offline_under_the_csp(shared_server, browser):
    """Swagger UI comes from our own /static: every request stays on the server, the CSP
    names no other origin, no CSP violation is reported, every operation is listed and one
    opens with its schema."""
    url = shared_server.url
    r = httpx.get(f"{url}/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "http" not in csp.replace("'self'", "") and "unsafe-inline" not in csp
    assert "cdn" not in r.text and "https://" not in r.text
    n_ops = api_operations(httpx.get(f"{url}/openapi.json").json())

    ctx = browser.new_context(base_url=url)
    page = ctx.new_page()
    console, requests = [], []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.goto("/docs")
        page.locator(".opblock").first.wait_for(timeout=15000)
        assert page.locator(".opblock").count() == n_ops
        page.locator(".opblock-summary", has_text="/api/steps").first.click()
        page.locator(".opblock-body .model-example, .opblock-body .body-param, "
                     ".opblock-body table.parameters, .opblock-body .opblock-section"
                     ).first.wait_for(timeout=10000)
        page.wait_for_timeout(300)
    finally:
        ctx.close()
    assert requests and all(u.startswith(url + "/") for u in requests), requests
    assert any("/static/vendor/swagger-ui/swagger-ui-bundle.js" in u for u in requests)
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console


def test_redoc_sends_people_to_docs(shared_server):
    r = httpx.get(f"{shared_server.url}/redoc")
    assert r.status_code == 308 and r.headers["location"] == "/docs"
    assert json.loads(httpx.get(f"{shared_server.url}/openapi.json").text)["paths"]
