"""The experiments of chapter 2: memorising shuffled labels, the cost surface with the path
training took, and sigmoid against ReLU. Their maths on real MNIST, and each one's
`digitnet show` picture and --json."""

import argparse
import json
import math

import numpy as np
import pytest

from digitnet import Network, experiments
from digitnet.cli import main
from digitnet.commands.show import as_json
from digitnet.errors import DigitnetError

from .conftest import MNIST, OLD_MODEL
from .test_figures import assert_png

# ---- the model's recipe ---------------------------------------------------------------------------


def test_an_experiment_trains_with_the_models_own_recipe_and_seed(trained_net):
    options, seed = experiments.recipe_of(trained_net)
    saved = trained_net.header["options"]
    assert seed == saved["seed"] == 0
    assert options == {key: saved[key] for key in options} and options["optimizer"] == "adam"


def test_a_model_without_options_uses_its_recipe_and_ignores_odd_values():
    net = Network(seed=0)
    net.header = {"recipe": "video", "options": {"lr": "fast", "epochs": 7, "seed": -3}}
    options, seed = experiments.recipe_of(net)
    assert options["lr"] == 3.0 and options["epochs"] == 7 and options["optimizer"] == "sgd" and seed == 0
    options, seed = experiments.recipe_of(Network(seed=0))  # made in code: no header at all
    assert options["optimizer"] == "adam" and seed == 0


# ---- 1. memorising ----------------------------------------------------------------------------------


def test_shuffling_keeps_how_many_of_each_digit_there_are(mnist):
    labels = mnist.train_labels[:1000]
    shuffled = experiments.shuffled(labels, np.random.default_rng(0))
    assert np.array_equal(np.bincount(shuffled, minlength=10), np.bincount(labels, minlength=10))
    assert np.mean(shuffled == labels) < 0.2  # about a tenth stay right by chance


@pytest.fixture(scope="module")
def memorised(mnist):
    net = Network(activation="relu", cost="cross-entropy", seed=0)
    seen = []
    result = experiments.memorize(net, mnist.train_images, mnist.train_labels,
                                  (mnist.test_images, mnist.test_labels), images=500, epochs=100,
                                  progress=lambda name, record: seen.append((name, record["epoch"])))
    return result, seen


def test_real_labels_are_learned_and_generalise(memorised):
    real = memorised[0]["real"]
    assert real["train_accuracy"][-1] == 1.0 and real["test_accuracy"] > 0.75


def test_shuffled_labels_are_memorised_slowly_and_teach_nothing(memorised):
    real, shuffled = memorised[0]["real"], memorised[0]["shuffled"]
    assert shuffled["train_accuracy"][-1] > 0.6  # memorised: far above the 10 % of guessing
    assert 0.05 < shuffled["test_accuracy"] < 0.15  # chance, on images it never saw
    assert real["cost"][9] < shuffled["cost"][9] / 3  # real labels: the cost falls fast
    assert len(shuffled["cost"]) == len(shuffled["train_accuracy"]) == 100


def test_the_two_runs_take_their_epochs_in_turn(memorised):
    seen = memorised[1]
    assert seen[:4] == [("real", 1), ("shuffled", 1), ("real", 2), ("shuffled", 2)] and len(seen) == 200


def test_memorising_moves_no_image_whatever_the_recipe(mnist, monkeypatch):
    net = Network(seed=0)
    net.header = {"recipe": "wide"}  # trained with images shifted, turned and enlarged
    asked = []

    def trainer(net, X, y, **options):  # note what the run is asked for, and go no further
        asked.append(options)
        raise StopIteration

    monkeypatch.setattr(experiments, "Trainer", trainer)
    with pytest.raises(StopIteration):
        experiments.memorize(net, mnist.train_images, mnist.train_labels, (mnist.test_images, mnist.test_labels))
    assert asked[0]["shift"] == 0 and asked[0]["augment"] is None and asked[0]["not_a_digit"] == 0


