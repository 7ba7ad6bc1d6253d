"""digitnet predict (not built yet)."""

from ..errors import DigitnetError


def add_parser(sub):
    p = sub.add_parser("predict", help="(not available yet)")
    p.set_defaults(run=run)


def run(args):
    raise DigitnetError("digitnet predict is not available yet")
