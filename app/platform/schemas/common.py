"""Types shared by the API's models: bounded numbers and arrays, the option names, the
encoded arrays (ARR, see app/platform/encoding.py) and errors.

Every number is finite and at most 1e6 in size (so no sum of products can overflow); every
list axis has a hard ceiling here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.geometry import PAD_MODES, POOL_MODES, TIE_RULES

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
