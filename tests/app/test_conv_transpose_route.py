"""POST /api/conv_transpose: core's conv_transpose over JSON with its step records, and the
4xx of every kind of bad input."""

import numpy as np
import pytest

from core import conv_transpose

BODY = {"A_prev": [[[[1.0], [2.0]], [[3.0], [4.0]]]],
        "W": np.arange(9.0).reshape(3, 3, 1, 1).tolist(), "b": [[[[0.5]]]],
        "hparameters": {"stride": 2, "pad": 1}, "output_padding": 1}


def test_answers_core_with_a_page_of_steps(client):
    r = client.post("/api/conv_transpose", json={**BODY, "steps": {"offset": 1, "limit": 2}})
    assert r.status_code == 200, r.text
    want, _ = conv_transpose(np.array(BODY["A_prev"]), np.array(BODY["W"]),
                             np.array(BODY["b"]), BODY["hparameters"], output_padding=1)
    np.testing.assert_array_equal(r.json()["Z"], want)  # (1, 4, 4, 1)
    page = r.json()["steps"]
    assert page["kind"] == "conv_transpose" and page["total"] == 4 and page["offset"] == 1
    step = page["steps"][0]  # input cell (0, 1): value 2, its window starts at column 2
    assert (step["h"], step["w"], step["a"]) == (0, 1, 2.0)
    assert (step["vert_start"], step["horiz_start"], step["horiz_end"]) == (0, 2, 5)
    np.testing.assert_array_equal(np.array(step["spread"])[:, :, 0],
                                  2 * np.arange(9.0).reshape(3, 3))
    pair = client.post("/api/conv_transpose", json={**BODY, "output_padding": [1, 0]})
    assert np.shape(pair.json()["Z"]) == (1, 4, 3, 1)


@pytest.mark.parametrize("change, status, words", [
    ({"output_padding": 2}, 422, "output_padding must be smaller"),
    ({"hparameters": {"stride": 1, "pad": 3}, "output_padding": 0}, 422, "would be empty"),
    ({"b": [[[[0.5, 1.0]]]]}, 422, "(1, 1, 1, 1)"),
    ({"W": [[[[1.0, 2.0]]]]}, 422, "Channel mismatch"),
])
def test_geometry_errors_are_422_with_cores_words(client, change, status, words):
    r = client.post("/api/conv_transpose", json={**BODY, **change})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


@pytest.mark.parametrize("change, field", [
    ({"output_padding": -1}, "output_padding"),
    ({"dilation": 0}, "dilation"),
    ({"hparameters": {"stride": 0, "pad": 0}}, "stride"),
    ({"steps": {"limit": 0}}, "limit"),
])
def test_bad_fields_are_422_naming_them(client, change, field):
    r = client.post("/api/conv_transpose", json={**BODY, **change})
    assert r.status_code == 422
    assert any(field in [str(p) for p in e["loc"]] for e in r.json()["detail"])


def test_an_output_over_the_limit_is_413_before_any_work(make_client):
    client = make_client(max_array_elements=1000)
    r = client.post("/api/conv_transpose", json={**BODY, "hparameters": {"stride": 40,
                                                                         "pad": 0}})
    assert r.status_code == 413 and "Z (the output)" in r.json()["detail"]
