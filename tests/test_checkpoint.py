"""Checkpoints for real: `digitnet train` killed (SIGKILL) or interrupted (SIGINT)
and resumed ends with exactly the weights of an uninterrupted run; a diverging
run never overwrites a model or a checkpoint."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from digitnet import Network, data
from digitnet.cli import main
from digitnet.modelfile import load_checkpoint

from .conftest import ctrl_c_as_in_a_terminal

EPOCHS = "12"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory, mnist):
    """4,000 training and 500 test images of MNIST as IDX files: quick epochs."""
    folder = tmp_path_factory.mktemp("small-mnist")
    data.write_idx(folder / "train-images-idx3-ubyte", mnist.train_images[:4000])
    data.write_idx(folder / "train-labels-idx1-ubyte", mnist.train_labels[:4000])
    data.write_idx(folder / "t10k-images-idx3-ubyte", mnist.test_images[:500])
    data.write_idx(folder / "t10k-labels-idx1-ubyte", mnist.test_labels[:500])
    return folder


def train_args(small_data, out, *more):
    # batches of 10 make each epoch long enough to be caught in the middle; the distortions' random
    # numbers (elastic fields included) must carry on exactly too
    return ["train", "--data", str(small_data), "--epochs", EPOCHS, "--batch-size", "10", "--validation", "500",
            "--shift", "1", "--augment", "rotate=8,thickness=0.3,elastic=20", "--seed", "7", "--out", str(out),
            *more]


@pytest.fixture(scope="module")
def uninterrupted(small_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "model.npz"
    assert main(train_args(small_data, out)) == 0
    return out


def weights(path):
    with np.load(path, allow_pickle=False) as f:
        return {name: f[name] for name in f.files if name[0] in "Wb" and name[1:].isdigit()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert sorted(wa) == sorted(wb) == ["W0", "W1", "W2", "b0", "b1", "b2"]
    for name in wa:
        assert np.array_equal(wa[name], wb[name]), name  # bit for bit


def start(args):
    return subprocess.Popen([sys.executable, "-m", "digitnet", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_in_a_terminal)


def wait_for_epoch(path, epoch, process, timeout=120):
    """Poll until the checkpoint at ``path`` has at least ``epoch`` epochs done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"training ended before epoch {epoch}: {process.communicate()}"
        if path.exists():
            done = load_checkpoint(path)[1]["checkpoint"]["epoch"]
            if done >= epoch:
                return done
        time.sleep(0.005)
    process.kill()
    pytest.fail("no checkpoint appeared")