def test_more_images_than_there_are_is_an_error(mnist):
    with pytest.raises(DigitnetError, match="60,001 training images"):
        experiments.memorize(Network(seed=0), mnist.train_images, mnist.train_labels,
                             (mnist.test_images, mnist.test_labels), images=60001)


# ---- 2. the cost surface ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(mnist):
    return experiments.sample(mnist.train_images, mnist.train_labels, 500, np.random.default_rng(0))


@pytest.fixture(scope="module")
def surface(trained_net, sample):
    return experiments.landscape(trained_net, *sample, steps=9)


def test_the_centre_of_the_slice_is_the_models_cost(trained_net, sample, surface):
    cost = trained_net.total_cost(*sample)
    random = np.array(surface["random"]["cost"])
    assert random.shape == (9, 9) and surface["random"]["x"][4] == surface["random"]["y"][4] == 0
    assert random[4, 4] == pytest.approx(cost, rel=1e-6) and surface["cost"] == random[4, 4]
    assert random[4, 4] == np.min(random)  # a minimum, along these directions at least
    assert surface["parameters"] == 13002


def test_random_directions_are_normalised_neuron_by_neuron(trained_net):
    direction = experiments.filter_normalised(trained_net, np.random.default_rng(1))
    twin = trained_net.copy()
    twin.params[...] = direction
    for D, W, b in zip(twin.weights, trained_net.weights, twin.biases, strict=True):
        np.testing.assert_allclose(np.linalg.norm(D, axis=1), np.linalg.norm(W, axis=1), rtol=1e-5)
        assert not b.any()  # the biases stay where they are
    other = experiments.filter_normalised(trained_net, np.random.default_rng(2))
    cosine = direction @ other / np.linalg.norm(direction) / np.linalg.norm(other)
    assert abs(cosine) < 0.05  # in 13,002 dimensions two random directions are all but orthogonal


def test_the_path_runs_downhill_to_the_trained_network(trained_net, surface):
    path = surface["path"]
    kept = trained_net.history.best_epoch
    assert path["epochs"] == list(range(len(trained_net.history) + 1))
    assert path["path_x"][kept] == pytest.approx(0, abs=1e-6) and path["path_y"][kept] == pytest.approx(0, abs=1e-6)
    assert path["path_cost"][kept] == pytest.approx(surface["cost"], rel=1e-5)
    assert path["path_cost"][0] > 3 * path["path_cost"][kept]  # the random start is high up
    # Beside each epoch's point on the plane, the cost at its own weights, as training measured it.
    assert path["epoch_cost"] == trained_net.path.costs and len(path["epoch_cost"]) == len(path["epochs"])
    assert path["epoch_cost_images"] == 1000 and path["epoch_cost"][0] > 3 * path["epoch_cost"][kept]
    assert 0.5 < path["share"] <= 1
    x, y = np.array(path["x"]), np.array(path["y"])  # the slice covers the whole path
    assert x.min() < min(path["path_x"]) and x.max() > max(path["path_x"])
    assert y.min() < min(path["path_y"]) and y.max() > max(path["path_y"])


def test_an_old_model_has_a_surface_but_no_path(mnist):
    old = Network.load(OLD_MODEL)
    X, y = mnist.train_images[:200], mnist.train_labels[:200]
    result = experiments.landscape(old, X, y, steps=5)
    assert result["path"] is None and result["random"]["cost"][2][2] == pytest.approx(old.total_cost(X, y), rel=1e-6)


def test_the_surface_grows_row_by_row(trained_net, sample):
    rows = []
    experiments.landscape(trained_net, *sample, steps=3, progress=lambda part, row: rows.append((part, row["row"])))
    assert rows == [("random", 0), ("random", 1), ("random", 2), ("path", 0), ("path", 1), ("path", 2)]


@pytest.mark.parametrize("steps, extent, words", [(4, 1.0, "odd number"), (1, 1.0, "odd number"),
                                                  (5, 0.0, "extent")])
def test_bad_surfaces_are_refused(trained_net, sample, steps, extent, words):
    with pytest.raises(DigitnetError, match=words):
        experiments.landscape(trained_net, *sample, steps=steps, extent=extent)


