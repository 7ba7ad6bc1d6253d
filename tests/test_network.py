"""The network's maths: backprop against numerical gradients, a step downhill, shapes
for any layer sizes, the flat parameter vector, and the activations and costs themselves."""

import pickle

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import DigitnetError
from digitnet.functions import ACTIVATIONS, COSTS, one_hot, sigmoid, softmax
from digitnet.network import flatten, layout, parameter_views, probabilities

PAIRS = [(activation, cost) for activation in ACTIVATIONS for cost in COSTS]


def small_problem(seed, sizes, n=7):
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0]))
    Y = one_hot(rng.integers(0, sizes[-1], n), sizes[-1], np.float64)
    return X, Y


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_backprop_matches_numerical_gradient(activation, cost):
    sizes = (6, 5, 4, 3)
    net = Network(sizes, activation, cost, seed=1, dtype=np.float64)
    net.params[...] += np.random.default_rng(2).normal(0, 0.1, net.params.size)  # non-zero biases too
    X, Y = small_problem(3, sizes)
    grad_W, grad_b, output = net.backprop(X, Y)
    np.testing.assert_allclose(output, net.feedforward(X))
    analytic = flatten(grad_W, grad_b)
    numeric = np.empty_like(analytic)
    eps = 1e-6
    for i in range(net.params.size):  # the layout is W0, b0, W1, b1, ...
        keep = net.params[i]
        net.params[i] = keep + eps
        up = net.cost.fn(net.feedforward(X), Y)
        net.params[i] = keep - eps
        down = net.cost.fn(net.feedforward(X), Y)
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(analytic).max() > 1e-3  # the check was not vacuous


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_a_step_is_minus_eta_times_the_gradient_and_goes_downhill(activation, cost):
    sizes = (8, 6, 5, 4)
    net = Network(sizes, activation, cost, seed=4, dtype=np.float64)  # float32 would round the small change
    X, Y = small_problem(5, sizes, n=9)
    grad_W, grad_b, _ = net.backprop(X, Y)
    before, cost_before = net.params.copy(), net.cost.fn(net.feedforward(X), Y)
    net.step(X, Y, 0.01)
    np.testing.assert_allclose(net.params - before, -0.01 * flatten(grad_W, grad_b), rtol=1e-5, atol=1e-9)
    assert net.cost.fn(net.feedforward(X), Y) < cost_before


def test_l2_adds_lambda_w_to_the_weights_gradient_only():
    net = Network((8, 5, 3), seed=0, dtype=np.float64)
    X, Y = small_problem(0, (8, 5, 3))
    grad_W, grad_b, _ = net.backprop(X, Y)
    before = net.params.copy()
    net.step(X, Y, 0.1, l2=0.5)
    expected = flatten([g + 0.5 * W for g, W in zip(grad_W, parameter_views(net.sizes, before)[0], strict=True)],
                       grad_b)
    np.testing.assert_allclose(net.params - before, -0.1 * expected, rtol=1e-5, atol=1e-8)


def test_backprop_returns_fresh_arrays():
    net = Network((8, 5, 3), seed=0)
    X, Y = (a.astype(np.float32) for a in small_problem(0, (8, 5, 3)))
    first = net.backprop(X, Y)[0][0].copy()
    held = net.backprop(X, Y)[0][0]
    net.backprop(X[:3], Y[:3])
    np.testing.assert_array_equal(held, first)


def test_default_network_has_13002_parameters_in_one_vector():
    net = Network()
    assert net.n_parameters == 13_002 == net.params.size
    assert [W.shape for W in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16,), (16,), (10,)]
    assert all(p.base is net.params for p in net.weights + net.biases)
    net.weights[1][2, 3] = 7.0  # the views write through to the flat vector
    assert 7.0 in net.params
    assert net.weights[0].dtype == np.float32


def test_layers_are_changed_in_place_never_swapped():
    net = Network((4, 3, 2), seed=0)
    new = np.arange(12, dtype=np.float32).reshape(3, 4)
    net.weights[0][...] = new
    assert net.params[:12].tolist() == list(range(12))
    with pytest.raises(TypeError):
        net.weights[0] = new  # a tuple: swapping in another array would cut it off from params


def test_layout_places_every_parameter_once():
    sizes = (784, 30, 20, 10)
    places = layout(sizes)
    covered = np.zeros(Network(sizes).n_parameters, int)
    for w, (n_out, n_in), b in places:
        covered[w:w + n_out * n_in] += 1
        covered[b:b + n_out] += 1
    assert covered.min() == covered.max() == 1


