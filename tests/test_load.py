"""Under load: a real `digitnet serve` on 127.0.0.1 answers a few hundred concurrent
predictions, every one correct, and its memory does not keep growing."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from digitnet import Network

from .conftest import MNIST

REQUESTS = 300      # per round
CONCURRENCY = 24    # requests in flight at once
RSS_MARGIN_MB = 40  # allowed growth between the warm-up round and the last round


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(model, folder, data=True, args=()):
    """`digitnet serve MODEL` in a subprocess on a free port of 127.0.0.1, run from
    ``folder`` (where the page's Save writes), with MNIST (``data`` True), none (False) or the
    data set in the folder ``data``; yields (base URL, process)."""
    folder = Path(folder)
    port = free_port()
    data = MNIST if data is True else data or folder / "no-data-here"
    env = {**os.environ, "DIGITNET_DATA": str(data)}
    log = open(folder / "server.log", "w+")  # noqa: SIM115 - closed below, read on failure
    process = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", str(model), "--port", str(port), *args],
                               cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"digitnet serve exited with {process.returncode}:\n{log.read()}")
            try:
                if httpx.get(url + "/api/model", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("digitnet serve did not answer within 120 s")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc status")


@pytest.fixture(scope="module")
def server(default_model, tmp_path_factory):
    with live_server(default_model, tmp_path_factory.mktemp("load-server")) as running:
        yield running


def requests_for(net, mnist, rng, n):
    """n (route, body, expected answer) triples from random test images: half fed to the
    network as they are (/api/look), half drawn 4x larger and read like a drawing on the
    page (/api/predict, through to_mnist); the answers worked out here, by the same net."""
    from digitnet.images import to_mnist

    triples = []
    for i in rng.integers(0, len(mnist.test_images), n):
        image = mnist.test_images[i]
        if rng.integers(2):
            pixels = image.ravel().tolist()
            seen = np.asarray(pixels, dtype=np.float64) / 255
            route = "/api/look"
        else:
            drawing = np.kron(image, np.ones((4, 4), np.uint8))  # 112x112, as the page sends its canvas
            pixels = drawing.ravel().tolist()
            seen = to_mnist(np.asarray(pixels, dtype=np.float32).reshape(drawing.shape) / 255, invert=False,
                            even=True)
            route = "/api/predict"
        triples.append((route, {"pixels": pixels}, int(net.predict(seen.reshape(1, -1))[0])))
    return triples


async def predict_all(url, requests):
    """Send every request, at most CONCURRENCY at a time; the answers in order."""
    limit = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        async def one(route, body):
            async with limit:
                response = await client.post(route, json=body)
                assert response.status_code == 200, response.text
                return response.json()

        return await asyncio.gather(*(one(route, body) for route, body, _ in requests))


def run_round(url, requests):
    answers = asyncio.run(predict_all(url, requests))
    wrong = [(route, a["prediction"], expected) for a, (route, _, expected) in zip(answers, requests, strict=True)
             if a["prediction"] != expected]
    assert not wrong, f"{len(wrong)} of {len(requests)} answers differ from the local network: {wrong[:5]}"
    for a in answers:
        assert len(a["input"]) == 784 and abs(sum(a["probabilities"]) - 1) < 1e-3
    return answers


def test_concurrent_predictions_are_all_correct_and_memory_stays_flat(server, default_model, mnist):
    url, process = server
    net = Network.load(default_model)
    rng = np.random.default_rng(0)
    run_round(url, requests_for(net, mnist, rng, REQUESTS))  # warm-up: imports, caches, allocator pools
    before = rss_mb(process.pid)
    answers = []
    for _ in range(2):
        answers += run_round(url, requests_for(net, mnist, rng, REQUESTS))
    after = rss_mb(process.pid)
    assert after - before < RSS_MARGIN_MB, f"server memory grew from {before:.0f} MB to {after:.0f} MB"
    # the answers are not all one digit: the load test exercises a network that reads digits
    assert len({a["prediction"] for a in answers}) == 10
    assert process.poll() is None
