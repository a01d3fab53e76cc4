"""The exercise's code, runnable: SOURCE with some lines edited, compiled into functions.

    from core.learn.exercise import Exercise
    Z, cache = Exercise().conv_forward(A_prev, W, b, {"stride": 2, "pad": 1})
    Exercise({"stride_missing"}).conv_forward(...)       # a mistake's variant (variants.py)
    Exercise(edits=option_edits(dilation=2), dilation=2) # an extra ("More") switched on

Why compile the listing instead of writing the functions again: the code a learner reads on
the page, the code a mistake changes and the code that runs are then one text, and cannot
drift. The functions are plain NumPy without validation, so a bug does what it does in a
learner's notebook (a slice past the edge comes back short and NumPy broadcasts it, the
`[pad:-pad]` crop at pad 0 raises). They call each other through their own namespace, so
conv_forward with `bias_per_element` calls the buggy conv_single_step.

Steps: the looped functions (conv_forward, conv_backward, pool_forward, pool_backward) also
come as generators (`*_steps`, compiled from the same lines with the SOURCE's step
directives turned into yields) that yield ("step", accumulators) after every pass of the
loops i, h, w, c (core/trace.py's order: step k is np.unravel_index(k, (m, n_H, n_W, n_C)))
and ("crop", (dA_prev,)) after each image's crop in conv_backward; their return value is the
function's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache

import numpy as np

from .listing import FUNCTIONS_SOURCE, Edit, as_edits, edited, python_text

FUNCTIONS = tuple(FUNCTIONS_SOURCE)  # the exercise's order
LOOPED = ("conv_forward", "conv_backward", "pool_forward", "pool_backward")


@cache
def compiled(edits: tuple[Edit, ...], steps: bool, dilation: int = 1) -> dict[str, Callable]:
    """The eight functions of SOURCE with `edits`, compiled (cached per edits). `dilation`
    is the name the dilation option's lines read."""
    text = python_text(edited(edits), steps=steps)
    namespace: dict = {"np": np, "dilation": dilation, "__name__": "core.learn.exercise_code"}
    exec(compile(text, "<the exercise's code (core/learn/source.py)>", "exec"), namespace)
    return {name: namespace[name] for name in FUNCTIONS}


class Exercise:
    """The eight functions as the exercise writes them, with the bugs in `bugs` switched on.

    bugs: flavour keys such as "stride_missing" or "assign_not_accumulate/dW"
    (core/learn/variants.py's FLAVOUR_EDITS); `edits`: more edits of named lines (the
    extras' option edits); `dilation`: the value the dilation option's lines read. Each
    function returns what the exercise's returns.
    """

    def __init__(self, bugs: Iterable[str] = (), *, edits: Iterable = (), dilation: int = 1):
        self.bugs = frozenset(bugs)
        self.edits = as_edits(edits)
        if self.bugs:
            from .variants import flavour_edits  # variants builds on this module
            self.edits += flavour_edits(sorted(self.bugs))
        self.dilation = int(dilation)

    def _plain(self) -> dict[str, Callable]:
        return compiled(self.edits, False, self.dilation)

    def _stepped(self) -> dict[str, Callable]:
        return compiled(self.edits, True, self.dilation)

    def function(self, name: str) -> Callable:
        """The named seed function of this exercise (ready to call)."""
        if name not in FUNCTIONS:
            raise KeyError(f"unknown function {name!r}; the exercise's functions are "
                           f"{', '.join(FUNCTIONS)}")
        return self._plain()[name]

    def steps(self, name: str) -> Callable[..., Iterator]:
        """The generator version of a looped function (see the module docstring)."""
        if name not in LOOPED:
            raise KeyError(f"{name!r} has no loops; the looped functions are "
                           f"{', '.join(LOOPED)}")
        return self._stepped()[name]

    def __getattr__(self, name: str):
        if name.endswith("_steps") and name[: -len("_steps")] in LOOPED:
            return self.steps(name[: -len("_steps")])
        if name in FUNCTIONS:
            return self.function(name)
        raise AttributeError(name)


def drain(steps: Iterator):
    """Run a *_steps generator to its end and return its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
