"""The browser's engine (digitnet/web/static/network.js, optimizers.js, functions.js) mirrors
network.py: Node runs tests/js against the golden vectors Python writes here (tests/golden.py)."""

import json
import os
import shutil
import subprocess

import pytest

from .conftest import ROOT
from .golden import golden

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def node_tests(path):
    return subprocess.run([NODE, "--test", str(ROOT / "tests" / "js")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DIGITNET_GOLDEN": str(path)}, cwd=ROOT)


@pytest.fixture(scope="module")
def vectors():
    return golden()


def test_the_browsers_engine_matches_pythons_golden_vectors(tmp_path, vectors):
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(vectors))
    done = node_tests(path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout


@pytest.mark.parametrize("what", ["activations", "gradient", "training"])
def test_the_comparison_fails_when_python_says_otherwise(tmp_path, vectors, what):
    """A golden number moved by a thousandth: the JavaScript must no longer pass."""
    wrong = json.loads(json.dumps(vectors))
    numbers = wrong["cases"][0][what]
    numbers = numbers[-1] if what == "activations" else numbers
    numbers[3] = numbers[3] * 1.001 + 1e-3
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(wrong))
    done = node_tests(path)
    assert done.returncode != 0 and "Python's" in done.stdout


def test_the_drawings_comparison_fails_when_python_says_otherwise(tmp_path, vectors):
    """A pixel of to_mnist's image of the drawing moved by a hundredth: digitize.js must no longer pass."""
    wrong = json.loads(json.dumps(vectors))
    pixels = wrong["drawings"]["three"]["mnist"]
    inked = next(i for i, v in enumerate(pixels) if v > 0.5)
    pixels[inked] -= 0.01
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(wrong))
    done = node_tests(path)
    assert done.returncode != 0 and "three: pixel" in done.stdout


def test_the_lessons_comparison_fails_when_python_says_otherwise(tmp_path, vectors):
    """A layer's share of the gradient moved by a thousandth: lesson.js must no longer pass."""
    wrong = json.loads(json.dumps(vectors))
    wrong["cases"][0]["lesson"]["layer_shares"][0] += 1e-3
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(wrong))
    done = node_tests(path)
    assert done.returncode != 0 and "each layer's share of the gradient" in done.stdout


@pytest.mark.parametrize("what", ["inputs", "activations"])
def test_the_deskewing_comparison_fails_when_python_says_otherwise(tmp_path, vectors, what):
    """A pixel of a deskewed image (or an activation of the deskewing network) moved by a thousandth:
    network.js's deskew must no longer pass."""
    wrong = json.loads(json.dumps(vectors))
    numbers = wrong["deskewing"][what]
    numbers = numbers[0] if what == "activations" else numbers  # its input layer: the deskewed images too
    inked = next(i for i, v in enumerate(numbers) if 0.2 < v < 0.8)  # between pixels: interpolated
    numbers[inked] = numbers[inked] * 1.001 + 1e-3
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(wrong))
    done = node_tests(path)
    said = {"inputs": ", deskewed: number", "activations": "deskewing network, layer 0: number"}[what]
    assert done.returncode != 0 and said in done.stdout
