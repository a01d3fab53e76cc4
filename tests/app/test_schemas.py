"""The API's types as /docs shows them: step records typed per stage kind (the same fields
as core's step dataclasses), the geometry as core's own Geometry, and the boot data's
bounds equal to what the server accepts."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import numpy as np
import pytest
from apptools import Client
from pydantic import TypeAdapter, ValidationError

import core
from app.explore.schemas.image import (
    FilterSpec,
    GeometriesOut,
    ImageSettings,
    PoolSpec,
    UpstreamSpec,
)
from app.main import create_app
from app.platform.schemas.steps import StepPageOut, StepsOut
from core.trace import ConvBackwardStep, ConvForwardStep, PoolBackwardStep, PoolForwardStep

RECORDS = {"conv_forward": ConvForwardStep, "conv_backward": ConvBackwardStep,
           "pool_forward": PoolForwardStep, "pool_backward": PoolBackwardStep}
SETTINGS = {"sample": "chelsea", "size": 16}
A_PREV = [[[[1.0, 0.5], [2.0, 1.5], [3.0, 0.0]], [[4.0, 2.0], [5.0, 5.0], [6.0, 1.0]],
           [[7.0, 1.0], [8.0, 3.0], [9.0, 9.0]]]]
W = [[[[1.0], [0.5]], [[0.0], [1.0]]], [[[0.0], [2.0]], [[-1.0], [1.0]]]]
ARRAY_ROUTES = {
    "conv_forward": {"A_prev": A_PREV, "W": W, "b": [[[[0.5]]]],
                     "hparameters": {"stride": 1, "pad": 1}},
    "conv_backward": {"dZ": [[[[1.0]] * 2] * 2], "A_prev": A_PREV, "W": W, "b": [[[[0.5]]]],
                      "hparameters": {"stride": 1, "pad": 0}},
    "pool_forward": {"A_prev": A_PREV, "hparameters": {"stride": 1, "f": 2}},
    "pool_backward": {"dA": [[[[1.0, 2.0]] * 2] * 2], "A_prev": A_PREV,
                      "hparameters": {"stride": 1, "f": 2}, "mode": "average"},
}


def _boot(client) -> dict:
    text = client.get("/explore").text
    tag = '<script type="application/json" id="boot">'
    start = text.index(tag) + len(tag)
    return json.loads(text[start:text.index("</script>", start)])


@pytest.fixture(scope="module")
def openapi():
    return Client(create_app()).get("/openapi.json").json()


# --- step records ---------------------------------------------------------------------------

@pytest.mark.parametrize("stage", list(RECORDS))
def test_steps_answer_is_the_model_of_its_kind_with_cores_fields(client, stage):
    image = client.image(SETTINGS).json()
    body = {"id": image["id"], "settings": SETTINGS, "stage": stage, "limit": 3}
    if stage.endswith("backward"):
        body["totals_at"] = 2
    r = client.post("/api/steps", json=body)
    assert r.status_code == 200
    answer = TypeAdapter(StepsOut).validate_json(r.content)
    assert type(answer).__name__ == "".join(w.title() for w in stage.split("_")) + "StepsOut"
    names = [f.name for f in dataclasses.fields(RECORDS[stage])]
    if stage.startswith("pool"):  # the app adds every tied maximum (app/explore/services/steps.py)
        names.append("maxima")
    assert [list(step) for step in r.json()["steps"]] == [names] * 3
    assert list(type(answer.steps[0]).model_fields) == names
    # The first pages of /api/image are the same records.
    first = TypeAdapter(StepPageOut).validate_python(image["steps"][stage])
    assert first.kind == stage and list(image["steps"][stage]["steps"][0]) == names


@pytest.mark.parametrize("route", list(ARRAY_ROUTES))
def test_array_route_steps_are_the_page_of_their_kind(client, route):
    r = client.post(f"/api/{route}", json={**ARRAY_ROUTES[route], "steps": {"limit": 2}})
    assert r.status_code == 200, r.text
    page = r.json()["steps"]
    assert page["kind"] == route
    assert list(page["steps"][0]) == [f.name for f in dataclasses.fields(RECORDS[route])]


def test_a_record_of_the_wrong_kind_does_not_validate():
    page = core.pool_forward_trace(np.ones((1, 2, 2, 1)), {"stride": 1, "f": 2},
                                   limit=1).to_dict()
    TypeAdapter(StepPageOut).validate_python(page)
    with pytest.raises(ValidationError):
        TypeAdapter(StepPageOut).validate_python({**page, "kind": "conv_forward"})


def test_openapi_shows_each_step_kind_with_its_fields(openapi):
    schemas = openapi["components"]["schemas"]
    answer = openapi["paths"]["/api/steps"]["post"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    assert answer["discriminator"]["propertyName"] == "kind"
    # Explore's backward_transpose stage sends conv_forward records under its own kind
    assert set(answer["discriminator"]["mapping"]) == {*RECORDS, "backward_transpose"}
    for stage, name, record in [*((k, r.__name__, r) for k, r in RECORDS.items()),
                                ("backward_transpose", "BackwardTransposeConvForwardStep",
                                 ConvForwardStep)]:
        assert list(schemas[name]["properties"]) == [f.name for f in dataclasses.fields(record)]
        assert all(p.get("description") for p in schemas[name]["properties"].values()), name
        page = schemas[name.removesuffix("Step") + "Page"]
        assert page["properties"]["kind"]["const"] == stage
        assert page["properties"]["steps"]["items"]["$ref"].endswith("/" + name)
    forward = schemas["ConvForwardOut"]["properties"]["steps"]["anyOf"]
    assert {"$ref": "#/components/schemas/ConvForwardPage"} in forward


# --- geometry -------------------------------------------------------------------------------

def test_geometry_schema_is_cores_geometry(openapi):
    assert GeometriesOut.model_fields["conv"].annotation is core.Geometry
    g = core.conv_geometry(5, 7, 3, stride=2, pad=1).to_dict()
    assert list(openapi["components"]["schemas"]["Geometry"]["properties"]) == list(g)
    assert GeometriesOut.model_validate({"conv": g, "pool": None}).conv == core.conv_geometry(
        5, 7, 3, stride=2, pad=1)


# --- the page's bounds ----------------------------------------------------------------------

FIELDS = {"f": (ImageSettings, "f"), "stride": (ImageSettings, "stride"),
          "pad": (ImageSettings, "pad"), "dilation": (ImageSettings, "dilation"),
          "pool_f": (PoolSpec, "f"), "pool_stride": (PoolSpec, "stride"),
          "seed": (UpstreamSpec, "seed"), "bias": (FilterSpec, "bias")}


@pytest.mark.parametrize("control", list(FIELDS))
def test_boot_bounds_are_what_the_server_accepts(client, control):
    model, name = FIELDS[control]
    bounds = _boot(client)["limits"][control]
    field = model.model_fields[name]
    check = TypeAdapter(Annotated[field.annotation, field])
    step = 1 if isinstance(bounds["max"], int) else 0.5
    assert check.validate_python(bounds["min"]) == bounds["min"]
    assert check.validate_python(bounds["max"]) == bounds["max"]
    for outside in (bounds["min"] - step, bounds["max"] + step):
        with pytest.raises(ValidationError):
            check.validate_python(outside)


def test_boot_bounds_follow_the_servers_limits(make_client):
    client = make_client(max_filters=64, max_size=200, max_steps_per_page=20)
    limits = _boot(client)["limits"]
    assert limits["filters"] == {"min": 1, "max": 64}  # not the page's old 8
    assert limits["size"]["max"] == 200 and limits["max_size"] == 200
    assert limits["first_page_steps"] == 20
    assert limits["pad_value"] == limits["weight"] == {"min": -1000.0, "max": 1000.0}
    sample = {"sample": "chelsea", "size": 8}
    filters = [{"preset": "sobel_x"}] * 64
    assert client.image({**sample, "filters": filters}).status_code == 200
    assert client.image({**sample, "filters": filters + filters[:1]}).status_code == 422
    assert client.image({**sample, "size": 201}).json()["code"] == "over_limit"


@pytest.mark.parametrize("route", ["zero_pad", "conv_single_step", "conv_forward",
                                   "conv_backward", "pool_forward", "pool_backward",
                                   "create_mask_from_window", "distribute_value"])
def test_docs_example_answer_is_the_answer_to_the_example_request(client, openapi, route):
    op = openapi["paths"][f"/api/{route}"]["post"]
    name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    request = openapi["components"]["schemas"][name]["examples"][0]
    shown = op["responses"]["200"]["content"]["application/json"]["example"]
    assert client.post(f"/api/{route}", json=request).json() == shown


def test_docs_example_of_the_steps_answer_is_a_conv_forward_answer(openapi):
    op = openapi["paths"]["/api/steps"]["post"]["responses"]["200"]["content"]
    shown = op["application/json"]["example"]
    assert type(TypeAdapter(StepsOut).validate_python(shown)).__name__ == "ConvForwardStepsOut"
    assert [s["z"] for s in shown["steps"]] == [-3.5, -3.5]  # 1*1 + 5*(-1) + 0.5, 2 - 6 + 0.5
