# ruff: noqa
# A learner's file whose top level ends the process (a script's exit after its own checks):
# the checker says so and checks its functions from their definitions alone.
import os

import numpy as np


def zero_pad(X, pad):
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), 'constant', constant_values=(0, 0))
    return X_pad


os._exit(3)
