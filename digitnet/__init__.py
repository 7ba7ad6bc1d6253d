"""digitnet: the plain vanilla neural network that reads handwritten digits."""

from .errors import DigitnetError
from .network import Network
from .version import __version__

__all__ = ["Network", "DigitnetError", "__version__"]
