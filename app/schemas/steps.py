"""Step records as the API sends them: core's StepPage.to_dict()."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class StepPageOut(BaseModel):
    """core's StepPage.to_dict(): `total` steps in all, `steps` from `offset` on."""

    kind: str
    total: int
    offset: int
    steps: list[dict[str, Any]]
