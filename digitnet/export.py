"""A network for programs outside Python: as an ONNX graph, which ONNX runtimes run in
many languages, or as plain JSON of its weights, for writing the forward pass yourself.

Both take what the network takes: rows of float32 values in [0, 1] (for MNIST, 784 grey
pixels, pixel / 255, ink white on black), and give ``predict_proba``'s probabilities.
The ONNX graph is the network as it is written: each layer a Gemm, a' = σ(a Wᵀ + b), then
its activation; outputs that do not add up to 1 by themselves (sigmoid) are divided by
their sum, as ``predict_proba`` does; the answer is their ArgMax. A network that deskews
(``net.deskew``) has the deskewing in the graph too, before the first Gemm (``deskew_nodes``):
the graph still takes the raw images. The JSON says so ("deskew": true) and spells out, in
"deskewing", what a forward pass written from it must do to each image first.

ONNX needs the onnx package (pip install 'digitnet[onnx]'); JSON needs nothing.
"""

import json
import math
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
    if net.deskew:  # as Network.inputs: the first layer takes each image deskewed
        nodes, weights, a = deskew_nodes(INPUT, math.isqrt(n_in))
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
        nodes, "digitnet", [helper.make_tensor_value_info(
            INPUT, TensorProto.FLOAT, ["N", n_in], f"{n_in} values per example in [0, 1] (pixel / 255)"
            + (", as they are: the graph deskews them" if net.deskew else ""))],
        [helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, ["N", n_out], "predict_proba"),
         helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["N"], "the brightest output: the answer")],
        initializer=weights)
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="digitnet", producer_version=__version__,
                              doc_string=describe(net))
    model.ir_version = helper.find_min_ir_version_for(opsets)  # the oldest runtimes that know opset 13 load it
    helper.set_model_props(model, {"sizes": ",".join(map(str, net.sizes)), "activation": net.activation.name,
                                   "cost": net.cost.name, "outputs": json.dumps(net.output_names),
                                   "deskew": json.dumps(net.deskew)})
    onnx.checker.check_model(model, full_check=True)
    return model


def describe(net):
    sizes = "-".join(map(str, net.sizes))
    return (f"digitnet {sizes} network ({net.activation.name} hidden layers, {net.cost.output.name} outputs). "
            f"Input '{INPUT}': float32 [N, {net.sizes[0]}], values in [0, 1] (pixel / 255; for MNIST the "
            f"28x28 grey pixels row by row, ink white on black). Outputs '{PROBABILITIES}': float32 "
            f"[N, {net.sizes[-1]}], and '{LABEL}': int64 [N], the index of the largest"
            + (f" ({net.digits}: not a digit)." if net.not_a_digit else ".")
            + (" The graph deskews each image before the first layer, as the network does (sheared upright "
               "and centred on its ink, from the ink's moments): give it the images as they are." if net.deskew
               else ""))


