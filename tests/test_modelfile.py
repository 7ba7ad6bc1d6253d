"""Model files: a saved model comes back exactly; every damaged or hostile file is
refused with one line (never run, never a traceback); a failed save loses nothing."""

import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import pytest

from digitnet import Network, files, modelfile
from digitnet.cli import main
from digitnet.errors import DigitnetError

from .conftest import MNIST, OLD_MODEL


def with_raw_W0(path, arrays, w0):
    """An .npz of ``arrays`` whose W0 member is the raw bytes ``w0``."""
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            if name != "W0":
                with z.open(name + ".npy", "w") as f:
                    np.lib.format.write_array(f, array)
        z.writestr("W0.npy", w0)


def trained_like_net(seed=0, sizes=(784, 16, 16, 10), activation="relu", cost="cross-entropy"):
    from digitnet.training import History

    net = Network(sizes, activation, cost, seed=seed)
    net.history = History([{"epoch": 1, "lr": 0.1, "cost": 0.5, "train_accuracy": 0.9, "seconds": 1.5,
                            "validation_accuracy": 0.91},
                           {"epoch": 2, "lr": 0.05, "cost": 0.3, "train_accuracy": 0.95, "seconds": 1.25,
                            "validation_accuracy": 0.93}])
    net.history.best_epoch = 2
    return net


def arrays_of(net):
    """The arrays digitnet saves for ``net``, to build damaged variants from."""
    header = modelfile.header_of(net)
    arrays = {"header": np.frombuffer(json.dumps(header).encode(), np.uint8)}
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    return arrays, header


def write_npz(path, arrays, allow_pickle=False):
    """An .npz like np.savez makes, but able to hold object arrays for the pickle test."""
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            with z.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=allow_pickle)
    return path


def with_header(**changes):
    arrays, header = arrays_of(trained_like_net())
    header = {**header, **changes}
    return {**arrays, "header": np.frombuffer(json.dumps(header).encode(), np.uint8)}


def assert_one_line(error, *words):
    message = str(error.value)
    assert message and "\n" not in message
    for word in words:
        assert word in message


# ---- round trip -----------------------------------------------------------------------

@pytest.mark.parametrize("config", [((784, 16, 16, 10), "relu", "cross-entropy"),
                                    ((784, 16, 16, 10), "sigmoid", "quadratic"),
                                    ((4, 3), "tanh", "quadratic"),
                                    ((784, 30, 20, 10, 10), "sigmoid", "cross-entropy")])
