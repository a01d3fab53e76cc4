"""Serve app.main:app as `python -m app` does, on an inherited listening socket.

    python tests/hardening/serve.py --fd N [--workers W] [--no-access-log]

The tests bind 127.0.0.1 port 0 themselves and pass the socket down, so no port is guessed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.__main__ import uvicorn_options


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    uvicorn.run("app.main:app", fd=args.fd, workers=args.workers,
                access_log=not args.no_access_log, **uvicorn_options())


if __name__ == "__main__":
    main()
