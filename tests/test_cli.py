"""The command line: help everywhere, and every kind of bad input gets one line and exit 2."""

import gzip
import shutil
import subprocess
import sys

import pytest

from digitnet.cli import COMMANDS, build_parser, main

from .conftest import MNIST


def run(*args):
    """Run the real `digitnet` program, as a user would."""
    return subprocess.run([sys.executable, "-m", "digitnet", *args], capture_output=True, text=True, timeout=120)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digitnet: error:"), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0
    assert f"digitnet {command}" in capsys.readouterr().out


@pytest.mark.parametrize("flags, words", [
    (["--lr", "-1"], ["learning rate"]),
    (["--momentum", "1.5", "--optimizer", "sgd"], ["momentum"]),
    (["--layers", "100,10"], ["100 inputs", "784 pixels"]),
    (["--layers", "784,16,5"], ["5 outputs"]),
    (["--epochs", "-3"], ["epochs"]),
    (["--validation", "60000"], ["validation"]),
    (["--data", "/no/such/folder"], ["/no/such/folder"]),
    (["--teacher", "/no/such/teacher.npz"], ["/no/such/teacher.npz"]),
])
def test_train_rejects_bad_values(flags, words, tmp_path):
    result = run("train", "--data", str(MNIST), "--out", str(tmp_path / "m.npz"), *flags)
    assert_one_line_error(result, *words)
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("flags", [["--lr", "fast"], ["--layers", "784,x,10"], ["--batch-size", "0"],
                                   ["--lr", "nan"], ["--activation", "softsign"], ["--augment", "spin=3"],
                                   ["--augment", "rotate=90"], ["--not-a-digit", "shapes=300"],
                                   ["--not-a-digit", "letters=many"], ["--not-a-digit", "-5"]])
def test_train_rejects_malformed_flags(flags):
    result = run("train", *flags)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: argument" in result.stderr


def corrupt_copy(tmp_path, name, mutate):
    folder = tmp_path / "data"
    shutil.copytree(MNIST, folder)
    path = folder / name
    path.chmod(0o644)
    path.write_bytes(mutate(path.read_bytes()))
    return folder


@pytest.mark.parametrize("mutate, words", [
    (lambda raw: raw[: len(raw) // 2], ["t10k-labels"]),  # truncated gzip stream
    (lambda raw: gzip.compress(b"\x00\x00\x08\x01\x00\x00\x27\x10" + b"\x01" * 10), ["header says 10000"]),
    (lambda raw: gzip.compress(b"\x12\x34\x56\x78" + gzip.decompress(raw)[4:]), ["magic"]),
])
def test_corrupt_idx_file_is_one_line(tmp_path, mutate, words):
    folder = corrupt_copy(tmp_path, "t10k-labels-idx1-ubyte.gz", mutate)
    assert_one_line_error(run("train", "--data", str(folder), "--epochs", "1", "--out", str(tmp_path / "m.npz")),
                          *words)


def test_labels_out_of_range_are_refused(tmp_path):
    folder = corrupt_copy(tmp_path, "t10k-labels-idx1-ubyte.gz",
                          lambda raw: gzip.compress(gzip.decompress(raw)[:8] + b"\x0c" * 10000))
    assert_one_line_error(run("train", "--data", str(folder), "--out", str(tmp_path / "m.npz")), "labels must be 0-9")


@pytest.mark.parametrize("command", ["info", "evaluate", "predict", "show", "serve"])
def test_missing_model_file_is_one_line(command, tmp_path):
    args = {"predict": ["x.png"], "show": []}.get(command, [])
    if command == "show":
        args = ["weights", str(tmp_path / "nope.npz")]
        result = run("show", *args)
    else:
        result = run(command, str(tmp_path / "nope.npz"), *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nope.npz" in result.stderr


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04 truncated zip"])
def test_corrupt_model_file_is_one_line(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    assert_one_line_error(run("info", str(path)), "bad.npz")


def test_a_teacher_of_another_shape_is_refused(tmp_path):
    from digitnet import Network

    Network((784, 12)).save(tmp_path / "teacher.npz")
    result = run("train", "--data", str(MNIST), "--teacher", str(tmp_path / "teacher.npz"), "--out",
                 str(tmp_path / "m.npz"))
    assert_one_line_error(result, "teacher has 784 inputs and 12 outputs")


def test_evaluate_with_mismatched_model(tmp_path):
    from digitnet import Network

    Network((100, 10)).save(tmp_path / "small.npz")
    assert_one_line_error(run("evaluate", str(tmp_path / "small.npz"), "--data", str(MNIST)), "100 inputs")


def test_the_registry_gives_the_choices_of_activation_and_cost(capsys):
    from digitnet.functions import ACTIVATIONS, COSTS
    from digitnet.optimizers import OPTIMIZERS

    for flag, registry in (("--activation", ACTIVATIONS), ("--cost", COSTS), ("--optimizer", OPTIMIZERS)):
        for name in registry:
            assert getattr(build_parser().parse_args(["train", flag, name]), flag[2:]) == name
        with pytest.raises(SystemExit):
            build_parser().parse_args(["train", flag, "nonesuch"])
        assert "nonesuch" in capsys.readouterr().err
