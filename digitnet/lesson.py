"""Chapter 2 with a single example: how bad the network's answer is (its cost, output by
output), which way each of the 13,002 weights and biases should move to make it better
(the negative gradient), and one step downhill.

These are the numbers behind ``digitnet show cost`` and the web page's "Teach it" panel;
they draw nothing.
"""

import numpy as np

from .blas import one_blas_thread
from .figures import as_row, check_digit, cost_gradient
from .functions import one_hot
from .network import flatten, parameter_views

# A learning rate η for one example that takes a trained network from a confident answer to
# the one it is taught in a few steps (measured on test images taught their runner-up digit:
# about 4 steps for the default recipe's network, 10 for the videos'). Cross-entropy's
# gradient stays large while the answer is wrong; the quadratic cost's fades as a sigmoid
# output saturates (σ'(z) ≈ 0 at a ≈ 0 or 1), so it needs far larger steps.
TEACHING_RATE = {"cross-entropy": 0.001, "quadratic": 10.0}


def cost_of_one(net, x, label):
    """The cost of one example laid out as in the video: the network's outputs a beside the
    desired outputs y (1 for the right digit, 0 elsewhere), their squared differences and the
    sum of those (the video's cost), each output's share of the cost, and their sum, the cost
    C of this example.

    For the quadratic cost each share is ½ (a − y)², the squared difference halved (the ½
    makes the derivative simply a − y); for cross-entropy only the right digit's −ln a counts.
    """
    check_digit(net, label)
    a = net.feedforward(as_row(net, x))
    y = one_hot([label], net.sizes[-1], net.dtype)
    terms = net.cost.terms(a, y)[0].astype(np.float64)
    squares = ((a - y)[0] ** 2).astype(np.float64)
    return {"cost_kind": net.cost.name, "label": int(label), "outputs": a[0].astype(np.float64),
            "desired": y[0].astype(np.float64), "squared_differences": squares,
            "sum_of_squares": float(squares.sum()), "terms": terms, "cost": float(terms.sum())}


def average_cost(net, images, labels):
    """The cost of the network: the cost of each example averaged over ``images``."""
    return net.total_cost(images, labels)


def accuracy_and_cost(net, images, labels, seen=None):
    """How the network does on ``images``: the share it gets right and its average cost,
    from one pass through the network (with one BLAS thread: for these skinny products it
    is the quicker, and it leaves the other cores to other visitors). ``seen``: the images as
    the input layer takes them (``net.inputs(images)``), if worked out already."""
    with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):  # as Network.forward: NaN, not warnings
        a = net.outputs(images) if seen is None else net.feedforward(seen)
    y = one_hot(labels, net.sizes[-1], net.dtype)
    return {"accuracy": float(np.mean(a.argmax(axis=1) == labels)), "average_cost": float(net.cost.fn(a, y))}


def layer_shares(grad_W, grad_b):
    """How the gradient's size is shared out between the layers: each layer's part of
    |∇C|² (its weights' and biases' squared components), adding up to 1."""
    squares = np.array([float(np.sum(gW.astype(np.float64) ** 2) + np.sum(gb.astype(np.float64) ** 2))
                        for gW, gb in zip(grad_W, grad_b, strict=True)])
    total = squares.sum()
    return squares / total if total > 0 else np.zeros_like(squares)


def largest_nudges(sizes, change, k=20):
    """The k weights and biases that ``change`` (a flat vector laid out as the parameters) moves
    most, named as in the video: the layer a weight leads into (1 = the first layer after the
    input), the neuron there, and the neuron (or pixel) it comes from; or a neuron's bias."""
    grad_W, grad_b = parameter_views(sizes, change)  # the change, shaped as each layer's W and b
    found = []
    for l, (gW, gb) in enumerate(zip(grad_W, grad_b, strict=True)):
        source = "pixel" if l == 0 else f"layer {l} neuron"
        for flat in np.argsort(-np.abs(gW), axis=None, kind="stable")[:k]:
            i, j = np.unravel_index(flat, gW.shape)
            found.append({"layer": l + 1, "neuron": int(i), "from": int(j), "change": float(gW[i, j]),
                          "name": f"weight into layer {l + 1} neuron {i} from {source} {j}"})
        for i in np.argsort(-np.abs(gb), kind="stable")[:k]:
            found.append({"layer": l + 1, "neuron": int(i), "from": None, "change": float(gb[i]),
                          "name": f"bias of layer {l + 1} neuron {i}"})
    found.sort(key=lambda nudge: -abs(nudge["change"]))
    return found[:k]


def teach(net, x, label, eta):
    """One step of gradient descent on the single example (x, label): every weight and bias
    moves by −η ∂C/∂w, computed by backprop (``Network.step``).

    Returns what the step did: this example's cost laid out before and after, the change
    made to every parameter (a flat vector, −η ∇C), the 20 largest nudges, the first
    layer's −∂C/∂W as one 28×28 tile per neuron, and each layer's share of the gradient.
    The caller keeps ``params_before`` to undo the step."""
    before = cost_of_one(net, x, label)
    grad_W, grad_b = cost_gradient(net, x, label)
    params_before = net.params.copy()
    net.step(as_row(net, x), one_hot([label], net.sizes[-1], net.dtype), eta)
    change = (net.params - params_before).astype(np.float64)
    return {"before": before, "after": cost_of_one(net, x, label), "change": change,
            "gradient": flatten(grad_W, grad_b).astype(np.float64), "params_before": params_before,
            "nudges": largest_nudges(net.sizes, change), "first_layer": -grad_W[0].astype(np.float64),
            "layer_shares": layer_shares(grad_W, grad_b)}


def teach_many(net, images, labels, eta):
    """One step downhill on each example in turn (stochastic gradient descent with mini-batches
    of one): the example's cost just before its step, for each step."""
    for label in labels:
        check_digit(net, label)
    x = net.inputs(np.reshape(images, (len(images), -1)))  # as the input layer takes them: deskewed once, here
    Y = one_hot(np.asarray(labels), net.sizes[-1], net.dtype)
    costs = []
    for k in range(len(x)):
        a = net.step(x[k:k + 1], Y[k:k + 1], eta)  # the outputs before the step
        costs.append(net.cost.fn(a, Y[k:k + 1]))  # this example's cost C, a batch of one
    return np.array(costs)
