"""The experiments of chapter 2, as numbers: memorising shuffled labels, the cost surface
around the trained weights with the path training took down it, and sigmoid against ReLU.

Each trains or probes real networks, with the same fast training as ``digitnet train``
(``training.Trainer``), and returns plain lists and numbers, ready for JSON; plots.py
draws them. Each takes an optional ``progress(part, record)``, called after every
epoch of every run (or every row of a surface) with what was just measured, so that
a caller, such as a web page, can show the curves grow while the experiment runs.

Each experiment is declared once, in ``EXPERIMENTS``: its options, with their defaults
and the ranges the web page accepts (``Option``), how to run it on a network and a data
set, and how many times it reports its progress. ``digitnet show``'s flags, the web API's
request bodies and the page's starting values are made from that declaration.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .blas import one_blas_thread
from .errors import DigitnetError
from .functions import one_hot
from .network import Network, parameter_views
from .optimizers import OPTIMIZERS
from .recipes import RECIPES, TRAINING_OPTIONS
from .training import Trainer
from .validation import as_inputs, as_labels, check_seed


class Option(NamedTuple):
    """One option of an experiment: its default and what it means.

    ``page`` is the range (least, most) the web page accepts: narrower than what makes sense,
    so that one visitor cannot keep a class's cores busy for long (a number that need not be
    whole must be more than the least: an extent of 0 is no surface). ``page=True``: offered
    there with no range (on or off); None: not offered there. ``command_line=False``: not
    offered by ``digitnet show``. A tuple's default is a list of whole numbers, and ``length``
    how many of them the page accepts. ``least`` is the smallest value that means anything
    (1 for a count, 0 for a seed)."""

    default: object
    about: str
    page: tuple | bool | None = None
    command_line: bool = True
    least: int = 1
    choices: tuple = ()
    odd: bool = False
    length: tuple | None = None


def seed_option(what):
    """A random seed: NumPy takes any whole number from 0; the page, any of 32 bits."""
    return Option(0, f"random seed: {what}", page=(0, 2**32 - 1), least=0)


def recipe_of(net):
    """How the model was trained: (the training options, seed) from its header, where a
    model file has them, else its recipe's (the default recipe's for a model made in code)."""
    header = getattr(net, "header", None) or {}
    recipe = RECIPES.get(header.get("recipe"), RECIPES["default"])
    options = {key: recipe[key] for key in TRAINING_OPTIONS}
    given = header.get("options") or {}
    options.update({key: given[key] for key in TRAINING_OPTIONS if same_kind(given.get(key), options[key])})
    seed = given.get("seed")
    return options, seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else 0


def same_kind(value, default):
    """Whether a header's ``value`` can stand for the recipe's ``default``: a number for a number."""
    if isinstance(value, bool) or value is None:
        return False
    return isinstance(value, str) if isinstance(default, str) else isinstance(value, (int, float))


def sample(X, y, n, rng):
    """``n`` of the examples (X, y), a random choice without repeats."""
    if not 1 <= n <= len(X):
        raise DigitnetError(f"asked for {n:,} training images, but there are {len(X):,}")
    chosen = rng.permutation(len(X))[:n]
    return X[chosen], y[chosen]


def side_by_side(trainers, progress=None):
    """Train every network of ``trainers`` (name: Trainer) an epoch at a time, each in turn,
    so that their curves grow together; ``progress(name, record)`` after each epoch."""
    while not all(trainer.done for trainer in trainers.values()):
        for name, trainer in trainers.items():
            if not trainer.done:
                record = trainer.run_epoch()
                if progress:
                    progress(name, record)
    for trainer in trainers.values():
        trainer.finish()


def curves(trainer, test):
    """The cost and training accuracy of every epoch, and the test accuracy at the end."""
    return {"cost": trainer.history.column("cost"), "train_accuracy": trainer.history.column("train_accuracy"),
            "test_accuracy": trainer.net.score(*test)}


# ---- 1. memorising: real labels against shuffled ones -------------------------------------------


def shuffled(labels, rng):
    """The labels dealt out again at random: as many of each digit as before, but each
    image's label now says nothing about the image."""
    return rng.permutation(labels)


MEMORIZE = {
    "images": Option(1000, "training images to learn", page=(100, 5000)),
    "epochs": Option(300, "epochs of each of the two runs", page=(1, 300)),
}


