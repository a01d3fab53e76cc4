"""Shared helpers for the core tests: random arrays and centred finite differences."""

import sys
from pathlib import Path

import numpy as np
import pytest

# bench/ is not an installed package: make it importable however pytest is started.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)


def _numeric_grad(loss, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred differences (loss(x + eps) - loss(x - eps)) / (2 eps), one entry at a time."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = loss()
        x[idx] = old - eps
        down = loss()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.fixture
def numeric_grad():
    return _numeric_grad
