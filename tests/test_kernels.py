"""The compiled epoch (digitnet.kernels, kernels.c) against the NumPy reference it copies: each
registry entry's single-number form, the moved images, one step's gradient against
backprop, whole epochs with every optimiser, and scoring many images."""

import subprocess
import sys

import numpy as np
import pytest

from digitnet import kernels
from digitnet.augment import Moves, augmentation, random_moves, shifted, thickened, warped
from digitnet.errors import DigitnetError
from digitnet.functions import ACTIVATIONS, COSTS, SOFTMAX, Activation, one_hot
from digitnet.network import Network, flatten
from digitnet.optimizers import SGD, flush
from digitnet.training import Trainer


def test_every_registry_entry_has_its_compiled_form():
    assert kernels.missing_forms() == []
    unknown = Activation("swish", None, None)
    with pytest.raises(DigitnetError, match="swish.*no compiled form"):
        kernels.code("sigma", unknown)


def test_rational_tanh_is_within_a_few_float32_ulps():
    x = np.linspace(-20, 20, 200_001, dtype=np.float32)[::97].reshape(1, -1).copy()
    expected = np.tanh(x)
    kernels.activate(x, np.zeros(x.shape[1], np.float32), ACTIVATIONS["tanh"])
    np.testing.assert_allclose(x, expected, rtol=0, atol=4e-7)


@pytest.mark.parametrize("sigma", [*ACTIVATIONS.values(), SOFTMAX], ids=lambda s: s.name)
def test_each_compiled_activation_matches_its_array_form(sigma):
    rng = np.random.default_rng(0)
    z, b = rng.normal(0, 4, (37, 13)).astype(np.float32), rng.normal(0, 1, 13).astype(np.float32)
    expected = sigma.f(z + b)
    kernels.activate(z, b, sigma)
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sigma", ACTIVATIONS.values(), ids=lambda s: s.name)
def test_each_compiled_derivative_matches_its_array_form(sigma):
    rng = np.random.default_rng(1)
    a = sigma.f(rng.normal(0, 2, (20, 9)).astype(np.float32))
    delta = rng.normal(0, 1, (20, 9)).astype(np.float32)
    expected = delta * sigma.prime(a)
    kernels.chain(delta, a, sigma)
    np.testing.assert_allclose(delta, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cost", COSTS.values(), ids=lambda c: c.name)
def test_each_compiled_cost_and_delta_match_their_array_forms(cost):
    rng = np.random.default_rng(2)
    a = cost.output.f(rng.normal(0, 2, (30, 10)).astype(np.float32))
    labels = rng.integers(0, 10, 30)
    y = one_hot(labels)
    assert kernels.total_cost(a, labels, cost) / len(a) == pytest.approx(cost.fn(a, y), rel=1e-5)
    np.testing.assert_allclose(kernels.output_delta(a, labels, cost), cost.delta(a, y) / len(a), rtol=1e-5, atol=1e-8)
    targets = cost.output.f(rng.normal(0, 2, (30, 10)).astype(np.float32))  # a teacher's outputs
    np.testing.assert_allclose(kernels.output_delta(a, labels, cost, (targets, 0.3)),
                               cost.delta(a, 0.3 * y + 0.7 * targets) / len(a), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shift", [0, 1, 2, 3])
def test_moved_images_are_read_as_augment_moves_them(shift):
    """Ink everywhere, edges too: the pixels that come round from the next row must be blank."""
    rng = np.random.default_rng(shift)
    images = rng.integers(0, 256, (40, 64)).astype(np.uint8)
    rows = rng.permutation(40)
    dx, dy = rng.integers(-shift, shift + 1, 40), rng.integers(-shift, shift + 1, 40)
    x = kernels.read_images(images, shift, rows, Moves(dx=dx, dy=dy))
    np.testing.assert_allclose(x, shifted(images[rows], dx, dy) / np.float32(255), rtol=1e-6)


@pytest.mark.parametrize("chosen", ["thickness=1", "rotate=30,scale=0.3", "rotate=10,thickness=0.8,elastic=60,sigma=3",
                                    "elastic=34"])
def test_distorted_images_are_augments(chosen):
    """kernels.distort against augment.thickened and augment.warped, from the same random numbers;
    ink everywhere, edges too, so that what comes in from beyond the edge must be blank."""
    rng = np.random.default_rng(7)
    x = rng.random((50, 100), dtype=np.float32)
    x[:20, :30] = 0
    moves = random_moves(rng, 50, 0, augmentation(chosen), 10)
    expected = warped(thickened(x, moves.warps[:, 2]), moves.warps[:, 0], moves.warps[:, 1],
                      None if moves.fields is None else moves.fields[moves.field])
    got = x.copy()
    kernels.distort(got, moves)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)
    assert not np.allclose(got, x, atol=0.05)  # it did move something


def one_step(net, pixels, labels):
    """The change one plain SGD step with η = 1 on a single batch makes to every
    parameter, compiled: minus the gradient."""
    before = net.params.copy()
    kernels.train_epoch(net, kernels.padded(pixels, 0), 0, np.arange(len(pixels)), labels, Moves(),
                        SGD(net.params.size), 1.0, len(pixels), 0.0)
    return before - net.params


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("sizes", [(784, 16, 16, 10), (784, 10), (784, 30, 20, 12, 10), (784, 100, 10)])
def test_a_step_follows_backprops_gradient(sizes, activation, cost):
    """Batches of 150 go through the products 64 rows at a time: the sum must be whole. The
    wide first layer reads only the inked pixels (kernels.inked): here two pixels in three."""
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (150, sizes[0]), dtype=np.uint8)
    pixels[rng.random(pixels.shape) < 1 / 3] = 0
    labels = rng.integers(0, sizes[-1], 150)
    net = Network(sizes, activation, cost, seed=3)
    grad_W, grad_b, _ = net.backprop(net.inputs(pixels), one_hot(labels, sizes[-1]))
    expected = flatten(grad_W, grad_b)
    got = one_step(net, pixels, labels)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-6 * np.abs(expected).max())


