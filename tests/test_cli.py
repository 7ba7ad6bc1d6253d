"""The command line: help everywhere, and every kind of bad input gets one line and exit 2."""

import argparse
import gzip
import os
import shutil
import subprocess
import sys

import pytest

from digitnet.cli import COMMANDS, build_parser, main

from .conftest import MNIST, OLD_MODEL, eventually
from .test_load import live_server


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
    assert_one_line_error(result, "error: argument", "(see digitnet train --help)")


@pytest.mark.parametrize("flags, words", [
    (["--layers", "784,16,16"], ["16 outputs", "must be 10"]),  # the output layer forgotten
    (["--layers", "784,16,11"], ["11 outputs", "must be 10", "--not-a-digit"]),
    (["--layers", "784,16,12", "--not-a-digit"], ["12 outputs", "10", "11"]),
    (["--epochs", "0"], ["--epochs", "1 or more"]),
    (["--epoch", "1"], ["unrecognized arguments: --epoch 1", "did you mean --epochs?"]),  # no abbreviations
    (["--layer", "784,30,10"], ["unrecognized arguments: --layer", "--layers"]),
])
def test_slips_are_refused_and_nothing_is_saved_or_replaced(flags, words, tmp_path):
    out = tmp_path / "model.npz"
    out.write_bytes(b"the model of an earlier run")
    assert_one_line_error(run("train", "--data", str(MNIST), "--out", str(out), *flags), *words)
    assert out.read_bytes() == b"the model of an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize("layers", ["784,16,10", "784,16,11"])
def test_with_not_a_digit_the_last_layer_may_count_it_or_not(layers):
    from digitnet.commands.train import with_output_layer
    from digitnet.data import Dataset

    digits = Dataset(*[None] * 4)
    options = with_output_layer({"layers": [int(n) for n in layers.split(",")], "not_a_digit": 6000}, digits)
    assert options["layers"] == [784, 16, 10]  # as the recipes write it: the digits; "not a digit" is added


def test_abbreviations_are_refused_in_every_command(tmp_path):
    assert_one_line_error(run("show", "weights", str(OLD_MODEL), "--lay", "1", "--out", str(tmp_path / "w.png")),
                          "--lay", "did you mean --layer?", "(see digitnet show weights --help)")
    assert_one_line_error(run("serve", "--po", "8001"), "--po", "(see digitnet serve --help)")
    assert not (tmp_path / "w.png").exists()


def test_a_missing_command_or_argument_is_one_line():
    assert_one_line_error(run(), "COMMAND", "(see digitnet --help)")
    assert_one_line_error(run("trian"), "invalid choice: 'trian'")
    assert_one_line_error(run("show", "weights"), "model", "(see digitnet show weights --help)")


def parsers(parser):
    """``parser`` and every subcommand's parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


def test_every_help_shows_the_defaults():
    checked = 0
    for parser in parsers(build_parser()):
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            default = action.default
            if default is None or default is False or default == argparse.SUPPRESS or not action.help:
                continue
            said = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
            in_words = f"{default:g}" if isinstance(default, float) else said
            assert f"(default: {said})" in text or in_words in action.help, (parser.prog, action.dest)
            checked += 1
    assert checked > 30
    assert "--port PORT port to listen on (default: 8000)" in " ".join(
        build_parser()._actions[-1].choices["serve"].format_help().split())


def test_a_kind_added_to_shows_table_is_offered_with_its_options_and_drawn(monkeypatch, capsys):
    """`digitnet show` is made from its table of kinds: one entry is a new picture, with its help and flags."""
    from digitnet.commands import show

    asked = []

    def draw(net, args, progress):
        asked.append((net.sizes, args.rows))
        return None, "drawn"  # no figure: the message alone, as --json gives

    monkeypatch.setitem(show.KINDS, "rows", show.Kind("rows", "a picture made up for this test", draw,
                                                      [show.flag("--rows", type=int, default=3, help="how many")]))
    for args in (["show", "--help"], ["show", "rows", "--help"]):
        with pytest.raises(SystemExit):
            main(args)
    help_text = " ".join(capsys.readouterr().out.split())
    assert "rows a picture made up for this test" in help_text and "--rows ROWS how many (default: 3)" in help_text
    assert main(["show", "rows", str(OLD_MODEL), "--rows", "5"]) == 0
    assert asked == [((784, 8, 10), 5)] and capsys.readouterr().out == "drawn\n"


def test_serve_takes_the_classrooms_limits_as_its_defaults_without_loading_the_web_server():
    from digitnet.web.classroom import IDLE_MINUTES, MAX_SESSIONS

    args = build_parser().parse_args(["serve"])
    assert (args.max_sessions, args.idle_minutes) == (MAX_SESSIONS, IDLE_MINUTES)
    loaded = subprocess.run([sys.executable, "-c", "import sys, digitnet.cli; digitnet.cli.build_parser(); "
                             "print('fastapi' in sys.modules)"], capture_output=True, text=True, timeout=120)
    assert loaded.stdout.strip() == "False", loaded.stderr  # the command line starts without FastAPI


def closed_pipe_run(*args):
    """Run digitnet with its stdout a pipe whose reader has gone, as in `digitnet ... | head -0`."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([sys.executable, "-m", "digitnet", *args], stdout=writer, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(writer)


