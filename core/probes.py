"""Probe cases: small inputs on which every classic mistake of the exercise changes the output.

With the explorer's defaults (stride 1, bias 0, pool 2/2 without overlap, no ties) most
mistakes give the right numbers by luck. These cases are built so that none can hide:

- a small non-square gray image (5 x 7, small integers, so ties are common) and the
  exercise's own `np.random.seed(1)` arrays (10 x 5 x 7 x 4 for conv, ...);
- stride 2 (a missing `* stride` shows), pad 1 and pad 0 (`[pad:-pad]` is empty at pad 0,
  slicing the unpadded input shows at pad > 0), a non-zero bias (the bias added to every
  product shows);
- an overlapping pool (f 3, stride 1: `=` instead of `+=` loses gradient), inputs with ties
  (the exercise's mask `x == np.max(x)` marks every tied maximum: tie rule "all").

Some cases are there to hide a mistake on purpose (stride 1, pad 0, bias 0, one window,
windows that do not overlap): the tests check that each mistake equals the right code there.

Each case is a ProbeCase: the function it feeds, a name, a one-line title and its inputs by
the exercise's argument names. `arguments(case)` gives fresh copies in the exercise's
argument order (a learner's function may write into its inputs).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .loops import conv_forward_loop

FUNCTIONS = ("zero_pad", "conv_single_step", "conv_forward", "conv_backward", "pool_forward",
             "create_mask_from_window", "distribute_value", "pool_backward")

# The exercise's arguments of each function; conv_backward and pool_backward take a cache,
# built from the named inputs as the exercise's forward functions build it.
PARAMETERS = {
    "zero_pad": ("X", "pad"),
    "conv_single_step": ("a_slice_prev", "W", "b"),
    "conv_forward": ("A_prev", "W", "b", "hparameters"),
    "conv_backward": ("dZ", "cache"),
    "pool_forward": ("A_prev", "hparameters", "mode"),
    "create_mask_from_window": ("x",),
    "distribute_value": ("dz", "shape"),
    "pool_backward": ("dA", "cache", "mode"),
}

# What each function returns, by name (conv_forward and pool_forward also return a cache,
# which is not compared).
OUTPUTS = {
    "zero_pad": ("X_pad",),
    "conv_single_step": ("Z",),
    "conv_forward": ("Z",),
    "conv_backward": ("dA_prev", "dW", "db"),
    "pool_forward": ("A",),
    "create_mask_from_window": ("mask",),
    "distribute_value": ("a",),
    "pool_backward": ("dA_prev",),
}

# A 5 x 7 gray image of small integers: non-square, with ties in most 3 x 3 windows.
GRAY_5X7 = np.array([
    [1, 3, 2, 0, 4, 1, 2],
    [4, 2, 4, 1, 0, 3, 1],
    [0, 1, 3, 4, 2, 2, 0],
    [2, 4, 0, 1, 3, 0, 4],
    [3, 0, 1, 2, 4, 1, 3],
], dtype=np.float64).reshape(1, 5, 7, 1)

# Two 3 x 3 filters with no symmetry (a transposed or shifted window gives other numbers).
W_GRAY = np.stack([
    np.array([[1, 0, -1], [2, 1, 0], [0, -1, 1]], dtype=np.float64),
    np.array([[0, 1, 2], [-1, 0, 1], [1, -2, 0]], dtype=np.float64),
], axis=-1).reshape(3, 3, 1, 2)
B_GRAY = np.array([0.5, -1.0]).reshape(1, 1, 1, 2)


@dataclass(frozen=True)
class ProbeCase:
    """One input of one seed function; `shows`/`hides` are notes for the page."""

    function: str
    name: str
    title: str
    inputs: dict = field(compare=False, hash=False)

    def to_dict(self) -> dict:
        return {"function": self.function, "name": self.name, "title": self.title}


def _dz(shape, seed: int) -> np.ndarray:
    """A gradient of small integers (-2..2, no zeros) with a fixed seed, so steps read easily."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 3, size=shape) * rng.choice([-1, 1], size=shape)
    return values.astype(np.float64)


