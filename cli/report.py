"""The checker's report for a person: plain text (a terminal) or HTML (Jupyter), both from
one outline, so that they say the same things with the same links.

    Checking solution.py: 8 of the exercise's 8 functions found.
      note: ...
    ok   zero_pad: correct on all 2 probe cases
    FAIL conv_forward: matches stride_missing: Window corners without the stride
         (what goes wrong), yours: / right: lines, first difference, hint, see it: <link>
"""

from __future__ import annotations

import html
import sys
import textwrap

from cli.contract import PITFALLS
from core.probes import FUNCTIONS


def failed(error: str) -> str:
    """What a call that did not give an output did: "raises ValueError: ..." for an
    exception, the outcome's own words ("returned a tuple of 3 ...") for a wrong return."""
    return error if error.startswith("returned") else f"raises {error}"

def _fmt(x) -> str:
    return "None" if x is None else f"{x:.6g}"


def describe_difference(d: dict | None) -> str:
    """One line for a first_difference dict."""
    if not d:
        return ""
    case = f"case {d['case']}"
    if d["kind"] == "timeout":
        return f"{case}: no answer in time"
    at = ""
    if d.get("step") is not None:  # counted from 1, as the page's "Step 3 of 24"
        at = f", step {d['step'] + 1}"
        if d.get("total_steps"):
            at += f" of {d['total_steps']}"
        if d.get("position"):
            at += f" (i, h, w, c) = {tuple(d['position'])}"
        if d.get("phase") == "crop":
            at += ", at the crop after that image's loop"
    if d["kind"] == "error":
        return f"{case}{at}: {failed(d['error'])}"
    if d["kind"] == "shape":
        return (f"{case}{at}: {d['output']} has shape {tuple(d['got_shape'])}, expected "
                f"{tuple(d['expected_shape'])}")
    cell = "[" + ", ".join(str(x) for x in d["cell"]) + "]" if d["cell"] else ""
    running = " (running total)" if d.get("basis") == "running" and d["output"] not in (
        "Z", "A") else ""
    return (f"{case}{at}: {d['output']}{cell}{running} is {_fmt(d['got'])}, should be "
            f"{_fmt(d['expected'])}")


def _skipped(skipped: list[dict]) -> str:
    """One line for the top-level statements that could not run here."""
    first = skipped[0]
    code = f" `{first['code']}`" if first["code"] else ""
    more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    return (f"skipped {len(skipped)} top-level statement{'s' if len(skipped) > 1 else ''} "
            f"that cannot run here (the first: {first['where']}{code}: {first['error']}"
            f"{more}); the functions were found without {'them' if len(skipped) > 1 else 'it'}.")


def outline(report: dict) -> tuple[list[tuple[str, str]], list[dict]]:
    """(head, blocks): the head's lines as (kind, text) with kind "title", "error" or
    "note"; one block per function: {"ok", "function", "message", "lines": [(kind, label,
    text)] with kind "wrap" (a paragraph), "text" (a line), "code" or "link"}."""
    found = report["functions"]
    head = [("title", f"Checking {report['source']}: {len(found)} of the exercise's "
                      f"{len(FUNCTIONS)} functions found.")]
    notes = report.get("notes", {})
    for error in notes.get("syntax_errors") or ():
        head.append(("error", f"cannot check that code: {error}; fix it and check again."))
    if notes.get("import_error"):
        head.append(("note", f"{notes['import_error']}."))
    if notes.get("skipped"):
        head.append(("note", _skipped(notes["skipped"])))
    if notes.get("stubbed"):
        head.append(("note", f"not installed here, stood in for: "
                             f"{', '.join(notes['stubbed'])}."))
    if report.get("missing") and found:
        head.append(("note", f"not in the file: {', '.join(report['missing'])}."))
    if not found and not notes.get("syntax_errors"):
        head.append(("note", "No function with an exercise name (" + ", ".join(FUNCTIONS)
                             + ")."))
    blocks = []
    for function, r in found.items():
        lines = []
        for said in r.get("lines") or ():
            lines.append(("wrap", "", said["what"]))
            if said["yours"]:  # the learner's own lines, as their file has them
                lines.append(("code", "yours:", "\n".join(x["code"] for x in said["yours"])))
            else:  # none of theirs is alike: the mistake as the exercise would write it
                lines.append(("code", "like:", said["mistake"]))
            lines.append(("code", "right:", said["right"]))
            if said["yours"]:
                places = "; ".join(x["place"] for x in said["yours"])
                lines.append(("text", "", f"(yours: {places})"))
        pitfall = next((p for p in PITFALLS if p.id == r.get("pitfall")), None)
        if pitfall:
            line = r["errors"][0]["line"]
            lines.append(("wrap", "", pitfall.explanation))
            lines.append(("code", "yours:", line))
            lines.append(("code", "right:", pitfall.suggestion(line)))
        if not r["ok"] and r["first_difference"] and r["status"] not in ("timeout", "pitfall"):
            lines.append(("text", "first difference:", describe_difference(
                r["first_difference"])))
        looped = _your_loop(r["first_difference"]) if not r["ok"] else None
        if looped:
            lines.append(("text", "your loop:", looped))
        if r.get("contract") and r["status"] != "contract":
            lines.append(("text", "also:", f"it {r['contract']}"))
        if r.get("hint"):
            lines.append(("text", "hint:", r["hint"]))
        if r["errors"] and r["status"] in ("mistake", "partial"):
            e = r["errors"][0]
            lines.append(("text", "", f"on case {e['case']} it {failed(e['error'])}{e['where']}"))
        if r["link"]:
            lines.append(("link", "see it:", r["link"]))
        blocks.append({"ok": r["ok"], "function": function, "message": r["message"],
                       "lines": lines})
    return head, blocks


