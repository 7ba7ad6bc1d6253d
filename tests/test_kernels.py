"""The compiled loops (digitnet.kernels) against the NumPy mathematics they copy:
each activation, a whole step's gradient, whole epochs with every optimiser, and
scoring many images."""

import os
import subprocess
import sys

import numpy as np
import pytest

from digitnet import Network, kernels
from digitnet.functions import ACTIVATIONS, one_hot, softmax
from digitnet.training import Trainer

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def test_tanh_is_within_a_few_float32_ulps():
    x = np.linspace(-20, 20, 200_001, dtype=np.float32)
    got = np.array([kernels.tanh(v) for v in x[::97]], np.float32)
    np.testing.assert_allclose(got, np.tanh(x[::97]), rtol=0, atol=4e-7)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_each_activation_matches_numpy(name):
    rng = np.random.default_rng(0)
    z, b = rng.normal(0, 4, (37, 13)).astype(np.float32), rng.normal(0, 1, 13).astype(np.float32)
    expected = softmax(z + b) if name == "softmax" else ACTIVATIONS[name].f(z + b)
    kernels.activate(z, b, kernels.ACTIVATION_CODES[name])
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh"])
def test_each_derivative_matches_numpy(name):
    rng = np.random.default_rng(1)
    a = ACTIVATIONS[name].f(rng.normal(0, 2, (20, 9)).astype(np.float32))
    delta = rng.normal(0, 1, (20, 9)).astype(np.float32)
    expected = ACTIVATIONS[name].chain(delta.copy(), a, tmp=np.empty_like(a))
    kernels.chain(delta, a, kernels.ACTIVATION_CODES[name])
    np.testing.assert_allclose(delta, expected, rtol=1e-6, atol=1e-7)


def one_step(net, pixels, labels):
    """The change one plain SGD step with η = 1 on a single batch makes to every
    parameter, compiled: minus the gradient."""
    before = net.params.copy()
    sgd = type("Plain", (), {"name": "sgd", "velocity": None, "momentum": 0.0})()
    kernels.sgd_epoch(net, pixels.reshape(-1), np.arange(len(pixels)) * pixels.shape[1], labels, sgd, 1.0,
                      len(pixels), 0.0)
    return before - net.params


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("sizes", [(784, 16, 16, 10), (784, 10), (784, 30, 20, 12, 10)])
def test_a_step_follows_backprops_gradient(sizes, activation, cost):
    """Batches of 150 go through the products 64 rows at a time: the sum must be whole."""
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (150, sizes[0]), dtype=np.uint8)
    labels = rng.integers(0, sizes[-1], 150)
    net = Network(sizes, activation, cost, seed=3)
    grad_W, grad_b, _ = net.backprop(pixels / np.float32(255), one_hot(labels, sizes[-1]))
    expected = np.concatenate([g.ravel() for pair in zip(grad_W, grad_b, strict=True) for g in pair])
    got = one_step(net, pixels, labels)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-6 * np.abs(expected).max())


OPTIONS = [
    dict(optimizer="sgd", lr=3.0, batch_size=10),
    dict(optimizer="sgd", lr=0.5, momentum=0.9, batch_size=64, l2=1e-4),
    dict(optimizer="adam", lr=0.005, batch_size=128, shift=1),
    dict(optimizer="adam", lr=0.001, batch_size=100, l2=1e-3, shift=2),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_an_epoch_compiled_is_the_numpy_epoch(mnist, monkeypatch, options):
    """The same seed, data and options: the compiled epoch and the NumPy one end at
    the same weights (to float32 rounding, which fused loops order differently)
    and report the same cost and accuracy."""
    X, y = mnist.train_images[:3000], mnist.train_labels[:3000]
    activation, cost = ("relu", "cross-entropy") if options["optimizer"] == "adam" else ("sigmoid", "quadratic")
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "AVAILABLE", compiled)
        net = Network((784, 16, 16, 10), activation, cost, seed=4)
        trainer = Trainer(net, X, y, epochs=2, seed=5, **options)
        assert (trainer.kernels is not None) == compiled
        trainer.run()
        results.append((net.params.copy(), trainer.history))
    (compiled_params, compiled_history), (numpy_params, numpy_history) = results
    assert np.abs(numpy_params).max() > 0.1  # it learned something
    np.testing.assert_allclose(compiled_params, numpy_params, rtol=0, atol=2e-3 * np.abs(numpy_params).max())
    for a, b in zip(compiled_history, numpy_history, strict=True):
        assert a["cost"] == pytest.approx(b["cost"], rel=1e-3)
        assert a["train_accuracy"] == pytest.approx(b["train_accuracy"], abs=2 / len(X))


def test_a_float64_network_trains_through_numpy(mnist):
    net = Network((784, 8, 10), seed=0, dtype=np.float64)
    trainer = Trainer(net, mnist.train_images[:200], mnist.train_labels[:200], epochs=1, seed=0)
    assert trainer.kernels is None
    trainer.run()
    assert net.params.dtype == np.float64


@pytest.mark.parametrize("kind", ["uint8", "float32", "float64", "images"])
def test_scoring_many_is_the_numpy_forward(mnist, monkeypatch, kind):
    net = Network((784, 30, 10), "tanh", "cross-entropy", seed=6)
    X = {"uint8": mnist.test_images[:777].reshape(777, -1), "images": mnist.test_images[:777],
         "float32": mnist.test_images[:777].reshape(777, -1) / np.float32(255),
         "float64": mnist.test_images[:777].reshape(777, -1) / 255.0}[kind]
    compiled = net.forward(X)
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    expected = net.forward(X)
    assert compiled.shape == expected.shape == (777, 10)
    np.testing.assert_allclose(compiled, expected, rtol=1e-4, atol=1e-6)
    assert np.mean(compiled.argmax(axis=1) == expected.argmax(axis=1)) > 0.998


def test_digitnet_compiled_0_turns_the_kernels_off():
    code = "from digitnet import Network, kernels; print(kernels.AVAILABLE, kernels.usable(Network()))"
    for setting, expected in (("0", "False False"), ("1", "True True")):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "DIGITNET_COMPILED": setting})
        assert done.stdout.split() == expected.split()
