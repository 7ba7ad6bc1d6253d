"""Stochastic gradient descent: shuffle the training images, split them into mini-batches,
and take one step downhill on each.

``Trainer`` runs one epoch at a time, so the command line, the web page and
checkpoints can all stop, look and carry on between epochs. Each epoch runs
compiled (kernels.py) where it can, else with ``Network.step`` (network.py): the
same steps, from the same random numbers. Which of the two a run uses is decided
when it starts (compiler.py) and kept to its end.
"""

import math
import time

import numpy as np

from . import compiler
from .augment import image_side, random_shifts, shifted
from .blas import one_blas_thread
from .errors import DigitnetError
from .functions import one_hot
from .optimizers import OPTIMIZERS, SCHEDULES, learning_rate, make
from .validation import as_labels, as_pixels, check_seed, check_training


class Trainer:
    """Trains ``net`` on images X (uint8 or floats in [0, 1], n×28×28 or n×784) and labels y.

    ``validation`` examples are held out of X (a seeded random choice) and the
    parameters of the epoch that scores best on them are kept at the end.
    ``shuffle=False`` takes the examples in their order every epoch.
    ``test`` is an optional (images, labels) pair scored after every epoch,
    for the record only: it never chooses anything.
    """

    def __init__(self, net, X, y, *, optimizer="sgd", lr=3.0, momentum=0.0, l2=0.0, batch_size=10, epochs=30,
                 schedule="constant", shift=0, validation=0, test=None, seed=None, shuffle=True):
        X = as_pixels(X)
        y = as_labels(y, len(X))
        check_training(optimizer=optimizer, optimizers=OPTIMIZERS, lr=lr, momentum=momentum, l2=l2,
                       batch_size=batch_size, epochs=epochs, schedule=schedule, schedules=SCHEDULES, shift=shift,
                       validation=validation, n=len(X))
        if len(y) and y.max() >= net.sizes[-1]:
            raise DigitnetError(f"the labels go up to {y.max()}, but the network has only {net.sizes[-1]} outputs")
        if X.shape[1] != net.sizes[0]:
            raise DigitnetError(f"the images have {X.shape[1]} pixels but the network takes {net.sizes[0]} inputs")
        if shift:
            image_side(X.shape[1])
        self.net = net
        self.options = dict(optimizer=optimizer, lr=lr, momentum=momentum, l2=l2, batch_size=batch_size,
                            epochs=epochs, schedule=schedule, shift=shift, validation=validation, seed=seed,
                            shuffle=shuffle)
        self.rng = np.random.default_rng(check_seed(seed))
        held_out = self.rng.permutation(len(X))[:validation]
        keep = np.ones(len(X), dtype=bool)
        keep[held_out] = False
        self.validation = (X[held_out], y[held_out]) if validation else None
        self.test = (as_pixels(test[0]), np.asarray(test[1])) if test is not None else None
        # The images stay uint8 (a quarter of float32's memory) and are not copied: the
        # training examples are the rows of X not held out. Each mini-batch becomes floats
        # in [0, 1] as it is used.
        self.X, self.y, self.rows = X, y, np.flatnonzero(keep)
        self.optimizer = make(optimizer, net.params.size, momentum, net.dtype)
        # Compiled if the compiled epoch is ready (or DIGITNET_COMPILED=wait says to wait for it);
        # else NumPy, and finish() has it compiled in the background for later runs.
        self.compiled = compiler.usable(net) and (compiler.ready(net, optimizer) or compiler.mode() == "wait")
        self.compiling = False  # whether this run had the epoch compiled for later runs
        self.prepared = False
        self.epoch = 0
        self.history = History()
        self.best = None  # (validation accuracy, copy of the parameters, epoch)

    @property
    def done(self):
        return self.epoch >= self.options["epochs"]

    def prepare(self):
        """Load the compiled epoch (compiling it first with DIGITNET_COMPILED=wait) before the
        first epoch, whose time is then training alone."""
        if self.compiled and not self.prepared:
            from . import kernels  # numba: loaded only by runs that use it

            self.flat = kernels.padded(self.X, self.options["shift"])
            kernels.load(self.net, self.optimizer)
            compiler.mark_ready(self.net, self.options["optimizer"])
        self.prepared = True

    def run_epoch(self):
        """One pass over the training images in random mini-batches; returns its record."""
        o = self.options
        self.prepare()
        start = time.perf_counter()
        eta = learning_rate(o["lr"], o["schedule"], self.epoch, o["epochs"])
        order = self.rows[self.rng.permutation(len(self.rows))] if o["shuffle"] else self.rows  # rows of X
        dx, dy = random_shifts(self.rng, len(order), o["shift"]) if o["shift"] else (None, None)
        with np.errstate(all="ignore"), one_blas_thread():  # a diverging run is caught below, after the epoch
            if self.compiled:  # the same steps, compiled: see kernels.py
                from . import kernels

                still = np.zeros(len(order), np.int64)
                cost, accuracy = kernels.train_epoch(
                    self.net, self.flat, o["shift"], order, self.y[order], still if dx is None else dx,
                    still if dy is None else dy, self.optimizer, eta, o["batch_size"], o["l2"])
            else:
                cost, accuracy = self.sgd(order, dx, dy, eta)
        return self.record(eta, cost, accuracy, start)

    def sgd(self, order, dx, dy, eta):
        """One step downhill (``Network.step``) on each mini-batch of the examples ``order`` (rows of X),
        each image moved by (dx, dy) if given. Returns the epoch's mean cost and the share
        classified right, each example scored as it went through the network."""
        net, n = self.net, len(order)
        size = min(self.options["batch_size"], n)  # a batch larger than the data is all of it
        outputs = np.empty((n, net.sizes[-1]), net.dtype)
        for k in range(0, n, size):
            batch = order[k:k + size]
            images = self.X[batch] if dx is None else shifted(self.X[batch], dx[k:k + size], dy[k:k + size])
            x = net.inputs(images)  # pixels to floats in [0, 1]
            y = one_hot(self.y[batch], net.sizes[-1], net.dtype)
            outputs[k:k + size] = net.step(x, y, eta, self.options["l2"], self.optimizer)
        labels = self.y[order]
        cost = net.cost.fn(outputs, one_hot(labels, net.sizes[-1], net.dtype))
        return cost, np.mean(outputs.argmax(axis=1) == labels)

    def record(self, eta, cost, accuracy, start):
        """Note the epoch just run (and check it did not diverge), and the best so far."""
        o, net = self.options, self.net
        self.epoch += 1
        record = {"epoch": self.epoch, "lr": eta, "cost": float(cost), "train_accuracy": float(accuracy)}
        if not (math.isfinite(record["cost"]) and np.isfinite(net.params).all()):
            raise DigitnetError(f"training diverged in epoch {self.epoch} (the cost is not a finite number): "
                                f"try a smaller learning rate than --lr {o['lr']:g}")
        if self.validation is not None:
            record["validation_accuracy"] = self.score(*self.validation)
            if self.best is None or record["validation_accuracy"] > self.best[0]:
                self.best = (record["validation_accuracy"], net.params.copy(), self.epoch)
        record["seconds"] = time.perf_counter() - start  # all the training does; not the test's score
        if self.test is not None:
            record["test_accuracy"] = self.score(*self.test)
        self.history.append(record)
        return record

    def score(self, images, labels):
        """The share of ``images`` (uint8 pixels) the network classifies right."""
        if self.compiled:
            from . import kernels

            return kernels.accuracy(self.net, images, labels)
        return self.net.score(images, labels)

    def finish(self):
        """Keep the parameters of the best validation epoch, and record which it was. A run that
        trained with NumPy has the compiled epoch made for later runs now, in the background:
        compiling alongside the run would have slowed it."""
        if self.best is not None:
            self.net.params[...] = self.best[1]
            self.history.best_epoch = self.best[2]
        self.net.history = self.history
        if not self.compiled and compiler.usable(self.net) and not self.compiling:
            self.compiling = compiler.compile_later(self.net, self.options["optimizer"])
        return self.history

    def run(self, progress=None):
        while not self.done:
            record = self.run_epoch()
            if progress:
                progress(record)
        return self.finish()

    # ---- carrying on later -----------------------------------------------------------------

    def state(self):
        """Everything needed to carry on exactly where the last epoch ended: a dict
        of arrays and a dict of JSON-able facts (epoch, random generator, history...)."""
        optimizer_arrays, optimizer_numbers = self.optimizer.state()
        arrays = {"params": self.net.params, **{f"optimizer_{k}": v for k, v in optimizer_arrays.items()}}
        if self.best is not None:
            arrays["best_params"] = self.best[1]
        facts = {"epoch": self.epoch, "images": len(self.rows), "rng": self.rng.bit_generator.state,
                 "optimizer": optimizer_numbers, "history": list(self.history),
                 "best": None if self.best is None else {"validation_accuracy": self.best[0], "epoch": self.best[2]}}
        return arrays, facts

    def restore(self, arrays, facts):
        """Carry on from ``state()``: the same seed and data must have built this Trainer."""
        if facts["images"] != len(self.rows):
            raise DigitnetError(f"the checkpoint was made with {facts['images']:,} training images, "
                                f"not {len(self.rows):,}: use the same data")
        self.net.params[...] = arrays["params"]
        self.optimizer.restore({k[len("optimizer_"):]: v for k, v in arrays.items() if k.startswith("optimizer_")},
                               facts["optimizer"])
        self.rng.bit_generator.state = facts["rng"]
        self.epoch = facts["epoch"]
        self.history = History(facts["history"])
        best = facts["best"]
        self.best = None if best is None else (best["validation_accuracy"], arrays["best_params"].copy(),
                                               best["epoch"])


def epoch_line(record, epochs):
    """An epoch's record as one line, as ``digitnet train`` prints it."""
    parts = [f"epoch {record['epoch']:3d}/{epochs}", f"cost {record['cost']:.4f}",
             f"train {record['train_accuracy']:.2%}"]
    if "validation_accuracy" in record:
        parts.append(f"validation {record['validation_accuracy']:.2%}")
    parts.append(f"{record['seconds']:.2f} s")
    return "  ".join(parts)


class History(list):
    """One record (a dict: epoch, cost, accuracies, seconds) per epoch."""

    best_epoch = None

    def column(self, key):
        return [r.get(key) for r in self]


def train(net, X, y, progress=None, **options):
    """Train ``net`` in place; returns the History. Options as for ``Trainer``."""
    return Trainer(net, X, y, **options).run(progress)
