"""What the network learned and how it fails, as plain arrays: the maths of every picture.

Nothing here draws; ``plots.py`` turns these arrays into figures, and the web
page can use them directly. Images are rows of 784 values in [0, 1] as for
``Network.forward``; "patterns" and "tiles" are the same numbers as 28×28 squares.
"""

import math

import numpy as np

from .errors import DigitnetError
from .functions import one_hot
from .noise import NOISE


def image_side(net):
    """The side of the square input images (28 for MNIST)."""
    side = math.isqrt(net.sizes[0])
    if side * side != net.sizes[0]:
        raise DigitnetError(f"the network's {net.sizes[0]} inputs do not form a square image")
    return side


def check_layer(net, layer):
    """``layer`` counts the layers of neurons after the input: 0 is the first hidden layer."""
    if not 0 <= layer < len(net.weights):
        raise DigitnetError(f"layer {layer} does not exist: this network has layers 0 to {len(net.weights) - 1}")


def check_digit(net, digit):
    if not 0 <= digit < net.sizes[-1]:
        raise DigitnetError(f"digit {digit} does not exist: the network's outputs are 0 to {net.sizes[-1] - 1}")


# ---- what each neuron looks for ----------------------------------------------------------


def neuron_patterns(net, layer):
    """Each neuron's pattern over the input pixels, shape (n_neurons, 28, 28).

    For the first hidden layer (``layer`` 0) it is the neuron's own 784 weights. A
    deeper neuron sees pixels only through the layer before, so its pattern is the
    weighted sum of that layer's patterns, W_l ⋯ W_1 W_0: what it would respond to
    if the layers in between were linear (biases and σ left out).
    """
    check_layer(net, layer)
    side = image_side(net)
    combined = net.weights[0].astype(np.float64)
    for W in net.weights[1:layer + 1]:
        combined = W @ combined
    return combined.reshape(-1, side, side)


def neuron_pattern(net, layer, neuron):
    """One neuron's (28, 28) pattern; see ``neuron_patterns``."""
    check_layer(net, layer)
    if not 0 <= neuron < net.sizes[layer + 1]:
        raise DigitnetError(f"neuron {neuron} does not exist: layer {layer} has neurons 0 to "
                            f"{net.sizes[layer + 1] - 1}")
    return neuron_patterns(net, layer)[neuron]


# ---- gradients -------------------------------------------------------------------------------


def as_row(net, x):
    """One image (784 values, 28×28, uint8 or float) as a batch of one row."""
    return net.inputs(np.reshape(x, (1, -1)))


def cost_gradient(net, x, label):
    """∂C/∂W and ∂C/∂b for one training example: how much each of the 13,002 knobs
    would change the cost of this one image (backprop on a batch of one)."""
    check_digit(net, label)
    grad_W, grad_b, _ = net.backprop(as_row(net, x), one_hot([label], net.sizes[-1], net.dtype))
    return grad_W, grad_b


def input_gradient(net, x, digit):
    """∂C/∂x: how the cost of calling image ``x`` the digit ``digit`` changes with each pixel.
    Returned in the shape of ``x``."""
    check_digit(net, digit)
    y = one_hot([digit], net.sizes[-1], net.dtype)
    return backprop_to_input(net, x, lambda a: net.cost.delta(a, y))


def backprop_to_input(net, x, output_delta):
    """∂C/∂x for the cost whose output error is δ = output_delta(a) = ∂C/∂z.

    Backpropagation carried one layer further than for the weights: δ goes back
    through every layer, and at the input ∂C/∂x = δ W_0 (no σ there). For a network that
    deskews, x is taken as the input layer takes it, deskewed: a pixel's slope there stands for
    the slope at the pixel it came from (deskewing moves the image as a whole, and its own slope,
    through the ink's moments, is left out). Dreams of the default network still reach 0.99+.
    """
    activations = net.feedforward(as_row(net, x), all_layers=True)
    delta = output_delta(activations[-1])
    for l in range(len(net.weights) - 1, -1, -1):
        dC_da = delta @ net.weights[l]  # ∂C/∂a of the layer below
        if l > 0:
            delta = dC_da * net.activation.prime(activations[l])
    return dC_da.reshape(np.shape(x))


