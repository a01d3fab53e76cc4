"""fit_limits: each setting's range that makes the conv layer (and its pooling) fit, the
others kept; checked against conv_geometry / pool_geometry by brute force, and the
GeometryError message and advice."""

from __future__ import annotations

import itertools

import pytest

from core.geometry import (
    GeometryError,
    Limit,
    advice_text,
    conv_geometry,
    fit_limits,
    pad_limit_check,
    pool_geometry,
)

SEARCH = range(0, 41)  # every value the brute force tries for one setting


def layer_fits(n_H, n_W, f, stride, pad, dilation, pool_f, pad_mode="constant"):
    """The oracle: core's own geometry of the conv layer and its pooling (no formula here)."""
    try:
        g = conv_geometry(n_H, n_W, f, stride=stride, pad=pad, dilation=dilation)
        pad_limit_check(n_H, n_W, pad, pad_mode)
        if pool_f is not None:
            pool_geometry(g.n_H, g.n_W, pool_f, stride=2)
    except GeometryError:
        return False
    return True


def brute_range(setting, kw):
    """Values of `setting` (the others kept) for which the layer fits."""
    lo = 0 if setting == "pad" else 1
    ok = []
    for v in SEARCH:
        if v < lo:
            continue
        args = dict(kw)
        if setting == "n_prev":
            args["n_H"] = v + (args["n_H"] - min(args["n_H"], args["n_W"]))
            args["n_W"] = v + (args["n_W"] - min(args["n_H"], args["n_W"]))
        else:
            args[setting] = v
        if layer_fits(**args):
            ok.append(v)
    return ok


def allowed(limits, setting):
    ls = [lim for lim in limits if lim.setting == setting]
    lo = 0 if setting == "pad" else 1
    return [v for v in SEARCH if v >= lo and all(lim.allows(v) for lim in ls)] if ls else None


CASES = [
    # n_H, n_W, f, stride, pad, dilation, pool_f, pad_mode
    (5, 5, 3, 2, 0, 1, 2, "constant"),
    (4, 6, 9, 1, 1, 1, None, "constant"),
    (36, 68, 3, 4, 1, 1, 10, "constant"),
    (8, 3, 3, 1, 0, 2, None, "edge"),
    (7, 7, 5, 3, 2, 1, 3, "reflect"),
    (3, 3, 7, 1, 0, 1, None, "reflect"),
    (10, 12, 1, 1, 0, 1, 11, "constant"),
    (6, 9, 4, 2, 1, 3, 2, "constant"),
    (16, 16, 3, 1, 1, 1, 2, "constant"),
]


@pytest.mark.parametrize(("n_H", "n_W", "f", "stride", "pad", "dilation", "pool_f", "mode"),
                         CASES)
def test_each_limit_is_exactly_the_range_that_fits(n_H, n_W, f, stride, pad, dilation, pool_f,
                                                   mode):
    kw = dict(n_H=n_H, n_W=n_W, f=f, stride=stride, pad=pad, dilation=dilation, pool_f=pool_f,
              pad_mode=mode)
    limits = fit_limits(n_H, n_W, f, stride=stride, pad=pad, dilation=dilation, pool_f=pool_f,
                        pad_mode=mode)
    settings = ["f", "pad", "dilation", "stride", "n_prev"] + (["pool_f"] if pool_f else [])
    for setting in settings:
        truth = brute_range(setting, kw)
        mine = allowed(limits, setting)
        if mine is None:
            # no Limit: the setting cannot make it fit alone, or it plays no part
            assert truth in ([], SEARCH_WITHOUT(setting)), (setting, truth)
        else:
            assert mine == truth, (setting, limits)
    current = {"f": f, "pad": pad, "dilation": dilation, "stride": stride, "pool_f": pool_f,
               "n_prev": min(n_H, n_W)}
    fits = layer_fits(**kw)
    assert fits == all(lim.allows(current[lim.setting]) for lim in limits)


def SEARCH_WITHOUT(setting):
    lo = 0 if setting == "pad" else 1
    return [v for v in SEARCH if v >= lo]


def test_the_readme_example_numbers():
    limits = fit_limits(5, 5, 3, stride=2, pad=0, pool_f=2)
    assert [lim.text for lim in limits] == [
        "f <= 3", "pad >= 0", "dilation <= 1", "stride <= 2", "pool f <= 2",
        "min(n_H_prev, n_W_prev) >= 5"]


