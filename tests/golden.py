"""Golden vectors: what network.py and optimizers.py compute, written as JSON for the browser's
engine (web/static/network.js) to match, by tests/js/engine.test.mjs."""

import numpy as np

from digitnet.functions import one_hot, registry
from digitnet.network import Network, flatten
from digitnet.optimizers import SGD, Adam

CASES = [((784, 16, 16, 10), "relu", "cross-entropy"), ((64, 12, 10), "sigmoid", "quadratic"),
         ((30, 8, 8, 4), "tanh", "cross-entropy"), ((30, 9, 5), "tanh", "quadratic")]


def flat(array):
    return np.asarray(array, np.float64).ravel().tolist()


def after(net, x, y, steps, optimizer=None, eta=0.1, l2=0.0, batch=4):
    """The parameters after ``steps`` steps on batches of ``batch`` from (x, y), in order."""
    net = net.copy()
    for s in range(steps):
        rows = slice((s * batch) % len(x), (s * batch) % len(x) + batch)
        net.step(x[rows], y[rows], eta, l2, optimizer)
    return flat(net.params)


def case(sizes, activation, cost, seed):
    rng = np.random.default_rng(seed)
    net = Network(sizes, activation, cost, seed=seed)
    x = (rng.integers(0, 256, (40, sizes[0])) / 255).astype(np.float32)  # as pixels / 255 are
    labels = rng.integers(0, sizes[-1], 40)
    y = one_hot(labels, sizes[-1])
    grad_W, grad_b, _ = net.backprop(x[:1], y[:1])
    n = net.params.size
    return {
        "network": {**net.config, "params": flat(net.params)},
        "x": flat(x), "labels": labels.tolist(),
        "activations": [flat(a) for a in net.feedforward(x[:4], all_layers=True)],
        "costs": net.cost.terms(net.feedforward(x[:4]), y[:4]).sum(axis=1).tolist(),
        "gradient": flat(flatten(grad_W, grad_b)),  # of one example's cost
        "sgd": after(net, x, y, 1, eta=0.5),
        "sgd_l2": after(net, x, y, 1, eta=0.5, l2=0.01),
        "momentum": after(net, x, y, 3, SGD(n, 0.9), eta=0.1),
        "adam": after(net, x, y, 1, Adam(n), eta=0.01),
        "training": after(net, x, y, 20, Adam(n), eta=0.003, l2=1e-4),
    }


def golden():
    return {"registry": registry(), "cases": [case(*c, seed=k) for k, c in enumerate(CASES)]}
