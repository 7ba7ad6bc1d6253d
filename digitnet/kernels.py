"""Training epochs and big forward passes, compiled.

``Network.backprop`` and the optimisers in ``training.py`` are the mathematics
written with NumPy. A mini-batch there takes some forty NumPy calls, and on the
13,002-parameter network each call costs more in Python's overhead than in
arithmetic. Here the same mathematics is written as loops that numba compiles
to machine code, so that a whole epoch is one call: the large products still go
to BLAS (``np.dot``), and the rest (pixels to floats, σ, δ, the optimiser's
step) runs as loops the compiler fuses and vectorises. ``tests/test_kernels.py``
checks every loop here against its NumPy original.

Only float32 networks come here, and only where numba is installed (it is a
dependency, but a platform may lack it) and DIGITNET_COMPILED is not 0; anything
else goes through NumPy.
"""

import math
import os

import numpy as np

from .files import cache_dir

try:
    import numba
except ImportError:  # pragma: no cover - a platform without numba: NumPy does everything
    numba = None

AVAILABLE = numba is not None and os.environ.get("DIGITNET_COMPILED", "1") != "0"

# What the loops are told to do, as numbers: numba compiles one function for all
# combinations and each loop branches once, outside its arithmetic.
SIGMOID, RELU, TANH, SOFTMAX = range(4)
QUADRATIC, CROSS_ENTROPY = range(2)
SGD, ADAM = range(2)
ACTIVATION_CODES = {"sigmoid": SIGMOID, "relu": RELU, "tanh": TANH, "softmax": SOFTMAX}
COST_CODES = {"quadratic": QUADRATIC, "cross-entropy": CROSS_ENTROPY}

# error_model="numpy": x / 0 gives inf or NaN as in NumPy (training then reports the
# divergence) instead of raising, which would also stop the loops being vectorised.
# The fast-math flags let the compiler reorder sums and use vector reciprocals; they
# leave out "no NaN, no infinity", so a diverging run still shows as NaN.
FLAGS = dict(nogil=True, error_model="numpy", fastmath={"contract", "reassoc", "arcp", "nsz", "afn"})


def compiled(function):
    """``function`` compiled by numba, its machine code cached in digitnet's cache folder
    (files.cache_dir), never beside this file: the package may be installed read-only,
    and pip does not remove files it did not install. Where that folder cannot be
    written, the loops are compiled afresh each run rather than cached elsewhere."""
    if numba is None:
        return function
    folder = cache_dir("numba")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        return numba.njit(cache=False, **FLAGS)(function)
    previous, numba.config.CACHE_DIR = numba.config.CACHE_DIR, str(folder)  # read once, as the cache is set up
    try:
        return numba.njit(cache=True, **FLAGS)(function)
    finally:
        numba.config.CACHE_DIR = previous

F32 = np.float32
HALF, ONE, ZERO = F32(0.5), F32(1), F32(0)


@compiled
def tanh(x):
    """tanh as a ratio of two polynomials (Eigen's, within a few float32 ulps on
    [-9, 9], where float32 tanh reaches ±1): unlike the C library's tanhf, it is
    plain arithmetic, so a loop of it is vectorised."""
    x = min(max(x, F32(-9)), F32(9))
    x2 = x * x
    p = x2 * F32(-2.76076847742355e-16) + F32(2.00018790482477e-13)
    p = x2 * p + F32(-8.60467152213735e-11)
    p = x2 * p + F32(5.12229709037114e-08)
    p = x2 * p + F32(1.48572235717979e-05)
    p = x2 * p + F32(6.37261928875436e-04)
    p = x2 * p + F32(4.89352455891786e-03)
    q = x2 * F32(1.19825839466702e-06) + F32(1.18534705686654e-04)
    q = x2 * q + F32(2.26843463243900e-03)
    q = x2 * q + F32(4.89352518554385e-03)
    return x * p / q


@compiled
def layer_start(sizes, l):
    """Where layer l's W begins in the flat vector of parameters, laid out as
    ``network.parameter_views`` lays them: W0, b0, W1, b1, ..."""
    k = 0
    for i in range(l):
        k += sizes[i + 1] * (sizes[i] + 1)
    return k


@compiled
def weights(params, sizes, l):
    """Layer l's W (n_out × n_in): a view into the flat vector of parameters."""
    k = layer_start(sizes, l)
    return params[k:k + sizes[l + 1] * sizes[l]].reshape(sizes[l + 1], sizes[l])


@compiled
def biases(params, sizes, l):
    """Layer l's b (n_out): the view that follows its W."""
    k = layer_start(sizes, l) + sizes[l + 1] * sizes[l]
    return params[k:k + sizes[l + 1]]