def memorize(net, X, y, test, images=MEMORIZE["images"].default, epochs=MEMORIZE["epochs"].default, progress=None):
    """Zhang et al. 2017 and Arpit et al. 2017: train ``net``'s architecture with its recipe,
    from its own random start, on ``images`` training images (a random choice of X, y),
    once with their labels and once with the labels shuffled, the two runs an epoch each
    in turn. ``test`` is (images, labels) for the test accuracy at the end.

    Returns {"real": run, "shuffled": run}, each run {"cost": [...], "train_accuracy": [...]}
    per epoch and its "test_accuracy". The images are neither shifted nor distorted (each
    epoch would show new images, and there would be nothing to memorise), none is held out,
    and no noise is added.
    """
    options, seed = recipe_of(net)
    options.update(epochs=epochs, shift=0, augment=None, not_a_digit=0)
    rng = np.random.default_rng(seed)
    X, y = sample(X, y, images, rng)
    trainers = {name: Trainer(Network(net.sizes, net.activation.name, net.cost.name, seed, net.dtype,
                                      deskew=net.deskew), X, labels, seed=seed, **options)
                for name, labels in (("real", y), ("shuffled", shuffled(y, rng)))}
    side_by_side(trainers, progress)
    return {name: curves(trainer, test) for name, trainer in trainers.items()}


# ---- 2. the cost surface around the trained weights -----------------------------------------------


def filter_normalised(net, rng):
    """A random direction in parameter space, scaled as Li et al. 2018 do: each neuron's
    incoming weights by the length of that neuron's own weights, so that the surface
    looks the same however the weights happen to be scaled (a ReLU network computes the
    same with one layer's weights and biases doubled and the next layer's weights halved).
    The biases stay fixed (direction 0), as in Li et al.'s code (``--xignore biasbn``)."""
    direction = np.zeros(net.params.size)
    for D, W in zip(parameter_views(net.sizes, direction)[0], net.weights, strict=True):
        D[...] = rng.standard_normal(W.shape)
        D *= np.linalg.norm(W, axis=1, keepdims=True) / np.linalg.norm(D, axis=1, keepdims=True)
    return direction


def cost_along(net, x, Y, directions, points):
    """C at the parameters θ + α d₁ + β d₂ for each (α, β) of ``points``, θ being ``net``'s."""
    probe = net.copy()
    d1, d2 = directions
    costs = []
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():  # far out, a cost may overflow
        for alpha, beta in points:
            probe.params[...] = net.params + alpha * d1 + beta * d2
            costs.append(probe.cost.fn(probe.feedforward(x), Y))
    return costs


def surface(net, x, Y, directions, xs, ys, part, progress=None):
    """C on the grid xs × ys of the plane through θ spanned by ``directions``: one row per y."""
    rows = []
    for y in ys:
        rows.append(cost_along(net, x, Y, directions, [(alpha, y) for alpha in xs]))
        if progress:
            progress(part, {"row": len(rows) - 1, "y": float(y), "cost": rows[-1]})
    return {"x": list(map(float, xs)), "y": list(map(float, ys)), "cost": rows}


def around(values, steps, margin=0.2):
    """``steps`` numbers from a little below the smallest of ``values`` (and 0) to a little above the largest."""
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    pad = margin * (high - low) or 1.0
    return np.linspace(low - pad, high + pad, steps)


LANDSCAPE = {
    "images": Option(1000, "training images the cost is taken on", page=(100, 5000)),
    "steps": Option(25, "points along each side, odd", page=(3, 41), odd=True),
    "extent": Option(1.0, "how far the random slice reaches, in lengths of each neuron's weights", page=(0, 10)),
    # The command line's picture always has both slices; the page, following a training run, the path's alone.
    "random": Option(False, "the random slice too, also when the network has a path", page=True,
                     command_line=False),
    "seed": seed_option("the images and the random directions"),
}


