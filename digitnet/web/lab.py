"""The state behind the web page: the live network, the hand edits made to it,
and a training run in a background thread.

Every change of the network happens under one lock, so a prediction never sees
half an edit. Training works on its own network and hands a copy to the page
after each epoch, so drawing stays responsive while an epoch runs.
"""

import threading

import numpy as np

from ..api import Network
from ..errors import DigitnetError
from ..figures import strongest_connections
from ..training import Trainer


class Lab:
    def __init__(self, net, dataset=None):
        self.lock = threading.RLock()
        self.dataset = dataset
        self.training = Training(self)
        self.use(net)

    # ---- the live network and its pristine copy ------------------------------

    def use(self, net):
        """Make ``net`` (a private copy of it) the page's network, with no edits."""
        with self.lock:
            self.net = net.copy()
            self.pristine = [p.copy() for p in self.net.weights + self.net.biases]
            self.edits = {}
            self._accuracy = None

    def reset(self):
        """Undo every hand edit: back to the trained weights and biases."""
        with self.lock:
            for p, saved in zip(self.net.weights + self.net.biases, self.pristine, strict=True):
                p[...] = saved
            self.edits = {}
            self._accuracy = None

    def check_neuron(self, layer, neuron):
        """Hidden layer ``layer`` (0 = first hidden layer) must have neuron ``neuron``."""
        hidden = self.net.sizes[1:-1]
        if layer >= len(hidden):
            raise LookupError(f"there is no hidden layer {layer}: the hidden layers are 0 to {len(hidden) - 1}")
        if neuron >= hidden[layer]:
            raise LookupError(f"hidden layer {layer} has neurons 0 to {hidden[layer] - 1}, not {neuron}")

    def edit(self, layer, neuron, bias_shift=0.0, weight_scale=1.0, off=False):
        """Set one hidden neuron's hand edit, always relative to its trained values:
        b = b₀ + shift, w = scale · w₀, and "off" cuts its outgoing weights, so
        whatever it computes no longer reaches the next layer."""
        with self.lock:
            self.check_neuron(layer, neuron)
            n = len(self.net.weights)
            W0, b0, W_next0 = self.pristine[layer], self.pristine[n + layer], self.pristine[layer + 1]
            W, b, W_next = self.net.weights[layer], self.net.biases[layer], self.net.weights[layer + 1]
            W[neuron] = weight_scale * W0[neuron]
            b[neuron] = b0[neuron] + bias_shift
            W_next[:, neuron] = 0 if off else W_next0[:, neuron]
            self.edits[(layer, neuron)] = {"bias_shift": bias_shift, "weight_scale": weight_scale, "off": off}
            if self.edits[(layer, neuron)] == {"bias_shift": 0.0, "weight_scale": 1.0, "off": False}:
                del self.edits[(layer, neuron)]
            self._accuracy = None

    def edit_of(self, layer, neuron):
        return self.edits.get((layer, neuron), {"bias_shift": 0.0, "weight_scale": 1.0, "off": False})

    # ---- what the page shows ----------------------------------------------------

    @property
    def accuracy(self):
        """The share of the 10,000 test images the network (as edited) gets right."""
        with self.lock:
            if self._accuracy is None and self.dataset is not None:
                self._accuracy = self.net.score(self.dataset.test_images, self.dataset.test_labels)
            return self._accuracy

    def look(self, image):
        """Every layer's weighted sums z and activations a for one 784-pixel image in [0, 1]."""
        with self.lock:
            net = self.net
            activations = net.forward(image.reshape(1, -1), all_layers=True)
            zs = [a @ W.T + b for a, W, b in zip(activations, net.weights, net.biases, strict=False)]
            output = activations[-1][0]
            total = output.sum()  # sigmoid outputs can all round to 0: then no digit is favoured
            probabilities = output / total if total > 0 else np.full_like(output, 1 / len(output))
            return {
                "input": rounded(activations[0][0]),
                "layers": [rounded(a[0]) for a in activations[1:]],
                "zs": [rounded(z[0]) for z in zs],
                "prediction": int(output.argmax()),
                "probabilities": rounded(probabilities),
            }

    def connections(self, per_layer=300):
        """The strongest ``per_layer`` weights of each layer as [from, to, w]: drawing
        all 12,000 would be a grey fog; the strongest show what the network uses."""
        with self.lock:
            out = []
            for W in self.net.weights:
                to, frm, w = strongest_connections(W, per_layer)
                strongest_first = np.argsort(-np.abs(w), kind="stable")
                out.append([[int(frm[k]), int(to[k]), round(float(w[k]), 4)] for k in strongest_first])
            return out

    def describe(self):
        with self.lock:
            return {
                **self.net.config,
                "test_accuracy": self.accuracy,
                "has_data": self.dataset is not None,
                "edits": [{"layer": l, "neuron": j, **e} for (l, j), e in sorted(self.edits.items())],
                "connections": self.connections(),
            }


