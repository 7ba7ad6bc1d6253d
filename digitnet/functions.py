"""Activations and costs: the one registry the rest of digitnet takes them from.

Each entry states every fact about its function once: the array form the reference
network uses (network.py) and its derivative; kernels.c has the same for a single
float32 number, found there by the entry's name, and the tests hold the two together.
The command line's choices, the web API's schema and the page's menus are this
registry's names; adding an activation is one entry here, its form in kernels.c, and
its tests.

Derivatives are written in terms of the activation a = σ(z) rather than z: the
forward pass keeps every layer's a, so backpropagation never needs z again.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Activation(NamedTuple):
    name: str
    f: Callable          # a = σ(z), element by element of an array
    prime: Callable      # σ'(z), from a = σ(z)
    gain: float = 1.0    # the first weights have variance gain / (inputs of the neuron)
    rowwise: bool = False  # σ of one neuron depends on the others in its layer (softmax)
    onnx: str = ""       # ONNX's operator for σ, for `digitnet export`
    about: str = ""


class Cost(NamedTuple):
    name: str
    output: Activation   # the output layer's σ it is paired with
    terms: Callable      # each output's share of one example's cost, from a and the desired y (arrays)
    delta: Callable      # δ = ∂C/∂z of the output layer, from a and y (arrays)
    about: str = ""

    def fn(self, a, y):
        """C: the cost of each example (the sum of its terms), averaged over the batch."""
        return float(np.sum(self.terms(a, y), dtype=np.float64)) / len(a)


# ---- activations, for arrays ---------------------------------------------------------

def sigmoid(z):
    # 1 / (1 + e^−z), written with tanh: the same function, but e^−z overflows for z < −88
    return 0.5 * (1 + np.tanh(0.5 * z))


def sigmoid_prime(a):
    return a * (1 - a)


def relu(z):
    return np.maximum(z, 0)


def relu_prime(a):
    return (a > 0).astype(a.dtype)  # 1 where the neuron fired, 0 where it did not


def tanh(z):
    return np.tanh(z)


def tanh_prime(a):
    return 1 - a * a


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # less each row's largest z, so e cannot overflow
    return e / e.sum(axis=-1, keepdims=True)


# ---- costs, for arrays ------------------------------------------------------------------

def quadratic_terms(a, y):
    """½ (a − y)² for each output: the squared differences from the desired output, halved
    so that the derivative is simply a − y."""
    return 0.5 * (a - y) ** 2


def quadratic_delta(a, y):
    """δ = (a − y) σ'(z), with the sigmoid outputs the quadratic cost is paired with."""
    return (a - y) * sigmoid_prime(a)


def cross_entropy_terms(a, y):
    """−y ln a for each output: only the right answer's −ln a counts. If the network gives
    the right answer probability 0, the cost is truly infinite, and training reports it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, -y * np.log(a), 0)


def cross_entropy_delta(a, y):
    """With softmax outputs, σ'(z) cancels: δ = a − y."""
    return a - y


# ---- the registry ---------------------------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime, onnx="Sigmoid",
                          about="σ(z) = 1 / (1 + e^−z): the videos' smooth switch from 0 to 1"),
    "relu": Activation("relu", relu, relu_prime, gain=2.0, onnx="Relu",
                       about="max(0, z): the modern choice, easier to train"),
    "tanh": Activation("tanh", tanh, tanh_prime, onnx="Tanh",
                       about="tanh(z): a sigmoid stretched to run from −1 to 1"),
}

SOFTMAX = Activation("softmax", softmax, None, rowwise=True, onnx="Softmax",
                     about="e^z / Σ e^z: outputs that add up to 1, like probabilities")

COSTS = {
    "quadratic": Cost("quadratic", ACTIVATIONS["sigmoid"], quadratic_terms, quadratic_delta,
                      about="the videos' cost: the squared differences from the desired output (halved)"),
    "cross-entropy": Cost("cross-entropy", SOFTMAX, cross_entropy_terms, cross_entropy_delta,
                          about="−ln of the right answer's probability, with softmax outputs"),
}


def registry():
    """The registry as plain data, for engines in other languages (the browser's, web/static/functions.js,
    has each form by these names): which σ each cost's outputs take, each activation's starting gain."""
    return {"activations": {name: {"gain": a.gain, "rowwise": a.rowwise, "about": a.about}
                            for name, a in {**ACTIVATIONS, SOFTMAX.name: SOFTMAX}.items()},
            "costs": {name: {"output": c.output.name, "about": c.about} for name, c in COSTS.items()}}


def one_hot(labels, n=10, dtype=np.float32):
    """The desired output y for each label: 1 for the right digit, 0 elsewhere."""
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y
