"""The ``digitnet`` command: one subcommand per module in ``digitnet.commands``."""

import importlib
import os
import sys

from .commands import Parser, fail
from .errors import DigitnetError
from .version import __version__

COMMANDS = ("train", "evaluate", "info", "predict", "show", "serve", "site", "export", "sweep")


def build_parser():
    parser = Parser(prog="digitnet", description="The plain vanilla neural network that reads handwritten digits.")
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


def main(argv=None):
    try:
        return command(argv)
    except BrokenPipeError:
        return closed_pipe()


def command(argv):
    """Parse and run the command; its exit status. Output is flushed before returning (and before
    --help or --version exit), so that a closed pipe shows here, not as a message at exit."""
    try:
        try:
            args = build_parser().parse_args(argv)
        finally:
            sys.stdout.flush()
        status = args.run(args) or 0
        sys.stdout.flush()
        return status
    except DigitnetError as e:
        return fail(str(e))
    except KeyboardInterrupt:  # also while importing or loading, before any epoch: nothing is lost
        print("\ndigitnet: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return fail("out of memory: try smaller layers or a smaller batch")
    except BrokenPipeError:
        raise
    except OSError as e:
        return fail(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}")


def closed_pipe():
    """The reader of our output has gone (``digitnet ... | head``): stop quietly, as Unix
    commands do when SIGPIPE ends them, with its exit status. Output still buffered would
    fail again when Python flushes it at exit, so it goes to /dev/null instead."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout with no file behind it (a test's) has nothing to flush
        pass
    return 128 + 13  # 13: SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
