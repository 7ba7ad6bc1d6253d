"""The network: layers of neurons, each layer a' = σ(W a + b).

A mini-batch is a matrix whose rows are examples, so for a whole batch A the
next layer is A' = σ(A Wᵀ + b): one matrix product per layer, no Python loop
over examples. W has one row per neuron of the layer it feeds, as in the video.
"""

import numpy as np

from .errors import DigitnetError
from .functions import ACTIVATIONS, COSTS, one_hot

DEFAULT_SIZES = (784, 16, 16, 10)


class Network:
    def __init__(self, sizes=DEFAULT_SIZES, activation="sigmoid", cost="quadratic",
                 seed=None, dtype=np.float32):
        self.sizes = check_sizes(sizes)
        if activation not in ACTIVATIONS:
            raise DigitnetError(f"unknown activation {activation!r}: choose from {', '.join(ACTIVATIONS)}")
        if cost not in COSTS:
            raise DigitnetError(f"unknown cost {cost!r}: choose from {', '.join(COSTS)}")
        self.activation = ACTIVATIONS[activation]
        self.cost = COSTS[cost]
        self.dtype = np.dtype(dtype)
        self.history = None  # filled in by training
        self.initialise(seed)

    def initialise(self, seed=None):
        """Random weights with variance scaled to each neuron's fan-in (2/n for ReLU,
        1/n otherwise), so every layer's z starts at a similar size; zero biases."""
        rng = np.random.default_rng(seed)
        gain = 2.0 if self.activation.name == "relu" else 1.0
        self.weights = [(rng.standard_normal((n_out, n_in)) * np.sqrt(gain / n_in)).astype(self.dtype)
                        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        self.biases = [np.zeros(n_out, dtype=self.dtype) for n_out in self.sizes[1:]]

    @property
    def n_parameters(self):
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    @property
    def config(self):
        return {"sizes": list(self.sizes), "activation": self.activation.name, "cost": self.cost.name}

    # ---- the forward pass ---------------------------------------------------

    def layer_functions(self):
        """σ for each layer: the hidden activation, then the cost's output layer."""
        return [self.activation.f] * (len(self.weights) - 1) + [self.cost.output.f]

    def forward(self, X, all_layers=False):
        """The output activations for a batch X (rows are examples), or with
        ``all_layers`` the list [input, hidden..., output] of every layer's."""
        a = self.as_input(X)
        activations = [a]
        for W, b, sigma in zip(self.weights, self.biases, self.layer_functions()):
            z = a @ W.T + b
            a = sigma(z)
            activations.append(a)
        return activations if all_layers else a

    def feedforward(self, x):
        """One image (784 values) to its 10 output activations."""
        return self.forward(np.reshape(x, (1, -1)))[0]

    # ---- learning -------------------------------------------------------------

    def backprop(self, X, Y):
        """The gradient of the mean cost over the batch, by backpropagation.

        Returns (∂C/∂W, ∂C/∂b) for every layer, and the output activations
        (training uses them to report the cost without a second forward pass). δ is ∂C/∂z: it starts at the
        output and is carried back one layer at a time by the chain rule,
        δ = (δ' W') ⊙ σ'(z).
        """
        activations = self.forward(X, all_layers=True)
        delta = self.cost.delta(activations[-1], Y) / len(X)
        grad_W, grad_b = [None] * len(self.weights), [None] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):
            grad_W[l] = delta.T @ activations[l]
            grad_b[l] = delta.sum(axis=0)
            if l > 0:  # the input layer needs no δ
                delta = (delta @ self.weights[l]) * self.activation.df(activations[l])
        return grad_W, grad_b, activations[-1]

    def total_cost(self, X, labels):
        return self.cost.cost(self.forward(X), one_hot(labels, self.sizes[-1], self.dtype))

    # ---- the scikit-learn face --------------------------------------------------

    def fit(self, X, y, **options):
        """Learn from images X (n×784, or n×28×28; floats in [0, 1] or uint8)
        and labels y by stochastic gradient descent; options as for ``train``."""
        from .training import train  # training imports this module

        train(self, X, y, **options)
        return self

    def predict_proba(self, X):
        """The output activations, scaled to sum to 1 for each example."""
        a = self.forward(X)
        return a / a.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The digit of each example: the brightest output neuron."""
        return self.forward(X).argmax(axis=1)

    def score(self, X, y):
        """The share of examples classified correctly."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def predict_image(self, image, **options):
        """The digit in a real image (a path, a PIL image or an array), after
        turning it into MNIST form with ``images.to_mnist``."""
        from .images import to_mnist

        return int(self.predict(to_mnist(image, **options).reshape(1, -1))[0])

    # ---- files ----------------------------------------------------------------

    def save(self, path, **record):
        from .modelfile import save

        save(self, path, **record)

    @classmethod
    def load(cls, path):
        from .modelfile import load

        return load(path)

    def as_input(self, X):
        """Images as a float batch of rows in [0, 1]: uint8 pixels are scaled by 1/255."""
        X = np.asarray(X)
        pixels = X.dtype == np.uint8
        X = X.reshape(len(X), -1) if X.ndim > 1 else X.reshape(1, -1)
        if X.shape[1] != self.sizes[0]:
            raise DigitnetError(f"expected {self.sizes[0]} input values per example, got {X.shape[1]}")
        X = X.astype(self.dtype, copy=False)
        return X * self.dtype.type(1 / 255) if pixels else X

    def __repr__(self):
        return (f"Network(sizes={tuple(self.sizes)}, activation={self.activation.name!r}, "
                f"cost={self.cost.name!r})")


def check_sizes(sizes):
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise DigitnetError(f"layer sizes must be whole numbers, got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise DigitnetError(f"need at least an input and an output layer, each of 1 or more neurons; got {sizes}")
    return tuple(sizes)
