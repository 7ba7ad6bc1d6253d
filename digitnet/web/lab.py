"""A visitor's network: the trained one it starts from (the server's model, shared by
every visitor, until the visitor trains their own), the hand edits made to it, and the
teaching steps taken, which can be undone.

Every network here is frozen (its parameters read-only): a change builds a new network
and swaps it in. So the server's model is shared safely, a visitor who changes nothing
costs nothing, and a prediction, which reads ``lab.net`` once, never sees half an edit
and never waits for a lock.
"""

import threading

import numpy as np

from ..figures import strongest_connections
from ..network import parameter_views

UNDO_BYTES = 1 << 20  # the teaching steps a visitor can undo hold at most this much of parameters
STRONGEST = 300  # connections drawn per layer: all 12,000 would be a grey fog


def frozen(net):
    """``net`` with its parameters made read-only (views included): it can be shared, never changed."""
    net.params.flags.writeable = False
    net.weights, net.biases = parameter_views(net.sizes, net.params)
    return net


class Trained:
    """A network as training left it, frozen, with what the page shows of it worked out once
    (its test accuracy and strongest connections), however many visitors ask at once."""

    def __init__(self, net, dataset=None, accuracy=None):
        self.net = frozen(net.copy())
        self.dataset = dataset
        self._accuracy, self._connections = accuracy, None
        self.lock = threading.Lock()

    @property
    def accuracy(self):
        with self.lock:
            if self._accuracy is None:
                self._accuracy = score(self.net, self.dataset)
            return self._accuracy

    @property
    def connections(self):
        with self.lock:
            if self._connections is None:
                self._connections = connections(self.net)
            return self._connections


class Lab:
    def __init__(self, trained, dataset=None):
        self.lock = threading.RLock()  # one change at a time; reading needs no lock
        self.dataset = dataset
        self.use(trained)

    # ---- the network, its trained values, and changes ----------------------------------

    def use(self, trained):
        """Make ``trained`` (a Trained) the visitor's network, with no edits and nothing to undo."""
        with self.lock:
            self.trained, self.net, self.edits, self.taught = trained, trained.net, {}, []
            self._scored = (None, None)  # (network, its test accuracy), for an edited network

    def reset(self):
        """Undo every hand edit: back to the trained weights and biases."""
        with self.lock:
            self.net, self.edits = self.trained.net, {}

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
            edits = {**self.edits, (layer, neuron): {"bias_shift": bias_shift, "weight_scale": weight_scale,
                                                     "off": off}}
            if edits[(layer, neuron)] == NO_EDIT:
                del edits[(layer, neuron)]
            self.net, self.edits = edited(self.trained.net, edits), edits

    def edit_of(self, layer, neuron):
        return self.edits.get((layer, neuron), NO_EDIT)

    def teach(self, net):
        """Make ``net`` (this network after a teaching step) the visitor's, its new trained
        values, keeping the one before for ``undo``; the oldest steps are forgotten when
        those kept pass UNDO_BYTES."""
        with self.lock:
            self.taught.append((self.trained, self.net, self.edits))
            while len(self.taught) > 1 and sum(t.net.params.nbytes for t, _, _ in self.taught) > UNDO_BYTES:
                del self.taught[0]
            self.trained = Trained(net, self.dataset)
            self.net, self.edits = self.trained.net, {}

    def undo(self):
        """Back to the network before the last teaching step (False if there is none)."""
        with self.lock:
            if not self.taught:
                return False
            self.trained, self.net, self.edits = self.taught.pop()
            return True

    # ---- what the page shows ----------------------------------------------------------------

    @property
    def accuracy(self):
        """The share of the 10,000 test images the network (as edited) gets right."""
        net = self.net
        if net is self.trained.net:
            return self.trained.accuracy
        scored, value = self._scored
        if scored is not net:
            value = score(net, self.dataset)
            self._scored = (net, value)
        return value

    def look(self, image):
        """Every layer's weighted sums z and activations a for one 784-pixel image in [0, 1]."""
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

    def describe(self):
        net, edits = self.net, self.edits
        return {
            **net.config,
            "test_accuracy": self.accuracy,
            "has_data": self.dataset is not None,
            "edits": [{"layer": l, "neuron": j, **e} for (l, j), e in sorted(edits.items())],
            "connections": self.trained.connections if net is self.trained.net else connections(net),
        }


NO_EDIT = {"bias_shift": 0.0, "weight_scale": 1.0, "off": False}


def edited(trained, edits):
    """A frozen copy of the ``trained`` network with the hand ``edits`` made to it."""
    net = trained.copy()
    for (layer, neuron), e in edits.items():
        net.weights[layer][neuron] *= e["weight_scale"]
        net.biases[layer][neuron] += e["bias_shift"]
        if e["off"]:
            net.weights[layer + 1][:, neuron] = 0
    return frozen(net)


def score(net, dataset):
    return None if dataset is None else net.score(dataset.test_images, dataset.test_labels)


def connections(net, per_layer=STRONGEST):
    """The strongest ``per_layer`` weights of each layer as [from, to, w]: the strongest
    show what the network uses."""
    out = []
    for W in net.weights:
        to, frm, w = strongest_connections(W, per_layer)
        strongest_first = np.argsort(-np.abs(w), kind="stable")
        out.append([[int(frm[k]), int(to[k]), round(float(w[k]), 4)] for k in strongest_first])
    return out


def rounded(x, digits=4):
    """A short JSON list: four decimals are more than the page can show."""
    return np.round(np.asarray(x, dtype=np.float64), digits).tolist()
