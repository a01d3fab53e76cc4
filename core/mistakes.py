"""The exercise's classic mistakes: the variants, their outcomes on the probe cases, and the
comparison that finds where a wrong output first goes wrong. The public face of core/learn/.

    from core.mistakes import MISTAKES, variant, compare_outcomes
    m = MISTAKES["stride_missing"]            # id, title, what goes wrong, buggy vs right line
    v = variant("conv_forward", "stride_missing")
    Z, cache = v(A_prev, W, b, {"stride": 2, "pad": 1})   # vert_start = h, not h * stride

Each job lives in its own module of core/learn/ (read their docstrings): the exercise's code
written once with line ids (source.py, listing.py), run with bugs switched on (exercise.py),
the mistakes as edits of named lines (variants.py) and in words (descriptions.py), outcomes
and their comparison (outcomes.py), the first difference (differences.py) and the diagnosis
(matching.py). This module only gathers their public names, so that the app, the checker
and the tests import them from one place.
"""

from __future__ import annotations

from .learn.differences import (
    ACCUMULATORS,
    _difference,
    compare_outcomes,
    first_step_difference,
    loop_shape,
)
from .learn.exercise import LOOPED, Exercise
from .learn.matching import default_case, diagnose, showing_cases
from .learn.outcomes import (
    Outcome,
    close,
    error_text,
    exercise_outcome,
    outcome_of,
    outputs_agree,
    right_outcome,
    right_result,
    variant_outcome,
)
from .learn.variants import (
    FLAVOUR_EDITS,
    MISTAKE_IDS,
    MISTAKES,
    Mistake,
    Variant,
    mistakes_of,
    variant,
    variants_of,
)

__all__ = [
    "ACCUMULATORS",
    "FLAVOUR_EDITS",
    "LOOPED",
    "MISTAKES",
    "MISTAKE_IDS",
    "Exercise",
    "Mistake",
    "Outcome",
    "Variant",
    "_difference",
    "close",
    "compare_outcomes",
    "default_case",
    "diagnose",
    "error_text",
    "exercise_outcome",
    "first_step_difference",
    "loop_shape",
    "mistakes_of",
    "outcome_of",
    "outputs_agree",
    "right_outcome",
    "right_result",
    "showing_cases",
    "variant",
    "variant_outcome",
    "variants_of",
]
