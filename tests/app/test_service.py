"""The service around the routes: the page, health, samples, OpenAPI, headers, settings,
body limits, the image route's request errors, and load shedding with 503."""

from __future__ import annotations

import json
import os

import anyio
import httpx
import numpy as np
import pytest
from apptools import Client

from app.__main__ import parse_args
from app.main import create_app
from app.platform.config import Settings, get_settings

# --- the page, health, samples ----------------------------------------------------------------


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_index_embeds_the_boot_data(make_client):
    client = make_client(max_size=300, max_filters=5)
    r = client.get("/explore")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    start = r.text.index('<script type="application/json" id="boot">') + len(
        '<script type="application/json" id="boot">')
    boot = json.loads(r.text[start:r.text.index("</script>", start)])
    assert [s["name"] for s in boot["samples"]] == ["chelsea", "coffee", "camera", "text"]
    assert boot["limits"]["max_size"] == 300 and boot["limits"]["max_filters"] == 5
    assert "sobel_x" in boot["presets"]
    assert boot["default_settings"]["sample"] == "chelsea"
    # The defaults are a valid request as they stand.
    assert client.image(boot["default_settings"]).status_code == 200


def test_samples_list_and_files(client):
    samples = client.get("/api/samples").json()
    chelsea = next(s for s in samples if s["name"] == "chelsea")
    assert chelsea == {"name": "chelsea", "title": "Chelsea the cat", "width": 451,
                       "height": 300, "mode": "RGB", "licence": "CC0",
                       "credit": chelsea["credit"]}
    assert "Stefan van der Walt" in chelsea["credit"]
    r = client.get("/api/samples/camera")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    r = client.get("/api/samples/..%2F..%2Fpyproject.toml")
    assert r.status_code in (404, 422)
    assert client.get("/api/samples/nope").status_code == 422


def test_static_files_are_served(client):
    r = client.get("/static/js/kit/api.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_describes_every_route_with_examples_and_bounds(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for name in ("zero_pad", "conv_single_step", "conv_forward", "conv_backward",
                 "pool_forward", "pool_backward", "create_mask_from_window",
                 "distribute_value", "image", "steps"):
        assert f"/api/{name}" in paths, name
        assert "post" in paths[f"/api/{name}"]
    assert "/healthz" in paths and "/api/samples" in paths
    schemas = spec["components"]["schemas"]
    for model in ("ZeroPadIn", "ConvSingleStepIn", "ConvForwardIn", "ConvBackwardIn",
                  "PoolForwardIn", "PoolBackwardIn", "CreateMaskIn", "DistributeValueIn",
                  "ImageSettings", "StepsIn"):
        assert schemas[model].get("examples"), model
    conv = schemas["ConvHparameters"]["properties"]
    assert conv["stride"]["minimum"] == 1 and conv["stride"]["maximum"] == 64
    size = schemas["ImageSettings"]["properties"]["size"]
    assert size["minimum"] == 1 and size["maximum"] == Settings().max_size  # this server's
    image_body = paths["/api/image"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert image_body["schema"]["properties"]["settings"]["$ref"].endswith("/ImageSettings")
    assert "404" in paths["/api/steps"]["post"]["responses"]


def test_openapi_examples_are_accepted(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name, route in (("ZeroPadIn", "zero_pad"), ("ConvSingleStepIn", "conv_single_step"),
                        ("ConvForwardIn", "conv_forward"), ("ConvBackwardIn", "conv_backward"),
                        ("PoolForwardIn", "pool_forward"), ("PoolBackwardIn", "pool_backward"),
                        ("CreateMaskIn", "create_mask_from_window"),
                        ("DistributeValueIn", "distribute_value")):
        for example in schemas[name]["examples"]:
            r = client.post(f"/api/{route}", json=example)
            assert r.status_code == 200, (route, r.text)
    for example in schemas["ImageSettings"]["examples"]:
        assert client.image(example).status_code == 200


def test_docs_page_has_a_csp_with_hashes_not_unsafe_inline_scripts(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
    csp = r.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    redoc = client.get("/redoc")  # ReDoc needs inline styles: it sends people to /docs
    assert redoc.status_code == 308 and redoc.headers["location"] == "/docs"


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/samples", "/missing"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


# --- settings ---------------------------------------------------------------------------------


def test_settings_from_the_environment():
    s = Settings.from_env({"CONVSTEP_MAX_SIZE": "300", "CONVSTEP_QUEUE_WAIT_S": "0.5",
                           "CONVSTEP_MAX_FILTERS": " "})
    assert s.max_size == 300 and s.queue_wait_s == 0.5 and s.max_filters == 8
    with pytest.raises(ValueError, match="CONVSTEP_MAX_SIZE"):
        Settings.from_env({"CONVSTEP_MAX_SIZE": "huge"})
    with pytest.raises(ValueError, match="CONVSTEP_MAX_HEAVY"):
        Settings.from_env({"CONVSTEP_MAX_HEAVY": "0"})


def test_get_settings_is_cached_and_overridable():
    assert get_settings() is get_settings()
    app = create_app(Settings(max_size=10))
    r = Client(app).image({"sample": "chelsea", "size": 11})
    assert r.status_code == 422 and "max_size = 10" in r.json()["detail"]


def test_command_line_flags_and_environment(monkeypatch):
    monkeypatch.setenv("CONVSTEP_PORT", "8123")
    monkeypatch.setenv("CONVSTEP_WORKERS", "3")
    args = parse_args([])
    assert (args.host, args.port, args.workers) == ("127.0.0.1", 8123, 3)
    args = parse_args(["--host", "0.0.0.0", "--port", "9000", "--workers", "2"])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 9000, 2)
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])