def _span(window) -> str:
    (r0, r1), (c0, c1) = window
    return f"rows {r0}:{r1}, columns {c0}:{c1}"


def _your_loop(first: dict | None) -> str | None:
    """What the learner's traced loop read (or added into) at the first difference, beside
    the exercise's window (cli/tracer.py)."""
    if not first or not first.get("yours_window") or not first.get("right_window"):
        return None
    mine, right = first["yours_window"], first["right_window"]
    read = first.get("yours_read") or mine
    where = "" if read == mine else f" (= {_span(mine)} of the padded input)"
    said = (f"at that step it used {_span(read)} of {first['yours_source']}{where}"
            f" (line {first['yours_line']}: `{first['yours_code']}`)")
    if mine == right:
        return f"{said}, the right window"
    return f"{said}; the right window is {_span(right)}"


def _code(label: str, text: str) -> list[str]:
    """'yours: first line' and the next lines under it."""
    return [f"{label if k == 0 else '':6} {code}" for k, code in enumerate(text.splitlines()
                                                                          or [""])]


def format_report(report: dict) -> str:
    """The report as text, 100 columns."""
    head, blocks = outline(report)
    lines = [text if kind == "title" else f"  {kind}: {text}" for kind, text in head]
    for block in blocks:
        if not block["ok"] or lines[-1].startswith("     "):
            lines.append("")
        lines.append(f"{'ok  ' if block['ok'] else 'FAIL'} {block['function']}: "
                     f"{block['message']}")
        for kind, label, text in block["lines"]:
            if kind == "code":
                lines.extend(f"     {line}" for line in _code(label, text))
            elif kind == "wrap":
                lines.extend(textwrap.wrap(text, 96, initial_indent="     ",
                                           subsequent_indent="     "))
            else:
                lines.append(f"     {label + ' ' if label else ''}{text}")
    return "\n".join(lines)


_STYLE = ("font-family: system-ui, sans-serif; font-size: 14px; line-height: 1.45; "
          "max-width: 60em")


def format_html(report: dict) -> str:
    """The report as one HTML fragment (Jupyter's output cell): the same outline, the links
    clickable, the code in <pre>."""
    head, blocks = outline(report)
    e = html.escape
    parts = [f'<div class="convstep-check" style="{_STYLE}">']
    for kind, text in head:
        if kind == "title":
            parts.append(f"<p><strong>{e(text)}</strong></p>")
        else:
            color = "#b00020" if kind == "error" else "#555"
            parts.append(f'<p style="margin: 0.2em 0; color: {color}">{e(kind)}: {e(text)}</p>')
    for block in blocks:
        mark, color = ("ok", "#1b7f3b") if block["ok"] else ("FAIL", "#b00020")
        parts.append(f'<div style="margin: 0.6em 0"><p style="margin: 0"><strong style="color: '
                     f'{color}">{mark}</strong> <code>{e(block["function"])}</code>: '
                     f'{e(block["message"])}</p>')
        for kind, label, text in block["lines"]:
            lab = f"{e(label)} " if label else ""
            if kind == "code":
                parts.append(f'<pre style="margin: 0.1em 0 0.1em 1.5em">'
                             f'{e(chr(10).join(_code(label, text)))}</pre>')
            elif kind == "link":
                parts.append(f'<p style="margin: 0.1em 0 0.1em 1.5em">{lab}<a href="{e(text)}" '
                             f'target="_blank" rel="noopener">{e(text)}</a></p>')
            else:
                parts.append(f'<p style="margin: 0.1em 0 0.1em 1.5em">{lab}{e(text)}</p>')
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)


def in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel (IPython with a kernel, not a terminal)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def show(report: dict) -> None:
    """The report as HTML in Jupyter, as text elsewhere."""
    if in_jupyter():
        from IPython.display import HTML, display

        display(HTML(format_html(report)))
    else:
        print(format_report(report))
