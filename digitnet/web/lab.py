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

from .. import lesson
from ..blas import one_blas_thread
from ..figures import neuron_pattern, strongest_connections
from ..network import parameter_views, probabilities
from ..strictjson import strict

UNDO_BYTES = 1 << 20  # the teaching steps a visitor can undo hold at most this much of parameters
STRONGEST = 300  # connections drawn per layer: all 12,000 would be a grey fog
# No teaching step may take a weight or bias beyond ±MAX_PARAMETER. Below it, every neuron's
# z stays a finite float32 for any image in networks the size the page trains (784 pixels of
# at most 1, up to 4 hidden layers of 128), so the page never meets NaN; trained networks'
# weights are a few units at most.
MAX_PARAMETER = 1e4


def frozen(net):
    """``net`` with its parameters made read-only (views included): it can be shared, never changed."""
    net.params.flags.writeable = False
    net.weights, net.biases = parameter_views(net.sizes, net.params)
    return net


class Trained:
    """A network as training (or teaching) left it, frozen, with what the page shows of it
    worked out once (its test accuracy and average cost, its strongest connections), however
    many visitors ask at once. ``accuracy`` or ``scores`` (``lesson.accuracy_and_cost``'s) if known already."""

    def __init__(self, net, dataset=None, accuracy=None, scores=None):
        self.net = frozen(net.copy())
        self.dataset = dataset
        self._accuracy, self._scores, self._connections = accuracy, scores, None
        self.lock = threading.Lock()

    @property
    def scores(self):
        with self.lock:
            if self._scores is None:
                self._scores = on_test_images(self.net, self.dataset)
            return self._scores

    @property
    def accuracy(self):
        return self.scores["accuracy"] if self._accuracy is None else self._accuracy

    @property
    def connections(self):
        with self.lock:
            if self._connections is None:
                self._connections = strongest(self.net)
            return listed(self._connections)


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
            self.untaught = None  # (trained, net, edits) before the first teaching step
            self._scored = (None, None)  # (network, its test scores), for an edited network

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

    def neuron(self, layer, neuron):
        """One hidden neuron as the page shows it: the pattern of pixels that drives it (for the
        first layer its incoming weights), its bias now and as trained, its hand edit, and the
        test accuracy of the network as edited."""
        net, trained = self.net, self.trained.net  # read once: another request may change them
        self.check_neuron(layer, neuron)
        pattern = np.asarray(neuron_pattern(net, layer, neuron), dtype=np.float64)
        return {"layer": layer, "neuron": neuron, "pattern": rounded(pattern.ravel(), 5),
                "bias": float(net.biases[layer][neuron]), "trained_bias": float(trained.biases[layer][neuron]),
                **self.edit_of(layer, neuron), "test_accuracy": self.accuracy}

    def teach(self, net, scores=None):
        """Make ``net`` (this network after a teaching step) the visitor's, its new trained
        values, keeping the one before for ``undo``; the oldest steps are forgotten when
        those kept pass UNDO_BYTES. ``scores``: its test scores, if known."""
        with self.lock:
            here = (self.trained, self.net, self.edits)
            self.untaught = self.untaught or here
            self.taught.append(here)
            while len(self.taught) > 1 and sum(t.net.params.nbytes for t, _, _ in self.taught) > UNDO_BYTES:
                del self.taught[0]
            self.trained = Trained(net, self.dataset, scores=scores)
            self.trained.net.path = None  # taught off the path its training took: that path is no longer its own
            self.net, self.edits = self.trained.net, {}

    def undo(self):
        """Back to the network before the last teaching step (False if there is none)."""
        with self.lock:
            if not self.taught:
                return False
            self.trained, self.net, self.edits = self.taught.pop()
            if self.untaught and self.untaught[1] is self.net:
                self.untaught = None  # back where teaching began
            return True

    def start_over(self):
        """Back to the network as it was before the first teaching step, whatever the steps
        since (False if it has not been taught)."""
        with self.lock:
            if self.untaught is None:
                return False
            (self.trained, self.net, self.edits), self.taught, self.untaught = self.untaught, [], None
            return True

    # ---- teaching: steps downhill on chosen examples --------------------------------------------

    def teach_one(self, x, label, eta=None):
        """One step of gradient descent on the single example (x, label): ``lesson.teach``
        on a copy of the network, which then becomes the visitor's (undoably); η is the
        lesson's TEACHING_RATE for the network's cost unless given. Returns the step as the
        page shows it: before and after, the nudges, the first layer's tiles."""
        # One change at a time: a second step starts from where this one ends. One BLAS thread:
        # the products of one example are tiny, and waking OpenBLAS's other threads on a busy
        # machine can take longer than the whole step.
        with self.lock, one_blas_thread():
            taught = self.net.copy()
            eta = eta or lesson.TEACHING_RATE[taught.cost.name]
            step = lesson.teach(taught, x, label, eta)
            return {**self._keep(taught, step["before"], step["after"]), **nudges(step), "lr": eta}

    def teach_many(self, images, labels, eta=None):
        """One step downhill on each example in turn (``lesson.teach_many``), kept as one
        teaching step: the cost of each example just before its step, and the test scores."""
        with self.lock, one_blas_thread():
            taught = self.net.copy()
            eta = eta or lesson.TEACHING_RATE[taught.cost.name]
            costs = lesson.teach_many(taught, images, labels, eta)
            return {**self._keep(taught), "costs": strict(costs.tolist()), "lr": eta}

    def _keep(self, taught, before=None, after=None):
        # The caller holds the lock: make ``taught`` the visitor's network, if its numbers stay numbers.
        largest = float(np.abs(taught.params).max())
        if not largest <= MAX_PARAMETER:
            raise TooFar(f"that step would take a weight to {largest:.3g}, past ±{MAX_PARAMETER:g}: "
                         "the network would stop computing numbers, so it was not taken; try a smaller learning rate")
        was, now = self.scores, on_test_images(taught, self.dataset)
        self.teach(taught, now)
        return {"before": side(before, was), "after": side(after, now), "undo_steps": len(self.taught)}

    # ---- what the page shows ----------------------------------------------------------------

    @property
    def scores(self):
        """The share of the 10,000 test images the network (as edited) gets right, and its
        average cost on them (``lesson.accuracy_and_cost``)."""
        net = self.net
        if net is self.trained.net:
            return self.trained.scores
        scored, value = self._scored
        if scored is not net:
            value = on_test_images(net, self.dataset)
            self._scored = (net, value)
        return value

    @property
    def accuracy(self):
        net = self.net
        return self.trained.accuracy if net is self.trained.net else self.scores["accuracy"]

    def look(self, image, label=None):
        """Every layer's weighted sums z and activations a for one 784-pixel image in [0, 1];
        with a ``label``, the cost of the image as that digit, laid out as in the video."""
        net = self.net
        activations = net.forward(image.reshape(1, -1), all_layers=True)
        zs = [a @ W.T + b for a, W, b in zip(activations, net.weights, net.biases, strict=False)]
        output = activations[-1][0]
        return {
            "input": rounded(activations[0][0]),
            "layers": [rounded(a[0]) for a in activations[1:]],
            "zs": [rounded(z[0]) for z in zs],
            "prediction": int(output.argmax()),
            "answer": net.output_names[int(output.argmax())],
            "probabilities": rounded(probabilities(output)),
            "cost_of_one": None if label is None else laid_out(lesson.cost_of_one(net, image, label)),
        }

    def example(self, image, label=None):
        """``look`` at an example the server chose (a test image, noise, a letter, a dream), with the
        image itself: the page looks at that again later, not at the input layer's deskewed copy."""
        return {**self.look(image, label), "image": rounded(np.ravel(image))}

    def describe(self):
        net, edits = self.net, self.edits
        return {
            **net.config,
            "outputs": net.output_names,
            "test_accuracy": self.accuracy,
            "average_cost": for_the_page(self.scores)["average_cost"],
            "teaching_rate": lesson.TEACHING_RATE[net.cost.name],
            "undo_steps": len(self.taught),
            "taught": self.untaught is not None,
            "has_data": self.dataset is not None,
            "test_images": 0 if self.dataset is None else len(self.dataset.test_labels),
            "edits": [{"layer": l, "neuron": j, **e} for (l, j), e in sorted(edits.items())],
            "connections": self.trained.connections if net is self.trained.net else connections(net),
        }


