"""Stochastic gradient descent: shuffle, split into mini-batches, step downhill.

``Trainer`` runs one epoch at a time, so the command line, the web page and
checkpoints can all stop, look and carry on between epochs.
"""

import math
import time
import zipfile

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .blas import one_blas_thread
from .errors import DigitnetError, one_line
from .functions import one_hot
from .network import Buffers

# The two ways to train, chosen by ``--recipe``. "video" is the videos' network
# exactly; "default" is what it takes for the same 13,002 parameters to pass 96 %.
RECIPES = {
    "default": dict(activation="relu", cost="cross-entropy", optimizer="adam", lr=0.005,
                    momentum=0.9, l2=0.0, batch_size=128, epochs=25, schedule="cosine", shift=1),
    "video": dict(activation="sigmoid", cost="quadratic", optimizer="sgd", lr=3.0,
                  momentum=0.0, l2=0.0, batch_size=10, epochs=30, schedule="constant", shift=0),
}
TRAINING_OPTIONS = ("optimizer", "lr", "momentum", "l2", "batch_size", "epochs", "schedule", "shift")


class SGD:
    """Gradient descent, with momentum μ if asked: v ← μ v − η ∇C, then w ← w + v.

    ``params`` and ``grad`` are flat vectors holding every weight and bias, so a
    step is a few whole-vector operations whatever the number of layers."""

    name = "sgd"

    def __init__(self, params, momentum=0.0):
        self.momentum = np.array(momentum, params.dtype)  # see functions.HALF
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
        """(arrays, numbers) from which ``restore`` carries on exactly."""
        return ({"velocity": self.velocity} if self.velocity is not None else {}), {}

    def restore(self, arrays, numbers):
        if self.velocity is not None:
            self.velocity[...] = arrays["velocity"]


class Adam:
    """Adam: each parameter steps by its gradient's running mean m over the running
    root-mean-square √v, so every knob moves at a similar rate."""

    name = "adam"

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.scratch = np.zeros_like(params)
        self.t = 0
        # β₁, 1 − β₁, β₂, 1 − β₂, ε as 0-d arrays: see functions.HALF
        self.constants = [np.array(c, params.dtype) for c in (beta1, 1 - beta1, beta2, 1 - beta2, eps)]

    def step(self, params, grad, lr):
        self.t += 1
        m, v, s = self.m, self.v, self.scratch
        b1, one_minus_b1, b2, one_minus_b2, eps = self.constants
        # Fold the bias corrections of m and v into the step size (Kingma & Ba, §2).
        lr_t = np.array(float(lr) * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t), m.dtype)
        m *= b1
        np.multiply(grad, one_minus_b1, out=s)
        m += s                 # m ← β₁ m + (1 − β₁) g
        v *= b2
        np.multiply(grad, grad, out=s)
        s *= one_minus_b2
        v += s                 # v ← β₂ v + (1 − β₂) g²
        np.sqrt(v, out=s)
        s += eps
        np.divide(m, s, out=s)
        s *= lr_t
        params -= s            # w ← w − η_t m / (√v + ε)

    def state(self):
        """(arrays, numbers) from which ``restore`` carries on exactly."""
        return {"m": self.m, "v": self.v}, {"t": self.t}

    def restore(self, arrays, numbers):
        self.m[...], self.v[...], self.t = arrays["m"], arrays["v"], int(numbers["t"])


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
SCHEDULES = ("constant", "cosine")


def learning_rate(lr, schedule, epoch, epochs):
    """η for this epoch (counting from 0): constant, or falling along half a cosine to 0."""
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return lr


