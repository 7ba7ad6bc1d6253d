"""Getting the compiled epoch (kernels.py) ready without making anyone wait for it.

numba compiles kernels.py's epoch the first time a machine trains with a given choice
of activation, cost and optimiser: a few seconds, longer than a whole default run takes
once compiled. So a short first run does not wait. It trains with NumPy (network.py),
exactly as with DIGITNET_COMPILED=0, and then a separate process compiles the epoch into
the cache for every later run. A long first run, which NumPy would make slower than
compiling, waits for the compiler. A run never changes engine midway: the same seed and
the same state of the cache give the same network.

DIGITNET_COMPILED chooses: ``1`` (the default) as above, ``wait`` to compile in the
foreground when needed (every run compiled), ``0`` never to compile.

This module does not import numba: a run that trains with NumPy never loads it.
"""

import functools
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .files import cache_dir

STALE_SECONDS = 600  # a compile lock this old belongs to a process that died


def mode():
    return os.environ.get("DIGITNET_COMPILED", "1")


def numba_version():
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return None


def usable(net):
    """Whether ``net`` can train compiled: a float32 network, numba installed, not turned off."""
    return mode() != "0" and net.dtype == np.float32 and numba_version() is not None


# A first run trains with NumPy only while that is the quicker way: NumPy gets through some 4e9
# multiply-adds of examples by parameters a second here, and compiling takes some 8 s, so a run
# of more than 3e10 (1.7 times the default recipe's) waits for the compiler instead; so does a
# run with distortions (rotations, elastic...), which NumPy makes tens of times slower.
NUMPY_BUDGET = 3e10


def numpy_is_quicker(net, examples, distorted):
    """Whether a first run of ``examples`` example-epochs should train with NumPy rather than
    wait for the compiler."""
    return not distorted and net.params.size * examples <= NUMPY_BUDGET


def cache_folder():
    """numba's cache for this version of the loops, in digitnet's cache folder (never beside
    kernels.py: the package may be read-only, and pip removes only the files it installed).
    numba checks only kernels.py for changes, so the folder is named after it, the registry
    it compiles (functions.py) and numba's version: an edit to any compiles afresh."""
    return cache_dir("numba", loops_version())


@functools.cache  # read once: the loops a process has loaded do not change while it runs
def loops_version():
    """A short hash of kernels.py, functions.py and numba's version."""
    here = Path(__file__).parent
    sources = b"".join((here / name).read_bytes() for name in ("kernels.py", "functions.py"))
    return hashlib.sha256(sources + str(numba_version()).encode()).hexdigest()[:16]


def key(net, optimizer):
    return f"{net.activation.name}-{net.cost.name}-{optimizer}"


def ready(net, optimizer):
    """Whether the epoch for ``net``'s activation and cost and ``optimizer`` is compiled and cached."""
    return (cache_folder() / f"ready-{key(net, optimizer)}").exists()


def mark_ready(net, optimizer):
    """Tell other processes that the epoch for this choice is compiled and cached."""
    try:
        (cache_folder() / f"ready-{key(net, optimizer)}").touch()
    except OSError:  # a cache that cannot be written: every run compiles in the foreground
        pass


def compile_later(net, optimizer):
    """Compile the epoch for this choice in a separate process, which carries on after this one
    ends; nothing happens if another process is compiling it already. Returns whether one started."""
    folder = cache_folder()
    lock = folder / f"compiling-{key(net, optimizer)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if lock.exists() and time.time() - lock.stat().st_mtime > STALE_SECONDS:
            lock.unlink(missing_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:  # being compiled already, or the cache cannot be written: train with NumPy
        return False
    os.close(fd)
    code = (f"from digitnet import kernels; kernels.compile_now({net.activation.name!r}, {net.cost.name!r}, "
            f"{optimizer!r})")
    subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, "DIGITNET_COMPILED": "wait"})
    return True
