"""A small sequential CNN made of the exercise's layers: forward and backward through the stack.

Every layer is a core function (conv_forward/conv_backward, pool_forward/pool_backward) or one
of the few lines below (ReLU, flatten, dense, softmax with cross-entropy), in the exercise's
names and channels-last shapes. The default network (DEFAULT_NET) reads one 8 x 8 gray digit
and gives ten class probabilities; it is small enough that every number can be shown:

    layer     what                       output (m, ...)    parameters
    input     pixels / 16, in 0..1       (m, 8, 8, 1)
    conv1     3x3, pad 1, 8 filters      Z (m, 8, 8, 8)     W (3, 3, 1, 8),  b (1, 1, 1, 8)
    relu1     A = max(Z, 0)              A (m, 8, 8, 8)
    pool1     max, f 2, stride 2         A (m, 4, 4, 8)
    conv2     3x3, pad 1, 16 filters     Z (m, 4, 4, 16)    W (3, 3, 8, 16), b (1, 1, 1, 16)
    relu2     A = max(Z, 0)              A (m, 4, 4, 16)
    pool2     max, f 2, stride 2         A (m, 2, 2, 16)
    flatten   (h, w, c) order            A (m, 64)
    dense     Z = A_prev @ W + b         Z (m, 10)          W (64, 10),      b (1, 10)
    softmax   probs = exp(Z) / sum exp   probs (m, 10)

1898 parameters. The loss is the mean cross-entropy -log probs[i, y_i]; its gradient on the
logits is dZ = (probs - onehot(y)) / m, and the backward pass hands it down the stack: each
layer turns the gradient on its output into the gradient on its input (dA_prev), and a layer
with parameters also gives dW and db. The gradient on the input pixels is the saliency map.

Edge rules, decided here: ReLU's derivative at exactly 0 is 0 (dZ = dA * (Z > 0)); max
pooling routes a window's gradient to its first maximum (pool_backward's tie_rule "first",
so an all-zero window after ReLU sends it to a cell whose ReLU gradient is 0 anyway).
Parameters live in a dict keyed "<layer>.W" / "<layer>.b" ("conv1.W", ..., "dense.b").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .conv import conv_backward, conv_forward
from .geometry import Geometry, GeometryError, conv_geometry, pool_geometry
from .padding import zero_pad
from .pool import pool_backward, pool_forward
from .trace import (
    StepPage,
    conv_backward_trace,
    conv_forward_trace,
    pool_backward_trace,
    pool_forward_trace,
)


class ParamError(ValueError):
    """A parameter that does not fit the network: the message names the tensor and its shape."""


# ---------------------------------------------------------------- layers of the stack
#
# Each layer type carries what the rest of convstep asks of a layer: its output shape and
# parameters on an input shape, a description for the page, forward (output, cache) and
# backward (the gradients from the gradient on its output). Conv and Pool also carry their
# window's geometry and their step traces (the layers the network page steps through).
# Nothing outside asks a layer what kind it is; `kind` is the name the JSON carries.


@dataclass(frozen=True)
class _Layer:
    """What every layer answers; the defaults are a layer without parameters that keeps
    its input's shape."""

    name: str
    kind: ClassVar[str]
    title: ClassVar[str]
    output_name: ClassVar[str] = "A"  # what the exercise calls its output: Z or A
    steppable: ClassVar[bool] = False  # has a window, a geometry and step traces

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's shape without m, on inputs of `shape` (without m)."""
        return tuple(shape)

    def param_shapes(self, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """{"<name>.W": shape, "<name>.b": shape} of its parameters on inputs of `shape`."""
        return {}

    def describe(self, shape: tuple[int, ...]) -> dict:
        """What the page says of it on inputs of `shape`: its title, a one-line note, the
        name of its output, whether it has steps, and its settings."""
        return {"title": self.title, "note": self.note(shape), "output": self.output_name,
                "steppable": self.steppable, **self.settings(shape)}

    def note(self, shape: tuple[int, ...]) -> str:
        """One line under its title, e.g. "3×3, pad 1, 8 filters"."""
        raise NotImplementedError

    def settings(self, shape: tuple[int, ...]) -> dict:
        """Its settings (and the output size formula of a windowed layer)."""
        return {}

    def forward(self, A_prev, params: dict):
        """(output, cache)."""
        raise NotImplementedError

    def backward(self, d_out, cache) -> dict:
        """{"dA_prev", and for a layer with parameters "dW", "db"}."""
        raise NotImplementedError

    def weights(self, params: dict) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) of this layer from the network's parameters."""
        return params[f"{self.name}.W"], params[f"{self.name}.b"]