def largest_components(grad_W, grad_b, k=20):
    """The k knobs with the largest |∂C/∂knob|: their names ("W0[3,512]", "b2[7]") and values."""
    names, values = [], []
    for l, (gW, gb) in enumerate(zip(grad_W, grad_b, strict=True)):
        rows, cols = np.indices(gW.shape)
        names += [f"W{l}[{i},{j}]" for i, j in zip(rows.ravel(), cols.ravel(), strict=True)]
        values.append(gW.ravel())
        names += [f"b{l}[{i}]" for i in range(len(gb))]
        values.append(gb.ravel())
    values = np.concatenate(values)
    top = np.argsort(-np.abs(values), kind="stable")[:k]
    return [names[i] for i in top], values[top]


# ---- dreaming: the input the network likes best ------------------------------------------


def smoothness_penalty(image):
    """Σ of squared differences between neighbouring pixels, and its gradient."""
    dy, dx = np.diff(image, axis=0), np.diff(image, axis=1)
    penalty = float(np.sum(dy ** 2) + np.sum(dx ** 2))
    grad = np.zeros_like(image)
    grad[1:] += 2 * dy
    grad[:-1] -= 2 * dy
    grad[:, 1:] += 2 * dx
    grad[:, :-1] -= 2 * dx
    return penalty, grad


def dream(net, digit, steps=200, lr=0.2, smoothness=0.0, start="grey", seed=0):
    """The image that makes output ``digit`` as high as it can: gradient descent on the
    pixels (the weights stay fixed) of D(x) + smoothness · Σ(neighbour differences)²,
    with D the ``dream_objective``. Pixels stay in [0, 1].

    Each step moves the pixels by ``lr`` in root-mean-square (the gradient is scaled
    by its RMS), so one ``lr`` suits every network however large its gradients;
    the step shrinks linearly to 0 over the steps so the pixels settle rather than
    flicker between two values.
    """
    check_digit(net, digit)
    if not (lr > 0 and smoothness >= 0 and steps >= 0):
        raise DigitnetError(f"dream needs lr > 0, smoothness >= 0 and steps >= 0; got lr {lr}, "
                            f"smoothness {smoothness}, steps {steps}")
    side = image_side(net)
    if start == "black":  # the background of every MNIST digit
        x = np.zeros((side, side))
    elif start == "grey":
        x = np.full((side, side), 0.5)
    elif start == "noise":
        x = np.random.default_rng(seed).random((side, side))
    else:
        raise DigitnetError(f"unknown start {start!r}: choose black, grey or noise")
    for step in range(steps):
        grad = dream_gradient(net, x, digit).astype(np.float64)
        if smoothness:
            grad += smoothness * smoothness_penalty(x)[1]
        rms = np.sqrt(np.mean(grad ** 2))
        if rms == 0:
            break
        x = np.clip(x - lr * (1 - step / steps) * grad / rms, 0, 1)
    return x.astype(np.float32)


def dream_objective(net, x, digit):
    """What dreaming minimises: the cross-entropy of answer ``digit``, whatever cost the
    network was trained with. For softmax outputs −ln a_digit; for sigmoid outputs
    −Σ_k [y_k ln a_k + (1 − y_k) ln(1 − a_k)], which asks the others to go dark too.
    Either way its output error is δ = a − y, where the quadratic cost's δ = (a − y) σ'(z)
    vanishes for an output stuck near 0, and the dream would stall there."""
    a = output_of(net, x).astype(np.float64)
    y = one_hot([digit], net.sizes[-1], np.float64)[0]
    if net.cost.output.name == "softmax":
        return -float(np.log(a[digit]))
    return -float(np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))


def dream_gradient(net, x, digit):
    """∂D/∂x of the ``dream_objective``: backpropagation from δ = a − y."""
    check_digit(net, digit)
    y = one_hot([digit], net.sizes[-1], net.dtype)
    return backprop_to_input(net, x, lambda a: a - y)


def output_of(net, image):
    """The output activations for one image."""
    return net.feedforward(as_row(net, image))[0]


# ---- noise: what it says about images that are no digit at all -----------------------------


def noise_experiment(net, n=1000, kind="uniform", seed=0, threshold=0.9):
    """Show the network ``n`` images of noise: which digit it calls each, how sure it
    is (its output scaled to sum to 1), and the share it calls some digit with more
    than ``threshold`` confidence. A network that only ever saw digits has no way to
    say "none of these"; one with a "not a digit" output has, and ``not_a_digit_share``
    is how often it does (None for a network without that output)."""
    if n < 1:
        raise DigitnetError(f"need at least one noise image, got n = {n}")
    if kind not in NOISE:
        raise DigitnetError(f"unknown noise {kind!r}: choose from {', '.join(NOISE)}")
    images = NOISE[kind](np.random.default_rng(seed), n, image_side(net)).astype(net.dtype)
    proba = net.predict_proba(images)
    predictions, confidences = proba.argmax(axis=1), proba.max(axis=1)
    called_digit = predictions < net.digits
    return {"kind": kind, "images": images, "predictions": predictions, "confidences": confidences,
            "called_digit": called_digit, "threshold": threshold,
            "confident_share": float(np.mean(called_digit & (confidences > threshold))),
            "not_a_digit_share": float(np.mean(~called_digit)) if net.not_a_digit else None,
            "outputs": net.output_names}


