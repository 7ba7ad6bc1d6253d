"""Deskewing: each image sheared so that its strokes stand upright, and centred on its ink.

This is how LeCun et al. prepared MNIST for many of their classifiers. People slant their
digits by different amounts; a network of 13,002 knobs spends some of them learning every
slant of every digit. Deskewed, a 1 is upright whoever wrote it, and the network reads
hands unlike MNIST's writers' better (bench/hands.py measures how much).

From the ink's moments: its mass centre (r̄, c̄), and how far the columns drift as the rows go
down, the slant α = Σ (r − r̄)(c − c̄) I / Σ (r − r̄)² I. The output pixel (r, c) is read from
the input at

    row r + r̄ − m,    column c + α (r − m) + c̄ − m,        m = (side − 1) / 2 (the middle)

between pixels by bilinear interpolation, and as 0 off the image. The row read from differs
from r by the same amount in every row, and the column from c by the same amount along a row:
so the interpolation is a blend of two rows, then of two columns. An image of no ink, or of ink
in one row only, has no slant to remove and is only centred (or left as it is).

The static site's JavaScript (web/static/network.js) and the ONNX export (export.py) compute the
same, and are tested against this file.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHUNK = 256  # images at a time: their padded lines (2.5 MB of float32) stay in the cache, whatever the batch


def deskew(X, side):
    """Rows of side² pixels (floats; any scale, 0 for no ink) deskewed, in the same dtype."""
    X = np.asarray(X)
    out = np.empty_like(X)
    for k in range(0, len(X), CHUNK):
        out[k:k + CHUNK] = deskewed(X[k:k + CHUNK].reshape(-1, side, side)).reshape(-1, side * side)
    return out


def slant(images):
    """The ink's mass centre (rows r̄ and columns c̄) and slant α of each image of ``images``
    (n × side × side); an image of no ink has its centre in the middle, and α = 0."""
    n, side, _ = images.shape
    middle = (side - 1) / 2
    at = np.arange(side, dtype=np.float64)
    by_row, by_column = images.sum(axis=2, dtype=np.float64), images.sum(axis=1, dtype=np.float64)
    mass = by_row.sum(axis=1)
    inked = mass > 0
    safe = np.where(inked, mass, 1.0)
    down = np.where(inked, by_row @ at / safe, middle)
    across = np.where(inked, by_column @ at / safe, middle)
    dr, dc = at - down[:, None], at - across[:, None]  # each row's and column's distance from the centre
    spread = (by_row * dr ** 2).sum(axis=1)
    drift = np.einsum("nr,nrc,nc->n", dr, images, dc, dtype=np.float64)
    alpha = np.divide(drift, spread, out=np.zeros(n), where=spread > 0)
    return down, across, alpha


def deskewed(images):
    """n × side × side images deskewed (see the module's notes)."""
    n, side, _ = images.shape
    middle = (side - 1) / 2
    down, across, alpha = slant(images)
    at = np.arange(side)
    # Down: every column of an image reads from the same offset, r̄ − m, along its rows.
    columns = along(images.transpose(0, 2, 1), np.repeat((down - middle)[:, None], side, axis=1))
    # Across: each row reads from its own offset, α (r − m) + c̄ − m, along its columns.
    return along(columns.transpose(0, 2, 1), alpha[:, None] * (at - middle) + (across - middle)[:, None])


def along(lines, offset):
    """Each line of ``lines`` (n × lines × side) read at positions 0, 1, ... side − 1 moved by its
    ``offset`` (n × lines), interpolated linearly between the two pixels either side, 0 off the line."""
    n, count, side = lines.shape
    offset = np.clip(offset, -side - 1, side)  # any further, and both pixels read are off the line
    whole = np.floor(offset)
    fraction = (offset - whole).astype(lines.dtype)[:, :, None]
    # Each line with side + 1 pixels of 0 either side, seen as every window of side pixels along it
    # (a view, nothing copied): a move by a whole number of pixels is then a choice of window.
    width = 3 * side + 2
    padded = np.zeros((n * count, width), lines.dtype)
    padded[:, side + 1:2 * side + 1] = lines.reshape(n * count, side)
    row, pixel = padded.strides
    windows = as_strided(padded, (n * count, width - side + 1, side), (row, pixel, pixel), writeable=False)
    line, start = np.arange(n * count), whole.astype(np.intp).reshape(-1) + side + 1
    return ((1 - fraction) * windows[line, start].reshape(n, count, side)
            + fraction * windows[line, start + 1].reshape(n, count, side))
