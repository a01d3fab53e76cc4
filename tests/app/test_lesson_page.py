"""The Learn page's routes and its lesson (app/learn/lesson.py): a bare / is Learn mode,
/?<state> and /explore stay Explore, the lesson's numbers are core's, bad links are 422s."""

from __future__ import annotations

import json

import numpy as np
import pytest

import core
from app.learn.lesson import LearnQuery, LessonOptions, build_lesson, learn_boot
from core.probes import B_GRAY as B
from core.probes import FUNCTIONS, get_case
from core.probes import GRAY_5X7 as A_PREV
from core.probes import W_GRAY as W

STRIDE = 2
POOL = {"f": 3, "stride": 1}
DA_POOL = {"max": get_case("pool_backward", "gray_f3_s1_max").inputs["dA"],
           "average": get_case("pool_backward", "gray_f3_s1_average").inputs["dA"]}


def boot_of(html: str) -> dict:
    start = html.index('<script type="application/json" id="boot">') + len(
        '<script type="application/json" id="boot">')
    return json.loads(html[start:html.index("</script>", start)])


def test_bare_root_is_learn_and_a_query_is_explore(client):
    learn = client.get("/")
    assert learn.status_code == 200 and 'src="/static/js/learn/main.js"' in learn.text
    assert boot_of(learn.text)["open"]["fn"] == "zero_pad"
    for url in ("/?sample=coffee&stage=pad", "/explore"):
        r = client.get(url)
        assert r.status_code == 200 and 'src="/static/js/explore/main.js"' in r.text, url
        assert "samples" in boot_of(r.text), url


def test_nav_links_only_pages_that_exist(client):
    html = client.get("/learn").text
    assert 'href="/learn" data-nav="learn" aria-current="page"' in html
    assert 'href="/explore" data-nav="explore"' in html and 'href="/docs"' in html
    served = client.get("/network").status_code == 200
    assert ('data-nav="network"' in html) == served


def test_deep_link_is_echoed_for_the_page(client):
    r = client.get("/learn?fn=conv_forward&mistake=stride_missing&step=3")
    o = boot_of(r.text)["open"]
    assert (o["fn"], o["mistake"], o["step"]) == ("conv_forward", "stride_missing", 3)


@pytest.mark.parametrize(("query", "field"), [
    ("fn=conv_fwd", "fn"), ("mistake=typo", "mistake"), ("step=-1", "step"),
    ("pad=2", "pad"), ("dilation=3", "dilation"), ("tie=max", "tie"), ("upstream=x", "upstream"),
])
def test_bad_query_is_a_422_naming_the_field(client, query, field):
    r = client.get(f"/learn?{query}")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]


def test_lesson_numbers_are_cores():
    L = build_lesson()
    assert L["order"] == list(FUNCTIONS)
    for pad in (1, 0):
        f = L["functions"]
        Z, cache = core.conv_forward(A_PREV, W, B, {"stride": STRIDE, "pad": pad})
        fw = f["conv_forward"][str(pad)]
        np.testing.assert_array_equal(fw["Z"], Z)
        assert len(fw["steps"]) == Z.size
        for s in fw["steps"]:  # each step's z is Z at its position, its window in a_prev_pad
            assert s["z"] == Z[s["i"], s["h"], s["w"], s["c"]]
            assert s["vert_start"] == s["h"] * STRIDE and s["vert_end"] == s["vert_start"] + 3
        np.testing.assert_array_equal(f["zero_pad"][str(pad)]["X_pad"], core.zero_pad(A_PREV, pad))
        cs = f["conv_single_step"][str(pad)]
        assert cs["Z"] == core.conv_single_step(np.array(cs["a_slice_prev"]),
                                                np.array(cs["W"]), B[..., 0])
        bw = f["conv_backward"][str(pad)]
        dZ = get_case("conv_backward", f"gray_s2_p{pad}").inputs["dZ"]
        dA_prev, dW, db = core.conv_backward(dZ, cache)
        np.testing.assert_array_equal(bw["dA_prev"], dA_prev)
        crop = bw["steps"][-1]
        assert crop["kind"] == "crop"
        np.testing.assert_array_equal(crop["dW"], dW)
        np.testing.assert_array_equal(crop["db"], db)
        np.testing.assert_array_equal(crop["dA_prev"], dA_prev)
    for mode in ("max", "average"):
        A, pcache = core.pool_forward(A_PREV, POOL, mode=mode)
        np.testing.assert_array_equal(L["functions"]["pool_forward"][mode]["A"], A)
        pb = L["functions"]["pool_backward"][mode]
        want = core.pool_backward(DA_POOL[mode], pcache, mode=mode, tie_rule="all")
        np.testing.assert_array_equal(pb["dA_prev"], want)
        np.testing.assert_array_equal(pb["steps"][-1]["dA_prev"], want)


