"""Filters for Explore from weights: POST /api/filters reads a weight file's conv tensors
(GET /api/network/filters, which gives a layer of the network's weights the same way, joins
two wings: app/site.py). HTTP only: the work is app/explore/services/filters.py's."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.explore.schemas.filters import FiltersOut
from app.explore.services import filters as service
from app.platform.deps import NetLimitsDep, SettingsDep
from app.platform.errors import UPLOAD_ERRORS as ERRORS
from app.platform.heavy import heavy
from app.platform.multipart import file_body, read_upload, weights_limit

router = APIRouter(tags=["filters: conv weights for Explore"])


@router.post("/api/filters", responses=ERRORS, openapi_extra={"requestBody": file_body(
                 "A .safetensors file or an .npz archive holding conv weight tensors "
                 "(exercise layout (f, f, n_C_prev, n_C) or PyTorch's (n_C, n_C_prev, k, k)) "
                 "and optionally their biases.", limit="max_weights_bytes")},
             response_model=FiltersOut,
             summary="Read a weight file's conv tensors as Explore's filters (never a pickle)")
async def upload_filters(request: Request, limits: SettingsDep,
                         net_limits: NetLimitsDep) -> dict:
    """multipart/form-data with a `file` (at most the network's max_weights_bytes). Every
    4-D tensor with square kernels in one layout is a conv weight tensor; when both layouts
    fit, a '.weight' name is PyTorch's, a '.W' or 'W1' name the exercise's, else the bias's
    length decides, else both readings are in the answer (`ambiguous`). Its bias is
    '<stem>.bias' / '<stem>.b' (or b1 for W1), shape (n_C,) or (1, 1, 1, n_C). Each entry
    says whether Explore can use it (`fits`, `reasons`) and gives its filters in Explore's
    settings form, float64. Nothing is kept on the server."""
    upload = (await read_upload(request, weights_limit(net_limits), {"file": True}))["file"]
    data, filename = bytes(upload.data), upload.filename or "upload"
    return await heavy(request, service.filters_of_file, data, filename,
                       service.limits_for(limits))
