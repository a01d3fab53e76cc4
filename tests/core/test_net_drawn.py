"""The shipped network reads what people draw: the drawn-digit set, per size, and the
training that makes it (augmentation, core/augment.py)."""

import numpy as np
import pytest

from core.augment import synthetic_digits, warp_digits
from core.data import load_digits, load_weights, weights_info
from core.drawn import LETTERFORMS, PIXEL_PENS, SIZES, accuracy_by_size, drawn_set
from core.net_input import PEN_SHARE
from core.train import SHIPPED, TrainConfig, Trainer, evaluate


@pytest.fixture(scope="module")
def by_size():
    return accuracy_by_size(load_weights())


def test_the_shipped_network_reads_the_held_out_digits():
    assert evaluate(load_weights(), *load_digits().split("test"))[1] >= 0.97


@pytest.mark.parametrize("size", SIZES)
def test_the_shipped_network_reads_drawn_digits_at_every_size(by_size, size):
    """At least 95% of the drawn set right at each size, down to a fifth of the pad."""
    assert by_size[size] >= 0.95


def test_the_recorded_drawn_accuracy_is_the_measured_one(by_size):
    recorded = weights_info()["drawn_accuracy"]
    assert recorded["all"] == pytest.approx(by_size[0.0], abs=1e-12)
    for size in SIZES:
        assert recorded[f"{size:g}"] == pytest.approx(by_size[size], abs=1e-12)


@pytest.fixture(scope="module")
def as_pixels():
    """Accuracy on the drawn set (2 drawings of every letterform at every size) sent as the
    pad's pixels, by pen, read as they are (before) and thinned and redrawn (after)."""
    drawn, params = drawn_set(per_form=2), load_weights()
    return {(key, pen, redraw): accuracy_by_size(params, drawn, redraw=redraw, **{key: pen})
            for key, pen in PENS for redraw in (False, True)}


# the README's pens but the strokes' own (0.17 of the digit: the strokes' input again)
PENS = tuple(p for p in PIXEL_PENS if p != ("digit_pen", PEN_SHARE))


@pytest.mark.slow  # in make test; make test-fast skips it (3,900 drawings redrawn: 14 s)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key, pen", PENS)
def test_drawings_sent_as_pixels_are_read_at_every_size(as_pixels, key, pen, size):
    """At least 95% right at every size, thin or thick, once redrawn; except the page's pen
    on a digit a fifth of the pad high (the pen 0.43 of its height, its loops filled in),
    where 88% (measured 47 of 52 here, 93.6% on the whole set; read as they are, 44 of 52
    and 80.8%)."""
    after = as_pixels[(key, pen, True)]
    assert after[size] >= (0.88 if (key, size) == ("pad_pen", 0.2) else 0.95)
    assert after[0.0] >= as_pixels[(key, pen, False)][0.0]  # never worse than before


def test_the_page_before_the_fix_misread_small_drawings():
    """The old input (a pen 0.085 of the pad) misreads drawings a fifth of the pad high far
    more often: the measurement that motivated the fix, kept true by the same set."""
    before = accuracy_by_size(load_weights(), drawn_set(per_form=2, sizes=(0.2,)),
                              pad_pen=0.085)
    assert before[0.2] < 0.85


def test_every_letterform_is_drawn():
    assert LETTERFORMS[7] == ("plain", "crossbar", "short_top", "curved", "serif")
    assert {"plain", "flag", "base"} <= set(LETTERFORMS[1])
    assert {"open", "closed"} <= set(LETTERFORMS[4])
    assert set(LETTERFORMS[9]) == {"straight_tail", "curved_tail"}


def test_warp_digits_varies_digits_within_the_datas_form():
    images, _ = load_digits().split("train")
    a = warp_digits(images[:50], np.random.default_rng(1))
    b = warp_digits(images[:50], np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)  # seeded
    assert a.dtype == np.uint8 and a.shape == (50, 8, 8) and a.max() <= 16
    assert (a.max(axis=(1, 2)) == 16).all()  # every one made like the data: its peak is 16
    assert (a != images[:50]).any(axis=(1, 2)).mean() > 0.9  # and varied
    ink = a.reshape(50, -1).sum(axis=1).mean() / images[:50].reshape(50, -1).sum(axis=1).mean()
    assert 0.8 < ink < 1.25


def test_warp_digits_without_variation_keeps_a_digit_close():
    images, _ = load_digits().split("train")
    same = warp_digits(images[:20], np.random.default_rng(0), rotate=0, shear=0,
                       widths=(1, 1), cuts=(0.45, 0.45)).astype(int)
    assert np.abs(same - images[:20]).mean() < 2.5  # of 0..16: a cut and a resampling away


def test_synthetic_digits_are_labelled_drawings():
    pixels, labels = synthetic_digits(40, np.random.default_rng(2))
    assert pixels.shape == (40, 8, 8) and labels.shape == (40,)
    assert set(labels) <= set(range(10))
    assert (pixels.max(axis=(1, 2)) == 16).all()


def test_the_trainer_adds_synthetic_drawings_and_warps_each_epoch():
    images, labels = load_digits().split("train")
    t = Trainer(images[:64], labels[:64], TrainConfig(epochs=1, synthetic=16, warp=0.5))
    assert len(t.y) == 80 and t.steps_per_epoch == 3
    t.step()
    changed = (t._X_epoch != t.X).any(axis=(1, 2, 3)).mean()
    assert 0.3 < changed <= 1.0  # half warped, and shifted
    assert SHIPPED.synthetic > 0 and SHIPPED.warp > 0
    assert TrainConfig().synthetic == 0 and TrainConfig().warp == 0  # the server's plain run
    assert weights_info()["config"] == SHIPPED.__dict__


def test_the_readmes_table_shows_the_recorded_accuracy():
    """The README's 'after' row is NET_WEIGHTS.json's drawn_accuracy, size by size."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| after:"))
    shown = [c.strip() for c in row.strip("|").split("|")[1:]]
    recorded = weights_info()["drawn_accuracy"]
    want = [f"{recorded[f'{s:g}']:.1%}".replace(".0%", "%") for s in SIZES]
    assert shown == [*want, f"{recorded['all']:.1%}".replace(".0%", "%")]
