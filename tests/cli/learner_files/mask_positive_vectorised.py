# ruff: noqa
# A learner's pool_backward on every channel at once whose max-pool mask, written inline,
# marks the positive cells (window > 0) instead of the maximum (mask_not_max); their
# create_mask_from_window and distribute_value are right.
import numpy as np


def create_mask_from_window(x):
    return x == np.max(x)


def distribute_value(dz, shape):
    n_H, n_W = shape
    return np.ones(shape) * dz / (n_H * n_W)


def pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    s, size = hparameters["stride"], hparameters["f"]
    n, out_r, out_c, chans = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for img in range(n):
        for r in range(out_r):
            for q in range(out_c):
                top, left = r * s, q * s
                if mode == "max":
                    window = A_prev[img, top:top + size, left:left + size, :]
                    mask = window > 0
                    dA_prev[img, top:top + size, left:left + size, :] += mask * dA[img, r, q, :]
                else:
                    share = dA[img, r, q, :] / (size * size)
                    dA_prev[img, top:top + size, left:left + size, :] += np.ones((size, size, chans)) * share
    return dA_prev
