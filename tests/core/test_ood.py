"""Inputs that do not look like digits say so: the distance to the digits (core/ood.py)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data import load_digits, load_manifold, weights_info
from core.drawn import drawn_pixels, drawn_set
from core.net_input import digit_from_ink, digit_from_pixels, ink_from_gray, ink_from_strokes
from core.ood import DigitManifold, fit_manifold

SAMPLES = Path(__file__).resolve().parents[2] / "app" / "platform" / "samples"


def _photo(gray):
    """A photo's 8 x 8 input, as /api/network/run/photo makes it (thinned and redrawn)."""
    return digit_from_pixels(ink_from_gray(gray))[0].pixels


def circuit_board(rng, h=200, w=300):
    """A gray picture like a circuit board: a dark board, light traces and pads."""
    g = 0.3 + rng.normal(0, 0.05, (h, w))
    for _ in range(40):
        y, x = rng.integers(0, h), rng.integers(0, w)
        if rng.random() < 0.5:
            g[y:y + 3, x:x + rng.integers(10, 120)] = 0.85
        else:
            g[y:y + rng.integers(10, 100), x:x + 3] = 0.85
        g[y:y + 8, x:x + 8] = 0.95
    return np.clip(g, 0, 1)


@pytest.fixture(scope="module")
def manifold():
    return load_manifold()


def test_the_distance_by_hand():
    # two classes at 0 and at 16 in every pixel, precision the identity: an input of 4s is
    # sqrt(64 * (4/16)^2) = 2 from class 0, sqrt(64 * (12/16)^2) = 6 from class 1
    m = DigitManifold(np.stack([np.zeros(64), np.ones(64)]), np.eye(64), threshold=3.0)
    np.testing.assert_allclose(m.distances(np.full((1, 8, 8), 4.0)), [[2.0, 6.0]])
    assert m.verdict(np.full((8, 8), 4.0)) == {"distance": 2.0, "threshold": 3.0,
                                               "nearest": 0, "digit_like": True}
    assert m.verdict(np.full((8, 8), 8.0))["digit_like"] is False  # 4 from both


def test_fit_manifold_is_the_class_means_and_the_shared_covariance():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 17, (300, 8, 8))
    labels = np.repeat([0, 1, 2], 100)
    m = fit_manifold(images, labels, n_classes=3, ridge=0.0)
    x = images.reshape(300, 64) / 16
    np.testing.assert_allclose(m.means[1], x[100:200].mean(axis=0))
    centred = x - m.means[labels]
    np.testing.assert_allclose(np.linalg.inv(m.precision), centred.T @ centred / 297, atol=1e-10)
    assert m.distance(m.means[2].reshape(1, 8, 8) * 16)[0] == pytest.approx(0, abs=1e-6)
    c = m.calibrated(images, quantile=0.5)
    assert (m.distance(images) <= c.threshold).mean() == pytest.approx(0.5, abs=0.01)


def test_the_shipped_threshold_is_recorded(manifold):
    assert weights_info()["manifold"]["threshold"] == manifold.threshold
    assert np.isfinite(manifold.threshold)


def test_real_and_drawn_digits_are_digit_like(manifold):
    """False alarms: at most 2% of the held-out digits, 3% of the drawn set."""
    held_out, _ = load_digits().split("test")
    assert (manifold.distance(held_out) > manifold.threshold).mean() <= 0.02
    drawn = drawn_pixels(drawn_set().strokes)
    assert (manifold.distance(drawn) > manifold.threshold).mean() <= 0.03


def test_noise_is_not_a_digit(manifold):
    rng = np.random.default_rng(1)
    noise = [digit_from_pixels(rng.random((64, 64)) * (rng.random((64, 64)) < p))[0].pixels
             for p in (0.05, 0.2, 0.5, 1.0) for _ in range(5)]  # sent as a drawing's pixels
    assert (manifold.distance(np.array(noise)) > manifold.threshold).all()


def test_photos_are_not_digits(manifold):
    """The sample photos (whole and two crops each) and circuit boards: 80% flagged (read as
    they are, before photos were redrawn, 11 of 12 and 4 of 5 were; now 12 and 5)."""
    photos = []
    for path in sorted(SAMPLES.iterdir()):
        g = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255
        h, w = g.shape
        photos += [_photo(g), _photo(g[:h // 2, :w // 2]), _photo(g[h // 3:, w // 3:])]
    rng = np.random.default_rng(2)
    boards = [_photo(circuit_board(rng)) for _ in range(5)]
    assert len(photos) == 12
    flagged = manifold.distance(np.array(photos + boards)) > manifold.threshold
    assert flagged.mean() >= 0.8
    assert flagged[:12].sum() >= 11 and flagged[12:].sum() >= 4  # no fewer than before


def test_random_strokes_are_not_digits(manifold):
    """Scribbles: 1 to 3 strokes through 6 to 15 random points (fewer points can make a fair
    7 or 1): 80% flagged."""
    rng = np.random.default_rng(3)
    scribbles = [digit_from_ink(ink_from_strokes(
        [rng.uniform(0, 100, (rng.integers(6, 16), 2)) for _ in range(rng.integers(1, 4))]
    )).pixels for _ in range(100)]
    assert (manifold.distance(np.array(scribbles)) > manifold.threshold).mean() >= 0.8
