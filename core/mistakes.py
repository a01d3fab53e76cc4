"""The exercise's classic mistakes, each a loop-twin variant that computes what the buggy code
computes, and the comparison that finds where a wrong output first goes wrong.

    from core.mistakes import MISTAKES, variant, compare_outcomes
    m = MISTAKES["stride_missing"]            # id, title, what goes wrong, buggy vs right line
    v = variant("conv_forward", "stride_missing")
    Z, cache = v(A_prev, W, b, {"stride": 2, "pad": 1})   # vert_start = h, not h * stride

How the variants are written: `Exercise` holds the eight functions as the exercise writes
them (plain NumPy, the exercise's names and loops, no validation, so a bug does what it does
in a learner's notebook: a slice past the edge comes back shorter and NumPy broadcasts it, a
`[pad:-pad]` crop at pad 0 raises). A set of flavour keys switches bugs on; a function calls
its helpers through the same object, so conv_forward with `bias_per_element` calls the buggy
conv_single_step, and pool_backward with `mask_not_max` the buggy create_mask_from_window.
Without bugs, Exercise equals core (the tests check it on every probe case).

Mistake ids (the API, the page and the checker use them): stride_missing, bias_per_element,
height_width_swapped, pad_all_axes, unpadded_slice, assign_not_accumulate,
distribute_without_dz, crop_minus_pad, mask_not_max, dW_without_slice. A mistake has one or
more variants: (function, flavour) pairs, e.g. assign_not_accumulate in conv_backward's
dA_prev_pad, dW or db line, or in pool_backward; the first variant of a function is the one
the page shows.

Steps: the looped functions (conv_forward, conv_backward, pool_forward, pool_backward) are
generators underneath that yield their running accumulators after every step of the loops
i, h, w, c (core/trace.py's order: step k is np.unravel_index(k, (m, n_H, n_W, n_C))) and
after each image's crop in conv_backward. Running the right code and a variant side by side
gives the first step after which the accumulators differ (`first_step_difference`).

Comparison rules (the exercise's): outputs are equal when np.isclose holds cell by cell
(rtol 1e-5, atol 1e-6 times the largest magnitude: float32 rounding passes, every mistake
is far outside); masks compare as 0/1; ties in max
pooling follow the exercise's `x == np.max(x)` (core's tie rule "all").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial

import numpy as np

from . import conv, padding, pool
from .probes import FUNCTIONS, OUTPUTS, ProbeCase, arguments, cases_of, get_case

LOOPED = ("conv_forward", "conv_backward", "pool_forward", "pool_backward")


class Exercise:
    """The eight functions as the exercise writes them, with the bugs in `bugs` switched on.

    bugs: flavour keys such as "stride_missing" or "assign_not_accumulate/dW" (see
    VARIANTS). Each function returns what the exercise's returns; the looped ones also come
    as generators (`*_steps`) that yield ("step", accumulators) after every loop step and
    ("crop", (dA_prev,)) after each image's crop in conv_backward.
    """

    def __init__(self, bugs=()):
        self.bugs = frozenset(bugs)

    def _on(self, key: str) -> bool:
        return key in self.bugs

    def _corners(self, h: int, w: int, stride: int, f: int) -> tuple[int, int, int, int]:
        """vert_start, vert_end, horiz_start, horiz_end of output cell (h, w)."""
        if self._on("stride_missing"):
            vert_start, horiz_start = h, w
        elif self._on("height_width_swapped"):
            vert_start, horiz_start = w * stride, h * stride
        else:
            vert_start, horiz_start = h * stride, w * stride
        return vert_start, vert_start + f, horiz_start, horiz_start + f

    def zero_pad(self, X, pad):
        if self._on("pad_all_axes"):
            return np.pad(X, ((pad, pad), (pad, pad), (pad, pad), (pad, pad)), "constant",
                          constant_values=(0, 0))
        return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant",
                      constant_values=(0, 0))

    def conv_single_step(self, a_slice_prev, W, b):
        if self._on("bias_per_element"):
            s = np.multiply(a_slice_prev, W) + b  # b added to each of the f*f*n_C_prev products
            Z = np.sum(s)
        else:
            s = np.multiply(a_slice_prev, W)
            Z = np.sum(s) + b.item()
        return Z

    def conv_forward_steps(self, A_prev, W, b, hparameters):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        (f, f, n_C_prev, n_C) = W.shape  # noqa: RUF059 (the exercise's unpacking)
        stride = hparameters["stride"]
        pad = hparameters["pad"]
        n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
        n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
        Z = np.zeros((m, n_H, n_W, n_C))
        A_prev_pad = self.zero_pad(A_prev, pad)
        for i in range(m):
            a_prev_pad = A_prev[i] if self._on("unpadded_slice") else A_prev_pad[i]
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, vert_end, horiz_start, horiz_end = self._corners(
                            h, w, stride, f)
                        a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                        Z[i, h, w, c] = self.conv_single_step(a_slice_prev, W[:, :, :, c],
                                                              b[:, :, :, c])
                        yield "step", (Z,)
        cache = (A_prev, W, b, hparameters)
        return Z, cache

    def conv_backward_steps(self, dZ, cache):
        (A_prev, W, b, hparameters) = cache  # noqa: RUF059 (the exercise's unpacking)
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        (f, f, n_C_prev, n_C) = W.shape
        stride = hparameters["stride"]
        pad = hparameters["pad"]
        (m, n_H, n_W, n_C) = dZ.shape
        dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
        dW = np.zeros((f, f, n_C_prev, n_C))
        db = np.zeros((1, 1, 1, n_C))
        A_prev_pad = self.zero_pad(A_prev, pad)
        dA_prev_pad = self.zero_pad(dA_prev, pad)
        for i in range(m):
            a_prev_pad = A_prev[i] if self._on("unpadded_slice") else A_prev_pad[i]
            da_prev_pad = dA_prev_pad[i]
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, vert_end, horiz_start, horiz_end = self._corners(
                            h, w, stride, f)
                        window = (slice(vert_start, vert_end), slice(horiz_start, horiz_end))
                        a_slice = a_prev_pad[window]
                        if self._on("assign_not_accumulate/dA_prev_pad"):
                            da_prev_pad[window] = W[:, :, :, c] * dZ[i, h, w, c]
                        else:
                            da_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
                        if self._on("dW_without_slice/W"):
                            dw_add = W[:, :, :, c] * dZ[i, h, w, c]
                        elif self._on("dW_without_slice/dZ"):
                            dw_add = dZ[i, h, w, c]
                        else:
                            dw_add = a_slice * dZ[i, h, w, c]
                        if self._on("assign_not_accumulate/dW"):
                            dW[:, :, :, c] = dw_add
                        else:
                            dW[:, :, :, c] += dw_add
                        if self._on("assign_not_accumulate/db"):
                            db[:, :, :, c] = dZ[i, h, w, c]
                        else:
                            db[:, :, :, c] += dZ[i, h, w, c]
                        yield "step", (dA_prev_pad, dW, db)
            if self._on("crop_minus_pad"):
                dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
            else:
                dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]
            yield "crop", (dA_prev,)
        return dA_prev, dW, db

    def pool_forward_steps(self, A_prev, hparameters, mode="max"):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        f = hparameters["f"]
        stride = hparameters["stride"]
        n_H = int(1 + (n_H_prev - f) / stride)
        n_W = int(1 + (n_W_prev - f) / stride)
        n_C = n_C_prev
        A = np.zeros((m, n_H, n_W, n_C))
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, vert_end, horiz_start, horiz_end = self._corners(
                            h, w, stride, f)
                        a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                        if mode == "max":
                            A[i, h, w, c] = np.max(a_prev_slice)
                        elif mode == "average":
                            A[i, h, w, c] = np.mean(a_prev_slice)
                        yield "step", (A,)
        cache = (A_prev, hparameters)
        return A, cache

    def create_mask_from_window(self, x):
        if self._on("mask_not_max/min"):
            mask = x == np.min(x)
        elif self._on("mask_not_max/scalar"):
            mask = np.max(x)
        elif self._on("mask_not_max/argmax"):
            mask = np.zeros(x.shape, dtype=bool)
            mask[np.unravel_index(np.argmax(x), x.shape)] = True
        else:
            mask = x == np.max(x)
        return mask

    def distribute_value(self, dz, shape):
        (n_H, n_W) = shape
        if self._on("distribute_without_dz/no_dz"):
            average = 1 / (n_H * n_W)
        elif self._on("distribute_without_dz/sum"):
            average = dz / (n_H + n_W)
        else:
            average = dz / (n_H * n_W)
        a = np.ones(shape) * average
        return a

    def pool_backward_steps(self, dA, cache, mode="max"):
        (A_prev, hparameters) = cache
        stride = hparameters["stride"]
        f = hparameters["f"]
        m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape  # noqa: RUF059 (the exercise's)
        m, n_H, n_W, n_C = dA.shape
        dA_prev = np.zeros(A_prev.shape)
        for i in range(m):
            a_prev = A_prev[i]
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, vert_end, horiz_start, horiz_end = self._corners(
                            h, w, stride, f)
                        if mode == "max":
                            a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                            mask = self.create_mask_from_window(a_prev_slice)
                            routed = np.multiply(mask, dA[i, h, w, c])
                        else:  # "average"
                            da = dA[i, h, w, c]
                            shape = (f, f)
                            routed = self.distribute_value(da, shape)
                        window = (i, slice(vert_start, vert_end), slice(horiz_start, horiz_end), c)
                        if self._on("assign_not_accumulate/pool"):
                            dA_prev[window] = routed
                        else:
                            dA_prev[window] += routed
                        yield "step", (dA_prev,)
        return dA_prev

    def conv_forward(self, A_prev, W, b, hparameters):
        return _drain(self.conv_forward_steps(A_prev, W, b, hparameters))

    def conv_backward(self, dZ, cache):
        return _drain(self.conv_backward_steps(dZ, cache))

    def pool_forward(self, A_prev, hparameters, mode="max"):
        return _drain(self.pool_forward_steps(A_prev, hparameters, mode))

    def pool_backward(self, dA, cache, mode="max"):
        return _drain(self.pool_backward_steps(dA, cache, mode))

    def function(self, name: str) -> Callable:
        """The named seed function of this exercise (bound, ready to call)."""
        if name not in FUNCTIONS:
            raise KeyError(f"unknown function {name!r}; the exercise's functions are "
                           f"{', '.join(FUNCTIONS)}")
        return getattr(self, name)


def _drain(steps: Iterator):
    """Run a *_steps generator to its end and return its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


