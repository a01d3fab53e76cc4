"""The network: every layer and the whole stack against the loop twins and finite differences."""

import numpy as np
import pytest

from core.geometry import GeometryError
from core.net import (
    DEFAULT_NET,
    Conv,
    Dense,
    Flatten,
    Network,
    ParamError,
    Pool,
    ReLU,
    check_params,
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
    init_params,
    net_backward,
    net_forward,
    relu_backward,
    relu_forward,
    softmax,
    softmax_cross_entropy,
)
from core.net_loops import (
    dense_backward_loop,
    dense_forward_loop,
    flatten_backward_loop,
    flatten_forward_loop,
    net_backward_loop,
    net_forward_loop,
    relu_backward_loop,
    relu_forward_loop,
    softmax_cross_entropy_loop,
    softmax_loop,
)

# A second network that exercises what the default one does not: a non-square input with
# two channels, a strided conv without padding, average pooling, two dense layers.
ODD_NET = Network(
    input_shape=(9, 7, 2),
    layers=(Conv("c1", f=3, n_C=3, stride=2, pad=0), ReLU("r1"),
            Pool("p1", f=2, stride=1, mode="average"), Conv("c2", f=2, n_C=4, stride=1, pad=1),
            ReLU("r2"), Pool("p2", f=2, stride=2), Flatten("flat"), Dense("d1", n_out=5),
            ReLU("r3"), Dense("d2", n_out=3)),
    classes=("a", "b", "c"),
)
NETS = [pytest.param(DEFAULT_NET, id="default"), pytest.param(ODD_NET, id="odd")]


def test_default_architecture_shapes():
    assert DEFAULT_NET.shapes == ((8, 8, 8), (8, 8, 8), (4, 4, 8), (4, 4, 16), (4, 4, 16),
                                  (2, 2, 16), (64,), (10,))
    assert DEFAULT_NET.param_shapes == {
        "conv1.W": (3, 3, 1, 8), "conv1.b": (1, 1, 1, 8),
        "conv2.W": (3, 3, 8, 16), "conv2.b": (1, 1, 1, 16),
        "dense.W": (64, 10), "dense.b": (1, 10)}
    assert sum(int(np.prod(s)) for s in DEFAULT_NET.param_shapes.values()) == 1898
    assert ODD_NET.shapes[0] == (4, 3, 3)  # floor((9 - 3) / 2) + 1, floor((7 - 3) / 2) + 1


def test_network_that_does_not_fit_names_the_numbers():
    with pytest.raises(GeometryError, match="window does not fit"):
        Network((4, 4, 1), (Pool("p", f=5, stride=1), Flatten("f"), Dense("d", 2)), ("a", "b"))
    with pytest.raises(GeometryError, match="one logit per class: 3 classes"):
        Network((4, 4, 1), (Flatten("f"), Dense("d", 2)), ("a", "b", "c"))


@pytest.mark.parametrize("shape", [(1, 3), (2, 4, 4, 3), (3, 2, 5, 1)])
def test_relu_matches_loop_twin(rng, shape):
    Z = rng.standard_normal(shape)
    Z.flat[0] = 0.0  # the derivative at exactly 0 is 0
    A, cache = relu_forward(Z)
    A_loop, cache_loop = relu_forward_loop(Z)
    np.testing.assert_array_equal(A, A_loop)
    dA = rng.standard_normal(shape)
    np.testing.assert_array_equal(relu_backward(dA, cache), relu_backward_loop(dA, cache_loop))
    assert relu_backward(np.ones(shape), cache).flat[0] == 0


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 2, 2, 16), (3, 4, 1, 5)])
def test_flatten_matches_loop_twin(rng, shape):
    A_prev = rng.standard_normal(shape)
    A, cache = flatten_forward(A_prev)
    A_loop, cache_loop = flatten_forward_loop(A_prev)
    np.testing.assert_array_equal(A, A_loop)
    dA = rng.standard_normal(A.shape)
    np.testing.assert_array_equal(flatten_backward(dA, cache),
                                  flatten_backward_loop(dA, cache_loop))


