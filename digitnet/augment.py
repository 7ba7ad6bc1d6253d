"""Augmentation: each epoch, the training images moved and distorted at random, so that the
network learns a digit however it is placed and written rather than one place per pixel.

- ``shifted``: moved by whole pixels (``--shift``);
- ``thickened``: strokes made bolder or thinner (``--augment thickness=T``);
- ``warped``: turned by a small angle, enlarged or shrunk (``rotate=DEGREES``, ``scale=S``), and
  bent by an elastic distortion, Simard, Steinkraus and Platt's (ICDAR 2003): a random
  displacement for every pixel, smoothed by a Gaussian of width σ and scaled by α
  (``elastic=α``, ``sigma=σ``).

Every random number is drawn here, in ``random_moves``, from the trainer's generator. This
is the reference, in NumPy; kernels.py makes the same moves inside its compiled epoch,
from the same numbers, and is tested against this.
"""

import functools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import DigitnetError

# name: (what it is, largest value allowed, default when named without a value)
AUGMENTATIONS = {
    "rotate": ("turn by up to this many degrees either way", 45.0, 10.0),
    "scale": ("enlarge or shrink by up to this share (0.1: from 0.9 to 1.1 times)", 0.5, 0.1),
    "thickness": ("make strokes bolder or thinner by up to this much (1: one pixel all round)", 1.0, 0.5),
    "elastic": ("Simard et al.'s elastic distortion of strength α (they used 34)", 100.0, 34.0),
    "sigma": ("the elastic distortion's smoothness σ in pixels (Simard et al.: 4)", 10.0, 4.0),
}
FIELDS = 1000  # elastic fields drawn afresh each epoch; each example takes one of them at random


