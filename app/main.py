"""The ASGI app: `app.main:app`, built by `create_app()`.

    uvicorn app.main:app            (or: python -m app --host 127.0.0.1 --port 8000)

Routes: GET / (the page), GET /healthz, GET /api/samples[/{name}], one POST /api/<name> per
seed function, POST /api/image, /api/steps and /api/arrays; /docs and /openapi.json describe
them all. This module only assembles the app: the routes are in the wings (app/explore,
app/learn, app/network) and app/site.py, the shared parts in app/platform/ (see
app/__init__.py for the whole map).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app import site
from app.explore.routes import arrays, filters, geometry, image, page, transpose
from app.explore.schemas.image import ImageSettings
from app.gallery import routes as gallery
from app.learn import routes as learn
from app.network import routes as network
from app.network.schemas import NetPhotoSettings
from app.platform import errors
from app.platform.cache import LruCache
from app.platform.config import Settings, get_settings
from app.platform.heavy import Admission
from app.platform.memory import Trimmer, rss_bytes
from app.platform.middleware.body_limit import BodyLimitMiddleware
from app.platform.middleware.gzip import GzipMiddleware
from app.platform.middleware.security_headers import DOCS_CSP, SecurityHeadersMiddleware
from app.platform.openapi import register_models
from app.platform.paths import shipped_dir

TEMPLATES_DIR = shipped_dir("templates")
STATIC_DIR = shipped_dir("static")
SWAGGER_UI = "/static/vendor/swagger-ui"

DESCRIPTION = """\
Watch a convolutional layer work, step by step, with exact numbers.

* **Array routes** run the exercise's eight functions on JSON arrays (channels-last, the
  exercise's shapes and names) and answer with full float64 precision.
* **POST /api/image** runs one conv layer (+ ReLU + pooling) and its backward pass on an
  upload or a built-in sample and answers with every array (base64 float32, or one byte per
  value with `?encoding=display`), the geometry and the first page of every stage's steps;
  **POST /api/steps** pages through the step records (by range or output position), and
  **POST /api/arrays** fetches arrays of that answer later, both by the answer's `id`.
* Step records are typed per stage kind (`ConvForwardStep`, `ConvBackwardStep`,
  `PoolForwardStep`, `PoolBackwardStep`): a page's `kind` says which.

Client mistakes are 4xx: `{"detail": [...]}` for field validation (FastAPI's shape),
`{"detail": "...", "code": "..."}` otherwise (413 over a size limit, 415 unsupported media,
422 geometry that cannot work, with core's explanation). Busy: 503 with Retry-After.
"""


def _inline_script_hashes(html: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app. `settings` (tests) replaces the environment's via the get_settings dependency."""
    app = FastAPI(title="convstep", version="0.1.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings

    def current() -> Settings:
        return app.dependency_overrides.get(get_settings, get_settings)()

    # One memory budget for the work in flight and the steps cache (app/platform/heavy.py);
    # past it plus the worker's size now, freed memory goes back to the system
    # (app/platform/memory.py).
    app.state.cache = LruCache(current)
    start_rss = rss_bytes() or 0
    app.state.trimmer = Trimmer(lambda: current().memory_budget_bytes + start_rss)
    app.state.limiter = Admission(current, shrink_cache=app.state.cache.shrink_to,
                                  after_heavy=app.state.trimmer.after_heavy)
    app.state.cache.room = app.state.limiter.cache_room
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescapes .html

    errors.install(app)

    app.include_router(site.router)
    app.include_router(page.router)
    app.include_router(learn.page_router)
    app.include_router(arrays.router)
    app.include_router(image.router)
    app.include_router(geometry.router)
    app.include_router(transpose.router)
    app.include_router(learn.router)
    app.include_router(network.router)
    app.include_router(network.page_router)
    app.include_router(filters.router)
    app.include_router(site.bridge)
    app.include_router(gallery.router)
    app.include_router(gallery.page_router)

    # the JSON `settings` parts of /api/image and /api/network/run/photo (multipart bodies
    # the routes read themselves, described by $ref)
    register_models(app, (ImageSettings, NetPhotoSettings), current)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # Swagger UI from our own /static (vendored, see static/vendor/swagger-ui/README.md):
        # /docs works offline and under a CSP that names no other origin.
        page = get_swagger_ui_html(
            openapi_url="/openapi.json", title="convstep API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None})
        html = page.body.decode()
        return HTMLResponse(html, headers={
            "Content-Security-Policy": DOCS_CSP.format(hashes=_inline_script_hashes(html))})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> RedirectResponse:
        # ReDoc injects inline <style> tags, which the CSP forbids; /docs is the API page.
        return RedirectResponse("/docs", status_code=308)

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    app.add_middleware(BodyLimitMiddleware, settings=current)
    # Inside the security headers, so Server-Timing (taken when the answer starts) counts
    # the compression of answers that this middleware compresses.
    app.add_middleware(GzipMiddleware, level=lambda: current().gzip_level)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


app = create_app()
