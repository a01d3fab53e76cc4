"""The Learn routes: the mistake list, the probe cases, a mistake run beside the right code,
and the .npy diagnosis (as the checker does), with their 4xx answers."""

from __future__ import annotations

import io

import numpy as np
import pytest

from core.learn.outcomes import close
from core.mistakes import MISTAKE_IDS, default_case, right_outcome, variant, variant_outcome
from core.probes import FUNCTIONS, OUTPUTS, cases_of


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def _upload(client, function, case, data: bytes, output=None):
    url = f"/api/learn/{function}/diagnose?case={case}"
    if output:
        url += f"&output={output}"
    return client.post(url, files={"file": ("out.npy", data, "application/octet-stream")})


def test_the_mistake_list(client):
    r = client.get("/api/learn/mistakes")
    assert r.status_code == 200
    body = r.json()
    assert [m["id"] for m in body["mistakes"]] == list(MISTAKE_IDS)
    assert body["functions"] == list(FUNCTIONS)
    assert body["outputs"]["conv_backward"] == ["dA_prev", "dW", "db"]
    assert body["cases"]["conv_forward"][0] == "gray_s2_p1"
    stride = body["mistakes"][0]
    assert stride["functions"] == ["conv_forward", "conv_backward", "pool_forward",
                                   "pool_backward"]
    assert stride["buggy_line"] == "vert_start = h\nhoriz_start = w"
    assert stride["right_line"] == "vert_start = h * stride\nhoriz_start = w * stride"
    v = stride["variants"][0]
    assert (v["function"], v["flavour"], v["default_case"]) == ("conv_forward",
                                                                "stride_missing", "gray_s2_p1")
    assert "gray_s1_p1" not in v["showing_cases"]


def test_probe_cases_with_inputs_and_right_outputs(client):
    body = client.get("/api/learn/conv_forward/cases").json()
    first = body["cases"][0]
    assert first["name"] == "gray_s2_p1"
    assert first["inputs"]["A_prev"]["shape"] == [1, 5, 7, 1]
    assert first["inputs"]["hparameters"] == {"stride": 2, "pad": 1}
    assert first["outputs"]["Z"]["shape"] == [1, 3, 4, 2]
    assert (first["loop_shape"], first["total_steps"]) == ([1, 3, 4, 2], 24)
    assert set(first["shows"]) == {"stride_missing", "bias_per_element",
                                   "height_width_swapped", "pad_all_axes", "unpadded_slice"}
    np.testing.assert_array_equal(first["outputs"]["Z"]["values"],
                                  right_outcome("conv_forward", "gray_s2_p1").arrays["Z"])
    mask = client.get("/api/learn/create_mask_from_window/cases").json()["cases"][1]
    assert mask["loop_shape"] is None
    assert mask["outputs"]["mask"]["values"] == [[False, False, False], [True, False, True],
                                                 [False, False, False]]  # x == max(x): ties


def test_a_mistake_run_beside_the_right_code(client):
    r = client.get("/api/learn/conv_forward/mistakes/stride_missing")
    assert r.status_code == 200
    body = r.json()
    assert body["case"]["name"] == "gray_s2_p1" and body["title"]
    right = np.array(body["right"]["outputs"]["Z"]["values"])
    buggy = np.array(body["buggy"]["outputs"]["Z"]["values"])
    differs = np.array(body["differs"]["Z"]["values"])
    np.testing.assert_array_equal(differs, ~np.isclose(right, buggy))
    assert differs.any() and not differs.reshape(-1)[:2].any()
    d = body["first_difference"]
    assert (d["kind"], d["step"], d["position"], d["basis"]) == ("value", 2, [0, 0, 1, 0],
                                                                 "running")
    assert d["expected"] == right[0, 0, 1, 0] and d["got"] == buggy[0, 0, 1, 0]


def test_a_case_that_hides_the_mistake_has_no_first_difference(client):
    body = client.get("/api/learn/conv_forward/mistakes/stride_missing?case=gray_s1_p1").json()
    assert body["first_difference"] is None
    assert not np.array(body["differs"]["Z"]["values"]).any()


def test_a_buggy_run_that_raises_or_changes_the_shape(client):
    body = client.get("/api/learn/conv_backward/mistakes/crop_minus_pad").json()
    assert body["case"]["name"] == "gray_s2_p0"
    assert body["buggy"] == {"outputs": None, "error": (
        "ValueError: could not broadcast input array from shape (0,0,1) into shape (5,7,1)")}
    assert body["differs"] == {"dA_prev": None, "dW": None, "db": None}
    assert (body["first_difference"]["kind"], body["first_difference"]["phase"]) == ("error",
                                                                                    "crop")
    body = client.get("/api/learn/zero_pad/mistakes/pad_all_axes?case=gray_pad1").json()
    assert body["buggy"]["outputs"]["X_pad"]["shape"] == [3, 7, 9, 3]
    assert body["differs"]["X_pad"] is None
    assert body["first_difference"]["kind"] == "shape"


