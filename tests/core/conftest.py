"""Shared helpers for the core tests: random arrays and centred finite differences."""

import numpy as np
import pytest


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
