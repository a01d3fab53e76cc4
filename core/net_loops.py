"""Loop twins of the network's own layers, and the whole network through the layer twins.

ReLU, flatten, dense and softmax with cross-entropy written one number at a time, as the
exercise writes conv_forward; net_forward_loop / net_backward_loop run the network of
core/net.py through these and the conv and pool twins of core/loops.py. Slow on purpose: they
are the oracle the fast network is tested against.
"""

from __future__ import annotations

import math

import numpy as np

from .loops import conv_backward_loop, conv_forward_loop, pool_backward_loop, pool_forward_loop
from .net import (
    DEFAULT_NET,
    Conv,
    Dense,
    Flatten,
    NetBackward,
    NetForward,
    Network,
    Pool,
    ReLU,
    check_labels,
    net_backward,
    net_forward,
)


def relu_forward_loop(Z):
    """A[idx] = Z[idx] if Z[idx] > 0 else 0, one entry at a time; cache Z."""
    Z = np.asarray(Z, dtype=np.float64)
    A = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        if Z[idx] > 0:
            A[idx] = Z[idx]
    return A, Z


def relu_backward_loop(dA, cache):
    """dZ[idx] = dA[idx] where Z[idx] > 0, else 0."""
    Z = cache
    dZ = np.zeros(Z.shape)
    for idx in np.ndindex(Z.shape):
        if Z[idx] > 0:
            dZ[idx] = dA[idx]
    return dZ


def flatten_forward_loop(A_prev):
    """A[i, (h*n_W + w)*n_C + c] = A_prev[i, h, w, c]."""
    A_prev = np.asarray(A_prev, dtype=np.float64)
    (m, n_H, n_W, n_C) = A_prev.shape
    A = np.zeros((m, n_H * n_W * n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    A[i, (h * n_W + w) * n_C + c] = A_prev[i, h, w, c]
    return A, A_prev.shape


def flatten_backward_loop(dA, cache):
    """dA_prev[i, h, w, c] = dA[i, (h*n_W + w)*n_C + c]."""
    (m, n_H, n_W, n_C) = cache
    dA_prev = np.zeros(cache)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    dA_prev[i, h, w, c] = dA[i, (h * n_W + w) * n_C + c]
    return dA_prev


def dense_forward_loop(A_prev, W, b):
    """Z[i, j] = b[0, j] + sum over k of A_prev[i, k] * W[k, j]."""
    A_prev, W, b = (np.asarray(x, dtype=np.float64) for x in (A_prev, W, b))
    (m, n_in) = A_prev.shape
    n_out = W.shape[1]
    Z = np.zeros((m, n_out))
    for i in range(m):
        for j in range(n_out):
            z = b[0, j]
            for k in range(n_in):
                z += A_prev[i, k] * W[k, j]
            Z[i, j] = z
    return Z, (A_prev, W, b)


def dense_backward_loop(dZ, cache):
    """dA_prev[i, k] += W[k, j]*dZ[i, j], dW[k, j] += A_prev[i, k]*dZ[i, j], db[0, j] += dZ[i, j]
    over every i, j, k."""
    A_prev, W, _ = cache
    (m, n_in) = A_prev.shape
    n_out = W.shape[1]
    dA_prev, dW, db = np.zeros((m, n_in)), np.zeros((n_in, n_out)), np.zeros((1, n_out))
    for i in range(m):
        for j in range(n_out):
            for k in range(n_in):
                dA_prev[i, k] += W[k, j] * dZ[i, j]
                dW[k, j] += A_prev[i, k] * dZ[i, j]
            db[0, j] += dZ[i, j]
    return dA_prev, dW, db


def softmax_cross_entropy_loop(Z, y):
    """(loss, probs, dZ) one row at a time: probs = exp(z - max) / total, loss = mean of
    -log probs[y_i], dZ = (probs - onehot) / m."""
    Z = np.asarray(Z, dtype=np.float64)
    (m, n) = Z.shape
    y = check_labels(y, m, n)
    probs, dZ = np.zeros((m, n)), np.zeros((m, n))
    loss = 0.0
    for i in range(m):
        top = max(Z[i, j] for j in range(n))
        total = sum(math.exp(Z[i, j] - top) for j in range(n))
        for j in range(n):
            probs[i, j] = math.exp(Z[i, j] - top) / total
            dZ[i, j] = (probs[i, j] - (1.0 if j == y[i] else 0.0)) / m
        loss += -((Z[i, y[i]] - top) - math.log(total)) / m
    return loss, probs, dZ


def _conv_loops(layer, A_prev, params):
    return conv_forward_loop(A_prev, *layer.weights(params), layer.hparameters)


def _dense_loops(layer, A_prev, params):
    return dense_forward_loop(A_prev, *layer.weights(params))


def _grads(dA_prev, dW, db) -> dict:
    return {"dA_prev": dA_prev, "dW": dW, "db": db}


# The loop twins of each layer type: (forward(layer, A_prev, params) -> (output, cache),
# backward(layer, d_out, cache) -> gradients), the signatures of Layer.forward / .backward.
TWINS = {
    Conv: (_conv_loops, lambda layer, d, cache: _grads(*conv_backward_loop(d, cache))),
    ReLU: (lambda layer, A, params: relu_forward_loop(A),
           lambda layer, d, cache: {"dA_prev": relu_backward_loop(d, cache)}),
    Pool: (lambda layer, A, params: pool_forward_loop(A, layer.hparameters, mode=layer.mode),
           lambda layer, d, cache: {"dA_prev": pool_backward_loop(d, cache, mode=layer.mode)}),
    Flatten: (lambda layer, A, params: flatten_forward_loop(A),
              lambda layer, d, cache: {"dA_prev": flatten_backward_loop(d, cache)}),
    Dense: (_dense_loops, lambda layer, d, cache: _grads(*dense_backward_loop(d, cache))),
}


def layer_forward_loop(layer, A_prev, params):
    """(output, cache) of one layer through its loop twin."""
    return TWINS[type(layer)][0](layer, A_prev, params)


def layer_backward_loop(layer, d_out, cache) -> dict:
    """One layer's gradients through its loop twin (same keys as Layer.backward)."""
    return TWINS[type(layer)][1](layer, d_out, cache)


def softmax_loop(Z):
    """Class probabilities of the logits Z (m, n), one row at a time."""
    return softmax_cross_entropy_loop(Z, np.zeros(len(Z), dtype=int))[1]


def net_forward_loop(params, X, net: Network = DEFAULT_NET) -> NetForward:
    """net_forward with every layer (and the softmax) computed by its loop twin."""
    return net_forward(params, X, net, forward_layer=layer_forward_loop, probs_of=softmax_loop)


def net_backward_loop(fwd: NetForward, y, net: Network = DEFAULT_NET) -> NetBackward:
    """net_backward with the loss and every layer's backward pass computed by loop twins."""
    return net_backward(fwd, y, net, backward_layer=layer_backward_loop,
                        loss_of=softmax_cross_entropy_loop)
