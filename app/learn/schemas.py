"""Models of the Learn routes (mistake mode and the .npy diagnosis): what /docs shows.

Arrays travel as `LearnArray` {shape, values}: `values` are nested lists in the exercise's
shape (Python floats, full float64 precision; booleans for masks; a bare number for a 0-d
output such as conv_single_step's Z). The probe arrays are small (at most a few thousand
numbers), so no binary encoding is needed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.platform.schemas.common import Rule
from core.mistakes import MISTAKE_IDS
from core.probes import FUNCTIONS

FunctionName = Literal[FUNCTIONS]  # type: ignore[valid-type]
MistakeId = Literal[MISTAKE_IDS]  # type: ignore[valid-type]

# Which cases, outputs, mistakes and flavours a function has depends on the path's function:
# rules across parameters (GET /api/learn/mistakes lists them all)
MISTAKE_IN_FUNCTION = Rule("mistake_in_function", "The mistake changes the path's function "
                           "(GET /api/learn/mistakes lists the functions of each).", 422,
                           "mistake_not_in_function")
FLAVOUR_OF = Rule("flavour_of", "flavour is one of the mistake's flavours in this function.",
                  422, "unknown_flavour")
CASE_OF = Rule("case_of", "case is one of the path's function's probe cases (GET "
               "/api/learn/{function}/cases lists them).", 422, "unknown_case")
OUTPUT_OF = Rule("output_of", "output is one of the path's function's outputs.", 422,
                 "unknown_output")


class LearnArray(BaseModel):
    """An array: its shape and its values as nested lists (a number when shape is [])."""

    shape: list[int] = Field(description="The array's shape, e.g. [1, 3, 4, 2] for Z.")
    values: Any = Field(description="Nested lists in that shape (numbers, or true/false for "
                                    "masks); a bare number for a 0-d array.")


class MarkOut(BaseModel):
    """Where the page's listing of the function shows a variant's mistake."""

    lines: list[str] = Field(description="Ids of the listing's right lines to mark (the page's "
                                         "code lines carry the same ids).")
    buggy: list[str] = Field(description="The buggy lines to show beneath them, indented as "
                                         "in the listing; empty when the mistake leaves the "
                                         "line out.")
    via: FunctionName | None = Field(description="The helper the buggy lines are in, when the "
                                                 "marked line only calls it.")


class VariantOut(BaseModel):
    """One mistake in one function: the flavour key, what goes wrong, the buggy line against
    the right one, the helper it lives in (`via`), and the probe cases that show it."""

    function: FunctionName
    flavour: str = Field(description="The variant's key, e.g. 'assign_not_accumulate/dW'.")
    what_goes_wrong: str
    buggy_line: str = Field(description="The exercise's code as the mistake writes it "
                                        "(lines separated by \\n).")
    right_line: str = Field(description="The exercise's right code for the same line(s).")
    via: FunctionName | None = Field(
        description="The helper whose code holds the bug when `function` only calls it "
                    "(conv_forward gets bias_per_element through conv_single_step).")
    marks: list[MarkOut] = Field(description="Where the function's listing shows it: the "
                                             "right lines and the buggy lines beneath them.")
    default_case: str = Field(description="The probe case the page opens for it: the first "
                                          "that shows it with an output.")
    showing_cases: list[str] = Field(description="Every probe case where its output differs "
                                                 "from the right one (or it raises).")


class MistakeOut(BaseModel):
    """A classic mistake of the exercise."""

    id: MistakeId
    title: str
    what_goes_wrong: str
    buggy_line: str
    right_line: str
    functions: list[FunctionName] = Field(description="The seed functions whose output it "
                                                      "changes, in the exercise's order.")
    variants: list[VariantOut]


class CaseOut(BaseModel):
    """A probe case: name, title, inputs by the exercise's argument names, right outputs."""

    function: FunctionName
    name: str
    title: str
    inputs: dict[str, Any] = Field(description="The function's arguments by the exercise's "
                                               "names: arrays as LearnArray, hparameters as "
                                               "a dict, mode as text, pad/dz as numbers, "
                                               "shape as a list. conv_backward's and "
                                               "pool_backward's cache is given by its parts.")
    outputs: dict[str, LearnArray] = Field(description="The right outputs by name (Z; "
                                                       "dA_prev, dW, db; A; ...).")
    loop_shape: list[int] | None = Field(description="(m, n_H, n_W, n_C) of the loops: step "
                                                     "k is np.unravel_index(k, loop_shape). "
                                                     "None for functions without loops.")
    total_steps: int | None
    shows: list[MistakeId] = Field(description="The mistakes that change this case's output.")


