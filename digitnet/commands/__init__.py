"""One module per subcommand, each with ``add_parser(subparsers)``; the parser it
adds sets ``run``, the function that carries the command out."""

import argparse
import sys

from ..errors import DigitnetError


def whole_number(text, least=0):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected {least} or more, got {value}")
    return value


def positive_int(text):
    return whole_number(text, least=1)


def finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def layer_sizes(text):
    try:
        sizes = [int(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 784,16,16,10, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected at least two positive sizes, got {text!r}")
    return sizes


def fail(message):
    """Say what went wrong, on one line of stderr; the exit status for it."""
    print(f"digitnet: error: {message}", file=sys.stderr)
    return 2


def load_model(path):
    """The model in ``path``; a DigitnetError (one line) if it is missing or bad."""
    from ..api import Network

    return Network.load(path)


def load_data(args):
    from .. import data

    return data.load(getattr(args, "data", None))


def check_fits(net, dataset):
    """The network's input and output layers must match the data's images and labels."""
    pixels = dataset.test_images[0].size
    if net.sizes[0] != pixels:
        raise DigitnetError(f"the network takes {net.sizes[0]} inputs but the images have {pixels} pixels")
    classes = int(max(dataset.train_labels.max(), dataset.test_labels.max())) + 1
    if net.digits < classes:  # a "not a digit" output is no digit's
        raise DigitnetError(f"the network has {net.digits} outputs for digits but the labels go up to {classes - 1}")
