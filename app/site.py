"""The site's own routes, above the wings: GET / (a first visit is Learn, a shared
/?<state> link is Explore), /healthz, the built-in samples (/api/samples[/{name}]), and
GET /api/network/filters, which shows a layer of the Network's weights as Explore's filters.

This module and app/main.py are the only ones that import several wings: they assemble the
site; a wing never imports another (tests/app/test_wing_rule.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.explore.routes.page import index
from app.explore.schemas.filters import FiltersOut
from app.explore.services import filters
from app.learn.lesson import LearnQuery
from app.learn.routes import learn_page
from app.network import service as network_service
from app.network.deps import ConvLayerQuery, StateDep, WeightsQuery
from app.platform.deps import SampleName, SettingsDep
from app.platform.errors import UPLOAD_ERRORS
from app.platform.samples import SAMPLE_NAMES, SAMPLES, sample_bytes, sample_info
from app.platform.schemas.site import Health, SampleOut

router = APIRouter()
bridge = APIRouter(tags=["filters: conv weights for Explore"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, limits: SettingsDep) -> Response:
    """A bare / (a first visit) is Learn mode; /?<state> (a shared Explore link) is Explore."""
    if not request.url.query:
        return learn_page(request, LearnQuery())
    return await index(request, limits)


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
async def sample_file(name: SampleName) -> Response:
    s = SAMPLES[name]
    return Response(sample_bytes(name), media_type=s.media_type,
                    headers={"Cache-Control": "public, max-age=86400"})


@bridge.get("/api/network/filters", responses=UPLOAD_ERRORS, response_model=FiltersOut,
            summary="A conv layer of the network's weights as Explore's filters")
async def network_filters(state: StateDep, limits: SettingsDep,
                          weights: WeightsQuery = "shipped",
                          layer: ConvLayerQuery = "conv1") -> dict:
    """The same answer as POST /api/filters, with one entry: the layer's W (exercise layout)
    and b of the shipped weights, an uploaded set (its id) or a training job's current
    weights ('job:<id>')."""
    params = await network_service.resolve_weights(weights, state)
    return filters.filters_of_layer(params, layer, weights, filters.limits_for(limits))
