"""The path training takes through the space of parameters, and the plane that shows it.

``Trainer`` notes the parameters at the start and after every epoch. In 13,002
dimensions two random directions are almost orthogonal to that path (Li et al. 2018,
"Visualizing the loss landscape of neural nets", section 7): drawn on them, the path
barely moves. So the path is drawn on its own plane: the plane through the trained
parameters that passes closest to every epoch's parameters, found by the singular
value decomposition of the steps from there (the principal directions of the path).
A model file keeps that plane (two directions and the path's coordinates in it), not
the snapshots, so it grows by two networks' worth of numbers however long training was.

A point of the path drawn on the plane is the epoch's parameters projected onto it: the
cost there, the surface's height under the ball, is not the cost at the epoch's own
parameters, which lie off the plane (at the start, far off). So the cost at each
snapshot is measured too, while the snapshot is still there (``Height``, once, when the
plane is first asked for after it was taken), and kept with the plane.
"""

from typing import NamedTuple

import numpy as np

from .functions import one_hot

MAX_SNAPSHOTS = 64  # a longer run keeps every other epoch's, then every fourth...
MAX_BYTES = 64 << 20  # ...and a large network fewer, so that the snapshots stay small beside the data
HEIGHT_IMAGES = 1000  # the training images the cost at each snapshot is measured on
CHUNK = 1 << 14  # parameters at a time when the plane is worked out (Steps): 8 MB of a path's steps at most


class Plane(NamedTuple):
    """The plane of a path: ``directions`` (2 × parameters, orthonormal), and for each of
    ``epochs`` (0: the start) the path's ``coordinates`` in it, from the trained parameters.
    ``share``: the part of the path's squared length that lies in the plane. ``costs``: the
    cost at each epoch's own parameters, on ``cost_images`` of its training images (None: not
    measured, in a model saved before costs were)."""
    epochs: list
    directions: np.ndarray
    coordinates: np.ndarray
    share: float
    costs: list | None = None
    cost_images: int | None = None

    def points(self, centre):
        """The path's points as the plane holds them, with ``centre`` (the parameters the plane was
        found around) added back: each epoch's parameters less the part of them off the plane."""
        return (centre + self.coordinates @ self.directions).astype(centre.dtype)


class Height:
    """The cost C at any parameters of ``net``'s shape on the examples (X, y): the real height
    of a point of the path. ``images``: how many examples."""

    def __init__(self, net, X, y):
        self.probe, self.images = net.copy(), len(X)
        self.x, self.Y = net.inputs(X), one_hot(y, net.sizes[-1], net.dtype)

    def __call__(self, params):
        self.probe.params[...] = params
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's cost is inf, and is caught later
            return float(self.probe.cost.fn(self.probe.feedforward(self.x), self.Y))


