"""The path training takes through the space of parameters, and the plane that shows it.

``Trainer`` notes the parameters at the start and after every epoch. In 13,002
dimensions two random directions are almost orthogonal to that path (Li et al. 2018,
"Visualizing the loss landscape of neural nets", section 7): drawn on them, the path
barely moves. So the path is drawn on its own plane: the plane through the trained
parameters that passes closest to every epoch's parameters, found by the singular
value decomposition of the steps from there (the principal directions of the path).
A model file keeps that plane (two directions and the path's coordinates in it), not
the snapshots, so it grows by two networks' worth of numbers however long training was.
"""

from typing import NamedTuple

import numpy as np

MAX_SNAPSHOTS = 64  # a longer run keeps every other epoch's, then every fourth...
MAX_BYTES = 64 << 20  # ...and a large network fewer, so that the snapshots stay small beside the data


class Plane(NamedTuple):
    """The plane of a path: ``directions`` (2 × parameters, orthonormal), and for each of
    ``epochs`` (0: the start) the path's ``coordinates`` in it, from the trained parameters.
    ``share``: the part of the path's squared length that lies in the plane."""
    epochs: list
    directions: np.ndarray
    coordinates: np.ndarray
    share: float


class Trajectory:
    """Snapshots of the parameters: every epoch's while they are few, then every
    other epoch's, every fourth..., at most ``MAX_SNAPSHOTS`` (fewer for a large network)."""

    def __init__(self, n_parameters, itemsize=4):
        self.keep = int(np.clip(MAX_BYTES // (n_parameters * itemsize), 3, MAX_SNAPSHOTS))
        self.every = 1
        self.epochs, self.snapshots = [], []

    def record(self, epoch, params, last=False):
        """Note the parameters after ``epoch`` (0: the start) if it is one to keep, or is the ``last``."""
        if self.epochs and self.epochs[-1] == epoch:
            return
        if epoch % self.every == 0 or last:
            self.epochs.append(epoch)
            self.snapshots.append(np.array(params, copy=True))
        while len(self.snapshots) > self.keep:
            self.every *= 2
            end = len(self.epochs) - 1
            kept = [k for k, e in enumerate(self.epochs) if e % self.every == 0 or (last and k == end)]
            self.epochs = [self.epochs[k] for k in kept]
            self.snapshots = [self.snapshots[k] for k in kept]

    def plane(self, centre):
        """The plane through ``centre`` (the trained parameters) closest to every snapshot,
        with the path's coordinates in it; None for a path of fewer than two points."""
        if len(self.snapshots) < 2:
            return None
        steps = np.array(self.snapshots, dtype=np.float64) - centre  # one row per snapshot
        _, s, directions = np.linalg.svd(steps, full_matrices=False)
        directions = directions[:2]
        coordinates = steps @ directions.T
        # Signs that read the same for every model: the start on the left, above the end.
        signs = np.where(coordinates[0] * (-1, 1) < 0, -1.0, 1.0)
        total = float(np.sum(s ** 2))
        return Plane(list(self.epochs), (directions * signs[:, None]).astype(np.float32), coordinates * signs,
                     float(np.sum(s[:2] ** 2)) / total if total else 1.0)

    # ---- carrying on later (checkpoints) ------------------------------------------------------

    def state(self):
        return {f"path_{k}": p for k, p in enumerate(self.snapshots)}, {"epochs": self.epochs, "every": self.every}

    def restore(self, arrays, facts):
        epochs, every = facts["epochs"], facts["every"]
        if not (isinstance(every, int) and every >= 1 and isinstance(epochs, list)
                and all(isinstance(e, int) for e in epochs)):
            raise ValueError("the path's epochs are not whole numbers")
        self.epochs, self.every = list(epochs), every
        self.snapshots = [arrays[f"path_{k}"].copy() for k in range(len(epochs))]
