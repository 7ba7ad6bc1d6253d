"""The visitors: each browser session its own network, edits, teaching steps, training
run and experiment, so that nothing one visitor does changes another's page.

A visitor who has changed nothing is a ``newcomer`` and costs nothing: they all see
the server's model, shared read-only. A session is kept (a ``Visitor`` made) when
its visitor first changes something. At most ``max_sessions`` are kept, and a kept
session ends only when it has not been seen for ``idle`` seconds: never to make room
for someone new, so nobody's work is wiped by a crowd arriving. When all the places are
taken, a newcomer can still draw and look, on the shared model, until one comes free.
"""

import os
import threading
import time
from collections import OrderedDict

from .. import kernels
from ..blas import one_blas_thread
from .experiments import Experiment
from .lab import Lab, Trained
from .runs import Queue, Training

MAX_SESSIONS = 200
IDLE_MINUTES = 30


class Visitor:
    """One browser session: its lab (network, edits, teaching steps), its training and its
    experiment, the last two sharing the classroom's queue."""

    def __init__(self, classroom):
        self.lab = Lab(classroom.model, classroom.dataset)
        self.training = Training(self.lab, classroom.queue)
        self.experiment = Experiment(self.lab, classroom.queue)
        self.seen = time.monotonic()

    def leave(self):
        """Stop whatever still runs for this visitor."""
        self.training.leave()
        self.experiment.leave()


class Classroom:
    def __init__(self, net, dataset=None, max_sessions=MAX_SESSIONS, idle_minutes=IDLE_MINUTES,
                 max_training=None):
        self.dataset = dataset
        self.model = Trained(net, dataset)  # the server's model, shared by all until they change it
        self.queue = Queue(max_training or os.cpu_count() or 1)
        self.max_sessions, self.idle = max_sessions, idle_minutes * 60
        self.visitors = OrderedDict()  # session key: Visitor, the least recently seen first
        self.newcomer = Visitor(self)  # what every visitor who has changed nothing sees; never changed
        self.lock = threading.Lock()
        self.warm_up()

    def warm_up(self):
        """Pay now, before the class arrives, what the first requests would otherwise pay while
        every drawing waits behind them (a tenth of a second or more each): the served model's
        test scores and strongest connections, OpenBLAS's thread control, and the compiled training
        loop (kernels.c, with SciPy's BLAS)."""
        _ = self.model.connections  # worked out once, then kept by Trained
        if self.dataset is not None:
            _ = self.model.scores
            kernels.library()
        with one_blas_thread():
            pass

    def find(self, key):
        """The visitor of session ``key``, or the newcomer if that session has changed nothing."""
        return self._visitor(key, keep=False)

    def keep(self, key):
        """The visitor of session ``key``, kept from now on: they are about to change something.
        Raises Full if that needs a place and none is free."""
        return self._visitor(key, keep=True)

    def has_room(self):
        """Whether a newcomer could be kept now."""
        self.find(None)  # lets go of the sessions idle too long
        return len(self.visitors) < self.max_sessions

    def full(self):
        """What a newcomer is told when there is no room."""
        return (f"the class is full ({self.max_sessions} visitors are working): you can draw and look, but editing "
                f"is off until one of their sessions ends, {self.idle / 60:g} minutes after its last request")

    def __len__(self):
        return len(self.visitors)

    def _visitor(self, key, keep):
        # The sessions idle too long go first; then the visitor of ``key``, made now if ``keep`` and there is room.
        now, gone = time.monotonic(), []
        with self.lock:
            while self.visitors:  # the least recently seen first: stop at the first still active
                oldest = next(iter(self.visitors))
                if now - self.visitors[oldest].seen < self.idle:
                    break
                gone.append(self.visitors.pop(oldest))
            visitor = self.visitors.get(key)
            if visitor is None and keep and len(self.visitors) < self.max_sessions:
                visitor = self.visitors[key] = Visitor(self)
            if visitor is not None:
                self.visitors.move_to_end(key)
                visitor.seen = now
        for visitor_gone in gone:  # outside the lock: stopping a run waits for nobody, but takes its own lock
            visitor_gone.leave()
        if visitor is None and keep:
            raise Full(self.full())
        return visitor or self.newcomer


class Full(RuntimeError):
    """Every place is taken by a visitor seen recently: a newcomer cannot be kept."""