NO_EDIT = {"bias_shift": 0.0, "weight_scale": 1.0, "off": False}


def edited(trained, edits):
    """A frozen copy of the ``trained`` network with the hand ``edits`` made to it (and so
    with no path: training did not take it there)."""
    net = trained.copy()
    net.path = None
    for (layer, neuron), e in edits.items():
        net.weights[layer][neuron] *= e["weight_scale"]
        net.biases[layer][neuron] += e["bias_shift"]
        if e["off"]:
            net.weights[layer + 1][:, neuron] = 0
    return frozen(net)


def on_test_images(net, dataset):
    """``lesson.accuracy_and_cost`` on the test images: {"accuracy", "average_cost"}, None without
    data, or for a network that cannot read them (other input sizes, fewer outputs than digits)."""
    fits = dataset is not None and net.sizes[0] == dataset.test_images[0].size and \
        net.sizes[-1] > int(dataset.test_labels.max())
    if not fits:
        return {"accuracy": None, "average_cost": None}
    if net.deskew:
        return lesson.accuracy_and_cost(net, dataset.test_images, dataset.test_labels,
                                        seen=deskewed_test_images(net, dataset))
    return lesson.accuracy_and_cost(net, dataset.test_images, dataset.test_labels)


DESKEWED = {}  # (the test images' id, dtype): (those images, as a deskewing network's input layer takes them)


