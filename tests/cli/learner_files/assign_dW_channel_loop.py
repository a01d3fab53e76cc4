# ruff: noqa
# A learner's conv_backward on every filter at once, except dW, which it fills in a loop of
# its own over the filters, with = instead of += (assign_not_accumulate in dW only).
import numpy as np


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    s, p = hparameters["stride"], hparameters["pad"]
    k = W.shape[0]
    n, rows, cols, chans = A_prev.shape
    _, out_r, out_c, filters = dZ.shape
    X = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    dX = np.zeros_like(X)
    dW = np.zeros_like(W)
    db = np.zeros((1, 1, 1, filters))
    for img in range(n):
        for r in range(out_r):
            for q in range(out_c):
                top, left = r * s, q * s
                patch = X[img, top:top + k, left:left + k, :]
                dX[img, top:top + k, left:left + k, :] += np.sum(W * dZ[img, r, q, :], axis=3)
                for c in range(filters):
                    dW[:, :, :, c] = patch * dZ[img, r, q, c]
                db[0, 0, 0, :] += dZ[img, r, q, :]
    return dX[:, p:p + rows, p:p + cols, :], dW, db