def test_preset_has_ties_overlap_and_a_non_trivial_upstream():
    L = build_lesson()
    masks = L["functions"]["create_mask_from_window"]["max"]["steps"]
    assert any(s["count"] > 1 for s in masks) and any(s["count"] == 1 for s in masks)
    assert POOL["stride"] < POOL["f"] and W.shape[0] > STRIDE
    assert A_PREV.shape[1] != A_PREV.shape[2] and np.all(B != 0)
    assert len(set(DA_POOL["max"].ravel())) > 2 and not np.all(DA_POOL["average"] == 1)


def test_options_change_the_lesson():
    first = build_lesson(LessonOptions(tie_rule="first"))["functions"]["pool_backward"]["max"]
    _, pcache = core.pool_forward(A_PREV, POOL, mode="max")
    np.testing.assert_array_equal(first["dA_prev"], core.pool_backward(
        DA_POOL["max"], pcache, mode="max", tie_rule="first"))
    dilated = build_lesson(LessonOptions(dilation=2, pad_mode="edge"))["functions"]
    dil = dilated["conv_forward"]["1"]
    assert dilated["conv_backward"]["1"]["upstream"] == "output"  # the probe's dZ no longer fits
    Z, _ = core.conv_forward(A_PREV, W, B, {"stride": STRIDE, "pad": 1}, dilation=2,
                             pad_mode="edge")
    np.testing.assert_array_equal(dil["Z"], Z)
    ones = build_lesson(LessonOptions(upstream="ones"))["functions"]["distribute_value"]["average"]
    assert all(s["dz"] == 1 for s in ones["steps"])


def test_case_lessons_walk_one_image_of_the_case():
    boot = learn_boot(LearnQuery(fn="conv_backward", case="exercise", step=700))
    d = boot["case"]["data"]
    per = 4 * 4 * 8
    assert (d["image"], d["m"], d["step_offset"], d["total_steps"]) == (5, 10, 5 * per, 10 * per)
    assert [s["index"] for s in d["steps"][:-1]] == list(range(5 * per, 6 * per))
    v = get_case("conv_backward", "exercise").inputs
    cache = (v["A_prev"], v["W"], v["b"], v["hparameters"])
    dA_prev, _, _ = core.conv_backward(v["dZ"], cache)
    np.testing.assert_array_equal(d["steps"][-1]["dA_prev"], dA_prev[5:6])
    dA_pad, dW_k, _ = core.conv_backward_totals(v["dZ"], cache, 5 * per + 3)
    np.testing.assert_array_equal(d["steps"][3]["dA_prev_pad"], dA_pad[5:6])
    np.testing.assert_array_equal(d["steps"][3]["dW"], dW_k)


def test_a_mistake_opens_its_default_case():
    boot = learn_boot(LearnQuery(fn="conv_backward", mistake="crop_minus_pad"))
    assert boot["case"]["name"] == "gray_s2_p0"  # the crop mistake shows at pad 0
    assert boot["case"]["data"]["pad"] == 0
    boot = learn_boot(LearnQuery(fn="create_mask_from_window", mistake="mask_not_max",
                                 flavour="mask_not_max/argmax"))
    x = get_case("create_mask_from_window", boot["case"]["name"]).inputs["x"]
    assert boot["case"]["data"]["steps"][0]["mask"] == (x == x.max()).tolist()


@pytest.mark.parametrize(("query", "field"), [
    ("fn=zero_pad&mistake=stride_missing", "mistake"),
    ("fn=conv_backward&mistake=assign_not_accumulate&flavour=assign_not_accumulate/zz", "flavour"),
    ("fn=conv_forward&case=nope", "case"),
])
def test_mistake_or_case_that_does_not_fit_is_a_422(client, query, field):
    r = client.get(f"/learn?{query}")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]
