"""The network of 3Blue1Brown's chapter 1, and how it learns (chapter 2), in NumPy.

This is the reference: the mathematics as plainly as it can be written. Every
layer is a' = σ(W a + b). A mini-batch is a matrix whose rows are examples, so a
whole batch goes through a layer as A' = σ(A Wᵀ + b): one matrix product, no loop
over examples. W has one row per neuron of the layer it feeds, as in the video.

kernels.py runs the same training compiled, fast, and is tested against this file.
"""

import math

import numpy as np

from .deskew import deskew
from .functions import ACTIVATIONS, COSTS, one_hot
from .validation import (
    as_inputs,
    as_labels,
    as_rows,
    check_choice,
    check_classes,
    check_deskew,
    check_not_a_digit,
    check_seed,
    check_sizes,
)

DEFAULT_SIZES = (784, 16, 16, 10)
NOT_A_DIGIT = "not a digit"  # the name of the output that a network trained on noise as well has last


class Network:
    """``not_a_digit``: the last output neuron means "none of these digits" (training.Trainer's
    ``not_a_digit`` images of noise teach it that), and the others are the digits 0, 1, ...
    ``classes``: what those others stand for, when they are not digits: a name for each, in label
    order (Fashion-MNIST's "T-shirt/top", "Trouser", ...); None for the digits.
    ``deskew``: the input layer takes each image deskewed (deskew.py: sheared upright and centred
    on its ink), whatever it is given; the input must then be a square image."""

    def __init__(self, sizes=DEFAULT_SIZES, activation="sigmoid", cost="quadratic", seed=None,
                 dtype=np.float32, not_a_digit=False, classes=None, deskew=False):
        self.sizes = check_sizes(sizes)
        self.deskew = check_deskew(deskew, self.sizes)
        self.not_a_digit = check_not_a_digit(not_a_digit, self.sizes)
        self.classes = check_classes(classes, self.digits)
        self.activation = ACTIVATIONS[check_choice("activation", activation, ACTIVATIONS)]
        self.cost = COSTS[check_choice("cost", cost, COSTS)]
        self.dtype = np.dtype(dtype)
        self.history = None  # one record per epoch, once trained
        self.path = None  # the plane of the path training took (trajectory.Plane), once trained
        self.negatives = None  # what its "not a digit" output learned from, {kind: images}, once trained
        # Every weight and bias in one vector, W0, b0, W1, b1, ...: weights[l] and biases[l]
        # are views into it, so an optimiser can step all of them as one vector.
        self.params = np.zeros(parameter_count(self.sizes), self.dtype)
        self.weights, self.biases = parameter_views(self.sizes, self.params)
        self.initialise(seed)

    def initialise(self, seed=None):
        """Random weights of variance gain / n for a neuron with n inputs, so that every
        layer's z starts at a similar size (gain 2 for ReLU, which zeroes half); zero biases."""
        rng = np.random.default_rng(check_seed(seed))
        for W, b in zip(self.weights, self.biases, strict=True):
            W[...] = rng.standard_normal(W.shape) * np.sqrt(self.activation.gain / W.shape[1])
            b[...] = 0

    @property
    def digits(self):
        """How many of the outputs are digits: all of them, or all but "not a digit", the last."""
        return self.sizes[-1] - self.not_a_digit

    @property
    def output_names(self):
        """What each output neuron stands for: "0", "1", ... (or the classes' names), and "not a
        digit" if it has that output."""
        names = list(self.classes) if self.classes else [str(d) for d in range(self.digits)]
        return names + [NOT_A_DIGIT] * self.not_a_digit

    @property
    def layer_functions(self):
        """Each layer's activation, as the registry's entry: the hidden activation, then the
        output layer's, which the cost chooses."""
        return [self.activation] * (len(self.sizes) - 2) + [self.cost.output]

    @property
    def sigmas(self):
        """σ of each layer."""
        return [function.f for function in self.layer_functions]

    # ---- chapter 1: a' = σ(W a + b) ------------------------------------------------------

    def feedforward(self, a, all_layers=False):
        """The output activations for the batch of inputs a (rows of numbers in [0, 1]),
        or with ``all_layers`` every layer's: [input, hidden..., output]."""
        activations = [a]
        for W, b, sigma in zip(self.weights, self.biases, self.sigmas, strict=True):
            z = a @ W.T + b  # each example's W a + b
            a = sigma(z)
            activations.append(a)
        return activations if all_layers else a

    # ---- chapter 2: the cost, its gradient, and a step downhill -------------------------------

    def backprop(self, x, y):
        """The gradient of the cost C (averaged over the batch x with desired outputs y):
        ∂C/∂W and ∂C/∂b for every layer, and the output activations.

        δ = ∂C/∂z starts at the output layer and is carried back a layer at a time by the
        chain rule: δ = (δ' W') ⊙ σ'(z). Each layer's ∂C/∂W is then δᵀ a of the layer
        below, and ∂C/∂b is Σ δ, summed over the examples."""
        activations = self.feedforward(x, all_layers=True)
        delta = self.cost.delta(activations[-1], y) / len(x)  # / n: the mean over the batch
        nabla_W, nabla_b = [None] * len(self.weights), [None] * len(self.biases)
        for l in reversed(range(len(self.weights))):
            nabla_W[l] = delta.T @ activations[l]
            nabla_b[l] = delta.sum(axis=0)
            if l > 0:  # the input layer has no σ and needs no δ
                delta = (delta @ self.weights[l]) * self.activation.prime(activations[l])
        return nabla_W, nabla_b, activations[-1]

    def step(self, x, y, eta, l2=0.0, optimizer=None):
        """One step of gradient descent on the mini-batch (x, y): every weight and bias
        moves by −η ∂C/∂w, downhill (or as ``optimizer`` moves it, given ∇C).
        ``l2`` adds λ/2 Σ w² to the cost, so λ w to each weight's gradient.
        Returns the batch's output activations, from before the step."""
        nabla_W, nabla_b, outputs = self.backprop(x, y)
        nabla_W = [gW + l2 * W for gW, W in zip(nabla_W, self.weights, strict=True)]
        gradient = flatten(nabla_W, nabla_b)
        if optimizer is None:
            self.params -= eta * gradient
        else:
            optimizer.step(self.params, gradient, eta)
        return outputs

    # ---- using it: the input is checked here, once -----------------------------------------

    def forward(self, X, all_layers=False):
        """``feedforward`` for images X: rows of 784 values or 28×28 squares, uint8 pixels
        (0-255) or numbers in [0, 1]."""
        with np.errstate(over="ignore", invalid="ignore"):  # absurd inputs (1e38) give NaN, not warnings
            return self.feedforward(self.inputs(X), all_layers)

    def outputs(self, X):
        """The output activations for any number of images, a few thousand at a time: as
        floats all at once they would take four bytes a pixel (188 MB for MNIST's 60,000)."""
        X = as_rows(X, self.sizes[0])
        return np.concatenate([self.forward(X[k:k + 4096]) for k in range(0, max(len(X), 1), 4096)])

    def predict_proba(self, X):
        """The output activations, scaled to sum to 1 for each example (``probabilities``)."""
        return probabilities(self.outputs(X))

    def predict(self, X):
        """The digit of each example: the brightest output neuron (``digits``, the index of
        the last, for "not a digit" if the network has that output)."""
        return self.outputs(X).argmax(axis=1)

    def score(self, X, y):
        """The share of examples classified correctly."""
        return float(np.mean(self.predict(X) == as_labels(y, len(X))))

    def total_cost(self, X, y):
        """C over the examples X with labels y."""
        return self.cost.fn(self.outputs(X), one_hot(as_labels(y, len(X)), self.sizes[-1], self.dtype))

    def inputs(self, X):
        """X as the input layer takes it: a float batch of rows in [0, 1], checked (see
        validation.as_inputs), and deskewed if the network deskews."""
        x = as_inputs(X, self.sizes[0], self.dtype)
        return deskew(x, math.isqrt(self.sizes[0])) if self.deskew else x

    # ---- bookkeeping --------------------------------------------------------------------------

    @property
    def n_parameters(self):
        return self.params.size

    @property
    def config(self):
        return {"sizes": list(self.sizes), "activation": self.activation.name, "cost": self.cost.name,
                "not_a_digit": self.not_a_digit, "deskew": self.deskew,
                **({"classes": list(self.classes)} if self.classes else {})}

    def copy(self):
        """An independent network with the same parameters (and history)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.params = self.params.copy()
        twin.weights, twin.biases = parameter_views(self.sizes, twin.params)
        twin.history = None if self.history is None else type(self.history)(self.history)
        return twin

    def __deepcopy__(self, memo):
        return self.copy()

    def __getstate__(self):
        # pickle (scikit-learn's, joblib's) would store the views as copies, cut off from params:
        # store params alone, and make the views anew
        return {k: v for k, v in self.__dict__.items() if k not in ("weights", "biases")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.weights, self.biases = parameter_views(self.sizes, self.params)

    def __repr__(self):
        return (f"Network(sizes={tuple(self.sizes)}, activation={self.activation.name!r}, "
                f"cost={self.cost.name!r}{', not_a_digit=True' if self.not_a_digit else ''}"
                f"{', deskew=True' if self.deskew else ''}"
                f"{f', classes={self.classes}' if self.classes else ''})")


def probabilities(outputs):
    """Output activations (one example's, or rows of them) scaled to sum to 1. Every sigmoid output of
    an example can round to 0 in float32 (each z far below 0): that example favours no output, and
    gets 1/n for each, not 0/0."""
    outputs = np.asarray(outputs)
    total = outputs.sum(axis=-1, keepdims=True)
    even = np.full(outputs.shape, 1 / outputs.shape[-1], outputs.dtype)
    return np.divide(outputs, total, out=even, where=total > 0)


# ---- the parameter layout, shared with kernels.py ---------------------------------------------

def layout(sizes):
    """Where each layer's W and b lie in the flat vector of parameters: for layer l,
    (start of W, its shape (n_out, n_in), start of b). The order is W0, b0, W1, b1, ..."""
    places, k = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        places.append((k, (n_out, n_in), k + n_out * n_in))
        k += n_out * (n_in + 1)
    return places


def parameter_count(sizes):
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def parameter_views(sizes, flat):
    """Each layer's W and b as views into ``flat``, laid out as ``layout`` says; tuples, so
    that a layer can be changed in place (W[...] = ...) but not swapped for another array."""
    weights = tuple(flat[w:w + n_out * n_in].reshape(n_out, n_in) for w, (n_out, n_in), _ in layout(sizes))
    biases = tuple(flat[b:b + n_out] for _, (n_out, _), b in layout(sizes))
    return weights, biases


def flatten(weights, biases):
    """Per-layer arrays (of weights and biases, or of their gradients) as one flat vector,
    in ``layout``'s order."""
    return np.concatenate([p.ravel() for W, b in zip(weights, biases, strict=True) for p in (W, b)])
