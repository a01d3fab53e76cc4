"""core.mistakes: every classic mistake changes its function's output on its probe cases,
equals the right code where it cannot show, is told apart from the others, and the first
difference is the step where the right and the buggy loops part."""

import numpy as np
import pytest

from core import (
    conv_backward_totals,
    conv_forward_trace,
    pool_backward_totals,
    pool_forward_trace,
)
from core.learn.outcomes import edits_outcome
from core.learn.variants import parts_of
from core.mistakes import (
    MISTAKE_IDS,
    MISTAKES,
    Exercise,
    Outcome,
    compare_outcomes,
    default_case,
    diagnose,
    first_step_difference,
    outputs_agree,
    right_outcome,
    showing_cases,
    variant,
    variant_outcome,
    variants_of,
)
from core.probes import FUNCTIONS, OUTPUTS, arguments, cases_of, get_case

ALL_VARIANTS = [(fn, v.mistake, v.flavour) for fn in FUNCTIONS for v in variants_of(fn)]


def test_the_ids_are_the_agreed_ones():
    assert MISTAKE_IDS == (
        "stride_missing", "bias_per_element", "height_width_swapped", "pad_all_axes",
        "unpadded_slice", "assign_not_accumulate", "distribute_without_dz", "crop_minus_pad",
        "mask_not_max", "dW_without_slice")


@pytest.mark.parametrize("mistake", MISTAKE_IDS)
def test_each_entry_says_what_goes_wrong_with_its_lines(mistake):
    m = MISTAKES[mistake]
    assert m.title and m.what_goes_wrong.endswith((".", ")"))
    assert m.buggy_line != m.right_line
    assert m.functions
    for v in m.variants:
        assert v.buggy_line and v.right_line and v.buggy_line != v.right_line
        assert v.function in FUNCTIONS and v.what_goes_wrong
    d = m.to_dict()
    assert d["id"] == mistake and d["functions"] == list(m.functions)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_exercise_without_bugs_is_core(function):
    for case in cases_of(function):
        right = right_outcome(function, case.name)
        got = Outcome(arrays=dict(zip(OUTPUTS[function], _as_tuple(
            function, Exercise().function(function)(*arguments(case))), strict=True)))
        assert outputs_agree(right, got), case.name


def _as_tuple(function, result):
    if function in ("conv_forward", "pool_forward"):
        return (result[0],)
    return tuple(result) if function == "conv_backward" else (result,)


