"""The Explore page (/explore, and /?<state> through app/site.py) with its boot data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.explore.services.page import boot_data
from app.platform.deps import SettingsDep
from app.platform.nav import nav

router = APIRouter()


@router.get("/explore", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request, limits: SettingsDep) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "explore.html", {
        "boot": boot_data(limits), "nav": nav(request, "explore")})