class MistakeListOut(BaseModel):
    """Every mistake, and the functions in the exercise's order with their probe cases."""

    functions: list[FunctionName]
    outputs: dict[str, list[str]] = Field(description="Each function's outputs by name.")
    cases: dict[str, list[str]] = Field(description="Each function's probe case names, in "
                                                    "the order the checker runs them.")
    mistakes: list[MistakeOut]


class CasesOut(BaseModel):
    function: FunctionName
    cases: list[CaseOut]


class FirstDifference(BaseModel):
    """Where a wrong outcome first parts from the right one (every key always present)."""

    kind: Literal["value", "shape", "error", "timeout"] = Field(
        description="value: a number differs; shape: an array has another shape; error: "
                    "the code raises; timeout: it did not return (checker only).")
    case: str
    basis: Literal["running", "output"] | None = Field(
        description="running: the right and the buggy loops run side by side and compared "
                    "after every step (their accumulators: Z; dA_prev_pad, dW, db; A; "
                    "dA_prev); output: read from the final outputs only (an upload): for "
                    "conv_forward/pool_forward the first differing cell's step, for the "
                    "backward functions the first step that writes a differing cell.")
    output: str | None = Field(description="The output or accumulator that differs.")
    step: int | None = Field(description="0-based step index in loop order i, h, w, c "
                                         "(core/trace.py's); None without loops.")
    position: list[int] | None = Field(description="(i, h, w, c) of that step.")
    phase: Literal["step", "crop", "return"] | None = Field(
        description="crop: conv_backward's crop after image i's loop (at its last step).")
    cell: list[int] | None = Field(description="Index of the first differing cell of "
                                               "`output` (C order).")
    expected: float | None
    got: float | None
    expected_shape: list[int] | None
    got_shape: list[int] | None
    error: str | None = Field(description="'ValueError: ...' when the code raises.")
    total_steps: int | None


class OutcomeOut(BaseModel):
    """A function's outputs on a case, or the error it raised."""

    outputs: dict[str, LearnArray] | None
    error: str | None


class MistakeRunOut(BaseModel):
    """A mistake run on a probe case beside the right code (GET /api/learn/{fn}/mistakes/
    {mistake})."""

    function: FunctionName
    mistake: MistakeId
    title: str
    variant: VariantOut
    case: CaseOut
    right: OutcomeOut
    buggy: OutcomeOut
    differs: dict[str, LearnArray | None] = Field(
        description="Per output: true where buggy and right differ (np.isclose); null when "
                    "the shapes differ or the buggy code raised.")
    first_difference: FirstDifference | None = Field(
        description="From the loops run side by side; null when this case does not show it.")
    buggy_steps: dict | None = Field(
        default=None,
        description="The buggy code's own steps on this case, traced as the checker traces a "
                    "learner's loop (cli/tracer.py's page_trace: per step its position "
                    "[i, h, w, c], window [[row_start, row_end], [col_start, col_end]] on the "
                    "padded input and value), for the image of the first difference; null "
                    "for a function without loops.")


class DiagnosisOut(BaseModel):
    """An uploaded output diagnosed like the checker does."""

    function: FunctionName
    case: str
    output: str
    ok: bool = Field(description="The upload equals the right output.")
    mistakes: list[MistakeId] = Field(description="Mistakes whose output on this case is "
                                                  "the upload's (empty if none or ok).")
    variants: list[str] = Field(description="The matching variants' flavour keys.")
    expected_shape: list[int]
    got_shape: list[int]
    expected: LearnArray = Field(description="The right output on the case (core's).")
    got: LearnArray = Field(description="The upload as the server read it (as float64; "
                                        "booleans stay booleans).")
    differs: LearnArray | None = Field(description="true where the upload differs from the "
                                                   "right output; null for another shape.")
    count: int | None = Field(description="How many cells differ.")
    first_difference: FirstDifference | None
    link: str = Field(description="The page in mistake mode at that step: /learn?fn=..&"
                                  "mistake=..&flavour=..&step=..&case=.. (mistake and "
                                  "flavour left out if none matched).")
