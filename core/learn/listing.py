"""The exercise's code as lines with ids, and edits of named lines: what every other copy is
derived from.

    from core.learn.listing import listing, edited
    listing()["zero_pad"]   # (Line("def", "def zero_pad(X, pad):"), Line("pad", ...), ...)
    edited([("conv_forward", "vs", "h * stride", "h")])  # the source with one line changed

Why lines with ids: the page highlights the lines a step runs, a mistake names the lines it
replaces, an extra ("More") names the lines it changes, and all three must point at the same
text. SOURCE (core/learn/source.py) is parsed once into functions of `Line`s; an `Edit`
changes one named line of one function, either replacing the text `old` inside it (which
must occur exactly once, so two edits of one line compose: `+=` -> `=` and `a_slice` -> `W`)
or, with `old` None, the whole line (`new` may hold several lines, each indented like the
line it replaces; the second gets the id + "2", ...; `new` None leaves the line out). An edit
that cannot apply raises EditError: a variant can never silently run the right code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from .source import SOURCE

_ANNOTATION = re.compile(
    r"\s+#@ (?P<id>[A-Za-z0-9_]+)(?: \| (?P<kind>step|crop) (?P<names>[\w ]+))?$")
_DEF = re.compile(r"def (\w+)\(")


@dataclass(frozen=True)
class Line:
    """One line of the listing: its id within its function, its text (indented as shown),
    and the step directive of the runnable code ((kind, names) or None)."""

    id: str
    text: str
    directive: tuple[str, tuple[str, ...]] | None = None

    @property
    def indent(self) -> str:
        return self.text[: len(self.text) - len(self.text.lstrip())]


@dataclass(frozen=True)
class Edit:
    """Change line `line` of `function`: `old` -> `new` inside it, or the whole line when
    `old` is None (`new` None: the line is left out)."""

    function: str
    line: str
    old: str | None
    new: str | None


class EditError(ValueError):
    """An edit names a line that does not exist, or text the line does not hold once."""


def _parse(source: str) -> dict[str, tuple[Line, ...]]:
    functions: dict[str, list[Line]] = {}
    current = None
    for raw in source.splitlines():
        if not raw.strip():
            continue
        found = _ANNOTATION.search(raw)
        if found is None:
            raise ValueError(f"a line of SOURCE without an id: {raw!r}")
        text = raw[: found.start()].rstrip()
        if text.startswith("def "):
            current = _DEF.match(text).group(1)
            functions[current] = []
        directive = ((found["kind"], tuple(found["names"].split())) if found["kind"] else None)
        lines = functions[current]
        if any(x.id == found["id"] for x in lines):
            raise ValueError(f"{current}: the id {found['id']!r} is used twice")
        lines.append(Line(found["id"], text, directive))
    return {name: tuple(lines) for name, lines in functions.items()}


FUNCTIONS_SOURCE: dict[str, tuple[Line, ...]] = _parse(SOURCE)


def as_edits(edits: Iterable) -> tuple[Edit, ...]:
    """Edits from Edit objects or (function, line, old, new) tuples."""
    return tuple(e if isinstance(e, Edit) else Edit(*e) for e in edits)


def _apply(line: Line, edit: Edit) -> list[Line]:
    if edit.old is None:
        if edit.new is None:
            return []
        return [Line(line.id if n == 0 else f"{line.id}{n + 1}", line.indent + text,
                     line.directive if n == 0 else None)
                for n, text in enumerate(edit.new.split("\n"))]
    if line.text.count(edit.old) != 1:
        raise EditError(f"{edit.function}.{edit.line}: {edit.old!r} is not once in "
                        f"{line.text.strip()!r}")
    return [Line(line.id, line.text.replace(edit.old, edit.new), line.directive)]


@cache
def _edited(edits: tuple[Edit, ...]) -> dict[str, tuple[Line, ...]]:
    out = {name: list(lines) for name, lines in FUNCTIONS_SOURCE.items()}
    for edit in edits:
        lines = out.get(edit.function)
        if lines is None:
            raise EditError(f"no function {edit.function!r} in the exercise")
        at = [k for k, x in enumerate(lines) if x.id == edit.line]
        if not at:
            raise EditError(f"{edit.function} has no line {edit.line!r} (left out or "
                            f"never there)")
        k = at[0]
        lines[k:k + 1] = _apply(lines[k], edit)
    return {name: tuple(lines) for name, lines in out.items()}


def edited(edits: Iterable = ()) -> dict[str, tuple[Line, ...]]:
    """{function: its lines} of SOURCE with `edits` applied in order (EditError if one
    cannot apply)."""
    return _edited(as_edits(edits))


def listing(edits: Iterable = ()) -> dict[str, tuple[Line, ...]]:
    """The eight functions as the page shows them (with `edits`, e.g. the extras' option
    edits), in the exercise's order."""
    return edited(edits)


def listing_json(edits: Iterable = ()) -> dict[str, list[dict]]:
    """{function: [{"id", "text"}]}: the listing as the page receives it."""
    return {name: [{"id": x.id, "text": x.text} for x in lines]
            for name, lines in listing(edits).items()}


def python_text(functions: dict[str, tuple[Line, ...]], *, steps: bool = False) -> str:
    """Runnable Python of `functions` (lines joined, a blank line between functions). With
    `steps`, the directives become yields: `| step NAMES` on a `for` line adds
    `yield "step", (NAMES,)` as the last statement of its body, `| crop NAMES` adds
    `yield "crop", (NAMES,)` after its line; a function with a yield becomes a generator
    whose return value is the function's (core/learn/exercise.py drains it)."""
    out: list[str] = []
    for lines in functions.values():
        body: list[str] = []
        pending: list[tuple[str, str]] = []  # (indent of the for line, yield text)
        for line in lines:
            width = len(line.indent)
            while pending and width <= len(pending[-1][0]):
                indent, text = pending.pop()
                body.append(indent + "    " + text)
            body.append(line.text)
            if steps and line.directive:
                kind, names = line.directive
                text = f"yield {kind!r}, ({', '.join(names)},)"
                if line.text.lstrip().startswith("for "):
                    pending.append((line.indent, text))
                else:
                    body.append(line.indent + text)
        while pending:
            indent, text = pending.pop()
            body.append(indent + "    " + text)
        out.append("\n".join(body))
    return "\n\n\n".join(out) + "\n"


def shown_text(lines: Iterable[Line]) -> str:
    """Lines as one text, dedented by the first line's indentation (a right or buggy line)."""
    lines = list(lines)
    if not lines:
        return ""
    cut = len(lines[0].indent)
    return "\n".join(x.text[cut:] if x.text[:cut].isspace() or not cut else x.text.lstrip()
                     for x in lines)
