"""Filters for Explore from weights: POST /api/filters reads a weight file's conv tensors,
GET /api/network/filters gives a layer of the network's weights the same way. HTTP only:
the work is app/services/filters.py's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.config import Settings
from app.deps import SettingsDep
from app.routes.network import ERRORS, NetLimitsDep, StateDep, _file_body, _form_file
from app.schemas.filters import FiltersOut
from app.schemas.image import control_bounds
from app.schemas.network import WeightsId
from app.services import filters as service
from app.services import network as network_service
from app.services.heavy import heavy
from core.net import DEFAULT_NET

router = APIRouter(tags=["filters: conv weights for Explore"])

CONV_LAYERS = tuple(name[:-2] for name, shape in DEFAULT_NET.param_shapes.items()
                    if name.endswith(".W") and len(shape) == 4)  # conv1, conv2
ConvLayer = Literal[CONV_LAYERS]  # type: ignore[valid-type]


def _limits(settings: Settings) -> service.Limits:
    f = control_bounds(settings)["f"]
    return service.Limits(int(f["min"]), int(f["max"]), settings.max_filters)


@router.post("/api/filters", responses=ERRORS, openapi_extra={"requestBody": _file_body(
                 "A .safetensors file or an .npz archive holding conv weight tensors "
                 "(exercise layout (f, f, n_C_prev, n_C) or PyTorch's (n_C, n_C_prev, k, k)) "
                 "and optionally their biases.", None)},
             summary="Read a weight file's conv tensors as Explore's filters (never a pickle)")
async def upload_filters(request: Request, limits: SettingsDep,
                         net_limits: NetLimitsDep) -> FiltersOut:
    """multipart/form-data with a `file` (at most the network's max_weights_bytes). Every
    4-D tensor with square kernels in one layout is a conv weight tensor; when both layouts
    fit, a '.weight' name is PyTorch's, a '.W' or 'W1' name the exercise's, else the bias's
    length decides, else both readings are in the answer (`ambiguous`). Its bias is
    '<stem>.bias' / '<stem>.b' (or b1 for W1), shape (n_C,) or (1, 1, 1, n_C). Each entry
    says whether Explore can use it (`fits`, `reasons`) and gives its filters in Explore's
    settings form, float64. Nothing is kept on the server."""
    data, filename, _ = await _form_file(request, net_limits.max_weights_bytes, limits,
                                         {"file"})
    return await heavy(request, service.filters_of_file, data, filename,  # type: ignore[return-value]
                       _limits(limits))


@router.get("/api/network/filters", responses=ERRORS,
            summary="A conv layer of the network's weights as Explore's filters")
async def network_filters(state: StateDep, limits: SettingsDep,
                          weights: Annotated[WeightsId, Query()] = "shipped",
                          layer: Annotated[ConvLayer, Query()] = "conv1") -> FiltersOut:
    """The same answer as POST /api/filters, with one entry: the layer's W (exercise layout)
    and b of the shipped weights, an uploaded set (its id) or a training job's current
    weights ('job:<id>')."""
    params = network_service.resolve_weights(weights, state)
    return service.filters_of_layer(params, layer, weights, _limits(limits))  # type: ignore[return-value]
