"""The files core ships (see SOURCE.md): the 8 x 8 digits and the trained network's weights.

The only place in core that reads files: the network and its trainer take arrays.
    digits = load_digits()          # images uint8 (1797, 8, 8) 0..16, labels, the fixed split
    params = load_weights()         # {"conv1.W": (3, 3, 1, 8), ...} float64, checked
    manifold = load_manifold()      # core/ood.py's DigitManifold: is an input digit-like?
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..net import DEFAULT_NET, Network, check_params

DATA_DIR = Path(__file__).resolve().parent
DIGITS_PATH = DATA_DIR / "digits.npz"
WEIGHTS_PATH = DATA_DIR / "net_weights.safetensors"
WEIGHTS_INFO_PATH = DATA_DIR / "NET_WEIGHTS.json"
MANIFOLD_PATH = DATA_DIR / "digit_manifold.npz"


@dataclass(frozen=True)
class Digits:
    """images (n, 8, 8) uint8 0..16, labels (n,) uint8; train_index / test_index split them."""

    images: np.ndarray
    labels: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray

    def split(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of "train" or "test" (the held-out digits)."""
        index = {"train": self.train_index, "test": self.test_index}[part]
        return self.images[index], self.labels[index]


@lru_cache(maxsize=1)
def load_digits() -> Digits:
    """The shipped digits (read once; the arrays are read-only)."""
    with np.load(DIGITS_PATH, allow_pickle=False) as f:
        arrays = {k: f[k] for k in ("images", "labels", "train_index", "test_index")}
    for a in arrays.values():
        a.setflags(write=False)
    return Digits(**arrays)


def save_weights(params: dict, path: Path = WEIGHTS_PATH, metadata: dict | None = None) -> None:
    """Write the network's parameters as a .safetensors file (float64, contiguous)."""
    from safetensors.numpy import save_file

    tensors = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in params.items()}
    save_file(tensors, str(path), metadata={k: str(v) for k, v in (metadata or {}).items()})


def load_weights(path: Path = WEIGHTS_PATH, net: Network = DEFAULT_NET) -> dict:
    """The parameters in a .safetensors file, checked against `net` (ParamError if not)."""
    from safetensors.numpy import load_file

    return check_params(load_file(str(path)), net)


def weights_info() -> dict:
    """What core/data/NET_WEIGHTS.json records about the shipped weights."""
    return json.loads(WEIGHTS_INFO_PATH.read_text())


def save_manifold(manifold, path: Path = MANIFOLD_PATH) -> None:
    """Write a DigitManifold (core/ood.py) as .npz: means, precision, threshold."""
    np.savez(path, means=manifold.means, precision=manifold.precision,
             threshold=np.float64(manifold.threshold))


@lru_cache(maxsize=1)
def load_manifold():
    """The shipped DigitManifold (core/ood.py), read once."""
    from ..ood import DigitManifold

    with np.load(MANIFOLD_PATH, allow_pickle=False) as f:
        return DigitManifold(f["means"], f["precision"], float(f["threshold"]))