# Where each variant must show (differ from core) and where it must hide (equal core).
TABLE = [
    ("zero_pad", "pad_all_axes", None, ["exercise", "gray_pad1"], ["gray_pad0"]),
    ("conv_single_step", "bias_per_element", None, ["exercise", "gray_window"], ["zero_bias"]),
    ("conv_forward", "stride_missing", None, ["gray_s2_p1", "gray_s2_p0", "exercise"],
     ["gray_s1_p1", "one_window"]),
    ("conv_forward", "bias_per_element", None, ["gray_s2_p1", "exercise"], ["gray_zero_bias"]),
    ("conv_forward", "height_width_swapped", None, ["gray_s2_p1", "exercise"], ["one_window"]),
    ("conv_forward", "height_width_swapped", "height_width_swapped/size",
     ["gray_s2_p1", "gray_s2_p0", "exercise"], ["one_window"]),
    ("conv_forward", "pad_all_axes", None, ["gray_s2_p1", "gray_s1_p1"], ["gray_s2_p0"]),
    ("conv_forward", "unpadded_slice", None, ["gray_s2_p1", "exercise"],
     ["gray_s2_p0", "one_window"]),
    ("conv_backward", "stride_missing", None, ["gray_s2_p1", "exercise"], ["gray_s1_p1"]),
    ("conv_backward", "height_width_swapped", None, ["exercise"], []),
    ("conv_backward", "unpadded_slice", None, ["gray_s2_p1"], ["gray_s2_p0", "gray_f2_s2"]),
    ("conv_backward", "assign_not_accumulate", "assign_not_accumulate/dA_prev_pad",
     ["gray_s2_p1", "exercise"], []),
    ("conv_backward", "assign_not_accumulate", "assign_not_accumulate/dW",
     ["gray_s2_p1", "exercise"], []),
    ("conv_backward", "assign_not_accumulate", "assign_not_accumulate/db",
     ["gray_s2_p1", "exercise"], []),
    ("conv_backward", "crop_minus_pad", None, ["gray_s2_p0", "gray_f2_s2"],
     ["gray_s2_p1", "gray_s1_p1", "exercise"]),
    ("conv_backward", "dW_without_slice", "dW_without_slice/W", ["gray_s2_p1", "exercise"], []),
    ("conv_backward", "dW_without_slice", "dW_without_slice/dZ", ["gray_s2_p1"], []),
    ("pool_forward", "stride_missing", None, ["gray_f3_s2_average"],
     ["gray_f3_s1_max", "exercise_max", "exercise_average"]),
    ("pool_forward", "height_width_swapped", None, ["gray_f3_s2_max", "gray_f3_s1_max"],
     ["exercise_max", "exercise_average"]),
    ("pool_forward", "height_width_swapped", "height_width_swapped/size",
     ["gray_f3_s2_max", "gray_f3_s2_average"], ["exercise_max", "exercise_average"]),
    ("create_mask_from_window", "mask_not_max", "mask_not_max/min", ["exercise", "ties"], []),
    ("create_mask_from_window", "mask_not_max", "mask_not_max/positive",
     ["exercise", "ties", "no_ties"], []),
    ("create_mask_from_window", "mask_not_max", "mask_not_max/scalar", ["exercise"], []),
    ("create_mask_from_window", "mask_not_max", "mask_not_max/argmax", ["ties"],
     ["exercise", "no_ties"]),
    ("distribute_value", "distribute_without_dz", "distribute_without_dz/no_dz",
     ["exercise", "dz_3x3"], ["dz1_2x3"]),
    ("distribute_value", "distribute_without_dz", "distribute_without_dz/sum",
     ["dz1_2x3", "dz_3x3"], ["exercise"]),
    ("pool_backward", "stride_missing", None, ["gray_f3_s2_max", "gray_f2_s2_max"],
     ["gray_f3_s1_max", "exercise_max"]),
    ("pool_backward", "height_width_swapped", None, ["gray_f3_s1_max"], []),
    ("pool_backward", "assign_not_accumulate", None, ["gray_f3_s1_max", "exercise_max"],
     ["gray_f2_s2_max", "gray_f2_s2_average"]),
    ("pool_backward", "distribute_without_dz", "distribute_without_dz/no_dz",
     ["gray_f3_s1_average", "exercise_average"], ["gray_f3_s1_max"]),
    ("pool_backward", "distribute_without_dz", "distribute_without_dz/sum",
     ["gray_f3_s1_average"], ["gray_f2_s2_average", "exercise_average"]),
    ("pool_backward", "mask_not_max", "mask_not_max/min", ["gray_f3_s1_max", "exercise_max"],
     ["gray_f3_s1_average"]),
    ("pool_backward", "mask_not_max", "mask_not_max/scalar", ["gray_f3_s1_max"],
     ["gray_f2_s2_average"]),
    ("pool_backward", "mask_not_max", "mask_not_max/positive",
     ["gray_f3_s1_max", "exercise_max"], ["gray_f3_s1_average", "exercise_average"]),
    ("pool_backward", "mask_not_max", "mask_not_max/argmax", ["gray_f3_s1_max"],
     ["exercise_max", "gray_f3_s1_average"]),
]


def test_the_table_covers_every_variant():
    assert {(fn, m, f or variant(fn, m).flavour) for fn, m, f, _, _ in TABLE} == set(
        ALL_VARIANTS)