def deskewed_test_images(net, dataset):
    """The test images as every deskewing network of ``net``'s dtype takes them: deskewed once for
    the server (a third of a second), not again at every edit and teaching step of every visitor."""
    key = (id(dataset.test_images), net.dtype)
    images, seen = DESKEWED.get(key, (None, None))
    if images is not dataset.test_images:  # the id of an image set gone and another since
        seen = net.inputs(dataset.test_images)
        DESKEWED[key] = (dataset.test_images, seen)
    return seen


def side(cost, scores):
    """Before or after a teaching step: this example's cost laid out (for a step on one example)
    and the test scores."""
    return {**(laid_out(cost) if cost else {}), **for_the_page(scores)}


def for_the_page(scores):
    """``on_test_images``'s scores as the API names them."""
    return {"test_accuracy": scores["accuracy"], "average_cost": strict(scores["average_cost"])}


def laid_out(cost):
    """``lesson.cost_of_one``'s numbers for JSON, with its answer: an infinite cost (the right
    digit given probability 0) becomes None."""
    outputs = cost["outputs"]
    return strict({**cost, "probabilities": probabilities(outputs), "prediction": int(outputs.argmax())})


def nudges(step):
    """What a teaching step (``lesson.teach``) moved: the 20 largest nudges, the first layer's
    −∂C/∂W as one tile per neuron (scaled to ±1, with the scale), each layer's share of the
    gradient's size, and that size, |∇C|."""
    first = step["first_layer"]
    scale = float(np.abs(first).max())
    return {"nudges": step["nudges"], "first_layer": {"scale": scale, "tiles": rounded(first / (scale or 1), 3)},
            "layer_shares": rounded(step["layer_shares"]), "gradient_size": float(np.linalg.norm(step["gradient"]))}


class TooFar(ValueError):
    """A teaching step that would take the weights past MAX_PARAMETER: not taken."""


def strongest(net, per_layer=STRONGEST):
    """The strongest ``per_layer`` weights of each layer, strongest first, as an array of rows
    (from, to, w): the strongest show what the network uses. Kept as arrays for a visitor's
    network, they take a tenth of the memory of the lists the page is sent."""
    out = []
    for W in net.weights:
        to, frm, w = strongest_connections(W, per_layer)
        first = np.argsort(-np.abs(w), kind="stable")
        out.append(np.column_stack([frm[first], to[first], np.round(w[first].astype(np.float64), 4)]))
    return out


def listed(layers):
    """``strongest``'s arrays as the page's lists of [from, to, w]."""
    return [[[int(i), int(j), w] for i, j, w in rows.tolist()] for rows in layers]


def connections(net):
    return listed(strongest(net))


def rounded(x, digits=4):
    """A short JSON list: four decimals are more than the page can show."""
    return np.round(np.asarray(x, dtype=np.float64), digits).tolist()
