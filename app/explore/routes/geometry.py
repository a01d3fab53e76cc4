"""POST /api/geometry: does a layer fit an image (always 200; the work is
app/explore/services/geometry.py's)."""

from __future__ import annotations

from fastapi import APIRouter

from app.explore.schemas.geometry import GeometryCheckIn, GeometryCheckOut
from app.explore.services import geometry as service
from app.platform.deps import SettingsDep

router = APIRouter(prefix="/api", tags=["image: what the page runs on"])


@router.post("/geometry", summary="Would /api/image accept these settings? Why not, and what "
                                  "would fit (always 200)")
async def geometry(body: GeometryCheckIn, limits: SettingsDep) -> GeometryCheckOut:
    """The settings checked as /api/image checks them (fields, limits, geometry, work),
    without decoding or computing: `fits`, or the `message`, `status` and `code` of the
    refusal and `advice`, each setting's range that would make the layer fit with the
    others kept ("f <= 7", "pad >= 2", "stride <= 3", "pool f <= 5", "size >= 40")."""
    return service.check(body, limits)
