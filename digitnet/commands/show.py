"""digitnet show (not built yet)."""

from ..errors import DigitnetError


def add_parser(sub):
    p = sub.add_parser("show", help="(not available yet)")
    p.set_defaults(run=run)


def run(args):
    raise DigitnetError("digitnet show is not available yet")