@dataclass(frozen=True)
class Conv(_Layer):
    """Convolution, W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C), {"stride": .., "pad": ..}."""

    f: int
    n_C: int
    stride: int = 1
    pad: int = 0
    kind: ClassVar[str] = "conv"
    title: ClassVar[str] = "conv"
    output_name: ClassVar[str] = "Z"
    steppable: ClassVar[bool] = True

    @property
    def hparameters(self) -> dict:
        return {"stride": self.stride, "pad": self.pad}

    def geometry(self, shape) -> Geometry:
        return conv_geometry(shape[0], shape[1], self.f, stride=self.stride, pad=self.pad)

    def output_shape(self, shape):
        g = self.geometry(shape)
        return (g.n_H, g.n_W, self.n_C)

    def param_shapes(self, shape):
        return {f"{self.name}.W": (self.f, self.f, shape[2], self.n_C),
                f"{self.name}.b": (1, 1, 1, self.n_C)}

    def note(self, shape):
        return f"{self.f}×{self.f}, pad {self.pad}, {self.n_C} filters"

    def settings(self, shape):
        return {"f": self.f, "n_C": self.n_C, "stride": self.stride, "pad": self.pad,
                "formula": self.geometry(shape).formula_H}

    def window(self, shape) -> tuple[int, ...]:
        """The numbers one step reads: f x f x n_C_prev."""
        return (self.f, self.f, shape[2])

    def forward(self, A_prev, params):
        return conv_forward(A_prev, *self.weights(params), self.hparameters)

    def backward(self, d_out, cache):
        dA_prev, dW, db = conv_backward(d_out, cache)
        return {"dA_prev": dA_prev, "dW": dW, "db": db}

    def forward_arrays(self, A_prev, params) -> dict:
        """The arrays the forward steps draw besides A_prev: (1, ...) A_prev_pad[0], W, b."""
        W, b = self.weights(params)
        return {"A_prev_pad": zero_pad(A_prev, self.pad)[0], "W": W, "b": b.reshape(-1)}

    def backward_arrays(self, grads: dict) -> dict:
        return {"dW": grads["dW"], "db": grads["db"].reshape(-1)}

    def forward_trace(self, A_prev, params, **where) -> StepPage:
        return conv_forward_trace(A_prev, *self.weights(params), self.hparameters, **where)

    def backward_trace(self, d_out, cache, **where) -> StepPage:
        return conv_backward_trace(d_out, cache, **where)


@dataclass(frozen=True)
class ReLU(_Layer):
    """A = max(Z, 0), element-wise; no parameters."""

    kind: ClassVar[str] = "relu"
    title: ClassVar[str] = "ReLU"

    def note(self, shape):
        return "max(Z, 0)"

    def forward(self, A_prev, params):
        return relu_forward(A_prev)

    def backward(self, d_out, cache):
        return {"dA_prev": relu_backward(d_out, cache)}