def test_a_flavour_picks_the_variant(client):
    body = client.get("/api/learn/conv_backward/mistakes/assign_not_accumulate"
                      "?flavour=assign_not_accumulate/db").json()
    assert body["variant"]["buggy_line"] == "db[:, :, :, c] = dZ[i, h, w, c]"
    assert body["first_difference"]["output"] == "db"


@pytest.mark.parametrize("url, code, words", [
    ("/api/learn/conv_backward/mistakes/bias_per_element", "mistake_not_in_function",
     "conv_single_step"),
    ("/api/learn/conv_forward/mistakes/stride_missing?case=nope", "unknown_case", "gray_s2_p1"),
    ("/api/learn/conv_backward/mistakes/assign_not_accumulate?flavour=x/y", "unknown_flavour",
     "assign_not_accumulate/dW"),
])
def test_mistake_run_refusals_name_what_exists(client, url, code, words):
    r = client.get(url)
    assert r.status_code == 422 and r.json()["code"] == code and words in r.json()["detail"]


def test_unknown_function_or_mistake_is_a_validation_error(client):
    assert client.get("/api/learn/conv_fwd/cases").status_code == 422
    r = client.get("/api/learn/conv_forward/mistakes/no_such_mistake")
    assert r.status_code == 422 and "stride_missing" in r.text


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_variants_output_uploaded_is_diagnosed_as_its_mistake(client, function):
    for m in MISTAKE_IDS:
        try:
            v = variant(function, m)
        except KeyError:
            continue
        case = default_case(function, m)
        outcome = variant_outcome(v, case)
        if not outcome.ok:
            continue  # crop_minus_pad raises: there is no output to upload
        for output in OUTPUTS[function]:
            right = right_outcome(function, case).arrays[output]
            if np.shape(outcome.arrays[output]) == np.shape(right) and np.all(
                    close(right, outcome.arrays[output])):
                # this output does not show it (db for dW_without_slice), or only by rounding
                # (height_width_swapped's db sums dZ in another order): equal to the checker
                continue
            r = _upload(client, function, case, _npy(outcome.arrays[output]), output)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["ok"] is False and m in body["mistakes"], (function, m, output)
            assert body["link"].startswith(f"/learn?fn={function}&mistake=")


def test_the_link_names_the_flavour_that_matched_and_opens_it(client):
    """db computed with `=` for `+=` is the flavour assign_not_accumulate/db (the first
    flavour, dA_prev_pad, leaves db right): the link opens that flavour's steps."""
    v = variant("conv_backward", "assign_not_accumulate", "assign_not_accumulate/db")
    case = default_case("conv_backward", "assign_not_accumulate", v.flavour)
    db = variant_outcome(v, case).arrays["db"]
    body = _upload(client, "conv_backward", case, _npy(db), "db").json()
    assert body["variants"] == ["assign_not_accumulate/db"]
    step = body["first_difference"]["step"]
    assert body["link"] == ("/learn?fn=conv_backward&mistake=assign_not_accumulate"
                            f"&flavour=assign_not_accumulate%2Fdb&step={step}&case={case}")
    page = client.get(body["link"])
    assert page.status_code == 200 and '"flavour": "assign_not_accumulate/db"' in page.text


def test_a_right_upload_is_ok(client):
    Z = right_outcome("conv_forward", "exercise").arrays["Z"].astype(np.float32)
    body = _upload(client, "conv_forward", "exercise", _npy(Z)).json()
    assert body["ok"] is True and body["mistakes"] == [] and body["count"] == 0
    assert body["first_difference"] is None
    # the right output and the upload as read, for the page's tables
    assert body["got"]["shape"] == body["expected"]["shape"] == list(Z.shape)
    np.testing.assert_array_equal(body["got"]["values"], Z.astype(np.float64))
    np.testing.assert_array_equal(body["expected"]["values"],
                                  right_outcome("conv_forward", "exercise").arrays["Z"])
    assert body["link"] == "/learn?fn=conv_forward&step=0&case=exercise"


def test_an_unknown_wrong_output_gets_its_first_step(client):
    A = np.array(right_outcome("pool_forward", "gray_f3_s1_max").arrays["A"])
    A[0, 1, 2, 0] = 99
    body = _upload(client, "pool_forward", "gray_f3_s1_max", _npy(A)).json()
    assert body["ok"] is False and body["mistakes"] == [] and body["count"] == 1
    d = body["first_difference"]
    assert (d["step"], d["got"], d["basis"]) == (7, 99.0, "output")
    assert body["differs"]["values"][0][1][2] == [True]


