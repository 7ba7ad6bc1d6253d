"""Training: small problems learned perfectly, reproducibility, the optimisers,
the schedule, the image shifts, the best-epoch choice, divergence and a teacher's targets."""

import math

import numpy as np
import pytest

from digitnet import Network
from digitnet.augment import shifted
from digitnet.blas import _openblas, one_blas_thread
from digitnet.errors import DigitnetError
from digitnet.functions import softmax
from digitnet.optimizers import SGD, Adam, learning_rate
from digitnet.recipes import RECIPES
from digitnet.training import LABEL_SHARE, TEMPERATURE, Trainer, network_for, softened, train


def test_twenty_mnist_images_are_memorised(mnist):
    X, y = mnist.train_images[:20], mnist.train_labels[:20]
    net = Network(activation="relu", cost="cross-entropy", seed=0)
    history = train(net, X, y, optimizer="adam", lr=0.01, batch_size=5, epochs=60, seed=0)
    assert net.score(X, y) == 1.0
    assert history[-1]["cost"] < 0.05 < history[0]["cost"]


def test_the_videos_network_learns_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 4, dtype=np.float64)
    y = np.array([0, 1, 1, 0] * 4)
    net = Network((2, 4, 2), "sigmoid", "quadratic", seed=1)
    train(net, X, y, optimizer="sgd", lr=3.0, batch_size=2, epochs=1500, seed=1)
    assert net.score(X, y) == 1.0


def test_same_seed_same_weights(mnist):
    X, y = mnist.train_images[:600], mnist.train_labels[:600]

    def weights(seed):
        net = Network(activation="relu", cost="cross-entropy", seed=seed)
        train(net, X, y, optimizer="adam", lr=0.003, batch_size=32, epochs=2, shift=1, validation=100, seed=seed)
        return net.params

    assert np.array_equal(weights(3), weights(3))
    assert not np.array_equal(weights(3), weights(4))


def test_last_batch_may_be_smaller(mnist):
    X, y = mnist.train_images[:101], mnist.train_labels[:101]
    net = Network(seed=0)
    record = Trainer(net, X, y, batch_size=10, epochs=1, seed=0).run_epoch()
    assert 0 <= record["train_accuracy"] <= 1 and math.isfinite(record["cost"])
    # the epoch's cost is the mean cost of the outputs it produced, all 101 of them
    assert record["train_accuracy"] * 101 == pytest.approx(round(record["train_accuracy"] * 101))


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_without_shuffling_the_examples_come_in_their_order(mnist, engine):
    """The seed then chooses nothing in the epochs: other seeds, the same network."""
    X, y = mnist.train_images[:300], mnist.train_labels[:300]

    def weights(seed, shuffle):
        net = Network((784, 8, 10), seed=0)
        train(net, X, y, batch_size=32, epochs=2, seed=seed, shuffle=shuffle, engine=engine)
        return net.params

    assert np.array_equal(weights(1, shuffle=False), weights(2, shuffle=False))
    assert not np.array_equal(weights(1, shuffle=True), weights(2, shuffle=True))


def test_a_batch_larger_than_the_data_is_all_of_it(mnist):
    X, y = mnist.train_images[:50], mnist.train_labels[:50]
    net = Network(seed=0)
    before = net.params.copy()
    record = Trainer(net, X, y, batch_size=10**9, epochs=1, seed=0).run_epoch()
    assert 0 <= record["train_accuracy"] <= 1 and not np.array_equal(net.params, before)


def test_sgd_steps():
    p, g = np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0], np.float32)
    SGD(2).step(p, g.copy(), 0.1)
    np.testing.assert_allclose(p, [0.95, 2.1])
    p = np.zeros(2, np.float32)
    sgd = SGD(2, momentum=0.5)
    sgd.step(p, g.copy(), 1.0)
    sgd.step(p, g.copy(), 1.0)  # v = -g, then v = -0.5 g - g
    np.testing.assert_allclose(p, -2.5 * g)


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    p, g = np.zeros(3, np.float32), np.array([1e-2, -3.0, 200.0], np.float32)
    adam = Adam(3)
    adam.step(p, g.copy(), 0.01)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-3)
    assert adam.state()[1] == {"t": 1}
    adam.step(p, np.zeros(3, np.float32), 0.01)  # momentum carries it on
    assert np.all(np.abs(p) > 0.01)


def test_cosine_schedule():
    assert learning_rate(0.1, "cosine", 0, 10) == 0.1
    assert learning_rate(0.1, "cosine", 5, 10) == pytest.approx(0.05)
    assert 0 < learning_rate(0.1, "cosine", 9, 10) < 0.003
    assert learning_rate(0.1, "constant", 9, 10) == 0.1


