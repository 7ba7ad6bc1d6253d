"""Images that are no digit at all: random pixels and random scribbles.

``digitnet show noise`` shows them to a network to see what it calls them; a network
with a "not a digit" output (``digitnet train --not-a-digit N``) also learns from them.
Each draws from the generator it is given, so that the images a network learns from
and those it is tested on come from streams of their own.
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

# The spawn key of the stream the training noise is drawn from: a child of the run's seed, so
# never the stream np.random.default_rng(seed) gives, from which the noise it is tested on comes.
TRAINING_STREAM = 10


def training_noise(n, seed, side=28):
    """``n`` images for a network to learn to call "not a digit", as uint8 pixels: half of
    them uniform noise, half scribbles, drawn from the run's own noise stream."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TRAINING_STREAM,)))
    images = np.concatenate([uniform_noise(rng, n - n // 2, side), scribble_noise(rng, n // 2, side)])
    return np.round(images * 255).astype(np.uint8)