# ---------------------------------------------------------------------------------------------
# The mistakes: what goes wrong, the buggy line against the right one, and where it lives.

@dataclass(frozen=True)
class Variant:
    """One mistake in one seed function: the flavour key switched on in Exercise.

    `via` names the helper the buggy line lives in when `function` only calls it (conv_forward
    gets bias_per_element through conv_single_step). Call it like the seed function.
    """

    mistake: str
    function: str
    flavour: str
    what_goes_wrong: str
    buggy_line: str
    right_line: str
    via: str | None = None

    @property
    def key(self) -> str:
        return self.flavour

    def __call__(self, *args):
        return Exercise({self.flavour}).function(self.function)(*args)

    def to_dict(self) -> dict:
        return {"mistake": self.mistake, "function": self.function, "flavour": self.flavour,
                "what_goes_wrong": self.what_goes_wrong, "buggy_line": self.buggy_line,
                "right_line": self.right_line, "via": self.via}


@dataclass(frozen=True)
class Mistake:
    """A classic mistake of the exercise: its id, title, one line on what goes wrong, its
    typical buggy line against the right one, and its variants (one or more per function)."""

    id: str
    title: str
    what_goes_wrong: str
    buggy_line: str
    right_line: str
    variants: tuple[Variant, ...] = field(default=())

    @property
    def functions(self) -> tuple[str, ...]:
        """The seed functions whose output it changes, in the exercise's order."""
        names = {v.function for v in self.variants}
        return tuple(f for f in FUNCTIONS if f in names)

    def variants_of(self, function: str) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.function == function)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "what_goes_wrong": self.what_goes_wrong,
                "buggy_line": self.buggy_line, "right_line": self.right_line,
                "functions": list(self.functions),
                "variants": [v.to_dict() for v in self.variants]}