@dataclass(frozen=True)
class Pool(_Layer):
    """Pooling, {"stride": .., "f": ..}, mode "max" or "average"; no parameters."""

    f: int
    stride: int
    mode: str = "max"
    kind: ClassVar[str] = "pool"
    steppable: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return f"{self.mode} pool"

    @property
    def hparameters(self) -> dict:
        return {"stride": self.stride, "f": self.f}

    def geometry(self, shape) -> Geometry:
        return pool_geometry(shape[0], shape[1], self.f, stride=self.stride)

    def output_shape(self, shape):
        g = self.geometry(shape)
        return (g.n_H, g.n_W, shape[2])

    def note(self, shape):
        return f"f {self.f}, stride {self.stride}"

    def settings(self, shape):
        return {"f": self.f, "stride": self.stride, "mode": self.mode,
                "formula": self.geometry(shape).formula_H}

    def window(self, shape) -> tuple[int, ...]:
        """The numbers one step reads: f x f of one channel."""
        return (self.f, self.f)

    def forward(self, A_prev, params):
        return pool_forward(A_prev, self.hparameters, mode=self.mode)

    def backward(self, d_out, cache):
        return {"dA_prev": pool_backward(d_out, cache, mode=self.mode)}

    def forward_arrays(self, A_prev, params) -> dict:
        return {}

    def backward_arrays(self, grads: dict) -> dict:
        return {}

    def forward_trace(self, A_prev, params, **where) -> StepPage:
        return pool_forward_trace(A_prev, self.hparameters, mode=self.mode, **where)

    def backward_trace(self, d_out, cache, **where) -> StepPage:
        return pool_backward_trace(d_out, cache, mode=self.mode, **where)


@dataclass(frozen=True)
class Flatten(_Layer):
    """(m, n_H, n_W, n_C) -> (m, n_H*n_W*n_C), row-major: index (h*n_W + w)*n_C + c."""

    kind: ClassVar[str] = "flatten"
    title: ClassVar[str] = "flatten"

    def note(self, shape):
        return "(h, w, c) order"

    def output_shape(self, shape):
        return (int(np.prod(shape)),)

    def forward(self, A_prev, params):
        return flatten_forward(A_prev)

    def backward(self, d_out, cache):
        return {"dA_prev": flatten_backward(d_out, cache)}


@dataclass(frozen=True)
class Dense(_Layer):
    """Fully connected, Z = A_prev @ W + b, W (n_in, n_out), b (1, n_out)."""

    n_out: int
    kind: ClassVar[str] = "dense"
    title: ClassVar[str] = "dense"
    output_name: ClassVar[str] = "Z"

    def output_shape(self, shape):
        return (self.n_out,)

    def param_shapes(self, shape):
        return {f"{self.name}.W": (shape[0], self.n_out), f"{self.name}.b": (1, self.n_out)}

    def note(self, shape):
        return f"{shape[0]} → {self.n_out}"

    def settings(self, shape):
        return {"n_out": self.n_out}

    def forward(self, A_prev, params):
        return dense_forward(A_prev, *self.weights(params))

    def backward(self, d_out, cache):
        dA_prev, dW, db = dense_backward(d_out, cache)
        return {"dA_prev": dA_prev, "dW": dW, "db": db}


Layer = Conv | ReLU | Pool | Flatten | Dense


@dataclass(frozen=True)
class Network:
    """A sequential stack on inputs of shape (m, *input_shape); the last layer gives the logits.

    `shapes` holds each layer's output shape without m (checked when the network is made:
    a layer that does not fit raises GeometryError with core's message), `param_shapes` the
    shape of every parameter by name, in layer order.
    """

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]
    classes: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...] = field(init=False, compare=False)
    param_shapes: dict[str, tuple[int, ...]] = field(init=False, compare=False)

    def __post_init__(self):
        shapes, params = [], {}
        shape = tuple(self.input_shape)
        for layer in self.layers:
            params.update(layer.param_shapes(shape))
            shape = layer.output_shape(shape)
            shapes.append(shape)
        if shape != (len(self.classes),):
            raise GeometryError(
                f"The last layer must give one logit per class: {len(self.classes)} classes, "
                f"but its output shape is {shape}."
            )
        object.__setattr__(self, "shapes", tuple(shapes))
        object.__setattr__(self, "param_shapes", params)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def index(self, name: str) -> int:
        """The position of the layer called `name` (KeyError when there is none)."""
        return self.layers.index(self.layer(name))

    def input_shape_of(self, k: int) -> tuple[int, ...]:
        """The input shape (without m) of layer k: the network's input or layer k-1's output."""
        return tuple(self.input_shape) if k == 0 else self.shapes[k - 1]