def _conv_out(A_prev, W, hp) -> tuple[int, int, int, int]:
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    n_H = (n_H_prev - f + 2 * hp["pad"]) // hp["stride"] + 1
    n_W = (n_W_prev - f + 2 * hp["pad"]) // hp["stride"] + 1
    return m, n_H, n_W, n_C


def _pool_out(A_prev, hp) -> tuple[int, int, int, int]:
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    return (m, (n_H_prev - hp["f"]) // hp["stride"] + 1,
            (n_W_prev - hp["f"]) // hp["stride"] + 1, n_C)


def _build() -> dict[str, tuple[ProbeCase, ...]]:
    cases: dict[str, list[ProbeCase]] = {name: [] for name in FUNCTIONS}

    def add(function, name, title, **inputs):
        cases[function].append(ProbeCase(function, name, title, inputs))

    gray = GRAY_5X7
    # zero_pad
    np.random.seed(1)
    x = np.random.randn(4, 3, 3, 2)
    add("zero_pad", "exercise", "The exercise's check: np.random.seed(1), x (4, 3, 3, 2), "
        "pad 2", X=x, pad=2)
    add("zero_pad", "gray_pad1", "The 5 x 7 gray image, pad 1", X=gray, pad=1)
    add("zero_pad", "gray_pad0", "The 5 x 7 gray image, pad 0 (nothing to pad)", X=gray, pad=0)

    # conv_single_step
    np.random.seed(1)
    a_slice_prev = np.random.randn(4, 4, 3)
    W = np.random.randn(4, 4, 3)
    b = np.random.randn(1, 1, 1)
    add("conv_single_step", "exercise", "The exercise's check: np.random.seed(1), a 4 x 4 x 3 "
        "slice, b = -0.34", a_slice_prev=a_slice_prev, W=W, b=b)
    add("conv_single_step", "gray_window", "The first 3 x 3 window of the gray image, b = 0.5",
        a_slice_prev=gray[0, :3, :3, :], W=W_GRAY[:, :, :, 0], b=B_GRAY[:, :, :, 0])
    add("conv_single_step", "zero_bias", "The same window with b = 0 (a bias cannot show)",
        a_slice_prev=gray[0, :3, :3, :], W=W_GRAY[:, :, :, 0], b=np.zeros((1, 1, 1)))

    # conv_forward: the gray cases first (the page opens the first case that shows a mistake)
    def conv(name, title, A_prev, W, b, hp):
        add("conv_forward", name, title, A_prev=A_prev, W=W, b=b, hparameters=hp)

    conv("gray_s2_p1", "5 x 7 gray, two 3 x 3 filters, stride 2, pad 1, bias 0.5 and -1",
         gray, W_GRAY, B_GRAY, {"stride": 2, "pad": 1})
    conv("gray_s2_p0", "5 x 7 gray, stride 2, pad 0", gray, W_GRAY, B_GRAY,
         {"stride": 2, "pad": 0})
    conv("gray_s1_p1", "5 x 7 gray, stride 1, pad 1 (a missing stride cannot show)", gray,
         W_GRAY, B_GRAY, {"stride": 1, "pad": 1})
    conv("gray_zero_bias", "5 x 7 gray, stride 2, pad 1, bias 0 (a bias cannot show)", gray,
         W_GRAY, np.zeros((1, 1, 1, 2)), {"stride": 2, "pad": 1})
    conv("one_window", "The top-left 3 x 3 of the gray image, f 3, pad 0: one window",
         gray[:, :3, :3, :], W_GRAY, B_GRAY, {"stride": 1, "pad": 0})
    np.random.seed(1)
    A_prev = np.random.randn(10, 5, 7, 4)
    W = np.random.randn(3, 3, 4, 8)
    b = np.random.randn(1, 1, 1, 8)
    conv("exercise", "The exercise's check: np.random.seed(1), A_prev (10, 5, 7, 4), "
         "W (3, 3, 4, 8), stride 2, pad 1", A_prev, W, b, {"pad": 1, "stride": 2})

    # conv_backward: dZ of small integers; the exercise's case uses its Z as dZ.
    def conv_b(name, title, A_prev, W, b, hp, dZ=None, seed=0):
        dZ = _dz(_conv_out(A_prev, W, hp), seed) if dZ is None else dZ
        add("conv_backward", name, title, dZ=dZ, A_prev=A_prev, W=W, b=b, hparameters=hp)

    conv_b("gray_s2_p1", "5 x 7 gray, two 3 x 3 filters, stride 2, pad 1, dZ of small "
           "integers", gray, W_GRAY, B_GRAY, {"stride": 2, "pad": 1}, seed=1)
    conv_b("gray_s2_p0", "5 x 7 gray, stride 2, pad 0 ([pad:-pad] is empty)", gray, W_GRAY,
           B_GRAY, {"stride": 2, "pad": 0}, seed=2)
    conv_b("gray_s1_p1", "5 x 7 gray, stride 1, pad 1 (a missing stride cannot show)", gray,
           W_GRAY, B_GRAY, {"stride": 1, "pad": 1}, seed=3)
    W2 = W_GRAY[:2, :2]  # (2, 2, 1, 2)
    conv_b("gray_f2_s2", "The top-left 4 x 6 of the gray image, f 2, stride 2, pad 0: windows "
           "do not overlap", gray[:, :4, :6, :], W2, B_GRAY, {"stride": 2, "pad": 0}, seed=4)
    np.random.seed(1)
    A_prev = np.random.randn(10, 4, 4, 3)
    W = np.random.randn(2, 2, 3, 8)
    b = np.random.randn(1, 1, 1, 8)
    hp = {"pad": 2, "stride": 2}
    Z, _ = conv_forward_loop(A_prev, W, b, hp)
    conv_b("exercise", "The exercise's check: np.random.seed(1), A_prev (10, 4, 4, 3), "
           "W (2, 2, 3, 8), stride 2, pad 2, dZ = Z", A_prev, W, b, hp, dZ=Z)

    # pool_forward
    def pool(name, title, A_prev, hp, mode):
        add("pool_forward", name, title, A_prev=A_prev, hparameters=hp, mode=mode)

    pool("gray_f3_s2_max", "5 x 7 gray, max, f 3, stride 2", gray, {"f": 3, "stride": 2}, "max")
    pool("gray_f3_s2_average", "5 x 7 gray, average, f 3, stride 2", gray,
         {"f": 3, "stride": 2}, "average")
    pool("gray_f3_s1_max", "5 x 7 gray, max, f 3, stride 1: windows overlap (a missing "
         "stride cannot show)", gray, {"f": 3, "stride": 1}, "max")
    np.random.seed(1)
    A_prev = np.random.randn(2, 4, 4, 3)
    hp = {"stride": 2, "f": 3}
    pool("exercise_max", "The exercise's check: np.random.seed(1), A_prev (2, 4, 4, 3), max, "
         "f 3, stride 2: one window per channel", A_prev, hp, "max")
    pool("exercise_average", "The exercise's check, average", A_prev, hp, "average")

    # create_mask_from_window
    np.random.seed(1)
    add("create_mask_from_window", "exercise", "The exercise's check: np.random.seed(1), "
        "x (2, 3)", x=np.random.randn(2, 3))
    add("create_mask_from_window", "ties", "A 3 x 3 window of the gray image whose maximum 4 "
        "appears twice", x=gray[0, :3, :3, 0])
    add("create_mask_from_window", "no_ties", "A 2 x 3 window with one maximum, not in the "
        "first cell", x=np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]))

    # distribute_value
    add("distribute_value", "exercise", "The exercise's check: dz = 2, shape (2, 2)",
        dz=2.0, shape=(2, 2))
    add("distribute_value", "dz1_2x3", "dz = 1, shape (2, 3) (ignoring dz cannot show)",
        dz=1.0, shape=(2, 3))
    add("distribute_value", "dz_3x3", "dz = -1.5, shape (3, 3)", dz=-1.5, shape=(3, 3))

    # pool_backward
    def pool_b(name, title, A_prev, hp, mode, dA=None, seed=0):
        dA = _dz(_pool_out(A_prev, hp), seed) if dA is None else dA
        add("pool_backward", name, title, dA=dA, A_prev=A_prev, hparameters=hp, mode=mode)

    pool_b("gray_f3_s1_max", "5 x 7 gray, max, f 3, stride 1: windows overlap, ties", gray,
           {"f": 3, "stride": 1}, "max", seed=5)
    pool_b("gray_f3_s1_average", "5 x 7 gray, average, f 3, stride 1", gray,
           {"f": 3, "stride": 1}, "average", seed=6)
    pool_b("gray_f3_s2_max", "5 x 7 gray, max, f 3, stride 2", gray, {"f": 3, "stride": 2},
           "max", seed=7)
    pool_b("gray_f2_s2_max", "The top-left 4 x 6 of the gray image, max, f 2, stride 2: "
           "windows do not overlap", gray[:, :4, :6, :], {"f": 2, "stride": 2}, "max", seed=8)
    pool_b("gray_f2_s2_average", "The top-left 4 x 6, average, f 2, stride 2",
           gray[:, :4, :6, :], {"f": 2, "stride": 2}, "average", seed=9)
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    hp = {"stride": 1, "f": 2}
    dA = np.random.randn(5, 4, 2, 2)
    pool_b("exercise_max", "The exercise's check: np.random.seed(1), A_prev (5, 5, 3, 2), "
           "max, f 2, stride 1", A_prev, hp, "max", dA=dA)
    pool_b("exercise_average", "The exercise's check, average", A_prev, hp, "average", dA=dA)

    for group in cases.values():
        for case in group:
            for value in case.inputs.values():
                if isinstance(value, np.ndarray):
                    value.setflags(write=False)
    return {name: tuple(group) for name, group in cases.items()}