# --- body limits ------------------------------------------------------------------------------


def test_declared_body_over_the_limit_is_413_before_reading(make_client):
    client = make_client(max_json_bytes=2048)
    body = json.dumps({"x": np.zeros((40, 40)).tolist()})
    assert len(body) > 2048
    r = client.post("/api/create_mask_from_window", content=body,
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"
    assert "max_json_bytes = 2048" in r.json()["detail"]


def test_streamed_body_over_the_limit_is_413(make_client):
    client = make_client(max_json_bytes=2048)

    async def chunks():
        yield b'{"x": [['
        for _ in range(1000):
            yield b"0, "
        yield b"0]]}"

    r = client.post("/api/create_mask_from_window", content=chunks(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_streamed_upload_over_the_limit_is_413(make_client):
    client = make_client(max_upload_bytes=1024)
    boundary = "xyz"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").encode()

    async def chunks():
        yield head
        for _ in range(200):
            yield b"\0" * 1024

    r = client.post("/api/image", content=chunks(),
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_bad_content_length_is_400(client):
    async def go():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            req = c.build_request("POST", "/api/distribute_value", content=b"{}",
                                  headers={"content-type": "application/json"})
            req.headers["content-length"] = "abc"
            return await c.send(req)

    r = anyio.run(go)
    assert r.status_code == 400 and r.json()["code"] == "bad_content_length"


# --- the image route's request mistakes --------------------------------------------------------


def test_image_needs_multipart(client):
    r = client.post("/api/image", json={"sample": "chelsea"})
    assert r.status_code == 415
    assert "multipart/form-data" in r.json()["detail"]


def test_image_settings_are_optional(client):
    # issue 10, §2.1: a file alone (curl -F file=@photo.jpg) runs with the default settings
    r = client.post("/api/image", files={"file": ("a.png", b"x", "image/png")})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_image"


def test_image_unknown_form_field(client):
    r = client.post("/api/image", files={"settings": (None, "{}"), "other": (None, "1")})
    assert r.status_code == 422 and "other" in r.json()["detail"]


@pytest.mark.parametrize("settings, loc, words", [
    ("{not json", ["body", "settings"], "JSON"),
    ({"sample": "chelsea", "colour": "rgb"}, ["body", "settings", "colour"], "Extra inputs"),
    ({"sample": "chelsea", "size": 0}, ["body", "settings", "size"], "greater than or equal"),
    ({"sample": "nope"}, ["body", "settings", "sample"], "chelsea"),
    ({"sample": "chelsea", "filters": []}, ["body", "settings", "filters"], "at least 1"),
    ({"sample": "chelsea", "pad_value": float("nan")}, ["body", "settings", "pad_value"],
     "finite"),
    ({"sample": "chelsea", "filters": [{"preset": "sobel_x", "weights": [[1]]}]},
     ["body", "settings", "filters", 0], "exactly one"),
    ({"sample": "chelsea", "f": 3, "filters": [{"weights": [[1, 2], [3, 4]]}]},
     ["body", "settings"], "filters[0].weights must have shape (f, f) = (3, 3)"),
    ({"sample": "chelsea", "f": 4, "filters": [{"preset": "sobel_x"}]},
     ["body", "settings"], "filters[0].preset: The preset 'sobel_x' needs a centre cell"),
    ({"sample": "chelsea", "upstream": {"kind": "random", "seed": -1}},
     ["body", "settings", "upstream", "seed"], "greater than or equal"),
])
def test_image_settings_mistakes_name_the_field(client, settings, loc, words):
    text = settings if isinstance(settings, str) else json.dumps(settings)
    r = client.image(text)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(e["loc"][:len(loc)] == loc and words in e["msg"] + json.dumps(e.get("ctx", ""))
               for e in detail), detail


def test_image_over_the_server_limits(make_client):
    client = make_client(max_size=64, max_filters=2)
    r = client.image({"sample": "chelsea", "size": 65})
    assert r.status_code == 422 and r.json()["detail"] == (
        "settings.size is 65; the limit is max_size = 64 (CONVSTEP_MAX_SIZE).")
    r = client.image({"sample": "chelsea", "filters": [{"preset": "identity"}] * 3})
    assert r.status_code == 422 and "max_filters = 2" in r.json()["detail"]


def test_image_without_a_source(client):
    r = client.image({"size": 16})
    assert r.status_code == 422 and r.json()["code"] == "no_image"
    assert "chelsea" in r.json()["detail"]


def test_image_geometry_error_reads_like_core(client):
    r = client.image({"sample": "text", "size": 4, "f": 7, "pad": 0,
                      "filters": [{"preset": "box_blur"}]})
    assert r.status_code == 422 and r.json()["code"] == "geometry"
    assert "does not fit" in r.json()["detail"] and "f = 7" in r.json()["detail"]
    r = client.image({"sample": "chelsea", "size": 16, "pool": {"f": 40, "stride": 1}})
    assert r.status_code == 422 and r.json()["code"] == "geometry"


def test_image_work_bound(make_client):
    client = make_client(max_work_elements=5000)
    r = client.image({"sample": "chelsea", "size": 64})
    assert r.status_code == 413 and r.json()["code"] == "too_much_work"


# --- load shedding ----------------------------------------------------------------------------


def test_busy_server_answers_503_with_retry_after(make_client):
    client = make_client(max_heavy=1, max_queue=1, queue_wait_s=0.2)
    app = client.app
    body = {"A_prev": [[[[1.0]]]], "hparameters": {"stride": 1, "f": 1}}

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            # the whole memory budget is taken (a light call needs no heavy slot, but room)
            async with app.state.limiter.slot(app.state.limiter.settings().memory_budget_bytes):
                queued = await c.post("/api/pool_forward", json=body)  # waits 0.2 s, gives up
                results = []

                async def one():
                    results.append(await c.post("/api/pool_forward", json=body))

                async with anyio.create_task_group() as tg:  # one waits, one is turned away
                    tg.start_soon(one)
                    tg.start_soon(one)
            after = await c.post("/api/pool_forward", json=body)  # the slot is free again
            return queued, results, after

    queued, results, after = anyio.run(go)
    assert queued.status_code == 503
    assert queued.headers["retry-after"] == "1"
    assert queued.json()["code"] == "overloaded"
    assert "queue_wait_s = 0.2" in queued.json()["detail"]
    assert sorted(r.status_code for r in results) == [503, 503]
    assert any("max_queue = 1" in r.json()["detail"] for r in results)
    assert after.status_code == 200
    assert app.state.limiter.running == 0


@pytest.mark.parametrize("accept", ["identity", "gzip"])
def test_image_answer_length_and_server_timing(client, accept):
    r = client.post("/api/image", headers={"Accept-Encoding": accept}, files={
        "settings": (None, json.dumps({"sample": "camera", "size": 16}), "application/json")})
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == (None if accept == "identity" else "gzip")
    assert int(r.headers["content-length"]) == r.num_bytes_downloaded  # bytes on the wire
    assert json.loads(r.content)["id"]
    assert r.headers["server-timing"].startswith("app;dur=")
    assert float(r.headers["server-timing"].split("dur=")[1]) > 0


def test_incomplete_multipart_is_422(client):
    body = (b'--xx\r\nContent-Disposition: form-data; name="settings"\r\n\r\n'
            b'{"sample": "chelsea", "size": 16}\r\n--xx\r\nContent-Disposition: form-data; '
            b'name="file"; filename="a.png"\r\n\r\n\x89PNG')
    r = client.post("/api/image", content=body,
                    headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart"
    assert "closing boundary" in r.json()["detail"]
    r = client.post("/api/image", content=b"garbage",
                    headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart"


def test_main_runs_uvicorn_on_the_app(monkeypatch):
    import app.__main__ as entry

    calls = []
    monkeypatch.setattr(entry.uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    monkeypatch.setenv("CONVSTEP_HOST", "0.0.0.0")
    for name in entry.BLAS_THREADS:  # restored after the test
        monkeypatch.delenv(name, raising=False)
    entry.main(["--port", "8101"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"  # read by NumPy in the server
    target, kw = calls[0]
    assert target == "app.main:app"
    assert (kw["host"], kw["port"], kw["workers"]) == ("0.0.0.0", 8101, 1)
    monkeypatch.setenv("CONVSTEP_MAX_SIZE", "-5")
    with pytest.raises(ValueError, match="CONVSTEP_MAX_SIZE"):
        entry.main([])


def test_pool_work_bound(make_client):
    client = make_client(max_work_elements=100_000)
    r = client.image({"sample": "chelsea", "size": 64, "filters": [{"preset": "identity"}],
                      "pool": {"f": 40, "stride": 1}})
    assert r.status_code == 413 and r.json()["code"] == "too_much_work"
    assert "settings.pool" in r.json()["detail"]
    r = client.post("/api/pool_forward", json={"A_prev": np.zeros((1, 40, 40, 1)).tolist(),
                                               "hparameters": {"stride": 1, "f": 30}})
    assert r.status_code == 413 and "pool_forward" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/distribute_value", "/api/image"])
def test_slow_body_is_408(make_client, path):
    client = make_client(body_timeout_s=0.2)

    async def slow():
        yield b'{"dz": 1,'
        await anyio.sleep(1)
        yield b' "shape": [2, 2]}'

    r = client.post(path, content=slow(), headers={
        "content-type": "application/json" if "distribute" in path
        else "multipart/form-data; boundary=xx"})
    assert r.status_code == 408
    assert r.json()["code"] == "body_timeout"
    assert "body_timeout_s = 0.2" in r.json()["detail"]


def test_malformed_multipart_is_not_logged(client, caplog):
    caplog.set_level("DEBUG")
    r = client.post("/api/image", content=b"SECRETgarbage",
                    headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 422
    assert not [rec for rec in caplog.records if "multipart" in rec.name]
