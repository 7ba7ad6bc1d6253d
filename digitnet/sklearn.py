"""digitnet's network as a scikit-learn classifier: ``NetworkClassifier`` goes into a Pipeline,
GridSearchCV or cross_val_score as MLPClassifier does, and trains as ``digitnet train`` does.

Needs scikit-learn: pip install 'digitnet[sklearn]'.
"""

from numbers import Integral

import numpy as np

from .api import Network
from .errors import DigitnetError, missing
from .recipes import RECIPES
from .training import Trainer, epoch_line
from .validation import check_choice

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data
except ModuleNotFoundError as e:
    raise missing(e, "sklearn", "scikit-learn", "sklearn") from None

PIXELS = 784  # 28×28 images: the recipes' shift and deskewing apply to these
NETWORK = ("activation", "cost", "deskew")  # the settings that make the network, not its training


class NetworkClassifier(ClassifierMixin, BaseEstimator):
    """A network of layers a' = σ(W a + b), input → hidden layers → one output per class,
    trained by digitnet's stochastic gradient descent (compiled, as ``digitnet train``).

    Parameters named as MLPClassifier's mean what they mean there. Those left at None take
    the value of ``recipe`` (``digitnet.recipes.RECIPES``: "default" is ReLU, softmax with
    cross-entropy, Adam η = 0.005 with a cosine schedule, batches of 128, 25 epochs, images
    moved by up to a pixel, and deskewed; "video" the videos' sigmoid network and plain SGD).

    hidden_layer_sizes : tuple of int, default (16, 16)
    activation : "sigmoid", "relu" or "tanh", the hidden layers' σ
    cost : "cross-entropy" (softmax outputs) or "quadratic" (sigmoid outputs)
    optimizer : "adam" or "sgd" (MLPClassifier's ``solver``)
    alpha : L2 penalty λ: each step adds λ w to each weight's gradient (the mean over the batch)
    batch_size, learning_rate_init (η), momentum (for "sgd")
    max_iter : epochs
    schedule : "constant" or "cosine", η over the epochs
    shift : move each training image by up to this many pixels, at random, every epoch (images
        of a square number of pixels only); None: the recipe's for 28×28 images (784 features), else 0
    deskew : shear each image upright and centre it on its ink (digitnet.deskew) before the network
        sees it, in fit and ever after (square images only); None: the recipe's for 28×28 images, else False
    shuffle : take the examples in a new random order each epoch
    random_state : int (the same int gives the same network as ``digitnet train --seed``), a
        RandomState, or None
    early_stopping : hold out ``validation_fraction`` of the examples, stop when ``n_iter_no_change``
        epochs in a row have not improved their accuracy by more than ``tol`` (None: never stop
        early), and keep the parameters of the best epoch; without it, all ``max_iter`` epochs run
        on all the examples. ``early_stopping=True, validation_fraction=1/12, n_iter_no_change=None``
        on MNIST's 60,000 is ``digitnet train``'s 5,000 held out and best epoch kept
    warm_start : ``fit`` carries on from the network the last fit left
    verbose : print each epoch as ``digitnet train`` does

    Inputs: rows of numbers (n × features), or images (n × 28 × 28, taken as rows of 784
    pixels). uint8 pixels, and numbers all in [0, 1], go to the network as they are, as
    ``digitnet train`` gives it MNIST; any other numbers are scaled to [0, 1], each feature by
    the least and greatest value it has in ``fit`` (``data_min_``, ``data_range_``). Training
    sees each value to 1/255 (digitnet keeps training examples as bytes).

    Attributes: ``classes_`` (the labels, any kind: output neuron i means classes_[i]),
    ``n_features_in_``, ``net_`` (the trained ``digitnet.Network``: ``net_.save(path)`` writes
    a model for ``digitnet show``, ``serve`` and ``export``), ``loss_curve_`` (the cost of each
    epoch), ``n_iter_``, ``validation_scores_`` and ``best_validation_score_`` (with early stopping).
    """

    def __init__(self, hidden_layer_sizes=(16, 16), activation=None, *, cost=None, optimizer=None, alpha=None,
                 batch_size=None, learning_rate_init=None, max_iter=None, shuffle=True, random_state=None,
                 momentum=None, early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, verbose=False, schedule=None, shift=None, deskew=None, recipe="default"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.cost = cost
        self.optimizer = optimizer
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.momentum = momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.schedule = schedule
        self.shift = shift
        self.deskew = deskew
        self.recipe = recipe

    # ---- learning ------------------------------------------------------------------------------

    def fit(self, X, y):
        """Learn from the examples X (n × features) and their labels y; with ``warm_start``, carry
        on from the network the last fit left."""
        carry_on = self.warm_start and hasattr(self, "net_")
        X, y = validate_data(self, flat(X), y, reset=not carry_on)
        check_classification_targets(y)
        if not carry_on:
            self._start(X, np.unique(y))
        validation = self._validation(len(X))
        trainer = self._trainer(X, y, self._seed(), validation=validation)
        self._run(trainer)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch over the examples X and labels y, carrying on from the last call (the
        network and its optimiser's memory). The first call needs ``classes``: all the labels
        there will be."""
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(self, flat(X), y, reset=first)
        check_classification_targets(y)
        if first:
            self._start(X, np.unique(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes)} differ from those of the first call, {self.classes_}")
        seed = int(self._rng.integers(2 ** 31))  # each call its own order of the examples
        self._run(self._trainer(X, y, seed, epochs=1, state=self._optimizer_state))
        return self

    def _start(self, X, classes):
        """A new network for X's features and the classes, and the scaling of X's values."""
        self.classes_ = classes
        self._learn_scaling(X)
        sizes = (X.shape[1], *np.atleast_1d(self.hidden_layer_sizes), len(classes))
        settings = self._settings(X.shape[1])
        self.net_ = Network(sizes, settings["activation"], settings["cost"], seed=self._seed(),
                            deskew=settings["deskew"])
        self.loss_curve_, self.n_iter_ = [], 0
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = None
        self._rng, self._optimizer_state = np.random.default_rng(self._seed()), None  # for partial_fit

    def _trainer(self, X, y, seed, epochs=None, validation=0, state=None):
        """A Trainer of ``net_`` on (X, y), for ``epochs`` (else max_iter), its optimiser carrying on
        from ``state`` if given."""
        if not np.isin(y, self.classes_).all():
            raise ValueError(f"y has labels that are not in classes_ {self.classes_}: "
                             f"{np.setdiff1d(y, self.classes_)[:5]}")
        options = {k: v for k, v in self._settings(X.shape[1]).items() if k not in NETWORK}
        if epochs is not None:
            options["epochs"] = epochs
        trainer = Trainer(self.net_, self._inputs(X), np.searchsorted(self.classes_, y), validation=validation,
                          seed=seed, shuffle=bool(self.shuffle), **options)
        if state is not None:
            trainer.optimizer.restore(*state)
        return trainer

    def _run(self, trainer):
        """Train, epoch by epoch, stopping early if asked; keep what the fitted attributes need."""
        waited = 0
        while not trainer.done:
            record = trainer.run_epoch()
            if self.verbose:
                print(epoch_line(record, trainer.options["epochs"]), flush=True)
            self.loss_curve_.append(record["cost"])
            self.n_iter_ += 1
            if trainer.validation is not None:  # early stopping (never in partial_fit, as in MLPClassifier)
                score, best = record["validation_accuracy"], self.best_validation_score_
                self.validation_scores_ = [*(self.validation_scores_ or []), score]
                waited = 0 if best is None or score > best + self.tol else waited + 1
                self.best_validation_score_ = score if best is None else max(best, score)
                if self.n_iter_no_change is not None and waited >= self.n_iter_no_change:
                    break
        trainer.finish()
        self._optimizer_state = trainer.optimizer.state()

    # ---- using it ------------------------------------------------------------------------------

    def predict_proba(self, X):
        """The probability of each class (columns in the order of ``classes_``) for each example."""
        check_is_fitted(self)
        X = validate_data(self, flat(X), reset=False)
        return self._probabilities(X)

    def predict(self, X):
        """The label of each example: the class of the brightest output neuron."""
        check_is_fitted(self)
        X = validate_data(self, flat(X), reset=False)
        return self.classes_[self._probabilities(X).argmax(axis=1)]

    def _probabilities(self, X):
        """The fitted network's outputs scaled to sum to 1, worked out in float64: in a float32
        product the last bits of a row's result depend on where the row falls in the matrix
        (BLAS treats the rows at the edges of its blocks apart), and an example's answer must
        not depend on the examples beside it."""
        net = self.net_
        exact = Network(net.sizes, net.activation.name, net.cost.name, dtype=np.float64, deskew=net.deskew)
        exact.params[...] = net.params
        return exact.predict_proba(self._inputs(X))

    # ---- settings and scaling ------------------------------------------------------------------

    def _settings(self, n_features):
        """The recipe's options, overridden by the parameters given (those not None)."""
        recipe = RECIPES[check_choice("recipe", self.recipe, RECIPES)]
        given = {"activation": self.activation, "cost": self.cost, "optimizer": self.optimizer,
                 "lr": self.learning_rate_init, "momentum": self.momentum, "l2": self.alpha,
                 "batch_size": self.batch_size, "epochs": self.max_iter, "schedule": self.schedule, "shift": self.shift,
                 "deskew": self.deskew}
        # the layers are the estimator's own (hidden_layer_sizes); the recipe's distortions stay as they are
        settings = {key: recipe[key] if given.get(key) is None else given[key] for key in recipe if key != "layers"}
        if n_features != PIXELS:  # the recipes move, distort and deskew 28×28 images: other data is not an image
            settings["augment"] = "none"
            if self.shift is None:
                settings["shift"] = 0
            if self.deskew is None:
                settings["deskew"] = False
        return settings

    def _seed(self):
        """random_state as digitnet's seed: an int is the seed itself, as ``digitnet train --seed``."""
        if self.random_state is None or isinstance(self.random_state, Integral):
            return self.random_state
        return int(check_random_state(self.random_state).randint(2 ** 31))

    def _validation(self, n):
        """How many of n examples early stopping holds out."""
        if not self.early_stopping:
            return 0
        if not 0 < self.validation_fraction < 1:
            raise DigitnetError(f"validation_fraction must be between 0 and 1, got {self.validation_fraction}")
        if n < 2:
            raise DigitnetError(f"early stopping holds out examples, and needs 2 or more: got n_samples = {n}")
        return min(max(1, round(self.validation_fraction * n)), n - 1)

    def _learn_scaling(self, X):
        """Whether and how to scale the inputs to [0, 1] (see the class's docstring)."""
        as_they_are = X.dtype == np.uint8 or (X.size and X.min() >= 0 and X.max() <= 1)
        self.data_min_ = None if as_they_are else X.min(axis=0)
        self.data_range_ = None if as_they_are else np.where(X.max(axis=0) > self.data_min_,
                                                             X.max(axis=0) - self.data_min_, 1)

    def _inputs(self, X):
        """X as the network takes it: as it is, or scaled as learnt in fit."""
        if self.data_min_ is None:
            return X
        with np.errstate(over="ignore", invalid="ignore"):  # absurd values become inf, which the network refuses
            return ((X - self.data_min_) / self.data_range_).astype(np.float32)


def flat(X):
    """Images (n × 28 × 28 arrays, as digitnet.data loads them) as rows of pixels, as
    ``digitnet.Network`` takes them; anything else as it is, for scikit-learn to check."""
    return X.reshape(len(X), -1) if isinstance(X, np.ndarray) and X.ndim > 2 else X
