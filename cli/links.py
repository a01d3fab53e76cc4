"""The Learn page's deep link, as the checker prints it and the server's upload diagnosis
returns it: /learn?fn=..&mistake=..&flavour=..&step=..&case=.. (the page's query is
app's LearnQuery, docs/CONTRACT.md "Checker link").

It lives beside the checker, which prints it on the learner's machine with no server
running; the server imports it from here so that the two links cannot drift.
"""

from __future__ import annotations

from urllib.parse import urlencode

from core.mistakes import MISTAKES


def page_link(base_url: str, function: str, mistake: str | None, step: int | None,
              case: str | None, flavour: str | None = None) -> str:
    """The Learn page in mistake mode at that step:
    /learn?fn=..&mistake=..&flavour=..&step=..&case=.. (flavour: which of the mistake's
    variants in `function`, e.g. assign_not_accumulate/dW; the page opens the first without
    it, whose steps may not be the ones `step` counts)."""
    query = {"fn": function}
    if mistake:
        query["mistake"] = mistake
        if flavour:
            query["flavour"] = flavour
    query["step"] = step if step is not None else 0
    if case:
        query["case"] = case
    return f"{base_url.rstrip('/')}/learn?{urlencode(query)}"


def flavour_of(function: str, mistake: str | None, variants) -> str | None:
    """The first of `variants` (flavour keys, as diagnose returns them) that is a variant of
    `mistake` in `function`; None without a mistake."""
    if not mistake:
        return None
    own = {v.flavour for v in MISTAKES[mistake].variants_of(function)}
    return next((f for f in variants if f in own), None)
