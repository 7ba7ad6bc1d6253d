"""Deskewing (deskew.py): what it does to an image, the compiled copy the Trainer uses, and every
path a deskewing network's input takes (predict, training, the model file, the command line)."""

import numpy as np
import pytest
from scipy.ndimage import affine_transform

from digitnet import Network, kernels
from digitnet.deskew import deskew, slant
from digitnet.errors import DigitnetError
from digitnet.training import Trainer
from digitnet.validation import as_pixels

from .test_cli import run


def moments(image):
    """The ink's mass centre and slant, computed as a reader would from the definition."""
    rows, cols = np.mgrid[:28, :28]
    image = image.astype(np.float64)
    mass = image.sum()
    down, across = (rows * image).sum() / mass, (cols * image).sum() / mass
    alpha = ((rows - down) * (cols - across) * image).sum() / ((rows - down) ** 2 * image).sum()
    return down, across, alpha


def slanted_bar(shear, at=8):
    """A bar of ink from row 4 to row 23 whose column drifts by ``shear`` a row."""
    image = np.zeros((28, 28), np.float32)
    for r in range(4, 24):
        c = at + shear * (r - 4)
        image[r, int(c)] += 1 - (c - int(c))
        image[r, int(c) + 1] += c - int(c)
    return image


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist.test_images[:300].reshape(300, -1).astype(np.float32) / 255


def test_a_slanted_bar_comes_out_upright_and_in_the_middle():
    bar = slanted_bar(0.5)
    assert moments(bar)[2] == pytest.approx(0.5, abs=0.01)
    down, across, alpha = moments(deskew(bar.reshape(1, -1), 28).reshape(28, 28))
    assert abs(alpha) < 0.02 and down == pytest.approx(13.5, abs=0.05) and across == pytest.approx(13.5, abs=0.05)


def test_slant_is_the_inks_moments(digits):
    down, across, alpha = slant(digits[:50].reshape(-1, 28, 28))
    for k in range(50):
        assert (down[k], across[k], alpha[k]) == pytest.approx(moments(digits[k].reshape(28, 28)), abs=1e-6)


def test_deskew_is_the_affine_map_of_its_definition(digits):
    """Against SciPy's affine_transform, which reads the output pixel (r, c) at
    (r + r̄ − m, c + α (r − m) + c̄ − m) with the same interpolation, 0 off the image."""
    ours = deskew(digits, 28)
    for image, mine in zip(digits.reshape(-1, 28, 28).astype(np.float64), ours.reshape(-1, 28, 28), strict=True):
        down, across, alpha = moments(image)
        warp = np.array([[1, 0], [alpha, 1]])
        offset = np.array([down, across]) - warp @ np.array([13.5, 13.5])
        theirs = affine_transform(image, warp, offset=offset, order=1, mode="grid-constant", cval=0)
        assert np.abs(mine - theirs).max() < 1e-5
    assert ours.dtype == np.float32 and ours.shape == digits.shape


def test_no_ink_stays_as_it_is_and_ink_in_one_row_is_only_centred():
    blank = np.zeros((1, 784), np.float32)
    assert (deskew(blank, 28) == 0).all()
    line = np.zeros((28, 28), np.float32)
    line[3, 2:9] = 1
    out = deskew(line.reshape(1, -1), 28).reshape(28, 28)
    assert np.isfinite(out).all() and out.sum() == pytest.approx(7)
    assert moments(out + 1e-9)[:2] == pytest.approx((13.5, 13.5), abs=0.01)


def test_the_compiled_deskew_is_the_reference_to_a_pixel(mnist):
    pixels = mnist.train_images[:2000].reshape(2000, -1)
    compiled = kernels.deskew(pixels, 28).astype(int)
    reference = as_pixels(deskew(pixels.astype(np.float32) / 255, 28)).astype(int)
    assert np.abs(compiled - reference).max() <= 1  # a pixel rounded the other way, now and then
    assert (compiled == reference).mean() > 0.9999
    assert (compiled != pixels).any(axis=1).mean() > 0.9  # and it did deskew


def test_a_deskewing_network_sees_every_input_deskewed(digits):
    net = Network((784, 16, 10), "relu", "cross-entropy", seed=0, deskew=True)
    plain = net.copy()
    plain.deskew = False
    assert np.array_equal(net.inputs(digits), deskew(digits, 28))
    assert np.allclose(net.predict_proba(digits), plain.predict_proba(deskew(digits, 28)), atol=1e-6)
    assert not np.allclose(net.predict_proba(digits), plain.predict_proba(digits), atol=1e-3)
    assert "deskew=True" in repr(net) and net.config["deskew"] is True


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_the_trainer_learns_from_the_images_deskewed_and_scores_them_so(mnist, engine):
    X, y = mnist.train_images[:600], mnist.train_labels[:600]
    net = Network((784, 16, 10), "relu", "cross-entropy", seed=0, deskew=True)
    trainer = Trainer(net, X, y, optimizer="adam", lr=0.005, batch_size=50, epochs=2, validation=100, seed=0,
                      engine=engine)
    seen = as_pixels(deskew(X.reshape(600, -1).astype(np.float32) / 255, 28)).astype(int)
    assert np.abs(trainer.X.astype(int) - seen).max() <= 1 and (trainer.X == seen).mean() > 0.999
    trainer.run()
    held_out = trainer.validation
    assert trainer.history[-1]["validation_accuracy"] == pytest.approx(net.score(held_out[0], held_out[1]), abs=0.02)


def test_deskewing_needs_a_square_image_and_a_yes_or_no():
    with pytest.raises(DigitnetError, match="square"):
        Network((50, 10), deskew=True)
    with pytest.raises(DigitnetError, match="True or False"):
        Network((784, 10), deskew="yes")


def test_the_model_file_keeps_it_and_older_files_read_as_not_deskewing(tmp_path):
    from digitnet import modelfile

    net = Network((784, 8, 10), "relu", "cross-entropy", seed=0, deskew=True)
    net.save(tmp_path / "d.npz")
    assert Network.load(tmp_path / "d.npz").deskew is True
    older = modelfile.header_of(net)
    del older["deskew"]
    assert Network(**{k: older[k] for k in ("sizes", "activation", "cost")}).deskew is False


def test_train_deskews_by_default_and_says_so_in_the_model(small_mnist, tmp_path):
    base = ("train", "--data", str(small_mnist), "--epochs", "1", "--validation", "0", "--layers", "784,8,10")
    done = run(*base, "--out", str(tmp_path / "a.npz"))
    assert done.returncode == 0, done.stderr
    assert "deskew=True" in done.stdout and Network.load(tmp_path / "a.npz").deskew
    done = run(*base, "--deskew", "no", "--out", str(tmp_path / "b.npz"))
    assert done.returncode == 0 and not Network.load(tmp_path / "b.npz").deskew
    assert "input       as given" in run("info", str(tmp_path / "b.npz")).stdout
    done = run(*base, "--deskew", "maybe", "--out", str(tmp_path / "c.npz"))
    assert done.returncode == 2 and "expected yes or no" in done.stderr and len(done.stderr.splitlines()) <= 2
    assert not (tmp_path / "c.npz").exists()