_STRIDE_RIGHT = "vert_start = h * stride\nhoriz_start = w * stride"
_CROP_RIGHT = "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]"
_MASK_RIGHT = "mask = x == np.max(x)"
_AVERAGE_RIGHT = "average = dz / (n_H * n_W)"
_SINGLE_RIGHT = "s = np.multiply(a_slice_prev, W)\nZ = np.sum(s) + b.item()"
_PAD_RIGHT = "X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), 'constant')"


def _mistakes() -> dict[str, Mistake]:
    table: list[Mistake] = []

    def mistake(id, title, what, buggy, right, variants):
        table.append(Mistake(id, title, what, buggy, right, tuple(
            Variant(id, *v) if len(v) == 5 else Variant(id, *v[:5], via=v[5])
            for v in variants)))

    stride_what = ("The window moves one cell per output instead of `stride` cells, so with "
                   "stride 2 every output after the first reads the wrong window (no "
                   "difference at stride 1).")
    mistake("stride_missing", "Window corners without the stride", stride_what,
            "vert_start = h\nhoriz_start = w", _STRIDE_RIGHT,
            [(fn, "stride_missing", stride_what, "vert_start = h\nhoriz_start = w",
              _STRIDE_RIGHT) for fn in LOOPED])

    bias_what = ("b is added to each of the f*f*n_C_prev products before the sum, so the "
                 "output carries f*f*n_C_prev*b instead of b (no difference when b = 0).")
    bias_buggy = "s = np.multiply(a_slice_prev, W) + b\nZ = np.sum(s)"
    mistake("bias_per_element", "Bias added to every product (the seed blog's own "
            "conv_single_step)", bias_what, bias_buggy, _SINGLE_RIGHT,
            [("conv_single_step", "bias_per_element", bias_what, bias_buggy, _SINGLE_RIGHT),
             ("conv_forward", "bias_per_element", bias_what, bias_buggy, _SINGLE_RIGHT,
              "conv_single_step")])

    swap_what = ("Rows are found from the column index and columns from the row index: "
                 "output (h, w) reads the window of (w, h), and on a non-square input "
                 "windows run past the edge (NumPy cuts them short).")
    swap_buggy = "vert_start = w * stride\nhoriz_start = h * stride"
    mistake("height_width_swapped", "Height and width swapped", swap_what, swap_buggy,
            _STRIDE_RIGHT,
            [(fn, "height_width_swapped", swap_what, swap_buggy, _STRIDE_RIGHT)
             for fn in LOOPED])

    pad_what = ("np.pad pads the batch and channel axes too: X_pad is (m + 2*pad, n_H + 2*pad, "
                "n_W + 2*pad, n_C + 2*pad) and image i of the padded batch is image i - pad "
                "(the first is all zeros); no difference at pad 0.")
    pad_buggy = ("X_pad = np.pad(X, ((pad, pad), (pad, pad), (pad, pad), (pad, pad)), "
                 "'constant')")
    mistake("pad_all_axes", "Padding the batch and channel axes", pad_what, pad_buggy,
            _PAD_RIGHT,
            [("zero_pad", "pad_all_axes", pad_what, pad_buggy, _PAD_RIGHT),
             ("conv_forward", "pad_all_axes", pad_what, pad_buggy, _PAD_RIGHT, "zero_pad")])

    slice_what = ("Windows are cut from the unpadded A_prev: each is shifted by pad cells, "
                  "and those past the edge come back short (NumPy broadcasts them or "
                  "raises); no difference at pad 0.")
    slice_buggy, slice_right = "a_prev_pad = A_prev[i]", "a_prev_pad = A_prev_pad[i]"
    mistake("unpadded_slice", "Slicing A_prev instead of A_prev_pad", slice_what, slice_buggy,
            slice_right,
            [(fn, "unpadded_slice", slice_what, slice_buggy, slice_right)
             for fn in ("conv_forward", "conv_backward")])

    da_line = ("da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] {} "
               "W[:, :, :, c] * dZ[i, h, w, c]")
    dw_line = "dW[:, :, :, c] {} a_slice * dZ[i, h, w, c]"
    db_line = "db[:, :, :, c] {} dZ[i, h, w, c]"
    pool_line = ("dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] {} "
                 "np.multiply(mask, dA[i, h, w, c])")
    assign_what = ("A gradient is written with = instead of added with +=, so each step "
                   "overwrites what earlier steps put there: only the last window (or filter) "
                   "that touches a cell counts.")
    mistake("assign_not_accumulate", "= instead of +=", assign_what, da_line.format("="),
            da_line.format("+="),
            [("conv_backward", "assign_not_accumulate/dA_prev_pad",
              "Where windows overlap, or several filters share a window, dA_prev keeps only "
              "the last term instead of the sum.", da_line.format("="), da_line.format("+=")),
             ("conv_backward", "assign_not_accumulate/dW",
              "dW[..., c] keeps only the last window's a_slice * dZ instead of the sum over "
              "every window.", dw_line.format("="), dw_line.format("+=")),
             ("conv_backward", "assign_not_accumulate/db",
              "db[c] keeps only the last dZ instead of the sum of dZ over every position.",
              db_line.format("="), db_line.format("+=")),
             ("pool_backward", "assign_not_accumulate/pool",
              "Where pool windows overlap (stride < f) a cell keeps only the last window's "
              "gradient instead of the sum.", pool_line.format("="), pool_line.format("+="))])

    avg_what = ("Average pooling's gradient is not dz shared over the n_H*n_W cells of the "
                "window: dz is left out, or divided by another count.")
    no_dz = ("distribute_value", "distribute_without_dz/no_dz",
             "Every cell gets 1 / (n_H * n_W) whatever dz is (no difference when dz = 1).",
             "average = 1 / (n_H * n_W)", _AVERAGE_RIGHT)
    by_sum = ("distribute_value", "distribute_without_dz/sum",
              "dz is divided by n_H + n_W instead of n_H * n_W (no difference for a 2 x 2 "
              "window, where both are 4).", "average = dz / (n_H + n_W)", _AVERAGE_RIGHT)
    mistake("distribute_without_dz", "Average gradient without dz or with the wrong count",
            avg_what, "average = 1 / (n_H * n_W)", _AVERAGE_RIGHT,
            [no_dz, by_sum, ("pool_backward", *no_dz[1:], "distribute_value"),
             ("pool_backward", *by_sum[1:], "distribute_value")])

    crop_what = ("The crop [pad:-pad] is right for pad > 0, but at pad 0 it is [0:-0], "
                 "which is empty, so the assignment into dA_prev raises.")
    crop_buggy = "dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]"
    mistake("crop_minus_pad", "The [pad:-pad] crop", crop_what, crop_buggy, _CROP_RIGHT,
            [("conv_backward", "crop_minus_pad", crop_what, crop_buggy, _CROP_RIGHT)])

    masks = [
        ("mask_not_max/min", "The mask marks the minimum: the gradient goes to the wrong cell.",
         "mask = x == np.min(x)"),
        ("mask_not_max/scalar", "The 'mask' is the maximum itself, one number: times dA it "
         "sends max(x) * dA to every cell of the window.", "mask = np.max(x)"),
        ("mask_not_max/argmax", "Only the first maximum is marked; where the maximum is "
         "tied the exercise's x == np.max(x) marks every tied cell (no difference without "
         "ties).", "mask = np.zeros(x.shape, dtype=bool)\n"
         "mask[np.unravel_index(np.argmax(x), x.shape)] = True"),
    ]
    mistake("mask_not_max", "A mask that is not x == max(x)",
            "The max-pool mask marks the wrong cell, or every cell, instead of the maximum "
            "(every tied maximum, as the exercise's x == np.max(x) does).",
            "mask = x == np.min(x)", _MASK_RIGHT,
            [("create_mask_from_window", key, what, line, _MASK_RIGHT)
             for key, what, line in masks]
            + [("pool_backward", key, what, line, _MASK_RIGHT, "create_mask_from_window")
               for key, what, line in masks])

    dw_what = ("dW no longer depends on the input: it sums the weights times dZ (or dZ "
               "alone) instead of the input window times dZ.")
    mistake("dW_without_slice", "dW without the input slice", dw_what,
            "dW[:, :, :, c] += W[:, :, :, c] * dZ[i, h, w, c]", dw_line.format("+="),
            [("conv_backward", "dW_without_slice/W", dw_what,
              "dW[:, :, :, c] += W[:, :, :, c] * dZ[i, h, w, c]", dw_line.format("+=")),
             ("conv_backward", "dW_without_slice/dZ", dw_what,
              "dW[:, :, :, c] += dZ[i, h, w, c]", dw_line.format("+="))])
    return {m.id: m for m in table}