# ---- 3. sigmoid against ReLU --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def versus(mnist):
    return experiments.sigmoid_vs_relu(mnist.train_images, mnist.train_labels, (mnist.test_images, mnist.test_labels),
                                       depths=(1, 5), images=3000, epochs=2)


def test_every_depth_is_trained_with_both_activations(versus):
    assert [(r["activation"], r["hidden_layers"]) for r in versus] == [
        ("sigmoid", 1), ("relu", 1), ("sigmoid", 5), ("relu", 5)]
    for run in versus:
        assert len(run["cost"]) == 2 and len(run["gradients"]) == 3  # the start, then each epoch
        assert len(run["gradients"][0]) == run["hidden_layers"] + 1  # hidden layers and the output


def test_the_gradient_vanishes_going_back_through_sigmoid_layers(versus):
    deep_sigmoid, deep_relu = versus[2]["gradients"][0], versus[3]["gradients"][0]
    assert all(a < b / 2 for a, b in zip(deep_sigmoid[:-1], deep_sigmoid[1:], strict=True))  # σ' ≤ ¼ each layer back
    assert deep_sigmoid[0] < deep_relu[0] / 100  # what reaches the first layer
    assert versus[3]["cost"][-1] < versus[2]["cost"][-1]  # and the deep ReLU network learns faster


def test_the_gradient_is_the_one_backprop_gives(trained_net, sample):
    x, y = trained_net.inputs(sample[0][:50]), np.eye(10, dtype=np.float32)[sample[1][:50]]
    _, nabla_b, _ = trained_net.backprop(x, y)
    assert experiments.layer_gradients(trained_net, x, y) == [float(np.linalg.norm(g)) for g in nabla_b]


# ---- the pictures and their numbers --------------------------------------------------------------------

SHOWN = [
    ("memorize", ["--images", "300", "--epochs", "20"]),
    ("landscape", ["--images", "300", "--steps", "7"]),
    ("sigmoid-vs-relu", ["--images", "1000", "--epochs", "1", "--depths", "1,3"]),
]


def show(*args):
    return main(["show", *map(str, args)])


@pytest.mark.parametrize("kind, options", SHOWN, ids=[k for k, _ in SHOWN])
def test_each_experiment_draws_a_png(kind, options, default_model, output_dir, capsys):
    out = output_dir / f"show-{kind}.png"
    out.unlink(missing_ok=True)
    assert show(kind, default_model, *options, "--data", MNIST, "--out", out) == 0
    assert_png(out)
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("kind, options", SHOWN, ids=[k for k, _ in SHOWN])
def test_each_experiment_prints_its_numbers_with_json(kind, options, default_model, tmp_path, capsys):
    assert show(kind, default_model, *options, "--data", MNIST, "--out", tmp_path / "x.png", "--json") == 0
    numbers = json.loads(capsys.readouterr().out)  # stdout holds the JSON alone
    assert not (tmp_path / "x.png").exists()
    if kind == "memorize":
        assert set(numbers) == {"real", "shuffled"}
        for run in numbers.values():
            assert set(run) == {"cost", "train_accuracy", "test_accuracy"} and len(run["cost"]) == 20
    elif kind == "landscape":
        assert len(numbers["random"]["cost"]) == 7 and numbers["path"]["share"] > 0.5
    else:
        assert [r["hidden_layers"] for r in numbers] == [1, 1, 3, 3]


def test_an_infinite_cost_is_null_in_the_json():
    assert json.loads(as_json({"cost": [[0.5, math.inf]], "share": math.nan})) == {"cost": [[0.5, None]], "share": None}


def test_without_json_it_says_what_it_found(default_model, tmp_path, capsys):
    assert show("memorize", default_model, "--images", "200", "--epochs", "5", "--data", MNIST,
                "--out", tmp_path / "m.png") == 0
    out = capsys.readouterr().out
    assert "real labels:" in out and "shuffled labels:" in out and "wrote" in out


