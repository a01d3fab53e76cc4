# ruff: noqa
# A learner's conv_forward vectorised over images and filters (one tensordot per output
# pixel) whose windows forget the stride (stride_missing). It logs the window it really reads
# in READS, for every image and filter of the pixel.
import numpy as np

READS = []


def conv_forward(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    m, H, Wd, _ = A_prev.shape
    n_H = (H + 2 * pad - f) // stride + 1
    n_W = (Wd + 2 * pad - f) // stride + 1
    X = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.empty((m, n_H, n_W, W.shape[3]))
    for h in range(n_H):
        for w in range(n_W):
            for i in range(m):
                for c in range(W.shape[3]):
                    READS.append(((i, h, w, c), [[h, h + f], [w, w + f]]))
            Z[:, h, w, :] = np.tensordot(X[:, h:h + f, w:w + f, :], W, axes=([1, 2, 3], [0, 1, 2])) + b.reshape(1, -1)
    return Z, (A_prev, W, b, hparameters)
