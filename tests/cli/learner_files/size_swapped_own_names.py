# ruff: noqa
# A learner's conv_forward and pool_forward with names of their own and floor division, whose
# output size takes the rows from the width and the columns from the height (the output's
# size swapped, height_width_swapped/size). Each logs the window it really reads in READS.
import numpy as np

READS = []


def conv_forward(A_prev, W, b, hparameters):
    s, p = hparameters["stride"], hparameters["pad"]
    k = W.shape[0]
    n, rows, cols, chans = A_prev.shape
    out_r = (cols + 2 * p - k) // s + 1
    out_c = (rows + 2 * p - k) // s + 1
    padded = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    out = np.zeros((n, out_r, out_c, W.shape[3]))
    for img in range(n):
        for r in range(out_r):
            for q in range(out_c):
                for f in range(W.shape[3]):
                    top, left = r * s, q * s
                    bottom = min(top + k, rows + 2 * p)  # what NumPy's slice really gives
                    right = min(left + k, cols + 2 * p)
                    READS.append(((img, r, q, f), [[top, bottom], [left, right]]))
                    patch = padded[img, top:top + k, left:left + k, :]
                    out[img, r, q, f] = np.sum(patch * W[..., f]) + b[0, 0, 0, f]
    return out, (A_prev, W, b, hparameters)


def pool_forward(A_prev, hparameters, mode="max"):
    size, s = hparameters["f"], hparameters["stride"]
    n, rows, cols, chans = A_prev.shape
    res = np.zeros((n, (cols - size) // s + 1, (rows - size) // s + 1, chans))
    for img in range(n):
        for r in range(res.shape[1]):
            for q in range(res.shape[2]):
                top, left = r * s, q * s
                for ch in range(chans):
                    READS.append(((img, r, q, ch), [[top, min(top + size, rows)],
                                                    [left, min(left + size, cols)]]))
                window = A_prev[img, top:top + size, left:left + size, :]  # every channel
                if mode == "max":
                    res[img, r, q, :] = window.max(axis=(0, 1))
                else:
                    res[img, r, q, :] = window.mean(axis=(0, 1))
    return res, (A_prev, hparameters)
