"""Activations and costs, each with the derivative that backpropagation needs.

Every derivative is written in terms of the activation ``a = f(z)`` rather than
``z``: the forward pass keeps the activations, so backprop never recomputes them.
"""

from typing import Callable, NamedTuple

import numpy as np


class Activation(NamedTuple):
    name: str
    f: Callable[[np.ndarray], np.ndarray]  # a = f(z)
    df: Callable[[np.ndarray], np.ndarray]  # f'(z), given a = f(z)


def sigmoid(z):
    # exp(-z) overflows float32 for z < -88; the result (0) is still right.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift so exp cannot overflow
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, lambda a: a * (1 - a)),
    "relu": Activation("relu", relu, lambda a: (a > 0).astype(a.dtype)),
    "tanh": Activation("tanh", np.tanh, lambda a: 1 - a * a),
}


class Cost(NamedTuple):
    """A cost together with the output layer it is paired with.

    ``delta(a, y)`` is dC/dz of the output layer for each example: the error
    that backpropagation starts from.
    """

    name: str
    output: Activation
    cost: Callable[[np.ndarray, np.ndarray], float]  # mean over the batch
    delta: Callable[[np.ndarray, np.ndarray], np.ndarray]


def quadratic_cost(a, y):
    return 0.5 * float(np.sum((a - y) ** 2, dtype=np.float64)) / len(a)


def cross_entropy_cost(a, y):
    # log(0) would be -inf for a confidently wrong output; clip to a tiny number.
    return -float(np.sum(y * np.log(np.maximum(a, 1e-30)), dtype=np.float64)) / len(a)


SOFTMAX = Activation("softmax", softmax, None)  # only used paired with cross-entropy

COSTS = {
    # The video: sigmoid outputs, C = ½‖a − y‖², so δ = (a − y) ⊙ σ'(z).
    "quadratic": Cost(
        "quadratic", ACTIVATIONS["sigmoid"], quadratic_cost, lambda a, y: (a - y) * a * (1 - a)
    ),
    # Softmax outputs with C = −Σ y ln a: the σ' factor cancels, δ = a − y.
    "cross-entropy": Cost("cross-entropy", SOFTMAX, cross_entropy_cost, lambda a, y: a - y),
}


def one_hot(labels, n=10, dtype=np.float32):
    """The desired output y for each label: 1 for the right digit, 0 elsewhere."""
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y