class Trajectory:
    """Snapshots of the parameters: every epoch's while they are few, then every
    other epoch's, every fourth..., at most ``MAX_SNAPSHOTS`` (fewer for a large network);
    with a ``height`` (a Height), the cost at each."""

    def __init__(self, n_parameters, itemsize=4, height=None):
        self.keep = int(np.clip(MAX_BYTES // (n_parameters * itemsize), 3, MAX_SNAPSHOTS))
        self.every = 1
        self.epochs, self.snapshots, self.costs = [], [], []
        self.height = height

    def record(self, epoch, params, last=False):
        """Note the parameters after ``epoch`` (0: the start) if it is one to keep, or is the ``last``."""
        if self.epochs and self.epochs[-1] == epoch:
            return
        if epoch % self.every == 0 or last:
            self.epochs.append(epoch)
            self.snapshots.append(np.array(params, copy=True))
            self.costs.append(None)  # measured when asked for: most snapshots of a long run are thinned out first
        while len(self.snapshots) > self.keep:
            self.every *= 2
            end = len(self.epochs) - 1
            kept = [k for k, e in enumerate(self.epochs) if e % self.every == 0 or (last and k == end)]
            self.epochs = [self.epochs[k] for k in kept]
            self.snapshots = [self.snapshots[k] for k in kept]
            self.costs = [self.costs[k] for k in kept]

    def plane(self, centre):
        """The plane through ``centre`` (the trained parameters) closest to every snapshot,
        with the path's coordinates in it; None for a path of fewer than two points, or
        one that never moved."""
        if len(self.snapshots) < 2:
            return None
        steps = Steps(self.snapshots, centre)
        lengths, directions = principal_directions(steps)
        if lengths[0] == 0:
            return None
        coordinates = steps.times(directions.T)
        # Signs that read the same for every model: the start on the left, above the end.
        signs = np.where(coordinates[0] * (-1, 1) < 0, -1.0, 1.0)
        share = float(np.sum(lengths[:2] ** 2) / np.sum(lengths ** 2))
        costs = self.measured()
        return Plane(list(self.epochs), (directions * signs[:, None]).astype(np.float32), coordinates * signs, share,
                     costs, self.height.images if costs is not None else None)

    def measured(self):
        """The cost at each snapshot, those not measured yet measured now; None without a height."""
        if self.height is None:
            return None
        self.costs = [self.height(s) if c is None else c for c, s in zip(self.costs, self.snapshots, strict=True)]
        return list(self.costs)

    # ---- carrying on later (checkpoints) ------------------------------------------------------

    def state(self):
        costs = self.measured() or self.costs
        return ({f"path_{k}": p for k, p in enumerate(self.snapshots)},
                {"epochs": self.epochs, "every": self.every, "costs": [finite(c) for c in costs]})

    def restore(self, arrays, facts):
        epochs, every = facts["epochs"], facts["every"]
        costs = facts.get("costs") or [None] * len(epochs)  # None: measured again (or before costs were measured)
        if not (isinstance(every, int) and every >= 1 and isinstance(epochs, list)
                and all(isinstance(e, int) for e in epochs) and len(costs) == len(epochs)
                and all(c is None or isinstance(c, (int, float)) for c in costs)):
            raise ValueError("the path's epochs are not whole numbers, or its costs not numbers")
        self.epochs, self.every, self.costs = list(epochs), every, list(costs)
        self.snapshots = [arrays[f"path_{k}"].copy() for k in range(len(epochs))]


def finite(cost):
    """A cost for JSON, which has no infinity: None for an infinite one (or none)."""
    return cost if cost is not None and np.isfinite(cost) else None


class Steps:
    """The steps from ``centre`` to each snapshot: the rows of a k × n matrix S, in float64, made a
    block of CHUNK columns at a time. Whole, the steps of a long path through the page's largest network
    would take 60 MB, for each epoch of each run training at once."""

    def __init__(self, snapshots, centre):
        self.snapshots, self.centre = snapshots, centre

    def blocks(self):
        for start in range(0, len(self.centre), CHUNK):
            columns = slice(start, start + CHUNK)
            yield columns, np.array([s[columns] for s in self.snapshots], np.float64) - self.centre[columns]

    def gram(self):
        """S Sᵀ, the steps' dot products: k × k."""
        return sum(block @ block.T for _, block in self.blocks())

    def times(self, m):
        """S M, for M of n rows."""
        return sum(block @ m[columns] for columns, block in self.blocks())

    def transposed_times(self, u):
        """Sᵀ u, for u of k rows."""
        out = np.empty((len(self.centre), u.shape[1]))
        for columns, block in self.blocks():
            out[columns] = block.T @ u
        return out


def principal_directions(steps):
    """The singular values of ``steps`` (Steps: k rows of n numbers, k small), largest first, and
    its two first right singular vectors: the two orthonormal directions closest to all rows.

    Found from the k × k matrix of the rows' dot products, S Sᵀ = U Σ² Uᵀ, whose
    eigenvectors u give the directions v = Sᵀ u / σ: the same as np.linalg.svd, in a
    millisecond where svd takes a tenth of a second or more for rows of 13,002 numbers.
    A path that is a straight line has one direction; any direction at right angles to
    it completes the plane."""
    squares, u = np.linalg.eigh(steps.gram())  # ascending
    lengths = np.sqrt(np.clip(squares[::-1], 0, None))
    directions = steps.transposed_times(u[:, ::-1][:, :2]).T
    if lengths[0] == 0:
        return lengths, directions
    directions[0] /= lengths[0]
    if lengths[1] > 1e-9 * lengths[0]:
        directions[1] /= lengths[1]
    else:
        directions[1] = at_right_angles(directions[0])
    return lengths, directions


def at_right_angles(d):
    """A unit vector at right angles to the unit vector ``d``."""
    e = np.zeros_like(d)
    e[np.argmin(np.abs(d))] = 1
    e -= (e @ d) * d
    return e / np.linalg.norm(e)