@compiled
def rows(buffer, sizes, l, m, batch_size):
    """Layer l's values for m examples (m × sizes[l]): a view into a flat buffer
    holding batch_size rows of every layer in turn."""
    k = 0
    for i in range(l):
        k += batch_size * sizes[i]
    return buffer[k:k + m * sizes[l]].reshape(m, sizes[l])


@compiled
def to_floats(pixels, starts, x):
    """Row i of x = the pixels pixels[starts[i]:] scaled to [0, 1].

    Four rows at a time: the rows lie anywhere in memory, and reading four at once
    lets the processor wait for all four together (about a fifth faster)."""
    m, n = x.shape
    i = 0
    while i + 4 <= m:
        r0, r1 = pixels[starts[i]:starts[i] + n], pixels[starts[i + 1]:starts[i + 1] + n]
        r2, r3 = pixels[starts[i + 2]:starts[i + 2] + n], pixels[starts[i + 3]:starts[i + 3] + n]
        for p in range(n):
            x[i, p] = r0[p] * F32(1 / 255)
            x[i + 1, p] = r1[p] * F32(1 / 255)
            x[i + 2, p] = r2[p] * F32(1 / 255)
            x[i + 3, p] = r3[p] * F32(1 / 255)
        i += 4
    for rest in range(i, m):
        row = pixels[starts[rest]:starts[rest] + n]
        for p in range(n):
            x[rest, p] = row[p] * F32(1 / 255)


@compiled
def activate(z, b, kind):
    """a = σ(z + b), in place in z, for every row (example) of z."""
    m, n = z.shape
    for i in range(m):
        for j in range(n):
            z[i, j] += b[j]
    if kind == SIGMOID:  # σ(z) = ½ + ½ tanh(z/2)
        for i in range(m):
            for j in range(n):
                z[i, j] = HALF + HALF * tanh(HALF * z[i, j])
    elif kind == RELU:
        for i in range(m):
            for j in range(n):
                z[i, j] = max(z[i, j], ZERO)
    elif kind == TANH:
        for i in range(m):
            for j in range(n):
                z[i, j] = tanh(z[i, j])
    else:  # softmax, less each row's largest z so that exp cannot overflow
        for i in range(m):
            top = z[i, 0]
            for j in range(n):
                top = max(top, z[i, j])
            total = ZERO
            for j in range(n):
                z[i, j] = math.exp(z[i, j] - top)
                total += z[i, j]
            for j in range(n):
                z[i, j] /= total


@compiled
def chain(delta, a, kind):
    """δ ⊙ σ'(z), in place in δ, with σ' written in terms of a = σ(z)."""
    m, n = delta.shape
    if kind == SIGMOID:  # σ' = a (1 − a)
        for i in range(m):
            for j in range(n):
                delta[i, j] *= a[i, j] * (ONE - a[i, j])
    elif kind == RELU:  # 1 where the neuron fired, else 0
        for i in range(m):
            for j in range(n):
                delta[i, j] = delta[i, j] if a[i, j] > ZERO else ZERO
    else:  # tanh' = 1 − a²
        for i in range(m):
            for j in range(n):
                delta[i, j] *= ONE - a[i, j] * a[i, j]


@compiled
def output_delta(a, labels, cost, delta):
    """δ of the output layer for the mean cost over the batch: (a − y) ⊙ σ'(z) / m
    for the quadratic cost with sigmoid outputs, (a − y) / m for cross-entropy
    with softmax. y is 1 at each example's label and 0 elsewhere."""
    m, n = a.shape
    for i in range(m):
        for j in range(n):
            y = ONE if labels[i] == j else ZERO
            delta[i, j] = (a[i, j] - y) / F32(m)
    if cost == QUADRATIC:
        chain(delta, a, SIGMOID)


# Whole-array arithmetic (a += b, a[:] = b) would do here too, but numba then
# compiles its shape-mismatch messages, which doubles the time to compile.
@compiled
def add(out, x, scale=ONE):
    """out += scale x, for matrices of the same shape."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += scale * x[i, j]


@compiled
def copy(x, out):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = x[i, j]


@compiled
def column_sums(delta, out):
    """out = Σ over the batch of δ: the biases' gradient."""
    for j in range(delta.shape[1]):
        out[j] = ZERO
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            out[j] += delta[i, j]


# OpenBLAS multiplies a skinny matrix of up to about 80 rows by the 784 × 16 weights
# in its small-matrix kernels, two to four times faster per row than a taller one
# (README.md, Performance), so the products below go 64 rows at a time.
BLOCK = 64


