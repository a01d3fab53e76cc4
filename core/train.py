"""Train the network with convstep's own backward pass and Adam in a few lines of NumPy.

    python -m core.train                  # the shipped weights: core/data/net_weights.safetensors
    python -m core.train --epochs 3 --out /tmp/w.safetensors
    convstep train ...                    # the same command, installed

(about 6 s on one core: 30 epochs of 45 minibatches of 32; 98% held out.) The command itself
(its flags, the files it writes, its one BLAS thread) lives in cli/train.py; this module is
the pure part: Adam, the shifts, the Trainer the server steps too, and train().

One step: a minibatch of training digits (pixels / 16), net_forward, net_backward from the
mean cross-entropy of the true labels, then Adam on every parameter:

    m_t = beta1*m + (1 - beta1)*g,   v_t = beta2*v + (1 - beta2)*g**2
    p  -= lr * (m_t / (1 - beta1**t)) / (sqrt(v_t / (1 - beta2**t)) + eps)

The learning rate falls linearly to lr_final over the run. Every epoch the training digits
are shuffled (a fixed seed), and each image is shifted sideways by at most one pixel (random,
zeros coming in): a drawn or uploaded digit is placed by the page's preprocessing, not by the
form the writers filled in, so a one-pixel shift must not change the answer. Held-out
accuracy is measured on the fixed split of core/data/digits.npz.

The shipped weights (SHIPPED) also train on what people draw (core/augment.py): `synthetic`
drawings of letterforms the data lacks are added to the training digits once, and every epoch
a share `warp` of all of them is slanted, turned, widened and its strokes thickened or
thinned afresh. The server's training jobs use neither (TrainConfig's defaults): they show
the plain run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .net import (
    DEFAULT_NET,
    Network,
    check_params,
    init_params,
    net_backward,
    net_forward,
    predict,
    scale_pixels,
)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a run (SHIPPED makes the shipped weights; the defaults are the plain run)."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-2
    lr_final: float = 5e-4
    seed: int = 0
    shift: int = 1  # largest random shift, in pixels (0: none)
    warp: float = 0.0  # share of the digits varied afresh every epoch (core/augment.py)
    synthetic: int = 0  # drawings of core/drawn.py's letterforms added to the training set


SHIPPED = TrainConfig(epochs=30, warp=0.5, synthetic=2000)


class DivergedError(ArithmeticError):
    """A minibatch whose loss or gradients are not finite numbers (NaN or infinity): the run
    diverged. Trainer.step raises it before the update, so the weights stay the last finite
    ones."""


@dataclass
class Adam:
    """Adam's moment estimates for every parameter, updated in place by step()."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)

    def step(self, params: dict, grads: dict, lr: float) -> None:
        self.t += 1
        for name, g in grads.items():
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            params[name] -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


def shift_images(X: np.ndarray, rng: np.random.Generator, most: int) -> np.ndarray:
    """Each image of X (m, n_H, n_W, n_C) moved sideways by dx, |dx| <= most, zeros in.

    Only sideways: every digit of the data fills all 8 rows (its box was scaled to the
    height), and so does a drawn one after preprocessing, but the widths and the horizontal
    placement vary."""
    if most == 0:
        return X
    m, _, n_W, _ = X.shape
    pad = np.pad(X, ((0, 0), (0, 0), (most, most), (0, 0)))
    dx = rng.integers(-most, most + 1, size=m)
    cols = (most - dx)[:, None] + np.arange(n_W)[None, :]  # (m, n_W) columns of pad to read
    return pad[np.arange(m)[:, None], :, cols].transpose(0, 2, 1, 3)  # (m, n_H, n_W, n_C)


