"""Stochastic gradient descent: shuffle, split into mini-batches, step downhill.

``Trainer`` runs one epoch at a time, so the command line, the web page and
checkpoints can all stop, look and carry on between epochs.
"""

import math
import time

import numpy as np

from .errors import DigitnetError
from .functions import one_hot

# The two ways to train, chosen by ``--recipe``. "video" is the videos' network
# exactly; "default" is what it takes for the same 13,002 parameters to pass 96 %.
RECIPES = {
    "default": dict(activation="relu", cost="cross-entropy", optimizer="adam", lr=0.003,
                    momentum=0.9, l2=0.0, batch_size=128, epochs=40, schedule="cosine", shift=2),
    "video": dict(activation="sigmoid", cost="quadratic", optimizer="sgd", lr=3.0,
                  momentum=0.0, l2=0.0, batch_size=10, epochs=30, schedule="constant", shift=0),
}
TRAINING_OPTIONS = ("optimizer", "lr", "momentum", "l2", "batch_size", "epochs", "schedule", "shift")


class SGD:
    """Gradient descent, with momentum μ if asked: v ← μ v − η ∇C, then w ← w + v."""

    def __init__(self, params, momentum=0.0):
        self.momentum = momentum
        self.velocity = [np.zeros_like(p) for p in params] if momentum else None

    def step(self, params, grads, lr):
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.velocity is None:
                p -= lr * g
            else:
                v = self.velocity[i]
                v *= self.momentum
                v -= lr * g
                p += v

    def state(self):
        return {"velocity": self.velocity or []}


class Adam:
    """Adam: each parameter steps by its gradient's running mean m over the running
    root-mean-square √v, so every knob moves at a similar rate."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads, lr):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold the bias corrections of m and v into the step size (Kingma & Ba, §2).
        lr_t = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= lr_t * m / (np.sqrt(v) + self.eps)

    def state(self):
        return {"m": self.m, "v": self.v, "t": self.t}


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
SCHEDULES = ("constant", "cosine")


def learning_rate(lr, schedule, epoch, epochs):
    """η for this epoch (counting from 0): constant, or falling along half a cosine to 0."""
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return lr


def shifted(padded, rng, shift):
    """Each image moved by a random whole number of pixels, up to ``shift`` each way.

    ``padded`` is the images with ``shift`` blank pixels on every side. The images
    are grouped by their (dx, dy), so each group is one slicing copy, not one per image.
    """
    n, s = len(padded), shift
    size = padded.shape[1] - 2 * s
    dx, dy = rng.integers(-s, s + 1, n), rng.integers(-s, s + 1, n)
    out = np.empty((n, size, size), dtype=padded.dtype)
    for x in range(-s, s + 1):
        for y in range(-s, s + 1):
            group = np.flatnonzero((dx == x) & (dy == y))
            out[group] = padded[group, s + y:s + y + size, s + x:s + x + size]
    return out


class Trainer:
    """Trains ``net`` on images X (uint8, n×28×28 or n×784) and labels y.

    ``validation`` examples are held out of X (a seeded random choice) and the
    parameters of the epoch that scores best on them are kept at the end.
    ``test`` is an optional (images, labels) pair scored after every epoch,
    for the record only: it never chooses anything.
    """

    def __init__(self, net, X, y, *, optimizer="sgd", lr=3.0, momentum=0.0, l2=0.0,
                 batch_size=10, epochs=30, schedule="constant", shift=0,
                 validation=0, test=None, seed=None):
        check_options(optimizer=optimizer, lr=lr, momentum=momentum, l2=l2, batch_size=batch_size,
                      epochs=epochs, schedule=schedule, shift=shift, validation=validation, n=len(X))
        self.net = net
        self.options = dict(optimizer=optimizer, lr=lr, momentum=momentum, l2=l2, batch_size=batch_size,
                            epochs=epochs, schedule=schedule, shift=shift, validation=validation, seed=seed)
        self.rng = np.random.default_rng(seed)
        X, y = as_pixels(X), np.asarray(y)
        held_out = self.rng.permutation(len(X))[:validation]
        keep = np.ones(len(X), dtype=bool)
        keep[held_out] = False
        self.validation = (X[held_out], y[held_out]) if validation else None
        self.test = (as_pixels(test[0]), np.asarray(test[1])) if test is not None else None
        self.images, self.Y = X[keep], one_hot(y[keep], net.sizes[-1], net.dtype)
        side = int(math.isqrt(self.images.shape[1]))
        if shift and side * side == self.images.shape[1]:
            self.padded = np.pad(self.images.reshape(-1, side, side), ((0, 0), (shift, shift), (shift, shift)))
        elif shift:
            raise DigitnetError("--shift needs square images")
        self.params = net.weights + net.biases
        self.optimizer = SGD(self.params, momentum) if optimizer == "sgd" else Adam(self.params)
        self.epoch = 0
        self.history = History()
        self.best = None  # (validation accuracy, copy of the parameters)

    @property
    def done(self):
        return self.epoch >= self.options["epochs"]

    def epoch_images(self, order):
        """This epoch's training images in ``order``, shifted at random if asked."""
        if self.options["shift"]:
            return shifted(self.padded[order], self.rng, self.options["shift"]).reshape(len(order), -1)
        return self.images[order]

    def run_epoch(self):
        """One pass over the training images in random mini-batches; returns its record."""
        o, net = self.options, self.net
        start = time.perf_counter()
        lr = learning_rate(o["lr"], o["schedule"], self.epoch, o["epochs"])
        order = self.rng.permutation(len(self.images))
        images, Y = self.epoch_images(order), self.Y[order]
        cost_sum, correct = 0.0, 0
        for k in range(0, len(images), o["batch_size"]):
            X = net.as_input(images[k:k + o["batch_size"]])
            Yb = Y[k:k + o["batch_size"]]
            grad_W, grad_b, output = net.backprop(X, Yb)
            if o["l2"]:
                grad_W = [g + o["l2"] * W for g, W in zip(grad_W, net.weights)]
            self.optimizer.step(self.params, grad_W + grad_b, lr)
            cost_sum += net.cost.cost(output, Yb) * len(X)
            correct += int(np.sum(output.argmax(axis=1) == Yb.argmax(axis=1)))
        seconds = time.perf_counter() - start
        self.epoch += 1
        record = {"epoch": self.epoch, "lr": lr, "cost": cost_sum / len(images),
                  "train_accuracy": correct / len(images), "seconds": seconds}
        if not math.isfinite(record["cost"]) or not all(np.isfinite(p).all() for p in self.params):
            raise DigitnetError(f"training diverged in epoch {self.epoch} (the cost is not a finite number): "
                                f"try a smaller learning rate than --lr {o['lr']:g}")
        if self.validation is not None:
            record["validation_accuracy"] = net.score(*self.validation)
            if self.best is None or record["validation_accuracy"] > self.best[0]:
                self.best = (record["validation_accuracy"], [p.copy() for p in self.params], self.epoch)
        if self.test is not None:
            record["test_accuracy"] = net.score(*self.test)
        self.history.append(record)
        return record

    def finish(self):
        """Keep the parameters of the best validation epoch, and record which it was."""
        if self.best is not None:
            for p, best in zip(self.params, self.best[1]):
                p[...] = best
            self.history.best_epoch = self.best[2]
        self.net.history = self.history
        return self.history

    def run(self, progress=None):
        while not self.done:
            record = self.run_epoch()
            if progress:
                progress(record)
        return self.finish()