DEFAULT_NET = Network(
    input_shape=(8, 8, 1),
    layers=(
        Conv("conv1", f=3, n_C=8, stride=1, pad=1),
        ReLU("relu1"),
        Pool("pool1", f=2, stride=2),
        Conv("conv2", f=3, n_C=16, stride=1, pad=1),
        ReLU("relu2"),
        Pool("pool2", f=2, stride=2),
        Flatten("flatten"),
        Dense("dense", n_out=10),
    ),
    classes=tuple("0123456789"),
)

PIXEL_MAX = 16  # the digits' pixels are 0..16 (on-pixels in a 4 x 4 block); inputs are / 16


# ---------------------------------------------------------------- the few new layer functions


def relu_forward(Z):
    """A = max(Z, 0), element-wise. Returns A and cache Z. Example: relu_forward([-1, 2])[0] is
    [0, 2]."""
    Z = np.asarray(Z)
    return np.maximum(Z, 0), Z


def relu_backward(dA, cache):
    """dZ = dA * (Z > 0): the gradient passes where Z was positive (0 at Z == 0)."""
    Z = cache
    return dA * (Z > 0)


def flatten_forward(A_prev):
    """(m, n_H, n_W, n_C) -> (m, n_H*n_W*n_C), row-major (channels-last) order."""
    A_prev = np.asarray(A_prev)
    return A_prev.reshape(A_prev.shape[0], -1), A_prev.shape


def flatten_backward(dA, cache):
    """The gradient of the flat vector back in the (m, n_H, n_W, n_C) shape."""
    return np.asarray(dA).reshape(cache)


def dense_forward(A_prev, W, b):
    """Z = A_prev @ W + b: A_prev (m, n_in), W (n_in, n_out), b (1, n_out) -> Z (m, n_out).

    Z[i, j] = sum_k A_prev[i, k] * W[k, j] + b[0, j]. Returns Z and cache (A_prev, W, b).
    Example: dense_forward([[1, 2]], [[1], [1]], [[0.5]])[0] is [[3.5]].
    """
    A_prev, W, b = np.asarray(A_prev), np.asarray(W), np.asarray(b)
    if A_prev.ndim != 2 or W.ndim != 2 or W.shape[0] != A_prev.shape[1] or b.shape != (
            1, W.shape[1]):
        raise GeometryError(
            f"dense_forward needs A_prev (m, n_in), W (n_in, n_out) and b (1, n_out), but the "
            f"shapes are A_prev {A_prev.shape}, W {W.shape}, b {b.shape}."
        )
    return A_prev @ W + b, (A_prev, W, b)


def dense_backward(dZ, cache):
    """dZ (m, n_out) -> dA_prev = dZ @ W.T (m, n_in), dW = A_prev.T @ dZ, db = sum_i dZ."""
    A_prev, W, _ = cache
    return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=0, keepdims=True)


