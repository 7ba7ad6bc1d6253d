"""digitnet export: the ONNX graph, run in onnxruntime, gives predict_proba's probabilities and
the same answers; the JSON holds every weight exactly and enough to compute the same."""

import json
import math

import numpy as np
import onnx
import onnxruntime
import pytest

from digitnet import Network
from digitnet.cli import main
from digitnet.deskew import deskew
from digitnet.export import OPSET, json_text, onnx_model
from digitnet.functions import ACTIVATIONS, COSTS

from .conftest import run_without


def run_onnx(path, images):
    """The ONNX file's outputs for uint8 images, given as the documented float32 rows in [0, 1]."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = images.reshape(len(images), -1).astype(np.float32) / 255
    return session.run(["probabilities", "label"], {"images": rows})


def test_the_default_model_in_onnxruntime_gives_predict_proba_on_1000_test_images(default_model, trained_net,
                                                                                 mnist, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    assert main(["export", str(default_model), str(out)]) == 0
    assert "input 'images' float32 [N, 784] in [0, 1]" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(out), full_check=True)
    images = mnist.test_images[:1000]
    probabilities, labels = run_onnx(out, images)
    assert probabilities.shape == (1000, 10) and labels.dtype == np.int64
    assert np.abs(probabilities - trained_net.predict_proba(images)).max() <= 1e-5
    np.testing.assert_array_equal(labels, trained_net.predict(images))


@pytest.fixture(scope="module")
def small_nets(mnist):
    """A network of each activation and cost (and depth), trained an epoch on 10,000 images."""
    nets = []
    for sizes, activation, cost in [((784, 16, 16, 10), "sigmoid", "quadratic"), ((784, 32, 10), "tanh", "quadratic"),
                                    ((784, 10), "sigmoid", "cross-entropy"),
                                    ((784, 24, 16, 12, 10), "relu", "cross-entropy")]:
        net = Network(sizes, activation, cost, seed=1)
        net.fit(mnist.train_images[:10000], mnist.train_labels[:10000], optimizer="adam", lr=0.005, epochs=1,
                batch_size=32, seed=1)
        nets.append(net)
    return nets


@pytest.fixture(scope="module")
def deskewing_nets(mnist):
    """Two networks that deskew their input, softmax and sigmoid outputs, trained an epoch on 10,000 images."""
    nets = []
    for activation, cost in [("relu", "cross-entropy"), ("sigmoid", "quadratic")]:
        net = Network((784, 16, 10), activation, cost, seed=0, deskew=True)
        net.fit(mnist.train_images[:10000], mnist.train_labels[:10000], optimizer="adam", lr=0.005, epochs=1,
                batch_size=32, seed=1)
        nets.append(net)
    return nets


def awkward_images():
    """28x28 uint8 images whose deskewing has a case of its own: no ink (mass 0: left as it is), ink in one row
    or one pixel (spread 0: α = 0), in one column (no drift), everywhere, on the edges, and slanted so far
    that the shear reads off the image."""
    images = np.zeros((11, 28, 28), np.uint8)
    images[1, 20, 3:25] = 255  # one row
    # Rows whose centre, Σ r I / Σ I, is not exactly the row in float32: their moments need float64, or their
    # spread comes out 1e-12 where it is 0, and α anything.
    images[9, 14, 12:18], images[10, 24, 0:7] = 248, 31
    images[2, 7, 11] = 128  # one pixel
    images[3, 2:26, 5] = 200  # one column
    images[4] = 255  # ink everywhere
    images[5, 0, :] = images[5, :, 27] = 90  # on two edges
    images[6, 10, 0], images[6, 11, 27] = 255, 255  # α = 27: every row's columns read from far off
    images[7, 3:25, 3:25] = np.eye(22, dtype=np.uint8)[::-1] * 255  # a diagonal line, slanting the other way
    images[8, 5, 5] = 1  # the faintest ink there is
    return images


@pytest.mark.parametrize("which", range(4))
def test_every_activation_and_output_exports_to_the_same_probabilities(small_nets, which, mnist, tmp_path):
    net = small_nets[which]
    net.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")]) == 0
    images = mnist.test_images[:1000]
    probabilities, labels = run_onnx(tmp_path / "m.onnx", images)
    assert np.abs(probabilities - net.predict_proba(images)).max() <= 1e-5
    np.testing.assert_array_equal(labels, net.predict(images))


def test_the_graph_is_a_gemm_and_the_registrys_activation_per_layer(trained_net, small_nets):
    """The operators come from the registry, where every activation names its ONNX operator."""
    assert all(sigma.onnx for sigma in [*ACTIVATIONS.values(), *(cost.output for cost in COSTS.values())])
    graph = onnx_model(trained_net).graph  # its layers, after the deskewing if it deskews (the default recipe's)
    assert [n.op_type for n in layer_nodes(graph)] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax", "ArgMax"]
    assert all(n.attribute[0].name == "transB" for n in graph.node if n.op_type == "Gemm")  # W as the network has it
    sigmoid = onnx_model(small_nets[0]).graph  # sigmoid outputs are divided by their sum, as predict_proba does
    assert [n.op_type for n in sigmoid.node] == ["Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm", "Sigmoid",
                                                 "ReduceSum", "Div", "ArgMax"]  # no deskewing: it does not deskew
    (given,) = graph.input
    shape = [d.dim_param or d.dim_value for d in given.type.tensor_type.shape.dim]
    assert given.name == "images" and shape == ["N", 784]
    assert given.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and "[0, 1]" in given.doc_string


def test_the_graph_deskews_as_deskew_py_in_opset_13s_operators(deskewing_nets, mnist):
    """The deskewing is in the graph, before the first Gemm, made of opset 13's operators only (no GridSample):
    its deskewed pixels are deskew.py's, for MNIST and for every awkward case, and never NaN."""
    model = onnx_model(deskewing_nets[0])
    graph = model.graph
    assert [o.version for o in model.opset_import] == [OPSET] and OPSET == 13
    assert "GridSample" not in {n.op_type for n in graph.node}
    assert {p.key: p.value for p in model.metadata_props}["deskew"] == "true" and "deskews" in model.doc_string
    first_layer = layer_nodes(graph)[0]
    assert first_layer.input[0] != "images" and graph.node[0].input[0] == "images"  # the layers read deskewed images
    graph.output.append(onnx.helper.make_tensor_value_info(first_layer.input[0], onnx.TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    images = np.concatenate([mnist.test_images[:500], awkward_images()]).reshape(-1, 784)
    rows = images.astype(np.float32) / 255
    (deskewed,) = session.run([first_layer.input[0]], {"images": rows})
    assert np.isfinite(deskewed).all()
    assert np.abs(deskewed - deskew(rows, 28)).max() <= 1e-6
    assert np.abs(deskewed - rows).max() > 0.5  # it does move pixels...
    blank = images.max(axis=1) == 0
    np.testing.assert_array_equal(deskewed[blank], rows[blank])  # ...but not those of an image of no ink
    plain = onnx_model(Network((784, 16, 10), "relu", "cross-entropy", seed=0)).graph
    assert plain.node[0].op_type == "Gemm" and {p.key: p.value for p in onnx_model(
        Network((784, 10), seed=0)).metadata_props}["deskew"] == "false"


@pytest.mark.parametrize("which", range(2))
def test_a_deskewing_network_in_onnxruntime_gives_predict_proba(deskewing_nets, which, mnist, tmp_path):
    net = deskewing_nets[which]
    net.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")]) == 0
    images = np.concatenate([mnist.test_images[:500], awkward_images()])
    probabilities, labels = run_onnx(tmp_path / "m.onnx", images)
    assert np.isfinite(probabilities).all()
    assert np.abs(probabilities - net.predict_proba(images)).max() <= 1e-5
    np.testing.assert_array_equal(labels, net.predict(images))
    # A graph that forgot to deskew would give the answers of the same network without deskewing: far off.
    straight = net.copy()
    straight.deskew = False
    assert np.abs(probabilities - straight.predict_proba(images)).max() > 0.1
    assert (labels[:500] != straight.predict(images[:500])).mean() > 0.05
    blank = images.reshape(len(images), -1).max(axis=1) == 0  # no ink: the same either way
    assert blank.sum() == 1 and np.abs(probabilities[blank] - straight.predict_proba(images[blank])).max() <= 1e-5


def test_the_json_says_whether_the_network_deskews_and_how(deskewing_nets, small_nets):
    document = json.loads(json_text(deskewing_nets[0]))
    assert document["deskew"] is True and "deskewed first" in document["input"]
    for formula in ("r + r̄ − m", "c + α (r − m) + c̄ − m", "m = (side − 1) / 2 = 13.5", "bilinear", "counts as 0"):
        assert formula in document["deskewing"]
    document = json.loads(json_text(small_nets[0]))
    assert document["deskew"] is False and "deskewing" not in document and "deskew" not in document["input"]


def deskewed_as_the_json_says(rows, side):
    """The JSON's "deskewing", written from its words (in float64): each pixel read from the image at a
    point, bilinearly, as a 2-D interpolation; not as deskew.py reads it, a line at a time."""
    I = rows.reshape(len(rows), side, side).astype(np.float64)
    n, m, r = len(I), (side - 1) / 2, np.arange(side)
    M = I.sum(axis=(1, 2))
    safe = np.where(M > 0, M, 1)
    r_bar = np.where(M > 0, np.einsum("nrc,r->n", I, r) / safe, m)[:, None, None]
    c_bar = np.where(M > 0, np.einsum("nrc,c->n", I, r) / safe, m)[:, None, None]
    rows_at, columns_at = r[None, :, None] - r_bar, r[None, None, :] - c_bar  # r − r̄, c − c̄
    S = (rows_at ** 2 * I).sum(axis=(1, 2))
    alpha = np.where(S > 0, (rows_at * columns_at * I).sum(axis=(1, 2)) / np.where(S > 0, S, 1), 0)[:, None, None]
    y = np.broadcast_to(r[None, :, None] + r_bar - m, I.shape)
    x = r[None, None, :] + alpha * (r[None, :, None] - m) + c_bar - m
    y0, x0 = np.floor(y), np.floor(x)
    fy, fx = y - y0, x - x0

    def pixel(row, column):  # I[row][column], 0 off the image
        inside = (row >= 0) & (row < side) & (column >= 0) & (column < side)
        row, column = np.clip(row, 0, side - 1).astype(int), np.clip(column, 0, side - 1).astype(int)
        return np.where(inside, I[np.arange(n)[:, None, None], row, column], 0)

    out = ((1 - fy) * (1 - fx) * pixel(y0, x0) + (1 - fy) * fx * pixel(y0, x0 + 1)
           + fy * (1 - fx) * pixel(y0 + 1, x0) + fy * fx * pixel(y0 + 1, x0 + 1))
    return out.reshape(n, side * side)


def layer_nodes(graph):
    """The graph's nodes from the first Gemm on: the layers, without any deskewing before them."""
    first = next(k for k, n in enumerate(graph.node) if n.op_type == "Gemm")
    return graph.node[first:]


def forward_from_json(document, rows):
    """The forward pass as another language would write it from the JSON alone (in float64)."""
    if document["deskew"]:
        rows = deskewed_as_the_json_says(rows, math.isqrt(document["sizes"][0]))
    sigma = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
             "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(
                 1, keepdims=True)}
    a = rows
    for layer in document["layers"]:
        a = sigma[layer["activation"]](a @ np.array(layer["W"]).T + np.array(layer["b"]))
    return a / a.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("which", range(3))