def augmentation(spec):
    """``--augment``'s setting as a dict of the distortions used, each with its size: from a
    string like ``"rotate=10,elastic=34"`` (a name alone takes its default; "" or "none"
    for none), a dict, or None."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "none")):
        return {}
    items = spec.items() if isinstance(spec, dict) else (part.partition("=")[::2] for part in spec.split(","))
    chosen = {}
    for name, value in items:
        name = str(name).strip()
        if name not in AUGMENTATIONS:
            raise DigitnetError(f"unknown augmentation {name!r}: choose from {', '.join(AUGMENTATIONS)}")
        _, largest, default = AUGMENTATIONS[name]
        try:
            size = default if value in ("", None) else float(value)
        except (TypeError, ValueError):
            raise DigitnetError(f"--augment {name}={value}: not a number") from None
        if not 0 <= size <= largest or (name == "sigma" and size == 0):
            raise DigitnetError(f"--augment {name}={value}: must be from 0{' (not 0)' if name == 'sigma' else ''} "
                                f"to {largest:g}")
        chosen[name] = size
    if "sigma" in chosen and "elastic" not in chosen:
        raise DigitnetError("--augment sigma= is the elastic distortion's: give elastic= too")
    # a size of 0 is none of it, and σ is nothing without the elastic distortion it smooths
    return {name: size for name, size in chosen.items() if size and (name != "sigma" or chosen.get("elastic"))}


def describe(chosen):
    """The augmentation as ``--augment`` writes it."""
    return ",".join(f"{name}={size:g}" for name, size in chosen.items()) or "none"


def image_side(n_pixels, needs="moving images (--shift, --augment)"):
    """The side of a square image of ``n_pixels``; an error, saying what ``needs`` it, if it is not square."""
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        raise DigitnetError(f"{needs} needs square images, not {n_pixels} pixels")
    return side


class Moves(NamedTuple):
    """How each of n examples is moved: whole-pixel shifts (dx, dy), or None for none; and the
    distortions, or None for none: ``warps`` rows of (angle in radians, scale, thickness),
    ``field`` which of the elastic ``fields`` (count × 2 × side², the displacement of each
    pixel down and across) each example takes."""
    dx: np.ndarray | None = None
    dy: np.ndarray | None = None
    warps: np.ndarray | None = None
    field: np.ndarray | None = None
    fields: np.ndarray | None = None


def random_moves(rng, n, shift, chosen, side):
    """The moves of n examples, drawn from ``rng``: shifts of up to ``shift`` pixels, then the
    distortions ``chosen`` (``augmentation``'s dict). Nothing is drawn for what is not used,
    so a run without distortions draws exactly the numbers it always did."""
    dx, dy = random_shifts(rng, n, shift) if shift else (None, None)
    if not chosen:
        return Moves(dx, dy)
    angle = np.radians(rng.uniform(-1, 1, n) * chosen.get("rotate", 0))
    scale = 1 + rng.uniform(-1, 1, n) * chosen.get("scale", 0)
    thickness = rng.uniform(-1, 1, n) * chosen.get("thickness", 0)
    warps = np.stack([angle, scale, thickness], axis=1).astype(np.float32)
    if not chosen.get("elastic"):
        return Moves(dx, dy, warps)
    field = rng.integers(0, FIELDS, n)
    return Moves(dx, dy, warps, field, elastic_fields(rng, FIELDS, chosen["elastic"], chosen.get("sigma", 4.0), side))


def random_shifts(rng, n, shift):
    """How far to move each of n images: (dx, dy), whole pixels from −shift to shift."""
    dx = rng.integers(-shift, shift + 1, n)
    dy = rng.integers(-shift, shift + 1, n)
    return dx, dy


def elastic_fields(rng, count, alpha, sigma, side):
    """``count`` elastic distortion fields (Simard et al. 2003, section 2): each pixel's
    displacement down and across drawn uniformly from −1 to 1, smoothed by a Gaussian of
    width σ (zero beyond the image), and scaled by α. As count × 2 × side² float32."""
    noise = rng.uniform(-1, 1, (count, 2, side, side))
    r = np.arange(side)
    gaussian = np.exp(-((r[:, None] - r[None, :]) ** 2) / (2 * sigma ** 2)) / (math.sqrt(2 * math.pi) * sigma)
    smooth = gaussian @ noise @ gaussian.T  # the 2-D Gaussian filter, one direction at a time
    return (alpha * smooth).reshape(count, 2, side * side).astype(np.float32)


def moved(images, moves):
    """The images (rows of side² uint8 pixels) moved as ``moves`` says: shifted, then thickened,
    then warped. Only shifted, they are still pixels; distorted, floats in [0, 1]."""
    if moves.dx is not None:
        images = shifted(images, moves.dx, moves.dy)
    if moves.warps is None:
        return images
    x = thickened(images * np.float32(1 / 255), moves.warps[:, 2])
    fields = None if moves.field is None else moves.fields[moves.field]
    return warped(x, moves.warps[:, 0], moves.warps[:, 1], fields)


def shifted(images, dx, dy):
    """The images (rows of side² pixels), each moved so that out[r, c] = image[r + dy, c + dx]:
    by (−dx, −dy), with blank pixels coming in at the edges."""
    n, side = len(images), image_side(images.shape[1])
    s = int(max(np.abs(dx).max(initial=0), np.abs(dy).max(initial=0)))
    padded = np.zeros((n, side + 2 * s, side + 2 * s), images.dtype)  # blank all round
    padded[:, s:s + side, s:s + side] = images.reshape(n, side, side)
    windows = sliding_window_view(padded, (side, side), axis=(1, 2))  # windows[i, r, c]: padded[i] from (r, c)
    return windows[np.arange(n), dy + s, dx + s].reshape(n, side * side)


def thickened(x, thickness):
    """The images x (rows of side² floats) with bolder strokes where ``thickness`` t > 0 and
    thinner where t < 0: each pixel moves the share |t| of the way from its value to the
    largest (or smallest) of itself and its four neighbours, pixels beyond the edge being 0."""
    n, side = len(x), image_side(x.shape[1])
    padded = np.zeros((n, side + 2, side + 2), np.float32)
    padded[:, 1:-1, 1:-1] = x.reshape(n, side, side)
    cross = (padded[:, 1:-1, 1:-1], padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2],
             padded[:, 1:-1, 2:])
    bolder, thinner = functools.reduce(np.maximum, cross), functools.reduce(np.minimum, cross)
    target = np.where((thickness > 0)[:, None, None], bolder, thinner).reshape(n, side * side)
    return x + np.abs(thickness)[:, None] * (target - x)


def warped(x, angle, scale, fields=None):
    """The images x (rows of side² floats) turned clockwise by ``angle`` (radians), enlarged by ``scale``
    about their centre, and then displaced by ``fields`` (n × 2 × side²: each pixel's
    displacement down and across) if given: out(p) = x(s) with s = c + R(−angle) (p − c) / scale
    + field(p), read between pixels by bilinear interpolation, 0 beyond the edge."""
    n, side = len(x), image_side(x.shape[1])
    c = np.float32((side - 1) / 2)
    r, col = np.divmod(np.arange(side * side), side)
    r, col = (r - c).astype(np.float32), (col - c).astype(np.float32)
    cos, sin = (np.cos(angle) / scale)[:, None], (np.sin(angle) / scale)[:, None]
    down = c + cos * r - sin * col
    across = c + sin * r + cos * col
    if fields is not None:
        down, across = down + fields[:, 0], across + fields[:, 1]
    return bilinear(x.reshape(n, side, side), down.astype(np.float32), across.astype(np.float32))


def bilinear(images, down, across):
    """Each image (n × side × side) read at the points (down, across) (n × k each) between its
    pixels: the four pixels around a point, weighted by how near it they are; 0 beyond the edge."""
    n, side, _ = images.shape
    padded = np.zeros((n, side + 2, side + 2), np.float32)  # a blank border, read beyond the edge
    padded[:, 1:-1, 1:-1] = images
    down, across = np.clip(down, -1, side), np.clip(across, -1, side)
    top, left = np.floor(down), np.floor(across)
    u, v = down - top, across - left
    top, left = top.astype(np.int64) + 1, left.astype(np.int64) + 1
    bottom, right = np.minimum(top + 1, side + 1), np.minimum(left + 1, side + 1)
    i = np.arange(n)[:, None]
    return ((1 - u) * ((1 - v) * padded[i, top, left] + v * padded[i, top, right])
            + u * ((1 - v) * padded[i, bottom, left] + v * padded[i, bottom, right]))
