"""The ``digitnet`` command: one subcommand per module in ``digitnet.commands``."""

import argparse
import importlib
import sys

from .commands import fail
from .errors import DigitnetError
from .version import __version__

COMMANDS = ("train", "evaluate", "info", "predict", "show", "serve", "export", "sweep")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="digitnet", description="The plain vanilla neural network that reads handwritten digits.")
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except DigitnetError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return fail("out of memory: try smaller layers or a smaller batch")
    except OSError as e:
        return fail(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}")


if __name__ == "__main__":
    sys.exit(main())
