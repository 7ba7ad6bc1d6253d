"""Pictures of the network: each `digitnet show` kind draws a real PNG, and the maths
behind them (patterns, gradients, dreams, noise) is checked against known answers."""

import numpy as np
import pytest
from PIL import Image

from digitnet import Network, figures, plots
from digitnet.cli import main
from digitnet.functions import one_hot

from .conftest import MNIST

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def show(*args):
    return main(["show", *map(str, args)])


def assert_png(path, min_size=(300, 200)):
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        width, height = image.size
    assert min_size[0] <= width <= 3000 and min_size[1] <= height <= 3000, image.size


def tiny_net(sizes=(16, 5, 4, 3), activation="sigmoid", cost="quadratic", seed=1):
    """A small float64 network, so that numerical derivatives are accurate."""
    return Network(sizes, activation, cost, seed=seed, dtype=np.float64)


# ---- every kind draws a picture -------------------------------------------------------------------

KINDS = [
    ("weights", []),
    ("weights", ["--layer", "2"]),
    ("activations", ["--image", "3", "--data", MNIST]),
    ("training", []),
    ("confusion", ["--data", MNIST]),
    ("mistakes", ["--n", "16", "--data", MNIST]),
    ("noise", ["--n", "100"]),
    ("dream", ["--steps", "20"]),
    ("dream", ["--digit", "4", "--steps", "20", "--start", "noise", "--smoothness", "0.01"]),
    ("gradient", ["--image", "5", "--data", MNIST]),
    ("cost", ["--image", "0", "--data", MNIST]),
    ("cost", ["--image", "8", "--label", "3", "--data", MNIST]),
]


@pytest.mark.parametrize("kind, options", KINDS, ids=[" ".join([k, *map(str, o)]) for k, o in KINDS])
def test_every_kind_writes_a_png(kind, options, default_model, output_dir, capsys):
    out = output_dir / f"show-{kind}-{len(options)}.png"
    out.unlink(missing_ok=True)
    assert show(kind, default_model, *options, "--out", out) == 0
    assert_png(out)
    assert f"wrote {out}" in capsys.readouterr().out