def test_show_landscape_says_the_cost_on_the_plane_and_at_the_epochs_own_weights(default_model, tmp_path, capsys):
    assert show("landscape", default_model, "--images", "300", "--steps", "5", "--data", MNIST,
                "--out", tmp_path / "l.png") == 0
    out = capsys.readouterr().out
    costs = Network.load(default_model).path.costs
    assert "in that plane" in out
    assert (f"at the epochs' own weights, off the plane, the cost went from {costs[0]:.3f} to {costs[-1]:.3f} "
            "(on 1,000 of the images it trained on)") in out


def test_an_old_model_draws_its_surface_without_a_path(tmp_path, capsys):
    assert show("landscape", OLD_MODEL, "--images", "200", "--steps", "5", "--data", MNIST, "--json") == 0
    assert json.loads(capsys.readouterr().out)["path"] is None
    assert show("landscape", OLD_MODEL, "--images", "200", "--steps", "5", "--data", MNIST,
                "--out", tmp_path / "l.png") == 0
    assert "no path" in capsys.readouterr().out
    assert_png(tmp_path / "l.png")


@pytest.mark.parametrize("args, words", [
    (["landscape", "{model}", "--steps", "6"], ["odd number"]),
    (["landscape", "{model}", "--seed", "-1"], ["seed"]),
    (["memorize", "{model}", "--images", "70000"], ["70,000 training images"]),
    (["sigmoid-vs-relu", "{model}", "--seed", "-2"], ["seed"]),
    (["sigmoid-vs-relu", "{model}", "--lr", "-1", "--epochs", "1", "--images", "100"], ["learning rate"]),
])
def test_bad_arguments_give_one_line(args, words, default_model, capsys):
    args = [str(a).replace("{model}", str(default_model)) for a in args]
    assert show(*args, "--data", MNIST) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("digitnet: error:"), err
    for word in words:
        assert word in err[0]


# ---- each experiment declared once -------------------------------------------------------------------


def show_parser(kind):
    """The parser of `digitnet show KIND`."""
    from digitnet.cli import build_parser

    def sub(parser, name):
        return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]

    return sub(sub(build_parser(), "show"), kind)


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_the_command_lines_flags_and_defaults_are_the_experiments_declaration(name):
    declared = {key: option for key, option in experiments.EXPERIMENTS[name].options.items() if option.command_line}
    flags = {action.dest: action for action in show_parser(name)._actions
             if action.dest not in ("help", "model", "out", "dpi", "data", "json")}
    assert set(flags) == set(declared)
    for key, option in declared.items():
        assert flags[key].default == option.default and option.about in flags[key].help
        assert flags[key].option_strings == [f"--{key.replace('_', '-')}"]


def test_an_option_added_to_the_declaration_is_a_flag_of_the_command(monkeypatch):
    from digitnet.commands import show

    monkeypatch.setitem(experiments.MEMORIZE, "rounds", experiments.Option(3, "rounds of memorising"))
    monkeypatch.setitem(show.KINDS, "memorize", show.experiment("memorize", show.memorize_picture))  # made again
    flag = next(action for action in show_parser("memorize")._actions if action.dest == "rounds")
    assert flag.default == 3 and "rounds of memorising (default 3)" in flag.help


@pytest.mark.parametrize("name, options", [
    ("memorize", dict(images=100, epochs=3)),
    ("landscape", dict(images=100, steps=3)),  # the path's slice alone
    ("landscape", dict(images=100, steps=3, random=True)),
    ("sigmoid-vs-relu", dict(images=100, epochs=2, depths=(1, 2), width=4)),
])
def test_an_experiment_reports_its_progress_as_often_as_it_declares(name, options, trained_net, mnist):
    experiment = experiments.EXPERIMENTS[name]
    reports = []
    experiment.run(trained_net, mnist, lambda part, record: reports.append(part), **options)
    assert len(reports) == experiment.reports(trained_net, **options) > 0


def test_an_experiment_refuses_an_option_it_does_not_have(trained_net, mnist):
    with pytest.raises(DigitnetError, match="no option rounds"):
        experiments.EXPERIMENTS["memorize"].run(trained_net, mnist, rounds=3)