MISTAKES: dict[str, Mistake] = _mistakes()
MISTAKE_IDS: tuple[str, ...] = tuple(MISTAKES)


def mistakes_of(function: str) -> tuple[Mistake, ...]:
    """The mistakes that change `function`'s output, in MISTAKE_IDS order."""
    _check_function(function)
    return tuple(m for m in MISTAKES.values() if m.variants_of(function))


def variants_of(function: str) -> tuple[Variant, ...]:
    """Every variant of `function`, mistake by mistake."""
    return tuple(v for m in mistakes_of(function) for v in m.variants_of(function))


def variant(function: str, mistake: str, flavour: str | None = None) -> Variant:
    """The variant of `mistake` in `function` (its first flavour unless one is named).

    KeyError names what exists: the mistake ids, or the functions a mistake changes, or the
    flavours.
    """
    _check_function(function)
    if mistake not in MISTAKES:
        raise KeyError(f"unknown mistake {mistake!r}; the mistakes are {', '.join(MISTAKE_IDS)}")
    found = MISTAKES[mistake].variants_of(function)
    if not found:
        raise KeyError(f"{mistake} does not change {function}; it changes "
                       f"{', '.join(MISTAKES[mistake].functions)}")
    if flavour is None:
        return found[0]
    for v in found:
        if v.flavour == flavour:
            return v
    raise KeyError(f"{mistake} in {function} has no flavour {flavour!r}; its flavours are "
                   f"{', '.join(v.flavour for v in found)}")