class Pixels:
    """The training images as one flat run of bytes, from which any image, moved
    by a whole number of pixels if asked, is the ``size`` bytes from some start.

    Moving an image by (dx, dy) moves its flattened pixels by dx + side·dy, so in a
    zero-padded copy a moved image is still one contiguous run: a batch is one
    gather of runs, as cheap as picking unmoved rows, and the compiled training
    loop needs only where each run starts. Only pixels pushed off the left or right
    edge would come back wrongly (at the other edge, a row away); that needs ink in
    the outer ``shift`` columns, which few digits have (857 of 55,000 MNIST images
    for 2 pixels), and those few are moved exactly in 2-D into spare rows at the end.
    """

    def __init__(self, images, shift=0):
        n, self.size = images.shape
        self.shift, self.n = shift, n
        if not shift:  # unmoved: the images themselves, no copy
            self.flat, self.pad, self.width = images, 0, self.size
            return
        side = math.isqrt(self.size)
        if side * side != self.size:
            raise DigitnetError("--shift needs square images")
        self.side, self.pad = side, shift * side + shift
        self.width = self.size + 2 * self.pad
        # The images with ink at the left or right edge, padded in 2-D; windows[j, dy + s, dx + s]
        # is the j-th of them moved: a view, no copy.
        square = images.reshape(n, side, side)
        inked = np.flatnonzero((square[:, :, :shift] | square[:, :, -shift:]).any(axis=(1, 2)))
        self.inked = np.full(n, -1)
        self.inked[inked] = np.arange(len(inked))
        padded = np.pad(square[inked], ((0, 0), (shift, shift), (shift, shift)))
        self.windows = sliding_window_view(padded, (side, side), axis=(1, 2))
        self.flat = np.zeros((n + len(inked), self.width), np.uint8)  # spare rows for the inked ones
        self.flat[:n, self.pad:self.pad + self.size] = images

    @property
    def bytes(self):
        """Every byte, in one flat vector: image run i is bytes[starts[i]:][:size]."""
        return self.flat.reshape(-1)

    def starts(self, rows, dx=None, dy=None):
        """Where the runs of images ``rows``, moved by (-dx, -dy) pixels, start."""
        starts = rows * self.width + self.pad
        if not self.shift:
            return starts
        starts += dx + self.side * dy
        redo = np.flatnonzero((self.inked[rows] >= 0) & (dx != 0))
        s, spare = self.shift, self.n + np.arange(len(redo))
        moved = self.windows[self.inked[rows[redo]], dy[redo] + s, dx[redo] + s]
        self.flat[spare, self.pad:self.pad + self.size] = moved.reshape(len(redo), self.size)
        starts[redo] = spare * self.width + self.pad
        return starts

    def pick(self, starts):
        """The runs from ``starts``, as rows of pixels."""
        runs = np.ndarray(buffer=self.bytes, dtype=f"V{self.size}", shape=(self.bytes.size - self.size + 1,),
                          strides=(1,))  # every run of ``size`` bytes from any byte: a view, no copy
        return runs[starts].view(np.uint8).reshape(len(starts), self.size)


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
        check_seed(seed)
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
        self.pixels = Pixels(self.images, shift)
        from . import kernels  # imports numba, which only training and scoring need

        self.kernels = kernels if kernels.usable(net) else None
        self.prepared = False
        self.params = net.flat_parameters()
        self.optimizer = SGD(self.params, momentum) if optimizer == "sgd" else Adam(self.params)
        self.epoch = 0
        self.history = History()
        self.best = None  # (validation accuracy, copy of the parameters, epoch)

    @property
    def done(self):
        return self.epoch >= self.options["epochs"]

    def starts(self, order):
        """Where the pixels of the examples ``order`` start in ``self.pixels``, each
        moved by a random whole number of pixels (up to ``shift`` each way) if asked."""
        s = self.options["shift"]
        if not s:
            return self.pixels.starts(order)
        dx, dy = (self.rng.integers(-s, s + 1, len(order)) for _ in range(2))
        return self.pixels.starts(order, dx, dy)

    def prepare(self):
        """Load the compiled loops, or compile them if this machine has none cached
        (some 15 s, once): done before the first epoch, whose time is then training alone."""
        if self.kernels and not self.prepared:
            none = np.empty(0, np.int64)  # no examples: the loops are loaded and run no step
            self.kernels.sgd_epoch(self.net, self.pixels.bytes, none, none, self.optimizer, 1.0, 1, 0.0)
            self.kernels.forward(self.net, self.images[:0])
        self.prepared = True

    def run_epoch(self):
        """One pass over the training images in random mini-batches; returns its record."""
        o = self.options
        self.prepare()
        start = time.perf_counter()
        self.params = self.net.flat_parameters()  # the same vector, unless someone swapped in new arrays
        lr = learning_rate(o["lr"], o["schedule"], self.epoch, o["epochs"])
        order = self.rng.permutation(len(self.images))
        starts = self.starts(order)
        with np.errstate(all="ignore"), one_blas_thread():  # a diverging run is caught below, after the epoch
            if self.kernels:  # the same steps, compiled: see kernels.py
                cost, accuracy = self.kernels.sgd_epoch(self.net, self.pixels.bytes, starts, self.labels[order],
                                                        self.optimizer, lr, o["batch_size"], o["l2"])
            else:
                cost, accuracy = self.sgd(starts, order, lr)
            return self.record(lr, cost, accuracy, start)

    def record(self, lr, cost, accuracy, start):
        """Note the epoch just run (and check it did not diverge), and the best so far."""
        o, net = self.options, self.net
        self.epoch += 1
        record = {"epoch": self.epoch, "lr": lr, "cost": float(cost), "train_accuracy": float(accuracy)}
        if not (math.isfinite(record["cost"]) and np.isfinite(self.params).all()):
            raise DigitnetError(f"training diverged in epoch {self.epoch} (the cost is not a finite number): "
                                f"try a smaller learning rate than --lr {o['lr']:g}")
        if self.validation is not None:
            record["validation_accuracy"] = net.score(*self.validation)
            if self.best is None or record["validation_accuracy"] > self.best[0]:
                self.best = (record["validation_accuracy"], self.params.copy(), self.epoch)
        record["seconds"] = time.perf_counter() - start  # all the training does; not the test's score
        if self.test is not None:
            record["test_accuracy"] = net.score(*self.test)
        self.history.append(record)
        return record

    def sgd(self, starts, order, lr):
        """Step downhill once per mini-batch: the pixels from ``starts[k:k + size]``
        of the examples order[k:k + size], for k = 0, size, 2 size, ... Returns the
        mean cost and the share classified right, each example scored as it went
        through the network."""
        Y = one_hot(self.labels[order], self.net.sizes[-1], self.net.dtype)
        outputs = np.empty_like(Y)  # every batch's output, to score the epoch at the end in one go
        net, n, l2 = self.net, len(Y), self.options["l2"]
        size = min(self.options["batch_size"], n)  # a batch larger than the data is all of it
        params, step, scale = self.params, self.optimizer.step, np.array(1 / 255, net.dtype)
        lr = np.array(lr, net.dtype)  # see functions.HALF
        full, last = Buffers(net, size), Buffers(net, n % size or size)
        for k in range(0, n, size):
            b = full if k + size <= n else last
            np.multiply(self.pixels.pick(starts[k:k + size]), scale, out=b.x)  # pixels to [0, 1]
            b.a[-1] = outputs[k:k + size]
            net.backprop(b.x, Y[k:k + size], b)
            if l2:
                for W, g in zip(net.weights, b.grad_W, strict=True):
                    g += l2 * W
            step(params, b.grad, lr)
        return net.cost.cost(outputs, Y), np.mean(outputs.argmax(axis=1) == self.labels[order])

    def finish(self):
        """Keep the parameters of the best validation epoch, and record which it was."""
        if self.best is not None:
            self.params[...] = self.best[1]
            self.history.best_epoch = self.best[2]
        self.net.history = self.history
        return self.history

    # ---- checkpoints ----------------------------------------------------------

    def state(self):
        """Everything needed to carry on exactly where the last epoch ended: a dict
        of arrays and a dict of JSON-able facts (epoch, random generator, history...)."""
        optimizer_arrays, optimizer_numbers = self.optimizer.state()
        arrays = {"params": self.params, **{f"optimizer_{k}": v for k, v in optimizer_arrays.items()}}
        if self.best is not None:
            arrays["best_params"] = self.best[1]
        facts = {"epoch": self.epoch, "images": len(self.images), "rng": self.rng.bit_generator.state,
                 "optimizer": optimizer_numbers, "history": list(self.history),
                 "best": None if self.best is None else {"validation_accuracy": self.best[0], "epoch": self.best[2]}}
        return arrays, facts

    def restore(self, arrays, facts):
        """Carry on from ``state()``: the same seed and data must have built this Trainer."""
        if facts["images"] != len(self.images):
            raise DigitnetError(f"the checkpoint was made with {facts['images']:,} training images, "
                                f"not {len(self.images):,}: use the same data")
        self.params[...] = arrays["params"]
        self.optimizer.restore({k[len("optimizer_"):]: v for k, v in arrays.items() if k.startswith("optimizer_")},
                               facts["optimizer"])
        self.rng.bit_generator.state = facts["rng"]
        self.epoch = facts["epoch"]
        self.history = History(facts["history"])
        best = facts["best"]
        self.best = None if best is None else (best["validation_accuracy"], arrays["best_params"].copy(),
                                               best["epoch"])

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


