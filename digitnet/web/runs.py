"""Training on the web page: each visitor's own run, an epoch at a time in the
background, and a queue so that only a few train at once.

A visitor has one ``Training``: start, pause, step, resume, stop. The ``Queue``
gives runs their turn: at most ``seats`` train at once, each in a thread of its
own, and the others wait, first come first served, knowing their place. The
experiments of chapter 2 (experiments.py) take their turns in the same queue. A run
holds its seat while it trains. Paused, it gives the seat up and keeps only what
it needs to carry on exactly (``Trainer.state``: its parameters and the
optimiser's memory), so the memory training takes grows with the seats, not with
the visitors.
"""

import os
import threading
from collections import deque

import numpy as np

from ..api import Network
from ..augment import describe
from ..errors import DigitnetError
from ..experiments import sample
from ..recipes import TRAINING_OPTIONS
from ..training import Trainer
from .lab import Trained

START_WAIT = 0.5  # seconds a new start waits for an earlier run to finish its epoch
BACKGROUND = 10  # training threads are this much nicer than the server (nice values run to 19, the lowest)


class Queue:
    """At most ``seats`` runs train at once; the rest wait in line. ``moves`` counts
    the line's changes, so that a waiting run sees its place change. What a run belongs to
    (a visitor's Training or Experiment) has ``take_seat(run)``, called in the seat's thread,
    and ``seat_given_back(run)``, called once the seat is free or another run's."""

    def __init__(self, seats):
        self.seats, self.line, self.working, self.moves = seats, deque(), 0, 0
        self.lock = threading.Lock()

    def join(self, training, run):
        """Give ``run`` (of ``training``) a seat now if one is free (True), else a place in line."""
        with self.lock:
            seated = self.working < self.seats
            if seated:
                self.working += 1
            else:
                self.line.append((training, run))
                self.moves += 1
        if seated:
            threading.Thread(target=self._work, args=(training, run), name="digitnet-training", daemon=True).start()
        return seated

    def leave(self, training):
        with self.lock:
            kept = deque(entry for entry in self.line if entry[0] is not training)
            if len(kept) < len(self.line):
                self.line, self.moves = kept, self.moves + 1

    def place(self, training):
        """1 for the next to train, 2 for the one after, ...; None if not waiting."""
        with self.lock:
            return next((i + 1 for i, (t, _) in enumerate(self.line) if t is training), None)

    def _work(self, training, run):
        # One seat: train this run, then whoever is next, until nobody is waiting.
        in_the_background()
        while True:
            training.take_seat(run)
            with self.lock:
                after = self.line.popleft() if self.line else None
                if after is None:
                    self.working -= 1
                else:
                    self.moves += 1
            training.seat_given_back(run)  # only now: a run seen to be out of its epoch has left its seat
            if after is None:
                return
            training, run = after