@pytest.mark.parametrize("m, n_in, n_out", [(1, 1, 1), (2, 64, 10), (5, 3, 7)])
def test_dense_matches_loop_twin_and_finite_differences(rng, numeric_grad, m, n_in, n_out):
    A_prev = rng.standard_normal((m, n_in))
    W = rng.standard_normal((n_in, n_out))
    b = rng.standard_normal((1, n_out))
    Z, cache = dense_forward(A_prev, W, b)
    Z_loop, _ = dense_forward_loop(A_prev, W, b)
    np.testing.assert_allclose(Z, Z_loop, rtol=1e-12, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    for got, want in zip(dense_backward(dZ, cache), dense_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)

    def loss():
        return float(np.sum(dense_forward(A_prev, W, b)[0] * dZ))

    dA_prev, dW, db = dense_backward(dZ, cache)
    np.testing.assert_allclose(dA_prev, numeric_grad(loss, A_prev), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dW, numeric_grad(loss, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numeric_grad(loss, b), rtol=1e-6, atol=1e-8)


def test_dense_shape_error_names_every_shape():
    with pytest.raises(GeometryError, match=r"A_prev \(2, 3\), W \(4, 1\), b \(1, 1\)"):
        dense_forward(np.ones((2, 3)), np.ones((4, 1)), np.ones((1, 1)))


@pytest.mark.parametrize("m, n", [(1, 2), (3, 10), (4, 3)])
def test_softmax_cross_entropy_matches_loop_twin_and_finite_differences(rng, numeric_grad, m, n):
    Z = rng.standard_normal((m, n)) * 3
    y = rng.integers(0, n, size=m)
    loss, probs, dZ = softmax_cross_entropy(Z, y)
    loss_loop, probs_loop, dZ_loop = softmax_cross_entropy_loop(Z, y)
    assert loss == pytest.approx(loss_loop, rel=1e-12)
    np.testing.assert_allclose(probs, probs_loop, rtol=1e-12)
    np.testing.assert_allclose(softmax(Z), softmax_loop(Z), rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(dZ, dZ_loop, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dZ, numeric_grad(lambda: softmax_cross_entropy(Z, y)[0], Z),
                               rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_by_hand_and_stable():
    loss, probs, dZ = softmax_cross_entropy(np.array([[0.0, 0.0]]), [1])
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(dZ, [[0.5, -0.5]])
    loss, probs, _ = softmax_cross_entropy(np.array([[1000.0, 0.0]]), [1])  # no overflow
    assert loss == pytest.approx(1000.0)
    assert np.isfinite(probs).all()


def test_labels_are_checked():
    with pytest.raises(ParamError, match=r"classes 0\.\.1"):
        softmax_cross_entropy(np.zeros((1, 2)), [2])
    with pytest.raises(ParamError, match="whole-number class labels"):
        softmax_cross_entropy(np.zeros((1, 2)), [0.5])


def _inputs(rng, net, m):
    return rng.random((m, *net.input_shape))


@pytest.mark.parametrize("net", NETS)
def test_network_matches_loop_twins(rng, net):
    params = init_params(net, seed=3)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = _inputs(rng, net, 3)
    y = rng.integers(0, len(net.classes), size=3)
    fwd, fwd_loop = net_forward(params, X, net), net_forward_loop(params, X, net)
    assert [o.shape[1:] for o in fwd.outputs] == list(net.shapes)
    for layer, got, want in zip(net.layers, fwd.outputs, fwd_loop.outputs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=layer.name)
    np.testing.assert_allclose(fwd.probs, fwd_loop.probs, rtol=1e-12)

    bwd, bwd_loop = net_backward(fwd, y, net), net_backward_loop(fwd_loop, y, net)
    assert bwd.loss == pytest.approx(bwd_loop.loss, rel=1e-12)
    for layer, got, want in zip(net.layers, bwd.layers, bwd_loop.layers, strict=True):
        assert got.keys() == want.keys()
        for key in got:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-13,
                                       err_msg=f"{layer.name} {key}")
    assert bwd.grads.keys() == net.param_shapes.keys()
    for name, shape in net.param_shapes.items():
        assert bwd.grads[name].shape == shape
    np.testing.assert_allclose(bwd.dX, bwd_loop.dX, rtol=1e-10, atol=1e-13)
    assert bwd.dX.shape == X.shape


@pytest.mark.slow  # in make test; make test-fast skips it (finite differences: 12 s)
@pytest.mark.parametrize("net", NETS)
def test_network_gradients_match_finite_differences(rng, numeric_grad, net):
    """Every parameter's gradient and the input gradient (the saliency map) against centred
    differences of the loss."""
    params = init_params(net, seed=5)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = _inputs(rng, net, 2)
    y = np.array([1, 2])

    def loss():
        return net_backward(net_forward(params, X, net), y, net).loss

    bwd = net_backward(net_forward(params, X, net), y, net)
    np.testing.assert_allclose(bwd.dX, numeric_grad(loss, X), rtol=1e-5, atol=1e-8)
    for name in net.param_shapes:
        np.testing.assert_allclose(bwd.grads[name], numeric_grad(loss, params[name]),
                                   rtol=1e-5, atol=1e-8, err_msg=name)


def test_saliency_of_one_digit_for_a_chosen_class(rng, numeric_grad):
    """One image, the loss of a chosen class: dZ = probs - onehot, and the input gradient."""
    params = init_params(seed=1)
    X = _inputs(rng, DEFAULT_NET, 1)
    fwd = net_forward(params, X)
    for target in (0, 7):
        bwd = net_backward(fwd, [target])
        onehot = np.eye(10)[target]
        np.testing.assert_allclose(bwd.layers[-1]["d_out"], fwd.probs - onehot)
        assert bwd.loss == pytest.approx(-np.log(fwd.probs[0, target]))

        def loss(target=target):
            return net_backward(net_forward(params, X), [target]).loss

        np.testing.assert_allclose(bwd.dX, numeric_grad(loss, X), rtol=1e-5, atol=1e-9)


def test_float32_stays_float32(rng):
    params = {k: v.astype(np.float32) for k, v in init_params(seed=2).items()}
    X = _inputs(rng, DEFAULT_NET, 2).astype(np.float32)
    fwd = net_forward(params, X)
    assert fwd.probs.dtype == np.float32
    bwd = net_backward(fwd, [0, 1])
    assert bwd.dX.dtype == np.float32
    assert all(g.dtype == np.float32 for g in bwd.grads.values())
    ref = net_forward({k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64))
    np.testing.assert_allclose(fwd.probs, ref.probs, rtol=1e-4, atol=1e-6)


def test_check_params_names_the_tensor_and_the_expected_shape():
    params = init_params()
    with pytest.raises(ParamError, match=r"conv2\.W must have shape \(3, 3, 8, 16\), but its "
                                         r"shape is \(3, 3, 16, 8\)"):
        check_params({**params, "conv2.W": np.zeros((3, 3, 16, 8))})
    with pytest.raises(ParamError, match=r"dense\.b holds 1 value\(s\) that are NaN"):
        check_params({**params, "dense.b": np.array([[np.nan] + [0.0] * 9])})
    with pytest.raises(ParamError, match=r"missing: conv1\.b"):
        check_params({k: v for k, v in params.items() if k != "conv1.b"})
    with pytest.raises(ParamError, match="not in the network: extra"):
        check_params({**params, "extra": np.zeros(1)})
    with pytest.raises(ParamError, match="must hold real numbers"):
        check_params({**params, "conv1.b": np.array([["a"] * 8]).reshape(1, 1, 1, 8)})


def test_input_shape_is_checked():
    with pytest.raises(GeometryError, match=r"\(m, 8, 8, 1\), but X has shape \(1, 8, 8\)"):
        net_forward(init_params(), np.zeros((1, 8, 8)))


def test_each_layer_describes_itself_for_the_page():
    net = DEFAULT_NET
    said = [layer.describe(net.input_shape_of(k)) for k, layer in enumerate(net.layers)]
    assert [(d["title"], d["note"], d["output"], d["steppable"]) for d in said] == [
        ("conv", "3×3, pad 1, 8 filters", "Z", True), ("ReLU", "max(Z, 0)", "A", False),
        ("max pool", "f 2, stride 2", "A", True), ("conv", "3×3, pad 1, 16 filters", "Z", True),
        ("ReLU", "max(Z, 0)", "A", False), ("max pool", "f 2, stride 2", "A", True),
        ("flatten", "(h, w, c) order", "A", False), ("dense", "64 → 10", "Z", False)]
    assert said[0]["formula"].endswith("= floor((8 + 2*1 - 3) / 1) + 1 = floor(7 / 1) + 1 = 8")
    assert Pool("p", f=2, stride=2, mode="average").describe((4, 4, 1))["title"] == "average pool"
    assert [net.index(layer.name) for layer in net.layers] == list(range(len(net.layers)))
    assert net.input_shape_of(0) == (8, 8, 1) and net.input_shape_of(3) == (4, 4, 8)
