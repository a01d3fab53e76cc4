"""core/learn/: the exercise's code written once, and what is derived from it (the listing,
the runnable code, the variants' lines, the loop twins) agreeing with it by construction."""

from __future__ import annotations

import numpy as np
import pytest

from core.learn.exercise import Exercise, drain
from core.learn.listing import EditError, edited, listing, python_text
from core.learn.source import option_edits
from core.loops import pool_backward_loop
from core.mistakes import FLAVOUR_EDITS, MISTAKES
from core.probes import FUNCTIONS, arguments, cases_of


def test_every_function_is_listed_once_with_unique_line_ids():
    code = listing()
    assert tuple(code) == FUNCTIONS
    for name, lines in code.items():
        ids = [x.id for x in lines]
        assert len(ids) == len(set(ids)), name
        assert lines[0].text.startswith(f"def {name}("), name


def test_the_code_that_runs_is_the_listing():
    """The runnable text is the listing's lines, plus only the step generators' yields."""
    shown = [x.text for lines in listing().values() for x in lines]
    plain = [t for t in python_text(listing()).split("\n") if t.strip()]
    assert plain == shown
    stepped = [t for t in python_text(listing(), steps=True).split("\n") if t.strip()]
    assert [t for t in stepped if not t.strip().startswith("yield ")] == shown


def test_the_step_generators_return_what_the_functions_return():
    for name in ("conv_forward", "conv_backward", "pool_forward", "pool_backward"):
        case = cases_of(name)[0]
        plain = Exercise().function(name)(*arguments(case))
        steps = drain(Exercise().steps(name)(*arguments(case)))
        for a, b in zip(plain if isinstance(plain, tuple) else (plain,),
                        steps if isinstance(steps, tuple) else (steps,), strict=True):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)


def test_an_edit_that_cannot_apply_is_an_error():
    with pytest.raises(EditError, match="not once"):
        edited([("conv_forward", "vs", "h * h", "h")])
    with pytest.raises(EditError, match="no line"):
        edited([("conv_forward", "nothing", None, "x = 1")])
    # two flavours that edit the same text cannot be switched on together
    with pytest.raises(EditError):
        Exercise({"stride_missing", "height_width_swapped"}).function("conv_forward")


def test_every_flavour_is_a_variant_and_changes_the_code():
    flavours = {v.flavour for m in MISTAKES.values() for v in m.variants}
    assert flavours == set(FLAVOUR_EDITS)
    for key, edits in FLAVOUR_EDITS.items():
        assert edited(edits) != edited(), key


def test_the_tie_rule_lines_are_what_the_loop_twin_runs():
    """pool_backward_loop's tie rules are the listing's mask lines (option edits): on a window
    of tied maxima "first" routes to one cell, "split" shares, "all" gives each the whole."""
    A_prev = np.array([[1.0, 3.0], [3.0, 0.0]]).reshape(1, 2, 2, 1)
    dA = np.full((1, 1, 1, 1), 6.0)
    cache = (A_prev, {"f": 2, "stride": 2})
    got = {rule: pool_backward_loop(dA, cache, "max", tie_rule=rule)[0, :, :, 0]
           for rule in ("all", "first", "split")}
    np.testing.assert_array_equal(got["all"], [[0, 6], [6, 0]])
    np.testing.assert_array_equal(got["first"], [[0, 6], [0, 0]])
    np.testing.assert_array_equal(got["split"], [[0, 3], [3, 0]])
    assert any("np.argmax" in x.text
               for x in listing(option_edits(tie_rule="first"))["pool_backward"])


def test_every_mistake_and_flavour_has_its_words():
    from core.learn.descriptions import FLAVOUR_WHAT, TITLES, WHAT

    assert set(TITLES) == set(WHAT) == set(MISTAKES)
    assert set(FLAVOUR_WHAT) <= set(FLAVOUR_EDITS)
    for m in MISTAKES.values():
        assert m.title and m.what_goes_wrong
        for v in m.variants:
            assert v.what_goes_wrong and v.right_line and v.buggy_line != v.right_line