def deskew_nodes(source, side):
    """The nodes, and their constants, that deskew the images ``source`` ([N, side²] float32) as
    deskew.py does, in opset 13's operators: (nodes, initializers, the name of the deskewed [N, side²]).

    Opset 13 has no GridSample, so the bilinear interpolation is written as matrix products: the
    weight of input pixel i for a position p is the "hat" relu(1 − |i − p|), which is 1 − (p − ⌊p⌋)
    for i = ⌊p⌋, p − ⌊p⌋ for ⌊p⌋ + 1, and 0 for every other pixel, on the image or off it (off the
    image is then 0, as deskew.py has it). Reading every row at one offset is a batched MatMul of
    those weights [N, side, side] with the image; reading each row's columns at that row's offset is
    a MatMul of weights [N, side, side, side] with each row."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, constants = [], []

    def constant(name, value, dtype=np.float64):
        constants.append(numpy_helper.from_array(np.asarray(value, dtype), f"deskew_{name}"))
        return f"deskew_{name}"

    def node(op, inputs, name, **attributes):  # its one output has the node's name
        nodes.append(helper.make_node(op, inputs, [f"deskew_{name}"], name=f"deskew_{name}", **attributes))
        return f"deskew_{name}"

    middle, at = (side - 1) / 2, np.arange(side, dtype=np.float64)
    zero, one, m, index = constant("zero", 0), constant("one", 1), constant("m", middle), constant("at", at)
    index_column = constant("at_column", at[:, None])  # [side, 1]: 0, 1, ... side − 1
    axis = {k: constant(f"axis{k}", [k], np.int64) for k in (1, 2, 3)}
    image = node("Reshape", [source, constant("square", [-1, side, side], np.int64)], "image")  # [N, side, side]

    # The ink's moments, as deskew.slant computes them: in float64, so that ink in one row has its centre
    # exactly on that row and a spread of exactly 0 (in float32 it can come out 1e-12, and α anything).
    ink = node("Cast", [image], "ink", to=TensorProto.DOUBLE)
    by_row = node("ReduceSum", [ink, axis[2]], "by_row", keepdims=0)  # [N, side]: the ink in each row
    by_column = node("ReduceSum", [ink, axis[1]], "by_column", keepdims=0)  # and in each column
    mass = node("ReduceSum", [by_row, axis[1]], "mass", keepdims=1)  # [N, 1]
    inked = node("Greater", [mass, zero], "inked")
    safe_mass = node("Where", [inked, mass, one], "safe_mass")  # no 0 / 0 for an image of no ink...

    def centre(by_line, name):  # ...whose centre is the middle (so that it is left as it is)
        moment = node("MatMul", [by_line, index_column], f"{name}_moment")  # Σ r I
        return node("Where", [inked, node("Div", [moment, safe_mass], f"{name}_mean"), m], name)  # [N, 1]

    down, across = centre(by_row, "down"), centre(by_column, "across")  # r̄ and c̄
    dr = node("Sub", [index, down], "dr")  # [N, side]: each row's r − r̄
    dc = node("Sub", [index, across], "dc")  # and each column's c − c̄
    spread = node("ReduceSum", [node("Mul", [by_row, node("Mul", [dr, dr], "dr2")], "spread_terms"), axis[1]],
                  "spread", keepdims=1)  # [N, 1]: Σ (r − r̄)² I
    dr_ink = node("MatMul", [node("Unsqueeze", [dr, axis[1]], "dr_row"), ink], "dr_ink")  # [N, 1, side]
    drift = node("ReduceSum", [node("Mul", [dr_ink, node("Unsqueeze", [dc, axis[1]], "dc_row")], "drift_terms"),
                               axis[2]], "drift", keepdims=0)  # [N, 1]: Σ (r − r̄)(c − c̄) I
    sloped = node("Greater", [spread, zero], "sloped")  # ink in one row (or none) has no slant: α = 0
    safe_spread = node("Where", [sloped, spread, one], "safe_spread")
    alpha = node("Where", [sloped, node("Div", [drift, safe_spread], "slant"), zero], "alpha")

    def hat(offset, name, axes):
        """relu(1 − |i − r − offset|) for i and r of the image: the weights of bilinear interpolation for
        reading at r + offset (``offset`` float64, unsqueezed at ``axes`` to line up with [side, side])."""
        # Clipped as deskew.along clips it: any further, every pixel read is off the image anyway.
        offset = node("Clip", [offset, constant(f"{name}_low", -side - 1), constant(f"{name}_high", side)],
                      f"{name}_clipped")
        # Split into ⌊offset⌋ and its fraction, both then float32: i − r − ⌊offset⌋ is a whole number, exact,
        # and only the fraction is rounded, as deskew.along rounds it.
        whole = node("Floor", [offset], f"{name}_whole64")
        fraction = node("Sub", [offset, whole], f"{name}_fraction64")
        whole, fraction = (node("Unsqueeze", [node("Cast", [x], f"{name}_{part}32", to=TensorProto.FLOAT), axes],
                                f"{name}_{part}") for x, part in ((whole, "whole"), (fraction, "fraction")))
        whole_steps = node("Sub", [constant(f"{name}_steps", np.subtract.outer(at, at).T, np.float32), whole],
                           f"{name}_whole_steps")  # [r, i]: i − r − ⌊offset⌋
        far = node("Abs", [node("Sub", [whole_steps, fraction], f"{name}_distance")], f"{name}_far")
        return node("Relu", [node("Sub", [constant(f"{name}_1", 1, np.float32), far], f"{name}_near")],
                    f"{name}_weights")

    # Down: output row r reads input row r + r̄ − m, the same offset in every row and column:
    # W[n, r, i] = relu(1 − |i − (r + r̄ − m)|), and the image read so is W @ image.
    row_offset = node("Sub", [down, m], "row_offset")  # [N, 1]
    moved = node("MatMul", [hat(row_offset, "row", axis[2]), image], "moved_down")  # [N, side, side]

    # Across: output (r, c) reads column c + α (r − m) + c̄ − m of row r, an offset of each row's own:
    # H[n, r, c, j] = relu(1 − |j − (c + α (r − m) + c̄ − m)|), and each row read so is H[n, r] @ row.
    shear = node("Mul", [alpha, constant("r_minus_m", at - middle)], "shear")  # [N, side]: α (r − m)
    column_offset = node("Add", [shear, node("Sub", [across, m], "column_centring")], "column_offset")
    weights = hat(column_offset, "column", constant("axes23", [2, 3], np.int64))  # [N, side, side, side]
    rows = node("Unsqueeze", [moved, axis[3]], "rows")  # [N, side, side, 1]: each row a column vector
    moved = node("MatMul", [weights, rows], "moved_across")  # [N, side, side, 1]
    return nodes, constants, node("Reshape", [moved, constant("flat", [-1, side * side], np.int64)], "deskewed")


# ---- JSON ---------------------------------------------------------------------------------------

def json_text(net):
    """The network as JSON: what each layer computes, in words and formulas, and its weights
    and biases as plain numbers (9 significant digits: every float32 exactly)."""
    return json.dumps({
        "format": "digitnet-json", "version": __version__, "sizes": list(net.sizes),
        "input": f"{net.sizes[0]} numbers in [0, 1] per example (pixel / 255; for MNIST the 28x28 grey pixels "
                 "row by row, ink white on black)" + (", deskewed first as 'deskewing' says" if net.deskew else ""),
        "deskew": net.deskew,  # whether the first layer takes each image deskewed (then: how, in "deskewing")
        **({"deskewing": deskewing(math.isqrt(net.sizes[0]))} if net.deskew else {}),
        "layer": "a' = activation(W a + b): W has one row per neuron of the layer, one column per input",
        "output": "the last layer's a" if sums_to_one(net) else "the last layer's a divided by its sum",
        "outputs": net.output_names,  # what each output stands for: "0" to "9", and "not a digit" if it has it
        "activations": {f.name: f.about for f in net.layer_functions},
        "layers": [{"activation": sigma.name, "W": [exact(row) for row in W], "b": exact(b)}
                   for W, b, sigma in layers(net)],
    }, separators=(",", ":"))


def deskewing(side):
    """What a forward pass must do to each image before the first layer, as deskew.py does it."""
    m = (side - 1) / 2
    return (f"Before the first layer, each example is deskewed (sheared so that its strokes stand upright, and "
            f"centred on its ink). Take its {side * side} numbers as a {side}x{side} image I[r][c], row r = "
            f"index // {side}, column c = index % {side}, both from 0. Compute, in double precision: the mass "
            f"M = Σ I[r][c]; the centre r̄ = Σ r I[r][c] / M and c̄ = Σ c I[r][c] / M (r̄ = c̄ = m if M = 0); the "
            f"spread S = Σ (r − r̄)² I[r][c]; the slant α = Σ (r − r̄)(c − c̄) I[r][c] / S (α = 0 if S = 0: "
            f"ink in one row, or none), where m = (side − 1) / 2 = {m:g}. The deskewed image's pixel (r, c) is "
            f"the input read at row y = r + r̄ − m and column x = c + α (r − m) + c̄ − m, by bilinear "
            f"interpolation: with y0 = floor(y), x0 = floor(x), fy = y − y0, fx = x − x0, it is "
            f"(1 − fy)(1 − fx) I[y0][x0] + (1 − fy) fx I[y0][x0 + 1] + fy (1 − fx) I[y0 + 1][x0] "
            f"+ fy fx I[y0 + 1][x0 + 1], where a pixel off the image (row or column < 0 or > {side - 1}) "
            f"counts as 0. (So an image of no ink is left as it is.) The deskewed pixels, row by row, are the "
            f"first layer's input a.")


def exact(values):
    return [float(f"{v:.9g}") for v in values.tolist()]
