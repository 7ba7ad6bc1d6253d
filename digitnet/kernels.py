"""The training epoch, compiled: all of digitnet's speed, and nothing else.

``Network.step`` (network.py) is the mathematics written with NumPy. A mini-batch
there takes some forty NumPy calls, and on the 13,002-parameter network each call
costs more in Python's overhead than in arithmetic. kernels.c writes the same epoch
as C loops, compiled when digitnet is installed, so that a whole epoch is one call:
the large products go to SciPy's BLAS, and everything else (pixels to floats, σ, δ,
the optimiser's step) runs as loops the compiler turns into vector instructions.
``tests/test_kernels.py`` checks it against network.py, optimizers.py and augment.py,
step by step and epoch by epoch.

This module hands kernels.c three structures: the network's arrays (``Net``), the
optimiser and its memory (``Optimiser``), and the epoch's examples in their order
(``Plan``). The activations and costs are the registry's (functions.py): kernels.c
has each one's form for a single number, found by the registry's name.

Nothing is compiled at run time: the same inputs give the same bits on a machine's
first run and on every later one.
"""

import ctypes
import functools
import importlib.util
import math
import os
from ctypes import POINTER, c_double, c_float, c_int, c_int64, c_uint8, c_void_p

import numpy as np

from .augment import Moves
from .errors import DigitnetError
from .functions import ACTIVATIONS, COSTS, SOFTMAX
from .network import layout

SGD, ADAM = 0, 1  # kernels.c's optimisers


class Net(ctypes.Structure):
    """The network's arrays, as kernels.c reads them."""
    _fields_ = [("layers", c_int64), ("sizes", POINTER(c_int64)), ("places", POINTER(c_int64)),
                ("params", POINTER(c_float)), ("hidden", c_int64), ("output", c_int64), ("cost", c_int64)]


class Optimiser(ctypes.Structure):
    """The optimiser's settings and its memory (optimizers.py's ``state``)."""
    _fields_ = [("kind", c_int64), ("t", c_int64), ("eta", c_double), ("l2", c_double), ("momentum", c_double),
                ("beta1", c_double), ("beta2", c_double), ("eps", c_double), ("first", POINTER(c_float)),
                ("second", POINTER(c_float))]


class Plan(ctypes.Structure):
    """An epoch's examples in their order: which image, moved how, with which label."""
    _fields_ = [("images", POINTER(c_uint8)), ("pixels", c_int64), ("side", c_int64), ("shift", c_int64),
                ("examples", c_int64), ("batch_size", c_int64), ("order", POINTER(c_int64)),
                ("labels", POINTER(c_int64)),
                ("dx", POINTER(c_int64)), ("dy", POINTER(c_int64)), ("warps", POINTER(c_float)),
                ("field", POINTER(c_int64)), ("fields", POINTER(c_float)), ("n_fields", c_int64),
                ("targets", POINTER(c_float)), ("share", c_double), ("inked_only", c_int64), ("threads", c_int64)]


class Score(ctypes.Structure):
    _fields_ = [("cost", c_double), ("right", c_int64)]


FUNCTIONS = {  # kernels.c's entry points: (result, arguments)
    "dn_use_blas": (None, [c_void_p]),
    "dn_code": (c_int64, [ctypes.c_char_p, ctypes.c_char_p]),
    "dn_epoch": (c_int, [POINTER(Net), POINTER(Optimiser), POINTER(Plan), POINTER(Score)]),
    "dn_predict": (c_int, [POINTER(Net), POINTER(c_uint8), c_int64, POINTER(c_int64)]),
    "dn_deskew": (c_int, [POINTER(c_uint8), c_int64, c_int64, POINTER(c_uint8)]),
    "dn_activate": (None, [POINTER(c_float), POINTER(c_float), c_int64, c_int64, c_int64]),
    "dn_chain": (None, [POINTER(c_float), POINTER(c_float), c_int64, c_int64]),
    "dn_total_cost": (c_double, [POINTER(c_float), POINTER(c_int64), c_int64, c_int64, c_int64]),
    "dn_output_delta": (None, [POINTER(c_float), POINTER(Plan), c_int64, c_int64, c_int64, POINTER(c_float)]),
    "dn_read_images": (None, [POINTER(Plan), POINTER(c_float)]),
    "dn_distort": (c_int, [POINTER(Plan), POINTER(c_float)]),
}


