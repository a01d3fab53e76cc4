"""The `convstep` command (installed by `pip install .`; `python -m cli` from a checkout).

    convstep serve [--host H] [--port P] [--workers N]   the web app      (python -m app)
    convstep check FILE [--json] [...]                   your functions   (python -m core.check)
    convstep train [--epochs N] [--out FILE] [...]       the network      (python -m core.train)

Each subcommand's own flags: `convstep serve --help` and so on. Nothing is imported before
the subcommand is known, so `convstep train` sets BLAS's thread count before NumPy loads.
"""

from __future__ import annotations

import sys

USAGE = """usage: convstep {serve,check,train} [options]

  serve   serve the web app (Learn, Explore, Network): convstep serve --port 8000
  check   check your exercise functions: convstep check solution.py [--json]
  train   retrain the network's weights: convstep train [--epochs N] [--out FILE]

`convstep COMMAND --help` lists a command's options."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from app.__main__ import main as serve

        serve(rest, prog="convstep serve")
        return 0
    if command == "check":
        from cli.check import main as check

        return check(rest, prog="convstep check")
    if command == "train":
        from cli.train import run

        run(rest, prog="convstep train")
    print(f"convstep: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