def _check_function(function: str) -> None:
    if function not in FUNCTIONS:
        raise KeyError(f"unknown function {function!r}; the exercise's functions are "
                       f"{', '.join(FUNCTIONS)}")


# ---------------------------------------------------------------------------------------------
# Outcomes: what a function gave on a probe case (its outputs by name, or the error it raised).

@dataclass(frozen=True)
class Outcome:
    """Outputs by OUTPUTS name (arrays; a scalar is a 0-d array), or the error raised."""

    arrays: dict[str, np.ndarray] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def error_text(exc: BaseException) -> str:
    """'ValueError: could not broadcast ...' (one line, at most 300 characters)."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def outcome_of(function: str, result) -> Outcome:
    """A seed function's return value as an Outcome (or an error naming what was expected).

    conv_forward and pool_forward return (output, cache): the output is taken (a bare array
    is accepted too); conv_backward returns (dA_prev, dW, db).
    """
    names = OUTPUTS[function]
    if function in ("conv_forward", "pool_forward") and isinstance(result, tuple | list):
        if not result:
            return Outcome(error=f"returned an empty {type(result).__name__}; expected "
                                 f"({names[0]}, cache)")
        result = result[0]
    if len(names) > 1:
        if not isinstance(result, tuple | list) or len(result) != len(names):
            return Outcome(error=f"returned {_describe(result)}; expected a tuple "
                                 f"({', '.join(names)})")
        values = list(result)
    else:
        values = [result]
    arrays = {}
    for name, value in zip(names, values, strict=True):
        if value is None:
            return Outcome(error=f"returned None for {name} (a missing return?)")
        try:
            array = np.asarray(value)
        except Exception as exc:  # a learner's object that NumPy cannot read
            return Outcome(error=f"{name} is not an array: {error_text(exc)}")
        if array.dtype.kind not in "biuf":
            return Outcome(error=f"{name} is not a numeric array (dtype {array.dtype})")
        arrays[name] = array
    return Outcome(arrays=arrays)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


# core's function for each of the exercise's eight (pool_backward with the exercise's tie
# rule "all": create_mask_from_window's x == np.max(x))
_CORE_FUNCTIONS: dict[str, Callable] = {
    "zero_pad": padding.zero_pad,
    "conv_single_step": conv.conv_single_step,
    "conv_forward": conv.conv_forward,
    "conv_backward": conv.conv_backward,
    "pool_forward": pool.pool_forward,
    "create_mask_from_window": pool.create_mask_from_window,
    "distribute_value": pool.distribute_value,
    "pool_backward": partial(pool.pool_backward, tie_rule="all"),
}


def right_result(case: ProbeCase):
    """core's answer on a probe case (pool_backward with the exercise's tie rule "all")."""
    return _CORE_FUNCTIONS[case.function](*arguments(case))


@cache
def right_outcome(function: str, case_name: str) -> Outcome:
    """The right outputs of a probe case (cached; the arrays are read-only)."""
    return _frozen(outcome_of(function, right_result(get_case(function, case_name))))


@cache
def exercise_outcome(function: str, case_name: str, bugs: frozenset = frozenset()) -> Outcome:
    """What the exercise's code with `bugs` gives on a probe case (cached, read-only)."""
    case = get_case(function, case_name)
    with np.errstate(all="ignore"):
        try:
            result = Exercise(bugs).function(function)(*arguments(case))
        except Exception as exc:  # the bug's own failure is its outcome
            return Outcome(error=error_text(exc))
    return _frozen(outcome_of(function, result))