@functools.cache
def library():
    """kernels.c, compiled when digitnet was installed, with SciPy's BLAS handed to it."""
    found = importlib.util.find_spec(f"{__package__}._kernels")  # where pip put it; its init does nothing
    if found is None:
        raise DigitnetError("digitnet's compiled engine is not built in this copy of digitnet: install it with "
                            "pip (pip install . in its folder), or train with --engine numpy")
    lib = ctypes.CDLL(found.origin)
    for name, (result, arguments) in FUNCTIONS.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments
    lib.dn_use_blas(sgemm())
    return lib


def sgemm():
    """The address of SciPy's sgemm, the BLAS the products use (the one NumPy's OpenBLAS threads are set with,
    in blas.py), from the capsule SciPy publishes for compiled code."""
    from scipy.linalg import cython_blas

    capsule = cython_blas.__pyx_capi__["sgemm"]
    name, pointer = ctypes.pythonapi.PyCapsule_GetName, ctypes.pythonapi.PyCapsule_GetPointer
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    pointer.restype, pointer.argtypes = c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return pointer(capsule, name(capsule))


def code(registry, entry):
    """kernels.c's number for a registry entry's single-number form."""
    number = library().dn_code(registry.encode(), entry.name.encode())
    if number < 0:
        raise DigitnetError(f"the {registry} {entry.name!r} has no compiled form in kernels.c: "
                            "train with --engine numpy")
    return number


def missing_forms():
    """Registry entries kernels.c has no form for (none, the tests check)."""
    return [f"{registry} {entry.name}" for registry, entries in (("sigma", (*ACTIVATIONS.values(), SOFTMAX)),
                                                                ("cost", COSTS.values()))
            for entry in entries if library().dn_code(registry.encode(), entry.name.encode()) < 0]


# ---- the structures --------------------------------------------------------------------------
# Each keeps the arrays it points into (``keep``): ctypes holds only their addresses.

def pointer(array, ctype):
    return None if array is None else array.ctypes.data_as(POINTER(ctype))


def network(net):
    """``net`` as kernels.c reads it; its parameters are changed in place."""
    if net.params.dtype != np.float32 or not net.params.flags.c_contiguous:
        raise DigitnetError("the compiled engine trains float32 networks only: train with --engine numpy")
    sizes, places = np.array(net.sizes, np.int64), rows_of_layout(net.sizes)
    struct = Net(len(net.sizes) - 1, pointer(sizes, c_int64), pointer(places, c_int64), pointer(net.params, c_float),
                 code("sigma", net.activation), code("sigma", net.cost.output), code("cost", net.cost))
    return struct, (sizes, places, net.params)


def rows_of_layout(sizes):
    """network.layout as rows of numbers: start of W, n_out, n_in, start of b."""
    return np.array([(w, n_out, n_in, b) for w, (n_out, n_in), b in layout(sizes)], np.int64)


def optimiser(optimizer, eta, l2):
    """optimizers.py's ``optimizer`` as kernels.c steps it; its memory is changed in place."""
    arrays, numbers = optimizer.state()
    settings = optimizer.settings()
    if optimizer.name == "adam":
        first, second = arrays["m"], arrays["v"]
        struct = Optimiser(ADAM, numbers["t"], eta, l2, 0.0, settings["beta1"], settings["beta2"], settings["eps"],
                           pointer(first, c_float), pointer(second, c_float))
    else:
        first, second = (arrays["velocity"] if settings["momentum"] else None), None
        struct = Optimiser(SGD, 0, eta, l2, settings["momentum"], 0.0, 0.0, 0.0, pointer(first, c_float), None)
    for array in (first, second):
        if array is not None and (array.dtype != np.float32 or not array.flags.c_contiguous):
            raise DigitnetError("the compiled engine steps float32 optimisers only")
    return struct, (first, second)