def test_the_file_name_defaults_to_the_kind(default_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert show("weights", default_model) == 0
    assert_png(tmp_path / "weights.png")


def test_activations_of_an_image_file(default_model, mnist, tmp_path):
    pytest.importorskip("digitnet.images")
    photo = tmp_path / "seven.png"
    Image.fromarray(255 - mnist.test_images[0]).resize((140, 140)).save(photo)  # dark ink on white paper
    assert show("activations", default_model, "--file", photo, "--out", tmp_path / "a.png") == 0
    assert_png(tmp_path / "a.png")


@pytest.mark.parametrize("args, words", [
    (["dream", "{model}", "--digit", "11"], ["digit 11"]),
    (["dream", "{model}", "--digit", "-1"], ["digit -1"]),
    (["activations", "{model}", "--image", "10000", "--data", MNIST], ["10000", "0 to 9999"]),
    (["gradient", "{model}", "--image", "-1", "--data", MNIST], ["-1"]),
    (["weights", "{model}", "--layer", "3"], ["layer 3"]),
    (["dream", "{model}", "--lr", "-1"], ["lr"]),
    (["weights", "{model}", "--dpi", "100000"], ["--dpi"]),
    (["weights", "/no/such/model.npz"], ["/no/such/model.npz"]),
    (["noise", "/no/such/model.npz"], ["/no/such/model.npz"]),
    (["noise", "{model}", "--seed", "-1"], ["seed", "-1"]),
    (["dream", "{model}", "--start", "noise", "--seed", "-1"], ["seed", "-1"]),
    (["weights", "{model}", "--out", "/no/such/folder/w.png"], ["/no/such/folder"]),
    (["cost", "{model}", "--label", "10", "--data", MNIST], ["digit 10"]),
    (["cost", "{model}", "--image", "10000", "--data", MNIST], ["10000"]),
])
def test_bad_arguments_give_one_line(args, words, default_model, capsys):
    args = [str(a).replace("{model}", str(default_model)) for a in args]
    assert show(*args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("digitnet: error:"), err
    for word in words:
        assert word in err[0]


def test_a_model_without_history_has_no_training_picture(tmp_path, capsys):
    Network(seed=0).save(tmp_path / "untrained.npz")
    assert show("training", tmp_path / "untrained.npz", "--out", tmp_path / "t.png") == 2
    assert "no training history" in capsys.readouterr().err
    assert not (tmp_path / "t.png").exists()


def test_training_picture_with_missing_columns(tmp_path):
    history = [{"epoch": 1, "cost": 0.9}, {"epoch": 2, "cost": 0.5, "test_accuracy": 0.9}]
    columns = figures.history_columns(history)
    assert set(columns) == {"epoch", "cost", "test_accuracy"}
    assert np.isnan(columns["test_accuracy"][0]) and columns["test_accuracy"][1] == 0.9
    plots.save_png(plots.training_figure(history), tmp_path / "t.png")
    assert_png(tmp_path / "t.png")


# ---- weights: blue where positive, red where negative --------------------------------------------


def test_weight_tiles_are_blue_where_positive_and_red_where_negative():
    net = Network((4, 2, 2), seed=0)  # 2x2 "images"
    net.weights[0][...] = 0
    net.weights[0][0, 1] = 0.8  # neuron 0, pixel (0, 1)
    net.weights[0][0, 2] = -0.5  # neuron 0, pixel (1, 0)
    fig = plots.weights_figure(net, 0)
    image = fig.axes[0].images[0]
    rgba = image.to_rgba(image.get_array())
    red, blue = rgba[..., 0], rgba[..., 2]
    assert blue[0, 1] > red[0, 1] + 0.3  # positive: blue
    assert red[1, 0] > blue[1, 0] + 0.3  # negative: red
    assert np.allclose(rgba[0, 0, :3], rgba[0, 0, 0], atol=0.05) and rgba[0, 0, 0] > 0.9  # zero: white
    colours = plots.weight_colours(figures.neuron_pattern(net, 0, 0))
    assert colours[0, 1, 2] > colours[0, 1, 0] and colours[1, 0, 0] > colours[1, 0, 2]


def test_deeper_patterns_are_weighted_combinations(trained_net):
    first = figures.neuron_patterns(trained_net, 0)
    assert np.array_equal(first, trained_net.weights[0].reshape(-1, 28, 28))
    second = figures.neuron_patterns(trained_net, 1)
    j = 5
    expected = sum(w * pattern for w, pattern in zip(trained_net.weights[1][j], first, strict=True))
    assert np.allclose(second[j], expected, atol=1e-5)
    third = figures.neuron_patterns(trained_net, 2)
    expected = np.tensordot(trained_net.weights[2][7], second, axes=1)
    assert np.allclose(third[7], expected, atol=1e-5)
    assert np.array_equal(figures.neuron_pattern(trained_net, 2, 7), third[7])
    assert third.shape == (10, 28, 28)


def test_bad_neuron_or_layer_is_a_digitnet_error(trained_net):
    from digitnet.errors import DigitnetError

    with pytest.raises(DigitnetError, match="neuron 16"):
        figures.neuron_pattern(trained_net, 0, 16)
    with pytest.raises(DigitnetError, match="layer 3"):
        figures.neuron_patterns(trained_net, 3)
    with pytest.raises(DigitnetError, match="square"):
        figures.neuron_patterns(Network((10, 3, 2)), 0)


def test_png_bytes_for_the_web_page(trained_net):
    for palette in (True, False):
        data = plots.png_bytes(plots.dream_figure(trained_net, {0: np.zeros((28, 28))}), palette=palette)
        assert data[:8] == PNG_SIGNATURE


# ---- gradients against numerical derivatives -------------------------------------------------------


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        up = f()
        x[i] = saved - eps
        down = f()
        x[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation, cost", [("sigmoid", "quadratic"), ("relu", "cross-entropy"),
                                              ("tanh", "cross-entropy")])
def test_input_gradient_matches_numerical(activation, cost):
    net = tiny_net(activation=activation, cost=cost)
    x = np.random.default_rng(2).uniform(0.1, 0.9, 16)
    digit = 2
    numeric = numerical_gradient(lambda: net.total_cost(x.reshape(1, -1), [digit]), x)
    analytic = figures.input_gradient(net, x, digit)
    assert analytic.shape == x.shape
    assert np.abs(numeric).max() > 1e-4  # the check means something
    assert np.allclose(analytic, numeric, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("activation, cost", [("sigmoid", "quadratic"), ("relu", "cross-entropy")])
def test_dream_gradient_matches_numerical(activation, cost):
    net = tiny_net(activation=activation, cost=cost)
    x = np.random.default_rng(6).uniform(0.1, 0.9, 16)
    numeric = numerical_gradient(lambda: figures.dream_objective(net, x, 1), x)
    assert np.abs(numeric).max() > 1e-4
    assert np.allclose(figures.dream_gradient(net, x, 1), numeric, rtol=1e-4, atol=1e-8)


def test_cost_gradient_matches_backprop_and_numerical():
    net = tiny_net(activation="relu", cost="cross-entropy")
    x = np.random.default_rng(3).uniform(0, 1, 16)
    grad_W, grad_b = figures.cost_gradient(net, x, 1)
    backprop_W, backprop_b, _ = net.backprop(x.reshape(1, -1), one_hot([1], 3, np.float64))
    for mine, theirs in zip(grad_W + grad_b, backprop_W + backprop_b, strict=True):
        assert np.array_equal(mine, theirs)
    cost = lambda: net.total_cost(x.reshape(1, -1), [1])  # noqa: E731
    for params, grads in ((net.weights, grad_W), (net.biases, grad_b)):
        for p, g in zip(params, grads, strict=True):
            assert np.allclose(g, numerical_gradient(cost, p), rtol=1e-4, atol=1e-8)


def test_largest_components_are_the_largest():
    net = tiny_net()
    grad_W, grad_b = figures.cost_gradient(net, np.linspace(0, 1, 16), 0)
    names, values = figures.largest_components(grad_W, grad_b, k=5)
    everything = np.concatenate([g.ravel() for g in grad_W + grad_b])
    assert np.allclose(np.sort(np.abs(values))[::-1], np.sort(np.abs(everything))[::-1][:5])
    layer, index = names[0][1], names[0][3:-1]  # e.g. "W1[2,3]"
    array = (grad_W if names[0][0] == "W" else grad_b)[int(layer)]
    assert array[tuple(int(i) for i in index.split(","))] == values[0]


# ---- dreams and noise -------------------------------------------------------------------------------


@pytest.mark.parametrize("digit, start", [(3, "grey"), (7, "noise"), (1, "black")])
def test_dream_makes_its_digit_output_high(trained_net, digit, start):
    x = figures.dream(trained_net, digit, start=start)
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1
    before = figures.output_of(trained_net, np.full((28, 28), 0.5))[digit]
    after = figures.output_of(trained_net, x)[digit]
    assert after > 0.99 and after > before


def test_dream_finds_the_pattern_a_hand_built_network_wants():
    """Hidden neuron 0 likes ink in the top half of a 4x4 image, neuron 1 in the bottom
    half; output 1 fires for neuron 0 and not 1. So the dream for 1 is: top half white,
    bottom half black (found through the video's sigmoid units and quadratic cost)."""
    net = tiny_net(sizes=(16, 2, 3), activation="sigmoid", cost="quadratic")
    top = np.r_[np.ones(8), -np.ones(8)]
    net.weights[0][...] = [top, -top]
    net.biases[0][...] = 0
    net.weights[1][...] = [[-10, 10], [10, -10], [0, 0]]
    net.biases[1][...] = [-3, -3, -5]
    assert figures.output_of(net, np.full((4, 4), 0.5))[1] < 0.1
    x = figures.dream(net, 1, steps=200, lr=0.1)
    assert figures.output_of(net, x)[1] > 0.99
    assert x[:2].min() > 0.9 and x[2:].max() < 0.1


def test_smoothness_gradient_matches_numerical():
    image = np.random.default_rng(5).random((5, 5))
    _, grad = figures.smoothness_penalty(image)
    assert np.allclose(grad, numerical_gradient(lambda: figures.smoothness_penalty(image)[0], image), atol=1e-6)


@pytest.mark.parametrize("kind", ["uniform", "scribble"])
def test_noise_experiment(trained_net, kind):
    r = figures.noise_experiment(trained_net, n=200, kind=kind, seed=1)
    assert r["images"].shape == (200, 784) and 0 <= r["images"].min() and r["images"].max() <= 1
    assert r["predictions"].shape == (200,) and set(r["predictions"]) <= set(range(10))
    assert np.all((0 < r["confidences"]) & (r["confidences"] <= 1 + 1e-6))
    assert 0 <= r["confident_share"] <= 1
    assert r["confident_share"] == pytest.approx(np.mean(r["confidences"] > 0.9))
    if kind == "scribble":  # sparse ink, like a drawing
        assert 0.02 < r["images"].mean() < 0.4


def test_noise_command_reports_the_share(default_model, tmp_path, capsys):
    assert show("noise", default_model, "--n", "50", "--out", tmp_path / "n.png") == 0
    lines = capsys.readouterr().out.splitlines()
    for kind in ("uniform", "scribble"):
        line = next(line for line in lines if line.startswith(f"{kind} noise:"))
        share = float(line.split(":")[1].split("%")[0])
        assert 0 <= share <= 100


def test_mistakes_are_wrong_and_most_confident_first(trained_net, mnist):
    images, labels = mnist.test_images[:2000], mnist.test_labels[:2000]
    found = figures.mistakes(trained_net, images, labels)
    predicted = trained_net.predict(images)
    assert len(found["indices"]) == np.sum(predicted != labels) > 0
    assert np.array_equal(predicted[found["indices"]], found["predicted"])
    assert np.all(found["true"] != found["predicted"])
    assert np.all(np.diff(found["confidences"]) <= 0)


def test_cost_json_is_the_laid_out_cost_of_the_test_image(default_model, trained_net, mnist, capsys):
    import json

    from digitnet.lesson import cost_of_one

    assert show("cost", default_model, "--image", "4", "--label", "2", "--json", "--data", MNIST) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = cost_of_one(trained_net, mnist.test_images[4], 2)
    assert printed["label"] == 2 and printed["true_label"] == int(mnist.test_labels[4])
    assert printed["cost"] == pytest.approx(expected["cost"], rel=1e-6)
    assert printed["cost"] == pytest.approx(sum(printed["terms"]), rel=1e-6)
    np.testing.assert_allclose(printed["outputs"], expected["outputs"], rtol=1e-6)
    assert printed["average_cost"] == pytest.approx(trained_net.total_cost(mnist.test_images, mnist.test_labels))
