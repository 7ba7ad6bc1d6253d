"""The training epoch, compiled: all of digitnet's speed, and nothing else.

``Network.step`` (network.py) is the mathematics written with NumPy. A mini-batch
there takes some forty NumPy calls, and on the 13,002-parameter network each call
costs more in Python's overhead than in arithmetic. Here the same epoch is written
as loops that numba compiles to machine code, so that a whole epoch is one call:
the large products still go to BLAS (``np.dot``), and everything else (pixels to
floats, σ, δ, the optimiser's step) runs as loops the compiler fuses and turns
into vector instructions. ``tests/test_kernels.py`` checks it against network.py,
optimizers.py and augment.py, step by step and epoch by epoch.

The activations and costs are the registry's (functions.py): each one's form for a
single number is compiled into the loops. Which ones a run uses are compile-time
constants (``numba.literally``), so a run compiles only the code it needs.

Only float32 networks come here, and only where numba is installed and
DIGITNET_COMPILED is not 0; anything else trains through network.py. compiler.py
decides, and gets the compiled code ready without making a run wait for it.
"""

import functools
import inspect
import math
import os

import numba
import numpy as np
from numba.extending import overload

from .compiler import cache_folder, key, mark_ready
from .functions import ACTIVATIONS, COSTS, HELPERS, SOFTMAX
from .network import Network, layout
from .optimizers import make

# error_model="numpy": x / 0 gives inf or NaN as in NumPy (training then reports the
# divergence) instead of raising, which would also stop the loops being vectorised.
# The fast-math flags let the compiler reorder sums and use vector reciprocals; they
# leave out "no NaN, no infinity", so a diverging run still shows as NaN.
FLAGS = dict(nogil=True, error_model="numpy", fastmath={"contract", "reassoc", "arcp", "nsz", "afn"})

SIGMAS = (*ACTIVATIONS.values(), SOFTMAX)  # a layer's σ, by number
CHOSEN_COSTS = tuple(COSTS.values())
SGD, ADAM = 0, 1
F32 = np.float32


def compiled(function):
    """``function`` compiled by numba, its machine code cached in ``cache_folder()``; where
    that cannot be written, compiled afresh each run rather than cached anywhere else."""
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        return numba.njit(cache=False, **FLAGS)(function)
    previous, numba.config.CACHE_DIR = numba.config.CACHE_DIR, str(folder)  # read as the cache is set up
    try:
        return numba.njit(cache=True, **FLAGS)(function)
    finally:
        numba.config.CACHE_DIR = previous


# ---- the registry's forms, compiled into the loops -----------------------------------------
# Each function below is called with a constant number that picks a registry entry
# (``kind``: a σ of SIGMAS; ``cost``: a cost of CHOSEN_COSTS). The function itself is
# never run: its overload hands numba loops with the entry's single-number form inside.

def compile_form(kind, registry, form):
    """The entry's ``form`` (a function of functions.py), compiled; ``kind`` must be a constant."""
    if not isinstance(kind, numba.types.IntegerLiteral):
        raise numba.errors.TypingError("the kind of σ or cost must be a compile-time constant")
    return numba.njit(**FLAGS)(getattr(registry[kind.literal_value], form))


def compile_helper(helper):
    """Let compiled code call ``helper``, a plain function: numba compiles it where it is called."""
    def implementation(*args):
        return helper
    implementation.__signature__ = inspect.signature(helper)  # numba checks the two agree
    overload(helper, jit_options=FLAGS)(implementation)


for helper in HELPERS:
    compile_helper(helper)


def activate(z, b, kind):
    """a = σ(z + b) in place in z, for every row (example) of z."""


@overload(activate, jit_options=FLAGS)
def _activate(z, b, kind):
    f = compile_form(kind, SIGMAS, "fast")

    def rowwise(z, b, kind):  # softmax: each row (example) as a whole
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                z[i, j] += b[j]
            f(z[i])

    def each(z, b, kind):
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                z[i, j] = f(z[i, j] + b[j])
    return rowwise if SIGMAS[kind.literal_value].rowwise else each


def chain(delta, a, kind):
    """δ ⊙ σ'(z) in place in δ, with σ'(z) from a = σ(z)."""


@overload(chain, jit_options=FLAGS)
def _chain(delta, a, kind):
    prime = compile_form(kind, SIGMAS, "fast_prime")

    def impl(delta, a, kind):
        for i in range(delta.shape[0]):
            for j in range(delta.shape[1]):
                delta[i, j] *= prime(a[i, j])
    return impl


def output_delta(a, labels, cost, delta):
    """δ of the output layer for the batch's mean cost (y is 1 at each example's label, else 0)."""


@overload(output_delta, jit_options=FLAGS)
def _output_delta(a, labels, cost, delta):
    fast_delta = compile_form(cost, CHOSEN_COSTS, "fast_delta")

    def impl(a, labels, cost, delta):
        m, n = a.shape
        for i in range(m):
            for j in range(n):
                y = F32(1) if labels[i] == j else F32(0)
                delta[i, j] = fast_delta(a[i, j], y) / F32(m)
    return impl


def total_cost(a, labels, cost):
    """The sum over the batch of each example's cost."""


@overload(total_cost, jit_options=FLAGS)
def _total_cost(a, labels, cost):
    term = compile_form(cost, CHOSEN_COSTS, "fast_term")

    def impl(a, labels, cost):
        total = 0.0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                total += term(a[i, j], F32(1) if labels[i] == j else F32(0))
        return total
    return impl


# ---- the pieces of an epoch ---------------------------------------------------------------------

# OpenBLAS multiplies a skinny matrix of up to about 80 rows by the 784 × 16 weights in its
# small-matrix kernels, two to four times faster per row than a taller one, so the products
# go 64 rows at a time.
BLOCK = 64


def padded(images, shift):
    """The images (rows of side² pixels) laid end to end in one flat vector of bytes, each with
    ``shift`` blank rows above and below it (and ``shift`` blank bytes at either end of the
    whole): an image moved by (dx, dy) is then one contiguous run of side² bytes from
    ``start(i, dx, dy)``, which read_images can read as fast as an unmoved one."""
    if not shift:  # unmoved, any shape of image
        return np.ascontiguousarray(images).reshape(-1)
    n, side = len(images), math.isqrt(images.shape[1])
    squares = np.pad(np.reshape(images, (n, side, side)), ((0, 0), (shift, shift), (0, 0)))
    return np.pad(squares.reshape(-1), shift)


@compiled
def read_images(flat, rows, dx, dy, side, shift, x):
    """Row i of x = image rows[i] moved by (−dx[i], −dy[i]) as augment.shifted moves it, as
    floats in [0, 1]: at (r, c), the image's pixel at (r + dy, c + dx), or 0 outside it.

    In the ``padded`` layout the run of side² bytes from the moved start is the moved image,
    but for the pixels that came round from the row above or below, in the |dx| columns
    at one edge: they lie outside the image, so they are set to 0."""
    n = x.shape[1]
    stride = n + 2 * shift * side  # bytes from one image to the next
    for i in range(len(rows)):
        start = shift + rows[i] * stride + (shift + dy[i]) * side + dx[i]
        run, out = flat[start:start + n], x[i]
        for p in range(n):
            out[p] = run[p] * F32(1 / 255)
        if dx[i] != 0:
            first = side - dx[i] if dx[i] > 0 else 0
            for r in range(side):
                for c in range(first, first + abs(dx[i])):
                    out[r * side + c] = 0


@compiled
def rows(buffer, start, m, n):
    """m rows of n values from ``buffer[start:]``: a view."""
    return buffer[start:start + m * n].reshape(m, n)


@compiled
def forward(activations, starts, batch_size, m, sizes, places, params, hidden, output):
    """a' = σ(W a + b), layer by layer, for m examples whose inputs are in place. Layer l's
    activations (l = 0: the input) are rows of ``activations`` from batch_size · starts[l],
    and all are kept for backprop. ``places`` is network.layout as rows (start of W, n_out,
    n_in, start of b)."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    L = len(sizes) - 1
    for l in range(L):
        a = rows(activations, batch_size * starts[l], m, sizes[l])
        z = rows(activations, batch_size * starts[l + 1], m, sizes[l + 1])
        W = rows(params, places[l, 0], places[l, 1], places[l, 2])
        b = params[places[l, 3]:places[l, 3] + places[l, 1]]
        for i in range(0, m, BLOCK):  # z = a Wᵀ, then σ(z + b)
            np.dot(a[i:i + BLOCK], W.T, z[i:i + BLOCK])
        if l < L - 1:
            activate(z, b, hidden)
        else:
            activate(z, b, output)


@compiled
def backprop(activations, deltas, starts, batch_size, m, labels, sizes, places, params, gradient, scratch,
             hidden, cost):
    """The gradient of the batch's mean cost after ``forward``: δ at the output, then for each
    layer ∂C/∂W = δᵀ a and ∂C/∂b = Σ δ, and δ = (δ' W') ⊙ σ'(z) for the layer below.
    ``deltas`` is laid out as ``activations``; ``gradient`` as the parameters."""
    hidden, cost = numba.literally(hidden), numba.literally(cost)
    L = len(sizes) - 1
    delta = rows(deltas, batch_size * starts[L], m, sizes[L])
    output_delta(rows(activations, batch_size * starts[L], m, sizes[L]), labels, cost, delta)
    for l in range(L - 1, -1, -1):
        a = rows(activations, batch_size * starts[l], m, sizes[l])
        nabla_W = rows(gradient, places[l, 0], places[l, 1], places[l, 2])
        nabla_b = gradient[places[l, 3]:places[l, 3] + places[l, 1]]
        np.dot(delta[:BLOCK].T, a[:BLOCK], nabla_W)  # δᵀ a, summed block by block
        part = rows(scratch, 0, places[l, 1], places[l, 2])
        for i in range(BLOCK, m, BLOCK):
            np.dot(delta[i:i + BLOCK].T, a[i:i + BLOCK], part)
            for r in range(part.shape[0]):
                for c in range(part.shape[1]):
                    nabla_W[r, c] += part[r, c]
        for j in range(nabla_b.size):
            nabla_b[j] = 0
        for i in range(m):
            for j in range(nabla_b.size):
                nabla_b[j] += delta[i, j]
        if l > 0:
            below = rows(deltas, batch_size * starts[l], m, sizes[l])
            np.dot(delta, rows(params, places[l, 0], places[l, 1], places[l, 2]), below)
            chain(below, a, hidden)
            delta = below


@compiled
def step(params, gradient, places, eta, l2, optimizer, hyper, t, state1, state2):
    """One step downhill, as optimizers.py takes it: SGD (hyper: momentum; state1: velocity) or
    Adam (hyper: β₁, β₂, ε; state1, state2: m and v); with L2, λ w added to each weight's
    gradient first. Returns the steps taken (Adam's t)."""
    optimizer = numba.literally(optimizer)
    if l2 != 0:
        for l in range(len(places)):
            for q in range(places[l, 0], places[l, 0] + places[l, 1] * places[l, 2]):
                gradient[q] += F32(l2) * params[q]
    if optimizer == SGD:
        momentum = F32(hyper[0])
        for q in range(params.size):
            if momentum == 0:
                params[q] -= F32(eta) * gradient[q]
            else:
                state1[q] = momentum * state1[q] - F32(eta) * gradient[q]
                params[q] += state1[q]
        return t
    t += 1  # Adam's bias corrections folded into the step size, as in Adam.step_size
    beta1, beta2, eps = F32(hyper[0]), F32(hyper[1]), F32(hyper[2])
    size = F32(eta * np.sqrt(1 - hyper[1] ** t) / (1 - hyper[0] ** t))
    for q in range(params.size):
        g = gradient[q]
        state1[q] = beta1 * state1[q] + (F32(1) - beta1) * g
        state2[q] = beta2 * state2[q] + (F32(1) - beta2) * g * g
        params[q] -= size * state1[q] / (np.sqrt(state2[q]) + eps)
    return t


@compiled
def layer_starts(sizes):
    """Where each layer's values start in a batch's buffer, in rows of the batch: 0, then the
    running sum of the sizes (the last entry is the whole)."""
    starts = np.zeros(len(sizes) + 1, np.int64)
    for l in range(len(sizes)):
        starts[l + 1] = starts[l] + sizes[l]
    return starts


@compiled
def epoch(flat, order, labels, dx, dy, side, shift, sizes, places, batch_size, params, gradient,
          hidden, output, cost, optimizer, eta, l2, hyper, t, state1, state2):
    """One epoch of stochastic gradient descent, as ``Trainer`` runs it with Network.step.

    Example i is image order[i] (of ``padded``'s flat layout), moved by (dx[i], dy[i]),
    with label labels[i]; examples are taken in that order, batch_size at a time.
    Returns the optimiser's steps taken, the total cost and the number classified right,
    each example scored as it went through the network."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    cost, optimizer = numba.literally(cost), numba.literally(optimizer)
    n, L, starts = len(order), len(sizes) - 1, layer_starts(sizes)
    activations = np.empty(batch_size * starts[-1], F32)
    deltas = np.empty(batch_size * starts[-1], F32)
    scratch = np.empty(gradient.size, F32)
    total, right = 0.0, 0
    for k in range(0, n, batch_size):
        m = min(batch_size, n - k)
        y = labels[k:k + m]
        read_images(flat, order[k:k + m], dx[k:k + m], dy[k:k + m], side, shift, rows(activations, 0, m, sizes[0]))
        forward(activations, starts, batch_size, m, sizes, places, params, hidden, output)
        out = rows(activations, batch_size * starts[L], m, sizes[L])
        total += total_cost(out, y, cost)
        for i in range(m):
            right += np.argmax(out[i]) == y[i]
        backprop(activations, deltas, starts, batch_size, m, y, sizes, places, params, gradient, scratch,
                 hidden, cost)
        t = step(params, gradient, places, eta, l2, optimizer, hyper, t, state1, state2)
    return t, total, right


@compiled
def predict(images, sizes, places, params, hidden, output, answers):
    """The network's answer (its brightest output) for every row of uint8 pixels ``images``,
    BLOCK rows at a time, into ``answers``."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    L, starts = len(sizes) - 1, layer_starts(sizes)
    activations = np.empty(BLOCK * starts[-1], F32)
    for k in range(0, len(images), BLOCK):
        m = min(BLOCK, len(images) - k)
        x = rows(activations, 0, m, sizes[0])
        for i in range(m):
            for p in range(sizes[0]):
                x[i, p] = images[k + i, p] * F32(1 / 255)
        forward(activations, starts, BLOCK, m, sizes, places, params, hidden, output)
        out = rows(activations, BLOCK * starts[L], m, sizes[L])
        for i in range(m):
            answers[k + i] = np.argmax(out[i])


@functools.cache
def epoch_for(hidden, output, cost, optimizer):
    """``epoch`` for one choice of hidden σ, output σ, cost and optimiser, compiled with them as
    constants: a run compiles only what it uses, and calls it without numba looking again."""
    def run(flat, order, labels, dx, dy, side, shift, sizes, places, batch_size, params, gradient,
            eta, l2, hyper, t, state1, state2):
        return epoch(flat, order, labels, dx, dy, side, shift, sizes, places, batch_size, params, gradient,
                     hidden, output, cost, optimizer, eta, l2, hyper, t, state1, state2)
    return compiled(run)


@functools.cache
def predict_for(hidden, output):
    """``predict`` for one choice of hidden and output σ, as ``epoch_for``."""
    def run(images, sizes, places, params, answers):
        predict(images, sizes, places, params, hidden, output, answers)
    return compiled(run)


# ---- from Python -----------------------------------------------------------------------------
# The wrapper gives the compiled function its arguments always with the same types, so
# that it is compiled once (and cached on disk) rather than once per combination of
# read-only, integer and float types a caller happens to have.

def load(net, optimizer):
    """Load the compiled epoch and scoring for ``net``'s activation and cost and ``optimizer``
    from the cache, or compile them: an epoch and a scoring of no examples."""
    none = np.empty(0, np.int64)
    no_images = np.zeros((0, net.sizes[0]), np.uint8)
    train_epoch(net, padded(no_images, 0), 0, none, none, none, none, optimizer, 1.0, 1, 0.0)
    accuracy(net, no_images, none)


def compile_now(activation, cost, optimizer):
    """Compile (or load) the epoch for this choice, then tell other processes it is ready:
    what compiler.compile_later runs in its own process."""
    net = Network((4, 3, 2), activation, cost)  # the compiled code is the same for any layer sizes
    try:
        load(net, make(optimizer, net.params.size))
        mark_ready(net, optimizer)
    finally:
        (cache_folder() / f"compiling-{key(net, optimizer)}").unlink(missing_ok=True)


def train_epoch(net, flat, shift, order, labels, dx, dy, optimizer, eta, batch_size, l2):
    """An epoch of ``Trainer``'s, compiled: the images (``padded(images, shift)``) in ``order``,
    moved by (dx, dy), in batches of ``batch_size``. Returns the mean cost and the share
    classified right."""
    arrays, numbers = optimizer.state()
    settings = optimizer.settings()
    if optimizer.name == "adam":
        kind, hyper, state = ADAM, (settings["beta1"], settings["beta2"], settings["eps"]), (arrays["m"], arrays["v"])
    else:
        kind, hyper, state = SGD, (settings["momentum"], 0.0, 0.0), (arrays["velocity"], arrays["velocity"])
    hidden, output, cost = codes(net)
    run = epoch_for(hidden, output, cost, kind)
    t, total, right = run(
        read_only(flat), as_int64(order), as_int64(labels), as_int64(dx), as_int64(dy), math.isqrt(net.sizes[0]),
        shift, np.array(net.sizes, np.int64), places(net), max(1, min(batch_size, len(order))), net.params,
        np.empty_like(net.params), float(eta), float(l2), np.array(hyper, np.float64), numbers.get("t", 0), *state)
    optimizer.restore(arrays, {**numbers, "t": t})
    return total / max(len(order), 1), right / max(len(order), 1)


def accuracy(net, images, labels):
    """``net.score`` for rows of uint8 pixels, compiled."""
    answers = np.empty(len(images), np.int64)
    predict_for(*codes(net)[:2])(read_only(images), np.array(net.sizes, np.int64), places(net), net.params, answers)
    return float(np.mean(answers == labels)) if len(images) else 0.0


def codes(net):
    """The numbers of the network's hidden σ, output σ and cost, in SIGMAS and CHOSEN_COSTS."""
    return SIGMAS.index(net.activation), SIGMAS.index(net.cost.output), CHOSEN_COSTS.index(net.cost)


def places(net):
    """network.layout as rows of numbers: start of W, n_out, n_in, start of b."""
    return np.array([(w, n_out, n_in, b) for w, (n_out, n_in), b in layout(net.sizes)], np.int64)


def as_int64(array):
    return np.ascontiguousarray(array, dtype=np.int64)


def read_only(array):
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view
