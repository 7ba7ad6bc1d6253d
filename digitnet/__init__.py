"""digitnet: the plain vanilla neural network that reads handwritten digits."""

from .errors import DigitnetError
from .version import __version__

__all__ = ["Network", "DigitnetError", "__version__"]


def __getattr__(name):
    # digitnet.Network brings in training, files and images: only when asked for, so that
    # ``import digitnet.network`` (or the command line's --help) stays light.
    if name == "Network":
        from .api import Network

        return Network
    raise AttributeError(f"module 'digitnet' has no attribute {name!r}")