def landscape(net, X, y, steps=LANDSCAPE["steps"].default, extent=LANDSCAPE["extent"].default,
              seed=LANDSCAPE["seed"].default, progress=None, random=True):
    """The cost C of ``net`` on the examples (X, y) around its trained parameters θ, on
    two 2-D slices through the space of its 13,002 (or however many) parameters:

    - "random": θ + α d₁ + β d₂ for α, β in [−extent, extent], ``steps`` each (odd, so
      that θ itself is the centre), d₁ and d₂ random and ``filter_normalised``: the shape
      of the minimum training found;
    - "path": the plane of the path training took (``net.path``, see trajectory.py), over
      the whole path, with the path in it ("epochs", "path_x", "path_y" and "path_cost", C
      at each point: the surface's height where each epoch's parameters, projected onto the
      plane, lie) and "share", how much of the path lies in that plane; and "epoch_cost", C
      at each epoch's own parameters, off the plane, as training measured it on
      "epoch_cost_images" of its training images (None for a model saved before that
      was measured). None for a model saved before paths were recorded.

    Each slice is {"x": [...], "y": [...], "cost": [row for each y]}; "cost" is C at θ.
    Far from θ some image may be given probability 0, and C is then infinite (inf).
    With ``random=False`` the random slice is left out (None) when there is a path to show:
    the path alone, in half the time, as a page following a training run wants it.
    """
    if steps < 3 or steps % 2 == 0:
        raise DigitnetError(f"the surface needs an odd number of steps, 3 or more, so that the model is its centre; "
                            f"got {steps}")
    if not extent > 0:
        raise DigitnetError(f"the extent of the surface must be positive, got {extent}")
    check_seed(seed)
    x, Y = net.inputs(X), one_hot(as_labels(y, len(X)), net.sizes[-1], net.dtype)
    plane, nowhere = net.path, np.zeros((2, net.params.size))  # no direction: θ itself
    result = {"parameters": net.params.size, "cost": cost_along(net, x, Y, nowhere, [(0, 0)])[0], "random": None,
              "path": None}
    if random or plane is None:
        rng = np.random.default_rng(seed)
        directions = [filter_normalised(net, rng) for _ in range(2)]
        grid = extent * np.arange(-(steps // 2), steps // 2 + 1) / (steps // 2)
        result["random"] = surface(net, x, Y, directions, grid, grid, "random", progress)
    if plane is not None:
        along, across = plane.coordinates.T
        result["path"] = {**surface(net, x, Y, plane.directions, around(along, steps), around(across, steps),
                                    "path", progress),
                          "epochs": list(plane.epochs), "path_x": along.tolist(), "path_y": across.tolist(),
                          "path_cost": cost_along(net, x, Y, plane.directions, plane.coordinates),
                          "epoch_cost": plane.costs, "epoch_cost_images": plane.cost_images, "share": plane.share}
    return result


# ---- 3. sigmoid against ReLU, deeper and deeper -------------------------------------------------------

SIGMOID_VS_RELU = {
    "depths": Option((2, 4, 6), "numbers of hidden layers to compare", page=(1, 8), length=(1, 3)),
    "width": Option(16, "neurons in each hidden layer", page=(1, 64)),
    "images": Option(20000, "training images", page=(100, 20000)),
    "epochs": Option(15, "epochs of each network's training", page=(1, 15)),
    # Plain gradient descent, as in the videos: Adam divides each weight's step by the size of its
    # recent gradients, which hides a gradient that has all but vanished (deep sigmoid networks then learn too).
    "optimizer": Option("sgd", "how each step follows the gradient: adam hides the vanishing gradient",
                        choices=tuple(OPTIMIZERS)),
    "lr": Option(0.1, "learning rate η; for adam try 0.005"),
    "batch_size": Option(10, "examples in each step of gradient descent"),
    "seed": seed_option("the images and the starting weights"),
}
TRAINING = ("epochs", "optimizer", "lr", "batch_size")  # the options above that every network trains with
ALIKE = dict(cost="cross-entropy", momentum=0.0, l2=0.0, schedule="constant", shift=0)  # ...and these, fixed


def layer_gradients(net, x, Y):
    """|∂C/∂b| for each layer, hidden layers first: the error δ that backpropagation brings
    back to the layer's neurons, averaged over the examples x. Plain gradient descent moves
    the layer's biases by η times it, and its weights by δ aᵀ, in proportion to it."""
    _, nabla_b, _ = net.backprop(x, Y)
    return [float(np.linalg.norm(g)) for g in nabla_b]


def sigmoid_vs_relu(X, y, test, inputs=784, outputs=10, depths=SIGMOID_VS_RELU["depths"].default,
                    width=SIGMOID_VS_RELU["width"].default, images=SIGMOID_VS_RELU["images"].default,
                    seed=SIGMOID_VS_RELU["seed"].default, progress=None, **training):
    """Networks of ``depths`` hidden layers of ``width`` neurons, each once with sigmoid and
    once with ReLU hidden layers, trained alike (``ALIKE``, and ``TRAINING``'s defaults updated
    by ``training``) on ``images`` training images from the same seed, an epoch each in turn;
    ``progress((activation, depth), record)`` after each epoch, the record with its "gradients".

    Returns a list of runs, one per network: "activation", "hidden_layers", and per
    epoch "cost" and "train_accuracy", the "test_accuracy" at the end, and "gradients":
    ``layer_gradients`` on 1,000 of the training images before training and after each
    epoch (its first number is the gradient reaching the first hidden layer).
    """
    settings = {**ALIKE, **{key: SIGMOID_VS_RELU[key].default for key in TRAINING}, **training}
    cost = settings.pop("cost")
    if not depths or min(depths) < 1 or width < 1:
        raise DigitnetError(f"need 1 or more hidden layers of 1 or more neurons, got {list(depths)} of {width}")
    rng = np.random.default_rng(check_seed(seed))
    X, y = sample(X, y, images, rng)
    x, Y = as_inputs(X[:1000], inputs), one_hot(y[:1000], outputs)
    trainers, gradients = {}, {}
    for depth in depths:
        for activation in ("sigmoid", "relu"):
            net = Network((inputs, *[width] * depth, outputs), activation, cost, seed)
            trainers[activation, depth] = Trainer(net, X, y, seed=seed, **settings)
            gradients[activation, depth] = [layer_gradients(net, x, Y)]

    def measured(name, record):
        gradients[name].append(layer_gradients(trainers[name].net, x, Y))
        if progress:
            progress(name, {**record, "gradients": gradients[name][-1]})

    side_by_side(trainers, measured)
    return [{"activation": activation, "hidden_layers": depth, **curves(trainer, test),
             "gradients": gradients[activation, depth]} for (activation, depth), trainer in trainers.items()]


# ---- each experiment, as the command line and the web page run it ----------------------------------


class Experiment:
    """An experiment as ``digitnet show`` and the web page offer it: what it shows (``about``),
    its ``options`` (name: Option), how to run it on a network and a data set (``compute``),
    and how it reports progress: ``count(net, **options)`` calls of ``progress``, each after
    one step of what it is ``doing`` (the unit in brackets)."""

    def __init__(self, about, options, compute: Callable, count: Callable, doing):
        self.about, self.options, self.compute, self.count, self.doing = about, options, compute, count, doing

    def settings(self, options):
        """``options`` with those not given at their defaults."""
        unknown = set(options) - set(self.options)
        if unknown:
            raise DigitnetError(f"no option {', '.join(sorted(unknown))}: the options are {', '.join(self.options)}")
        return {**{name: option.default for name, option in self.options.items()}, **options}

    def run(self, net, dataset, progress=None, **options):
        """Its numbers, for ``net`` on ``dataset``'s images (a data.Dataset)."""
        return self.compute(net, dataset, progress, **self.settings(options))

    def reports(self, net, **options):
        """How many times ``run`` will call ``progress``."""
        return self.count(net, **self.settings(options))


def test_set(dataset):
    return dataset.test_images, dataset.test_labels


def memorize_on(net, dataset, progress, images, epochs):
    return memorize(net, dataset.train_images, dataset.train_labels, test_set(dataset), images, epochs, progress)


def landscape_on(net, dataset, progress, images, steps, extent, random, seed):
    X, y = sample(dataset.train_images, dataset.train_labels, images, np.random.default_rng(check_seed(seed)))
    return landscape(net, X, y, steps, extent, seed, progress, random)


def sigmoid_vs_relu_on(net, dataset, progress, depths, width, images, seed, **training):
    return sigmoid_vs_relu(dataset.train_images, dataset.train_labels, test_set(dataset), net.sizes[0],
                           net.sizes[-1], depths, width, images, seed, progress, **training)


def slices(net, random):
    """The slices of the surface ``landscape`` works out: the path's plane if the network has a
    path, and the random one if asked for or there is no path."""
    return (random or net.path is None) + (net.path is not None)


EXPERIMENTS = {
    "memorize": Experiment(
        about="train the network's shape again, from its own random start, on a few images: with real and with "
              "shuffled labels",
        options=MEMORIZE, compute=memorize_on,
        count=lambda net, epochs, **_: 2 * epochs,  # an epoch of each of the two runs
        doing="training with real and shuffled labels (epochs)"),
    "landscape": Experiment(
        about="the cost around the trained weights, and the path training took down it",
        options=LANDSCAPE, compute=landscape_on,
        count=lambda net, steps, random, **_: slices(net, random) * steps,  # a row of each slice
        doing="the cost surfaces (rows)"),
    "sigmoid-vs-relu": Experiment(
        about="sigmoid against ReLU hidden layers, 2 to 6 deep: cost, and the gradient reaching layer 1",
        options=SIGMOID_VS_RELU, compute=sigmoid_vs_relu_on,
        count=lambda net, depths, epochs, **_: 2 * len(depths) * epochs,  # an epoch of each network, two a depth
        doing="training sigmoid and ReLU networks (epochs)"),
}
