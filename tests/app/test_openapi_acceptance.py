"""A client generated from /docs sends requests this server accepts: schemathesis builds
valid requests from /openapi.json alone (positive mode) for the operations whose limits
used to be checked in code only, and most of them are answered 2xx.

Where the request carries something a JSON Schema cannot describe, the test plays the
client's part and nothing more: an uploaded file's content (a real PNG, .npz or .npy
instead of arbitrary bytes; the schema says the format in words) and an image `id` (the
one /api/image answered for the request's size and color, as a client would pass on).
Each operation's asserted share is below 1 only by the cross-field rules a schema cannot
say, named beside it. Bounded: 30 examples an operation, fixed seed (derandomize).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from PIL import Image, ImageDraw
from schemathesis.generation import GenerationMode

from app.learn import service as learn_service
from app.main import create_app
from app.network import service as network_service
from app.platform.config import Settings

EXAMPLES = 30
app = create_app(Settings(max_size=48))
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def _png(draw: Callable[[ImageDraw.ImageDraw], None] | None = None) -> bytes:
    image = Image.new("L", (32, 32), 255)
    if draw is not None:
        draw(ImageDraw.Draw(image))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


PHOTO = _png(lambda d: d.line([(16, 4), (16, 28)], fill=0, width=4))  # a "1"
IMAGE = _png(lambda d: d.ellipse([6, 6, 26, 26], fill=0))


def _npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in network_service.shipped_params().items()})
    return buf.getvalue()


def _npy(function: str, case_name: str, output: str | None) -> bytes | None:
    """The right output of `function` on its probe case, saved with np.save (None when the
    function has no such case or output: the request stays as generated)."""
    case = next((c for c in learn_service.cases(function)["cases"]
                 if c["name"] == case_name), None)
    if case is None or (output is not None and output not in case["outputs"]):
        return None
    right = case["outputs"][output or next(iter(case["outputs"]))]
    buf = io.BytesIO()
    np.save(buf, np.asarray(right["values"], dtype=np.float64).reshape(right["shape"]))
    return buf.getvalue()


def _with_file(case, data: bytes | None) -> None:
    if data is not None and isinstance(case.body, dict) and "file" in case.body:
        case.body["file"] = data


_ids: dict[tuple[int, str], str] = {}


def _image_id(size: int, color: str) -> str | None:
    """The id /api/image answers for a working image of `size` and `color`."""
    if (size, color) not in _ids:
        s = {"sample": "chelsea", "size": size, "color": color, "f": 1, "pad": 0,
             "pool": None, "filters": [{"preset": "identity"}]}
        r = schema["/api/image"]["POST"].Case(
            body={"settings": s}, query={"arrays": "b"}, media_type="multipart/form-data"
        ).call()
        _ids[(size, color)] = r.json()["id"] if r.status_code == 200 else ""
    return _ids[(size, color)] or None


def _with_id(case) -> None:
    s = case.body.get("settings", {}) if isinstance(case.body, dict) else {}
    if isinstance(s, dict):
        image_id = _image_id(s.get("size", 48), s.get("color", "rgb"))
        if image_id is not None:
            case.body["id"] = image_id


# operation: (the share of generated requests asserted to be accepted, the client's part)
OPERATIONS = {
    # cross-field rules of ImageSettings, in its description, not the schema: the layer's
    # geometry (f, dilation, pad, stride, pooling against the size) must fit, explicit
    # weights be (f, f) or (f, f, C), a preset's f be odd
    "/api/image": (0.6, lambda case: _with_file(case, IMAGE)),
    # (and the step asked for must exist; measured 14/30 alone, 10/30 in the whole suite)
    "/api/steps": (0.3, _with_id),
    "/api/arrays": (0.6, _with_id),
    # dZ's shape must be the forward output's, W square, its channels A_prev's, b's n_C W's
    "/api/conv_backward": (0.1, lambda case: None),
    "/api/network/weights": (0.9, lambda case: _with_file(case, _npz())),
    # a photo's settings name weights by id: only "shipped" exists until one is uploaded
    # or trained (server state, not schema)
    "/api/network/run/photo": (0.7, lambda case: _with_file(case, PHOTO)),
    # the case and output must be the path's function's (GET .../cases lists them)
    "/api/learn/{function}/diagnose": (0.4, lambda case: _with_file(case, _npy(
        case.path_parameters["function"], case.query["case"], case.query.get("output")))),
}


def accepted(path: str) -> tuple[int, Counter]:
    client_part = OPERATIONS[path][1]
    statuses: Counter = Counter()

    @given(case=schema[path]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        client_part(case)
        response = case.call()
        detail = "" if response.status_code < 300 else json.dumps(response.json())[:160]
        statuses[(response.status_code, detail)] += 1

    run()
    return sum(n for (status, _), n in statuses.items() if status < 300), statuses


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", list(OPERATIONS))
def test_requests_built_from_the_schema_are_accepted(path):
    ok, statuses = accepted(path)
    share = OPERATIONS[path][0]
    assert ok >= share * EXAMPLES, (ok, statuses.most_common(8))