def test_the_json_holds_every_weight_exactly_and_computes_the_same(small_nets, trained_net, deskewing_nets, which,
                                                                   mnist, tmp_path):
    net = [trained_net, small_nets[0], deskewing_nets[1]][which]
    net.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "weights.txt"), "--format", "json"]) == 0
    document = json.loads((tmp_path / "weights.txt").read_text())
    assert document["sizes"] == list(net.sizes) and "[0, 1]" in document["input"]
    assert document["deskew"] is net.deskew and ("deskewing" in document) is net.deskew
    assert set(document["activations"]) == {layer["activation"] for layer in document["layers"]}
    for layer, W, b in zip(document["layers"], net.weights, net.biases, strict=True):
        np.testing.assert_array_equal(np.array(layer["W"], np.float32), W)
        np.testing.assert_array_equal(np.array(layer["b"], np.float32), b)
    images = np.concatenate([mnist.test_images[:1000], awkward_images()])
    expected = net.predict_proba(images)
    assert np.abs(forward_from_json(document, images.reshape(len(images), -1) / 255) - expected).max() <= 1e-5


def test_bad_requests_get_one_line_and_never_touch_the_model(default_model, tmp_path, capsys):
    model = tmp_path / "model.npz"
    model.write_bytes(default_model.read_bytes())
    for args, message in ((["out.txt"], "name the file .onnx or .json"),
                          ([str(model), "--format", "json"], "is the model itself"),
                          ([str(tmp_path / "no-such-folder" / "m.onnx")], "no-such-folder")):
        assert main(["export", str(model), *args]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error
    assert model.read_bytes() == default_model.read_bytes()
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # nothing half-written left behind


WITHOUT_ONNX = """
from digitnet.cli import main
status = main(["export", sys.argv[1], sys.argv[2]])
assert "onnx" not in sys.modules
assert main(["export", sys.argv[1], sys.argv[3]]) == 0  # JSON needs nothing more
sys.exit(status)
"""


def test_without_onnx_the_export_says_what_to_install_and_json_still_works(default_model, tmp_path):
    done = run_without(["onnx"], WITHOUT_ONNX, str(default_model), str(tmp_path / "m.onnx"), str(tmp_path / "m.json"))
    assert done.returncode == 2, done.stderr
    assert done.stderr == "digitnet: error: onnx is not installed: pip install 'digitnet[onnx]'\n"
    assert not (tmp_path / "m.onnx").exists() and (tmp_path / "m.json").exists()
