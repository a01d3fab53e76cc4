"""Models of the page routes' JSON answers: health and the built-in samples."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """GET /healthz: the server is up."""

    status: Literal["ok"]


class SampleOut(BaseModel):
    """A built-in sample image, for the picker."""

    name: str = Field(description="What settings.sample names; GET /api/samples/{name} "
                      "serves its file.")
    title: str
    width: int = Field(description="The file's width in pixels.")
    height: int = Field(description="The file's height in pixels.")
    mode: str = Field(description="Pillow's mode of the file: L (gray) or RGB.")
    licence: str
    credit: str
