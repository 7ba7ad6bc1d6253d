"""A machine's first run trains with NumPy and has the compiled epoch made for later runs,
in a process of its own; a run never changes engine midway, so its network is exactly
the one DIGITNET_COMPILED=0 gives."""

import os
import time

import numpy as np
import pytest

from digitnet import compiler
from digitnet.network import Network
from digitnet.training import Trainer

from .conftest import eventually


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DIGITNET_COMPILED", "1")
    return tmp_path / "cache"


def train(mnist, **options):
    net = Network((784, 16, 10), "tanh", "cross-entropy", seed=1)
    trainer = Trainer(net, mnist.train_images[:2000], mnist.train_labels[:2000], optimizer="sgd", lr=0.1,
                      batch_size=50, epochs=2, seed=2, shift=1, **options)
    trainer.run()
    return trainer, net.params.copy()


def test_first_run_trains_with_numpy_then_later_runs_are_compiled(mnist, empty_cache, monkeypatch):
    first, first_params = train(mnist)
    assert not first.compiled and first.compiling  # it trained with NumPy, then started the compile
    assert not compiler.compile_later(first.net, "sgd")  # one compile at a time per choice
    monkeypatch.setenv("DIGITNET_COMPILED", "0")
    _, numpy_params = train(mnist)
    np.testing.assert_array_equal(first_params, numpy_params)  # the very same network as NumPy's

    monkeypatch.setenv("DIGITNET_COMPILED", "1")
    eventually(lambda: compiler.ready(first.net, "sgd"), 300, pause=0.2)
    eventually(lambda: not list(empty_cache.rglob("compiling-*")), 300, pause=0.2)
    later, later_params = train(mnist)
    assert later.compiled and not later.compiling
    np.testing.assert_allclose(later_params, first_params, atol=2e-3 * np.abs(first_params).max())
    assert list(empty_cache.rglob("*.nbi")), "the compiled code is cached in DIGITNET_CACHE"


def test_a_stale_lock_is_taken_over_and_compiled_0_never_compiles(mnist, empty_cache, monkeypatch):
    net = Network((784, 16, 10), "relu", "quadratic", seed=0)
    folder = compiler.cache_folder()
    folder.mkdir(parents=True)
    lock = folder / f"compiling-{compiler.key(net, 'adam')}"
    lock.touch()
    assert not compiler.compile_later(net, "adam")  # someone is compiling it
    old = time.time() - compiler.STALE_SECONDS - 1
    os.utime(lock, (old, old))
    monkeypatch.setenv("DIGITNET_COMPILED", "0")
    trainer, _ = train(mnist)
    assert not trainer.compiled and not trainer.compiling and lock.exists()  # turned off: nothing started
    monkeypatch.setenv("DIGITNET_COMPILED", "1")
    assert compiler.compile_later(net, "adam")  # a lock that old belonged to a process that died
    eventually(lambda: compiler.ready(net, "adam"), 300, pause=0.2)


def test_a_long_first_run_waits_for_the_compiler(mnist, empty_cache, monkeypatch):
    """NumPy would take longer than compiling: distortions, or much more work than the default recipe."""
    net = Network((784, 16, 10), "tanh", "cross-entropy", seed=1)
    X, y = mnist.train_images[:2000], mnist.train_labels[:2000]
    assert not Trainer(net, X, y, epochs=2).compiled
    assert Trainer(net, X, y, epochs=2, augment="rotate=10").compiled
    wide = Network((784, 800, 10), "relu", "cross-entropy", seed=1)
    assert not compiler.numpy_is_quicker(wide, 25 * 55_000, False)
    assert compiler.numpy_is_quicker(Network((784, 16, 16, 10)), 25 * 55_000, False)
