"""Golden vectors: what network.py and optimizers.py compute, written as JSON for the browser's
engine (web/static/network.js) to match, by tests/js/engine.test.mjs."""

import numpy as np
from PIL import Image, ImageDraw

from digitnet.errors import DigitnetError
from digitnet.functions import one_hot, registry
from digitnet.images import to_mnist
from digitnet.lesson import cost_of_one, teach
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
        "lesson": lesson(net, x[0], int(labels[0])),
    }


def lesson(net, x, label, eta=0.1):
    """lesson.py's step on one example, as the page's Teach it shows it."""
    net = net.copy()
    step = teach(net, x, label, eta)
    laid = {side: {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in step[side].items()}
            for side in ("before", "after")}
    return {"label": label, "eta": eta, **laid, "change": flat(step["change"]),
            "nudges": [{"name": n["name"], "change": n["change"]} for n in step["nudges"]],
            "first_layer": flat(step["first_layer"]), "layer_shares": flat(step["layer_shares"]),
            "cost": cost_of_one(net, x, label)["cost"]}


# Drawings as the page sends them (its 280-pixel canvas at 112 a side): strokes of the page's pen, a
# hairline (thickened), a stroke with a speck beside it (dropped), and nothing at all.
DRAWINGS = {"one": ([[(146, 42), (150, 238)]], 20), "seven": ([[(70, 56), (210, 56), (126, 238)]], 20),
            "three": ([[(90, 60), (180, 70), (120, 135), (190, 190), (90, 230)]], 24),
            "hairline": ([[(60, 40), (220, 240)], [(60, 240), (220, 40)]], 2),
            "speck": ([[(140, 40), (140, 240)], [(30, 30), (31, 31)]], 16), "blank": ([], 20)}


def drawing(strokes, pen):
    """The drawing's bytes, 112 × 112, light ink on black, as the page's canvas shrinks to them."""
    canvas = Image.new("L", (280, 280), 0)
    pencil = ImageDraw.Draw(canvas)
    for stroke in strokes:
        pencil.line(stroke, fill=255, width=pen, joint="curve")
    return np.asarray(canvas.resize((112, 112), Image.Resampling.BOX), dtype=np.uint8)


def mnist_like(pixels):
    """What the server makes of the drawing (routes.seen): to_mnist's 28 × 28, or nothing for no ink."""
    try:
        return to_mnist(pixels / np.float32(255), invert=False, even=True)
    except DigitnetError:
        return np.zeros((28, 28), np.float32)


def deskewing(seed=4):
    """A deskewing network (deskew.py) on images a person would give it, as its input layer takes them
    (net.inputs), every layer's activations (net.forward) and the cost of each, and the lesson of the first:
    a one slanted as people slant it, the drawings as the server sees them (to_mnist's, and nothing for
    the blank), a stroke left in a corner (moved far, and partly off the image) and ink in one row (no
    slant to remove)."""
    net = Network((784, 16, 10), "relu", "cross-entropy", seed=seed, deskew=True)
    images = {"slanted": mnist_like(drawing([[(200, 42), (96, 238)]], 20))}
    images.update({name: mnist_like(drawing(*d)) for name, d in DRAWINGS.items()})
    corner = Image.fromarray(drawing([[(20, 10), (80, 130), (40, 150)]], 16)).resize((28, 28), Image.Resampling.BOX)
    images["corner"] = np.asarray(corner) / np.float32(255)
    images["row"] = np.zeros((28, 28), np.float32)
    images["row"][17, 3:9] = [0.1, 0.7, 1, 0.93, 0.2, 0.05]
    labels = [1, 1, 7, 3, 4, 1, 0, 7, 7]
    x = np.stack([image.ravel() for image in images.values()]).astype(np.float32)
    y = one_hot(labels, 10)
    activations = net.forward(x, all_layers=True)
    return {"network": {**net.config, "params": flat(net.params)}, "names": list(images), "x": flat(x),
            "labels": labels, "inputs": flat(net.inputs(x)), "activations": [flat(a) for a in activations],
            "costs": net.cost.terms(activations[-1], y).sum(axis=1).tolist(),
            "lesson": lesson(net, x[0], labels[0])}


def golden():
    drawings = {name: drawing(*d) for name, d in DRAWINGS.items()}
    return {"registry": registry(), "cases": [case(*c, seed=k) for k, c in enumerate(CASES)],
            "drawings": {name: {"bytes": d.ravel().tolist(), "mnist": flat(mnist_like(d))}
                         for name, d in drawings.items()},
            "deskewing": deskewing()}
