"""FastAPI dependencies and parameter types that several routes share, each defined once.

    SettingsDep   the server's limits (app.platform.config.get_settings; tests override it)
    HeavySlot     holds a heavy-computation slot while a route runs (app/platform/heavy.py)
    SampleName    the name of a built-in sample (an enum in /docs)
    ArraysQuery   ?arrays=input,Z,...: which arrays an image answer carries
    EncodingQuery ?encoding=float32|display: how image-shaped arrays travel
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import Depends, Query

from app.platform.config import Settings, get_settings
from app.platform.heavy import heavy_slot
from app.platform.network_config import NetworkLimits, get_network_limits
from app.platform.samples import SAMPLE_NAMES
from app.platform.schemas.common import ArrayName

SettingsDep = Annotated[Settings, Depends(get_settings)]
NetLimitsDep = Annotated[NetworkLimits, Depends(get_network_limits)]
# The routes that take it are plain functions: FastAPI runs them in its thread pool, off
# the event loop, once heavy_slot has a slot for them (503 with Retry-After when none
# comes soon).
HeavySlot = Annotated[None, Depends(heavy_slot)]
SampleName = Literal[SAMPLE_NAMES]  # type: ignore[valid-type]

_ARRAY = "(" + "|".join(get_args(ArrayName)) + ")"
# The schema names the arrays; the route's own check answers an unknown one with the list
ArraysQuery = Annotated[str | None, Query(
    max_length=200, pattern=r"^[A-Za-z_]+(,[A-Za-z_]+)*$",
    json_schema_extra={"pattern": f"^{_ARRAY}(,{_ARRAY})*$"},
    description="Only these arrays, comma-separated (default: all of them), e.g. "
                "`input,padded,W,b,Z`. The others can be fetched later from /api/arrays.",
    examples=["input,padded,W,b,Z,A"])]
EncodingQuery = Annotated[Literal["float32", "display"], Query(
    description="How the image-shaped arrays travel. `float32` (default): every ARR is "
                "base64 float32. `display`: every array but W, b, dW, db is one byte per "
                "value, value ~= offset + q * scale (ARR fields `dtype` \"uint8\", "
                "`encoding` \"display\", `offset`, `scale`, `exact`): within half a "
                "step, a quarter of the bytes, enough for 256-colour drawing; ask for "
                "`float32` (e.g. from /api/arrays) where exact numbers are shown.")]
