"""The whole job on the real MNIST: `digitnet train` with no options, then evaluate and info."""

import re

import numpy as np
import pytest

from digitnet import Network
from digitnet.cli import main

from .conftest import MNIST


def test_default_training_passes_96_percent_on_unseen_images(trained_net, mnist):
    accuracy = trained_net.score(mnist.test_images, mnist.test_labels)
    assert accuracy >= 0.960, f"test accuracy {accuracy:.2%}"
    assert trained_net.n_parameters == 13_002
    assert trained_net.header["test_accuracy"] == pytest.approx(accuracy)


def test_evaluate_reports_the_same_accuracy(default_model, trained_net, mnist, capsys):
    assert main(["evaluate", str(default_model), "--data", str(MNIST)]) == 0
    out = capsys.readouterr().out
    correct = int(np.sum(trained_net.predict(mnist.test_images) == mnist.test_labels))
    assert f"({correct:,} of 10,000 test images)" in out
    matrix = [line.split()[1:] for line in out.splitlines()[-10:]]
    assert sum(int(row[i]) for i, row in enumerate(matrix)) == correct
    assert len(re.findall(r"\d: \d+\.\d%", out)) == 10


def test_info_shows_architecture_and_record(default_model, capsys):
    assert main(["info", str(default_model)]) == 0
    out = capsys.readouterr().out
    assert "784 -> 16 -> 16 -> 10" in out and "13,002" in out and "recipe      default" in out
    assert "input       deskewed" in out


def test_history_is_recorded(trained_net):
    history = trained_net.history
    assert len(history) == trained_net.header["options"]["epochs"]
    assert all(r["seconds"] > 0 for r in history)
    assert history[-1]["cost"] < history[0]["cost"]
    assert 1 <= history.best_epoch <= len(history)


def test_scikit_learn_face(mnist):
    X, y = mnist.train_images[:3000], mnist.train_labels[:3000]
    net = Network((784, 30, 10), activation="relu", cost="cross-entropy", seed=1)
    assert net.fit(X, y, optimizer="adam", lr=0.003, batch_size=32, epochs=8) is net
    X_test, y_test = mnist.test_images[:1000], mnist.test_labels[:1000]
    proba = net.predict_proba(X_test)
    assert proba.shape == (1000, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(net.predict(X_test), proba.argmax(axis=1))
    assert net.score(X_test, y_test) == pytest.approx(np.mean(net.predict(X_test) == y_test))
    assert net.score(X_test, y_test) > 0.85
    # floats in [0, 1] mean the same as uint8 pixels
    assert np.array_equal(net.predict(X_test / 255.0), net.predict(X_test))


def test_any_idx_data_set_works(tmp_path):
    fashion = "/usr/share/datasets/fashion-mnist"
    from digitnet import data

    if not data.has_dataset(fashion):
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    out = tmp_path / "fashion.npz"
    assert main(["train", "--data", fashion, "--epochs", "2", "--out", str(out)]) == 0
    assert Network.load(out).header["test_accuracy"] > 0.7
