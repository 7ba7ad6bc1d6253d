"""How a step downhill moves the weights, given the gradient: plain gradient descent
(with momentum if asked) and Adam, and how the step size changes over the epochs.

Each optimiser works on the flat vector of all the network's parameters. kernels.py
compiles the same updates; ``state`` and ``restore`` are how it, and checkpoints,
read and carry on an optimiser's memory.
"""

import math

import numpy as np


class SGD:
    """Gradient descent, w ← w − η ∇C; with momentum μ, the steps build up speed like a
    ball rolling downhill: v ← μ v − η ∇C, then w ← w + v."""

    name = "sgd"
    about = "plain gradient descent, the videos' steps downhill (with momentum if asked)"

    def __init__(self, n, momentum=0.0, dtype=np.float32):
        self.momentum = momentum
        self.velocity = np.zeros(n, dtype)

    def step(self, w, gradient, eta):
        if self.momentum:
            self.velocity[...] = self.momentum * self.velocity - eta * gradient
            flush(self.velocity)
            w += self.velocity
        else:
            w -= eta * gradient

    def settings(self):
        return {"momentum": self.momentum}

    def state(self):
        """(arrays, numbers) from which ``restore`` carries on exactly."""
        return {"velocity": self.velocity}, {}

    def restore(self, arrays, numbers):
        if "velocity" in arrays:  # checkpoints of runs without momentum may have none
            self.velocity[...] = arrays["velocity"]


class Adam:
    """Adam (Kingma & Ba 2015): each parameter steps by a running mean m of its gradient over
    the running root-mean-square √v, so every knob moves at a similar rate whatever the
    size of its gradient."""

    name = "adam"
    about = "each weight's step scaled by its own recent gradients: quick and forgiving"

    def __init__(self, n, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float32):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m, self.v = np.zeros(n, dtype), np.zeros(n, dtype)
        self.t = 0  # steps taken

    def step(self, w, gradient, eta):
        self.t += 1
        self.m[...] = self.beta1 * self.m + (1 - self.beta1) * gradient
        self.v[...] = self.beta2 * self.v + (1 - self.beta2) * gradient ** 2
        flush(self.m)
        flush(self.v)
        w -= self.step_size(eta) * self.m / (np.sqrt(self.v) + self.eps)

    def step_size(self, eta):
        """η with the bias corrections of m and v folded in (Kingma & Ba, section 2): both
        start at 0 and would otherwise be too small for the first steps."""
        return eta * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)

    def settings(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def state(self):
        """(arrays, numbers) from which ``restore`` carries on exactly."""
        return {"m": self.m, "v": self.v}, {"t": self.t}

    def restore(self, arrays, numbers):
        self.m[...], self.v[...], self.t = arrays["m"], arrays["v"], int(numbers["t"])


def flush(memory):
    """An optimiser's memory with the numbers too small to be normal floats set to 0, in place. The
    memory of a weight whose gradient is 0 (one from a pixel that no image in the batch inks) decays
    towards 0 step by step, and once it is subnormal every operation on it costs tens of cycles: a
    run's epochs would slow down threefold as it went on. So small a number moves no weight."""
    memory[np.abs(memory) < np.finfo(memory.dtype).tiny] = 0


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make(name, n, momentum=0.0, dtype=np.float32):
    """The optimiser ``name`` for ``n`` parameters."""
    return SGD(n, momentum, dtype) if name == "sgd" else OPTIMIZERS[name](n, dtype=dtype)


def constant(eta, epoch, epochs):
    return eta


def cosine(eta, epoch, epochs):
    """η falling along half a cosine, from η at the first epoch towards 0 at the last."""
    return eta * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


SCHEDULES = {"constant": constant, "cosine": cosine}


def learning_rate(eta, schedule, epoch, epochs):
    """η for this epoch (counting from 0) under ``schedule``."""
    return SCHEDULES[schedule](eta, epoch, epochs)