# A command's output: status 141, as if SIGPIPE had ended it, as it ends other Unix commands; argparse
# writes --help and --version itself, ignoring write errors, and exits 0.
@pytest.mark.parametrize("args, status", [(["info", str(OLD_MODEL)], 128 + 13), (["show", "--help"], 0),
                                          (["--version"], 0)])
def test_a_closed_pipe_ends_quietly(args, status):
    result = closed_pipe_run(*args)
    assert result.stderr == "" and result.returncode == status


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


def test_serve_open_opens_the_page_in_the_browser(tmp_path, monkeypatch):
    """As jupyter does: Python's webbrowser runs $BROWSER, here a script that notes the address it is given."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f"#!{sys.executable}\nimport pathlib, sys\n"
                       f"pathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    with live_server(OLD_MODEL, tmp_path, data=False, args=["--open"]) as (url, _):
        eventually(opened.exists, why=lambda: (tmp_path / "server.log").read_text())
        assert opened.read_text() == url + "/"
        assert f"open {url}/ in a browser" in (tmp_path / "server.log").read_text()  # printed all the same


def on_a_terminal(*args):
    """Run digitnet with its stderr a terminal (a pseudo-terminal of 24 rows of 100 columns);
    (exit status, what the terminal showed, stdout)."""
    import fcntl
    import pty
    import struct
    import termios

    terminal, its_end = pty.openpty()
    fcntl.ioctl(its_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "digitnet", *args], stderr=its_end, stdout=subprocess.PIPE,
                               text=True)
    os.close(its_end)
    shown = []
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the process has gone: the terminal's other end is closed
            break
        if not chunk:
            break
        shown.append(chunk)
    os.close(terminal)
    stdout = process.stdout.read()
    return process.wait(), b"".join(shown).decode(), stdout


@pytest.mark.parametrize("kind, options, stages", [
    ("noise", ["--n", "50"], ["reading the model", "showing it noise", "writing"]),
    ("memorize", ["--images", "100", "--epochs", "5"],
     ["reading the images", "training with real and shuffled labels (epochs)", "/10 ", "writing"]),
])
def test_show_reports_its_progress_on_a_terminal_only(kind, options, stages, default_model, tmp_path):
    args = ["show", kind, str(default_model), "--out", str(tmp_path / "x.png"), *options]
    status, shown, stdout = on_a_terminal(*args)
    assert status == 0 and "wrote" in stdout
    for stage in stages:  # each stage is shown as it starts (how far a stage has got, at most ten times a second)
        assert stage in shown, (stage, shown)
    piped = run(*args)
    assert piped.returncode == 0 and piped.stderr == ""  # not a terminal: no bar


def test_evaluate_says_a_dash_not_nan_for_outputs_no_test_image_has(tmp_path):
    """A model with more outputs than classes (train refuses to make one now; older versions did)."""
    from digitnet import Network

    Network((784, 8, 12), "relu", "cross-entropy", seed=0).save(tmp_path / "twelve.npz")
    result = run("evaluate", str(tmp_path / "twelve.npz"), "--data", str(MNIST))
    assert result.returncode == 0 and "nan" not in result.stdout
    assert "  10: –  11: –\n" in result.stdout
