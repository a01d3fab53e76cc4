#!/usr/bin/env bash
# Sets up a fresh machine for convstep: a virtual environment .venv with the packages a
# command needs, and Debian's chromium when the browser tests or benchmark need it.
#
#   ./scripts/setup.sh            the runtime packages only: what `make serve` needs
#   ./scripts/setup.sh --dev      also the test and lint tools (pyproject's `dev` extra, which
#                                 holds the `notebook` extra's anywidget and a Jupyter kernel
#                                 for the notebook tests), and
#                                 Debian's redis-server when it is missing (the shared-state
#                                 tests start their own, on a free loopback port)
#   ./scripts/setup.sh --browser  --dev, and Debian's chromium when it is missing
#
# The project itself is not installed (no editable install, nothing built): every command
# runs from the repository root, where `python -m app`, `python -m bench` and pytest find
# core/, app/ and bench/ as they are. The package lists are pyproject.toml's
# [project] dependencies and [project.optional-dependencies] dev.
# Idempotent: a second run takes well under a second (it reinstalls only after
# pyproject.toml changed).
set -euo pipefail
cd "$(dirname "$0")/.."

want=runtime
browser=0
for arg in "$@"; do
  case "$arg" in
    --dev) want=dev ;;
    --browser) want=dev; browser=1 ;;
    *) echo "setup: unknown option '$arg' (use --dev or --browser)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

# install runtime|dev: pyproject.toml's list for it, once per change of pyproject.toml.
install() {
  local stamp=".venv/.convstep-$1"
  if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then
    return
  fi
  echo "setup: installing the $1 packages into .venv"
  .venv/bin/python - "$1" > ".venv/requirements-$1.txt" <<'PYEOF'
import sys
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
extra = project["optional-dependencies"]["dev"] if sys.argv[1] == "dev" else []
print("\n".join([*project["dependencies"], *extra]))
PYEOF
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -r ".venv/requirements-$1.txt"
  touch "$stamp"
}

install runtime
if [ "$want" = dev ]; then
  install dev
fi

# apt_install PACKAGE: Debian's package, once (apt-get update only when something is missing).
apt_install() {
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if [ -z "${apt_updated:-}" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$1" >/dev/null
}

if [ "$want" = dev ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing Debian's redis-server (for the shared-state tests; not started)"
  apt_install redis-server
fi

if [ "$browser" = 1 ]; then
  if ! command -v "${CHROMIUM_PATH:-chromium}" >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium (about a minute, once)"
    apt_install chromium
  fi
fi
