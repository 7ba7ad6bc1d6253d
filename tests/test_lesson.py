"""Chapter 2 with one example (digitnet.lesson): the cost laid out output by output, and a
step downhill that is exactly −η times backprop's gradient, checked against finite differences."""

import numpy as np
import pytest

from digitnet.lesson import (
    TEACHING_RATE,
    accuracy_and_cost,
    average_cost,
    cost_of_one,
    largest_nudges,
    layer_shares,
    teach,
    teach_many,
)
from digitnet.network import Network, flatten, parameter_views


@pytest.fixture(params=["quadratic", "cross-entropy"])
def net(request):
    return Network((784, 16, 16, 10), "sigmoid" if request.param == "quadratic" else "relu", request.param, seed=3)


def test_the_cost_of_one_example_adds_up(net, mnist):
    x, label = mnist.test_images[0], int(mnist.test_labels[0])
    laid_out = cost_of_one(net, x, label)
    a, y = laid_out["outputs"], laid_out["desired"]
    assert y[label] == 1 and y.sum() == 1
    np.testing.assert_allclose(a, net.forward(x)[0], rtol=1e-6)
    np.testing.assert_allclose(laid_out["squared_differences"], (a - y) ** 2, rtol=1e-6)
    assert laid_out["cost"] == pytest.approx(laid_out["terms"].sum())
    assert laid_out["cost"] == pytest.approx(net.total_cost(x.reshape(1, -1), [label]), rel=1e-5)
    assert laid_out["sum_of_squares"] == pytest.approx(laid_out["squared_differences"].sum())
    if net.cost.name == "quadratic":  # ½ Σ (a − y)²
        np.testing.assert_allclose(laid_out["terms"], laid_out["squared_differences"] / 2, rtol=1e-6)
        assert laid_out["cost"] == pytest.approx(laid_out["sum_of_squares"] / 2)
    else:  # only the right digit's −ln a
        assert laid_out["cost"] == pytest.approx(-np.log(a[label]), rel=1e-5)
        assert np.count_nonzero(laid_out["terms"]) == 1


def test_the_average_cost_is_the_mean_of_the_examples(net, mnist):
    images, labels = mnist.test_images[:50], mnist.test_labels[:50]
    each = [cost_of_one(net, x, int(d))["cost"] for x, d in zip(images, labels, strict=True)]
    assert average_cost(net, images, labels) == pytest.approx(np.mean(each), rel=1e-5)


