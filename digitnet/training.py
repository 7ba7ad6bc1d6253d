"""Stochastic gradient descent: shuffle, split into mini-batches, step downhill.

``Trainer`` runs one epoch at a time, so the command line, the web page and
checkpoints can all stop, look and carry on between epochs.
"""

import contextlib
import ctypes
import functools
import math
import time

import numpy as np

from .errors import DigitnetError
from .functions import one_hot
from .network import Buffers

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
    """Gradient descent, with momentum μ if asked: v ← μ v − η ∇C, then w ← w + v.

    ``params`` and ``grad`` are flat vectors holding every weight and bias, so a
    step is a few whole-vector operations whatever the number of layers."""

    def __init__(self, params, momentum=0.0):
        self.momentum = momentum
        self.velocity = np.zeros_like(params) if momentum else None

    def step(self, params, grad, lr):
        if self.velocity is None:
            grad *= lr  # the gradient buffer is rewritten by every backprop, so reuse it
            params -= grad
        else:
            v = self.velocity
            v *= self.momentum
            grad *= lr
            v -= grad
            params += v

    def state(self):
        return {"velocity": self.velocity} if self.velocity is not None else {}

    def restore(self, state):
        if self.velocity is not None:
            self.velocity[...] = state["velocity"]


class Adam:
    """Adam: each parameter steps by its gradient's running mean m over the running
    root-mean-square √v, so every knob moves at a similar rate."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.scratch = np.zeros_like(params)
        self.t = 0

    def step(self, params, grad, lr):
        self.t += 1
        b1, b2, m, v, s = self.beta1, self.beta2, self.m, self.v, self.scratch
        # Fold the bias corrections of m and v into the step size (Kingma & Ba, §2).
        lr_t = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        m *= b1
        np.multiply(grad, 1 - b1, out=s)
        m += s                 # m ← β₁ m + (1 − β₁) g
        v *= b2
        np.multiply(grad, grad, out=s)
        s *= 1 - b2
        v += s                 # v ← β₂ v + (1 − β₂) g²
        np.sqrt(v, out=s)
        s += self.eps
        np.divide(m, s, out=s)
        s *= lr_t
        params -= s            # w ← w − η_t m / (√v + ε)

    def state(self):
        return {"m": self.m, "v": self.v, "t": self.t}

    def restore(self, state):
        self.m[...], self.v[...], self.t = state["m"], state["v"], int(state["t"])


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


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with OpenBLAS limited to one thread, then restore its setting.

    The products here are skinny (a batch × 784 times 784 × 16): splitting them
    between threads costs more than it saves, and on a busy machine waiting
    threads spin and slow everything down severalfold. Only NumPy's own OpenBLAS
    (found among the loaded libraries) is touched, and only for the block, so a
    user's other NumPy work keeps its threads. Without OpenBLAS this does nothing.
    """
    blas = _openblas()
    if blas is None:
        yield
        return
    get, set_ = blas
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


@functools.cache
def _openblas():
    """(get_num_threads, set_num_threads) of the OpenBLAS NumPy uses, or None."""
    try:
        with open("/proc/self/maps") as maps:  # Linux: the shared libraries loaded
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                          ("openblas_get_num_threads", "openblas_set_num_threads")):
            if hasattr(lib, get) and hasattr(lib, set_):
                getter, setter = getattr(lib, get), getattr(lib, set_)
                getter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
                return getter, setter
    return None


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
        # The training images stay uint8 (a quarter of float32's memory); each
        # mini-batch is turned into floats in [0, 1] as it is used.
        self.images, self.labels = X[keep], y[keep]
        self.Y = one_hot(self.labels, net.sizes[-1], net.dtype)
        side = int(math.isqrt(self.images.shape[1]))
        if shift and side * side == self.images.shape[1]:
            self.padded = np.pad(self.images.reshape(-1, side, side), ((0, 0), (shift, shift), (shift, shift)))
        elif shift:
            raise DigitnetError("--shift needs square images")
        self.params = net.flat_parameters()
        self.optimizer = SGD(self.params, momentum) if optimizer == "sgd" else Adam(self.params)
        self.epoch = 0
        self.history = History()
        self.best = None  # (validation accuracy, copy of the parameters, epoch)

    @property
    def done(self):
        return self.epoch >= self.options["epochs"]

    def shifted_images(self, order):
        """This epoch's training images in ``order``, each shifted at random."""
        return shifted(self.padded[order], self.rng, self.options["shift"]).reshape(len(order), -1)

    def run_epoch(self):
        """One pass over the training images in random mini-batches; returns its record."""
        o, net = self.options, self.net
        start = time.perf_counter()
        lr = learning_rate(o["lr"], o["schedule"], self.epoch, o["epochs"])
        order = self.rng.permutation(len(self.images))
        Y = self.Y[order]
        outputs = np.empty_like(Y)  # every batch's output, to score the epoch at the end in one go
        with np.errstate(all="ignore"), one_blas_thread():  # a diverging run is caught below, after the epoch
            if self.options["shift"]:  # shifted copies, already in order
                self.sgd(self.shifted_images(order), np.arange(len(order)), Y, outputs, lr)
            else:
                self.sgd(self.images, order, Y, outputs, lr)
        seconds = time.perf_counter() - start
        self.epoch += 1
        record = {"epoch": self.epoch, "lr": lr, "cost": net.cost.cost(outputs, Y),
                  "train_accuracy": float(np.mean(outputs.argmax(axis=1) == self.labels[order])),
                  "seconds": seconds}
        if not (math.isfinite(record["cost"]) and np.isfinite(self.params).all()):
            raise DigitnetError(f"training diverged in epoch {self.epoch} (the cost is not a finite number): "
                                f"try a smaller learning rate than --lr {o['lr']:g}")
        if self.validation is not None:
            record["validation_accuracy"] = net.score(*self.validation)
            if self.best is None or record["validation_accuracy"] > self.best[0]:
                self.best = (record["validation_accuracy"], self.params.copy(), self.epoch)
        if self.test is not None:
            record["test_accuracy"] = net.score(*self.test)
        self.history.append(record)
        return record

    def sgd(self, images, order, Y, outputs, lr):
        """Step downhill once per mini-batch, taking the images ``images[order]`` in
        turn (with their desired outputs Y); each batch's output activations are
        written into its rows of ``outputs``."""
        net, n, size, l2 = self.net, len(order), self.options["batch_size"], self.options["l2"]
        params, step, scale = net.flat_parameters(), self.optimizer.step, net.dtype.type(1 / 255)
        full, last = Buffers(net, size), Buffers(net, n % size or size)
        pixels = np.empty((size, images.shape[1]), images.dtype)
        for k in range(0, n, size):
            b = full if k + size <= n else last
            batch = np.take(images, order[k:k + size], axis=0, out=pixels[:len(b.x)])
            np.multiply(batch, scale, out=b.x)  # pixels to [0, 1]
            b.a[-1] = outputs[k:k + size]
            net.backprop(b.x, Y[k:k + size], b)
            if l2:
                for W, g in zip(net.weights, b.grad_W, strict=True):
                    g += l2 * W
            step(params, b.grad, lr)

    def finish(self):
        """Keep the parameters of the best validation epoch, and record which it was."""
        if self.best is not None:
            self.params[...] = self.best[1]
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
