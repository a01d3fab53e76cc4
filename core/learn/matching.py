"""Which classic mistakes explain a learner's outcomes, and which probe cases show each one.

    from core.learn.matching import diagnose
    diagnose("conv_forward", {case name: Outcome, ...})
    # {"ok": False, "mistakes": ["stride_missing"], "variants": [...], "first_difference": ...}

Why: the checker and the page's upload both turn "your output differs" into "this is the
mistake you made, and here is where it first shows". A variant matches when it agrees with
the learner on every case given and differs from the right code on at least one; two
variants of different mistakes are tried together when asked (`pairs`).

When nothing matches whole, the nearest mistake is named with its evidence (`nearest`): a
part of a variant (its edit of one line: the rows only, the max branch only) that matches
every case, else the variant or part that agrees with the learner's outputs on the most of
the cases where the learner is wrong ("in max mode (cases ...), not in average mode ...").
Evidence is about outputs only: two errors of one type are not evidence.
"""

from __future__ import annotations

import itertools
from functools import cache

from ..probes import cases_of, get_case
from .differences import compare_outcomes, first_step_difference
from .outcomes import (
    Outcome,
    edits_outcome,
    exercise_outcome,
    outputs_agree,
    right_outcome,
    variant_outcome,
)
from .variants import MISTAKE_IDS, check_function, compatible, parts_of, variant, variants_of


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
    "first_difference", "nearest" (None, or when nothing matches whole the nearest mistake:
    {"mistake", "flavour", "lines" (a part's line ids, or None), "evidence", "cases" (where
    the learner is wrong and it agrees), "not_cases" (where it does not agree; for a part
    that matches every case, where the whole variant does not)})}. first_difference: for a matched
    mistake, the variant's running first difference on the first case where it shows
    (default_case's choice when given); otherwise the first case where the learner
    differs, read from its final outputs. With `pairs`, when no
    single variant matches, every two variants of different mistakes are tried together
    (a learner's code may have two of them).
    """
    check_function(function)
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
                "first_difference": None, "nearest": None}
    matched = []
    nearest = None
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
        nearest = nearest_mistake(function, outcomes, names)
    return {"ok": False, "mistakes": mistakes, "variants": [v.flavour for v in matched],
            "cases": cases, "first_difference": first, "nearest": nearest}


def _candidates(function: str):
    """(variant, part or None, outcome of a case name) for every variant and its parts."""
    for v in variants_of(function):
        yield v, None, lambda n, v=v: variant_outcome(v, n)
        for part in parts_of(v):
            yield v, part, lambda n, part=part: edits_outcome(function, n, part.edits)


def nearest_mistake(function: str, outcomes: dict[str, Outcome], names=None) -> dict | None:
    """The known mistake nearest to a learner's outcomes that no variant matches whole, with
    its evidence (see diagnose's "nearest"); None when no variant or part agrees with the
    learner's outputs on any case where the learner is wrong."""
    wrong = [n for n, o in outcomes.items()
             if o.ok and not outputs_agree(right_outcome(function, n), o, names)]
    best = None
    for v, part, outcome in _candidates(function):
        agree = [n for n in outcomes if outputs_agree(outcome(n), outcomes[n], names)]
        explained = [n for n in wrong if n in agree]
        if not explained:
            continue
        missed = [n for n in outcomes if n not in agree]
        score = (not missed, len(explained), -len(missed), part is None)
        if best is None or score > best[0]:
            best = (score, v, part, explained, missed)
    if best is None:
        return None
    _, v, part, explained, missed = best
    if part is not None and not missed:  # the part matches whole: not where the rest shows
        evidence = f"{part.where}, not {part.not_where}"
        missed = [n for n in outcomes
                  if not outputs_agree(variant_outcome(v, n), outcomes[n], names)]
    else:
        evidence = _case_evidence(function, explained, missed)
        if part is not None:
            evidence = f"{part.where}: {evidence}"
    return {"mistake": v.mistake, "flavour": v.flavour,
            "lines": list(part.lines) if part else None, "evidence": evidence,
            "cases": explained, "not_cases": missed}


def _case_evidence(function: str, explained: list[str], missed: list[str]) -> str:
    """'in max mode (a, b), not in average mode (c)' when the modes part them, else
    'on cases a, b, not on c'."""
    def mode(n):
        return get_case(function, n).inputs.get("mode")

    said, other = {mode(n) for n in explained}, {mode(n) for n in missed}
    if None not in said and len(said) == 1 and said.isdisjoint(other) and len(other) == 1:
        return (f"in {said.pop()} mode ({', '.join(explained)}), not in {other.pop()} mode "
                f"({', '.join(missed)})")
    return (f"on case{'s' if len(explained) > 1 else ''} {', '.join(explained)}, not on "
            f"{', '.join(missed)}")


def _matching_pair(function: str, outcomes: dict[str, Outcome], names) -> tuple | None:
    """Two variants of different mistakes whose bugs together give the learner's outcomes."""
    for a, b in itertools.combinations(variants_of(function), 2):
        if a.mistake == b.mistake or not compatible((a.flavour, b.flavour)):
            continue
        bugs = frozenset({a.flavour, b.flavour})
        if all(outputs_agree(exercise_outcome(function, n, bugs), o, names)
               for n, o in outcomes.items()):
            return a, b
    return None