def check_seed(seed):
    """A seed for NumPy's generator: None, or a whole number 0 or more."""
    if seed is not None and not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise DigitnetError(f"the seed must be a whole number 0 or more, got {seed!r}")


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


# ---- checkpoint files -----------------------------------------------------------

def save_checkpoint(trainer, path, **record):
    """Write the trainer's state after its last epoch to ``path``, atomically.

    The file is a model file (``Network.load`` reads it: the latest weights) whose
    header also holds ``checkpoint`` (the facts of ``Trainer.state``) and whose
    archive also holds the state's arrays as ``checkpoint_<name>``: no pickle."""
    from .modelfile import save

    arrays, facts = trainer.state()
    trainer.net.history = trainer.history
    save(trainer.net, path, arrays={f"checkpoint_{name}": array for name, array in arrays.items()},
         **record, checkpoint=facts, best_epoch=None if facts["best"] is None else facts["best"]["epoch"])


def load_checkpoint(path):
    """(network, header, arrays) from a checkpoint file; a DigitnetError naming the
    file if it is not one or is damaged."""
    from .modelfile import load, read_array

    net = load(path)  # checks the header and the weights
    facts = net.header.get("checkpoint")
    if not isinstance(facts, dict) or not isinstance(net.header.get("options"), dict):
        raise DigitnetError(f"{path}: a model file but not a checkpoint (train with --checkpoint to make one)")
    options = net.header["options"]
    missing = [key for key in (*TRAINING_OPTIONS, "validation", "seed") if key not in options]
    if missing:
        raise DigitnetError(f"{path}: damaged checkpoint (its options lack {', '.join(missing)})")
    for key in ("data", "out"):
        if not isinstance(net.header.get(key), (str, type(None))):
            raise DigitnetError(f"{path}: damaged checkpoint (its {key!r} is not a path)")
    kinds = {"epoch": int, "images": int, "rng": dict, "optimizer": dict, "history": list, "best": (dict, type(None))}
    for key, kind in kinds.items():
        if not isinstance(facts.get(key), kind) or isinstance(facts.get(key), bool):
            raise DigitnetError(f"{path}: damaged checkpoint (its {key!r} is missing or of the wrong type)")
    n = len(net.flat_parameters())
    try:
        with zipfile.ZipFile(path) as archive:
            names = [m[:-len(".npy")] for m in archive.namelist() if m.startswith("checkpoint_") and m.endswith(".npy")]
            # read_array checks each member's shape before reading it
            arrays = {name[len("checkpoint_"):]: read_array(path, archive, name, (n,)).astype(net.dtype)
                      for name in names}
    except DigitnetError:
        raise
    except Exception as e:  # zipfile, zlib and NumPy fail in many ways on damaged bytes
        raise DigitnetError(f"{path}: damaged checkpoint ({one_line(e)})") from None
    if "params" not in arrays or not all(np.isfinite(a).all() for a in arrays.values()):
        raise DigitnetError(f"{path}: damaged checkpoint (parameters missing or not finite)")
    return net, net.header, arrays