def rounded(x, digits=4):
    """A short JSON list: four decimals are more than the page can show."""
    return np.round(np.asarray(x, dtype=np.float64), digits).tolist()


class Training:
    """One training run at a time, an epoch at a time: start, pause, step, resume.

    ``version`` goes up whenever anything changes, so the event stream knows
    when to send the page a new status.
    """

    def __init__(self, lab):
        self.lab = lab
        self.changed = threading.Condition()
        self.trainer = None
        self.state, self.message, self.history, self.version = "idle", "", [], 0
        self.steps = 0  # epochs still to run before pausing, when stepping
        self.busy = False  # an epoch is running
        self.thread = self.retired = None  # the current run's thread, and a forgotten one still in an epoch
        self.starting = threading.Lock()  # one start at a time

    def status(self):
        with self.changed:
            epochs = self.trainer.options["epochs"] if self.trainer else 0
            return {"state": self.state, "epoch": len(self.history), "epochs": epochs,
                    "busy": self.busy, "message": self.message, "history": list(self.history),
                    "version": self.version}

    def _set(self, state, message=""):
        # The caller holds self.changed.
        self.state, self.message = state, message
        self.version += 1
        self.changed.notify_all()

    def start(self, sizes, activation, cost, images, paused=False, seed=0, **options):
        """Train a new network of ``sizes`` on ``images`` training images chosen at random.

        A run still going is forgotten; its thread ends after the epoch it is in.
        One such thread may still be finishing while the new run starts, but not
        two: however often a client asks to start, epochs never pile up.
        """
        dataset = self.lab.dataset
        if dataset is None:
            raise DigitnetError("no MNIST data: start the server with --data DIR or DIGITNET_DATA to train")
        with self.starting:
            if alive(self.retired):
                self.retired.join(timeout=0.5)
            if alive(self.retired) and self.busy:
                raise Busy("the last two training runs are still finishing their epochs: try again in a moment")
            with self.changed:
                if self.state in ("running", "paused"):
                    self._forget()
            if alive(self.thread):
                self.thread.join(timeout=0.5)  # a paused run's thread ends at once; a busy one ends its epoch
            if alive(self.thread):
                self.retired = self.thread
            net = Network(sizes, activation, cost, seed=seed)
            subset = np.random.default_rng(seed).permutation(len(dataset.train_images))[:images]
            trainer = Trainer(net, dataset.train_images[subset], dataset.train_labels[subset], seed=seed,
                              test=(dataset.test_images, dataset.test_labels), **options)
            with self.changed:
                self.trainer, self.history, self.steps, self.busy = trainer, [], 0, False
                self._set("paused" if paused else "running")
            self.thread = threading.Thread(target=self._loop, args=(trainer,), name="digitnet-training",
                                           daemon=True)
            self.thread.start()

    def _loop(self, trainer):
        while True:
            with self.changed:
                while self.trainer is trainer and self.state == "paused" and not self.steps:
                    self.changed.wait()
                if self.trainer is not trainer or self.state not in ("running", "paused"):
                    return
                self.steps = max(self.steps - 1, 0)
                self.busy = True
            try:
                record = trainer.run_epoch()
            except (DigitnetError, FloatingPointError, MemoryError) as e:
                with self.changed:
                    if self.trainer is trainer:
                        self.busy = False
                        self._set("error", str(e))
                return
            with self.changed:
                if self.trainer is not trainer:
                    return  # a newer run replaced this one while the epoch ran
                self.busy = False
                trainer.net.history = trainer.history
                self.lab.use(trainer.net)
                self.history.append({k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()})
                if trainer.done:
                    trainer.finish()
                    self.lab.use(trainer.net)
                    self._set("done")
                    return
                self._set(self.state)  # a new epoch to show

    def pause(self):
        """Stop after the epoch that is running."""
        with self.changed:
            if self.state != "running":
                raise DigitnetError(f"training is {self.state}, not running")
            self._set("paused")

    def resume(self):
        """Carry on training, epoch after epoch."""
        with self.changed:
            if self.state != "paused":
                raise DigitnetError(f"training is {self.state}, not paused")
            self._set("running")

    def step(self):
        """Run one more epoch, then stay paused."""
        with self.changed:
            if self.state != "paused":
                raise DigitnetError(f"training is {self.state}: pause it to go one epoch at a time")
            self.steps += 1
            self._set("paused", "one epoch")

    def stop(self):
        """Forget the current run; an epoch in progress finishes but is not used."""
        with self.changed:
            if self.state not in ("running", "paused"):
                raise DigitnetError(f"training is {self.state}, not running or paused")
            self._forget()

    def _forget(self):
        # The caller holds self.changed. The run's thread sees it is no longer current and ends.
        self.trainer, self.steps, self.busy = None, 0, False
        self._set("idle", "stopped")


def alive(thread):
    return thread is not None and thread.is_alive()


class Busy(RuntimeError):
    """Training cannot start yet: earlier runs' threads are still in their epochs."""
