"""Stochastic gradient descent: shuffle the training images, split them into mini-batches,
and take one step downhill on each.

``Trainer`` runs one epoch at a time, so the command line, the web page and
checkpoints can all stop, look and carry on between epochs. Each epoch runs
compiled (kernels.py) or with ``Network.step`` (network.py): the same steps, from
the same random numbers. Which of the two is the run's ``engine``, chosen by whoever
starts it (compiled unless asked, for float32 networks) and never by what happens to
be on the machine, so that the same options and seed always give the same network.
"""

import math
import time

import numpy as np

from . import kernels
from .augment import augmentation, image_side, moved, random_moves
from .blas import one_blas_thread
from .errors import DigitnetError
from .functions import one_hot
from .negatives import mix, training_images
from .network import Network
from .optimizers import OPTIMIZERS, SCHEDULES, learning_rate, make
from .recipes import NOT_A_DIGIT
from .trajectory import HEIGHT_IMAGES, Height, Trajectory
from .validation import as_inputs, as_labels, as_pixels, check_seed, check_training

ENGINES = {
    "compiled": "kernels.c, compiled when digitnet is installed: the same steps, tens of times faster",
    "numpy": "network.py's NumPy, the reference, as written to be read: slower",
}

# Distillation: the teacher's outputs softened at temperature T (Hinton et al. use 2 to 20),
# and the share of the labels in the desired outputs.
TEMPERATURE, LABEL_SHARE = 2.0, 0.5


def softened(outputs, temperature):
    """Outputs (rows of probabilities, as softmax gives) softened at ``temperature``: each raised to
    the power 1/T and scaled to sum to 1 again; for softmax outputs, softmax(z / T)."""
    powered = np.asarray(outputs, np.float64) ** (1 / temperature)
    return powered / powered.sum(axis=1, keepdims=True)


