# ruff: noqa
# A learner's conv_forward and pool_forward with names of their own (no h, w, vert_start...),
# padding by hand into np.zeros and slicing the 4-D padded array directly; the windows forget
# the stride (stride_missing). It logs the window it really reads in READS.
import numpy as np

READS = []


def conv_forward(A_prev, W, b, hparameters):
    s, p = hparameters['stride'], hparameters['pad']
    k = W.shape[0]
    n, rows, cols, chans = A_prev.shape
    out_r = (rows + 2 * p - k) // s + 1
    out_c = (cols + 2 * p - k) // s + 1
    padded = np.zeros((n, rows + 2 * p, cols + 2 * p, chans))
    padded[:, p:p + rows, p:p + cols, :] = A_prev
    out = np.zeros((n, out_r, out_c, W.shape[3]))
    for img in range(n):
        for r in range(out_r):
            for q in range(out_c):
                for f in range(W.shape[3]):
                    top, left = r, q
                    READS.append(((img, r, q, f), [[top, top + k], [left, left + k]]))
                    patch = padded[img, top:top + k, left:left + k, :]
                    out[img, r, q, f] = float((patch * W[..., f]).sum() + b[0, 0, 0, f])
    return out, (A_prev, W, b, hparameters)


def pool_forward(A_prev, hparameters, mode="max"):
    size, s = hparameters['f'], hparameters['stride']
    n, rows, cols, chans = A_prev.shape
    res = np.zeros((n, (rows - size) // s + 1, (cols - size) // s + 1, chans))
    for img in range(n):
        for r in range(res.shape[1]):
            for q in range(res.shape[2]):
                for ch in range(chans):
                    READS.append(((img, r, q, ch), [[r, r + size], [q, q + size]]))
                    block = A_prev[img, r:r + size, q:q + size, ch]
                    res[img, r, q, ch] = block.max() if mode == "max" else block.mean()
    return res, (A_prev, hparameters)
