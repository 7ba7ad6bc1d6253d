"""The network: layers of neurons, each layer a' = σ(W a + b).

A mini-batch is a matrix whose rows are examples, so for a whole batch A the
next layer is A' = σ(A Wᵀ + b): one matrix product per layer, no Python loop
over examples. W has one row per neuron of the layer it feeds, as in the video.
"""

import numpy as np

from .blas import one_blas_thread
from .errors import DigitnetError
from .functions import ACTIVATIONS, COSTS, one_hot

DEFAULT_SIZES = (784, 16, 16, 10)
CHUNK = 512  # examples per product when scoring many: the chunk's floats stay in the CPU's cache


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
        self.sigmas = self.layer_functions()
        self.initialise(seed)

    def initialise(self, seed=None):
        """Random weights with variance scaled to each neuron's fan-in (2/n for ReLU,
        1/n otherwise), so every layer's z starts at a similar size; zero biases."""
        from .training import check_seed  # training imports this module

        check_seed(seed)
        rng = np.random.default_rng(seed)
        gain = 2.0 if self.activation.name == "relu" else 1.0
        self.params = np.zeros(parameter_count(self.sizes), dtype=self.dtype)
        self.weights, self.biases = parameter_views(self.sizes, self.params)
        for W in self.weights:
            W[...] = rng.standard_normal(W.shape) * np.sqrt(gain / W.shape[1])

    @property
    def n_parameters(self):
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases, strict=True))

    @property
    def config(self):
        return {"sizes": list(self.sizes), "activation": self.activation.name, "cost": self.cost.name}

    def flat_parameters(self):
        """Every weight and bias in one vector, of which ``weights`` and ``biases`` are views.

        Keeping them in one vector lets an optimiser update all 13,002 numbers in a few
        whole-vector operations instead of a loop over layers. If someone has put new
        arrays into ``weights`` or ``biases``, they are copied in and the views restored.
        """
        if not all(p.base is self.params for p in self.weights + self.biases):
            current = [np.asarray(p, dtype=self.dtype) for p in self.weights + self.biases]
            self.params = np.zeros(parameter_count(self.sizes), dtype=self.dtype)
            self.weights, self.biases = parameter_views(self.sizes, self.params)
            for p, value in zip(self.weights + self.biases, current, strict=True):
                p[...] = value
        return self.params

    # ---- the forward pass ---------------------------------------------------

    def layer_functions(self):
        """σ for each layer: the hidden activation, then the cost's output layer."""
        return [self.activation.f] * (len(self.sizes) - 2) + [self.cost.output.f]

    def forward(self, X, all_layers=False, buffers=None):
        """The output activations for a batch X (rows are examples), or with
        ``all_layers`` the list [input, hidden..., output] of every layer's.
        ``buffers`` (a Buffers for this batch size) gives arrays to reuse."""
        if buffers is None:
            X = numbers(X)
        if not all_layers and buffers is None and X.ndim > 1 and len(X) > CHUNK:
            return self.forward_many(X)
        a = X if X is getattr(buffers, "x", None) else self.as_input(X)
        activations = [a]
        for l, (W, b, sigma) in enumerate(zip(self.weights, self.biases, self.sigmas, strict=True)):
            z = np.dot(a, W.T, out=buffers and buffers.a[l])
            z += b
            a = sigma(z, out=z)  # in place: backprop needs only a, never z
            activations.append(a)
        return activations if all_layers else a

    def forward_many(self, X):
        """The output activations for many examples: compiled (see kernels.py) where
        numba is installed, else CHUNK examples at a time."""
        from . import kernels  # imports numba, which only training and scoring need

        X = self.as_rows(X)
        with one_blas_thread():
            if kernels.usable(self):
                return kernels.forward(self, X if X.dtype == np.uint8 else self.as_input(X))
            return np.concatenate([self.forward(X[k:k + CHUNK]) for k in range(0, len(X), CHUNK)])

    def feedforward(self, x):
        """One image (784 values) to its 10 output activations."""
        return self.forward(np.reshape(x, (1, -1)))[0]

    # ---- learning -------------------------------------------------------------

    def backprop(self, X, Y, buffers=None):
        """The gradient of the mean cost over the batch, by backpropagation.

        Returns (∂C/∂W, ∂C/∂b) for every layer, and the output activations
        (training uses them to report the cost without a second forward pass). δ is ∂C/∂z: it starts at the
        output and is carried back one layer at a time by the chain rule,
        δ = (δ' W') ⊙ σ'(z).

        ``buffers``, a Buffers for this batch size, makes it allocate nothing: the
        gradient is then written into ``buffers.grad`` (a flat vector laid out like
        ``flat_parameters()``) and the arrays returned are views of it.
        """
        b = buffers or Buffers(self, len(X))
        activations = self.forward(X, all_layers=True, buffers=b)
        delta = self.cost.delta(activations[-1], Y, out=b.delta[-1], tmp=b.tmp[-1])
        delta *= b.one_over_n  # the mean over the batch
        for l in range(len(self.weights) - 1, -1, -1):
            np.dot(delta.T, activations[l], out=b.grad_W[l])
            np.dot(b.ones, delta, out=b.grad_b[l])  # Σ over the batch, as a product: faster than .sum
            if l > 0:  # the input layer needs no δ
                delta = np.dot(delta, self.weights[l], out=b.delta[l - 1])
                self.activation.chain(delta, activations[l], tmp=b.tmp[l - 1])
        return b.grad_W, b.grad_b, activations[-1]

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
        X = self.as_rows(X)
        if X.dtype == np.uint8:  # pixels; one pass: cast and scale together
            return np.multiply(X, self.dtype.type(1 / 255), dtype=self.dtype)
        with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused below
            floats = X.astype(self.dtype, copy=False)
        if X.dtype.kind == "f" and not np.isfinite(floats).all():
            raise DigitnetError("input values must be finite numbers: found NaN or infinity")
        return floats

    def as_rows(self, X):
        """Examples as rows of input values (any type of number), their number checked."""
        X = numbers(X)
        X = X.reshape(X.shape[0], int(np.prod(X.shape[1:]))) if X.ndim > 1 else X.reshape(1, -1)
        if X.shape[1] != self.sizes[0]:
            raise DigitnetError(f"expected {self.sizes[0]} input values per example, got {X.shape[1]}")
        return X

    def __repr__(self):
        return (f"Network(sizes={tuple(self.sizes)}, activation={self.activation.name!r}, "
                f"cost={self.cost.name!r})")


