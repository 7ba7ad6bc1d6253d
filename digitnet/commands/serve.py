"""digitnet serve (not built yet)."""

from ..errors import DigitnetError


def add_parser(sub):
    p = sub.add_parser("serve", help="(not available yet)")
    p.set_defaults(run=run)


def run(args):
    raise DigitnetError("digitnet serve is not available yet")
