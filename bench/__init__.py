"""convstep benchmarks: `python -m bench` from the repository root writes docs/BENCHMARKS.md.

Each section is a module with `run(quick: bool) -> str` returning Markdown; bench/__main__.py
lists them in SECTIONS. Timing helpers shared by the sections live in bench/common.py.
"""