def test_round_trip_keeps_everything(tmp_path, config):
    net = trained_like_net(1, *config)
    path = tmp_path / "model.npz"
    net.save(path, recipe="default", test_accuracy=0.9512, options={"lr": 0.1, "epochs": 2})
    back = Network.load(path)
    assert back.config == net.config
    for a, b in zip(net.weights + net.biases, back.weights + back.biases, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert list(back.history) == list(net.history) and back.history.best_epoch == 2
    assert back.header["recipe"] == "default" and back.header["test_accuracy"] == 0.9512
    assert back.header["options"] == {"lr": 0.1, "epochs": 2}
    assert back.header["format"] == modelfile.FORMAT and back.header["version"]
    X = np.random.default_rng(0).random((5, net.sizes[0]), dtype=np.float32)
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


@pytest.mark.parametrize("not_a_digit", [False, True])
def test_a_model_keeps_the_names_of_its_classes(tmp_path, not_a_digit):
    net = Network((784, 8, 10 + not_a_digit), "relu", "cross-entropy", seed=0, not_a_digit=not_a_digit,
                  classes=FASHION_CLASSES)
    net.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    assert back.classes == FASHION_CLASSES and back.header["classes"] == list(FASHION_CLASSES)
    assert back.output_names == [*FASHION_CLASSES, *["not a digit"] * not_a_digit]


def test_a_model_saved_before_names_reads_as_digits():
    old = Network.load(OLD_MODEL)
    assert old.classes is None and "classes" not in old.header
    assert old.output_names == [str(d) for d in range(10)]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_file_has_the_mode_of_any_new_file(tmp_path, umask):
    old = os.umask(umask)
    try:
        trained_like_net().save(tmp_path / "model.npz")
        (tmp_path / "plain").write_bytes(b"")
    finally:
        os.umask(old)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777


def test_refuses_to_save_non_finite_weights(tmp_path):
    net = trained_like_net()
    net.weights[1][0, 0] = np.nan
    with pytest.raises(DigitnetError):
        net.save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


# ---- atomic save ----------------------------------------------------------------------

def test_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = trained_like_net(seed=1)
    old.save(path)
    before = path.read_bytes()

    def disk_full(f, **arrays):
        f.write(b"PK\x03\x04 half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError):
        trained_like_net(seed=2).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(Network.load(path).weights[0], old.weights[0])


def test_interrupted_write_leaves_nothing_new(tmp_path):
    path = tmp_path / "out.bin"

    def interrupted(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, interrupted)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old contents, longer than the new")
    path.chmod(0o600)
    files.atomic_write(path, lambda f: f.write(b"new"))
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


# ---- damaged and hostile files ------------------------------------------------------------

def good_bytes():
    buffer = io.BytesIO()
    arrays, _ = arrays_of(trained_like_net())
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def bad_files(folder):
    """name → (path, words the error message must contain)."""
    folder = pathlib.Path(folder)
    arrays, header = arrays_of(trained_like_net())
    good = good_bytes()
    cases = {}

    def raw(name, content, *words):
        (folder / name).write_bytes(content)
        cases[name] = (folder / name, words)

    def npz(name, arrays, *words):
        cases[name] = (write_npz(folder / name, arrays), words)

    raw("empty.npz", b"", "not an .npz")
    raw("text.npz", b"this is not a model\n", "not an .npz")
    raw("png.npz", b"\x89PNG\r\n\x1a\n" + bytes(100), "not an .npz")
    raw("truncated.npz", good[: len(good) // 2], "not a digitnet model file")
    raw("truncated-end.npz", good[:-10], "not a digitnet model file")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("readme.txt", "a zip but not a model")
    raw("plain.zip", zipped.getvalue(), "no header")
    npz("no-header.npz", {k: v for k, v in arrays.items() if k != "header"}, "no header")
    npz("missing-W1.npz", {k: v for k, v in arrays.items() if k != "W1"}, "W1", "missing")
    npz("missing-b2.npz", {k: v for k, v in arrays.items() if k != "b2"}, "b2", "missing")
    npz("wrong-shape.npz", {**arrays, "W0": arrays["W0"].T}, "W0", "[16, 784]")
    npz("wrong-dtype.npz", {**arrays, "b0": arrays["b0"].astype(np.int64)}, "b0", "int64")
    npz("complex.npz", {**arrays, "W2": arrays["W2"].astype(np.complex64)}, "W2", "complex64")
    npz("nan.npz", {**arrays, "W1": np.where(np.eye(16, dtype=bool), np.nan, arrays["W1"])}, "W1", "NaN")
    npz("inf.npz", {**arrays, "b1": np.full(16, np.inf, np.float32)}, "b1", "NaN or infinite")
    too_big = arrays["W0"].astype(np.float64)
    too_big[3, 3] = 1e300  # finite as float64, infinite as the network's float32
    npz("float64-overflow.npz", {**arrays, "W0": too_big}, "W0", "infinite")
    npz("header-not-json.npz", {**arrays, "header": np.frombuffer(b"{sizes: [784", np.uint8)}, "not valid JSON")
    npz("header-not-utf8.npz", {**arrays, "header": np.frombuffer(b"\xff\xfe{}", np.uint8)}, "not valid JSON")
    npz("header-deep.npz", {**arrays, "header": np.frombuffer(b"[" * 100000 + b"]" * 100000, np.uint8)},
        "not valid JSON")
    npz("header-list.npz", {**arrays, "header": np.frombuffer(b"[1, 2]", np.uint8)}, "format tag")
    npz("header-float.npz", {**arrays, "header": arrays["header"].astype(np.float32)}, "no header")
    npz("header-2d.npz", {**arrays, "header": arrays["header"].reshape(1, -1)}, "no header")
    npz("wrong-format.npz", with_header(format="something-else"), "format tag")
    npz("no-sizes.npz", {**with_header(), "header": np.frombuffer(json.dumps(
        {k: v for k, v in header.items() if k != "sizes"}).encode(), np.uint8)}, "lacks 'sizes'")
    npz("huge-layers.npz", with_header(sizes=[784, 10**9, 10]), "bad layer sizes")
    # sizes each allowed, but 270 billion weights in all: refused before any array is read
    npz("huge-network.npz", with_header(sizes=[65536] * 64), "claims", "more than digitnet loads")
    npz("big-but-allowed-layers.npz", with_header(sizes=[784, 65536, 10]), "W0", "[65536, 784]")
    npz("negative-size.npz", with_header(sizes=[784, -16, 10]), "bad layer sizes")
    npz("float-size.npz", with_header(sizes=[784, 16.5, 10]), "bad layer sizes")
    npz("one-layer.npz", with_header(sizes=[784]), "bad layer sizes")
    npz("unknown-activation.npz", with_header(activation="swish"), "swish")
    npz("activation-list.npz", with_header(activation=["relu"]), "'activation'")
    npz("cost-number.npz", with_header(cost=3), "'cost'")
    npz("history-number.npz", with_header(history=5), "'history'")
    npz("history-strings.npz", with_header(history=["epoch 1"]), "history")
    npz("history-no-cost.npz", with_header(history=[{"epoch": 1}]), "history")
    npz("best-epoch-text.npz", with_header(best_epoch="two"), "'best_epoch'")
    npz("accuracy-text.npz", with_header(test_accuracy="95%"), "'test_accuracy'")
    npz("options-list.npz", with_header(options=[1, 2]), "'options'")
    npz("data-number.npz", with_header(data=5), "'data'")
    npz("out-list.npz", with_header(out=["model.npz"]), "'out'")
    npz("path-list.npz", with_header(path=[[0, 1], [2, 3]]), "'path'")
    npz("stopped-text.npz", with_header(stopped_after="epoch 3"), "'stopped_after'")
    npz("classes-text.npz", with_header(classes="T-shirt/top"), "'classes'")
    npz("classes-too-few.npz", with_header(classes=["T-shirt/top", "Trouser"]), "2 class names for 10 classes")
    npz("classes-numbers.npz", with_header(classes=list(range(10))), "class names must be")
    npz("classes-twice.npz", with_header(classes=["Bag"] * 10), "must differ")
    npz("classes-blank.npz", with_header(classes=[""] + [str(d) for d in range(1, 10)]), "class name")
    npz("classes-newline.npz", with_header(classes=["a\nb"] + [str(d) for d in range(1, 10)]), "class name")
    # a .npy header claiming 2**50 floats in a 200-byte member: refused before allocating
    claim = io.BytesIO()
    np.lib.format.write_array_header_1_0(claim, {"descr": "<f4", "fortran_order": False, "shape": (1 << 50,)})
    with zipfile.ZipFile(folder / "huge-claim.npz", "w") as z:
        z.writestr("header.npy", claim.getvalue())
    cases["huge-claim.npz"] = (folder / "huge-claim.npz", ("no header",))
    with_raw_W0(folder / "huge-W.npz", arrays, claim.getvalue().replace(b"1125899906842624,", b"16, 70368744177664"))
    cases["huge-W.npz"] = (folder / "huge-W.npz", ("W0",))
    # a .npy header that NumPy's own parser chokes on (it raises tokenize.TokenError)
    text = b"{'descr': '<f4', 'shape': (16, 784\n"
    garbage = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text
    with_raw_W0(folder / "npy-header-garbage.npz", arrays, garbage)
    cases["npy-header-garbage.npz"] = (folder / "npy-header-garbage.npz", ("not a digitnet model file",))
    # a zip member that is not .npy at all where the header should be
    with zipfile.ZipFile(folder / "header-bytes.npz", "w") as z:
        z.writestr("header", json.dumps(header))
    cases["header-bytes.npz"] = (folder / "header-bytes.npz", ("no header",))
    # one flipped byte inside a compressed member
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    flipped = bytearray(buffer.getvalue())
    flipped[len(flipped) // 3] ^= 0xFF
    raw("flipped-compressed.npz", bytes(flipped), "not a digitnet model file")
    return cases


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return bad_files(tmp_path_factory.mktemp("bad-models"))


with tempfile.TemporaryDirectory() as folder:
    BAD_NAMES = sorted(bad_files(folder))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_model_file_is_refused_in_one_line(bad, name):
    path, words = bad[name]
    with pytest.raises(DigitnetError) as error:
        modelfile.load(path)
    assert_one_line(error, name, *words)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DigitnetError) as error:
        modelfile.load(tmp_path / "nothing.npz")
    assert_one_line(error, "no such model file")
    with pytest.raises(DigitnetError) as error:
        modelfile.load(tmp_path)
    assert_one_line(error, str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "model.npz"
    trained_like_net().save(path)
    path.chmod(0)
    with pytest.raises(DigitnetError) as error:
        modelfile.load(path)
    assert_one_line(error, "model.npz")


# ---- loading never runs code --------------------------------------------------------------

class Trap:
    """Unpickling this touches ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.mark.parametrize("where", ["header", "W0", "b2"])
def test_pickled_object_array_is_never_unpickled(tmp_path, where):
    marker = tmp_path / "code-ran"
    trap = np.empty(1, dtype=object)
    trap[0] = Trap(marker)
    arrays, _ = arrays_of(trained_like_net())
    path = write_npz(tmp_path / "trap.npz", {**arrays, where: trap}, allow_pickle=True)
    with pytest.raises(DigitnetError) as error:
        modelfile.load(path)
    assert_one_line(error, "trap.npz")
    assert not marker.exists()
    # the trap is real: NumPy's pickle loading would have sprung it
    with np.load(path, allow_pickle=True) as npz:
        npz[where]
    assert marker.exists()


def test_extra_pickled_member_with_a_valid_model_never_runs(tmp_path):
    # A well-formed model plus an object array nobody asks for: it loads, and the
    # object array stays unread.
    marker = tmp_path / "code-ran"
    trap = np.empty(1, dtype=object)
    trap[0] = Trap(marker)
    arrays, _ = arrays_of(trained_like_net())
    path = write_npz(tmp_path / "trap.npz", {**arrays, "extra": trap}, allow_pickle=True)
    np.testing.assert_array_equal(modelfile.load(path).weights[0], arrays["W0"])
    assert not marker.exists()


# ---- the command line on bad files --------------------------------------------------------

@pytest.mark.parametrize("command", ["info", "evaluate"])
def test_commands_refuse_bad_files_in_one_line(bad, capsys, command):
    for name, (path, _) in sorted(bad.items()):
        argv = [command, str(path)] + (["--data", str(MNIST)] if command == "evaluate" else [])
        assert main(argv) == 2, name
        out, err = capsys.readouterr()
        assert err.startswith("digitnet: error: ") and err.count("\n") == 1, (name, err)
        assert name in err and "Traceback" not in err + out, (name, err)


@pytest.mark.parametrize("name", ["truncated.npz", "huge-claim.npz", "activation-list.npz"])
def test_installed_command_refuses_bad_files_in_one_line(bad, name):
    path, _ = bad[name]
    for command in (["info", str(path)], ["evaluate", str(path), "--data", str(MNIST)]):
        result = subprocess.run([sys.executable, "-m", "digitnet", *command], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("digitnet: error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_info_reads_a_good_file(tmp_path, capsys):
    path = tmp_path / "model.npz"
    trained_like_net().save(path, recipe="default", test_accuracy=0.95)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "784 -> 16 -> 16 -> 10" in out and "2 epochs" in out and "95.00%" in out


# ---- checkpoints --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """A data folder of 300 random training digits and 50 test digits: training on it takes moments."""
    from digitnet import data

    folder = tmp_path_factory.mktemp("small-data")
    rng = np.random.default_rng(0)
    for key, stem in data.FILES.items():
        n = 300 if key.startswith("train") else 50
        array = rng.integers(0, 256, (n, 28, 28)) if key.endswith("images") else np.arange(n) % 10
        data.write_idx(folder / (stem + ".gz"), array)
    return folder


def test_diverging_training_stops_in_one_line_and_keeps_the_old_model(small_data, tmp_path, capsys):
    out = tmp_path / "model.npz"
    trained_like_net().save(out)
    before = out.read_bytes()
    code = main(["train", "--data", str(small_data), "--layers", "784,8,10", "--epochs", "2", "--validation", "50",
                 "--lr", "1e30", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("digitnet: error: ") and err.count("\n") == 1, err
    assert "diverged" in err and "--lr" in err
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.npz"]


@pytest.fixture(scope="module")
def checkpoint(small_data, tmp_path_factory):
    """A checkpoint made by `digitnet train --checkpoint` on the small data."""
    folder = small_data
    path = tmp_path_factory.mktemp("checkpoint") / "run.ckpt.npz"
    assert main(["train", "--data", str(folder), "--layers", "784,8,10", "--epochs", "3", "--validation", "50",
                 "--checkpoint", str(path), "--out", str(path.parent / "out.npz")]) == 0
    return path


def with_checkpoint_header(source, target, change):
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    header = json.loads(np.load(io.BytesIO(members["header.npy"])).tobytes())
    change(header)
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(header).encode(), np.uint8))
    members["header.npy"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return target


DAMAGED_CHECKPOINTS = {
    "data-number": lambda h: h.update(data=5),
    "options-without-epochs": lambda h: h["options"].pop("epochs"),
    "epoch-text": lambda h: h["checkpoint"].update(epoch="x"),
    "epoch-null": lambda h: h["checkpoint"].update(epoch=None),
    "history-text": lambda h: h["checkpoint"].update(history="x"),
    "best-number": lambda h: h["checkpoint"].update(best=-1),
    "rng-text": lambda h: h["checkpoint"].update(rng="x"),
    "optimizer-list": lambda h: h["checkpoint"].update(optimizer=[]),
}


@pytest.mark.parametrize("damage", DAMAGED_CHECKPOINTS)
def test_resume_refuses_a_damaged_checkpoint_in_one_line(checkpoint, tmp_path, capsys, damage):
    bad = with_checkpoint_header(checkpoint, tmp_path / "bad.ckpt.npz", DAMAGED_CHECKPOINTS[damage])
    capsys.readouterr()
    code = main(["train", "--resume", str(bad), "--out", str(tmp_path / "out.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("digitnet: error: ") and err.count("\n") == 1, err
    assert "bad.ckpt.npz" in err


@pytest.mark.parametrize("name", ["truncated.npz", "huge-W.npz", "npy-header-garbage.npz", "header-bytes.npz",
                                  "activation-list.npz", "history-no-cost.npz"])
def test_resume_refuses_bad_model_files_in_one_line(bad, capsys, name):
    path, _ = bad[name]
    assert main(["train", "--resume", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitnet: error: ") and err.count("\n") == 1 and name in err, err