# ---- scoring -------------------------------------------------------------------------------------


def mistakes(net, images, labels, limit=None):
    """The misclassified images, most confident mistakes first:
    dict(indices, true, predicted, confidences) with one entry per mistake."""
    proba = net.predict_proba(images)
    predicted = proba.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    wrong = wrong[np.argsort(-proba[wrong, predicted[wrong]], kind="stable")][:limit]
    return {"indices": wrong, "true": np.asarray(labels)[wrong], "predicted": predicted[wrong],
            "confidences": proba[wrong, predicted[wrong]]}


def history_columns(history):
    """The training history as columns: epoch, then any of cost, train_accuracy,
    validation_accuracy, test_accuracy that were recorded (missing values are NaN)."""
    history = list(history or [])
    keys = ("epoch", "cost", "train_accuracy", "validation_accuracy", "test_accuracy")
    columns = {}
    for key in keys:
        values = [r.get(key) for r in history]
        if any(v is not None for v in values):
            columns[key] = np.array([np.nan if v is None else v for v in values], dtype=float)
    if history and "epoch" not in columns:
        columns["epoch"] = np.arange(1, len(history) + 1, dtype=float)
    return columns


# ---- the diagram of one forward pass ---------------------------------------------------------


def strongest_connections(W, k):
    """The k connections of weight matrix W with the largest |w|: (to, from, w) arrays."""
    k = min(k, W.size)
    flat = np.argpartition(-np.abs(W).ravel(), k - 1)[:k]
    to, frm = np.unravel_index(flat, W.shape)
    return to, frm, W[to, frm]


def diagram(net, x, connections=(160, 120, 100)):
    """The numbers behind the network diagram for image ``x``: each layer's activations
    (input first) and, per weight matrix, its strongest connections (to, from, w).
    ``connections`` is how many to keep from each matrix (the last is reused for the rest)."""
    activations = [a[0] for a in net.feedforward(as_row(net, x), all_layers=True)]
    edges = [strongest_connections(W, connections[min(l, len(connections) - 1)])
             for l, W in enumerate(net.weights)]
    return {"activations": activations, "edges": edges}


# ---- a sweep: how accuracy grows with the network's size ---------------------------------------


def sweep_lines(rows, varied=()):
    """What a sweep's picture shows: test accuracy against the number of parameters, a line for
    each depth (number of hidden layers) and each combination of the other settings ``varied``.

    ``rows`` are a sweep's results (sweep.Results: dicts of text or numbers, with layers as
    "784,16,16,10", parameters, test_accuracy, training_seconds, and each of ``varied``); rows
    without a test accuracy (the training diverged) are left out. Each line is a dict: depth,
    setting (the varied values other than the layers), and for each of its networks, fewest
    parameters first: layers, parameters, and over the seeds the mean, least and greatest
    accuracy (``low``, ``high``), each seed's (``each``, a list of arrays) and the mean seconds.
    """
    groups = {}
    for row in rows:
        if row["test_accuracy"] in ("", None):
            continue
        layers = str(row["layers"])
        depth = len(layers.split(",")) - 2
        setting = tuple((name, str(row[name])) for name in varied if name != "layers")
        seeds = groups.setdefault((depth, setting), {}).setdefault(layers, [])
        seeds.append((int(row["parameters"]), float(row["test_accuracy"]), float(row["training_seconds"])))
    lines = []
    for (depth, setting), networks in sorted(groups.items()):
        networks = sorted(networks.items(), key=lambda item: item[1][0][0])
        each = [np.array([accuracy for _, accuracy, _ in seeds]) for _, seeds in networks]
        lines.append({"depth": depth, "setting": dict(setting), "layers": [layers for layers, _ in networks],
                      "parameters": np.array([seeds[0][0] for _, seeds in networks]),
                      "mean": np.array([a.mean() for a in each]), "low": np.array([a.min() for a in each]),
                      "high": np.array([a.max() for a in each]), "each": each,
                      "seconds": np.array([np.mean([s for _, _, s in seeds]) for _, seeds in networks])})
    return lines
