"""Geometry: sizes, formulas with numbers, unreached rows/cols, and every error message."""

import json

import numpy as np
import pytest

from core import (
    GeometryError,
    conv_backward,
    conv_forward,
    conv_forward_trace,
    conv_geometry,
    conv_single_step,
    pool_backward,
    pool_forward,
    pool_geometry,
    step_index,
    step_position,
    zero_pad,
)


def test_conv_geometry_numbers_and_formula():
    g = conv_geometry(5, 7, 3, stride=2, pad=1)
    assert (g.n_H, g.n_W, g.n_H_pad, g.n_W_pad, g.f_eff) == (3, 4, 7, 9, 3)
    assert g.formula_H == ("n_H = floor((n_H_prev + 2*pad - f) / stride) + 1 = "
                           "floor((5 + 2*1 - 3) / 2) + 1 = floor(4 / 2) + 1 = 3")
    assert g.formula_W.endswith("floor((7 + 2*1 - 3) / 2) + 1 = floor(6 / 2) + 1 = 4")
    assert g.dropped_rows == () and g.dropped_cols == ()


def test_floor_drops_bottom_rows_and_right_columns():
    g = conv_geometry(6, 8, 3, stride=2, pad=0)
    # rows: windows 0-2 and 2-4; row 5 is left over. cols: 0-2, 2-4, 4-6; col 7 left over.
    assert (g.n_H, g.n_W) == (2, 3)
    assert g.dropped_rows == (5,)
    assert g.dropped_cols == (7,)
    assert "covers rows 2-4 of the padded rows 0-5" in g.explanation
    assert "floor drops the leftover row 5: no window reaches it" in g.explanation
    assert "leftover column 7" in g.explanation
    assert "The output is 2 x 3." in g.explanation


def test_gaps_between_windows_and_dilation():
    g = conv_geometry(9, 9, 2, stride=3)  # windows 0-1, 3-4, 6-7: 2, 5 skipped, 8 left over
    assert g.dropped_rows == (2, 5, 8)
    assert "skipped" in g.explanation
    g = conv_geometry(7, 7, 3, stride=1, pad=1, dilation=2)
    assert (g.f_eff, g.n_H) == (5, 5)
    assert g.formula_H == ("n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1"
                           " = floor((7 + 2*1 - 2*(3 - 1) - 1) / 1) + 1 = floor(4 / 1) + 1 = 5")
    assert g.dropped_rows == ()


def test_pool_geometry_and_to_dict_is_json():
    g = pool_geometry(5, 4, 2, stride=2)
    assert (g.n_H, g.n_W, g.pad, g.dilation) == (2, 2, 0, 1)
    assert g.dropped_rows == (4,) and g.dropped_cols == ()
    d = json.loads(json.dumps(g.to_dict()))
    assert d["dropped_rows"] == [4]
    assert d["formula_H"].endswith("= 2")
    assert set(d) == {"n_H_prev", "n_W_prev", "f", "stride", "pad", "dilation", "f_eff",
                      "n_H_pad", "n_W_pad", "n_H", "n_W", "formula_H", "formula_W",
                      "dropped_rows", "dropped_cols", "explanation"}


@pytest.mark.parametrize("n_prev, f, stride, pad, dilation", [
    (1, 1, 1, 0, 1), (5, 5, 1, 0, 1), (4, 2, 3, 2, 1), (10, 3, 2, 1, 3), (3, 1, 5, 0, 1),
])
def test_geometry_agrees_with_the_forward_shape(n_prev, f, stride, pad, dilation):
    g = conv_geometry(n_prev, n_prev + 1, f, stride=stride, pad=pad, dilation=dilation)
    Z, _ = conv_forward(np.ones((1, n_prev, n_prev + 1, 1)), np.ones((f, f, 1, 1)),
                        np.zeros((1, 1, 1, 1)), {"stride": stride, "pad": pad},
                        dilation=dilation)
    assert Z.shape == (1, g.n_H, g.n_W, 1)


def _conv(A_shape=(1, 4, 4, 2), W_shape=(3, 3, 2, 3), b_shape=(1, 1, 1, 3), **hp):
    hparameters = {"stride": 1, "pad": 0, **hp}
    return conv_forward(np.ones(A_shape), np.ones(W_shape), np.ones(b_shape), hparameters)