def plan(flat, pixels, shift, order, labels, moves, batch_size=1, teacher=None, inked=False, threads=1):
    """The examples ``order`` (rows of ``padded(images, shift)``, images of ``pixels``) with their
    ``labels``, moved as ``moves`` (augment.Moves) says; ``teacher``: None, or (the teacher's outputs
    for these examples, the labels' share of the desired outputs)."""
    n = len(order)
    still = np.zeros(n, np.int64)
    arrays = dict(flat=np.ascontiguousarray(flat, np.uint8), order=as_int64(order), labels=as_int64(labels),
                  dx=as_int64(still if moves.dx is None else moves.dx),
                  dy=as_int64(still if moves.dy is None else moves.dy),
                  warps=None if moves.warps is None else np.ascontiguousarray(moves.warps, np.float32),
                  field=as_int64(still if moves.field is None else moves.field),
                  fields=None if moves.fields is None else np.ascontiguousarray(moves.fields, np.float32),
                  targets=None if teacher is None else np.ascontiguousarray(teacher[0], np.float32))
    fields = arrays["fields"]
    struct = Plan(pointer(arrays["flat"], c_uint8), pixels, math.isqrt(pixels), shift, n, max(1, min(batch_size, n)),
                  pointer(arrays["order"], c_int64), pointer(arrays["labels"], c_int64),
                  pointer(arrays["dx"], c_int64), pointer(arrays["dy"], c_int64), pointer(arrays["warps"], c_float),
                  pointer(arrays["field"], c_int64), pointer(fields, c_float), 0 if fields is None else len(fields),
                  pointer(arrays["targets"], c_float), 1.0 if teacher is None else float(teacher[1]), int(inked),
                  threads)
    return struct, arrays


def as_int64(array):
    return np.ascontiguousarray(array, dtype=np.int64)


# ---- the epoch, and scoring ------------------------------------------------------------------------

def padded(images, shift):
    """The images (rows of side² pixels) laid end to end in one flat vector of bytes, each with
    ``shift`` blank rows above and below it (and ``shift`` blank bytes at either end of the
    whole): an image moved by (dx, dy) is then one contiguous run of side² bytes, which the
    epoch reads as fast as an unmoved one."""
    if not shift:  # unmoved, any shape of image
        return np.ascontiguousarray(images, np.uint8).reshape(-1)
    n, side = len(images), math.isqrt(images.shape[1])
    squares = np.pad(np.reshape(images, (n, side, side)), ((0, 0), (shift, shift), (0, 0)))
    return np.pad(squares.reshape(-1), shift)


def inked_only(sizes, batch_size):
    """Whether reading only the inked pixels pays: where the first layer is wide enough, or the
    batch large enough, for the saving to outweigh making the lists. Measured (seconds an epoch,
    all pixels against inked only): 16 neurons, batch 64: 0.054 against 0.180; 100, batch 10:
    0.28 against 0.38; 100, batch 64: 0.28 against 0.27; 200, batch 10: 2.0 against 1.0; 800,
    batch 10: 4.1 against 1.7, batch 128: 1.95 against 0.95."""
    return sizes[1] >= 200 or sizes[1] * batch_size >= 10_000


def threads():
    """Threads an epoch may use: two if this process may use two processors, else one. kernels.c uses
    the second only for a wide first layer (``inked_only``). Each number is worked out by one thread
    either way, in the same order: the same bits. (784-800-10 at batch 128: 1.22 s an epoch on one
    thread, 0.87 s on two.)"""
    try:
        processors = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        processors = os.cpu_count() or 1
    return 2 if processors > 1 else 1


