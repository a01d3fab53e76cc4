"""The page itself, health, and the built-in samples."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from app.config import Settings
from app.deps import SampleName, SettingsDep
from app.samples import DEFAULT_SAMPLE, SAMPLE_NAMES, SAMPLES, sample_bytes, sample_info
from app.schemas.image import ImageSettings
from core import PRESETS

router = APIRouter()


class Health(BaseModel):
    status: Literal["ok"]


class SampleOut(BaseModel):
    name: str
    title: str
    width: int
    height: int
    mode: str
    licence: str
    credit: str


def limits_for_page(limits: Settings) -> dict:
    """The limits the page needs to keep its controls valid."""
    return {k: getattr(limits, k) for k in (
        "max_upload_bytes", "max_pixels", "max_size", "max_filters", "max_steps_per_page")}


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


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/explore", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request, limits: SettingsDep) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "index.html", {"boot": boot_data(limits)})


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
