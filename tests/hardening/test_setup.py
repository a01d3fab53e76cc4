"""`make serve` installs only what serving needs (issue 10, §2.7).

scripts/setup.sh runs in a copy of the repository with a stand-in Python whose `pip`
records what it is asked to install (nothing is downloaded): without options it installs
exactly pyproject.toml's runtime dependencies, never the project itself (no editable
install, so no setuptools warning) and no test tool; `--dev` adds the dev extra; a
second run installs nothing. The Makefile's serve recipe uses the runtime set only.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = PROJECT["dependencies"]
DEV = PROJECT["optional-dependencies"]["dev"]


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _repo(tmp_path: Path) -> tuple[Path, Path, dict]:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    log = tmp_path / "pip.log"
    venv_python = tmp_path / "venv-python"
    # .venv/bin/python: `-m pip ...` is recorded (with the requirement files' lines),
    # everything else runs on the real interpreter
    _script(venv_python, f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "PIP $*" >> "{log}"
  prev=""
  for a in "$@"; do
    if [ "$prev" = "-r" ]; then sed 's/^/REQ /' "$a" >> "{log}"; fi
    prev="$a"
  done
  exit 0
fi
exec "{sys.executable}" "$@"
""")
    system_python = tmp_path / "python3"
    _script(system_python, f"""#!/bin/sh
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 1
mkdir -p "$3/bin" && cp "{venv_python}" "$3/bin/python"
""")
    env = {**os.environ, "PYTHON": str(system_python)}
    return repo, log, env


def _run(repo: Path, env: dict, *args: str) -> str:
    out = subprocess.run(["bash", "scripts/setup.sh", *args], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout + out.stderr


def _installed(log: Path) -> tuple[list[str], list[str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return ([ln[4:] for ln in lines if ln.startswith("PIP ")],
            [ln[4:] for ln in lines if ln.startswith("REQ ")])


def test_serve_setup_installs_the_runtime_packages_only(tmp_path):
    repo, log, env = _repo(tmp_path)
    out = _run(repo, env)
    pips, reqs = _installed(log)
    assert reqs == RUNTIME, reqs
    assert len(pips) == 1 and not {"-e", ".", ".[dev]"} & set(pips[0].split()), pips
    for tool in ("pytest", "playwright", "hypothesis", "schemathesis", "ruff", "httpx"):
        assert not any(r.startswith(tool) for r in reqs), tool
    assert "editable" not in out.lower()
    # idempotent: nothing more to install
    _run(repo, env)
    assert _installed(log)[0] == pips


def test_dev_setup_adds_the_test_tools(tmp_path):
    repo, log, env = _repo(tmp_path)
    _run(repo, env, "--dev")
    pips, reqs = _installed(log)
    assert reqs == [*RUNTIME, *RUNTIME, *DEV], reqs  # runtime first, then runtime + dev
    assert all("-e" not in p.split() for p in pips)
    _run(repo, env, "--dev")
    assert len(_installed(log)[0]) == len(pips)


def test_unknown_option_is_refused(tmp_path):
    repo, _, env = _repo(tmp_path)
    out = subprocess.run(["bash", "scripts/setup.sh", "--everything"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--everything" in out.stderr


def _recipe(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text()
    m = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, flags=re.M)
    assert m, target
    return [line.strip() for line in m.group(1).splitlines()]


def test_makefile_serve_sets_up_the_runtime_only_and_test_the_dev_tools():
    assert _recipe("serve")[0] == "./scripts/setup.sh"
    assert _recipe("test")[0] == "./scripts/setup.sh --browser"
    assert _recipe("lint")[0] == "./scripts/setup.sh --dev"