def reference_shift(image, dx, dy):
    """Image moved by (-dx, -dy), blank pixels coming in: out[r, c] = image[r + dy, c + dx]."""
    out = np.zeros_like(image)
    n = image.shape[0]
    for r in range(n):
        for c in range(n):
            if 0 <= r + dy < n and 0 <= c + dx < n:
                out[r, c] = image[r + dy, c + dx]
    return out


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_shifts_are_exact_even_with_ink_at_the_edges(shift):
    rng = np.random.default_rng(shift)
    images = rng.integers(0, 256, (40, 8, 8)).astype(np.uint8)  # ink everywhere, edges too
    images[:20, :, :3] = images[:20, :, -3:] = 0  # and some with blank sides
    rows = rng.permutation(40)
    dx, dy = rng.integers(-shift, shift + 1, 40), rng.integers(-shift, shift + 1, 40)
    got = shifted(images.reshape(40, -1)[rows], dx, dy).reshape(40, 8, 8)
    for i, row in enumerate(rows):
        np.testing.assert_array_equal(got[i], reference_shift(images[row], dx[i], dy[i]))


def test_shift_needs_square_images():
    with pytest.raises(DigitnetError, match="square"):
        Trainer(Network((12, 3)), np.zeros((10, 12), np.uint8), np.zeros(10, int), shift=1)


def test_best_validation_epoch_is_kept(mnist):
    X, y = mnist.train_images[:1000], mnist.train_labels[:1000]
    net = Network(seed=0)
    trainer = Trainer(net, X, y, lr=3.0, batch_size=10, epochs=4, validation=200, seed=0)
    kept = {}
    while not trainer.done:
        record = trainer.run_epoch()
        kept[record["epoch"]] = (record["validation_accuracy"], net.params.copy())
    history = trainer.finish()
    best = max(kept, key=lambda e: kept[e][0])
    assert history.best_epoch == best
    np.testing.assert_array_equal(net.params, kept[best][1])
    assert trainer.score(*trainer.validation) == kept[best][0]


def test_l2_keeps_weights_smaller(mnist):
    X, y = mnist.train_images[:500], mnist.train_labels[:500]
    norms = []
    for l2 in (0.0, 0.05):
        net = Network(seed=0)
        train(net, X, y, lr=3.0, batch_size=10, epochs=3, l2=l2, seed=0)
        norms.append(np.linalg.norm(net.weights[0]))
    assert norms[1] < norms[0]


def test_divergence_stops_with_a_hint(mnist):
    net, options = network_for(dict(RECIPES["default"], lr=1e6, epochs=3), seed=0)
    with pytest.raises(DigitnetError, match="smaller learning rate"):
        train(net, mnist.train_images[:500], mnist.train_labels[:500], **options)


@pytest.mark.parametrize("options", [dict(lr=0), dict(lr=float("nan")), dict(batch_size=0), dict(epochs=-1),
                                     dict(momentum=1.0), dict(optimizer="rmsprop"), dict(shift=9),
                                     dict(validation=100), dict(seed=-1), dict(batch_size="auto"), dict(lr="fast"),
                                     dict(epochs=2.5), dict(shift=True)])
def test_bad_options_are_refused(options):
    with pytest.raises(DigitnetError):
        Trainer(Network(seed=0), np.zeros((100, 784), np.uint8), np.zeros(100, int), **options)


def test_one_blas_thread_restores_the_setting():
    libraries = _openblas()
    if not libraries:
        pytest.skip("NumPy and SciPy here do not use OpenBLAS")
    before = [get() for get, _ in libraries]
    with one_blas_thread():
        assert [get() for get, _ in libraries] == [1] * len(libraries)
        with one_blas_thread():  # nested (or overlapping in another thread)
            assert [get() for get, _ in libraries] == [1] * len(libraries)
        assert [get() for get, _ in libraries] == [1] * len(libraries)  # the inner block does not undo the outer
    assert [get() for get, _ in libraries] == before


def test_both_numpy_and_scipy_openblas_are_held_to_one_thread():
    import numpy as np
    import scipy

    if not (np.__config__.CONFIG["Build Dependencies"]["blas"]["name"].startswith("scipy-openblas")
            and "openblas" in str(scipy.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"])):
        pytest.skip("NumPy's or SciPy's wheel here does not bundle OpenBLAS")
    assert len(_openblas()) == 2


def test_a_teachers_outputs_are_softened_as_softmax_of_z_over_t():
    z = np.random.default_rng(0).normal(0, 3, (5, 10))
    np.testing.assert_allclose(softened(softmax(z), 2.0), softmax(z / 2), rtol=1e-9)


def test_with_a_teacher_the_desired_outputs_are_the_labels_and_its_softened_outputs(mnist):
    X, y = mnist.train_images[:300], mnist.train_labels[:300]
    teacher = Network((784, 30, 10), "relu", "cross-entropy", seed=1)
    train(teacher, X, y, optimizer="adam", lr=0.003, batch_size=32, epochs=3, seed=1)
    trainer = Trainer(Network(seed=0), X, y, teacher=teacher, seed=0)
    rows = np.arange(0, 300, 7)
    desired = trainer.desired(rows)
    expected = LABEL_SHARE * np.eye(10)[y[rows]] + (1 - LABEL_SHARE) * softened(teacher.outputs(X[rows]), TEMPERATURE)
    np.testing.assert_allclose(desired, expected, rtol=1e-5, atol=1e-7)
    assert np.allclose(desired.sum(axis=1), 1) and np.all(desired.argmax(axis=1) == y[rows])
    with pytest.raises(DigitnetError, match="teacher has 784 inputs and 12 outputs"):
        Trainer(Network(seed=0), X, y, teacher=Network((784, 12)))
