"""One module per subcommand, each with ``add_parser(subparsers)``; the parser it
adds sets ``run``, the function that carries the command out."""

import argparse
import difflib
import sys

from ..errors import DigitnetError


class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, except where there is none to show (None, or an
    on/off flag's False) or the help says it in words already."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse as digitnet's commands use it: whole flag names only (an abbreviation such as
    --epoch could be taken for another flag), defaults shown in --help, and a mistake said in
    one line, with where to read more, instead of a usage block. Subcommands' parsers are
    made by this class too (add_subparsers uses the parser's own class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self.set_defaults(parser=self)  # the deepest subcommand's parser wins: it names the right --help

    def parse_args(self, args=None, namespace=None):
        known, unknown = self.parse_known_args(args, namespace)
        if unknown:  # said by the subcommand's parser, which knows its own flags
            known.parser.unrecognized(unknown)
        return known

    def error(self, message):
        usage_error(message, self.prog)

    def unrecognized(self, words):
        """The one-line error for arguments no parser took, with the flag meant if one is close."""
        flags = [o for action in self._actions for o in action.option_strings]
        unknown = [w.split("=", 1)[0] for w in words if w.startswith("--")]
        meant = [m for w in unknown for m in difflib.get_close_matches(w, flags, n=1)]
        hint = f"; did you mean {' '.join(meant)}?" if meant else ""
        self.error(f"unrecognized arguments: {' '.join(words)}{hint}")


def usage_error(message, prog):
    """A mistake on the command line: one line, exit status 2, as argparse's own."""
    print(f"digitnet: error: {message} (see {prog} --help)", file=sys.stderr)
    sys.exit(2)


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


def yes_no(text):
    """yes or no, as True or False: a word, so that sweep can take both (--deskew yes,no)."""
    answers = {"yes": True, "no": False}
    if text.lower() not in answers:
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return answers[text.lower()]


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

    return data.load(getattr(args, "data", None), getattr(args, "classes", None))


def class_names(text):
    """--classes' value: names separated by commas, in label order."""
    return [name.strip() for name in text.split(",")]


def check_fits(net, dataset):
    """The network's input and output layers must match the data's images and labels (and the
    classes it learnt, the data's, when both name them)."""
    pixels = dataset.test_images[0].size
    if net.sizes[0] != pixels:
        raise DigitnetError(f"the network takes {net.sizes[0]} inputs but the images have {pixels} pixels")
    classes = int(max(dataset.train_labels.max(), dataset.test_labels.max())) + 1
    if net.digits < classes:  # a "not a digit" output is no digit's
        raise DigitnetError(f"the network has {net.digits} outputs for digits but the labels go up to {classes - 1}")
    if net.classes and dataset.classes and net.classes != dataset.classes:
        raise DigitnetError(f"the network learnt the classes {', '.join(net.classes)}, not the data's: "
                            f"{', '.join(dataset.classes)}")