def train_epoch(net, flat, shift, order, labels, moves, optimizer, eta, batch_size, l2, teacher=None):
    """An epoch of ``Trainer``'s, compiled: the images (``padded(images, shift)``) in ``order``,
    moved as ``moves`` (augment.Moves) says, in batches of ``batch_size``; ``teacher``: None, or
    (the teacher's outputs for these examples, the labels' share of the desired outputs).
    Returns the mean cost and the share classified right."""
    batch_size = max(1, min(batch_size, len(order)))
    the_net, keep_net = network(net)
    the_optimiser, keep_state = optimiser(optimizer, eta, l2)
    the_plan, keep_plan = plan(flat, net.sizes[0], shift, order, labels, moves, batch_size, teacher,
                               inked_only(net.sizes, batch_size), threads())
    score = Score()
    if not library().dn_epoch(the_net, the_optimiser, the_plan, score):
        raise MemoryError(f"not enough memory for an epoch in batches of {batch_size}")
    arrays, numbers = optimizer.state()
    optimizer.restore(arrays, {**numbers, "t": the_optimiser.t})
    return score.cost / max(len(order), 1), score.right / max(len(order), 1)


def accuracy(net, images, labels):
    """``net.score`` for rows of uint8 pixels, compiled."""
    images = np.ascontiguousarray(images, np.uint8).reshape(len(images), -1)
    answers = np.empty(len(images), np.int64)
    the_net, keep = network(net)
    if not library().dn_predict(the_net, pointer(images, c_uint8), len(images), pointer(answers, c_int64)):
        raise MemoryError("not enough memory to score the images")
    return float(np.mean(answers == labels)) if len(images) else 0.0


def deskew(images, side):
    """Rows of uint8 pixels (square images of ``side``) deskewed as deskew.py deskews, as uint8 again."""
    images = np.ascontiguousarray(images, np.uint8).reshape(len(images), -1)
    out = np.empty_like(images)
    if not library().dn_deskew(pointer(images, c_uint8), len(images), side, pointer(out, c_uint8)):
        raise MemoryError("not enough memory to deskew the images")
    return out


# ---- the pieces alone, for the tests ----------------------------------------------------------------

def activate(z, b, sigma):
    """a = σ(z + b) in place in z (float32 rows), σ a registry activation."""
    library().dn_activate(pointer(z, c_float), pointer(b, c_float), *z.shape, code("sigma", sigma))


def chain(delta, a, sigma):
    """δ ⊙ σ'(z) in place in δ, from a = σ(z)."""
    library().dn_chain(pointer(delta, c_float), pointer(a, c_float), delta.size, code("sigma", sigma))


def total_cost(a, labels, cost):
    """The sum over the batch of each example's cost."""
    labels = as_int64(labels)
    return library().dn_total_cost(pointer(a, c_float), pointer(labels, c_int64), *a.shape, code("cost", cost))


def output_delta(a, labels, cost, teacher=None):
    """δ of the output layer for the batch's mean cost (with a teacher's outputs and share, if given)."""
    delta = np.empty_like(a)
    the_plan, keep = plan(np.zeros(1, np.uint8), 1, 0, np.zeros(len(a)), labels, Moves(), teacher=teacher)
    library().dn_output_delta(pointer(a, c_float), the_plan, *a.shape, code("cost", cost), pointer(delta, c_float))
    return delta


def read_images(images, shift, order, moves):
    """The images ``order`` as floats in [0, 1], moved as ``moves`` says, as an epoch reads them."""
    the_plan, keep = plan(padded(images, shift), images.shape[1], shift, order, np.zeros(len(order)), moves)
    x = np.empty((len(order), images.shape[1]), np.float32)
    library().dn_read_images(the_plan, pointer(x, c_float))
    return x


def distort(x, moves):
    """Rows of x (float32) thickened and warped in place as ``moves`` says, as an epoch does."""
    the_plan, keep = plan(np.zeros(1, np.uint8), x.shape[1], 0, np.zeros(len(x)), np.zeros(len(x)), moves)
    if not library().dn_distort(the_plan, pointer(x, c_float)):
        raise MemoryError("not enough memory to distort the images")
