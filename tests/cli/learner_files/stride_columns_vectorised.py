# ruff: noqa
# A learner's pool_forward on every channel at once, whose windows step by the stride down
# the rows but not along the columns (left = q): stride_missing on the columns only. It logs
# the window it really reads in READS.
import numpy as np

READS = []


def pool_forward(A_prev, hparameters, mode="max"):
    size, s = hparameters["f"], hparameters["stride"]
    n, rows, cols, chans = A_prev.shape
    res = np.zeros((n, (rows - size) // s + 1, (cols - size) // s + 1, chans))
    for img in range(n):
        for r in range(res.shape[1]):
            for q in range(res.shape[2]):
                top, left = r * s, q
                for ch in range(chans):
                    READS.append(((img, r, q, ch), [[top, top + size], [left, left + size]]))
                window = A_prev[img, top:top + size, left:left + size, :]
                if mode == "max":
                    res[img, r, q, :] = window.max(axis=(0, 1))
                else:
                    res[img, r, q, :] = window.mean(axis=(0, 1))
    return res, (A_prev, hparameters)
