"""Types shared by the API's models: bounded numbers and arrays, the option names, errors.

Every number is finite and at most 1e6 in size (so no sum of products can overflow); every
list axis has a hard ceiling here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ABS = 1e6
AXIS_MAX = 4096
STEP_LIMIT_CEILING = 100_000

Number = Annotated[float, Field(ge=-MAX_ABS, le=MAX_ABS, allow_inf_nan=False)]
Axis = Annotated[int, Field(ge=1, le=AXIS_MAX)]


def _axis(item: Any) -> Any:
    return Annotated[list[item], Field(min_length=1, max_length=AXIS_MAX)]


Array1 = _axis(Number)
Array2 = _axis(Array1)
Array3 = _axis(Array2)
Array4 = _axis(Array3)

PadMode = Literal["constant", "reflect", "edge"]
PoolMode = Literal["max", "average"]
TieRule = Literal["first", "all", "split"]
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
