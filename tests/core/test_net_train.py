"""The shipped digits and weights, and training by convstep's own backward pass."""

from pathlib import Path

import numpy as np
import pytest

from core.data import (
    DATA_DIR,
    load_digits,
    load_weights,
    save_weights,
    weights_info,
)
from core.net import DEFAULT_NET, ParamError, init_params, net_forward, scale_pixels
from core.train import Adam, DivergedError, TrainConfig, Trainer, evaluate, shift_images

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_digits_and_their_split():
    d = load_digits()
    assert d.images.shape == (1797, 8, 8) and d.images.dtype == np.uint8
    assert d.images.max() == 16 and d.images.min() == 0
    assert d.labels.shape == (1797,) and set(np.unique(d.labels)) == set(range(10))
    assert len(d.train_index) == 1437 and len(d.test_index) == 360
    assert not set(d.train_index) & set(d.test_index)
    assert sorted({*d.train_index, *d.test_index}) == list(range(1797))
    np.testing.assert_array_equal(np.bincount(d.labels[d.test_index]), [36] * 10)
    source = (DATA_DIR / "SOURCE.md").read_text()
    assert "CC BY 4.0" in source and "Alpaydin" in source


def test_shipped_weights_reach_the_stated_held_out_accuracy():
    params = load_weights()
    info = weights_info()
    loss, accuracy = evaluate(params, *load_digits().split("test"))
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(info["test_accuracy"], abs=1e-12)
    assert loss == pytest.approx(info["test_loss"], rel=1e-9)
    assert info["config"]["epochs"] >= 1


def test_weights_round_trip_and_are_checked(tmp_path):
    params = init_params(seed=4)
    path = tmp_path / "w.safetensors"
    save_weights(params, path)
    back = load_weights(path)
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    save_weights({**params, "dense.W": np.zeros((10, 64))}, path)
    with pytest.raises(ParamError, match=r"dense\.W must have shape \(64, 10\)"):
        load_weights(path)


def test_adam_first_step_by_hand():
    params = {"w": np.array([1.0, -2.0])}
    adam = Adam()
    adam.step(params, {"w": np.array([0.5, -0.1])}, lr=0.1)
    # t = 1: m_hat = g, v_hat = g**2, so the step is lr * g / (|g| + eps) = lr * sign(g)
    np.testing.assert_allclose(params["w"], [0.9, -1.9], rtol=1e-6)


def test_shift_images_moves_sideways_with_zeros_coming_in():
    X = np.arange(1, 2 * 3 * 4 + 1, dtype=float).reshape(2, 3, 4, 1)
    rng = np.random.default_rng(0)
    shifted = shift_images(X, rng, 1)
    dx = np.random.default_rng(0).integers(-1, 2, size=2)
    for i in range(2):
        want = np.zeros((3, 4))
        for w in range(4):
            if 0 <= w - dx[i] < 4:
                want[:, w] = X[i, :, w - dx[i], 0]
        np.testing.assert_array_equal(shifted[i, :, :, 0], want)
    assert shift_images(X, rng, 0) is X


def test_a_short_run_lowers_the_loss_and_beats_a_floor():
    d = load_digits()
    images, labels = d.split("train")
    # minibatches of 16 keep every GEMM on the calling thread (see core/conv.py's _chunks):
    # threaded BLAS is slow on busy cores, and pytest does not set OPENBLAS_NUM_THREADS=1
    config = TrainConfig(epochs=1, batch_size=16, seed=1)
    trainer = Trainer(images, labels, config)
    start_loss, start_acc = trainer.evaluate(*d.split("test"))
    losses = [trainer.step() for _ in range(trainer.total_steps)]
    end_loss, end_acc = trainer.evaluate(*d.split("test"))
    assert trainer.epoch == 1
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert end_loss < 0.5 * start_loss
    assert start_acc < 0.3 and end_acc > 0.8


def test_training_from_given_weights_keeps_the_callers_arrays():
    params = init_params(seed=9)
    before = {k: v.copy() for k, v in params.items()}
    d = load_digits()
    trainer = Trainer(*d.split("train"), TrainConfig(epochs=1), params=params)
    trainer.step()
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert not np.array_equal(trainer.params["conv1.W"], before["conv1.W"])


def test_scaled_pixels_are_what_the_network_reads():
    X = scale_pixels(load_digits().images[:2])
    assert X.shape == (2, 8, 8, 1) and X.max() <= 1.0
    assert net_forward(load_weights(), X, DEFAULT_NET).probs.shape == (2, 10)


def test_a_diverging_step_raises_and_leaves_the_weights():
    """Weights past float64's range after a huge step: the next minibatch's loss is not
    finite, so step() raises DivergedError (no warning) and updates nothing."""
    images, labels = load_digits().split("train")
    t = Trainer(images[:64], labels[:64], TrainConfig(epochs=1, batch_size=16))
    t.step()
    t.params["conv2.W"] *= 1e200
    before = {k: v.copy() for k, v in t.params.items()}
    with pytest.raises(DivergedError, match=r"diverged at step 1: .* smaller lr"):
        t.step()
    assert t.step_count == 1
    for k, v in before.items():
        np.testing.assert_array_equal(t.params[k], v)