def variant_outcome(v: Variant, case_name: str) -> Outcome:
    return exercise_outcome(v.function, case_name, frozenset({v.flavour}))


def _frozen(outcome: Outcome) -> Outcome:
    if outcome.arrays is not None:
        for a in outcome.arrays.values():
            a.setflags(write=False)
    return outcome


def close(expected, got) -> np.ndarray:
    """Cell-by-cell equality under the exercise's tolerance (masks compare as 0/1).

    rtol 1e-5 and atol 1e-6 times the largest magnitude of the expected array (at least 1),
    so a float32 computation passes; NaN is never equal. Arrays of the same shape only.
    """
    e = np.asarray(expected, dtype=np.float64)
    g = np.asarray(got, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    return np.isclose(g, e, rtol=1e-5, atol=1e-6 * scale)


def outputs_agree(expected: Outcome, got: Outcome, names=None) -> bool:
    """Same errors (by type) or the same outputs (shape and values); `names` limits the
    comparison to some outputs (an upload brings one)."""
    if not expected.ok or not got.ok:
        if expected.ok or got.ok:
            return False
        return expected.error.split(":")[0] == got.error.split(":")[0]
    for name in names or expected.arrays:
        e, g = expected.arrays[name], got.arrays[name]
        if e.shape != g.shape or not bool(np.all(close(e, g))):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Where two outcomes first differ.

ACCUMULATORS = {
    "conv_forward": ("Z",),
    "conv_backward": ("dA_prev_pad", "dW", "db"),
    "pool_forward": ("A",),
    "pool_backward": ("dA_prev",),
}


def loop_shape(function: str, case_name: str) -> tuple[int, int, int, int] | None:
    """(m, n_H, n_W, n_C) of a looped function's steps on a probe case (None if no loops):
    step k is np.unravel_index(k, shape), as in core/trace.py."""
    if function not in LOOPED:
        return None
    case = get_case(function, case_name)
    if function == "conv_backward":
        return tuple(int(n) for n in case.inputs["dZ"].shape)
    if function == "pool_backward":
        return tuple(int(n) for n in case.inputs["dA"].shape)
    return tuple(int(n) for n in right_outcome(function, case_name).arrays[OUTPUTS[function][0]]
                 .shape)


def _difference(kind: str, case_name: str, **fields) -> dict:
    """The `first_difference` dict: every key always present (None when it does not apply)."""
    out = {"kind": kind, "case": case_name, "basis": None, "output": None, "step": None,
           "position": None, "phase": None, "cell": None, "expected": None, "got": None,
           "expected_shape": None, "got_shape": None, "error": None, "total_steps": None}
    out.update(fields)
    return out


def _first_cell(expected: np.ndarray, got: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first cell (C order) where the arrays differ, or None."""
    bad = ~close(expected, got)
    if not bad.any():
        return None
    return tuple(int(x) for x in np.unravel_index(int(np.argmax(bad.reshape(-1))), bad.shape))


def _value(a: np.ndarray, cell) -> float:
    return float(np.asarray(a, dtype=np.float64)[cell])


def _step_fields(shape, k: int) -> dict:
    return {"step": int(k), "position": [int(x) for x in np.unravel_index(k, shape)],
            "total_steps": math.prod(shape)}


def first_step_difference(function: str, case_name: str, bugs) -> dict | None:
    """Run the right code and the code with `bugs` side by side on a probe case and return
    the first point where they part (None if they never do).

    Looped functions: after every step (i, h, w, c) their running accumulators (Z; A;
    dA_prev_pad, dW, db; dA_prev) are compared; the answer names the step (its index k in
    loop order, core/trace.py's), the accumulator, its first differing cell (C order) and
    both values (basis "running"). conv_backward's per-image crop is a phase of its own
    ("crop", at the image's last step). A bug that raises gives kind "error" at the step
    where it raised. Other functions: the first differing cell of the output ("output").
    """
    bugs = frozenset(bugs)
    if function not in LOOPED:
        return compare_outcomes(function, case_name, right_outcome(function, case_name),
                                exercise_outcome(function, case_name, bugs))["first_difference"]
    case = get_case(function, case_name)
    shape = loop_shape(function, case_name)
    names = ACCUMULATORS[function]
    right = getattr(Exercise(), function + "_steps")(*arguments(case))
    wrong = getattr(Exercise(bugs), function + "_steps")(*arguments(case))
    k = -1
    with np.errstate(all="ignore"):
        while True:
            try:
                label, expected = next(right)
            except StopIteration:
                label = None
            k_now = k + 1 if label == "step" else max(k, 0)
            phase = label or "return"
            try:
                got_label, got = next(wrong)
            except StopIteration:
                if label is None:
                    return None  # both done, accumulators equal at every step
                return _difference("error", case_name, basis="running", phase=phase,
                                   error="the loops ended early",
                                   **_step_fields(shape, min(k_now, math.prod(shape) - 1)))
            except Exception as exc:
                return _difference("error", case_name, basis="running", phase=phase,
                                   error=error_text(exc),
                                   **_step_fields(shape, min(k_now, math.prod(shape) - 1)))
            if label is None:
                return None
            if label == "step":
                k += 1
            if got_label != label:
                return _difference("error", case_name, basis="running", phase=phase,
                                   error="the loops run a different number of steps",
                                   **_step_fields(shape, max(k, 0)))
            acc_names = ("dA_prev",) if label == "crop" else names
            for name, e, g in zip(acc_names, expected, got, strict=True):
                if e.shape != g.shape:
                    return _difference("shape", case_name, basis="running", phase=label,
                                       output=name, expected_shape=list(e.shape),
                                       got_shape=list(g.shape), **_step_fields(shape, max(k, 0)))
                cell = _first_cell(e, g)
                if cell is not None:
                    return _difference("value", case_name, basis="running", phase=label,
                                       output=name, cell=list(cell), expected=_value(e, cell),
                                       got=_value(g, cell), **_step_fields(shape, max(k, 0)))


def _regions(function: str, case_name: str, output: str):
    """For a learner's final output: yield (k, index expression) of what step k writes in
    `output`, in loop order (backward functions)."""
    case = get_case(function, case_name)
    shape = loop_shape(function, case_name)
    hp = case.inputs["hparameters"]
    stride = hp["stride"]
    if function == "conv_backward":
        f = case.inputs["W"].shape[0]
        pad = hp["pad"]
    else:
        f, pad = hp["f"], 0
    for k in range(math.prod(shape)):
        i, h, w, c = np.unravel_index(k, shape)
        if output in ("dW", "db"):
            yield k, (Ellipsis, c)
            continue
        vs, hs = h * stride - pad, w * stride - pad  # in unpadded coordinates
        rows = slice(max(vs, 0), max(vs + f, 0))
        cols = slice(max(hs, 0), max(hs + f, 0))
        yield k, ((i, rows, cols, slice(None)) if function == "conv_backward"
                  else (i, rows, cols, c))


def compare_outcomes(function: str, case_name: str, expected: Outcome, got: Outcome,
                     names=None) -> dict:
    """Compare a got outcome (a learner's, an upload's, a variant's) with the right one.

    Returns {"same": bool, "outputs": {name: {"expected_shape", "got_shape", "differs"
    (bool array of the shape, or None when the shapes differ), "count"}}, "first_difference":
    dict or None}. The first difference is read from the final outputs (basis "output"):
    conv_forward and pool_forward: the first differing cell in C order is the step of that
    index; conv_backward and pool_backward: the first step (loop order) that writes a cell
    where the outputs differ; other functions: no step. `names` limits the comparison.
    """
    if not expected.ok:
        raise ValueError(f"the right outcome of {function} on {case_name} is an error")
    names = tuple(names or expected.arrays)
    outputs = {}
    if not got.ok:
        return {"same": False, "outputs": {}, "first_difference": _difference(
            "error", case_name, basis="output", error=got.error)}
    first = None
    for name in names:
        e, g = expected.arrays[name], got.arrays[name]
        if e.shape != g.shape:
            outputs[name] = {"expected_shape": list(e.shape), "got_shape": list(g.shape),
                             "differs": None, "count": None}
            first = first or _difference("shape", case_name, basis="output", output=name,
                                         expected_shape=list(e.shape), got_shape=list(g.shape))
            continue
        differs = ~close(e, g)
        outputs[name] = {"expected_shape": list(e.shape), "got_shape": list(g.shape),
                         "differs": differs, "count": int(differs.sum())}
        if first is None and differs.any():
            first = _output_difference(function, case_name, name, e, g, differs)
    return {"same": first is None, "outputs": outputs, "first_difference": first}


def _output_difference(function, case_name, name, e, g, differs) -> dict:
    fields = {"basis": "output", "output": name}
    if function in ("conv_forward", "pool_forward"):
        cell = _first_cell(e, g)
        return _difference("value", case_name, cell=list(cell), expected=_value(e, cell),
                           got=_value(g, cell),
                           **_step_fields(e.shape, int(np.ravel_multi_index(cell, e.shape))),
                           phase="step", **fields)
    if function in ("conv_backward", "pool_backward"):
        shape = loop_shape(function, case_name)
        for k, where in _regions(function, case_name, name):
            region = differs[where]
            if region.any():
                local = np.unravel_index(int(np.argmax(region.reshape(-1))), region.shape)
                cell = _cell_in(where, local, differs.shape)
                return _difference("value", case_name, cell=list(cell),
                                   expected=_value(e, cell), got=_value(g, cell),
                                   phase="step", **_step_fields(shape, k), **fields)
        # differs only where no step writes (cannot happen for a real learner's loops)
    cell = _first_cell(e, g)
    return _difference("value", case_name, cell=list(cell), expected=_value(e, cell),
                       got=_value(g, cell), **fields)


def _cell_in(where, local, shape) -> tuple[int, ...]:
    """Full index of `local` (an index into differs[where]) in an array of `shape`."""
    full = []
    it = iter(local)
    where = where if isinstance(where, tuple) else (where,)
    if where and where[0] is Ellipsis:  # (..., c): the last axis fixed
        return (*(int(x) for x in local), int(where[1]))
    for w in where:
        if isinstance(w, slice):
            start = w.start or 0
            full.append(start + int(next(it)))
        else:
            full.append(int(w))
    full.extend(int(x) for x in it)
    assert len(full) == len(shape)
    return tuple(full)


# ---------------------------------------------------------------------------------------------
# Which cases show a variant, and which mistakes a learner's outcomes match.

@cache
def showing_cases(function: str, mistake: str, flavour: str | None = None) -> tuple[str, ...]:
    """Names of the probe cases of `function` on which the variant differs from the right
    code (an error counts), in probe order."""
    v = variant(function, mistake, flavour)
    return tuple(c.name for c in cases_of(function)
                 if not outputs_agree(right_outcome(function, c.name),
                                      variant_outcome(v, c.name)))


def default_case(function: str, mistake: str, flavour: str | None = None) -> str:
    """The case the page opens for a variant: the first that shows it with an output
    (not an error), else the first that shows it at all."""
    v = variant(function, mistake, flavour)
    shows = showing_cases(function, mistake, v.flavour)
    for name in shows:
        if variant_outcome(v, name).ok:
            return name
    return shows[0]


def diagnose(function: str, outcomes: dict[str, Outcome], names=None, *,
             pairs: bool = False) -> dict:
    """Which mistakes explain a learner's outcomes on some probe cases, and where it first
    goes wrong.

    outcomes: {case name: Outcome} (the checker passes every case; an upload one). A
    variant matches when it agrees with the learner on every case given (same outputs, or
    an error of the same type) and differs from the right code on at least one of them
    (crop_minus_pad only raises, at pad 0). Returns {"ok", "mistakes" (ids, in MISTAKE_IDS
    order), "variants" (flavour keys), "cases" ({name: {"ok", "error"}}),
    "first_difference"}: for a matched mistake, the variant's running first difference on
    the first case where it shows (default_case's choice when given); otherwise the first
    case where the learner differs, read from its final outputs. With `pairs`, when no
    single variant matches, every two variants of different mistakes are tried together
    (a learner's code may have two of them).
    """
    _check_function(function)
    cases = {}
    first_bad = None
    for case in cases_of(function):
        if case.name not in outcomes:
            continue
        right = right_outcome(function, case.name)
        same = outputs_agree(right, outcomes[case.name], names)
        cases[case.name] = {"ok": same, "error": outcomes[case.name].error}
        if not same and first_bad is None:
            first_bad = case.name
    if first_bad is None:
        return {"ok": True, "mistakes": [], "variants": [], "cases": cases,
                "first_difference": None}
    matched = []
    for v in variants_of(function):
        if any(not outputs_agree(variant_outcome(v, n), o, names) for n, o in outcomes.items()):
            continue
        if any(not outputs_agree(right_outcome(function, n), variant_outcome(v, n), names)
               for n in outcomes):
            matched.append(v)
    mistakes = [m for m in MISTAKE_IDS if any(v.mistake == m for v in matched)]
    if matched:
        v = matched[0]
        preferred = default_case(function, v.mistake, v.flavour)
        case_name = preferred if preferred in outcomes else next(
            n for n in outcomes if not outputs_agree(right_outcome(function, n),
                                                     variant_outcome(v, n), names))
        first = first_step_difference(function, case_name, {v.flavour})
    elif pairs and (pair := _matching_pair(function, outcomes, names)):
        bugs = frozenset(v.flavour for v in pair)
        matched = list(pair)
        mistakes = [m for m in MISTAKE_IDS if any(v.mistake == m for v in pair)]
        case_name = next(n for n in outcomes if not outputs_agree(
            right_outcome(function, n), exercise_outcome(function, n, bugs), names))
        first = first_step_difference(function, case_name, bugs)
    else:
        first = compare_outcomes(function, first_bad, right_outcome(function, first_bad),
                                 outcomes[first_bad], names)["first_difference"]
    return {"ok": False, "mistakes": mistakes, "variants": [v.flavour for v in matched],
            "cases": cases, "first_difference": first}


def _matching_pair(function: str, outcomes: dict[str, Outcome], names) -> tuple | None:
    """Two variants of different mistakes whose bugs together give the learner's outcomes."""
    for a, b in itertools.combinations(variants_of(function), 2):
        if a.mistake == b.mistake:
            continue
        bugs = frozenset({a.flavour, b.flavour})
        if all(outputs_agree(exercise_outcome(function, n, bugs), o, names)
               for n, o in outcomes.items()):
            return a, b
    return None
