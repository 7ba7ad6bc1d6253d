"""A small class at a real `digitnet serve`, driven by locust (bench/classroom.py runs the
full 30 visitors for 20 seconds and reports the latency; no timing is asserted here):
every answer is the asking visitor's own network's, and memory stays bounded however
many visitors come."""

import functools
import importlib.util
import ssl
import time

import httpx
import pytest

from digitnet import Network

from .conftest import MNIST, ROOT
from .test_load import live_server, rss_mb

pytestmark = pytest.mark.timeout(300)


def bench_module():
    spec = importlib.util.spec_from_file_location("classroom_bench", ROOT / "bench" / "classroom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_small_class_gets_its_own_answers_with_no_cross_talk(default_model, tmp_path):
    bench = bench_module()
    with live_server(default_model, tmp_path) as (url, process):
        status, stats, output = bench.locust(url, default_model, tmp_path, users=6, seconds=8, data=MNIST)
        assert process.poll() is None
    assert status == 0, output
    assert stats["Aggregated"]["Failure Count"] == "0", output
    assert int(stats["predict"]["Request Count"]) > 50  # the drawers drew, and every answer was the model's
    for name in ("edit", "train", "download", "predict (edited, editor)", "predict (trained, editor)"):
        assert int(stats[name]["Request Count"]) > 0, (name, output)  # the editor saw its own edits, then training


@functools.cache
def tls():
    """One TLS context for every client, made at the first: the server speaks plain HTTP, but each httpx.Client
    would otherwise load the system's certificates for a context of its own, 30 ms apiece."""
    return ssl.create_default_context()


def page_loaded(url):
    """An httpx client that has loaded the page, as a browser does: it has a session."""
    client = httpx.Client(base_url=url, timeout=60, verify=tls())
    assert client.get("/").status_code == 200
    return client


def test_memory_stays_bounded_with_300_visitors(tmp_path):
    """300 visitors each change a neuron, so each would have a session with its own network: the server
    keeps at most --max-sessions (200), turning the rest away, so after 200 its memory stops growing."""
    big = tmp_path / "big.npz"  # 118,000 parameters: each visitor's copy is half a megabyte
    Network((784, 128, 128, 10), "relu", "cross-entropy", seed=0).save(big)
    with live_server(big, tmp_path, data=False) as (url, process):
        clients = [page_loaded(url) for _ in range(300)]
        rss, answers = {}, []
        for k, client in enumerate(clients):
            answers.append(client.put(f"/api/neurons/0/{k % 128}", json={"bias_shift": 1.0}).status_code)
            assert client.post("/api/look", json={"pixels": [0] * 784}).status_code == 200
            if k + 1 in (20, 200, 300):
                rss[k + 1] = rss_mb(process.pid)
        kept = [bool(c.get("/api/model").json()["edits"]) for c in clients]
        for client in clients:
            client.close()
        assert process.poll() is None
    assert answers == [200] * 200 + [409] * 100 and kept == [True] * 200 + [False] * 100  # nobody was dropped
    per_visitor = (rss[200] - rss[20]) / 180
    assert per_visitor > 0.2, rss  # each kept visitor's network does take memory...
    assert rss[300] - rss[200] < 0.25 * 100 * per_visitor, rss  # ...but the 100 beyond the limit add none


LARGEST = {"hidden": [128] * 4, "epochs": 100, "images": 100, "paused": True}  # the page's largest network


def pause_after(client, epochs):
    """Start the largest run paused and step it ``epochs`` epochs."""
    assert client.post("/api/train", json=LARGEST).status_code == 202
    for epoch in range(1, epochs + 1):
        client.post("/api/train/step")
        deadline = time.monotonic() + 60
        while not (status := client.get("/api/train").json())["epoch"] == epoch or status["busy"]:
            assert time.monotonic() < deadline, status
            time.sleep(0.05)


def test_paused_runs_of_the_largest_network_keep_a_few_megabytes_each(default_model, small_mnist, tmp_path):
    """Visitors each pause a run of the largest network the page trains (4 hidden layers of 128, 151,306
    parameters, 0.6 MB) after 5 epochs: each keeps its network, the path's plane and Adam's memory,
    five networks' worth (3 MB), where the path's snapshots made it twelve (7 MB). bench/classroom_memory.py
    measures 200 such visitors, each paused after 99 of 100 epochs. A run keeps nothing of the test
    images, which every epoch is scored on: a thousand of them will do."""
    with live_server(default_model, tmp_path, data=small_mnist) as (url, process):
        first = page_loaded(url)
        pause_after(first, 5)  # the training images' copies, the allocator's pools and such, once
        before = rss_mb(process.pid)
        visitors = [page_loaded(url) for _ in range(8)]
        for client in visitors:
            pause_after(client, 5)
        per_visitor = (rss_mb(process.pid) - before) / len(visitors)
        for client in [first, *visitors]:
            client.close()
        assert process.poll() is None
    assert 1 < per_visitor < 5, f"{per_visitor:.1f} MB for each paused run"