def test_conv_error_names_the_precise_limits():
    with pytest.raises(GeometryError) as info:
        conv_geometry(4, 6, 9, pad=1)
    msg = str(info.value)
    assert "Use f <= 6, pad >= 3 or min(n_H_prev, n_W_prev) >= 7." in msg
    assert "smaller f" not in msg
    assert Limit("f", "<=", 6) in info.value.advice
    assert Limit("pad", ">=", 3) in info.value.advice


def test_dilated_conv_error_advises_dilation():
    with pytest.raises(GeometryError) as info:
        conv_geometry(8, 8, 3, dilation=5)
    assert "dilation <= 3" in str(info.value)
    assert Limit("dilation", "<=", 3) in info.value.advice


def test_pooling_error_has_no_pad_or_dilation_advice():
    with pytest.raises(GeometryError) as info:
        pool_geometry(2, 6, 3, stride=1)
    assert {lim.setting for lim in info.value.advice} == {"f", "n_prev"}
    assert str(info.value).endswith("Use f <= 2 or min(n_H_prev, n_W_prev) >= 3.")


def test_other_errors_carry_no_advice():
    with pytest.raises(GeometryError) as info:
        conv_geometry(4, 4, 0)
    assert info.value.advice == ()


def test_advice_text_lists_only_the_broken_limits():
    limits = (Limit("f", "<=", 7), Limit("pad", ">=", 2), Limit("stride", "<=", 3))
    assert advice_text(limits, {"f": 9, "pad": 1, "stride": 2}) == "Use f <= 7 or pad >= 2."
    assert advice_text(limits, {"f": 9, "pad": 2, "stride": 2}) == "Use f <= 7."
    assert advice_text(limits, {"f": 3, "pad": 2, "stride": 2}) == ""


def test_reflect_pad_limits_bound_both_sides():
    limits = fit_limits(7, 7, 5, stride=1, pad=2, pad_mode="reflect")
    assert Limit("pad", ">=", 0) in limits and Limit("pad", "<=", 6) in limits
    # f = 9 needs pad >= 1 (fine), but on a 3-pixel input reflect allows pad <= 2 only
    # while pad >= 3 is needed: no pad fits both, so no pad advice
    assert not [lim for lim in fit_limits(3, 3, 9, pad_mode="reflect") if lim.setting == "pad"]


@pytest.mark.parametrize(("n", "f", "stride", "pad", "dilation", "pool_f"),
                         list(itertools.product([3, 6], [1, 3, 6], [1, 3], [0, 2], [1, 2],
                                                [None, 2, 4])))
def test_fits_exactly_when_every_limit_allows(n, f, stride, pad, dilation, pool_f):
    limits = fit_limits(n, n + 1, f, stride=stride, pad=pad, dilation=dilation, pool_f=pool_f)
    current = {"f": f, "pad": pad, "dilation": dilation, "stride": stride, "pool_f": pool_f,
               "n_prev": n}
    assert layer_fits(n, n + 1, f, stride, pad, dilation, pool_f) == all(
        lim.allows(current[lim.setting]) for lim in limits)


def test_geometry_error_carries_its_problem_apart_from_its_advice():
    """`problem` is the message without the advice sentence, so a caller words the advice
    for its own settings without cutting the message; errors without advice: the message."""
    with pytest.raises(GeometryError) as fits:
        conv_geometry(5, 5, 7, stride=1, pad=0)
    exc = fits.value
    assert exc.advice and "Use " in str(exc) and "Use " not in exc.problem
    assert str(exc) == f"{exc.problem} {advice_text(exc.advice, {'f': 7, 'pad': 0, 'n_prev': 5})}"
    assert exc.problem.endswith("it must be at least 1.")
    with pytest.raises(GeometryError) as plain:
        conv_geometry(5, 5, 0, stride=1, pad=0)
    assert not plain.value.advice and plain.value.problem == str(plain.value)


def test_reflect_pad_error_carries_its_limit_and_keeps_its_sentence():
    """pad_limit_check's advice is data too (pad <= n - 1); its sentence also offers the
    other pad modes, so `problem` is the whole message (a caller keeps it)."""
    with pytest.raises(GeometryError) as info:
        pad_limit_check(9, 4, 5, "reflect")
    exc = info.value
    assert exc.advice == (Limit("pad", "<=", 3),)
    assert str(exc).endswith("Use pad <= 3, or pad_mode 'edge' or 'constant'.")
    assert exc.problem == str(exc)
