"""Images that are no digit at all: random pixels and random scribbles.

``digitnet show noise`` shows them to a network to see what it calls them; a network
with a "not a digit" output (``digitnet train --not-a-digit``) also learns from them,
among the other kinds negatives.py draws. Each draws from the generator it is given, so
that the images a network learns from and those it is tested on come from streams of their own.
"""

import numpy as np


def uniform_noise(rng, n, side=28):
    """Every pixel independently uniform in [0, 1]."""
    return rng.random((n, side * side))


def scribble_noise(rng, n, side=28, thickness=1.5):
    """Sparse noise that looks more like ink: 1-3 random strokes, each a chain of
    2-4 straight segments about ``thickness`` pixels wide, white on black."""
    centres = np.stack(np.indices((side, side)), axis=-1).reshape(-1, 2) + 0.5  # (784, 2)
    images = np.zeros((n, side * side))
    for image in images:
        for _ in range(rng.integers(1, 4)):
            points = rng.uniform(3, side - 3, size=(rng.integers(3, 6), 2))
            for p, q in zip(points[:-1], points[1:], strict=True):
                ink = np.clip(thickness - segment_distance(centres, p, q), 0, 1)
                np.maximum(image, ink, out=image)
    return images


def segment_distance(points, p, q):
    """Distance from each point to the line segment p-q."""
    pq = q - p
    t = np.clip((points - p) @ pq / max(pq @ pq, 1e-12), 0, 1)
    return np.linalg.norm(points - (p + t[:, None] * pq), axis=1)


NOISE = {"uniform": uniform_noise, "scribble": scribble_noise}
