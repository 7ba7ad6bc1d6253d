"""Model files: an .npz of plain arrays plus a JSON header, never pickle.

Layout: ``header`` holds UTF-8 JSON bytes (sizes, activation, cost, recipe,
history, test accuracy, digitnet version); ``W0, b0, W1, b1, ...`` hold the
weights and biases. ``numpy.load(..., allow_pickle=False)`` reads it, so
loading a file can never run code.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import DigitnetError

FORMAT = "digitnet-model"
MAX_HEADER_BYTES = 16 << 20


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over
    ``path``: a crash midway leaves the old file, never a half-written one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def header_of(net, **record):
    from . import __version__

    return {"format": FORMAT, "version": __version__, **net.config,
            "history": list(net.history or []), "best_epoch": getattr(net.history, "best_epoch", None),
            **record}


def save(net, path, **record):
    """Save ``net`` with ``record`` (recipe, test accuracy, ...) in its header."""
    for W, b in zip(net.weights, net.biases):
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise DigitnetError("refusing to save a model whose weights are not all finite numbers")
    header = json.dumps(header_of(net, **record), allow_nan=False).encode()
    arrays = {"header": np.frombuffer(header, dtype=np.uint8)}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(path):
    """The Network saved in ``path``, its header in ``net.header``; every shape, dtype
    and value is checked, and any problem is a DigitnetError naming the file."""
    from .network import Network

    path = Path(path)
    if not path.is_file():
        raise DigitnetError(f"{path}: no such model file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise DigitnetError(f"{path}: not a digitnet model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError) as e:
        raise DigitnetError(f"{path}: not a digitnet model file ({str(e).splitlines()[0] if str(e) else e!r})") \
            from None
    header = read_header(path, arrays)
    sizes = header["sizes"]
    # Check the arrays against the header before building anything, so a file
    # that claims enormous layers is refused without allocating them.
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, shape in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out,))):
            got = arrays.get(name)
            if got is None or got.shape != shape or got.dtype.kind != "f":
                found = "missing" if got is None else f"{got.dtype}{list(got.shape)}"
                raise DigitnetError(f"{path}: {name} should be float {list(shape)}, found {found}")
            if not np.isfinite(got).all():
                raise DigitnetError(f"{path}: {name} holds NaN or infinite values")
    try:
        net = Network(sizes, header["activation"], header["cost"])
    except DigitnetError as e:
        raise DigitnetError(f"{path}: {e}") from None
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        W[...], b[...] = arrays[f"W{l}"], arrays[f"b{l}"]
    net.header = header
    from .training import History

    net.history = History(header.get("history") or [])
    net.history.best_epoch = header.get("best_epoch")
    return net


def read_header(path, arrays):
    raw = arrays.get("header")
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_HEADER_BYTES:
        raise DigitnetError(f"{path}: not a digitnet model file (no header)")
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, ValueError):
        raise DigitnetError(f"{path}: the model header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DigitnetError(f"{path}: not a digitnet model file (wrong format tag)")
    for key in ("sizes", "activation", "cost"):
        if key not in header:
            raise DigitnetError(f"{path}: the model header lacks {key!r}")
    if not isinstance(header["sizes"], list) or not 2 <= len(header["sizes"]) <= 64 or \
            not all(isinstance(n, int) and 0 < n <= 1 << 16 for n in header["sizes"]):
        raise DigitnetError(f"{path}: the model header has bad layer sizes")
    return header