@pytest.mark.parametrize("function, mistake, flavour, shows, hides", TABLE)
def test_variant_shows_on_its_cases_and_hides_where_it_cannot_show(function, mistake,
                                                                     flavour, shows, hides):
    v = variant(function, mistake, flavour)
    for name in shows:
        right, wrong = right_outcome(function, name), variant_outcome(v, name)
        assert not outputs_agree(right, wrong), f"{v.flavour} hides on {name}"
    for name in hides:
        assert outputs_agree(right_outcome(function, name), variant_outcome(v, name)), (
            f"{v.flavour} shows on {name}")
    assert set(shows) <= set(showing_cases(function, mistake, v.flavour))


@pytest.mark.parametrize("function, mistake, flavour", ALL_VARIANTS)
def test_every_variant_shows_with_an_output_or_only_by_raising(function, mistake, flavour):
    v = variant(function, mistake, flavour)
    case = default_case(function, mistake, flavour)
    outcome = variant_outcome(v, case)
    assert case in showing_cases(function, mistake, flavour)
    if mistake == "crop_minus_pad":  # [0:-0] is empty: the assignment raises at pad 0
        assert outcome.error.startswith("ValueError: could not broadcast")
    else:
        assert outcome.ok


def test_assign_hides_with_one_filter_and_windows_apart():
    # dA_prev_pad: windows apart (f 2, stride 2) and one filter: every cell is written once.
    rng = np.random.default_rng(3)
    A_prev, W = rng.standard_normal((2, 4, 6, 2)), rng.standard_normal((2, 2, 2, 1))
    cache = (A_prev, W, np.zeros((1, 1, 1, 1)), {"stride": 2, "pad": 0})
    dZ = rng.standard_normal((2, 2, 3, 1))
    right = Exercise().conv_backward(dZ, cache)
    wrong = Exercise({"assign_not_accumulate/dA_prev_pad"}).conv_backward(dZ, cache)
    np.testing.assert_allclose(wrong[0], right[0])


def test_height_width_swap_hides_on_a_symmetric_square():
    A = np.arange(16.0).reshape(4, 4)
    A = (A + A.T).reshape(1, 4, 4, 1)
    W = np.array([[1.0, 2.0], [2.0, 5.0]]).reshape(2, 2, 1, 1)
    b = np.zeros((1, 1, 1, 1))
    hp = {"stride": 2, "pad": 1}
    right, _ = Exercise().conv_forward(A, W, b, hp)
    wrong, _ = Exercise({"height_width_swapped"}).conv_forward(A, W, b, hp)
    np.testing.assert_allclose(wrong, right)


@pytest.mark.parametrize("function, mistake, flavour", ALL_VARIANTS)
def test_diagnose_names_exactly_the_variants_mistake(function, mistake, flavour):
    v = variant(function, mistake, flavour)
    outcomes = {c.name: variant_outcome(v, c.name) for c in cases_of(function)}
    d = diagnose(function, outcomes)
    assert d["ok"] is False
    assert d["mistakes"] == [mistake]
    assert flavour in d["variants"]
    assert d["first_difference"]["case"] == default_case(function, mistake, flavour)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_diagnose_says_right_for_the_right_outputs(function):
    outcomes = {c.name: right_outcome(function, c.name) for c in cases_of(function)}
    assert diagnose(function, outcomes) == {
        "ok": True, "mistakes": [], "variants": [], "first_difference": None, "nearest": None,
        "cases": {c.name: {"ok": True, "error": None} for c in cases_of(function)}}