class Trainer:
    """Trains ``net`` on images X (uint8 or floats in [0, 1], n×28×28 or n×784) and labels y.

    ``shift`` moves the images by whole pixels each epoch, ``augment`` distorts them as well
    (augment.augmentation reads it: "rotate=10,elastic=34", a dict, or None).
    ``validation`` examples are held out of X (a seeded random choice) and the
    parameters of the epoch that scores best on them are kept at the end.
    ``shuffle=False`` takes the examples in their order every epoch.
    ``test`` is an optional (images, labels) pair scored after every epoch,
    for the record only: it never chooses anything.
    ``teacher``: another network (usually a wider one, trained already) whose softened
    outputs the network learns alongside the labels: distillation (Hinton, Vinyals and
    Dean 2015), see ``desired``.
    ``not_a_digit``: images of what is no digit (negatives.py: letters, symbols, doodles, noise,
    scribbles; the same for the same seed) join the training images, labelled with the network's
    "not a digit" output: N of them in recipes.NOT_A_DIGIT's mix, or {kind: count}, or text like
    "letters=4000,noise=500" (negatives.mix). They are never held out for validation, which scores
    digits, and ``finish`` records them in ``net.negatives``.
    ``trajectory`` holds the parameters at the start and after each epoch (thinned
    on long runs): the path that ``finish`` records in ``net.path``, as its plane.
    """

    def __init__(self, net, X, y, *, optimizer="sgd", lr=3.0, momentum=0.0, l2=0.0, batch_size=10, epochs=30,
                 schedule="constant", shift=0, augment=None, validation=0, test=None, seed=None, shuffle=True,
                 teacher=None, not_a_digit=0, engine=None):
        X = as_pixels(X)
        y = as_labels(y, len(X))
        not_a_digit = mix(not_a_digit, NOT_A_DIGIT)
        check_training(optimizer=optimizer, optimizers=OPTIMIZERS, lr=lr, momentum=momentum, l2=l2,
                       batch_size=batch_size, epochs=epochs, schedule=schedule, schedules=SCHEDULES, shift=shift,
                       validation=validation, n=len(X), not_a_digit=sum(not_a_digit.values()))
        if not_a_digit and not net.not_a_digit:
            raise DigitnetError("learning from noise needs a network with a 'not a digit' output "
                                "(Network(..., not_a_digit=True), one output more than the digits)")
        if len(y) and y.max() >= net.sizes[-1]:
            raise DigitnetError(f"the labels go up to {y.max()}, but the network has only {net.sizes[-1]} outputs")
        if X.shape[1] != net.sizes[0]:
            raise DigitnetError(f"the images have {X.shape[1]} pixels but the network takes {net.sizes[0]} inputs")
        engine = engine or ("compiled" if net.dtype == np.float32 else "numpy")
        if engine not in ENGINES:
            raise DigitnetError(f"no engine {engine!r}: choose {' or '.join(ENGINES)}")
        if engine == "compiled" and net.dtype != np.float32:
            raise DigitnetError(f"the compiled engine trains float32 networks, not {net.dtype}: use engine='numpy'")
        self.augmentation = augmentation(augment)
        self.side = image_side(X.shape[1]) if shift or self.augmentation else None
        self.net = net
        self.options = dict(optimizer=optimizer, lr=lr, momentum=momentum, l2=l2, batch_size=batch_size,
                            epochs=epochs, schedule=schedule, shift=shift, augment=self.augmentation,
                            validation=validation, seed=seed, shuffle=shuffle, not_a_digit=not_a_digit,
                            engine=engine)
        self.rng = np.random.default_rng(check_seed(seed))
        held_out = self.rng.permutation(len(X))[:validation]
        keep = np.ones(len(X), dtype=bool)
        keep[held_out] = False
        # The images stay uint8 (a quarter of float32's memory) and are not copied: the
        # training examples are the rows of X not held out. Each mini-batch becomes floats
        # in [0, 1] as it is used.
        self.X, self.y, self.rows = X, y, np.flatnonzero(keep)
        if not_a_digit:
            self.add_negatives(not_a_digit, seed)
        self.targets = None if teacher is None else self.teacher_targets(teacher)
        # The path's real height: the cost at each snapshot, on the first training images as they are.
        self.height = Height(net, self.X[self.rows[:HEIGHT_IMAGES]], self.y[self.rows[:HEIGHT_IMAGES]])
        # From here on, every image is held as the network's input layer takes it (deskewed, for
        # a network that deskews): once, here, and not in every epoch.
        self.compiled = engine == "compiled"
        self.X = self.seen(self.X)
        self.validation = (self.X[held_out], y[held_out]) if validation else None
        self.test = (self.seen(as_pixels(test[0])), np.asarray(test[1])) if test is not None else None
        self.optimizer = make(optimizer, net.params.size, momentum, net.dtype)
        self.prepared = False
        self.epoch = 0
        self.history = History()
        self.best = None  # (validation accuracy, copy of the parameters, epoch)
        self.trajectory = Trajectory(net.params.size, net.dtype.itemsize, self.height)
        self.trajectory.record(0, net.params)

    @property
    def done(self):
        return self.epoch >= self.options["epochs"]

    def prepare(self):
        """Load the compiled epoch, and lay out the images as it reads them, before the first
        epoch, whose time is then training alone."""
        if self.compiled and not self.prepared:
            kernels.library()
            self.flat = kernels.padded(self.X, self.options["shift"])
        self.prepared = True

    def run_epoch(self):
        """One pass over the training images in random mini-batches; returns its record."""
        o = self.options
        self.prepare()
        start = time.perf_counter()
        eta = learning_rate(o["lr"], o["schedule"], self.epoch, o["epochs"])
        order = self.rows[self.rng.permutation(len(self.rows))] if o["shuffle"] else self.rows  # rows of X
        moves = random_moves(self.rng, len(order), o["shift"], self.augmentation, self.side)
        with np.errstate(all="ignore"), one_blas_thread():  # a diverging run is caught below, after the epoch
            if self.compiled:  # the same steps, compiled: see kernels.py
                teacher = None if self.targets is None else (self.targets[order], LABEL_SHARE)
                cost, accuracy = kernels.train_epoch(self.net, self.flat, o["shift"], order, self.y[order], moves,
                                                     self.optimizer, eta, o["batch_size"], o["l2"], teacher)
            else:
                cost, accuracy = self.sgd(order, moves, eta)
        return self.record(eta, cost, accuracy, start)

    def add_negatives(self, counts, seed):
        """The images of ``counts`` ({kind: count}) after the training images, each labelled "not a
        digit" (the network's last output), and among the rows trained on. The images are copied once."""
        images = training_images(counts, seed, image_side(self.X.shape[1], needs="learning what is no digit "
                                                                                   "(--not-a-digit)"))
        n = len(images)
        self.rows = np.concatenate([self.rows, np.arange(len(self.X), len(self.X) + n)])
        self.X = np.concatenate([self.X, images])
        self.y = np.concatenate([self.y, np.full(n, self.net.digits, self.y.dtype)])

    def seen(self, pixels):
        """Images (uint8 pixels) as the network's input layer takes them, as pixels again: deskewed,
        if the network deskews (rounded to a pixel: 1/510 at most), else as they are. The compiled
        engine deskews compiled too (the same numbers, but once in a while a pixel rounded the other
        way), in a fifth of a second where NumPy takes two."""
        if not self.net.deskew:
            return pixels
        if self.compiled:
            return kernels.deskew(pixels, image_side(pixels.shape[1]))
        return np.concatenate([as_pixels(self.net.inputs(pixels[k:k + 8192]))
                               for k in range(0, max(len(pixels), 1), 8192)])

    def floats(self, pixels):
        """Images the Trainer holds (``seen`` already) as the input layer's floats in [0, 1]."""
        return as_inputs(pixels, self.net.sizes[0], self.net.dtype)

    def teacher_targets(self, teacher):
        """The teacher's outputs for every training image, softened: computed once, for the
        images as they are (a move of a pixel or two hardly changes what a network sees)."""
        if teacher.sizes[0] != self.net.sizes[0] or teacher.sizes[-1] != self.net.sizes[-1]:
            raise DigitnetError(f"the teacher has {teacher.sizes[0]} inputs and {teacher.sizes[-1]} outputs, "
                                f"the network {self.net.sizes[0]} and {self.net.sizes[-1]}: they must agree")
        with one_blas_thread():
            return softened(teacher.outputs(self.X), TEMPERATURE).astype(self.net.dtype)

    def desired(self, rows):
        """The desired outputs y for the training images ``rows``: 1 for the label's neuron and 0
        for the others; with a teacher, LABEL_SHARE of that and the rest the teacher's softened
        outputs, which say also how much a 7 looks like a 1."""
        y = one_hot(self.y[rows], self.net.sizes[-1], self.net.dtype)
        if self.targets is None:
            return y
        return LABEL_SHARE * y + (1 - LABEL_SHARE) * self.targets[rows]

    def sgd(self, order, moves, eta):
        """One step downhill (``Network.step``) on each mini-batch of the examples ``order`` (rows of X),
        each image moved as ``moves`` (augment.Moves) says. Returns the epoch's mean cost and the
        share classified right, each example scored as it went through the network."""
        net, n = self.net, len(order)
        size = min(self.options["batch_size"], n)  # a batch larger than the data is all of it
        outputs = np.empty((n, net.sizes[-1]), net.dtype)
        for k in range(0, n, size):
            batch = order[k:k + size]
            x = self.floats(moved(self.X[batch], batch_moves(moves, k, k + size)))
            outputs[k:k + size] = net.step(x, self.desired(batch), eta, self.options["l2"], self.optimizer)
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
        self.trajectory.record(self.epoch, net.params)
        return record

    def score(self, images, labels):
        """The share of ``images`` (uint8 pixels, ``seen``) the network classifies right."""
        if self.compiled:
            return kernels.accuracy(self.net, images, labels)
        return float(np.mean(self.net.feedforward(self.floats(images)).argmax(axis=1) == labels))

    def finish(self):
        """Keep the parameters of the best validation epoch, and record which it was."""
        self.trajectory.record(self.epoch, self.net.params, last=True)  # where training ended
        if self.best is not None:
            self.net.params[...] = self.best[1]
            self.history.best_epoch = self.best[2]
        self.net.negatives = self.options["not_a_digit"] or None
        return self.so_far()

    def so_far(self):
        """Record on the network what its training has been until now: the history, and the plane
        of the path (through the parameters it has now). ``finish`` does it at the end; a page that
        draws the path as it grows does it after every epoch."""
        self.net.history = self.history
        self.net.path = self.trajectory.plane(self.net.params)
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
        path_arrays, path_facts = self.trajectory.state()
        arrays = {"params": self.net.params, **{f"optimizer_{k}": v for k, v in optimizer_arrays.items()},
                  **path_arrays}
        if self.best is not None:
            arrays["best_params"] = self.best[1]
        facts = {"epoch": self.epoch, "images": len(self.rows), "rng": self.rng.bit_generator.state,
                 "optimizer": optimizer_numbers, "history": list(self.history), "path": path_facts,
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
        self.trajectory = Trajectory(self.net.params.size, self.net.dtype.itemsize, self.height)
        if "path" in facts:
            self.trajectory.restore(arrays, facts["path"])
        else:  # a checkpoint from before paths were recorded: the path starts here
            self.trajectory.record(self.epoch, self.net.params)
        best = facts["best"]
        self.best = None if best is None else (best["validation_accuracy"], arrays["best_params"].copy(),
                                               best["epoch"])


def batch_moves(moves, start, stop):
    """The moves of examples start to stop (the elastic fields are shared by all)."""
    return moves._replace(**{name: None if value is None else value[start:stop]
                             for name, value in moves._asdict().items() if name != "fields"})


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


def network_for(recipe, seed=None, classes=None):
    """The network a recipe (a dict with RECIPES' keys) trains, and the rest of its options, for
    ``Trainer``: its layers, activation and cost, with one output more, "not a digit", after
    the digits' when the recipe adds images of what is no digit; ``classes`` names the digits' outputs."""
    options = dict(recipe)
    *layers, digits = options.pop("layers")
    noise = bool(mix(options.get("not_a_digit"), NOT_A_DIGIT))
    net = Network((*layers, digits + noise), options.pop("activation"), options.pop("cost"), seed=seed,
                  not_a_digit=noise, classes=classes, deskew=options.pop("deskew", False))
    return net, options


def train(net, X, y, progress=None, **options):
    """Train ``net`` in place; returns the History. Options as for ``Trainer``."""
    return Trainer(net, X, y, **options).run(progress)
