"""Augmentation: each epoch, the training images moved by a pixel or two at random, so
that the network learns a digit wherever it sits rather than one place per pixel.

This is the reference, in NumPy; kernels.py reads the same moved images inside its
compiled epoch, from the same random numbers, and is tested against this.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import DigitnetError


def image_side(n_pixels):
    """The side of a square image of ``n_pixels``; an error if it is not square."""
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        raise DigitnetError(f"moving images (--shift) needs square images, not {n_pixels} pixels")
    return side


def random_shifts(rng, n, shift):
    """How far to move each of n images: (dx, dy), whole pixels from −shift to shift."""
    dx = rng.integers(-shift, shift + 1, n)
    dy = rng.integers(-shift, shift + 1, n)
    return dx, dy


def shifted(images, dx, dy):
    """The images (rows of side² pixels), each moved so that out[r, c] = image[r + dy, c + dx]:
    by (−dx, −dy), with blank pixels coming in at the edges."""
    n, side = len(images), image_side(images.shape[1])
    s = int(max(np.abs(dx).max(initial=0), np.abs(dy).max(initial=0)))
    padded = np.zeros((n, side + 2 * s, side + 2 * s), images.dtype)  # blank all round
    padded[:, s:s + side, s:s + side] = images.reshape(n, side, side)
    windows = sliding_window_view(padded, (side, side), axis=(1, 2))  # windows[i, r, c]: padded[i] from (r, c)
    return windows[np.arange(n), dy + s, dx + s].reshape(n, side * side)