def test_first_difference_of_a_missing_stride_by_hand():
    # gray 5 x 7, pad 1, stride 2, two filters: steps 0, 1 are window (0, 0) for both
    # filters and agree; step 2 is (i, h, w, c) = (0, 0, 1, 0): the right window starts at
    # column 2, the buggy one at column 1.
    d = first_step_difference("conv_forward", "gray_s2_p1", {"stride_missing"})
    assert (d["kind"], d["step"], d["position"], d["output"], d["cell"]) == (
        "value", 2, [0, 0, 1, 0], "Z", [0, 0, 1, 0])
    case = get_case("conv_forward", "gray_s2_p1")
    pad = np.pad(case.inputs["A_prev"][0, :, :, 0], 1)
    w0 = case.inputs["W"][:, :, 0, 0]
    b0 = case.inputs["b"][0, 0, 0, 0]
    assert d["expected"] == pytest.approx(np.sum(pad[0:3, 2:5] * w0) + b0)
    assert d["got"] == pytest.approx(np.sum(pad[0:3, 1:4] * w0) + b0)
    assert d["total_steps"] == 3 * 4 * 2 and d["basis"] == "running"


@pytest.mark.parametrize("function, mistake, flavour",
                         [x for x in ALL_VARIANTS if x[0] in ("conv_backward", "pool_backward")])
def test_running_first_difference_agrees_with_core_totals(function, mistake, flavour):
    case_name = default_case(function, mistake, flavour)
    d = first_step_difference(function, case_name, {flavour})
    assert d is not None and d["case"] == case_name
    case = get_case(function, case_name)
    k = d["step"]
    args = arguments(case)
    if function == "conv_backward":
        totals = dict(zip(("dA_prev_pad", "dW", "db"), conv_backward_totals(*args, k),
                          strict=True))
    else:
        totals = {"dA_prev": pool_backward_totals(*args[:2], k, mode=args[2], tie_rule="all")}
    if d["kind"] == "value" and d["phase"] == "step":
        assert totals[d["output"]][tuple(d["cell"])] == pytest.approx(d["expected"])
        assert d["got"] != pytest.approx(d["expected"])
    else:
        assert d["kind"] in ("error", "shape")


def test_compare_marks_cells_and_reads_the_step_from_the_output():
    right = right_outcome("pool_forward", "gray_f3_s1_max")
    A = np.array(right.arrays["A"])
    A[0, 1, 3, 0] += 1
    A[0, 2, 0, 0] -= 1
    c = compare_outcomes("pool_forward", "gray_f3_s1_max", right, Outcome(arrays={"A": A}))
    assert c["same"] is False and c["outputs"]["A"]["count"] == 2
    assert c["outputs"]["A"]["differs"][0, 1, 3, 0]
    d = c["first_difference"]
    assert (d["step"], d["position"], d["basis"]) == (1 * 5 + 3, [0, 1, 3, 0], "output")
    assert d["got"] == d["expected"] + 1


def test_compare_backward_names_the_first_step_that_writes_a_differing_cell():
    right = right_outcome("pool_backward", "gray_f3_s1_max")
    dA_prev = np.array(right.arrays["dA_prev"])
    dA_prev[0, 2, 4, 0] += 5  # first window over (2, 4) at f 3, stride 1: (h, w) = (0, 2)
    c = compare_outcomes("pool_backward", "gray_f3_s1_max", right,
                         Outcome(arrays={"dA_prev": dA_prev}))
    d = c["first_difference"]
    assert (d["step"], d["position"], d["cell"]) == (2, [0, 0, 2, 0], [0, 2, 4, 0])


def test_compare_shapes_and_errors():
    right = right_outcome("zero_pad", "gray_pad1")
    c = compare_outcomes("zero_pad", "gray_pad1", right,
                         Outcome(arrays={"X_pad": np.zeros((1, 5, 7, 1))}))
    d = c["first_difference"]
    assert (d["kind"], d["expected_shape"], d["got_shape"]) == ("shape", [1, 7, 9, 1],
                                                                [1, 5, 7, 1])
    assert c["outputs"]["X_pad"]["differs"] is None
    c = compare_outcomes("zero_pad", "gray_pad1", right, Outcome(error="NameError: np"))
    assert c["first_difference"]["kind"] == "error"


