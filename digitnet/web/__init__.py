"""The interactive web page: draw a digit, watch the network read it, look inside, retrain.

``create_app`` and ``give_memory_back`` are imported from server.py when first asked for,
so that the command line can read the classroom's defaults (``digitnet serve --help``)
without loading FastAPI on every command."""

__all__ = ["create_app", "give_memory_back"]


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import server

    return getattr(server, name)
