"""Models of the filter routes: the conv weight tensors of a weight file (or of the network's
weights), each read in a layout and given as Explore's filters (POST /api/filters, GET
/api/network/filters)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.platform.schemas.common import Strict

Grid2 = list[list[float]]
Grid3 = list[list[list[float]]]


class ExploreFilterOut(Strict):
    """One filter as Explore's settings take it (an ImageSettings filter): weights (f, f)
    when the tensor has one input channel, (f, f, C) otherwise, and the bias; float64."""

    weights: Grid2 | Grid3
    bias: float


class ConvTensorOut(BaseModel):
    """One conv weight tensor of the file, read in one layout."""

    key: str = Field(description="Unique in the answer: the tensor's name, or "
                     "'<name>@<layout>' for each reading of an ambiguous tensor.")
    name: str = Field(description="The tensor's name in the file.")
    layout: Literal["exercise", "pytorch"] = Field(
        description="How the shape was read: the exercise's (f, f, n_C_prev, n_C) or "
                    "PyTorch's (n_C, n_C_prev, kH, kW).")
    ambiguous: bool = Field(description="Both layouts fit the shape and neither the name "
                            "nor a bias decides: the answer holds both readings.")
    why_layout: str = Field(description="Why this layout, in words.")
    dtype: str = Field(description="The tensor's dtype in the file (read as float64).")
    file_shape: list[int]
    exercise_shape: list[int] = Field(description="(f, f, n_C_prev, n_C).")
    f: int
    n_C_prev: int
    n_C: int
    bias: str | None = Field(description="The name of the bias tensor used, or null (zero "
                             "biases).")
    bias_shape: list[int] | None
    color: Literal["gray", "rgb"] | None = Field(
        description="Explore's colour mode for n_C_prev (1: gray, 3: rgb), null for others.")
    fits: bool = Field(description="Explore can use these filters as they are.")
    reasons: list[str] = Field(description="Why not, in words with the numbers (empty when "
                               "it fits).")
    filters: list[ExploreFilterOut] | None = Field(
        description="Explore's filters, exact float64 values of the file; null when the "
                    "tensor does not fit.")


class OtherTensorOut(BaseModel):
    """A tensor of the file that is neither a conv weight tensor nor one of their biases."""

    name: str
    shape: list[int]
    dtype: str
    note: str = Field(description="Why it is not used.")


class FiltersOut(BaseModel):
    """The conv weight tensors of a file (or of a network layer), in the file's order."""

    source: str = Field(description="The uploaded file's name, or 'network weights <id>'.")
    format: Literal["safetensors", "npz", "network"]
    max_filters: int = Field(description="Explore's limit on the number of filters.")
    f_range: list[int] = Field(description="[min, max] of Explore's filter size f.")
    tensors: list[ConvTensorOut]
    others: list[OtherTensorOut]