def test_unknown_names_raise_key_errors_that_list_the_names():
    with pytest.raises(KeyError, match="stride_missing"):
        variant("conv_forward", "no_such")
    with pytest.raises(KeyError, match="conv_single_step"):
        variant("conv_backward", "bias_per_element")
    with pytest.raises(KeyError, match="zero_pad"):
        variant("no_fn", "stride_missing")
    with pytest.raises(KeyError, match="gray_s2_p1"):
        get_case("conv_forward", "nope")


@pytest.mark.parametrize("function, mistake, flavour",
                         [x for x in ALL_VARIANTS if x[0] in ("conv_forward", "pool_forward")])
def test_forward_first_difference_is_the_trace_step(function, mistake, flavour):
    """The step a first difference names is core/trace.py's step k: same (i, h, w, c), and
    the right value is that step record's z (conv) or value (pool)."""
    case_name = default_case(function, mistake, flavour)
    d = first_step_difference(function, case_name, {flavour})
    args = arguments(get_case(function, case_name))
    if d["kind"] == "shape":  # the output's size swapped: it differs before any step
        assert (d["step"], d["position"]) == (0, [0, 0, 0, 0])
        assert d["got_shape"] == [d["expected_shape"][k] for k in (0, 2, 1, 3)]
        return
    if function == "conv_forward":
        step = conv_forward_trace(*args, offset=d["step"], limit=1).steps[0]
        right = step.z
    else:
        step = pool_forward_trace(*args, tie_rule="all", offset=d["step"], limit=1).steps[0]
        right = step.value
    assert [step.i, step.h, step.w, step.c] == d["position"] == d["cell"]
    assert d["expected"] == pytest.approx(right)


ALL_PARTS = [(fn, v.flavour, part.lines) for fn in FUNCTIONS for v in variants_of(fn)
             for part in parts_of(v)]


def test_the_parts_are_the_rows_the_columns_the_sizes_and_the_modes():
    assert {lines for _, _, lines in ALL_PARTS} == {("vs",), ("hs",), ("nH",), ("nW",),
                                                    ("addmax",), ("addavg",)}
    assert ("pool_backward", "assign_not_accumulate/pool", ("addmax",)) in ALL_PARTS


@pytest.mark.parametrize("function, flavour, lines", ALL_PARTS)
def test_a_mistake_in_one_line_only_is_the_nearest_with_its_evidence(function, flavour, lines):
    v = next(x for x in variants_of(function) if x.flavour == flavour)
    part = next(p for p in parts_of(v) if p.lines == lines)
    outcomes = {c.name: edits_outcome(function, c.name, part.edits) for c in cases_of(function)}
    d = diagnose(function, outcomes, pairs=True)
    assert (d["ok"], d["mistakes"]) == (False, [])  # not the whole mistake: no false verdict
    n = d["nearest"]
    assert (n["mistake"], n["lines"]) == (v.mistake, list(lines))
    assert n["evidence"] == f"{part.where}, not {part.not_where}"
    assert n["cases"] and n["not_cases"]  # where it shows, and where the whole one would


def test_a_mistake_in_one_mode_is_matched_per_case():
    # pool_backward: the max cases as stride_missing gives them, the average cases right
    v = variant("pool_backward", "stride_missing")
    outcomes = {c.name: (variant_outcome(v, c.name) if c.inputs["mode"] == "max"
                         else right_outcome("pool_backward", c.name))
                for c in cases_of("pool_backward")}
    n = diagnose("pool_backward", outcomes)["nearest"]
    assert (n["mistake"], n["lines"]) == ("stride_missing", None)
    assert n["evidence"] == ("in max mode (gray_f3_s2_max, gray_f2_s2_max), not in average "
                             "mode (gray_f2_s2_average)")


def test_errors_are_no_evidence_of_a_nearest_mistake():
    # crop_minus_pad raises ValueError at pad 0; a learner raising ValueError everywhere is
    # not near it (nor any other mistake)
    outcomes = {c.name: Outcome(error="ValueError: no") for c in cases_of("conv_backward")}
    assert diagnose("conv_backward", outcomes)["nearest"] is None