_BUILDING = threading.Lock()


@cache
def probe_cases() -> dict[str, tuple[ProbeCase, ...]]:
    """Every probe case, by function, in the order the page and the checker use them."""
    with _BUILDING:  # the exercise's cases seed NumPy's global generator: one build at a time
        return _build()


def cases_of(function: str) -> tuple[ProbeCase, ...]:
    """The probe cases of one seed function (KeyError names the functions)."""
    if function not in PARAMETERS:
        raise KeyError(f"unknown function {function!r}; the exercise's functions are "
                       f"{', '.join(FUNCTIONS)}")
    return probe_cases()[function]


def get_case(function: str, name: str) -> ProbeCase:
    """One probe case by function and name (KeyError lists the names)."""
    for case in cases_of(function):
        if case.name == name:
            return case
    names = ", ".join(c.name for c in cases_of(function))
    raise KeyError(f"{function} has no probe case {name!r}; its cases are {names}")


def _fresh(value):
    if isinstance(value, np.ndarray):
        return np.array(value)  # a writable copy
    if isinstance(value, dict):
        return dict(value)
    return value


def arguments(case: ProbeCase) -> tuple:
    """The case's inputs as the exercise's positional arguments, fresh copies."""
    v = {k: _fresh(x) for k, x in case.inputs.items()}
    if case.function == "conv_backward":
        return v["dZ"], (v["A_prev"], v["W"], v["b"], v["hparameters"])
    if case.function == "pool_backward":
        return v["dA"], (v["A_prev"], v["hparameters"]), v["mode"]
    return tuple(v[name] for name in PARAMETERS[case.function])
