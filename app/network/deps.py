"""The network wing's FastAPI dependencies and parameter types, each defined once (the
platform's own are in app/platform/deps.py): routes, and the site's bridge in app/site.py,
take them from here rather than spelling a dependency in a routes file.

    StateDep        the app's NetworkState (weights, jobs, owners: service.network_state)
    WeightsQuery    ?weights=shipped | u<id> | job:<id>: which weight set
    ConvLayerQuery  ?layer=conv1 | conv2: a conv layer of the network (from DEFAULT_NET)
    TokenDep        the X-Control-Token header that proves a job's starter
    SinceQuery      ?since=: the first curve point a progress answer carries
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, Query

from app.network import service
from app.network.schemas import WeightsId
from app.network.store import TOKEN_HEADER
from core.net import DEFAULT_NET

StateDep = Annotated[service.NetworkState, Depends(service.network_state)]
WeightsQuery = Annotated[WeightsId, Query()]

CONV_LAYERS = tuple(name[:-2] for name, shape in DEFAULT_NET.param_shapes.items()
                    if name.endswith(".W") and len(shape) == 4)  # conv1, conv2
ConvLayerQuery = Annotated[Literal[CONV_LAYERS], Query()]  # type: ignore[valid-type]

TokenDep = Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=200, description=
                     "The control_token that POST /train answered (only its starter has it).")]
SinceQuery = Annotated[int, Query(ge=0, le=10**6)]