class Trainer:
    """Minibatch training, one step at a time (the server's training jobs step it too).

    step() trains on the next minibatch and returns its loss; an epoch is
    ceil(n_train / batch_size) steps. evaluate() gives (loss, accuracy) on any digits.
    """

    def __init__(self, images, labels, config: TrainConfig = TrainConfig(),
                 params: dict | None = None, net: Network = DEFAULT_NET):
        self.net, self.config = net, config
        images, labels = np.asarray(images), np.asarray(labels)
        if config.synthetic:
            from .augment import synthetic_digits

            extra, extra_labels = synthetic_digits(
                config.synthetic, np.random.default_rng(config.seed + 2))
            images = np.concatenate([images, extra])
            labels = np.concatenate([labels, extra_labels])
        self.images = images
        self.X, self.y = scale_pixels(images), labels.astype(np.intp)
        self.params = {k: v.astype(np.float64).copy()
                       for k, v in (check_params(params, net) if params is not None
                                    else init_params(net, seed=config.seed)).items()}
        self.rng = np.random.default_rng(config.seed + 1)
        self.adam = Adam()
        self.steps_per_epoch = -(-len(self.y) // config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.step_count = 0
        self._order = np.arange(0)
        self._X_epoch = self.X

    @property
    def epoch(self) -> float:
        """Epochs done, fractional (2.5 = half way through the third)."""
        return self.step_count / self.steps_per_epoch

    def learning_rate(self) -> float:
        c = self.config
        done = min(1.0, self.step_count / max(1, self.total_steps))
        return c.lr + (c.lr_final - c.lr) * done

    def step(self) -> float:
        """One minibatch: forward, backward, Adam. Returns the minibatch's loss; raises
        DivergedError (and leaves the weights as they were) when it is not finite."""
        k = self.step_count % self.steps_per_epoch
        if k == 0:  # a new epoch: new order, new shifts
            self._order = self.rng.permutation(len(self.y))
            X = self.X
            if self.config.warp:
                from .augment import warp_digits

                pick = np.flatnonzero(self.rng.random(len(self.y)) < self.config.warp)
                X = X.copy()
                X[pick] = scale_pixels(warp_digits(self.images[pick], self.rng))
            self._X_epoch = shift_images(X, self.rng, self.config.shift)
        batch = self._order[k * self.config.batch_size:(k + 1) * self.config.batch_size]
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is raised below
            fwd = net_forward(self.params, self._X_epoch[batch], self.net, checked=True)
            bwd = net_backward(fwd, self.y[batch], self.net)
        kept = [{k: a.copy() for k, a in d.items()}  # 1898 weights and their moments
                for d in (self.params, self.adam.m, self.adam.v)] + [self.adam.t]
        with np.errstate(over="ignore", invalid="ignore"):
            self.adam.step(self.params, bwd.grads, self.learning_rate())
        bad = [name for name, w in self.params.items()  # the weights or Adam's moments
               if not (np.isfinite(w).all() and np.isfinite(self.adam.v.get(name, 0.0)).all())]
        if not np.isfinite(bwd.loss) or bad:
            self.params, self.adam.m, self.adam.v, self.adam.t = kept
            raise DivergedError(
                f"The training diverged at step {self.step_count}: the minibatch's loss is "
                f"{bwd.loss:.4g}" + (f" and the update takes {', '.join(bad)} past float64's "
                                     "range" if bad else "") +
                f". The learning rate ({self.learning_rate():.4g}) is too large for this run; "
                "start again with a smaller lr.")
        self.step_count += 1
        return bwd.loss

    def evaluate(self, images, labels) -> tuple[float, float]:
        return evaluate(self.params, images, labels, self.net)


def evaluate(params: dict, images, labels, net: Network = DEFAULT_NET) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the network on digit images (n, 8, 8) 0..16."""
    labels = np.asarray(labels).astype(np.intp)
    probs = predict(params, scale_pixels(images), net)
    loss = float(-np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-300)).mean())
    return loss, float((probs.argmax(axis=1) == labels).mean())


def train(config: TrainConfig = TrainConfig(), log=None) -> tuple[dict, list[dict]]:
    """Train on the shipped training split; returns (params, one record per epoch)."""
    from .data import load_digits

    digits = load_digits()
    start = time.perf_counter()
    trainer = Trainer(*digits.split("train"), config)
    history = []
    for epoch in range(1, config.epochs + 1):
        losses = [trainer.step() for _ in range(trainer.steps_per_epoch)]
        test_loss, test_acc = trainer.evaluate(*digits.split("test"))
        record = {"epoch": epoch, "train_loss": float(np.mean(losses)), "test_loss": test_loss,
                  "test_accuracy": test_acc, "seconds": time.perf_counter() - start}
        history.append(record)
        if log:
            log(f"epoch {epoch:3d}  train loss {record['train_loss']:.4f}  held-out loss "
                f"{test_loss:.4f}  accuracy {test_acc:.2%}  ({record['seconds']:.1f} s)")
    return trainer.params, history


if __name__ == "__main__":  # python -m core.train: the command of cli/train.py
    from cli.train import run

    run(prog="python -m core.train")
