"""Activations and costs, each with the derivative that backpropagation needs.

Every derivative is written in terms of the activation ``a = f(z)`` rather than
``z``: the forward pass keeps the activations, so backprop never recomputes them.

Each function takes an optional ``out`` array, as NumPy's own functions do:
training passes preallocated buffers so that a mini-batch allocates nothing.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Activation(NamedTuple):
    name: str
    f: Callable[..., np.ndarray]  # a = f(z, out=None)
    df: Callable[[np.ndarray], np.ndarray]  # f'(z), given a = f(z)
    chain: Callable[..., np.ndarray]  # δ ⊙ f'(z) given δ and a, in place in δ; ``tmp`` is scratch


# The constants as 0-d arrays: NumPy combines them with an array faster than a
# Python number, which it must first look at to choose the result's type.
HALF, ONE = np.array(0.5, np.float32), np.array(1, np.float32)


def sigmoid(z, out=None):
    # σ(z) = ½ + ½ tanh(z/2): the same function, and NumPy's tanh is fast and
    # never overflows, where e^-z in 1/(1 + e^-z) does for z below -88.
    a = np.multiply(z, HALF, out=out)
    np.tanh(a, out=a)
    a *= HALF
    a += HALF
    return a


def sigmoid_chain(delta, a, tmp=None):
    """δ ⊙ σ'(z), with σ'(z) = a (1 − a)."""
    tmp = np.subtract(ONE, a, out=tmp)
    tmp *= a
    return np.multiply(delta, tmp, out=delta)


def relu(z, out=None):
    return np.maximum(z, 0, out=out)


def relu_chain(delta, a, tmp=None):
    """δ ⊙ relu'(z): δ where the neuron fired, 0 where it did not."""
    return np.multiply(delta, a > 0, out=delta)


def tanh(z, out=None):
    return np.tanh(z, out=out)


def tanh_chain(delta, a, tmp=None):
    """δ ⊙ tanh'(z), with tanh'(z) = 1 − a²."""
    tmp = np.multiply(a, a, out=tmp)
    np.subtract(ONE, tmp, out=tmp)
    return np.multiply(delta, tmp, out=delta)


def softmax(z, out=None):
    # Subtract each row's largest z so exp cannot overflow. (Found by argmax and
    # summed by a product with ones: along rows of 10, NumPy's max and sum take
    # several times longer.)
    rows = np.reshape(z, (-1, np.shape(z)[-1]))
    top = rows.take(rows.argmax(axis=1) + np.arange(0, rows.size, rows.shape[1]))
    a = np.subtract(z, top.reshape(np.shape(z)[:-1] + (1,)), out=out)
    np.exp(a, out=a)
    a /= (a @ np.ones(a.shape[-1], a.dtype))[..., None]
    return a


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, lambda a: a * (1 - a), sigmoid_chain),
    "relu": Activation("relu", relu, lambda a: (a > 0).astype(a.dtype), relu_chain),
    "tanh": Activation("tanh", tanh, lambda a: 1 - a * a, tanh_chain),
}


class Cost(NamedTuple):
    """A cost together with the output layer it is paired with.

    ``delta(a, y, out=None, tmp=None)`` is dC/dz of the output layer for each
    example: the error that backpropagation starts from (``tmp``: scratch space).
    """

    name: str
    output: Activation
    cost: Callable[[np.ndarray, np.ndarray], float]  # mean over the batch
    delta: Callable[..., np.ndarray]


def quadratic_cost(a, y):
    return 0.5 * float(np.sum((a - y) ** 2, dtype=np.float64)) / len(a)


def quadratic_delta(a, y, out=None, tmp=None):
    """C = ½‖a − y‖² with sigmoid outputs: δ = (a − y) ⊙ σ'(z)."""
    delta = np.subtract(a, y, out=out)
    return sigmoid_chain(delta, a, tmp)


def cross_entropy_cost(a, y):
    # Only the right answer's ln a counts (y is 0 elsewhere). If the network gives the
    # right answer probability 0, the cost is truly infinite: training reports that as
    # divergence rather than hiding it.
    with np.errstate(divide="ignore"):
        return -float(np.sum(np.log(a[y > 0]) * y[y > 0], dtype=np.float64)) / len(a)


def cross_entropy_delta(a, y, out=None, tmp=None):
    """C = −Σ y ln a with softmax outputs: the σ' factor cancels, δ = a − y."""
    return np.subtract(a, y, out=out)


SOFTMAX = Activation("softmax", softmax, None, None)  # only used paired with cross-entropy

COSTS = {
    "quadratic": Cost("quadratic", ACTIVATIONS["sigmoid"], quadratic_cost, quadratic_delta),
    "cross-entropy": Cost("cross-entropy", SOFTMAX, cross_entropy_cost, cross_entropy_delta),
}


def one_hot(labels, n=10, dtype=np.float32):
    """The desired output y for each label: 1 for the right digit, 0 elsewhere."""
    y = np.zeros((len(labels), n), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1
    return y
