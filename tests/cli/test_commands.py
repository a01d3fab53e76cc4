"""The commands: `convstep` (python -m cli) with serve, check and train, and the old names
python -m core.check and python -m core.train, which run the same code."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.data import DATA_DIR, WEIGHTS_PATH, load_digits, load_weights
from core.net import predict, scale_pixels

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).parent / "learner_files"


def _run(*args, timeout=60):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow  # two trainings in two processes
def test_the_train_command_writes_weights_by_either_name(tmp_path):
    for command in (("-m", "core.train"), ("-m", "cli", "train")):
        out = tmp_path / "w.safetensors"
        run = _run(*command, "--epochs", "1", "--out", out, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "epoch   1" in run.stdout and "held-out accuracy" in run.stdout
        params = load_weights(out)
        assert predict(params, scale_pixels(load_digits().images[:5])).shape == (5, 10)
        out.unlink()
    assert WEIGHTS_PATH.exists()  # the shipped file is not touched by --out
    assert json.loads((DATA_DIR / "NET_WEIGHTS.json").read_text())["config"]["epochs"] == 30


@pytest.mark.slow  # three checker runs, each with its child process
def test_convstep_check_prints_the_same_report_as_core_check():
    path = FILES / "stride_missing.py"
    old = _run("-m", "core.check", path, "--json")
    new = _run("-m", "cli", "check", path, "--json")
    assert old.returncode == new.returncode == 1, (old.stderr, new.stderr)
    assert json.loads(old.stdout) == json.loads(new.stdout)
    missing = _run("-m", "cli", "check", "nope.py")
    assert missing.returncode == 2 and missing.stderr.startswith("convstep check: no such file")


def test_convstep_without_a_known_command_says_what_it_has():
    assert "serve" in _run("-m", "cli", "--help").stdout
    bad = _run("-m", "cli", "nonsense")
    assert bad.returncode == 2 and "unknown command 'nonsense'" in bad.stderr
    assert "check" in bad.stderr and "train" in bad.stderr
    serve = _run("-m", "cli", "serve", "--port", "0")
    assert serve.returncode == 2 and "convstep serve: error: --port must be 1..65535" in (
        serve.stderr)