def test_a_teaching_step_is_minus_eta_times_the_gradient(mnist):
    net = Network((784, 16, 16, 10), "sigmoid", "quadratic", seed=3, dtype=np.float64)
    x, label = mnist.train_images[5], 4
    grad_W, grad_b, _ = net.backprop(net.inputs(x), np.eye(10)[[label]])
    step = teach(net, x, label, 0.5)
    np.testing.assert_allclose(step["change"], -0.5 * flatten(grad_W, grad_b), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(step["params_before"] + step["change"], net.params)


def test_the_gradient_is_the_slope_of_the_cost_of_this_example(mnist):
    """Finite differences: nudging a parameter by ε changes this example's cost by ε ∂C/∂w."""
    net = Network((784, 8, 10), "tanh", "cross-entropy", seed=1, dtype=np.float64)
    x, label = mnist.train_images[7], int(mnist.train_labels[7])
    gradient = teach(net.copy(), x, label, 1.0)["gradient"]
    for i in np.argsort(-np.abs(gradient))[:15]:
        keep, eps = net.params[i], 1e-6
        net.params[i] = keep + eps
        up = cost_of_one(net, x, label)["cost"]
        net.params[i] = keep - eps
        down = cost_of_one(net, x, label)["cost"]
        net.params[i] = keep
        assert gradient[i] == pytest.approx((up - down) / (2 * eps), rel=1e-4)


def test_small_steps_go_downhill_until_the_network_changes_its_mind(net, mnist):
    x = mnist.test_images[0]
    wrong = (int(net.predict(x)[0]) + 1) % 10  # an answer the network does not give
    costs = []
    for _ in range(30):
        step = teach(net, x, wrong, 0.5 if net.cost.name == "quadratic" else 0.05)
        assert step["after"]["cost"] < step["before"]["cost"]
        costs.append(step["after"]["cost"])
        if int(net.predict(x)[0]) == wrong:
            break
    assert int(net.predict(x)[0]) == wrong
    assert costs == sorted(costs, reverse=True)


def test_the_nudges_are_the_largest_changes_named_as_in_the_video(mnist):
    net = Network((784, 16, 16, 10), "relu", "cross-entropy", seed=0)
    step = teach(net, mnist.train_images[0], 3, 0.1)
    nudges = step["nudges"]
    assert len(nudges) == 20
    sizes = [abs(n["change"]) for n in nudges]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == pytest.approx(np.abs(step["change"]).max())
    weights_before, biases_before = parameter_views(net.sizes, step["params_before"])
    for nudge in nudges:  # each name points at the parameter that changed by that much
        W, b = net.weights[nudge["layer"] - 1], net.biases[nudge["layer"] - 1]
        before_W, before_b = weights_before[nudge["layer"] - 1], biases_before[nudge["layer"] - 1]
        if nudge["from"] is None:
            assert b[nudge["neuron"]] - before_b[nudge["neuron"]] == pytest.approx(nudge["change"], abs=1e-7)
            assert nudge["name"].startswith("bias of layer")
        else:
            moved = W[nudge["neuron"], nudge["from"]] - before_W[nudge["neuron"], nudge["from"]]
            assert moved == pytest.approx(nudge["change"], abs=1e-7)
    assert step["first_layer"].shape == (16, 784)
    shares = step["layer_shares"]
    assert shares.shape == (3,) and shares.sum() == pytest.approx(1) and (shares >= 0).all()


def test_largest_nudges_and_layer_shares_by_hand():
    sizes = (2, 2, 1)  # W0 2×2, b0 2, W1 1×2, b1 1
    change = np.array([0.1, -0.5, 0.0, 0.2, 0.05, 0.0, -0.3, 0.0, 0.4])
    names = [n["name"] for n in largest_nudges(sizes, change, k=3)]
    assert names == ["weight into layer 1 neuron 0 from pixel 1", "bias of layer 2 neuron 0",
                     "weight into layer 2 neuron 0 from layer 1 neuron 0"]
    W, b = [np.array([[3.0, 4.0]])], [np.array([0.0])]
    W2, b2 = [np.array([[0.0]]), np.array([[1.0]])], [np.array([0.0]), np.array([1.0])]
    np.testing.assert_allclose(layer_shares(W, b), [1.0])
    np.testing.assert_allclose(layer_shares(W2, b2), [0.0, 1.0])


def test_teaching_many_examples_steps_once_for_each(mnist):
    net = Network((784, 16, 10), "relu", "cross-entropy", seed=2)
    before = net.params.copy()
    costs = teach_many(net, mnist.train_images[:100], mnist.train_labels[:100], 0.05)
    assert costs.shape == (100,) and np.isfinite(costs).all()
    assert not np.array_equal(net.params, before)
    assert np.mean(costs[-20:]) < np.mean(costs[:20])  # the later examples already cost less


def test_accuracy_and_cost_are_the_score_and_the_average_cost_in_one_pass(net, mnist):
    images, labels = mnist.test_images[:500], mnist.test_labels[:500]
    scores = accuracy_and_cost(net, images, labels)
    assert scores["accuracy"] == net.score(images, labels)
    assert scores["average_cost"] == pytest.approx(average_cost(net, images, labels), rel=1e-6)


def test_the_teaching_rate_changes_a_trained_networks_mind_in_a_few_steps(trained_net, mnist):
    """TEACHING_RATE for cross-entropy: test images the trained network gets right, taught their
    runner-up digit, change its mind in a few steps, each going downhill."""
    eta, steps = TEACHING_RATE[trained_net.cost.name], []
    for x in mnist.test_images[:8]:
        net, wanted = trained_net.copy(), int(np.argsort(-trained_net.forward(x)[0])[1])
        taken = 0
        while int(net.predict(x)[0]) != wanted and taken < 30:
            step = teach(net, x, wanted, eta)
            assert step["after"]["cost"] < step["before"]["cost"]
            taken += 1
        assert int(net.predict(x)[0]) == wanted
        steps.append(taken)
    assert 1 < np.median(steps) <= 10, steps