# Adam with L2 and moved images is left out: L2 pulls the weights of pixels that are almost
# never inked towards 0, where Adam's step (its size set by the sign of a vanishing gradient)
# turns float32 rounding into steps of the full learning rate either way.
OPTIONS = [
    dict(optimizer="sgd", lr=3.0, batch_size=10),
    dict(optimizer="sgd", lr=0.5, momentum=0.9, batch_size=64, l2=1e-4, shift=2),
    dict(optimizer="adam", lr=0.005, batch_size=128, shift=1),
    dict(optimizer="adam", lr=0.001, batch_size=100, l2=1e-3),
    dict(optimizer="sgd", lr=0.1, momentum=0.5, batch_size=32, shift=1, augment="rotate=15,scale=0.2,thickness=0.7"),
    dict(optimizer="adam", lr=0.003, batch_size=128, augment="elastic=34,sigma=4,rotate=5", sizes=(784, 100, 10)),
    dict(optimizer="adam", lr=0.005, batch_size=64, shift=1, teacher=(784, 40, 10)),
    # No uniform noise among the images of no digit: a few dozen of it would be all the ink the border pixels
    # ever see, and Adam makes full steps of the float32 rounding of their vanishing gradients, as above.
    dict(optimizer="adam", lr=0.005, batch_size=128, shift=1, not_a_digit="letters=300,symbols=100,doodles=100,"
         "scribbles=100", sizes=(784, 16, 16, 11)),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_an_epoch_compiled_is_the_numpy_epoch(mnist, options):
    """The same seed, data and options: the compiled epoch and the NumPy one end at
    the same weights (to float32 rounding, which fused loops order differently)
    and report the same cost and accuracy."""
    X, y = mnist.train_images[:3000], mnist.train_labels[:3000]
    activation, cost = ("relu", "cross-entropy") if options["optimizer"] == "adam" else ("sigmoid", "quadratic")
    options = dict(options)
    sizes = options.pop("sizes", (784, 16, 16, 10))
    if "teacher" in options:  # an untrained network's outputs will do as a teacher's
        options["teacher"] = Network(options["teacher"], "relu", "cross-entropy", seed=9)
    results = []
    for engine in ("compiled", "numpy"):
        net = Network(sizes, activation, cost, seed=4, not_a_digit="not_a_digit" in options)
        trainer = Trainer(net, X, y, epochs=2, seed=5, validation=300, engine=engine, **options)
        assert trainer.compiled == (engine == "compiled")
        trainer.run()
        results.append((net.params.copy(), trainer.history))
    (compiled_params, compiled_history), (numpy_params, numpy_history) = results
    assert np.abs(numpy_params).max() > 0.1  # it learned something
    np.testing.assert_allclose(compiled_params, numpy_params, rtol=0, atol=2e-3 * np.abs(numpy_params).max())
    for a, b in zip(compiled_history, numpy_history, strict=True):
        assert a["cost"] == pytest.approx(b["cost"], rel=1e-3)
        assert a["train_accuracy"] == pytest.approx(b["train_accuracy"], abs=2 / len(X))
        assert a["validation_accuracy"] == pytest.approx(b["validation_accuracy"], abs=2 / 300)


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_a_wide_layer_on_two_threads_gives_the_bits_of_one(mnist, monkeypatch, optimizer):
    """kernels.threads splits a wide first layer's sums, their gradient and the step between two
    threads, each number still worked out by one thread in one order: the same bits as one thread."""
    X, y = mnist.train_images[:2000], mnist.train_labels[:2000]
    assert kernels.inked_only((784, 200, 10), 64)
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(kernels, "threads", lambda threads=threads: threads)
        net = Network((784, 200, 10), "relu", "cross-entropy", seed=4)
        options = dict(lr=0.005) if optimizer == "adam" else dict(lr=0.1, momentum=0.9)
        trainer = Trainer(net, X, y, epochs=2, seed=5, validation=300, batch_size=64, l2=1e-4,
                          optimizer="adam" if optimizer == "adam" else "sgd", **options)
        trainer.run()
        results.append((net.params.copy(), trainer.history[-1]["cost"]))
    (one, cost_one), (two, cost_two) = results
    assert np.abs(one - Network((784, 200, 10), "relu", "cross-entropy", seed=4).params).max() > 0.01  # it learned
    np.testing.assert_array_equal(one, two)
    assert cost_one == cost_two


def test_a_float64_network_trains_through_numpy(mnist):
    net = Network((784, 8, 10), seed=0, dtype=np.float64)
    trainer = Trainer(net, mnist.train_images[:200], mnist.train_labels[:200], epochs=1, seed=0)
    assert not trainer.compiled
    trainer.run()
    assert net.params.dtype == np.float64
    with pytest.raises(DigitnetError, match="float32"):
        Trainer(net, mnist.train_images[:200], mnist.train_labels[:200], engine="compiled")
    with pytest.raises(DigitnetError, match="no engine 'numba'"):
        Trainer(net, mnist.train_images[:200], mnist.train_labels[:200], engine="numba")


@pytest.mark.parametrize("activation,cost", [("tanh", "cross-entropy"), ("sigmoid", "quadratic")])
def test_compiled_scoring_is_numpys(mnist, activation, cost):
    net = Network((784, 30, 10), activation, cost, seed=6)
    X, y = mnist.test_images[:777].reshape(777, -1), mnist.test_labels[:777]
    assert kernels.accuracy(net, X, y) == net.score(X, y)


def test_an_optimisers_memory_is_never_subnormal():
    memory = np.array([1e-30, -1e-38, 1e-40, -1e-45, 0, 3.0], np.float32)
    flush(memory)
    np.testing.assert_array_equal(memory, np.array([1e-30, 0, 0, 0, 0, 3.0], np.float32))  # normal: 1.18e-38 up


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_training_leaves_no_subnormal_number_in_the_optimisers_memory(mnist, engine, optimizer):
    """The memory of weights from pixels that no image inks decays geometrically; within a few
    hundred steps it would be subnormal, and every operation on it tens of times slower."""
    X, y = mnist.train_images[:4000], mnist.train_labels[:4000]
    net = Network((784, 16, 10), "relu", "cross-entropy", seed=0)
    options = dict(optimizer="adam", lr=0.003) if optimizer == "adam" else dict(lr=0.1, momentum=0.5)
    trainer = Trainer(net, X, y, batch_size=10, epochs=3, seed=0, engine=engine, **options)
    trainer.run()
    arrays, _ = trainer.optimizer.state()
    for memory in arrays.values():
        tiny = np.abs(memory[memory != 0]).min()
        assert tiny >= np.finfo(np.float32).tiny
    assert any((memory == 0).sum() > 1000 for memory in arrays.values())  # pixels never inked: flushed to 0


def test_the_same_seed_gives_the_same_bits_in_a_fresh_process(mnist, tmp_path):
    """Nothing is compiled or cached at run time: a new process trains exactly this process's network."""
    def train():
        net = Network((784, 16, 16, 10), "relu", "cross-entropy", seed=3)
        Trainer(net, mnist.train_images[:3000], mnist.train_labels[:3000], optimizer="adam", lr=0.005,
                batch_size=64, epochs=2, seed=3, shift=1).run()
        return net.params

    here = train()
    code = ("import sys, numpy as np; from digitnet.data import load; from digitnet.network import Network; "
            "from digitnet.training import Trainer; d = load(sys.argv[1]); "
            "net = Network((784, 16, 16, 10), 'relu', 'cross-entropy', seed=3); "
            "Trainer(net, d.train_images[:3000], d.train_labels[:3000], optimizer='adam', lr=0.005, batch_size=64, "
            "epochs=2, seed=3, shift=1).run(); np.save(sys.argv[2], net.params)")
    from tests.conftest import MNIST

    subprocess.run([sys.executable, "-c", code, str(MNIST), str(tmp_path / "params.npy")], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "params.npy"), here)
    assert np.array_equal(train(), here)


def test_an_epoch_without_the_built_engine_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(kernels, "library", lambda: (_ for _ in ()).throw(DigitnetError("not built")))
    net = Network((784, 8, 10), seed=0)
    with pytest.raises(DigitnetError, match="not built"):
        Trainer(net, np.zeros((20, 784), np.uint8), np.zeros(20, np.int64), epochs=1).run()
    assert Trainer(net, np.zeros((20, 784), np.uint8), np.zeros(20, np.int64), epochs=1, engine="numpy").run()