@compiled
def product(a, W, z):
    """z = a Wᵀ, by blocks of rows."""
    for i in range(0, a.shape[0], BLOCK):
        np.dot(a[i:i + BLOCK], W.T, z[i:i + BLOCK])


@compiled
def gradient_product(delta, a, out, scratch):
    """out = δᵀ a, summed over blocks of rows (``scratch``: a flat vector at least
    as long as out)."""
    np.dot(delta[:BLOCK].T, a[:BLOCK], out)
    if delta.shape[0] > BLOCK:
        part = scratch[:out.size].reshape(out.shape)
        for i in range(BLOCK, delta.shape[0], BLOCK):
            np.dot(delta[i:i + BLOCK].T, a[i:i + BLOCK], part)
            add(out, part)


@compiled
def forward_into(activations, m, batch_size, sizes, params, hidden, output):
    """a' = σ(a Wᵀ + b) layer by layer, for the m examples whose input is
    ``rows(activations, sizes, 0, ...)``; every layer's a is kept for backprop."""
    L = len(sizes) - 1
    for l in range(L):
        z = rows(activations, sizes, l + 1, m, batch_size)
        product(rows(activations, sizes, l, m, batch_size), weights(params, sizes, l), z)
        activate(z, biases(params, sizes, l), hidden if l < L - 1 else output)


@compiled
def gradient_into(activations, deltas, m, batch_size, labels, sizes, params, hidden, cost, grad, scratch):
    """Backpropagation after ``forward_into``: δ = ∂C/∂z at the output, then for
    each layer ∂C/∂W = δᵀ a and ∂C/∂b = Σ δ, and for the layer below
    δ = (δ' W') ⊙ σ'(z). ``deltas`` is laid out as ``activations`` less the input."""
    L = len(sizes) - 1
    delta = rows(deltas, sizes[1:], L - 1, m, batch_size)
    output_delta(rows(activations, sizes, L, m, batch_size), labels, cost, delta)
    for l in range(L - 1, -1, -1):
        a = rows(activations, sizes, l, m, batch_size)
        gradient_product(delta, a, weights(grad, sizes, l), scratch)
        column_sums(delta, biases(grad, sizes, l))
        if l > 0:  # the input layer needs no δ
            below = rows(deltas, sizes[1:], l - 1, m, batch_size)
            np.dot(delta, weights(params, sizes, l), below)
            chain(below, a, hidden)
            delta = below


@compiled
def sgd_step(params, grad, lr, momentum, velocity):
    """w ← w − η ∇C, or with momentum μ: v ← μ v − η ∇C, w ← w + v."""
    if momentum == ZERO:
        for q in range(len(params)):
            params[q] -= lr * grad[q]
    else:
        for q in range(len(params)):
            velocity[q] = momentum * velocity[q] - lr * grad[q]
            params[q] += velocity[q]


@compiled
def adam_step(params, grad, lr_t, beta1, beta2, eps, m, v):
    """m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g², w ← w − η_t m / (√v + ε)."""
    for q in range(len(params)):
        g = grad[q]
        m[q] = beta1 * m[q] + (ONE - beta1) * g
        v[q] = beta2 * v[q] + (ONE - beta2) * g * g
        params[q] -= lr_t * m[q] / (math.sqrt(v[q]) + eps)


@compiled
def score(a, labels, cost):
    """The total cost of a batch and how many it got right (the brightest output is
    the label): quadratic ½‖a − y‖², or cross-entropy −ln a[label]."""
    total, right = 0.0, 0
    for i in range(a.shape[0]):
        label, brightest = labels[i], 0
        for j in range(a.shape[1]):
            brightest = j if a[i, j] > a[i, brightest] else brightest
        right += brightest == label
        if cost == QUADRATIC:
            squares = ZERO
            for j in range(a.shape[1]):
                squares += (a[i, j] - (ONE if j == label else ZERO)) ** 2
            total += 0.5 * squares
        else:  # -inf where a = 0: reported as divergence
            total -= math.log(a[i, label])
    return total, right


