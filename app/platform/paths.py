"""Where the shipped folders are: static/ and templates/ sit inside the app package when
installed (setup.py puts them there), else at the repository's top level in a checkout.
Pure pathlib, so the notebook widget (cli/notebook.py) finds static/ without importing the
web app."""

from __future__ import annotations

from pathlib import Path


def shipped_dir(name: str) -> Path:
    """static/ or templates/ (`name`): the installed package's copy, else the checkout's."""
    package = Path(__file__).resolve().parent.parent  # app/
    inside = package / name
    return inside if inside.is_dir() else package.parent / name
