"""Types shared by the API's models: bounded numbers and arrays, the option names, the
encoded arrays (ARR, see app/platform/encoding.py) and errors.

Every number is finite and at most 1e6 in size (so no sum of products can overflow); every
list axis has a hard ceiling here. A bound a server setting lowers is declared on its field
with `server_limit`, and a rule JSON Schema cannot say is a `Rule`: app/platform/openapi.py
writes both into /openapi.json with this server's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.geometry import PAD_MODES, POOL_MODES, TIE_RULES

LIMITS_KEY = "x-convstep-limits"
RULES_KEY = "x-convstep-rules"


def server_limit(**keywords: str) -> dict[str, Any]:
    """json_schema_extra of a field whose JSON Schema `keywords` (maximum, maxItems, ...)
    a server setting lowers, e.g. server_limit(maximum="max_size"): /openapi.json states
    min(the field's ceiling, this server's max_size)."""
    return {LIMITS_KEY: keywords}


@dataclass(frozen=True)
class Rule:
    """A rule the server checks that JSON Schema cannot say: across fields (W's channels
    are A_prev's), across a request and what the server holds (an uploaded set's id), or
    over a total (the numbers of an array). `says` is the rule in words; `settings` name the
    server settings it depends on (/openapi.json gives their values), `fields` the fields
    whose descriptions say it. A refusal by it answers `status` with a code that `code`
    matches whole (the ApiError's code, or the validation error's type; a regular
    expression) and a message in which `match` (a regular expression) is found."""

    name: str
    says: str
    status: int
    code: str
    match: str = ""
    settings: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "says": self.says, "fields": list(self.fields),
                "settings": list(self.settings),
                "refusal": {"status": self.status, "code": self.code, "match": self.match}}


def rules(*given: Rule, **extra: Any) -> dict[str, Any]:
    """A model's (or a parameter's) json_schema_extra stating `given` as x-convstep-rules,
    plus `extra` (e.g. examples). /openapi.json adds each rule's words to the description
    of the fields it names (app/platform/openapi.py)."""
    return {**extra, RULES_KEY: [r.schema() for r in given]}


def rules_text(*given: Rule) -> str:
    """The rules in words, for a description."""
    return " ".join(r.says for r in given)


# Of every JSON body: JSON Schema's integer 2.0 is 2, but the array and network routes read
# JSON strictly (a number is a number: "1" and true are refused, and so is 2.0 for a count)
WHOLE_INTEGERS = Rule("whole_integers", "An integer is written as one: 2, not 2.0 (nor \"2\").",
                      422, "int_type")

# Rules of every route taking arrays (app/platform/bounds.py checks them)
RECTANGULAR = Rule("rectangular", "Every array is rectangular: the lists at one depth all "
                   "have the same length.", 422, "ragged_array")
ELEMENTS = Rule("array_elements", "Every array, the answer's included, holds at most "
                "max_array_elements numbers (the product of its axes).", 413,
                "too_many_elements", settings=("max_array_elements",))
WORK = Rule("work", "A convolution's window reads m*n_H*n_W*f*f*n_C_prev (a pooling's "
            "m*n_H*n_W*n_C*f*f) are at most max_work_elements.", 413, "too_much_work",
            settings=("max_work_elements",))
PAGE_NUMBERS = Rule("page_numbers", "A page of steps carries at most max_page_numbers "
                    "numbers: limit times a step's 3*f*f*n_C_prev (a pooling's 3*f*f).", 422,
                    "over_limit", "max_page_numbers", settings=("max_page_numbers",))
MEMORY = Rule("memory", "What a request holds at its peak (its arrays, their work and its "
              "answer) fits in memory_budget_bytes.", 413, "over_budget",
              settings=("memory_budget_bytes",))


MAX_ABS = 1e6
AXIS_MAX = 4096
STEP_LIMIT_CEILING = 100_000

# The arrays of an Explore answer (ARR each), by the exercise's names
ArrayName = Literal["input", "padded", "W", "b", "Z", "A", "pooled", "pool_mask", "dA",
                    "dA_pool", "dZ", "dA_prev", "dW", "db", "dZ_up"]

Number = Annotated[float, Field(ge=-MAX_ABS, le=MAX_ABS, allow_inf_nan=False)]
Axis = Annotated[int, Field(ge=1, le=AXIS_MAX)]


def _axis(item: Any) -> Any:
    return Annotated[list[item], Field(min_length=1, max_length=AXIS_MAX)]


Array1 = _axis(Number)
Array2 = _axis(Array1)
Array3 = _axis(Array2)
Array4 = _axis(Array3)

# the option names, typed once from core's lists (core checks them with the same lists)
PadMode = Literal[PAD_MODES]  # type: ignore[valid-type]  # constant, reflect, edge
PoolMode = Literal[POOL_MODES]  # type: ignore[valid-type]  # max, average
TieRule = Literal[TIE_RULES]  # type: ignore[valid-type]  # first, all, split
PadValue = Annotated[
    Number | Annotated[list[Number], Field(min_length=2, max_length=2)],
    Field(description="The constant for pad_mode 'constant': one number, or [before, after] "
                      "as in np.pad(..., constant_values=(4, 6)). Ignored by other modes."),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every refusal that is not a field validation error."""

    detail: str
    code: str


class ArrayOut(BaseModel):
    """A whole array, compactly: base64 of little-endian float32 in C (row-major) order."""

    shape: list[int]
    dtype: Literal["float32"]
    data: str = Field(description="base64 of the float32 bytes, little-endian, C order.")
    min: float
    max: float


class DisplayArrayOut(BaseModel):
    """A whole array for drawing: one byte q per value, value ~= offset + q * scale (float64,
    then rounded to float32), within half a step (scale / 2) of the float32 value."""

    shape: list[int]
    dtype: Literal["uint8"]
    encoding: Literal["display"]
    data: str = Field(description="base64 of the uint8 q, C order.")
    min: float = Field(description="Smallest exact value (for scales and legends).")
    max: float = Field(description="Largest exact value.")
    offset: float = Field(description="The value of q = 0.")
    scale: float = Field(description="The step between neighbouring q (0 for a constant "
                         "array). Signed arrays: scale = max|v| / 127, offset = -128 * "
                         "scale, so 0 is q = 128 exactly.")
    exact: bool = Field(description="Every q decodes to exactly the float32 value (the "
                        "working image: q is the 8-bit pixel, scale 1/255; integer masks; "
                        "constants). When false, fetch float32 for numbers shown to people.")


AnyArrayOut = ArrayOut | DisplayArrayOut
