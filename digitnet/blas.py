"""One OpenBLAS thread for the duration of a block.

The products digitnet does are skinny (a batch × 784 times 784 × 16): splitting
them between threads costs more than it saves, and on a busy machine the waiting
threads spin and slow everything down severalfold. A wide first layer, where a
second thread would pay on a quiet machine, does not go to BLAS at all: it reads
only the inked pixels (kernels.inked_only): 0.87 s an epoch for 784-800-10 on one
core, where PyTorch takes 1.37 s on two (bench/results.txt).
"""

import contextlib
import ctypes
import functools
import threading


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with OpenBLAS limited to one thread, then restore its setting.

    Only the OpenBLAS libraries of NumPy and SciPy (whose sgemm the compiled epoch
    calls) are touched, and only for the block, so a user's other work keeps its
    threads. Without OpenBLAS this does nothing.
    Blocks may overlap (nested, or in several threads): the last one out restores.
    """
    libraries = _openblas()
    with _blas_lock:
        if _blas_users[0] == 0:
            _blas_users[1] = [get() for get, _ in libraries]
            for _, set_ in libraries:
                set_(1)
        _blas_users[0] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users[0] -= 1
            if _blas_users[0] == 0:
                for (_, set_), threads in zip(libraries, _blas_users[1], strict=True):
                    set_(threads)


_blas_lock = threading.Lock()
_blas_users = [0, []]  # blocks inside one_blas_thread now, and each library's thread count before the first


@functools.cache
def _openblas():
    """(get_num_threads, set_num_threads) of each OpenBLAS that NumPy and SciPy use."""
    import scipy.linalg.cython_blas  # noqa: F401 - loads SciPy's OpenBLAS, so that it is found below

    found = []
    try:
        with open("/proc/self/maps") as maps:  # Linux: the shared libraries loaded
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return found
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                          ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                          ("openblas_get_num_threads", "openblas_set_num_threads")):
            if hasattr(lib, get) and hasattr(lib, set_):
                getter, setter = getattr(lib, get), getattr(lib, set_)
                getter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
                found.append((getter, setter))
                break
    return found
