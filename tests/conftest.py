"""Shared fixtures: the real MNIST from ../shared, and one model trained by
``digitnet train`` with its defaults, trained once for the whole run."""

import fcntl
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MNIST = Path(os.environ.get("DIGITNET_DATA") or ROOT.parent / "shared" / "data" / "mnist")
# The commands the tests start find MNIST as a user's would, through $DIGITNET_DATA: so the README's test
# command runs the same with or without .ci/run's setting of it.
os.environ.setdefault("DIGITNET_DATA", str(MNIST))
OUTPUT = ROOT / "test-output"  # screenshots and pictures for a person to look at
OLD_MODEL = ROOT / "tests" / "data" / "model-0.2.0.npz"  # saved by digitnet 0.2.0: 784-8-10, no path, digits only


@pytest.fixture(scope="session")
def mnist():
    from digitnet import data

    if not data.has_dataset(MNIST):
        pytest.fail(f"MNIST is not at {MNIST}: set DIGITNET_DATA")
    return data.load(MNIST)


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory, mnist):
    """A folder of MNIST's first 2,000 training and 1,000 test images, as IDX files: for a server whose
    property under test does not need all of MNIST, but whose every answer scores the test images."""
    from digitnet import data

    folder = tmp_path_factory.mktemp("small-mnist")
    for part, count in (("train", 2000), ("test", 1000)):
        images = getattr(mnist, f"{part}_images")[:count]
        data.write_idx(folder / data.FILES[f"{part}_images"], images.reshape(count, 28, 28))
        data.write_idx(folder / data.FILES[f"{part}_labels"], getattr(mnist, f"{part}_labels")[:count])
    return folder


def made_once(tmp_path_factory, name, make):
    """The path of the file ``name``, made by ``make(path)`` once for the whole run: the suite's processes
    (pytest-xdist's workers) share one folder, and the first to ask makes the file under a lock while the
    others wait, then all read it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / "made-once"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / name).exists():
            make(folder / name)
    return folder / name


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The wheel and the sdist (tests/test_packaging.py's build), built once for the whole run: the packaging
    test checks and installs them, the README's test installs the wheel with each extra."""
    from .test_packaging import build, distributions  # here: test_packaging imports this module

    def build_whole(path):  # in a folder of its own first: a failed build leaves nothing that looks finished
        part = path.with_name(path.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        build(part)
        part.rename(path)

    return distributions(made_once(tmp_path_factory, "built", build_whole) / "dist")


@pytest.fixture(scope="session")
def default_model(tmp_path_factory, mnist):
    """The path of a model trained by `digitnet train` exactly as a user would run it."""
    from digitnet.cli import main

    def train(path):
        assert main(["train", "--data", str(MNIST), "--out", str(path)]) == 0

    return made_once(tmp_path_factory, "model.npz", train)


@pytest.fixture(scope="session")
def trained_net(default_model):
    from digitnet import Network

    return Network.load(default_model)


@pytest.fixture(scope="session")
def not_a_digit_model(tmp_path_factory, mnist):
    """A model trained by `digitnet train --not-a-digit` (its 6,000 images of noise), briefly."""
    from digitnet.cli import main

    def train(path):
        assert main(["train", "--data", str(MNIST), "--out", str(path), "--not-a-digit", "--epochs", "10"]) == 0

    return made_once(tmp_path_factory, "not-a-digit.npz", train)


@pytest.fixture(scope="session")
def not_a_digit_net(not_a_digit_model):
    from digitnet import Network

    return Network.load(not_a_digit_model)


@pytest.fixture
def app(trained_net, mnist, tmp_path):
    """The web page's app for the default model, with MNIST; its Save writes into tmp_path."""
    from digitnet.web import create_app

    return create_app(trained_net, mnist, save_path=tmp_path / "web.npz")


def browser(app, **options):
    """A TestClient for ``app`` that has loaded the page, as a browser does first: that gives it its
    session, which it needs to change anything."""
    from fastapi.testclient import TestClient

    client = TestClient(app, **options)
    assert client.get("/").status_code == 200
    return client


@pytest.fixture(scope="session")
def output_dir():
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


BLOCK = """
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {packages!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, NotInstalled())
"""


def run_without(packages, code, *args):
    """Run ``code`` in a fresh Python as if ``packages`` (top-level module names) were not
    installed; returns the finished process (stdout, stderr, returncode)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", BLOCK.format(packages=set(packages)) + code, *args],
                          capture_output=True, text=True, timeout=300)


def ctrl_c_as_in_a_terminal():
    """For a command's subprocess (``preexec_fn``): Ctrl-C's SIGINT at its default, as a terminal's command
    has it. A suite started with & (a job in the background) passes on an ignored SIGINT, which the command
    would then catch only once it had set its own handler: a signal sent before that was lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def eventually(condition, seconds=60, pause=0.02, why=lambda: "timed out"):
    """Wait until ``condition()`` holds: a test failure, saying ``why()``, after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why()
        time.sleep(pause)


def wait_for(client, path, done, seconds=60):
    """GET ``path`` until ``done(answer)`` holds (a test failure after ``seconds``); the answer."""
    answer = {}

    def done_yet():
        answer["last"] = client.get(path).json()
        return done(answer["last"])

    eventually(done_yet, seconds, why=lambda: answer["last"])
    return answer["last"]
