"""The exercise's classic mistakes as edits of named lines of its source, and the variants
they make: which function each changes, and the buggy line beside the right one.

    from core.learn.variants import MISTAKES, variant
    v = variant("conv_forward", "stride_missing")
    v.buggy_line, v.right_line      # "vert_start = h\\nhoriz_start = w", "... h * stride ..."
    Z, cache = v(A_prev, W, b, {"stride": 2, "pad": 1})   # the source with those lines edited

Why edits: a variant is the exercise's code (core/learn/source.py) with named lines changed,
so the code that runs, the lines mistake mode shows and the listing they sit in are one text.
A flavour key ("stride_missing", "assign_not_accumulate/dW") names one way of making a
mistake; FLAVOUR_EDITS gives its edits (function, line id, old text or None for the whole
line, new text or None to leave the line out; see core/learn/listing.py). A mistake has
one or more variants, (function, flavour) pairs; the first variant of a function is the one
the page shows. `via` names the helper the buggy lines live in when `function` only calls it
(conv_forward gets bias_per_element through conv_single_step); the page marks the line that
calls the helper.

Mistake ids (the API, the page and the checker use them): stride_missing, bias_per_element,
height_width_swapped, pad_all_axes, unpadded_slice, assign_not_accumulate,
distribute_without_dz, crop_minus_pad, mask_not_max, dW_without_slice. Their words are in
core/learn/descriptions.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from ..probes import FUNCTIONS
from .descriptions import TITLES, WHAT, what_goes_wrong
from .exercise import LOOPED, Exercise
from .listing import FUNCTIONS_SOURCE, Edit, EditError, Line, as_edits, edited, shown_text

_CONV = ("conv_forward", "conv_backward")
_SIZED = ("conv_forward", "pool_forward")  # the functions that compute n_H, n_W themselves
_PAD_TUPLE = "((0, 0), (pad, pad), (pad, pad), (0, 0))"
_MASKS = {
    "mask_not_max/min": ("np.max(x)", "np.min(x)"),
    "mask_not_max/scalar": (None, "mask = np.max(x)"),
    "mask_not_max/argmax": (None, "mask = np.zeros(x.shape, dtype=bool)\n"
                                  "mask[np.unravel_index(np.argmax(x), x.shape)] = True"),
    "mask_not_max/positive": ("x == np.max(x)", "x > 0"),
}

FLAVOUR_EDITS: dict[str, tuple[Edit, ...]] = {key: as_edits(edits) for key, edits in {
    "stride_missing": [e for fn in LOOPED for e in ((fn, "vs", "h * stride", "h"),
                                                     (fn, "hs", "w * stride", "w"))],
    "bias_per_element": [("conv_single_step", "s", None, "s = np.multiply(a_slice_prev, W) + b"),
                         ("conv_single_step", "bias", None, None)],
    "height_width_swapped": [e for fn in LOOPED for e in ((fn, "vs", "h * stride", "w * stride"),
                                                           (fn, "hs", "w * stride", "h * stride"))],
    "height_width_swapped/size": [e for fn in _SIZED for e in (
        (fn, "nH", "n_H_prev", "n_W_prev"), (fn, "nW", "n_W_prev", "n_H_prev"))],
    "pad_all_axes": [("zero_pad", "pad", _PAD_TUPLE,
                      "((pad, pad), (pad, pad), (pad, pad), (pad, pad))")],
    "unpadded_slice": [(fn, "apad", "A_prev_pad[i]", "A_prev[i]") for fn in _CONV],
    "assign_not_accumulate/dA_prev_pad": [("conv_backward", "da", " += ", " = ")],
    "assign_not_accumulate/dW": [("conv_backward", "dw", " += ", " = ")],
    "assign_not_accumulate/db": [("conv_backward", "db", " += ", " = ")],
    "assign_not_accumulate/pool": [("pool_backward", "addmax", " += ", " = "),
                                   ("pool_backward", "addavg", " += ", " = ")],
    "distribute_without_dz/no_dz": [("distribute_value", "avg", None,
                                     "average = 1 / (n_H * n_W)")],
    "distribute_without_dz/sum": [("distribute_value", "avg", "(n_H * n_W)", "(n_H + n_W)")],
    "crop_minus_pad": [("conv_backward", "crop", "pad:pad + n_H_prev, pad:pad + n_W_prev",
                        "pad:-pad, pad:-pad")],
    **{key: [("create_mask_from_window", "mask", old, new)]
       for key, (old, new) in _MASKS.items()},
    "dW_without_slice/W": [("conv_backward", "dw", "a_slice", "W[:, :, :, c]")],
    "dW_without_slice/dZ": [("conv_backward", "dw", "a_slice * ", "")],
}.items()}

# mistake id -> its variants (function, flavour, via), in the order the page lists them
_VARIANTS: dict[str, list[tuple[str, str, str | None]]] = {
    "stride_missing": [(fn, "stride_missing", None) for fn in LOOPED],
    "bias_per_element": [("conv_single_step", "bias_per_element", None),
                         ("conv_forward", "bias_per_element", "conv_single_step")],
    "height_width_swapped": [*((fn, "height_width_swapped", None) for fn in LOOPED),
                             *((fn, "height_width_swapped/size", None) for fn in _SIZED)],
    "pad_all_axes": [("zero_pad", "pad_all_axes", None),
                     ("conv_forward", "pad_all_axes", "zero_pad")],
    "unpadded_slice": [(fn, "unpadded_slice", None) for fn in _CONV],
    "assign_not_accumulate": [
        ("conv_backward", "assign_not_accumulate/dA_prev_pad", None),
        ("conv_backward", "assign_not_accumulate/dW", None),
        ("conv_backward", "assign_not_accumulate/db", None),
        ("pool_backward", "assign_not_accumulate/pool", None)],
    "distribute_without_dz": [
        *((fn, f"distribute_without_dz/{k}", via) for fn, via in (
            ("distribute_value", None), ("pool_backward", "distribute_value"))
          for k in ("no_dz", "sum"))],
    "crop_minus_pad": [("conv_backward", "crop_minus_pad", None)],
    "mask_not_max": [(fn, key, via) for fn, via in (
        ("create_mask_from_window", None), ("pool_backward", "create_mask_from_window"))
        for key in _MASKS],
    "dW_without_slice": [("conv_backward", f"dW_without_slice/{k}", None) for k in ("W", "dZ")],
}


def flavour_edits(bugs: Iterable[str]) -> tuple[Edit, ...]:
    """The edits of these flavour keys, in the order given (KeyError names the keys)."""
    out: tuple[Edit, ...] = ()
    for key in bugs:
        if key not in FLAVOUR_EDITS:
            raise KeyError(f"unknown flavour {key!r}; the flavours are "
                           f"{', '.join(FLAVOUR_EDITS)}")
        out += FLAVOUR_EDITS[key]
    return out


def _statement(lines: tuple[Line, ...], k: int) -> list[Line]:
    """Line k and the lines that continue its statement (open brackets)."""
    out, depth = [], 0
    for line in lines[k:]:
        out.append(line)
        depth += sum(line.text.count(o) for o in "([{") - sum(line.text.count(c) for c in ")]}")
        if depth <= 0:
            break
    return out


def _grown_from(line_id: str, base: str) -> bool:
    """Whether line_id is `base` or a line a whole-line edit of `base` added (base + "2")."""
    return line_id == base or (line_id.startswith(base) and line_id[len(base):].isdigit())


@dataclass(frozen=True)
class Variant:
    """One mistake in one seed function: the flavour key switched on in Exercise, and the
    lines it changes (derived from the source and FLAVOUR_EDITS). Call it like the seed
    function."""

    mistake: str
    function: str
    flavour: str
    via: str | None = None

    @property
    def key(self) -> str:
        return self.flavour

    @property
    def what_goes_wrong(self) -> str:
        return what_goes_wrong(self.mistake, self.flavour)

    @property
    def shown_in(self) -> str:
        """The function whose lines the bug edits (`via`, or `function`)."""
        return self.via or self.function

    @cached_property
    def _pairs(self) -> list[tuple[list[Line], list[Line]]]:
        """[(right lines, buggy lines)] per edited statement of shown_in, in source order."""
        fn = self.shown_in
        ids = {e.line for e in FLAVOUR_EDITS[self.flavour] if e.function == fn}
        right, buggy = FUNCTIONS_SOURCE[fn], edited(FLAVOUR_EDITS[self.flavour])[fn]
        pairs = []
        for k, line in enumerate(right):
            if line.id not in ids:
                continue
            got = [j for j, x in enumerate(buggy) if _grown_from(x.id, line.id)]
            bug = [x for j in got for x in _statement(buggy, j)] if got else []
            pairs.append((_statement(right, k), list(dict.fromkeys(bug))))
        return pairs

    @property
    def right_line(self) -> str:
        """The right code of the lines the mistake changes (dedented; lines joined by \\n)."""
        return "\n".join(shown_text(r) for r, _ in self._pairs)

    @property
    def buggy_line(self) -> str:
        """The same lines as the mistake writes them (a line it leaves out is absent)."""
        return "\n".join(shown_text(b) for _, b in self._pairs if b)

    def marks(self) -> list[dict]:
        """Where the page's listing of `function` shows the mistake: [{"lines": ids of the
        right lines (marked), "buggy": the buggy lines to show beneath them, as indented
        code ([] for a line the mistake leaves out), "via": the helper or None}]. For a
        variant `via` a helper, the line of `function` that calls the helper."""
        if self.via is None:
            return [{"lines": [x.id for x in r], "buggy": [x.text for x in b], "via": None}
                    for r, b in self._pairs]
        calls = [x for x in FUNCTIONS_SOURCE[self.function] if f"{self.via}(" in x.text]
        indent = calls[-1].indent
        return [{"lines": [x.id for x in calls],
                 "buggy": [indent + t for t in self.buggy_line.split("\n") if self.buggy_line],
                 "via": self.via}]

    def __call__(self, *args):
        return Exercise({self.flavour}).function(self.function)(*args)

    def to_dict(self) -> dict:
        return {"mistake": self.mistake, "function": self.function, "flavour": self.flavour,
                "what_goes_wrong": self.what_goes_wrong, "buggy_line": self.buggy_line,
                "right_line": self.right_line, "via": self.via, "marks": self.marks()}


@dataclass(frozen=True)
class Mistake:
    """A classic mistake of the exercise: its id, title, one line on what goes wrong, its
    typical buggy line against the right one (its first variant's), and its variants."""

    id: str
    variants: tuple[Variant, ...] = field(default=())

    @property
    def title(self) -> str:
        return TITLES[self.id]

    @property
    def what_goes_wrong(self) -> str:
        return WHAT[self.id]

    @property
    def buggy_line(self) -> str:
        return self.variants[0].buggy_line

    @property
    def right_line(self) -> str:
        return self.variants[0].right_line

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


MISTAKES: dict[str, Mistake] = {
    id: Mistake(id, tuple(Variant(id, fn, flavour, via) for fn, flavour, via in variants))
    for id, variants in _VARIANTS.items()}
MISTAKE_IDS: tuple[str, ...] = tuple(MISTAKES)


# What a variant's edit of one line covers, when the mistake can be made in that line alone:
# a learner's code may carry a mistake in one branch or one axis only (a part of a variant).
PART_WORDS = {"vs": "on the rows", "hs": "on the columns",
              "nH": "in n_H", "nW": "in n_W",
              "addmax": "in max mode", "addavg": "in average mode"}


@dataclass(frozen=True)
class Part:
    """Some of a variant's edited lines (the others left right): `lines` are the ids kept.
    `where` says what the part covers ("on the rows"), `not_where` what it leaves right."""

    variant: Variant
    lines: tuple[str, ...]

    @property
    def edits(self) -> tuple[Edit, ...]:
        return tuple(e for e in FLAVOUR_EDITS[self.variant.flavour] if e.line in self.lines)

    @property
    def where(self) -> str:
        return " and ".join(PART_WORDS[x] for x in self.lines)

    @property
    def not_where(self) -> str:
        rest = _part_lines(self.variant)
        return " and ".join(PART_WORDS[x] for x in rest if x not in self.lines)

    def _pairs(self) -> list:
        return [(r, b) for r, b in self.variant._pairs if r[0].id in self.lines]

    @property
    def right_line(self) -> str:
        return "\n".join(shown_text(r) for r, _ in self._pairs())

    @property
    def buggy_line(self) -> str:
        return "\n".join(shown_text(b) for _, b in self._pairs() if b)


def _part_lines(v: Variant) -> tuple[str, ...]:
    """The ids of the lines a variant edits in the function it changes (source order)."""
    fn = v.shown_in
    ids = {e.line for e in FLAVOUR_EDITS[v.flavour] if e.function == fn}
    return tuple(x.id for x in FUNCTIONS_SOURCE[fn] if x.id in ids)


def parts_of(v: Variant) -> tuple[Part, ...]:
    """A variant's parts: each of its edited lines alone, when it edits two or more lines
    that PART_WORDS names (stride_missing: the rows only, the columns only)."""
    lines = _part_lines(v)
    if len(lines) < 2 or any(x not in PART_WORDS for x in lines):
        return ()
    return tuple(Part(v, (x,)) for x in lines)


def check_function(function: str) -> None:
    if function not in FUNCTIONS:
        raise KeyError(f"unknown function {function!r}; the exercise's functions are "
                       f"{', '.join(FUNCTIONS)}")


def mistakes_of(function: str) -> tuple[Mistake, ...]:
    """The mistakes that change `function`'s output, in MISTAKE_IDS order."""
    check_function(function)
    return tuple(m for m in MISTAKES.values() if m.variants_of(function))


def variants_of(function: str) -> tuple[Variant, ...]:
    """Every variant of `function`, mistake by mistake."""
    return tuple(v for m in mistakes_of(function) for v in m.variants_of(function))


def variant(function: str, mistake: str, flavour: str | None = None) -> Variant:
    """The variant of `mistake` in `function` (its first flavour unless one is named).

    KeyError names what exists: the mistake ids, or the functions a mistake changes, or the
    flavours.
    """
    check_function(function)
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


def compatible(flavours: Iterable[str]) -> bool:
    """Whether these flavours' edits apply together (two edits of one text do not)."""
    try:
        edited(flavour_edits(sorted(flavours)))
    except EditError:
        return False
    return True