def softmax(Z):
    """probs[i, j] = exp(Z[i, j] - max_j Z[i]) / sum_j exp(Z[i, j] - max_j Z[i]) (stable).

    Example: softmax([[0, 0]]) is [[0.5, 0.5]].
    """
    Z = np.asarray(Z, dtype=np.result_type(np.asarray(Z).dtype, np.float32))
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_labels(y, m: int, n_classes: int) -> np.ndarray:
    """Labels (m,) of whole numbers in 0..n_classes - 1; ParamError otherwise."""
    y = np.asarray(y)
    if y.shape != (m,) or not np.issubdtype(y.dtype, np.integer):
        raise ParamError(f"y must be {m} whole-number class labels (shape ({m},)), but it is "
                         f"{y.dtype} of shape {y.shape}.")
    if m and (y.min() < 0 or y.max() >= n_classes):
        raise ParamError(f"y must hold classes 0..{n_classes - 1}, but it holds "
                         f"{int(y.min())}..{int(y.max())}.")
    return y.astype(np.intp, copy=False)


def softmax_cross_entropy(Z, y):
    """Mean cross-entropy of the logits Z (m, n) against labels y (m,), and its gradient.

    loss = -(1/m) sum_i log probs[i, y_i] with log probs = Z - max - log sum exp(Z - max);
    dZ = (probs - onehot(y)) / m. Returns (loss, probs, dZ).
    Example: Z = [[0, 0]], y = [1]: loss = log 2, dZ = [[0.5, -0.5]].
    """
    Z = np.asarray(Z)
    m, n = Z.shape
    y = check_labels(y, m, n)
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    rows = np.arange(m)
    loss = -float(log_probs[rows, y].mean())
    dZ = probs.copy()
    dZ[rows, y] -= 1
    return loss, probs, dZ / m


# ---------------------------------------------------------------- parameters


