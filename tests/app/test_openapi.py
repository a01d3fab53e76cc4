"""The API's own description: every `$ref` of /openapi.json resolves, so schema tools and
generated clients can read every route (the photo route's settings among them), and the
limits it states are this server's."""

from __future__ import annotations

from typing import Any

from apptools import Client

from app.learn.service import NPY_MAX_BYTES
from app.main import create_app
from app.platform.config import Settings
from app.platform.network_config import NetworkLimits, get_network_limits


def refs_of(node: Any, where: str = "#") -> list[tuple[str, str]]:
    """(where, $ref) for every $ref in an OpenAPI document, depth first."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append((where, value))
            else:
                found += refs_of(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += refs_of(value, f"{where}/{i}")
    return found


def resolve(document: dict, ref: str) -> Any:
    """The node a local JSON pointer (`#/a/b~1c`) names; KeyError when it names none."""
    assert ref.startswith("#/"), f"{ref}: not a reference inside the document"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def dangling(document: dict) -> list[str]:
    missing = []
    for where, ref in refs_of(document):
        try:
            resolve(document, ref)
        except (KeyError, IndexError, ValueError, AssertionError):
            missing.append(f"{where}: {ref}")
    return missing


def test_every_ref_of_openapi_json_resolves(client):
    document = client.get("/openapi.json").json()
    refs = refs_of(document)
    assert len(refs) > 100  # the whole API, not an empty description
    assert dangling(document) == []
    # the multipart routes' JSON settings parts, described by $ref, are registered models
    schemas = document["components"]["schemas"]
    photo = document["paths"]["/api/network/run/photo"]["post"]["requestBody"]
    settings = photo["content"]["multipart/form-data"]["schema"]["properties"]["settings"]
    assert resolve(document, settings["$ref"]) is schemas["NetPhotoSettings"]
    assert set(schemas["NetPhotoSettings"]["properties"]) == {"target", "weights", "backward"}
    image = document["paths"]["/api/image"]["post"]["requestBody"]
    settings = image["content"]["multipart/form-data"]["schema"]["properties"]["settings"]
    assert resolve(document, settings["$ref"]) is schemas["ImageSettings"]


def test_dangling_refs_are_found():
    """The check above can fail: a reference to a missing schema, a bad index and a
    pointer with escapes are told apart."""
    document = {"components": {"schemas": {"A": {"type": "object"}, "a/b": {}}},
                "paths": {"/x": {"get": {"parameters": [
                    {"schema": {"$ref": "#/components/schemas/A"}},
                    {"schema": {"$ref": "#/components/schemas/Missing"}},
                    {"schema": {"$ref": "#/components/schemas/a~1b"}},
                    {"schema": {"$ref": "#/paths/~1x/get/parameters/7"}}]}}}}
    assert dangling(document) == [
        "#/paths//x/get/parameters/1/schema: #/components/schemas/Missing",
        "#/paths//x/get/parameters/3/schema: #/paths/~1x/get/parameters/7",
    ]


def test_the_schema_states_this_servers_limits(make_client):
    """The maxima the server enforces from its settings are the schema's (not only the
    models' hard ceilings), so a generated client stays within them."""
    app = create_app(Settings(max_size=40, max_filters=3, max_steps_per_page=50,
                              max_upload_bytes=5000))
    app.dependency_overrides[get_network_limits] = lambda: NetworkLimits(
        max_job_epochs=7, max_canvas=100, max_weights_bytes=2048)
    document = Client(app).get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["ImageSettings"]["properties"]["size"]["maximum"] == 40
    assert schemas["ImageSettings"]["properties"]["size"]["default"] == 40  # the cap
    assert schemas["ImageSettings"]["properties"]["filters"]["maxItems"] == 3
    assert schemas["StepsIn"]["properties"]["limit"]["maximum"] == 50
    assert schemas["StepsQuery"]["properties"]["limit"]["maximum"] == 50
    assert schemas["NetTrainIn"]["properties"]["epochs"]["maximum"] == 7
    ink = schemas["NetCanvasInput"]["properties"]["ink"]["anyOf"][0]
    assert ink["maxItems"] == ink["items"]["maxItems"] == 100
    shape = schemas["NetCanvasInput"]["properties"]["shape"]["anyOf"][0]
    assert shape["items"]["maximum"] == 100
    # the uploads' size, in bytes, as the file field's maxLength
    paths = document["paths"]
    files = {path: paths[path]["post"]["requestBody"]["content"]["multipart/form-data"][
        "schema"]["properties"]["file"]["maxLength"] for path in (
        "/api/image", "/api/network/run/photo", "/api/network/weights", "/api/filters",
        "/api/learn/{function}/diagnose")}
    assert files == {"/api/image": 5000, "/api/network/run/photo": 5000,
                     "/api/network/weights": 2048, "/api/filters": 2048,
                     "/api/learn/{function}/diagnose": NPY_MAX_BYTES}


def test_integer_bounds_are_integers_and_rules_are_said(client):
    """FastAPI writes `"maximum": 64.0`; an integer's bounds are written back as integers.
    Every x-convstep-rules entry is said in the descriptions of the fields it names, and
    gives the values of the settings it depends on."""
    document = client.get("/openapi.json").json()
    stride = document["components"]["schemas"]["PoolHparameters"]["properties"]["stride"]
    assert (stride["minimum"], stride["maximum"]) == (1, 64)
    assert all(type(node[k]) is int for node in nodes(document) if node.get("type") == "integer"
               for k in ("minimum", "maximum") if k in node)
    said = 0
    for node in nodes(document):
        for rule in node.get("x-convstep-rules", ()):
            assert isinstance(rule["settings"], dict)
            assert all(isinstance(v, int | float) for v in rule["settings"].values())
            for name in rule["fields"]:
                assert rule["says"] in node["properties"][name]["description"]
                said += 1
    assert said > 20
    backward = document["components"]["schemas"]["ConvBackwardIn"]
    assert "dZ_shape" in [r["name"] for r in backward["x-convstep-rules"]]
    assert backward["properties"]["b"]["items"]["maxItems"] == 1  # b is (1, 1, 1, n_C)


def nodes(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)