ERRORS = [
    pytest.param(lambda: _conv(A_shape=(1, 2, 2, 2), W_shape=(5, 5, 2, 3), pad=1),
                 ["spans f = 5 rows", "2 + 2*1 = 4",
                  "floor((2 + 2*1 - 5) / 1) + 1 = floor(-1 / 1) + 1 = 0"],
                 id="window-larger-than-padded-input"),
    pytest.param(lambda: conv_forward(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)),
                                      np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 0},
                                      dilation=3),
                 ["f = 2 with dilation = 3 spans dilation*(f - 1) + 1 = 4 rows", "3 + 2*0 = 3"],
                 id="dilated-window-too-large"),
    pytest.param(lambda: _conv(stride=0), ["stride", "at least 1", "is 0"], id="stride-0"),
    pytest.param(lambda: _conv(pad=-1), ["pad", "at least 0", "is -1"], id="negative-pad"),
    pytest.param(lambda: _conv(stride=1.5), ["stride", "whole number", "1.5"], id="float-stride"),
    pytest.param(lambda: conv_geometry(4, 4, 0), ["f (window size)", "is 0"], id="f-0"),
    pytest.param(lambda: conv_forward(np.ones((1, 3, 4, 1)), np.ones((1, 1, 1, 1)),
                                      np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 3},
                                      pad_mode="reflect"),
                 ["pad = 3", "height n_H_prev = 3", "pad <= 2"], id="reflect-pad-too-wide"),
    pytest.param(lambda: _conv(W_shape=(3, 3, 5, 3)),
                 ["n_C_prev = 2", "expects 5", "(1, 4, 4, 2)", "(3, 3, 5, 3)"],
                 id="channel-mismatch"),
    pytest.param(lambda: _conv(A_shape=(4, 4, 2)), ["A_prev", "4 axes", "has 3", "(4, 4, 2)"],
                 id="A-rank"),
    pytest.param(lambda: _conv(W_shape=(3, 3, 2)), ["W", "4 axes", "has 3"], id="W-rank"),
    pytest.param(lambda: _conv(W_shape=(3, 2, 2, 3)), ["square", "3 x 2"], id="W-not-square"),
    pytest.param(lambda: _conv(b_shape=(3,)), ["b", "4 axes", "(3,)"], id="b-rank"),
    pytest.param(lambda: _conv(b_shape=(1, 1, 1, 4)), ["(1, 1, 1, 3)", "(1, 1, 1, 4)"],
                 id="b-shape"),
    pytest.param(lambda: conv_forward(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)),
                                      np.ones((1, 1, 1, 1)), {"stride": 1}),
                 ["'pad'", "missing"], id="missing-pad"),
    pytest.param(lambda: conv_forward(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)),
                                      np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 1},
                                      pad_mode="wrap"),
                 ['"constant", "reflect", "edge"', "'wrap'"], id="unknown-pad-mode"),
    pytest.param(lambda: zero_pad(np.ones((1, 2, 2, 1)), 1, pad_value=(1, 2, 3)),
                 ["pad_value", "(before, after)", "(1, 2, 3)"], id="bad-pad-value"),
    pytest.param(lambda: pool_forward(np.ones((1, 4, 4, 1)), {"f": 2, "stride": 2}, mode="min"),
                 ['"max", "average"', "'min'"], id="unknown-pool-mode"),
    pytest.param(lambda: pool_backward(np.ones((1, 2, 2, 1)),
                                       (np.ones((1, 4, 4, 1)), {"f": 2, "stride": 2}),
                                       tie_rule="random"),
                 ['"first", "all", "split"', "'random'"], id="unknown-tie-rule"),
    pytest.param(lambda: pool_forward(np.ones((1, 3, 3, 1)), {"f": 4, "stride": 1}),
                 ["f = 4", "3 + 2*0 = 3"], id="pool-window-too-large"),
    pytest.param(lambda: pool_forward(np.ones((1, 3, 3, 1)), {"f": 2, "stride": 0}),
                 ["stride", "is 0"], id="pool-stride-0"),
    pytest.param(lambda: conv_backward(np.ones((1, 3, 2, 3)), _conv()[1]),
                 ["dZ", "(1, 2, 2, 3)", "(1, 3, 2, 3)"], id="dZ-shape"),
    pytest.param(lambda: pool_backward(np.ones((1, 3, 3, 1)),
                                       pool_forward(np.ones((1, 4, 4, 1)),
                                                    {"f": 2, "stride": 2})[1]),
                 ["dA", "(1, 2, 2, 1)", "(1, 3, 3, 1)"], id="dA-shape"),
    pytest.param(lambda: conv_single_step(np.ones((2, 2, 1)), np.ones((3, 3, 1)), 0.0),
                 ["(2, 2, 1)", "(3, 3, 1)"], id="single-step-shapes"),
    pytest.param(lambda: step_index((1, 2, 3, 4), (0, 2, 0, 0)),
                 ["(0, 2, 0, 0)", "h = 2", "below 2"], id="position-outside"),
    pytest.param(lambda: step_position((1, 2, 3, 4), 24), ["step 24", "24 steps"],
                 id="step-outside"),
    pytest.param(lambda: conv_forward_trace(np.ones((1, 3, 3, 1)), np.ones((1, 1, 1, 1)),
                                            np.ones((1, 1, 1, 1)), {"stride": 1, "pad": 0},
                                            offset=-1),
                 ["offset", "is -1"], id="negative-offset"),
]


@pytest.mark.parametrize("call, fragments", ERRORS)
def test_bad_geometry_raises_geometry_error_naming_the_numbers(call, fragments):
    with pytest.raises(GeometryError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
