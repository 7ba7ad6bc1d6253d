"""digitnet's version: stated here once; pyproject.toml reads it from this file."""

__version__ = "0.2.0"