@compiled
def train_epoch(pixels, starts, labels, sizes, hidden, cost, params, grad, batch_size, lr, l2,
                optimizer, momentum, beta1, beta2, eps, t, state1, state2):
    """One epoch of stochastic gradient descent, as ``Trainer.sgd`` does it with NumPy.

    Example i has the pixels pixels[starts[i]:starts[i] + sizes[0]] and the label
    labels[i]; examples are taken in order, batch_size at a time. The optimiser is
    SGD (state1: the velocity) or Adam (state1, state2: m and v; t: steps taken).
    Returns t, the total cost and the number classified right, each example
    scored as it went through the network.
    """
    n, L = len(starts), len(sizes) - 1
    output = SOFTMAX if cost == CROSS_ENTROPY else SIGMOID
    activations = np.empty(batch_size * sizes.sum(), F32)
    deltas = np.empty(batch_size * sizes[1:].sum(), F32)
    scratch = np.empty(grad.size, F32)
    total, right = 0.0, 0
    for k in range(0, n, batch_size):
        m = min(batch_size, n - k)
        to_floats(pixels, starts[k:k + m], rows(activations, sizes, 0, m, batch_size))
        forward_into(activations, m, batch_size, sizes, params, hidden, output)
        batch_cost, batch_right = score(rows(activations, sizes, L, m, batch_size), labels[k:k + m], cost)
        total, right = total + batch_cost, right + batch_right
        gradient_into(activations, deltas, m, batch_size, labels[k:k + m], sizes, params, hidden, cost, grad, scratch)
        if l2 != ZERO:
            for l in range(L):
                add(weights(grad, sizes, l), weights(params, sizes, l), l2)
        if optimizer == SGD:
            sgd_step(params, grad, F32(lr), momentum, state1)
        else:
            t += 1  # Adam's bias corrections folded into the step size (Kingma & Ba, §2)
            lr_t = F32(lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t))
            adam_step(params, grad, lr_t, F32(beta1), F32(beta2), eps, state1, state2)
    return t, total, right


@compiled
def forward_rows(X, scale, sizes, params, hidden, output, out):
    """The output activations for every row of X times ``scale`` (1/255 for pixels),
    BLOCK rows at a time, into ``out``."""
    L = len(sizes) - 1
    activations = np.empty(BLOCK * sizes.sum(), F32)
    for k in range(0, X.shape[0], BLOCK):
        m = min(BLOCK, X.shape[0] - k)
        x = rows(activations, sizes, 0, m, BLOCK)
        for i in range(m):
            for p in range(sizes[0]):
                x[i, p] = X[k + i, p] * scale
        forward_into(activations, m, BLOCK, sizes, params, hidden, output)
        copy(rows(activations, sizes, L, m, BLOCK), out[k:k + m])


# ---- from Python ------------------------------------------------------------------
# The wrappers give the compiled functions their arguments always with the same
# types, so that each is compiled once (and cached on disk) rather than once per
# combination of read-only, integer and float types a caller happens to have.

def usable(net):
    return AVAILABLE and net.dtype == np.float32


def forward(net, X):
    """``Network.forward`` of many examples X: rows of uint8 pixels or of float32."""
    out = np.empty((len(X), net.sizes[-1]), F32)
    scale = F32(1 / 255) if X.dtype == np.uint8 else ONE
    forward_rows(read_only(X), scale, layer_sizes(net), net.flat_parameters(), *codes(net), out)
    return out


def sgd_epoch(net, pixels, starts, labels, optimizer, lr, batch_size, l2):
    """``Trainer.sgd``, compiled: one epoch over the examples whose pixels start at
    ``starts`` in the flat uint8 vector ``pixels``. Returns the mean cost and the
    share classified right."""
    none = np.empty(0, F32)
    if optimizer.name == "adam":
        kind, state, t, momentum = ADAM, (optimizer.m, optimizer.v), optimizer.t, 0.0
        beta1, beta2, eps = optimizer.beta1, optimizer.beta2, optimizer.eps
    else:
        velocity = optimizer.velocity if optimizer.velocity is not None else none
        kind, state, t, momentum = SGD, (velocity, none), 0, optimizer.momentum
        beta1, beta2, eps = 0.0, 0.0, 0.0
    hidden, _ = codes(net)
    batch_size = max(1, min(batch_size, len(starts)))  # a batch larger than the data is all of it
    t, total, right = train_epoch(
        read_only(pixels), starts.astype(np.int64), labels.astype(np.int64), layer_sizes(net), hidden,
        COST_CODES[net.cost.name], net.flat_parameters(), np.empty_like(net.params), batch_size, float(lr), F32(l2),
        kind, F32(momentum), float(beta1), float(beta2), F32(eps), t, *state)
    if optimizer.name == "adam":
        optimizer.t = t
    return total / max(len(starts), 1), right / max(len(starts), 1)


def codes(net):
    """The numbers of the hidden and the output layers' activations."""
    return ACTIVATION_CODES[net.activation.name], ACTIVATION_CODES[net.cost.output.name]


def layer_sizes(net):
    return np.array(net.sizes, np.int64)


def read_only(array):
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view
