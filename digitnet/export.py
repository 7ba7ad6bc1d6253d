"""A network for programs outside Python: as an ONNX graph, which ONNX runtimes run in
many languages, or as plain JSON of its weights, for writing the forward pass yourself.

Both take what the network takes: rows of float32 values in [0, 1] (for MNIST, 784 grey
pixels, pixel / 255, ink white on black), and give ``predict_proba``'s probabilities.
The ONNX graph is the network as it is written: each layer a Gemm, a' = σ(a Wᵀ + b), then
its activation; outputs that do not add up to 1 by themselves (sigmoid) are divided by
their sum, as ``predict_proba`` does; the answer is their ArgMax.

ONNX needs the onnx package (pip install 'digitnet[onnx]'); JSON needs nothing.
"""

import json
from pathlib import Path

import numpy as np

from .errors import DigitnetError, missing
from .files import atomic_write
from .functions import SOFTMAX
from .version import __version__

FORMATS = ("onnx", "json")
OPSET = 13  # Gemm, Relu, Sigmoid, Tanh, Softmax(axis=-1), ReduceSum with axes as an input

INPUT, PROBABILITIES, LABEL = "images", "probabilities", "label"


def format_of(path, format=None):
    """The format to write: ``format`` if given, else the one ``path``'s extension names."""
    format = format or Path(path).suffix.lower().lstrip(".")
    if format not in FORMATS:
        raise DigitnetError(f"{path}: cannot tell the format from the extension: name the file .onnx or .json, "
                            f"or give --format {'|'.join(FORMATS)}")
    return format


def export(net, path, format=None):
    """Write ``net`` to ``path`` as ONNX or JSON (``format``, else from the extension), atomically."""
    format = format_of(path, format)
    content = onnx_model(net).SerializeToString() if format == "onnx" else json_text(net).encode()
    atomic_write(path, lambda f: f.write(content))


def layers(net):
    """(W, b, σ's registry entry) for each layer, input first: W has one row per neuron."""
    return list(zip(net.weights, net.biases, net.layer_functions, strict=True))


def sums_to_one(net):
    """Whether the outputs add up to 1 by themselves (softmax): then they are the probabilities."""
    return net.cost.output is SOFTMAX


# ---- ONNX ---------------------------------------------------------------------------------------

def onnx_model(net):
    """The network as an ONNX model (opset 13), checked by onnx.checker."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ModuleNotFoundError as e:
        raise missing(e, "onnx", "onnx", "onnx") from None
    n_in, n_out = net.sizes[0], net.sizes[-1]
    nodes, weights, a = [], [], INPUT
    for l, (W, b, sigma) in enumerate(layers(net)):
        weights += [numpy_helper.from_array(np.asarray(W, np.float32), f"W{l}"),
                    numpy_helper.from_array(np.asarray(b, np.float32), f"b{l}")]
        nodes.append(helper.make_node("Gemm", [a, f"W{l}", f"b{l}"], [f"z{l}"], transB=1, name=f"layer{l}"))
        a = f"a{l}" if l < len(net.weights) - 1 or not sums_to_one(net) else PROBABILITIES
        nodes.append(helper.make_node(sigma.onnx, [f"z{l}"], [a], name=f"{sigma.name}{l}"))
    if not sums_to_one(net):  # predict_proba: the outputs divided by their sum
        weights.append(numpy_helper.from_array(np.array([1], np.int64), "last_axis"))
        nodes += [helper.make_node("ReduceSum", [a, "last_axis"], ["total"], keepdims=1, name="total"),
                  helper.make_node("Div", [a, "total"], [PROBABILITIES], name="normalise")]
    nodes.append(helper.make_node("ArgMax", [PROBABILITIES], [LABEL], axis=1, keepdims=0, name="answer"))
    graph = helper.make_graph(
        nodes, "digitnet", [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", n_in],
                                                          f"{n_in} values per example in [0, 1] (pixel / 255)")],
        [helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, ["N", n_out], "predict_proba"),
         helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["N"], "the brightest output: the answer")],
        initializer=weights)
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="digitnet", producer_version=__version__,
                              doc_string=describe(net))
    model.ir_version = helper.find_min_ir_version_for(opsets)  # the oldest runtimes that know opset 13 load it
    helper.set_model_props(model, {"sizes": ",".join(map(str, net.sizes)), "activation": net.activation.name,
                                   "cost": net.cost.name, "outputs": json.dumps(net.output_names)})
    onnx.checker.check_model(model, full_check=True)
    return model


def describe(net):
    sizes = "-".join(map(str, net.sizes))
    return (f"digitnet {sizes} network ({net.activation.name} hidden layers, {net.cost.output.name} outputs). "
            f"Input '{INPUT}': float32 [N, {net.sizes[0]}], values in [0, 1] (pixel / 255; for MNIST the "
            f"28x28 grey pixels row by row, ink white on black). Outputs '{PROBABILITIES}': float32 "
            f"[N, {net.sizes[-1]}], and '{LABEL}': int64 [N], the index of the largest"
            + (f" ({net.digits}: not a digit)." if net.not_a_digit else "."))


# ---- JSON ---------------------------------------------------------------------------------------

def json_text(net):
    """The network as JSON: what each layer computes, in words and formulas, and its weights
    and biases as plain numbers (9 significant digits: every float32 exactly)."""
    return json.dumps({
        "format": "digitnet-json", "version": __version__, "sizes": list(net.sizes),
        "input": f"{net.sizes[0]} numbers in [0, 1] per example (pixel / 255; for MNIST the 28x28 grey pixels "
                 "row by row, ink white on black)",
        "layer": "a' = activation(W a + b): W has one row per neuron of the layer, one column per input",
        "output": "the last layer's a" if sums_to_one(net) else "the last layer's a divided by its sum",
        "outputs": net.output_names,  # what each output stands for: "0" to "9", and "not a digit" if it has it
        "activations": {f.name: f.about for f in net.layer_functions},
        "layers": [{"activation": sigma.name, "W": [exact(row) for row in W], "b": exact(b)}
                   for W, b, sigma in layers(net)],
    }, separators=(",", ":"))


def exact(values):
    return [float(f"{v:.9g}") for v in values.tolist()]