def test_copy_is_independent_and_keeps_its_views():
    net = Network((6, 4, 3), seed=0)
    twin = net.copy()
    twin.weights[0][0, 0] = 99.0
    assert twin.params[0] == 99.0 and net.params[0] != 99.0
    assert all(p.base is twin.params for p in twin.weights + twin.biases)


def test_a_pickled_network_keeps_its_views():
    """pickle (scikit-learn's, joblib's) would store the views as copies, cut off from params."""
    twin = pickle.loads(pickle.dumps(Network((6, 4, 3), seed=0)))
    assert all(p.base is twin.params for p in twin.weights + twin.biases)
    np.testing.assert_array_equal(twin.params, Network((6, 4, 3), seed=0).params)


@pytest.mark.parametrize("sizes", [(784, 10), (784, 30, 20, 10, 10), (784, 16, 16, 10)])
def test_any_layer_sizes_work(sizes, mnist):
    net = Network(sizes, "relu", "cross-entropy", seed=0)
    X, y = mnist.train_images[:64], mnist.train_labels[:64]
    layers = net.forward(X, all_layers=True)
    assert [a.shape for a in layers] == [(64, n) for n in sizes]
    grad_W, grad_b, _ = net.backprop(net.inputs(X), one_hot(y, sizes[-1]))
    assert [g.shape for g in grad_W] == [W.shape for W in net.weights]
    before = net.total_cost(X, y)
    net.fit(X, y, optimizer="adam", lr=0.01, batch_size=16, epochs=5, seed=0)
    assert net.total_cost(X, y) < before


def test_pixels_and_floats_mean_the_same():
    net = Network(seed=0)
    pixels = np.random.default_rng(0).integers(0, 256, (5, 784), dtype=np.uint8)
    np.testing.assert_allclose(net.forward(pixels), net.forward(pixels / 255.0), rtol=1e-5)
    np.testing.assert_allclose(net.forward(pixels[0])[0], net.forward(pixels)[0], rtol=1e-6)


def test_same_seed_same_weights_other_seed_other_weights():
    assert np.array_equal(Network(seed=5).params, Network(seed=5).params)
    assert not np.array_equal(Network(seed=5).params, Network(seed=6).params)


def test_relu_gets_he_initialisation():
    relu, sig = Network(activation="relu", seed=0), Network(activation="sigmoid", seed=0)
    np.testing.assert_allclose(relu.weights[0].std() / sig.weights[0].std(), np.sqrt(2), rtol=0.02)
    assert not relu.biases[0].any()


def test_activations_and_costs():
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    big = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], np.float32)
    a = softmax(big)
    assert np.all(np.isfinite(a)) and np.allclose(a.sum(axis=1), 1) and a[0, 0] == 1
    for name, act in ACTIVATIONS.items():
        x = np.linspace(-2, 2, 9) + 0.05
        numeric = (act.f(x + 1e-6) - act.f(x - 1e-6)) / 2e-6
        np.testing.assert_allclose(act.prime(act.f(x)), numeric, rtol=1e-5, atol=1e-8, err_msg=name)
    ce = COSTS["cross-entropy"].fn
    assert ce(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])) == pytest.approx(np.log(2))
    assert ce(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])) == np.inf  # certain and wrong


def test_predict_proba_adds_up_to_one_and_even_when_every_output_underflows_is_a_number():
    net = Network((4, 3, 5), "sigmoid", "quadratic", seed=0)
    X = np.array([[0.1, 0.9, 0.3, 0.5], [1.0, 0.0, 0.0, 1.0]], np.float32)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(proba, net.outputs(X) / net.outputs(X).sum(axis=1, keepdims=True), rtol=1e-6)
    net.biases[-1][:] = -100  # σ(−100) is 0 in float32: every output rounds to 0
    with np.errstate(all="raise"):  # and nothing divides 0 by 0 on the way
        proba = net.predict_proba(X)
    assert not net.outputs(X).any()
    assert proba.dtype == np.float32 and np.array_equal(proba, np.full((2, 5), 0.2, np.float32))  # none favoured
    # Each example on its own: one without a favourite beside one with.
    assert probabilities(np.array([[0, 0, 0, 0], [1, 3, 0, 0]], np.float32)).tolist() == [[0.25] * 4,
                                                                                            [0.25, 0.75, 0, 0]]


def test_bad_sizes_and_names_are_refused():
    for bad in ([784], [784, 0, 10], ["a", 3]):
        with pytest.raises(DigitnetError):
            Network(bad)
    with pytest.raises(DigitnetError, match="activation"):
        Network(activation="swish")
    with pytest.raises(DigitnetError, match="expected 784"):
        Network().forward(np.zeros((2, 783)))
