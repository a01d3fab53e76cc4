"""Output sizes, their explanation, and the one error type for geometry that cannot work.

The output size of a convolution (the exercise's formula, with dilation added):

    n_H = floor((n_H_prev + 2*pad - f_eff) / stride) + 1,   f_eff = dilation*(f - 1) + 1

which for dilation 1 is the exercise's `floor((n_H_prev + 2*pad - f) / stride) + 1`.
Example: n_H_prev = 5, pad = 1, f = 3, stride = 2 gives floor((5 + 2 - 3) / 2) + 1 = 3.

Pooling is the same formula with pad = 0 and dilation = 1.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

PAD_MODES = ("constant", "reflect", "edge")
POOL_MODES = ("max", "average")
TIE_RULES = ("first", "all", "split")


class GeometryError(ValueError):
    """A shape, size or option that cannot work; the message names every number involved.

    `advice`: the Limits the message advises, as data: when a window does not fit, the
    Limit of each setting that would make it fit with the other settings kept (fit_limits);
    for reflect padding wider than the input, "pad <= n - 1" (pad_limit_check); empty for
    other errors.
    `problem`: the message without its advice sentence ("Use f <= 7 or ..."), for a caller
    that words the advice for its own settings (the server's /api/geometry); the whole
    message when it gives no advice or when its sentence offers more than the Limits
    (pad_limit_check also names the other pad modes), so that a caller keeps it.
    """

    def __init__(self, message: str, advice: tuple[Limit, ...] = (),
                 problem: str | None = None) -> None:
        super().__init__(message)
        self.advice = tuple(advice)
        self.problem = message if problem is None else problem


@dataclass(frozen=True)
class Geometry:
    """Sizes of one conv or pool layer along both spatial axes, with the formula written out.

    `dropped_rows` / `dropped_cols` are the padded indices that no window tap reaches: the
    bottom rows and right columns the floor in the formula leaves over, the gaps between
    windows when stride > f_eff, and the rows skipped inside a dilated window.
    """

    n_H_prev: int
    n_W_prev: int
    f: int
    stride: int
    pad: int
    dilation: int
    f_eff: int
    n_H_pad: int
    n_W_pad: int
    n_H: int
    n_W: int
    formula_H: str
    formula_W: str
    dropped_rows: tuple[int, ...]
    dropped_cols: tuple[int, ...]
    explanation: str

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["dropped_rows"] = list(self.dropped_rows)
        d["dropped_cols"] = list(self.dropped_cols)
        return d


def check_int(name: str, value, *, minimum: int, what: str) -> int:
    """Return `value` as a Python int, or raise GeometryError explaining the rule."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise GeometryError(
                f"{name} must be a whole number ({what}), but it is {value!r}."
            )
    value = int(value)
    if value < minimum:
        raise GeometryError(f"{name} must be at least {minimum} ({what}), but it is {value}.")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`, else raise GeometryError listing them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        raise GeometryError(f"{name} must be one of {listed}, but it is {value!r}.")
    return value


def _axis_size(n_prev: int, f: int, stride: int, pad: int, dilation: int) -> tuple[int, int]:
    f_eff = dilation * (f - 1) + 1
    return f_eff, (n_prev + 2 * pad - f_eff) // stride + 1


def _formula(axis: str, n_prev: int, f: int, stride: int, pad: int, dilation: int) -> str:
    f_eff, n = _axis_size(n_prev, f, stride, pad, dilation)
    top = n_prev + 2 * pad - f_eff
    if dilation == 1:
        symbolic = f"n_{axis} = floor((n_{axis}_prev + 2*pad - f) / stride) + 1"
        filled = f"floor(({n_prev} + 2*{pad} - {f}) / {stride}) + 1"
    else:
        symbolic = f"n_{axis} = floor((n_{axis}_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1"
        filled = f"floor(({n_prev} + 2*{pad} - {dilation}*({f} - 1) - 1) / {stride}) + 1"
    return f"{symbolic} = {filled} = floor({top} / {stride}) + 1 = {n}"


def _unreached(n_pad: int, n_out: int, f: int, stride: int, dilation: int) -> tuple[int, ...]:
    # Every padded index that some window tap touches: h*stride + k*dilation.
    taps = (np.arange(n_out)[:, None] * stride + np.arange(f)[None, :] * dilation).ravel()
    reached = np.zeros(n_pad, dtype=bool)
    reached[taps] = True
    return tuple(int(x) for x in np.flatnonzero(~reached))


@dataclass(frozen=True)
class Limit:
    """The values of one setting that make the layer fit, every other setting kept:
    `setting op value`, e.g. Limit("f", "<=", 7) reads "f <= 7".

    setting: "f", "pad", "dilation", "stride", "pool_f" (the pooling window) or "n_prev"
    (the input's shorter side, min(n_H_prev, n_W_prev)).
    """

    setting: str
    op: str  # "<=" or ">="
    value: int

    @property
    def text(self) -> str:
        name = {"pool_f": "pool f", "n_prev": "min(n_H_prev, n_W_prev)"}.get(self.setting,
                                                                             self.setting)
        return f"{name} {self.op} {self.value}"

    def allows(self, value: int) -> bool:
        return value <= self.value if self.op == "<=" else value >= self.value

    def to_dict(self) -> dict:
        return {"setting": self.setting, "op": self.op, "value": self.value, "text": self.text}


def fit_limits(n_H_prev: int, n_W_prev: int, f: int, *, stride: int = 1, pad: int = 0,
               dilation: int = 1, pool_f: int | None = None,
               pad_mode: str = "constant") -> tuple[Limit, ...]:
    """For a conv layer (and the pooling after it, window pool_f), the range of each setting
    that makes the whole layer fit with the other settings kept.

    Both fit when, on the input's shorter side n = min(n_H_prev, n_W_prev),

        n + 2*pad - f_eff >= stride*(P - 1),   f_eff = dilation*(f - 1) + 1, P = pool_f or 1

    (the conv output n_Z = floor((n + 2*pad - f_eff) / stride) + 1 must be at least P; the
    pooling stride never matters, nor the conv stride without pooling). Solved for one
    setting at a time, each gives one Limit; a setting that cannot make the layer fit alone
    (f <= 0 would be needed) or that plays no part (dilation when f = 1) has none. With
    pad_mode "reflect" pad is also at most n - 1 (pad_limit_check): the pad Limits are then
    "pad >= lo" and "pad <= n - 1", or none when no pad fits both, and n at least pad + 1.

    Example: a 5 x 5 input, f = 3, stride 2, pad 0, pool 2 x 2:
    n_Z = floor((5 - 3) / 2) + 1 = 2 fits, and the limits are f <= 3 (f_eff <= 5 - 2*1),
    pad >= 0, dilation <= 1, stride <= 2, pool f <= 2 and min(n_H_prev, n_W_prev) >= 5.
    The layer fits exactly when every current value is allowed by its Limit.
    """
    n = min(n_H_prev, n_W_prev)
    P = 1 if pool_f is None else pool_f
    f_eff = dilation * (f - 1) + 1
    need = stride * (P - 1)  # how far past the first window the input must reach
    room = n + 2 * pad - need  # what f_eff may be at most
    out: list[Limit] = []
    if room >= 1:
        out.append(Limit("f", "<=", (room - 1) // dilation + 1))
    pad_lo = max(0, -((n - f_eff - need) // 2))  # ceil((f_eff + need - n) / 2)
    if pad_mode != "reflect":
        out.append(Limit("pad", ">=", pad_lo))
    elif pad_lo <= n - 1:
        out += [Limit("pad", ">=", pad_lo), Limit("pad", "<=", n - 1)]
    if f > 1 and (room - 1) // (f - 1) >= 1:
        out.append(Limit("dilation", "<=", (room - 1) // (f - 1)))
    span = n + 2 * pad - f_eff  # how far the conv window can move
    if P > 1 and span >= 0 and span // (P - 1) >= 1:
        out.append(Limit("stride", "<=", span // (P - 1)))
    if pool_f is not None and span >= 0:
        out.append(Limit("pool_f", "<=", span // stride + 1))
    n_lo = max(1, f_eff + need - 2 * pad, pad + 1 if pad_mode == "reflect" else 1)
    out.append(Limit("n_prev", ">=", n_lo))
    return tuple(out)


def advice_text(advice: tuple[Limit, ...], settings: dict[str, int]) -> str:
    """"Use f <= 7, pad >= 2 or min(n_H_prev, n_W_prev) >= 9." from the Limits that the
    current `settings` ({name: value}) break (empty when none does)."""
    broken = [lim.text for lim in advice if lim.setting in settings
              and not lim.allows(settings[lim.setting])]
    if not broken:
        return ""
    return "Use " + (broken[0] if len(broken) == 1
                     else ", ".join(broken[:-1]) + " or " + broken[-1]) + "."


def _check_fits(axis_word: str, axis: str, n_prev: int, f: int, stride: int, pad: int,
                dilation: int, advice: tuple[Limit, ...], current: dict[str, int]) -> None:
    f_eff, n = _axis_size(n_prev, f, stride, pad, dilation)
    if n >= 1:
        return
    span = (f"the window spans f = {f} {axis_word}" if dilation == 1
            else f"f = {f} with dilation = {dilation} spans dilation*(f - 1) + 1 = {f_eff} "
                 f"{axis_word}")
    problem = (
        f"The window does not fit in the padded input: {span}, but the padded "
        f"input has only n_{axis}_prev + 2*pad = {n_prev} + 2*{pad} = {n_prev + 2 * pad} "
        f"{axis_word}. The output size would be {_formula(axis, n_prev, f, stride, pad, dilation)}"
        f", and it must be at least 1.")
    raise GeometryError(f"{problem} {advice_text(advice, current)}", advice, problem)


def _checked_window(n_H_prev, n_W_prev, f, stride) -> tuple[int, int, int, int]:
    """The four numbers conv and pool layers share, each checked (GeometryError names it)."""
    n_H_prev = check_int("n_H_prev (input height)", n_H_prev, minimum=1,
                         what="the input needs at least one row")
    n_W_prev = check_int("n_W_prev (input width)", n_W_prev, minimum=1,
                         what="the input needs at least one column")
    f = check_int("f (window size)", f, minimum=1, what="a window covers at least one cell")
    stride = check_int("stride", stride, minimum=1,
                       what="the window moves by at least one cell each step")
    return n_H_prev, n_W_prev, f, stride


def conv_geometry(n_H_prev: int, n_W_prev: int, f: int, *, stride: int = 1, pad: int = 0,
                  dilation: int = 1) -> Geometry:
    """Output size of a convolution, with the formula filled in and the unreached rows/cols.

    n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1 (likewise n_W).
    Example: conv_geometry(5, 5, 3, stride=2, pad=1).n_H == floor((5 + 2 - 3) / 2) + 1 == 3.
    Raises GeometryError when a number is out of range or the window does not fit.
    """
    n_H_prev, n_W_prev, f, stride = _checked_window(n_H_prev, n_W_prev, f, stride)
    pad = check_int("pad", pad, minimum=0, what="padding adds rows and columns, it cannot remove")
    dilation = check_int("dilation", dilation, minimum=1,
                         what="1 means the window's cells are adjacent")
    return _checked_geometry(n_H_prev, n_W_prev, f, stride, pad, dilation, pooling=False)


def _checked_geometry(n_H_prev: int, n_W_prev: int, f: int, stride: int, pad: int,
                      dilation: int, *, pooling: bool) -> Geometry:
    """The Geometry, or GeometryError naming the numbers and the Limits that would fit
    (for a pooling layer only f and the input, since it has no pad or dilation)."""
    _, n_H = _axis_size(n_H_prev, f, stride, pad, dilation)
    _, n_W = _axis_size(n_W_prev, f, stride, pad, dilation)
    if min(n_H, n_W) < 1:
        advice = fit_limits(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
        if pooling:
            advice = tuple(lim for lim in advice if lim.setting in ("f", "n_prev"))
        current = {"f": f, "pad": pad, "dilation": dilation,
                   "n_prev": min(n_H_prev, n_W_prev)}
        _check_fits("rows", "H", n_H_prev, f, stride, pad, dilation, advice, current)
        _check_fits("columns", "W", n_W_prev, f, stride, pad, dilation, advice, current)
    return _conv_geometry(n_H_prev, n_W_prev, f, stride, pad, dilation)


@functools.lru_cache(maxsize=256)
def _conv_geometry(n_H_prev: int, n_W_prev: int, f: int, stride: int, pad: int,
                   dilation: int) -> Geometry:
    """The Geometry of checked plain ints (memoised: it is frozen, and a layer is called
    with the same sizes over and over)."""
    f_eff, n_H = _axis_size(n_H_prev, f, stride, pad, dilation)
    _, n_W = _axis_size(n_W_prev, f, stride, pad, dilation)
    n_H_pad, n_W_pad = n_H_prev + 2 * pad, n_W_prev + 2 * pad
    dropped_rows = _unreached(n_H_pad, n_H, f, stride, dilation)
    dropped_cols = _unreached(n_W_pad, n_W, f, stride, dilation)
    return Geometry(
        n_H_prev=n_H_prev, n_W_prev=n_W_prev, f=f, stride=stride, pad=pad, dilation=dilation,
        f_eff=f_eff, n_H_pad=n_H_pad, n_W_pad=n_W_pad, n_H=n_H, n_W=n_W,
        formula_H=_formula("H", n_H_prev, f, stride, pad, dilation),
        formula_W=_formula("W", n_W_prev, f, stride, pad, dilation),
        dropped_rows=dropped_rows, dropped_cols=dropped_cols,
        explanation=_explain(n_H_pad, n_W_pad, n_H, n_W, f, f_eff, stride, pad, dilation,
                             dropped_rows, dropped_cols),
    )


def pool_geometry(n_H_prev: int, n_W_prev: int, f: int, *, stride: int) -> Geometry:
    """Output size of a pooling layer: conv_geometry with pad = 0 and dilation = 1.

    n_H = floor((n_H_prev - f) / stride) + 1. Example: pool_geometry(4, 4, 2, stride=2).n_H == 2.
    """
    n_H_prev, n_W_prev, f, stride = _checked_window(n_H_prev, n_W_prev, f, stride)
    return _checked_geometry(n_H_prev, n_W_prev, f, stride, 0, 1, pooling=True)


def _ranges(indices: tuple[int, ...]) -> str:
    """(0, 1, 2, 7) -> '0-2, 7'."""
    parts: list[str] = []
    start = prev = None
    for x in (*indices, None):
        if start is not None and (x is None or x != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if x is not None and start is None:
            start = x
        prev = x
    return ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _explain_axis(word: str, n_pad: int, n_out: int, f_eff: int, stride: int,
                  dropped: tuple[int, ...]) -> str:
    start = (n_out - 1) * stride
    last_end = start + f_eff  # one past the last row the last window covers
    text = (f"Along the {word}s, {_plural(n_out, 'window position')} "
            f"{'fits' if n_out == 1 else 'fit'}: the last one starts "
            f"at {word} {n_out - 1}*{stride} = {start} and covers {word}s {start}-{last_end - 1} "
            f"of the padded {word}s 0-{n_pad - 1}.")
    if last_end < n_pad:
        left = tuple(range(last_end, n_pad))
        text += (f" The floor drops the leftover {word}{'s' if len(left) > 1 else ''} "
                 f"{_ranges(left)}: no window reaches {'them' if len(left) > 1 else 'it'}, "
                 f"so {'they do' if len(left) > 1 else 'it does'} not affect the output.")
    inner = tuple(x for x in dropped if x < last_end)
    if inner:
        text += (f" Between window taps, {word}s {_ranges(inner)} are skipped (stride or "
                 f"dilation jumps over them).")
    return text


def _explain(n_H_pad, n_W_pad, n_H, n_W, f, f_eff, stride, pad, dilation, dropped_rows,
             dropped_cols) -> str:
    head = (f"Padding adds {_plural(pad, 'row')} and {_plural(pad, 'column')} on every side, "
            f"so the input becomes {n_H_pad} x {n_W_pad}. ")
    if dilation > 1:
        head += (f"With dilation {dilation} the {f} x {f} window spreads over "
                 f"{f_eff} x {f_eff} cells. ")
    head += f"The window moves {_plural(stride, 'cell')} at a time. "
    return (head + _explain_axis("row", n_H_pad, n_H, f_eff, stride, dropped_rows) + " "
            + _explain_axis("column", n_W_pad, n_W, f_eff, stride, dropped_cols)
            + f" The output is {n_H} x {n_W}.")


def layer_hparameters(hparameters, keys: tuple[str, ...], layer: str) -> dict:
    """Read the required integer keys of an hparameters dict, with learner-friendly errors."""
    if not isinstance(hparameters, dict):
        raise GeometryError(
            f"hparameters must be a dict with keys {', '.join(repr(k) for k in keys)} for "
            f"{layer}, but it is {type(hparameters).__name__}."
        )
    missing = [k for k in keys if k not in hparameters]
    if missing:
        raise GeometryError(
            f"hparameters for {layer} needs the keys {', '.join(repr(k) for k in keys)}; "
            f"missing: {', '.join(repr(k) for k in missing)}."
        )
    return dict(hparameters)


def as_float_array(name: str, x, rank: int, shape_words: str) -> np.ndarray:
    """Array of rank `rank` in float32 (kept) or float64 (everything else is promoted)."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise GeometryError(f"{name} must hold numbers, but its dtype is {x.dtype}.")
        x = x.astype(np.float64, copy=False)
    if x.ndim != rank:
        raise GeometryError(
            f"{name} must have {rank} axes {shape_words}, but it has {x.ndim} "
            f"(shape {tuple(x.shape)})."
        )
    if 0 in x.shape:
        raise GeometryError(f"{name} has an empty axis (shape {tuple(x.shape)}).")
    return x


def pad_limit_check(n_H_prev: int, n_W_prev: int, pad: int, pad_mode: str) -> None:
    """Reflect padding mirrors without repeating the edge, so it needs pad < n on each axis."""
    if pad_mode != "reflect":
        return
    for word, n in (("height n_H_prev", n_H_prev), ("width n_W_prev", n_W_prev)):
        if pad >= n:
            raise GeometryError(  # the sentence also offers other modes: problem is all of it
                f"Reflect padding mirrors the input without repeating its edge, so pad must "
                f"be smaller than the input's {word}: pad = {pad} but {word} = {n} "
                f"(a mirror of {n} cells has only {n - 1} cells beyond the edge). "
                f"Use pad <= {n - 1}, or pad_mode 'edge' or 'constant'.",
                (Limit("pad", "<=", n - 1),))


def prod(shape) -> int:
    return math.prod(int(s) for s in shape)


def check_grad(name: str, grad, shape: tuple[int, ...]) -> np.ndarray:
    """An incoming gradient must have the forward output's shape (m, n_H, n_W, n_C)."""
    grad = as_float_array(name, grad, 4, "(m, n_H, n_W, n_C)")
    if grad.shape != tuple(shape):
        raise GeometryError(
            f"{name} must have the shape of the forward output (m, n_H, n_W, n_C) = "
            f"{tuple(shape)}, but its shape is {grad.shape}."
        )
    return grad
