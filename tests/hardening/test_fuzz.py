"""Schema fuzzing: schemathesis generates requests for every operation in /openapi.json
(valid and invalid ones) and checks each answer: never a 5xx, a status code the schema
documents, the documented content type, and a body that matches the response schema.

Bounded: a fixed number of examples per operation against the ASGI app in this process,
with limits small enough that no single request computes for long (about 20 s in all on
2 cores). The seed is fixed (derandomize) so a failure reproduces.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.platform.config import Settings
from app.platform.network_config import NetworkLimits, get_network_limits

from .asgi import asgi_request

# Small limits bound the time of one request; every limit is still enforced, so the
# fuzzer also meets the 413 / 422 "over a limit" answers.
LIMITS = Settings(max_size=48, max_work_elements=400_000, max_array_elements=20_000,
                  max_steps_per_page=64, cache_entries=32, cache_bytes=16 * 1024 * 1024,
                  max_animation_pixels=20_000_000)
EXAMPLES = 25

app = create_app(LIMITS)
# Training jobs (POST /api/network/train) run in threads: the fuzzer may start many, so each
# is cut to a few ms of training, and their bound (503 past max_jobs, a 5xx the checks
# refuse) is set out of its reach; tests/app/test_network_train.py tests the bound itself.
app.dependency_overrides[get_network_limits] = lambda: NetworkLimits(
    max_jobs=64, max_job_seconds=0.01, max_job_epochs=2)
# Phases: the schema's own examples, then generated data (valid and invalid). Schemathesis'
# "coverage" phase (every boundary of every field, built at collection) is left out: it
# alone takes over 20 s on 2 cores; tests/app covers the documented bounds one by one.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


CONTRACT_ROUTES = {
    ("get", "/healthz"), ("get", "/api/samples"), ("get", "/api/samples/{name}"),
    ("post", "/api/image"), ("post", "/api/steps"),
    *(("post", f"/api/{name}") for name in (
        "zero_pad", "conv_single_step", "conv_forward", "conv_backward", "pool_forward",
        "pool_backward", "create_mask_from_window", "distribute_value")),
}


def test_the_schema_covers_every_api_route():
    """Every route of docs/CONTRACT.md is in the schema, so the fuzzer reaches it."""
    fuzzed = {(op.method.lower(), op.path) for op in
              (result.ok() for result in schema.get_all_operations())}
    assert fuzzed >= CONTRACT_ROUTES, CONTRACT_ROUTES - fuzzed


@pytest.mark.timeout(90)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_fuzz_every_operation(case):
    case.call_and_validate(checks=CHECKS)


@pytest.mark.parametrize("route", ["/api/zero_pad", "/api/conv_forward", "/api/steps"])
def test_a_body_that_is_not_utf8_is_a_422_like_other_bad_json(route):
    """Found by the fuzzer: FastAPI answered such a body with an undocumented 400."""
    r = asgi_request(app, "POST", route, content=b"{\"X\": \"\xe4\"}",
                     headers={"content-type": "application/json"})
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["type"] == "json_invalid" and err["loc"] == ["body"] and "UTF-8" in err["msg"]
