"""The experiments of chapter 2 on the web page, run live for a visitor: memorising shuffled
labels, the cost surface with the path training took, sigmoid against ReLU.

A visitor has one ``Experiment``, running one experiment at a time (a new one replaces the
last) in a seat of the same queue as training (runs.Queue), so that however many visitors
ask, at most ``max_training`` runs of either kind use the cores. What it measures is kept
as it comes, epoch by epoch or row by row, for the page to draw growing; the page hears of
it through an event stream that sends what is new at most ten times a second, however often
the experiment reports. An experiment stops when its visitor stops it, starts another,
leaves (the session ends), or stops watching: no page listening and no one asking
for ``UNWATCHED`` seconds.
"""

import threading
import time
from functools import partial

from ..errors import DigitnetError
from ..experiments import EXPERIMENTS
from ..strictjson import strict

UNWATCHED = 10  # seconds without a page listening or anyone asking: the experiment stops


def part_name(part):
    """A part of an experiment as a JSON key: "real", "path", "sigmoid 4"."""
    return part if isinstance(part, str) else " ".join(map(str, part))


class Stopped(Exception):
    """Raised in the progress callback of an experiment that is no longer wanted."""


class Run:
    """One experiment asked for, on the visitor's network as it was then."""

    def __init__(self, kind, options, net, dataset):
        self.kind, self.options, self.net, self.dataset = kind, options, net, dataset
        self.total, self.done = EXPERIMENTS[kind].reports(net, **options), 0
        self.parts, self.result = {}, None  # part: {measurement: [one value per report]}; the end result
        self.going = True  # until done, stopped or failed


class Experiment:
    """One visitor's experiment. ``version`` goes up with every measurement (and with the
    queue's moves), so the event stream knows when there is something new to send."""

    def __init__(self, lab, queue):
        self.lab, self.queue = lab, queue
        self.lock = threading.Lock()
        self.run = None
        self.state, self.message, self.version = "idle", "", 0
        self.watchers, self.heard = 0, time.monotonic()  # pages listening; when last asked about

    def status(self):
        self.heard = time.monotonic()
        with self.lock:
            run = self.run
            return strict({
                "kind": run and run.kind, "state": self.state, "message": self.message,
                "version": self.version + self.queue.moves, "place": self.queue.place(self),
                "done": run.done if run else 0, "total": run.total if run else 0,
                "options": run.options if run else {}, "parts": run.parts if run else {},
                "result": run and run.result})

    def going(self):
        with self.lock:
            return self.state in ("queued", "running")

    def watch(self, change):
        """A page starts (+1) or stops (−1) listening to the event stream."""
        with self.lock:
            self.watchers += change
            self.heard = time.monotonic()

    def _set(self, state, message=""):
        # The caller holds self.lock.
        self.state, self.message = state, message
        self.version += 1

    # ---- what the visitor asks ---------------------------------------------------------------

    def start(self, kind, options):
        """Run experiment ``kind`` with ``options`` on the visitor's network as it is now,
        in the next free seat of the queue; one still running is stopped."""
        if self.lab.dataset is None:
            raise DigitnetError("no MNIST data: start the server with --data DIR or DIGITNET_DATA")
        run = Run(kind, options, self.lab.net, self.lab.dataset)
        with self.lock:
            if self.run and self.run.going:
                self.run.going = False
            self.queue.leave(self)
            self.run, self.heard = run, time.monotonic()
            self._set("running" if self.queue.join(self, run) else "queued")

    def stop(self):
        """Stop the experiment; what it measured so far stays to be seen."""
        with self.lock:
            if not (self.run and self.run.going):
                raise DigitnetError(f"no experiment is running: it is {self.state}")
            self._end(self.run, "stopped", "stopped")
        self.queue.leave(self)

    def leave(self):
        """The visitor has gone: stop any experiment, quietly."""
        with self.lock:
            if self.run and self.run.going:
                self._end(self.run, "stopped", "the visitor left")
        self.queue.leave(self)

    def _end(self, run, state, message):
        # The caller holds self.lock.
        run.going = False
        self._set(state, message)

    # ---- in a seat of the queue ----------------------------------------------------------------

    def take_seat(self, run):
        """Run ``run`` (in a thread of the queue) to its end, unless it is stopped first."""
        with self.lock:
            if self.run is not run or not run.going:
                return  # replaced or stopped before its turn came
            self._set("running")
        try:
            result = EXPERIMENTS[run.kind].run(run.net, run.dataset, partial(self._measured, run), **run.options)
        except Stopped:
            return
        except Exception as e:  # whatever went wrong, say it, and give the seat back to the queue
            with self.lock:
                if run.going:
                    self._end(run, "error", str(e) or type(e).__name__)
            return
        with self.lock:
            if run.going:
                run.result = result
                self._end(run, "done", "")

    def seat_given_back(self, run):
        """Nothing to tell: an experiment's status says nothing of its seat, only whether it is running."""

    def _measured(self, run, part, record):
        """The experiment's progress callback: keep what it measured, or stop it."""
        with self.lock:
            if not run.going:
                raise Stopped
            if self.watchers == 0 and time.monotonic() - self.heard > UNWATCHED:
                self._end(run, "stopped", "stopped: nobody was watching")
                raise Stopped
            columns = run.parts.setdefault(part_name(part), {})
            for key, value in record.items():
                if key != "seconds":  # how long an epoch took says nothing about the experiment
                    columns.setdefault(key, []).append(value)
            run.done += 1
            self.version += 1
