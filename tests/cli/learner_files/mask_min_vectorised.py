# ruff: noqa
# A learner's pool_backward on every channel at once whose max-pool mask, written inline,
# marks each channel's minimum (mask_not_max, x == min(x)); max pooling's gradient then goes
# to the smallest cell.
import numpy as np


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
                    mask = window == window.min(axis=(0, 1), keepdims=True)
                    dA_prev[img, top:top + size, left:left + size, :] += mask * dA[img, r, q, :]
                else:
                    share = dA[img, r, q, :] / (size * size)
                    dA_prev[img, top:top + size, left:left + size, :] += np.ones((size, size, chans)) * share
    return dA_prev