class Buffers:
    """Arrays for one batch size, reused by every mini-batch so that training
    allocates nothing per step: the input ``x``, each layer's activations ``a``,
    its δ, scratch space, a row of ones (Σ over the batch as a matrix product)
    and the flat gradient ``grad`` with its per-layer views.
    Training points ``a[-1]`` at the batch's rows of the epoch's outputs."""

    def __init__(self, net, n):
        layers = net.sizes[1:]
        self.x = np.empty((n, net.sizes[0]), net.dtype)
        self.a = [np.empty((n, m), net.dtype) for m in layers]
        self.delta = [np.empty((n, m), net.dtype) for m in layers]
        self.tmp = [np.empty((n, m), net.dtype) for m in layers]
        self.ones = np.ones(n, net.dtype)
        self.one_over_n = np.array(1 / n, net.dtype)
        self.grad = np.empty(parameter_count(net.sizes), net.dtype)
        self.grad_W, self.grad_b = parameter_views(net.sizes, self.grad)


def numbers(X):
    """X as a NumPy array of numbers (bool, integer or float), or a DigitnetError."""
    try:
        X = np.asarray(X)
    except ValueError:  # nested lists of different lengths
        raise DigitnetError("input examples must all have the same number of values") from None
    if X.dtype.kind not in "buif":
        raise DigitnetError(f"input values must be real numbers, got {X.dtype}")
    return X


def parameter_count(sizes):
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def parameter_views(sizes, flat):
    """Each layer's W (n_out × n_in) and b (n_out) as views into the flat vector
    ``flat``, laid out W0, b0, W1, b1, ..."""
    weights, biases, k = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights.append(flat[k:k + n_out * n_in].reshape(n_out, n_in))
        k += n_out * n_in
        biases.append(flat[k:k + n_out])
        k += n_out
    return weights, biases


def check_sizes(sizes):
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise DigitnetError(f"layer sizes must be whole numbers, got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise DigitnetError(f"need at least an input and an output layer, each of 1 or more neurons; got {sizes}")
    return tuple(sizes)
