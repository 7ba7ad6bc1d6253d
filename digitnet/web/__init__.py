"""The interactive web page: draw a digit, watch the network read it, look inside, retrain."""

from .server import create_app, give_memory_back

__all__ = ["create_app", "give_memory_back"]
