"""digitnet export: the ONNX graph, run in onnxruntime, gives predict_proba's probabilities and
the same answers; the JSON holds every weight exactly and enough to compute the same."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest

from digitnet import Network
from digitnet.cli import main
from digitnet.export import onnx_model
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
    graph = onnx_model(trained_net).graph
    assert [n.op_type for n in graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax", "ArgMax"]
    assert all(n.attribute[0].name == "transB" for n in graph.node if n.op_type == "Gemm")  # W as the network has it
    sigmoid = onnx_model(small_nets[0]).graph  # sigmoid outputs are divided by their sum, as predict_proba does
    assert [n.op_type for n in sigmoid.node][-4:] == ["Sigmoid", "ReduceSum", "Div", "ArgMax"]
    (given,) = graph.input
    shape = [d.dim_param or d.dim_value for d in given.type.tensor_type.shape.dim]
    assert given.name == "images" and shape == ["N", 784]
    assert given.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and "[0, 1]" in given.doc_string


def forward_from_json(document, rows):
    """The forward pass as another language would write it from the JSON alone (in float64)."""
    sigma = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
             "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(
                 1, keepdims=True)}
    a = rows
    for layer in document["layers"]:
        a = sigma[layer["activation"]](a @ np.array(layer["W"]).T + np.array(layer["b"]))
    return a / a.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("which", range(2))
def test_the_json_holds_every_weight_exactly_and_computes_the_same(small_nets, trained_net, which, mnist,
                                                                   tmp_path):
    net = [trained_net, small_nets[0]][which]
    net.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "weights.txt"), "--format", "json"]) == 0
    document = json.loads((tmp_path / "weights.txt").read_text())
    assert document["sizes"] == list(net.sizes) and "[0, 1]" in document["input"]
    assert set(document["activations"]) == {layer["activation"] for layer in document["layers"]}
    for layer, W, b in zip(document["layers"], net.weights, net.biases, strict=True):
        np.testing.assert_array_equal(np.array(layer["W"], np.float32), W)
        np.testing.assert_array_equal(np.array(layer["b"], np.float32), b)
    images = mnist.test_images[:1000]
    expected = net.predict_proba(images)
    assert np.abs(forward_from_json(document, images.reshape(1000, -1) / 255) - expected).max() <= 1e-5


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
