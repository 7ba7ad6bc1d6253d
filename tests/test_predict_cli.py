"""digitnet predict on image files: what it prints, --json, --show, and bad files among good ones."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitnet.images import to_mnist

from .test_images import bad_files, coloured, dark_on_white, jpeg, transparent


def run(*args):
    """Run the real `digitnet` program, as a user would."""
    return subprocess.run([sys.executable, "-m", "digitnet", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, mnist, trained_net):
    """Photos of four digits the network reads with confidence, in four formats, with
    the network's answer on each original."""
    folder = tmp_path_factory.mktemp("pictures")
    p = trained_net.predict_proba(mnist.test_images[:200])
    sure = np.flatnonzero(p.max(axis=1) > 0.99)[:4]
    rng = np.random.default_rng(0)
    files = {}
    for i, render, name in zip(sure, (dark_on_white, coloured, transparent, jpeg),
                               ("scan.png", "photo.jpg", "drawing.webp", "letter.tiff"), strict=True):
        path = folder / name
        render(mnist.test_images[i], rng).save(path)
        files[path] = int(p[i].argmax())
    return files


def test_prints_digit_confidence_and_top_3(default_model, pictures):
    result = run("predict", default_model, *pictures)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(pictures)
    for line, (path, digit) in zip(lines, pictures.items(), strict=True):
        assert line.startswith(f"{path}: {digit}  (confidence ")
        top3 = line.split("top 3: ")[1].rstrip(")").split(", ")
        assert len(top3) == 3 and top3[0].startswith(f"{digit} ")


def test_json_lines_agree_with_the_network(default_model, trained_net, pictures):
    result = run("predict", default_model, "--json", *pictures)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.strip().splitlines()]
    for record, path in zip(records, pictures, strict=True):
        p = trained_net.predict_proba(to_mnist(path).reshape(1, -1))[0]
        assert record["file"] == str(path) and record["digit"] == pictures[path]
        assert record["confidence"] == pytest.approx(p.max(), abs=1e-4)
        assert [t["digit"] for t in record["top3"]] == list(np.argsort(p)[::-1][:3])
        assert [t["probability"] for t in record["top3"]] == pytest.approx(np.sort(p)[::-1][:3], abs=1e-4)


def test_show_writes_what_the_network_saw(default_model, trained_net, pictures, tmp_path):
    seen = tmp_path / "seen"
    result = run("predict", default_model, "--show", seen, *pictures)
    assert result.returncode == 0, result.stderr
    for path, line in zip(pictures, result.stdout.splitlines(), strict=True):
        assert line.endswith(f"; it saw {seen / path.stem}.png")
        small = np.asarray(Image.open(seen / f"{path.stem}.png"))
        assert small.shape == (28, 28) and small.dtype == np.uint8
        took = trained_net.inputs(to_mnist(path).reshape(1, -1)).reshape(28, 28)  # deskewed, as the input layer took it
        assert trained_net.deskew and not np.array_equal(small, np.round(to_mnist(path) * 255))
        np.testing.assert_array_equal(small, np.round(took * 255))
        big = np.asarray(Image.open(seen / f"{path.stem}-x10.png"))
        np.testing.assert_array_equal(big[::10, ::10], small)


def test_forced_polarity_changes_the_reading(default_model, pictures, tmp_path):
    path = next(iter(pictures))  # dark ink on white
    auto, forced, wrong = (run("predict", default_model, "--json", *flags, path)
                           for flags in ([], ["--invert"], ["--no-invert"]))
    assert json.loads(auto.stdout) == json.loads(forced.stdout)
    assert wrong.returncode == 0 or "no ink found" in wrong.stderr  # white paper read as ink: a blob, or nothing
    assert wrong.stdout != auto.stdout


def test_bad_files_among_good_ones(default_model, pictures, tmp_path, mnist):
    bad = bad_files(tmp_path, mnist.test_images[0])
    bad[tmp_path / "missing.png"] = "no such file"
    good = list(pictures)
    result = run("predict", default_model, good[0], *bad, good[1])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    printed = result.stdout.strip().splitlines()
    assert [line.split(": ")[0] for line in printed] == [str(good[0]), str(good[1])]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad)
    for line, (path, expected) in zip(errors, bad.items(), strict=True):
        assert line.startswith(f"digitnet: error: {path}: ")
        assert expected is None or expected in line, line


def test_bad_model_is_one_line(pictures, tmp_path):
    (tmp_path / "model.npz").write_bytes(b"not a model")
    result = run("predict", tmp_path / "model.npz", *pictures)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "not a digitnet model" in result.stderr
