"""digitnet: the plain vanilla neural network that reads handwritten digits."""

__version__ = "0.1.0"

from .errors import DigitnetError  # noqa: E402
from .network import Network  # noqa: E402

__all__ = ["Network", "DigitnetError", "__version__"]
