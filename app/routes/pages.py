"""The pages (Learn at a bare / and /learn, Explore at /explore and /?<state>) with their
boot data, health, and the built-in samples."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Match

from app.config import Settings
from app.deps import SampleName, SettingsDep
from app.samples import DEFAULT_SAMPLE, SAMPLE_NAMES, SAMPLES, sample_bytes, sample_info
from app.schemas.image import FIRST_PAGE, ImageSettings, control_bounds
from app.schemas.pages import Health, SampleOut
from app.services.lesson import LearnQuery, LessonError, learn_boot, site_nav
from core import PRESETS

router = APIRouter()


def limits_for_page(limits: Settings) -> dict:
    """Every bound the page's controls need, so that the page copies none: the server's
    limits (max_upload_bytes, max_pixels, max_size, max_filters, max_steps_per_page), the
    length of the first step pages /api/image sends (first_page_steps), and {"min", "max"}
    of every number a person sets (control_bounds: size, f, stride, pad, dilation,
    pad_value, filters, weight, bias, pool_f, pool_stride, seed)."""
    return {
        **{k: getattr(limits, k) for k in ("max_upload_bytes", "max_pixels", "max_size",
                                           "max_filters", "max_steps_per_page")},
        "first_page_steps": min(FIRST_PAGE, limits.max_steps_per_page),
        **control_bounds(limits),
    }


def boot_data(limits: Settings) -> dict:
    """What the page needs before its first request (embedded as JSON in the HTML)."""
    return {
        "samples": [sample_info(n) for n in SAMPLE_NAMES],
        "default_settings": ImageSettings(
            sample=DEFAULT_SAMPLE, size=min(ImageSettings.model_fields["size"].default,
                                            limits.max_size)).model_dump(mode="json"),
        "limits": limits_for_page(limits),
        "presets": list(PRESETS),
    }


def _nav(request: Request, current: str) -> list[dict]:
    """The site nav, linking only the pages this app serves (GET matches a route)."""
    def serves(path: str) -> bool:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "",
                 "query_string": b"", "headers": []}
        return any(r.matches(scope)[0] == Match.FULL for r in request.app.router.routes)
    return site_nav(serves, current)


def _learn_page(request: Request, query: LearnQuery) -> Response:
    try:
        boot = learn_boot(query)
    except LessonError as exc:  # a case or flavour that does not exist: FastAPI's 422 shape
        return JSONResponse({"detail": [{"loc": ["query", exc.field], "msg": str(exc),
                                         "type": "value_error"}]}, status_code=422)
    return request.app.state.templates.TemplateResponse(
        request, "learn.html", {"boot": boot, "nav": _nav(request, "learn")})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, limits: SettingsDep) -> Response:
    """A bare / (a first visit) is Learn mode; /?<state> (a shared Explore link) is Explore."""
    if not request.url.query:
        return _learn_page(request, LearnQuery())
    return await index(request, limits)


@router.get("/explore", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request, limits: SettingsDep) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "explore.html", {
        "boot": boot_data(limits), "nav": _nav(request, "explore"), "nav_brand": False})


@router.get("/learn", response_class=HTMLResponse, include_in_schema=False)
async def learn(request: Request, query: Annotated[LearnQuery, Query()]) -> Response:
    """Learn mode: the exercise's eight functions walked step by step (services/lesson.py)."""
    return _learn_page(request, query)


@router.get("/healthz", tags=["service"], summary="Liveness: 200 while the server runs")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/api/samples", tags=["samples"], summary="The built-in sample images")
async def samples() -> list[SampleOut]:
    return [SampleOut(**sample_info(n)) for n in SAMPLE_NAMES]


@router.get("/api/samples/{name}", tags=["samples"], response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}},
                             "description": "The sample's file."}},
            summary="A sample's image file (for the picker's thumbnails)")
async def sample_file(name: SampleName) -> Response:  # type: ignore[valid-type]
    s = SAMPLES[name]
    return Response(sample_bytes(name), media_type=s.media_type,
                    headers={"Cache-Control": "public, max-age=86400"})
