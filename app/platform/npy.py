"""The .npy headers the server reads (a learner's output for Learn's diagnosis, the members
of a weights .npz): which declared shapes NumPy can build, decided from the header alone,
before any of the data is read.

NumPy builds an array of shape s and dtype d when every dimension is an int (a bool is not
one here) of 0 or more and the product of the non-zero dimensions times d.itemsize fits in
an intp (2**63 - 1 bytes on 64-bit): (0, 2**62) of float64 is refused ("array is too big")
although it holds no value, (-1, -72) is refused although its product is 72.
"""

from __future__ import annotations

import math

import numpy as np

MAX_BYTES = int(np.iinfo(np.intp).max)


def shape_problem(shape: tuple, dtype: np.dtype) -> str | None:
    """Why NumPy cannot build an array of `shape` and `dtype` (None when it can), in words
    that name the shape: `shape_problem((0, 2**62), np.dtype("<f8"))` -> "... is larger than
    ...". """
    if not all(type(d) is int and d >= 0 for d in shape):
        return (f"shape {tuple(shape)} is not an array's shape: its dimensions must be "
                "integers, 0 or more")
    if math.prod(d for d in shape if d) * max(dtype.itemsize, 1) > MAX_BYTES:
        return (f"shape {tuple(shape)} of {dtype} is larger than any array NumPy can "
                f"build ({MAX_BYTES} bytes, even with a dimension of 0)")
    return None
