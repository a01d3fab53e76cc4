"""The network routes read their JSON with strict types, like the array routes (issue 15:
"10" was taken for epochs, true for an index, ["4", "12"] for a shape): a number is a JSON
number, a flag a JSON boolean, and each refusal is a 422 located at the field."""

from __future__ import annotations

import base64

import pytest

DIGIT = {"kind": "digit", "index": 11}
INK = base64.b64encode(bytes(4 * 12)).decode()


@pytest.mark.parametrize("route, body, loc, type_", [
    ("/api/network/train", {"epochs": "10"}, ["body", "epochs"], "int_type"),
    ("/api/network/train", {"epochs": 2, "lr": "0.01"}, ["body", "lr"], "float_type"),
    ("/api/network/train", {"epochs": 2.0}, ["body", "epochs"], "int_type"),
    ("/api/network/run", {"input": {"kind": "digit", "index": True}},
     ["body", "input", "digit", "index"], "int_type"),
    ("/api/network/run", {"input": {"kind": "digit", "index": "3"}},
     ["body", "input", "digit", "index"], "int_type"),
    ("/api/network/run", {"input": DIGIT, "backward": "false"}, ["body", "backward"],
     "bool_type"),
    ("/api/network/run", {"input": DIGIT, "backward": 0}, ["body", "backward"], "bool_type"),
    ("/api/network/run", {"input": DIGIT, "target": "3"}, ["body", "target"], "int_type"),
    ("/api/network/run", {"input": {"kind": "canvas", "ink_base64": INK, "shape": ["4", "12"]}},
     [["body", "input", "canvas", "shape", 0], ["body", "input", "canvas", "shape", 1]],
     "int_type"),
    ("/api/network/run", {"input": {"kind": "pixels", "pixels": [[1] * 8] * 7 + [
        [1] * 7 + ["1"]]}},
     ["body", "input", "pixels", "pixels", 7, 7], "float_type"),
    ("/api/network/steps", {"input": DIGIT, "layer": "conv1", "limit": "8"},
     ["body", "limit"], "int_type"),
    ("/api/network/steps", {"input": DIGIT, "layer": "conv1", "position": [1, "2", 3]},
     ["body", "position", 1], "int_type"),
], ids=["epochs '10'", "lr '0.01'", "epochs 2.0", "index true", "index '3'",
        "backward 'false'", "backward 0", "target '3'", "shape ['4', '12']", "pixels '1'",
        "limit '8'", "position '2'"])
def test_a_lax_type_is_refused_at_its_field(client, route, body, loc, type_):
    r = client.post(route, json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert [e["loc"] for e in errors] == (loc if isinstance(loc[0], list) else [loc]), errors
    assert {e["type"] for e in errors} == {type_}, errors


def test_the_same_bodies_with_json_types_are_answered(client):
    ok = [("/api/network/run", {"input": {"kind": "digit", "index": 3}, "backward": False,
                                "target": 3}),
          ("/api/network/run", {"input": {"kind": "canvas", "ink_base64": INK,
                                          "shape": [4, 12]}}),
          ("/api/network/run", {"input": {"kind": "pixels", "pixels": [[1] * 8] * 8}}),
          ("/api/network/steps", {"input": DIGIT, "layer": "conv1", "limit": 8,
                                  "position": [1, 2, 3]})]
    for route, body in ok:
        r = client.post(route, json=body)
        # the blank canvas has no ink to find: a 422 about the drawing, not its types
        assert r.status_code == 200 or r.json()["code"] == "no_digit", r.text


def test_the_photo_routes_settings_are_strict_too(client):
    r = client.post("/api/network/run/photo", files={
        "file": ("d.png", b"\x89PNG", "image/png"),
        "settings": (None, '{"backward": "no", "target": "3"}', "application/json")})
    assert r.status_code == 422, r.text
    assert sorted(e["loc"][-1] for e in r.json()["detail"]) == ["backward", "target"]
    assert {e["loc"][1] for e in r.json()["detail"]} == {"settings"}
