"""Does an input look like a digit at all? Its distance to the digits, in the 8 x 8 input space.

A network answers "4 at 95%" for a photo of a circuit board, because softmax must spread all
of its probability over the ten classes: its confidence says nothing about inputs unlike
anything it was trained on. Whether the input is like the training digits is a question about
the input alone, the same for every set of weights, so it is asked in the input space:

    x = pixels / 16, flattened (64,)
    distance(x) = min_c sqrt((x - mu_c)^T P (x - mu_c))      (Mahalanobis, tied covariance)

mu_c is the mean of class c's reference digits and P = (S + ridge * I)^-1, S the covariance of
every reference digit around its own class's mean (one Gaussian per class, one shared shape:
linear discriminant analysis's model). The reference digits are the training split, the same
digits varied by core/augment.py's warp_digits, and drawings of core/drawn.py's letterforms:
everything the network was trained on. The threshold is the `quantile` (99%) of the distances
of calibration digits the fit never saw: the 360 held-out digits and a drawn set with its own
seed. So about 1% of real digits are flagged, by construction; what is left to measure is how
often a drawing is flagged and how often a non-digit is not (tests/core/test_ood.py).

    m = fit_manifold(images, labels)      # DigitManifold(means, precision, threshold=inf)
    m = m.calibrated(held_out_images)     # threshold: the 99% quantile of their distances
    m.distance(pixels)                    # (n,) distances; > m.threshold: not a digit
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .net import PIXEL_MAX

RIDGE = 0.01  # added to the covariance's diagonal: pixels that never vary still count
QUANTILE = 0.99


def _flat(pixels) -> np.ndarray:
    x = np.asarray(pixels, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    return x.reshape(len(x), -1) / PIXEL_MAX  # (n, 64)


@dataclass(frozen=True)
class DigitManifold:
    """means (n_classes, 64), precision (64, 64), threshold (a distance; inf: uncalibrated)."""

    means: np.ndarray
    precision: np.ndarray
    threshold: float = float("inf")

    def distances(self, pixels) -> np.ndarray:
        """(n, n_classes) Mahalanobis distance of each input (n, 8, 8) 0..16 to each class."""
        x = _flat(pixels)
        d = x[:, None, :] - self.means[None]  # (n, n_classes, 64)
        return np.sqrt(np.maximum(np.einsum("ncj,jk,nck->nc", d, self.precision, d), 0.0))

    def distance(self, pixels) -> np.ndarray:
        """(n,) distance of each input to the nearest class."""
        return self.distances(pixels).min(axis=1)

    def calibrated(self, pixels, quantile: float = QUANTILE) -> DigitManifold:
        """The same manifold with threshold = the quantile of these digits' distances."""
        return replace(self, threshold=float(np.quantile(self.distance(pixels), quantile)))

    def verdict(self, pixels) -> dict:
        """For one input (8, 8): {"distance", "threshold", "nearest" (class), "digit_like"}."""
        d = self.distances(pixels)[0]
        nearest = int(np.argmin(d))
        return {"distance": float(d[nearest]), "threshold": self.threshold,
                "nearest": nearest, "digit_like": bool(d[nearest] <= self.threshold)}


def fit_manifold(images, labels, n_classes: int = 10, ridge: float = RIDGE) -> DigitManifold:
    """Class means and the shared precision of reference digits (n, 8, 8) 0..16."""
    x = _flat(images)
    y = np.asarray(labels).astype(np.intp)
    means = np.stack([x[y == c].mean(axis=0) for c in range(n_classes)])  # (n_classes, 64)
    centred = x - means[y]  # (n, 64)
    cov = centred.T @ centred / max(1, len(x) - n_classes) + ridge * np.eye(x.shape[1])
    return DigitManifold(means, np.linalg.inv(cov))


CALIBRATION_SEED = 7  # the calibration drawings' seed (the reported drawn set's is 2026)


def build_manifold(images, labels, held_out, *, seed: int = 3,
                   synthetic: int = 1000) -> DigitManifold:
    """The shipped manifold: fitted on the training digits, one warped copy of each and
    `synthetic` drawings (seeded), calibrated on the held-out digits and a drawn set of
    CALIBRATION_SEED (2 drawings of every letterform at every size)."""
    from .augment import synthetic_digits, warp_digits
    from .drawn import drawn_pixels, drawn_set

    rng = np.random.default_rng(seed)
    images, labels = np.asarray(images), np.asarray(labels)
    drawn, drawn_labels = synthetic_digits(synthetic, rng)
    reference = np.concatenate([images, warp_digits(images, rng), drawn])
    manifold = fit_manifold(reference, np.concatenate([labels, labels, drawn_labels]))
    calibration = drawn_pixels(drawn_set(per_form=2, seed=CALIBRATION_SEED).strokes)
    return manifold.calibrated(np.concatenate([np.asarray(held_out), calibration]))