def init_params(net: Network = DEFAULT_NET, seed: int = 0, dtype=np.float64) -> dict:
    """He-initialised weights (normal, std sqrt(2 / fan_in)) and zero biases, by name.

    fan_in is f*f*n_C_prev for a conv filter and n_in for a dense layer.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in net.param_shapes.items():
        if name.endswith(".b"):
            params[name] = np.zeros(shape, dtype=dtype)
        else:
            fan_in = int(np.prod(shape[:-1]))
            params[name] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
    return params


def check_params(params, net: Network = DEFAULT_NET) -> dict:
    """Every parameter of `net`, by name, as a finite float array of the expected shape.

    Raises ParamError naming the tensor, its shape and the expected one. Float32 is kept,
    other floats and integers become float64; extra names are an error too.
    """
    if not isinstance(params, dict):
        raise ParamError(f"params must be a dict of arrays by name, not {type(params).__name__}.")
    missing = [k for k in net.param_shapes if k not in params]
    extra = [k for k in params if k not in net.param_shapes]
    if missing or extra:
        expected = ", ".join(f"{k} {v}" for k, v in net.param_shapes.items())
        raise ParamError(
            f"The network's parameters are {expected}; "
            + (f"missing: {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"not in the network: {', '.join(map(str, extra))}" if extra else "") + "."
        )
    out = {}
    for name, shape in net.param_shapes.items():
        x = np.asarray(params[name])
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ParamError(f"{name} must hold real numbers, but its dtype is {x.dtype}.")
        if x.shape != shape:
            raise ParamError(f"{name} must have shape {shape}, but its shape is {x.shape}.")
        if x.dtype != np.float32:
            x = x.astype(np.float64)
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).sum())
            raise ParamError(f"{name} holds {bad} value(s) that are NaN or infinite.")
        out[name] = x
    return out


# ---------------------------------------------------------------- forward and backward


def check_input(X, net: Network = DEFAULT_NET) -> np.ndarray:
    """X (m, *net.input_shape) as a float array; GeometryError naming the shape otherwise."""
    X = np.asarray(X)
    if X.ndim != 1 + len(net.input_shape) or tuple(X.shape[1:]) != tuple(net.input_shape):
        raise GeometryError(
            f"The network reads inputs of shape (m, n_H_prev, n_W_prev, n_C_prev) = "
            f"(m, {', '.join(map(str, net.input_shape))}), but X has shape {X.shape}."
        )
    if X.dtype != np.float32:
        X = X.astype(np.float64)
    return X


@dataclass(frozen=True)
class NetForward:
    """One forward pass: X, each layer's output (Z for conv/dense, A otherwise) and cache,
    the logits (the last output) and the class probabilities."""

    X: np.ndarray
    outputs: tuple[np.ndarray, ...]
    caches: tuple
    probs: np.ndarray

    @property
    def logits(self) -> np.ndarray:
        return self.outputs[-1]


def layer_forward(layer: Layer, A_prev, params: dict):
    """(output, cache) of one layer (its own forward)."""
    return layer.forward(A_prev, params)


def layer_backward(layer: Layer, d_out, cache) -> dict:
    """The gradients of one layer from the gradient on its output: {"dA_prev", and for conv
    and dense "dW", "db"} (its own backward)."""
    return layer.backward(d_out, cache)


def net_forward(params: dict, X, net: Network = DEFAULT_NET, *, checked: bool = False,
                forward_layer=layer_forward, probs_of=softmax) -> NetForward:
    """Forward pass through every layer. X (m, 8, 8, 1) -> NetForward (probs (m, 10)).

    `checked=True` skips check_params (the caller has checked them); `forward_layer` and
    `probs_of` are the one-layer function and the softmax (the loop twins pass theirs).
    """
    params = params if checked else check_params(params, net)
    X = check_input(X, net)
    outputs, caches = [], []
    A = X
    for layer in net.layers:
        A, cache = forward_layer(layer, A, params)
        outputs.append(A)
        caches.append(cache)
    return NetForward(X, tuple(outputs), tuple(caches), probs_of(A))


@dataclass(frozen=True)
class NetBackward:
    """One backward pass from the mean cross-entropy of labels y.

    layers[k] holds layer k's gradients: "d_out" (the gradient on its output: dZ for conv and
    dense, dA for relu, pool and flatten) and "dA_prev", plus "dW" and "db" for conv and dense.
    grads holds dW/db by parameter name ("conv1.W", ...), dX the gradient on the input.
    """

    loss: float
    layers: tuple[dict, ...]
    grads: dict
    dX: np.ndarray


def net_backward(fwd: NetForward, y, net: Network = DEFAULT_NET, *,
                 backward_layer=layer_backward, loss_of=softmax_cross_entropy) -> NetBackward:
    """Backward pass of the mean cross-entropy against labels y (m,), layer by layer.

    For one image and a chosen class c (y = [c]) the loss is -log probs[c] and the first
    gradient is dZ = probs - onehot(c): minus it points every weight and pixel the way that
    makes c more likely. `backward_layer` and `loss_of` default to the fast functions (the
    loop twins pass theirs).
    """
    loss, _, d = loss_of(fwd.logits, y)
    records: list[dict] = [None] * len(net.layers)
    grads = {}
    for k in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[k]
        g = backward_layer(layer, d, fwd.caches[k])
        records[k] = {"d_out": d, **g}
        if "dW" in g:
            grads[f"{layer.name}.W"], grads[f"{layer.name}.b"] = g["dW"], g["db"]
        d = g["dA_prev"]
    return NetBackward(loss, tuple(records), grads, d)


def predict(params: dict, X, net: Network = DEFAULT_NET, batch: int = 512) -> np.ndarray:
    """Class probabilities (m, n_classes) of inputs X, in batches of `batch` images."""
    params = check_params(params, net)
    X = check_input(X, net)
    return np.concatenate([net_forward(params, X[i:i + batch], net, checked=True).probs
                           for i in range(0, len(X), batch)])


def scale_pixels(pixels) -> np.ndarray:
    """Digit pixels 0..16 (n, 8, 8) -> network inputs (n, 8, 8, 1) in 0..1 (float64)."""
    x = np.asarray(pixels, dtype=np.float64) / PIXEL_MAX
    return x.reshape(*x.shape, 1)
