"""Checking what comes in from outside: sizes, names, seeds, options, images and labels.

The public edges (Network's constructor, predict and fit, the command line, the web
API) call these once; the mathematics behind them then trusts its arrays. Every
problem is a DigitnetError whose message is one complete sentence.
"""

import math
from numbers import Integral, Real

import numpy as np

from .errors import DigitnetError

MAX_NOT_A_DIGIT = 1_000_000  # noise images to learn "not a digit" from: 784 MB of pixels at most
MAX_NAME = 40  # characters in a class's name: a word or two, printed beside a bar or in a table


def check_sizes(sizes):
    """Layer sizes, input first: at least two layers, each of one neuron or more."""
    try:
        sizes = tuple(int(n) for n in sizes)
    except (TypeError, ValueError):
        raise DigitnetError(f"layer sizes must be whole numbers, got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise DigitnetError(f"need at least an input and an output layer, each of 1 or more neurons; got {sizes}")
    return sizes


def check_not_a_digit(not_a_digit, sizes):
    """Whether the last of the output neurons means "not a digit": True or False, and only
    with two outputs or more (the digits need one at least)."""
    if not isinstance(not_a_digit, (bool, np.bool_)):
        raise DigitnetError(f"not_a_digit must be True or False, got {not_a_digit!r}")
    if not_a_digit and sizes[-1] < 2:
        raise DigitnetError(f"a 'not a digit' output needs at least one more output for the digits; got {sizes}")
    return bool(not_a_digit)


def check_deskew(deskew, sizes):
    """Whether the network deskews its input: True or False, and only for a square image."""
    if not isinstance(deskew, (bool, np.bool_)):
        raise DigitnetError(f"deskew must be True or False, got {deskew!r}")
    if deskew and math.isqrt(sizes[0]) ** 2 != sizes[0]:
        raise DigitnetError(f"deskewing needs a square image as input, but {sizes[0]} inputs are no square")
    return bool(deskew)


def check_classes(classes, n):
    """The names of ``n`` classes (the outputs that are not "not a digit"), in label order: None for
    the digits 0 to n-1, or ``n`` different names of one line each, such as "T-shirt/top"."""
    if classes is None:
        return None
    if isinstance(classes, str) or not all(isinstance(name, str) for name in classes):
        raise DigitnetError(f"class names must be a list of text, got {classes!r:.80}")
    classes = tuple(name.strip() for name in classes)
    if len(classes) != n:
        raise DigitnetError(f"{len(classes)} class names for {n} classes: name each output, in label order")
    for name in classes:
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise DigitnetError(f"a class name is a line of 1 to {MAX_NAME} printable characters, got {name!r:.80}")
    if len(set(classes)) < n:
        raise DigitnetError(f"class names must differ, got {', '.join(classes)}")
    return classes


def check_choice(what, name, choices):
    """``name`` must be one of ``choices`` (a registry's keys)."""
    if name not in choices:
        raise DigitnetError(f"unknown {what} {name!r}: choose from {', '.join(choices)}")
    return name


def check_seed(seed):
    """A seed for NumPy's generator: None, or a whole number 0 or more."""
    if seed is not None and not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        raise DigitnetError(f"the seed must be a whole number 0 or more, got {seed!r}")
    return seed


def numbers(X):
    """X as a NumPy array of numbers (bool, integer or float)."""
    try:
        X = np.asarray(X)
    except ValueError:  # nested lists of different lengths
        raise DigitnetError("input examples must all have the same number of values") from None
    if X.dtype.kind not in "buif":
        raise DigitnetError(f"input values must be real numbers, got {X.dtype}")
    return X


def as_rows(X, n_inputs):
    """Examples as rows of ``n_inputs`` values: one example (a row, or one 28×28 square), a batch
    of rows, or a batch of 28×28 squares."""
    X = numbers(X)
    one = X.ndim <= 1 or (X.size == n_inputs and X.shape[-1] != n_inputs)
    X = X.reshape(1, -1) if one else X.reshape(X.shape[0], math.prod(X.shape[1:]))
    if X.shape[1] != n_inputs:
        raise DigitnetError(f"expected {n_inputs} input values per example, got {X.shape[1]}")
    return X


def as_inputs(X, n_inputs, dtype=np.float32):
    """Images as a float batch of rows in [0, 1]: uint8 pixels are scaled by 1/255."""
    X = as_rows(X, n_inputs)
    if X.dtype == np.uint8:  # in one pass: a second array of the batch's size costs more than the sum
        return np.multiply(X, 1 / 255, dtype=dtype)
    with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused below
        floats = X.astype(dtype, copy=False)
    if not np.isfinite(floats).all():
        raise DigitnetError("input values must be finite numbers: found NaN or infinity")
    return floats


def as_pixels(X):
    """Images as rows of uint8 pixels (a quarter of float32's memory); floats in [0, 1]
    are rounded to pixels."""
    X = numbers(X)
    if X.dtype != np.uint8:
        with np.errstate(invalid="ignore"):
            X = np.clip(np.rint(X.astype(np.float32) * 255), 0, 255).astype(np.uint8)
    return X.reshape(len(X), -1)


def as_labels(y, n):
    """``n`` labels as whole numbers 0 or more."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise DigitnetError(f"expected {n} labels, one per example, got an array of shape {y.shape}")
    if n and (y.dtype.kind not in "iu" or y.min() < 0):
        raise DigitnetError("labels must be whole numbers 0 or more")
    return y


def check_training(*, optimizer, optimizers, lr, momentum, l2, batch_size, epochs, schedule, schedules, shift,
                   validation, n, not_a_digit=0):
    """The options of a training run, for ``n`` training images."""
    for kind, what, values in ((Real, "a number", {"lr": lr, "momentum": momentum, "l2": l2}),
                               (Integral, "a whole number", {"batch_size": batch_size, "epochs": epochs,
                                                             "shift": shift, "validation": validation,
                                                             "not_a_digit": not_a_digit})):
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, kind):
                raise DigitnetError(f"{name} must be {what}, got {value!r}")
    check_choice("optimizer", optimizer, optimizers)
    check_choice("schedule", schedule, schedules)
    problems = [
        (not (lr > 0 and math.isfinite(lr)), f"the learning rate must be a positive number, got {lr}"),
        (not 0 <= momentum < 1, f"momentum must be in [0, 1), got {momentum}"),
        (not (l2 >= 0 and math.isfinite(l2)), f"l2 must be 0 or more, got {l2}"),
        (batch_size < 1, f"the batch size must be 1 or more, got {batch_size}"),
        (epochs < 0, f"epochs must be 0 or more, got {epochs}"),
        (not 0 <= shift <= 8, f"shift must be 0 to 8 pixels, got {shift}"),
        (not 0 <= validation < n, f"the validation split must leave training images: {validation} of {n}"),
        (not 0 <= not_a_digit <= MAX_NOT_A_DIGIT,
         f"not_a_digit must be 0 to {MAX_NOT_A_DIGIT:,} images of noise, got {not_a_digit}"),
    ]
    for bad, message in problems:
        if bad:
            raise DigitnetError(message)