def test_a_shape_from_a_known_mistake_is_diagnosed(client):
    v = variant("zero_pad", "pad_all_axes")
    X_pad = variant_outcome(v, "gray_pad1").arrays["X_pad"]
    body = _upload(client, "zero_pad", "gray_pad1", _npy(X_pad)).json()
    assert body["mistakes"] == ["pad_all_axes"] and body["differs"] is None


@pytest.mark.parametrize("data, status, code, words", [
    (_npy(np.zeros((3, 4, 2))), 422, "wrong_shape", "expected (1, 3, 4, 2)"),
    (_npy(np.full((1, 3, 4, 2), np.nan)), 422, "not_finite", "NaN"),
    (_npy(np.array([["a"] * 2] * 3)), 422, "wrong_dtype", "<U1"),
    (b"not an npy file at all", 422, "not_npy", "np.save"),
    (_npy(np.zeros((1, 3, 4, 2)))[:-8], 422, "not_npy", "truncated"),
    (b"", 422, "empty_file", "empty"),
    (b"\x93NUMPY" + b"\x00" * 140_000, 413, "body_too_large",
     "a file of at most 65536 bytes, the most a probe output's .npy needs"),
    (b"\x93NUMPY" + b"\x00" * 66_000, 413, "file_too_large",
     "file is 66006 bytes; the limit is 65536 bytes, the most a probe output's .npy needs"),
])
def test_upload_refusals(client, data, status, code, words):
    r = _upload(client, "conv_forward", "gray_s2_p1", data)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and words in r.json()["detail"]


def test_a_pickled_npy_is_refused_without_unpickling(client):
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    r = _upload(client, "conv_forward", "gray_s2_p1", buf.getvalue())
    assert r.status_code == 422 and r.json()["code"] == "wrong_dtype"


def test_a_header_that_claims_a_huge_array_is_refused(client):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                              "shape": (10**9,)})
    r = _upload(client, "conv_forward", "gray_s2_p1", buf.getvalue() + b"\x00" * 64)
    assert r.status_code == 422 and "truncated" in r.json()["detail"]


def _header_only(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                              "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("shape, data_bytes, words", [
    ((-1, -72), 576, "shape (-1, -72) is not an array's shape"),
    ((-2, -2, 2), 64, "shape (-2, -2, 2) is not"),
    ((0, 2**62), 0, f"shape (0, {2**62}) of float64 is larger than any array"),
    ((2**40, 0, 2**40), 0, "is larger than any array NumPy can build"),
    ((True, 8), 64, "shape (True, 8) is not"),
    ((True, True), 8, "shape (True, True) is not"),
], ids=["negative dims", "two negatives", "0 x huge", "huge x 0 x huge", "bool dim",
        "bool dims"])
def test_a_header_numpy_cannot_build_is_not_npy_naming_the_shape(client, caplog, shape,
                                                                 data_bytes, words):
    """Issue 15's 500 on diagnose: the shape's product matches the bytes, but NumPy cannot
    build the array. A 422 naming the shape, and nothing in the log above INFO."""
    data = _header_only(shape) + bytes(data_bytes)
    r = _upload(client, "conv_forward", "gray_s2_p1", data)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "not_npy"
    assert words in r.json()["detail"] and "Expected: Z" in r.json()["detail"], r.text
    assert not [rec for rec in caplog.records if rec.levelname in ("WARNING", "ERROR")]


def test_upload_form_refusals(client):
    r = client.post("/api/learn/conv_forward/diagnose?case=gray_s2_p1", content=b"x",
                    headers={"content-type": "application/octet-stream"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    r = client.post("/api/learn/conv_forward/diagnose?case=gray_s2_p1",
                    files={"other": ("a", b"b")})
    assert r.status_code == 422 and r.json()["code"] == "bad_multipart"
    r = _upload(client, "conv_forward", "nope", _npy(np.zeros(2)))
    assert r.status_code == 422 and r.json()["code"] == "unknown_case"
    r = _upload(client, "conv_backward", "gray_s2_p1", _npy(np.zeros(2)), output="dX")
    assert r.status_code == 422 and "dA_prev, dW, db" in r.json()["detail"]
    r = client.post("/api/learn/conv_forward/diagnose", files={"file": ("a", b"b")})
    assert r.status_code == 422  # case is required


def test_the_routes_are_typed_in_openapi(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert "/api/learn/mistakes" in paths and "/api/learn/{function}/diagnose" in paths
    run = paths["/api/learn/{function}/mistakes/{mistake}"]["get"]
    assert run["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "MistakeRunOut")
    assert "FirstDifference" in spec["components"]["schemas"]
    assert len(cases_of("conv_forward")) == len(
        client.get("/api/learn/conv_forward/cases").json()["cases"])
