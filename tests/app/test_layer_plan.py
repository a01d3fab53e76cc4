"""The LayerPlan (app/explore/services/plan.py): the layer's numbers decided once from the
settings and the image's shape, equal to core's own, and its geometry errors: core's
message unchanged, with the whole layer's advice as data."""

from __future__ import annotations

import pytest

import core
from app.explore.schemas.image import ImageSettings
from app.explore.services.plan import LayerGeometryError, make_plan
from app.platform.config import Settings
from app.platform.errors import ApiError
from core.geometry import Limit, fit_limits
from core.transpose import transposed_counterpart


@pytest.mark.parametrize(("shape", "settings"), [
    ((7, 9, 3), {}),
    ((12, 8, 1), {"color": "gray", "f": 4, "stride": 3, "pad": 2, "dilation": 2,
                  "filters": [{"preset": "box_blur"}],
                  "pool": {"f": 2, "stride": 1}}),
    ((6, 6, 3), {"f": 3, "stride": 2, "pad": 0, "pad_mode": "edge", "pool": None}),
])
def test_plan_numbers_are_cores(shape, settings):
    s = ImageSettings.model_validate(settings)
    plan = make_plan(s, shape)
    H, W, C = shape
    conv = core.conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
    assert plan.conv == conv and plan.shape == shape and plan.n_C == len(s.filters)
    assert plan.W_shape == (s.f, s.f, C, len(s.filters))
    if s.pool is None:
        assert plan.pool is None
    else:
        assert plan.pool == core.pool_geometry(conv.n_H, conv.n_W, s.pool.f, stride=s.pool.stride)
    if s.pad_mode != "constant":
        assert plan.transpose is None
    else:
        back = transposed_counterpart(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
        assert plan.transpose.output_padding == back["output_padding"]
        assert (plan.transpose.n_H, plan.transpose.n_W) == (H, W)
        assert plan.border == conv.f_eff - 1 - s.pad


def test_window_error_keeps_cores_message_with_the_layers_advice():
    s = ImageSettings(f=7, pad=0, pool=None)
    with pytest.raises(LayerGeometryError) as info:
        make_plan(s, (5, 8, 3))
    exc = info.value
    with pytest.raises(core.GeometryError) as plain:
        core.conv_geometry(5, 8, 7, stride=1, pad=0)
    assert str(exc) == str(plain.value)  # what /api/image answers
    assert exc.advice == fit_limits(5, 8, 7, pad=0) and exc.rewordable
    assert exc.where == "" and exc.problem == plain.value.problem


def test_pooling_error_names_its_input():
    s = ImageSettings(f=3, pad=0, pool={"f": 4, "stride": 1})
    with pytest.raises(LayerGeometryError) as info:
        make_plan(s, (5, 9, 3))
    exc = info.value
    assert exc.where == "Pooling over Z (3 x 7): " and exc.problem.startswith(exc.where)
    assert Limit("pool_f", "<=", 3) in exc.advice


def test_reflect_error_is_checked_first_and_keeps_its_sentence():
    """reflect pad >= the side and a window that does not fit either: the plan says the
    reflect error (as /api/geometry always did); its sentence stays, its Limit is data."""
    s = ImageSettings(f=9, pad=3, pad_mode="reflect", dilation=2, pool=None)
    with pytest.raises(LayerGeometryError) as info:
        make_plan(s, (2, 9, 3))
    exc = info.value
    assert str(exc).startswith("Reflect padding") and not exc.rewordable
    assert exc.said == (Limit("pad", "<=", 1),)


def test_work_check_is_the_plans():
    plan = make_plan(ImageSettings(f=5), (40, 40, 3))
    plan.check_work(Settings())
    with pytest.raises(ApiError) as info:
        plan.check_work(Settings(max_work_elements=2000))
    assert info.value.status == 413 and "1*38*38*5*5*3" in info.value.detail


def test_api_image_says_what_api_geometry_says(client):
    """Reflect pad wider than the image and a window that does not fit either: one plan,
    one order of checks, so both routes name the reflect error (before the plan /api/image
    named the window), and /api/image refuses it before any work."""
    settings = {"sample": "text", "size": 5, "color": "gray", "f": 7, "dilation": 2,
                "pad": 5, "pad_mode": "reflect", "stride": 2, "pool": None,
                "filters": [{"preset": "sobel_x"}]}
    r = client.image(settings)
    g = client.post("/api/geometry", json={"settings": settings}).json()
    assert r.status_code == 422 == g["status"] and r.json()["code"] == g["code"] == "geometry"
    detail = r.json()["detail"]
    assert detail.startswith("Reflect padding") and g["message"].startswith(detail)


def test_broken_limits_are_those_the_settings_break():
    """Reflect bounds pad on both sides: the window needs pad >= 2 (broken at pad 1), the
    mirror allows pad <= 4 (kept), so only the first is what to change."""
    s = ImageSettings(f=9, pad=1, pad_mode="reflect", pool=None,
                      filters=[{"preset": "box_blur"}])
    with pytest.raises(LayerGeometryError) as info:
        make_plan(s, (5, 9, 3))
    exc = info.value
    assert Limit("pad", "<=", 4) in exc.advice and Limit("pad", "<=", 4) not in exc.broken
    assert Limit("pad", ">=", 2) in exc.broken