def test_killed_and_resumed_gives_the_same_weights(small_data, uninterrupted, tmp_path):
    checkpoint, out = tmp_path / "run.ckpt.npz", tmp_path / "model.npz"
    process = start(train_args(small_data, out, "--checkpoint", str(checkpoint)))
    wait_for_epoch(checkpoint, 3, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    saved = load_checkpoint(checkpoint)[1]["checkpoint"]["epoch"]
    assert 3 <= saved < int(EPOCHS) and not out.exists()
    # the checkpoint is also a model file: the weights of its last epoch
    assert Network.load(checkpoint).sizes == (784, 16, 16, 10)
    resumed = subprocess.run([sys.executable, "-m", "digitnet", "train", "--resume", str(checkpoint)],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"after epoch {saved} of {EPOCHS}" in resumed.stdout
    assert_same_weights(out, uninterrupted)
    assert Network.load(out).header["best_epoch"] == Network.load(uninterrupted).header["best_epoch"]
    assert load_checkpoint(checkpoint)[1]["checkpoint"]["epoch"] == int(EPOCHS)
    # the path training took, from the random start, survives the kill too
    path, reference = Network.load(out).path, Network.load(uninterrupted).path
    assert path.epochs == reference.epochs == list(range(int(EPOCHS) + 1))
    np.testing.assert_allclose(path.coordinates, reference.coordinates, atol=1e-5)


def test_ctrl_c_saves_and_says_how_to_resume(small_data, uninterrupted, tmp_path):
    checkpoint, out = tmp_path / "run.ckpt.npz", tmp_path / "model.npz"
    process = start(train_args(small_data, out, "--checkpoint", str(checkpoint)))
    wait_for_epoch(checkpoint, 1, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and f"digitnet train --resume {checkpoint}" in stderr
    net, header, arrays = load_checkpoint(checkpoint)
    stopped = header["checkpoint"]["epoch"]
    assert 1 <= stopped < int(EPOCHS) and f"epoch {stopped:3d}/{EPOCHS}" in stdout
    assert {"params", "optimizer_m", "optimizer_v", "best_params"} <= set(arrays)
    assert_is_the_best_so_far(out, stopped, stdout)
    assert main(["train", "--resume", str(checkpoint), "--data", str(small_data)]) == 0
    assert_same_weights(out, uninterrupted)


def assert_is_the_best_so_far(out, stopped, stdout):
    """``out`` holds the best epoch of the ``stopped`` done, scored and saved as a whole run's model is."""
    model = Network.load(out)
    assert model.header["stopped_after"] == stopped == len(model.history)
    validation = model.history.column("validation_accuracy")
    assert model.history.best_epoch == 1 + validation.index(max(validation))
    assert f"test accuracy {model.header['test_accuracy']:.2%}" in stdout
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []  # written atomically


def test_ctrl_c_without_a_checkpoint_keeps_the_best_network_so_far(small_data, tmp_path):
    out = tmp_path / "model.npz"
    process = start(train_args(small_data, out))
    for line in process.stdout:
        if line.startswith("epoch   2/"):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "--checkpoint" in stderr
    stopped = Network.load(out).header["stopped_after"]
    assert 2 <= stopped < int(EPOCHS) and f"stopped after epoch {stopped} of {EPOCHS}" in stderr
    assert_is_the_best_so_far(out, stopped, stdout)
    assert f"stopped     by Ctrl-C after epoch {stopped} of {EPOCHS}" in subprocess.run(
        [sys.executable, "-m", "digitnet", "info", str(out)], capture_output=True, text=True).stdout


def test_ctrl_c_before_the_first_epoch_ends_at_once_and_quietly(small_data, tmp_path):
    out = tmp_path / "model.npz"
    process = start(train_args(small_data, out))
    assert process.stdout.readline().startswith("training")  # the data is read; loading what trains it
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr
    # nothing to keep if no epoch was done; had one ended before the signal, it is kept
    assert not out.exists() or Network.load(out).header["stopped_after"] >= 1


def test_an_existing_checkpoint_is_carried_on_not_replaced(small_data, tmp_path, capsys):
    checkpoint, out = tmp_path / "run.ckpt.npz", tmp_path / "m.npz"
    args = train_args(small_data, out, "--checkpoint", str(checkpoint)) + ["--epochs", "1"]
    assert main(args) == 0
    before = checkpoint.read_bytes(), out.read_bytes()
    capsys.readouterr()
    assert main(args) == 2  # the same command again
    err = capsys.readouterr().err
    assert f"digitnet train --resume {checkpoint}" in err and "--overwrite" in err
    assert (checkpoint.read_bytes(), out.read_bytes()) == before
    assert main(args + ["--overwrite"]) == 0
    assert load_checkpoint(checkpoint)[1]["checkpoint"]["epoch"] == 1


def test_a_rerun_keeps_the_model_it_replaces(small_data, tmp_path, capsys):
    out = tmp_path / "model.npz"
    args = ["train", "--data", str(small_data), "--epochs", "1", "--validation", "500", "--out", str(out)]
    assert main(args) == 0
    first = out.read_bytes()
    accuracy = Network.load(out).header["test_accuracy"]
    capsys.readouterr()
    assert main(args + ["--seed", "1"]) == 0
    said = capsys.readouterr().out.splitlines()[-1]
    assert said == f"saved {out}, replacing a model of {accuracy:.2%} on the test images, kept as " \
                   f"{tmp_path / 'model.previous.npz'}"
    assert (tmp_path / "model.previous.npz").read_bytes() == first and out.read_bytes() != first


def test_divergence_keeps_existing_files(small_data, tmp_path, capsys):
    out, checkpoint = tmp_path / "model.npz", tmp_path / "run.ckpt.npz"
    out.write_bytes(b"an older model")
    checkpoint.write_bytes(b"an older checkpoint")
    status = main(["train", "--data", str(small_data), "--epochs", "3", "--validation", "500", "--lr", "1e6",
                   "--out", str(out), "--checkpoint", str(checkpoint), "--overwrite"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("digitnet: error: training diverged") and "smaller learning rate" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out.read_bytes() == b"an older model" and checkpoint.read_bytes() == b"an older checkpoint"


def test_resume_refuses_other_settings_and_non_checkpoints(small_data, uninterrupted, tmp_path, capsys):
    assert main(["train", "--resume", str(uninterrupted), "--data", str(small_data)]) == 2
    assert "not a checkpoint" in capsys.readouterr().err
    checkpoint = tmp_path / "run.ckpt.npz"
    assert main(train_args(small_data, tmp_path / "m.npz", "--checkpoint", str(checkpoint)) + ["--epochs", "1"]) == 0
    assert main(["train", "--resume", str(checkpoint), "--lr", "0.1"]) == 2
    assert "--lr" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing.npz")]) == 2
    assert "no such" in capsys.readouterr().err


def test_resume_on_other_data_is_refused(small_data, mnist, tmp_path, capsys):
    checkpoint = tmp_path / "run.ckpt.npz"
    assert main(train_args(small_data, tmp_path / "m.npz", "--checkpoint", str(checkpoint)) + ["--epochs", "1"]) == 0
    other = tmp_path / "other"
    other.mkdir()
    for name in os.listdir(small_data):
        (other / name).write_bytes((small_data / name).read_bytes())
    data.write_idx(other / "train-images-idx3-ubyte", mnist.train_images[:3000])
    data.write_idx(other / "train-labels-idx1-ubyte", mnist.train_labels[:3000])
    assert main(["train", "--resume", str(checkpoint), "--data", str(other)]) == 2
    assert "same data" in capsys.readouterr().err
