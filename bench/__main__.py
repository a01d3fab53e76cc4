"""`python -m bench [--quick] [--only NAME ...] [--update] [--out FILE] [--no-write]`: run the
benchmarks.

Sections are modules listed in SECTIONS, each with `run(quick: bool) -> str` (Markdown that
starts with its own "## " heading). A section that is missing or fails is reported in the
output, and the others still run. The result is printed and written to docs/BENCHMARKS.md
(unless --no-write); `--only NAME --update` replaces just those sections there (found by
their heading; appended when new), keeping every other section's numbers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench.common import environment

SECTIONS = ("bench.core_bench", "bench.api_bench", "bench.browser_bench", "bench.net_bench",
            "bench.load_bench", "bench.anim_bench")
OUTPUT = Path("docs/BENCHMARKS.md")


def run_section(name: str, quick: bool) -> str:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return f"## {name}\n\nNot present yet (no module `{name}`): skipped.\n"
        return f"## {name}\n\nCould not be imported (missing `{error.name}`): skipped.\n"
    except Exception:  # a section that cannot even load must not stop the others
        return f"## {name}\n\nFailed to import:\n\n```\n{traceback.format_exc(limit=5)}```\n"
    started = time.perf_counter()
    try:
        text = module.run(quick)
    except Exception:  # a broken section must not hide the others' numbers
        return (f"## {name}\n\nFailed:\n\n```\n{traceback.format_exc(limit=5)}```\n")
    return f"{text.rstrip()}\n\n_Section time: {time.perf_counter() - started:.0f} s._\n"


def replace_section(text: str, section: str) -> str:
    """`text` with the section of `section`'s heading (its first line) replaced by it, up to
    the next "## " heading; appended at the end when `text` has no such heading."""
    heading = section.splitlines()[0]
    lines = text.rstrip("\n").split("\n")
    if heading not in lines:
        return text.rstrip("\n") + "\n\n" + section.rstrip() + "\n"
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    rest = lines[end:]
    return "\n".join(lines[:start] + section.rstrip().split("\n")
                     + (["", *rest] if rest else [])) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--only", nargs="*", metavar="NAME",
                        help="section names to run, e.g. core_bench or core (default: all)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {OUTPUT}")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"file to write (default {OUTPUT} for a run of every section; a "
                             "run of some sections with --only writes only when given --out, "
                             "so that it never replaces the full results with a part)")
    parser.add_argument("--update", action="store_true",
                        help=f"with --only: replace those sections in {OUTPUT} (or --out), "
                             "keeping the others")
    args = parser.parse_args(argv)
    out = args.out or (None if args.only and not args.update else OUTPUT)

    names = SECTIONS
    if args.only:
        names = tuple(n for n in SECTIONS if n in args.only or n.split(".")[-1] in args.only
                      or n.split(".")[-1].removesuffix("_bench") in args.only)
    parts = ["# convstep benchmarks",
             "Written by `python -m bench` (`make bench`). Medians over interleaved rounds in "
             "one process; ratios compare medians taken in the same rounds. Lower is better "
             "for times; a target is met when the ratio is on the right side of it. The "
             "numbers move with machine load: rerun before reading much into a small miss.",
             environment() + ("\n- mode: --quick (few rounds)" if args.quick else "")]
    sections = []
    for name in names:
        print(f"bench: running {name} ...", file=sys.stderr, flush=True)
        sections.append(run_section(name, args.quick))
    if args.update and out is not None and out.exists():
        text = out.read_text()
        for section in sections:
            text = replace_section(text, section)
    else:
        text = "\n\n".join(p.rstrip() for p in parts + sections) + "\n"
    print(text)
    if out is not None and not args.no_write:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