class History(list):
    """One record (a dict: epoch, cost, accuracies, seconds) per epoch."""

    best_epoch = None

    def column(self, key):
        return [r.get(key) for r in self]


def train(net, X, y, progress=None, **options):
    """Train ``net`` in place; returns the History. Options as for ``Trainer``."""
    return Trainer(net, X, y, **options).run(progress)


def as_pixels(X):
    """Images as rows of uint8 pixels (the compact form: a quarter of float32's memory);
    float images in [0, 1] are rounded to pixels."""
    X = np.asarray(X)
    if X.dtype != np.uint8:
        X = np.clip(np.rint(X.astype(np.float32) * 255), 0, 255).astype(np.uint8)
    return X.reshape(len(X), -1)


def check_options(*, optimizer, lr, momentum, l2, batch_size, epochs, schedule, shift, validation, n):
    problems = [
        (optimizer not in OPTIMIZERS, f"unknown optimizer {optimizer!r}: choose from {', '.join(OPTIMIZERS)}"),
        (schedule not in SCHEDULES, f"unknown schedule {schedule!r}: choose from {', '.join(SCHEDULES)}"),
        (not (lr > 0 and math.isfinite(lr)), f"the learning rate must be a positive number, got {lr}"),
        (not 0 <= momentum < 1, f"momentum must be in [0, 1), got {momentum}"),
        (not (l2 >= 0 and math.isfinite(l2)), f"l2 must be 0 or more, got {l2}"),
        (batch_size < 1, f"the batch size must be 1 or more, got {batch_size}"),
        (epochs < 0, f"epochs must be 0 or more, got {epochs}"),
        (not 0 <= shift <= 8, f"shift must be 0 to 8 pixels, got {shift}"),
        (not 0 <= validation < n, f"the validation split must leave training images: {validation} of {n}"),
    ]
    for bad, message in problems:
        if bad:
            raise DigitnetError(message)