def in_the_background():
    """Lower this thread's priority (on Linux, where each thread has its own nice value), so
    that a busy machine answers the visitors' drawings first and trains with what is left."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(os.getpriority(os.PRIO_PROCESS, me) + BACKGROUND, 19))
    except (AttributeError, OSError):  # no per-thread priorities here: train as it is
        pass


class Run:
    """One start of training: what to train on, and (while not training) where it got to."""

    def __init__(self, sizes, activation, cost, images, seed, options):
        self.sizes, self.activation, self.cost, self.images, self.seed = sizes, activation, cost, images, seed
        self.options = options
        self.epochs = options["epochs"]
        self.saved = None  # what carries it on (``kept``) while it has no seat
        self.reached = None  # the network its last epoch left, as the page shows it (frozen, with its path's plane)
        self.seated = self.busy = False  # holding a seat; in an epoch

    def trainer(self, dataset):
        """A Trainer for this run, carrying on where it stopped: its images are ``images``
        training images chosen at random (from ``seed``), chosen again the same each time."""
        net = Network(self.sizes, self.activation, self.cost, seed=self.seed)
        X, y = dataset.train_images, dataset.train_labels
        if self.images < len(X):  # else all of them: no copy
            X, y = sample(X, y, self.images, np.random.default_rng(self.seed))
        trainer = Trainer(net, X, y, seed=self.seed, test=(dataset.test_images, dataset.test_labels),
                          **self.options)
        net.header = recipe(trainer, self.images)
        if self.saved is not None:
            trainer.restore(*carried_on(self.saved, self.reached))
        self.saved = None
        return trainer


def recipe(trainer, images):
    """How a run on the page trains, as ``digitnet train`` records it in a model's header: the
    experiments train with it (experiments.recipe_of), and a downloaded model keeps it."""
    o = trainer.options
    options = {key: o[key] for key in TRAINING_OPTIONS}
    return {"recipe": "web", "options": {**options, "augment": describe(o["augment"]), "validation": o["validation"],
                                          "seed": o["seed"], "images": images}}


def kept(state, reached):
    """What a paused run keeps of its ``Trainer.state()``: all but what ``reached``, the network its
    last epoch left (the page's), holds already: the same parameters, and the path as its points in
    the plane. So a paused run adds only the optimiser's memory to the visitor's network, where its
    snapshots of the path (up to 64 networks' worth) would have made it tens of megabytes."""
    arrays, facts = state
    if reached is None or reached.path is None:  # no epoch yet (its one snapshot is the start), or a path
        return state  # that never moved: a snapshot or two at most
    return {k: v for k, v in arrays.items() if k != "params" and not k.startswith("path_")}, facts


def carried_on(saved, reached):
    """``kept``'s state made whole again for ``Trainer.restore``: the path goes on from its points
    in the plane, so a run paused draws the path before the pause as it was drawn then."""
    arrays, facts = saved
    if "params" in arrays:
        return saved
    points = {f"path_{k}": point for k, point in enumerate(reached.path.points(reached.params))}
    return {**arrays, "params": reached.params, **points}, facts


class Training:
    """One visitor's training: one run at a time, an epoch at a time.

    ``version`` goes up whenever anything changes (and the queue's moves are added
    to it), so the event stream knows when to send the page a new status.
    """

    def __init__(self, lab, queue):
        self.lab, self.queue = lab, queue
        self.changed = threading.Condition()
        self.run = self.retired = None  # the current run, and a forgotten one still in its epoch
        self.state, self.message, self.history, self.version = "idle", "", [], 0
        self.steps = 0  # epochs still to run before pausing, when stepping

    def status(self):
        with self.changed:
            return {"state": self.state, "epoch": len(self.history), "epochs": self.run.epochs if self.run else 0,
                    "busy": bool(self.run and self.run.busy), "message": self.message,
                    "history": list(self.history), "version": self.version + self.queue.moves,
                    "place": self.queue.place(self)}

    def going(self):
        """Whether there is more to hear: training, waiting to, or finishing an epoch."""
        with self.changed:
            return self.state in ("running", "queued") or bool(self.steps or (self.run and self.run.busy))

    def _set(self, state, message=""):
        # The caller holds self.changed.
        self.state, self.message = state, message
        self.version += 1
        self.changed.notify_all()

    # ---- what the visitor asks ---------------------------------------------------------------

    def start(self, sizes, activation, cost, images, paused=False, seed=0, **options):
        """Train a new network of ``sizes`` on ``images`` training images chosen at random.

        A run still going is forgotten; an epoch it is in ends unused. One such epoch may
        still be running while the new run starts, but not two: however often a visitor
        asks to start, their epochs never pile up.
        """
        if self.lab.dataset is None:
            raise DigitnetError("no MNIST data: start the server with --data DIR or DIGITNET_DATA to train")
        with self.changed:
            self.changed.wait_for(lambda: not (self.retired and self.retired.busy), START_WAIT)
            if self.retired and self.retired.busy and self.run and self.run.busy:
                raise Busy("the last two training runs are still finishing their epochs: try again in a moment")
            if self.run and self.run.busy:
                self.retired = self.run
            self.queue.leave(self)
            self.run, self.history, self.steps = Run(sizes, activation, cost, images, seed, options), [], 0
            if paused:
                self._set("paused")
            else:
                self._go("running")

    def pause(self):
        """Stop after the epoch that is running."""
        with self.changed:
            if self.state not in ("running", "queued"):
                raise DigitnetError(f"training is {self.state}, not running")
            self.queue.leave(self)
            self.steps = 0
            self._set("paused")

    def resume(self):
        """Carry on training, epoch after epoch."""
        with self.changed:
            if self.state != "paused":
                raise DigitnetError(f"training is {self.state}, not paused")
            self._go("running")

    def step(self):
        """Run one more epoch, then stay paused."""
        with self.changed:
            if self.state != "paused":
                raise DigitnetError(f"training is {self.state}: pause it to go one epoch at a time")
            self.steps += 1
            self._go("paused", "one epoch")

    def stop(self):
        """Forget the current run; an epoch in progress finishes but is not used."""
        with self.changed:
            if self.state not in ("running", "paused", "queued"):
                raise DigitnetError(f"training is {self.state}, not running or paused")
            self._forget()

    def leave(self):
        """The visitor has gone: stop any run, quietly."""
        with self.changed:
            if self.run is not None:
                self._forget()

    def _go(self, state, message=""):
        # The caller holds self.changed: carry on in the run's seat, or take a free one, or wait for one.
        run = self.run
        if not run.seated:
            run.seated = self.queue.join(self, run)
        self._set(state if run.seated else "queued", message)

    def _forget(self):
        # The caller holds self.changed. A seated run's thread sees it is no longer current.
        if self.run.busy:
            self.retired = self.run
        self.queue.leave(self)
        self.run, self.steps = None, 0
        self._set("idle", "stopped")

    # ---- in a seat of the queue ----------------------------------------------------------------

    def take_seat(self, run):
        """Train ``run`` (in a thread of the queue) until it is paused, stopped or done."""
        with self.changed:
            if self.run is not run:
                return  # forgotten before its turn came
            if not run.seated:  # its turn in line has come
                if self.state != "queued":
                    return  # paused while it waited
                run.seated = True
                self._set("paused" if self.steps else "running", self.message)
        try:
            trainer = run.trainer(self.lab.dataset)
        except (DigitnetError, MemoryError) as e:
            with self.changed:
                run.seated = False
                if self.run is run:
                    self._set("error", str(e))
            return
        while self._next_epoch(run, trainer):
            pass

    def _next_epoch(self, run, trainer):
        """Run one epoch if the run still wants one; False when it leaves its seat."""
        with self.changed:
            if not self._wants_epoch(run):
                return self._stand(run, trainer)
            self.steps = max(self.steps - 1, 0)
            run.busy = True
        try:
            record = trainer.run_epoch()
        except (DigitnetError, FloatingPointError, MemoryError) as e:
            with self.changed:
                run.busy = run.seated = False
                if self.run is run:
                    self._set("error", str(e))
                self.changed.notify_all()
            return False
        with self.changed:
            # A run about to leave its seat stays busy until the seat is given back (seat_given_back): a
            # visitor who sees it paused, or done, and starts another run finds the seat free.
            run.busy = trainer.done or not self._wants_epoch(run)
            self.changed.notify_all()
            if self.run is not run:  # a newer run replaced this one while the epoch ran
                return self._stand(run, trainer)
            if trainer.done:
                trainer.finish()
            else:  # the page's landscape follows the path as it grows
                trainer.so_far()
            reached = Trained(trainer.net, self.lab.dataset, accuracy=record.get("test_accuracy")
                              if trainer.history.best_epoch is None else None)
            self.lab.use(reached)
            run.reached = reached.net
            self.history.append({k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()})
            if trainer.done:
                run.seated = False
                self._set("done")
                return False
            self._set(self.state, self.message)  # a new epoch to show
            return True

    def _wants_epoch(self, run):
        # The caller holds self.changed: ``run`` is still the visitor's, and running or stepping.
        return self.run is run and (self.state == "running" or bool(self.steps))

    def seat_given_back(self, run):
        """``run`` has left its seat, and the queue has given the seat to the next in line or freed it."""
        with self.changed:
            run.busy = False
            self.changed.notify_all()

    def _stand(self, run, trainer):
        # The caller holds self.changed: leave the seat, keeping only what carries the run on.
        if self.run is run:
            run.saved = kept(trainer.state(), run.reached)
        run.seated = False
        return False


class Busy(RuntimeError):
    """Training cannot start yet: earlier runs are still in their epochs."""
