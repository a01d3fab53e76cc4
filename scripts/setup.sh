#!/usr/bin/env bash
# Sets up a fresh machine for convstep: a virtual environment with every package, and,
# when asked for (--browser), Debian's chromium for the browser tests and benchmark.
# Idempotent: a second run takes a couple of seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.convstep-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing packages into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
  touch "$stamp"
fi

if [ "${1:-}" = "--browser" ]; then
  if ! command -v "${CHROMIUM_PATH:-chromium}" >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium (about a minute, once)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi
