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

from .augment import Moves
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


@functools.cache
def writable_cache():
    """``cache_folder()``, made if need be, or None if it cannot be written."""
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder if os.access(folder, os.W_OK) else None
    except OSError:
        return None


def compiled(function):
    """``function`` compiled by numba, its machine code cached in ``cache_folder()``; where
    that cannot be written, compiled afresh each run rather than cached anywhere else."""
    folder = writable_cache()
    if folder is None:
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


def output_delta(a, labels, cost, delta, targets, share):
    """δ of the output layer for the batch's mean cost: y is 1 at each example's label, else 0;
    or, given a teacher's ``targets`` (a row per example), y = share · that + (1 − share) · targets
    (training.Trainer.desired)."""


@overload(output_delta, jit_options=FLAGS)
def _output_delta(a, labels, cost, delta, targets, share):
    fast_delta = compile_form(cost, CHOSEN_COSTS, "fast_delta")

    def impl(a, labels, cost, delta, targets, share):
        m, n = a.shape
        for i in range(m):
            for j in range(n):
                y = F32(1) if labels[i] == j else F32(0)
                if len(targets):
                    y = F32(share) * y + F32(1 - share) * targets[i, j]
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
    at one edge: they lie outside the image, so they are set to 0.

    Four images at a time: they lie anywhere in memory, and reading four at once lets the
    processor wait for all four together (a third faster than one by one)."""
    m, n = x.shape
    stride = n + 2 * shift * side  # bytes from one image to the next
    starts = shift + rows * stride + (shift + dy) * side + dx
    i = 0
    while i + 4 <= m:
        r0, r1 = flat[starts[i]:starts[i] + n], flat[starts[i + 1]:starts[i + 1] + n]
        r2, r3 = flat[starts[i + 2]:starts[i + 2] + n], flat[starts[i + 3]:starts[i + 3] + n]
        for p in range(n):
            x[i, p] = r0[p] * F32(1 / 255)
            x[i + 1, p] = r1[p] * F32(1 / 255)
            x[i + 2, p] = r2[p] * F32(1 / 255)
            x[i + 3, p] = r3[p] * F32(1 / 255)
        i += 4
    for rest in range(i, m):
        run = flat[starts[rest]:starts[rest] + n]
        for p in range(n):
            x[rest, p] = run[p] * F32(1 / 255)
    for i in range(m):
        out = x[i]
        if dx[i] != 0:
            first = side - dx[i] if dx[i] > 0 else 0
            for r in range(side):
                for c in range(first, first + abs(dx[i])):
                    out[r * side + c] = 0


@compiled
def distort(x, warps, field, fields, side, padded):
    """Each row of x thickened and warped in place as augment.moved does after shifting:
    warps[i] is (angle, scale, thickness); field[i] which of ``fields`` it takes (if any).
    ``padded``: room for (side + 3)² values, an image with a blank border."""
    still = np.empty((0, side * side), F32)  # no elastic field
    where, share = np.empty(side, np.int32), np.empty((2, side), F32)
    for i in range(x.shape[0]):
        angle, scale, thickness = warps[i, 0], warps[i, 1], warps[i, 2]
        if thickness != 0:
            thicken(x[i], thickness, side, padded)
        if len(fields):
            warp(x[i], angle, scale, fields[field[i]], side, padded, where, share)
        elif angle != 0 or scale != 1:
            warp(x[i], angle, scale, still, side, padded, where, share)


@compiled
def bordered(x, side, padded):
    """The image x (side² values) in ``padded`` with a blank border: one pixel wide above and to the
    left, two below and to the right (where ``warp`` reads one pixel past the first)."""
    frame = padded[:(side + 3) * (side + 3)].reshape(side + 3, side + 3)
    frame[...] = 0
    for r in range(side):
        for c in range(side):
            frame[r + 1, c + 1] = x[r * side + c]
    return frame


@compiled
def thicken(x, t, side, padded):
    """augment.thickened for one image x and thickness t, in place."""
    frame = bordered(x, side, padded)
    share = abs(t)
    for r in range(1, side + 1):
        for c in range(1, side + 1):
            here, up, down = frame[r, c], frame[r - 1, c], frame[r + 1, c]
            left, right = frame[r, c - 1], frame[r, c + 1]
            if t > 0:
                target = max(max(max(here, up), max(down, left)), right)
            else:
                target = min(min(min(here, up), min(down, left)), right)
            x[(r - 1) * side + c - 1] = here + share * (target - here)


@compiled
def warp(x, angle, scale, field, side, padded, where, share):
    """augment.warped for one image x, in place: turned by ``angle``, enlarged by ``scale`` and
    displaced by ``field`` (2 × side², or empty for none), read by bilinear interpolation.

    A row at a time, in two passes: first where each pixel reads from, as arithmetic the
    compiler turns into vector instructions (``where``: the frame's pixel above and left of
    the point, ``share``: how far the point lies below and right of it), then the reads."""
    frame = bordered(x, side, padded).reshape(-1)
    width = side + 3
    centre = F32((side - 1) / 2)
    cos, sin = F32(math.cos(angle)) / scale, F32(math.sin(angle)) / scale
    lo, hi = F32(0), F32(side + 1)  # the frame's first and last row (or column): blank
    for row in range(side):
        r = F32(row) - centre
        for col in range(side):
            c = F32(col) - centre
            down, across = centre + cos * r - sin * c, centre + sin * r + cos * c
            if len(field):
                down, across = down + field[0, row * side + col], across + field[1, row * side + col]
            down = min(max(down + F32(1), lo), hi)  # in the frame, whose pixel (1, 1) is the image's (0, 0)
            across = min(max(across + F32(1), lo), hi)
            t, l = np.int32(down), np.int32(across)  # floor: both are 0 or more
            share[0, col], share[1, col] = down - F32(t), across - F32(l)
            where[col] = t * width + l
        for col in range(side):
            q, u, v = where[col], share[0, col], share[1, col]
            x[row * side + col] = ((F32(1) - u) * ((F32(1) - v) * frame[q] + v * frame[q + 1])
                                   + u * ((F32(1) - v) * frame[q + width] + v * frame[q + width + 1]))


@compiled
def rows(buffer, start, m, n):
    """m rows of n values from ``buffer[start:]``: a view."""
    return buffer[start:start + m * n].reshape(m, n)


@compiled
def inked(x, index, value, counts):
    """Each row of x as the list of its non-zero pixels: where they are (``index``), how bright
    (``value``) and how many (``counts``). An MNIST digit is four-fifths black, and a black
    pixel adds nothing to W a, nor to the gradient δᵀ a."""
    for i in range(x.shape[0]):
        k = 0
        for p in range(x.shape[1]):
            if x[i, p] != 0:
                index[i, k] = p
                value[i, k] = x[i, p]
                k += 1
        counts[i] = k


@compiled
def first_layer(index, value, counts, columns, z):
    """z = a Wᵀ of the first layer (as forward's np.dot), from the inked pixels only: each row of z
    is the sum of W's columns, one per inked pixel, times its value. ``columns`` is W stored
    transposed, one row per pixel, so that each column is read in one piece."""
    for i in range(z.shape[0]):
        zi = z[i]
        zi[:] = 0
        add_rows(zi, columns, index[i], value[i], counts[i])


@compiled
def first_layer_gradient(pixels, examples, values, starts, delta, nabla_columns):
    """∂C/∂W = δᵀ a of the first layer (as backprop's np.dot), transposed like ``first_layer``'s W:
    row p is Σ δ · a_p over the examples in which pixel p is inked (``by_pixel``), 0 if none is."""
    nabla_columns[...] = 0
    for p in range(len(pixels)):
        a, b = starts[p], starts[p + 1]
        add_rows(nabla_columns[pixels[p]], delta, examples[a:b], values[a:b], b - a)


@compiled
def add_rows(out, source, which, weights, n):
    """out += Σ weights[k] · source[which[k]] over the first n of ``which``, four rows at a time,
    so that ``out`` is read and written once for every four rows added."""
    k = 0
    while k + 4 <= n:
        r0, r1, r2, r3 = source[which[k]], source[which[k + 1]], source[which[k + 2]], source[which[k + 3]]
        w0, w1, w2, w3 = weights[k], weights[k + 1], weights[k + 2], weights[k + 3]
        for j in range(out.size):
            out[j] += w0 * r0[j] + w1 * r1[j] + w2 * r2[j] + w3 * r3[j]
        k += 4
    for last in range(k, n):
        r, w = source[which[last]], weights[last]
        for j in range(out.size):
            out[j] += w * r[j]


@compiled
def by_pixel(index, value, counts, pixels, examples, values, starts):
    """``inked``'s lists the other way round: for each pixel inked in any example (``pixels``, in
    order), the examples it is inked in and its value there, from starts[p] to starts[p + 1].
    Returns how many pixels are inked anywhere."""
    n_pixels = len(pixels)
    per_pixel = np.zeros(n_pixels + 1, np.int64)
    for i in range(len(counts)):
        for k in range(counts[i]):
            per_pixel[index[i, k] + 1] += 1
    used = 0
    for q in range(n_pixels):  # the inked pixels, their runs laid end to end
        if per_pixel[q + 1]:
            pixels[used] = q
            starts[used + 1] = starts[used] + per_pixel[q + 1]
            per_pixel[q + 1] = used
            used += 1
    filled = starts[:used].copy()
    for i in range(len(counts)):
        for k in range(counts[i]):
            u = per_pixel[index[i, k] + 1]
            examples[filled[u]], values[filled[u]] = i, value[i, k]
            filled[u] += 1
    return used


@compiled
def transpose(vector, start, n_rows, n_cols, scratch):
    """The n_rows × n_cols matrix in ``vector`` from ``start`` rewritten in place as its transpose."""
    block = vector[start:start + n_rows * n_cols]
    scratch[:block.size] = block
    square = scratch[:block.size].reshape(n_rows, n_cols)
    for c in range(n_cols):
        for r in range(n_rows):
            block[c * n_rows + r] = square[r, c]


@compiled
def forward(activations, starts, batch_size, m, sizes, places, params, hidden, output, columns, inputs):
    """a' = σ(W a + b), layer by layer, for m examples whose inputs are in place. Layer l's
    activations (l = 0: the input) are rows of ``activations`` from batch_size · starts[l],
    and all are kept for backprop. ``places`` is network.layout as rows (start of W, n_out,
    n_in, start of b). With ``columns``, the first layer's W is stored transposed and the first
    layer reads only the inked pixels, ``inputs`` (see ``inked`` and ``first_layer``)."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    L = len(sizes) - 1
    for l in range(L):
        a = rows(activations, batch_size * starts[l], m, sizes[l])
        z = rows(activations, batch_size * starts[l + 1], m, sizes[l + 1])
        b = params[places[l, 3]:places[l, 3] + places[l, 1]]
        if l == 0 and columns:
            index, value, counts = inputs
            first_layer(index, value, counts, rows(params, places[0, 0], places[0, 2], places[0, 1]), z)
        else:
            W = rows(params, places[l, 0], places[l, 1], places[l, 2])
            for i in range(0, m, BLOCK):  # z = a Wᵀ, then σ(z + b)
                np.dot(a[i:i + BLOCK], W.T, z[i:i + BLOCK])
        if l < L - 1:
            activate(z, b, hidden)
        else:
            activate(z, b, output)


@compiled
def weight_gradient(delta, a, nabla_W, part):
    """∂C/∂W = δᵀ a, summed BLOCK rows at a time (``part``: room for one block's)."""
    np.dot(delta[:BLOCK].T, a[:BLOCK], nabla_W)
    for i in range(BLOCK, len(a), BLOCK):
        np.dot(delta[i:i + BLOCK].T, a[i:i + BLOCK], part)
        for r in range(part.shape[0]):
            for c in range(part.shape[1]):
                nabla_W[r, c] += part[r, c]


@compiled
def backprop(activations, deltas, starts, batch_size, m, labels, targets, share, sizes, places, params, gradient,
             scratch, hidden, cost, columns, inputs):
    """The gradient of the batch's mean cost after ``forward``: δ at the output, then for each
    layer ∂C/∂W = δᵀ a and ∂C/∂b = Σ δ, and δ = (δ' W') ⊙ σ'(z) for the layer below.
    ``deltas`` is laid out as ``activations``; ``gradient`` as the parameters (with the
    first layer's W transposed, as in ``forward``, with ``columns``; ``inputs`` are then ``by_pixel``'s).
    ``targets`` and ``share``: a teacher's, as ``output_delta`` takes them."""
    hidden, cost = numba.literally(hidden), numba.literally(cost)
    L = len(sizes) - 1
    delta = rows(deltas, batch_size * starts[L], m, sizes[L])
    output_delta(rows(activations, batch_size * starts[L], m, sizes[L]), labels, cost, delta, targets, share)
    for l in range(L - 1, -1, -1):
        a = rows(activations, batch_size * starts[l], m, sizes[l])
        if l == 0 and columns:
            pixels, examples, values, runs = inputs
            first_layer_gradient(pixels, examples, values, runs, delta,
                                 rows(gradient, places[0, 0], places[0, 2], places[0, 1]))
        else:
            weight_gradient(delta, a, rows(gradient, places[l, 0], places[l, 1], places[l, 2]),
                            rows(scratch, 0, places[l, 1], places[l, 2]))
        nabla_b = gradient[places[l, 3]:places[l, 3] + places[l, 1]]
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
        if momentum == 0:  # a branch outside the loop, so the loop is plain vector arithmetic
            for q in range(params.size):
                params[q] -= F32(eta) * gradient[q]
        else:
            for q in range(params.size):
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
def brightest(a):
    """The index of the largest of the outputs a: the network's answer (np.argmax, without its
    checks, which cost more than the search for ten numbers)."""
    best = 0
    for j in range(1, len(a)):
        best = j if a[j] > a[best] else best
    return best


@compiled
def layer_starts(sizes):
    """Where each layer's values start in a batch's buffer, in rows of the batch: 0, then the
    running sum of the sizes (the last entry is the whole)."""
    starts = np.zeros(len(sizes) + 1, np.int64)
    for l in range(len(sizes)):
        starts[l + 1] = starts[l] + sizes[l]
    return starts


@compiled
def epoch(flat, order, labels, targets, share, dx, dy, warps, field, fields, side, shift, sizes, places, batch_size,
          columns, params, gradient, hidden, output, cost, optimizer, eta, l2, hyper, t, state1, state2):
    """One epoch of stochastic gradient descent, as ``Trainer`` runs it with Network.step.

    Example i is image order[i] (of ``padded``'s flat layout), moved by (dx[i], dy[i]) and,
    if ``warps`` has rows, distorted as ``distort`` says, with label labels[i] (and, if
    ``targets`` has rows, a teacher's outputs targets[i], of which the desired output takes
    the share 1 − ``share``); examples are taken in that order, batch_size at a time. With
    ``columns``, the first layer reads only the inked pixels (worth it for a wide first
    layer). Returns the optimiser's steps taken, the total cost and the number classified
    right, each example scored as it went through the network."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    cost, optimizer = numba.literally(cost), numba.literally(optimizer)
    n, L, starts, n_in = len(order), len(sizes) - 1, layer_starts(sizes), sizes[0]
    activations = np.empty(batch_size * starts[-1], F32)
    deltas = np.empty(batch_size * starts[-1], F32)
    scratch = np.empty(max(gradient.size, (side + 3) * (side + 3)), F32)
    index, value, counts = np.empty((batch_size, n_in), np.int64), np.empty((batch_size, n_in), F32), np.empty(
        batch_size, np.int64)
    pixels, runs = np.empty(n_in, np.int64), np.zeros(n_in + 1, np.int64)
    examples, values = np.empty(batch_size * n_in, np.int64), np.empty(batch_size * n_in, F32)
    if columns:
        in_columns(params, state1, state2, places[0], scratch)
    total, right = 0.0, 0
    for k in range(0, n, batch_size):
        m = min(batch_size, n - k)
        y = labels[k:k + m]
        x = rows(activations, 0, m, n_in)
        read_images(flat, order[k:k + m], dx[k:k + m], dy[k:k + m], side, shift, x)
        if len(warps):
            distort(x, warps[k:k + m], field[k:k + m], fields, side, scratch)
        used = 0
        if columns:
            inked(x, index, value, counts)
            used = by_pixel(index[:m], value[:m], counts[:m], pixels, examples, values, runs)
        forward(activations, starts, batch_size, m, sizes, places, params, hidden, output, columns,
                (index[:m], value[:m], counts[:m]))
        out = rows(activations, batch_size * starts[L], m, sizes[L])
        total += total_cost(out, y, cost)
        for i in range(m):
            right += brightest(out[i]) == y[i]
        backprop(activations, deltas, starts, batch_size, m, y, targets[k:k + m], share, sizes, places, params,
                 gradient, scratch, hidden, cost, columns, (pixels[:used], examples, values, runs))
        t = step(params, gradient, places, eta, l2, optimizer, hyper, t, state1, state2)
    if columns:
        in_columns(params, state1, state2, places[0], scratch, back=True)
    return t, total, right


@compiled
def in_columns(params, state1, state2, place, scratch, back=False):
    """The first layer's W (at ``place``, a row of ``places``) transposed to one row per input, in
    the parameters and in the optimiser's state of the same layout, or ``back`` again."""
    w, n_out, n_in = place[0], place[1], place[2]
    for vector in (params, state1, state2):
        if vector.size == params.size:  # SGD without momentum keeps no state
            transpose(vector, w, n_in if back else n_out, n_out if back else n_in, scratch)


@compiled
def predict(images, sizes, places, params, hidden, output, answers):
    """The network's answer (its brightest output) for every row of uint8 pixels ``images``,
    BLOCK rows at a time, into ``answers``."""
    hidden, output = numba.literally(hidden), numba.literally(output)
    L, starts = len(sizes) - 1, layer_starts(sizes)
    activations = np.empty(BLOCK * starts[-1], F32)
    nothing = (np.empty((0, 0), np.int64), np.empty((0, 0), F32), np.empty(0, np.int64))
    for k in range(0, len(images), BLOCK):
        m = min(BLOCK, len(images) - k)
        x = rows(activations, 0, m, sizes[0])
        for i in range(m):
            for p in range(sizes[0]):
                x[i, p] = images[k + i, p] * F32(1 / 255)
        forward(activations, starts, BLOCK, m, sizes, places, params, hidden, output, False, nothing)
        out = rows(activations, BLOCK * starts[L], m, sizes[L])
        for i in range(m):
            answers[k + i] = brightest(out[i])


@functools.cache
def epoch_for(hidden, output, cost, optimizer):
    """``epoch`` for one choice of hidden σ, output σ, cost and optimiser, compiled with them as
    constants: a run compiles only what it uses, and calls it without numba looking again."""
    def run(flat, order, labels, targets, share, dx, dy, warps, field, fields, side, shift, sizes, places, batch_size,
            columns, params, gradient, eta, l2, hyper, t, state1, state2):
        return epoch(flat, order, labels, targets, share, dx, dy, warps, field, fields, side, shift, sizes, places,
                     batch_size, columns, params, gradient, hidden, output, cost, optimizer, eta, l2, hyper, t,
                     state1, state2)
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
    train_epoch(net, padded(no_images, 0), 0, none, none, Moves(), optimizer, 1.0, 1, 0.0)
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


def inked_only(sizes, batch_size):
    """Whether reading only the inked pixels (``inked``) pays: where the first layer is wide enough,
    or the batch large enough, for the saving to outweigh making the lists. Measured (seconds an
    epoch, all pixels against inked only): 16 neurons, batch 64: 0.054 against 0.180; 100, batch 10:
    0.28 against 0.38; 100, batch 64: 0.28 against 0.27; 200, batch 10: 2.0 against 1.0; 800,
    batch 10: 4.1 against 1.7, batch 128: 1.95 against 0.95."""
    return sizes[1] >= 200 or sizes[1] * batch_size >= 10_000


def train_epoch(net, flat, shift, order, labels, moves, optimizer, eta, batch_size, l2, teacher=None):
    """An epoch of ``Trainer``'s, compiled: the images (``padded(images, shift)``) in ``order``,
    moved as ``moves`` (augment.Moves) says, in batches of ``batch_size``; ``teacher``: None, or
    (the teacher's outputs for these examples, the labels' share of the desired outputs).
    Returns the mean cost and the share classified right."""
    arrays, numbers = optimizer.state()
    settings = optimizer.settings()
    if optimizer.name == "adam":
        kind, hyper, state = ADAM, (settings["beta1"], settings["beta2"], settings["eps"]), (arrays["m"], arrays["v"])
    else:
        kind, hyper, state = SGD, (settings["momentum"], 0.0, 0.0), (arrays["velocity"], np.empty(0, np.float32))
    side = math.isqrt(net.sizes[0])
    still = np.zeros(len(order), np.int64)
    warps = np.zeros((0, 3), np.float32) if moves.warps is None else moves.warps
    field = still if moves.field is None else moves.field
    fields = np.zeros((0, 2, side * side), np.float32) if moves.fields is None else moves.fields
    batch_size = max(1, min(batch_size, len(order)))
    run = epoch_for(*codes(net), kind)
    targets, share = teacher or (np.zeros((0, net.sizes[-1]), np.float32), 1.0)
    t, total, right = run(
        read_only(flat), as_int64(order), as_int64(labels), np.ascontiguousarray(targets, np.float32), float(share),
        as_int64(still if moves.dx is None else moves.dx),
        as_int64(still if moves.dy is None else moves.dy), np.ascontiguousarray(warps, np.float32), as_int64(field),
        np.ascontiguousarray(fields, np.float32), side, shift, np.array(net.sizes, np.int64), places(net),
        batch_size, inked_only(net.sizes, batch_size), net.params, np.empty_like(net.params),
        float(eta), float(l2), np.array(hyper, np.float64), numbers.get("t", 0), *state)
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
