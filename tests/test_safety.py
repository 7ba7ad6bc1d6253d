"""What keeps `digitnet serve` safe to run: it listens on 127.0.0.1 unless told
otherwise, refuses oversized bodies, serves no file outside its static folder and
writes only the model file it was given. (Loading a model file never runs code:
tests/test_modelfile.py::test_pickled_object_array_is_never_unpickled.)"""

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from digitnet import Network
from digitnet.cli import build_parser, main

from .conftest import MNIST
from .test_load import live_server

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("safety-model") / "model.npz"
    Network(seed=0).save(path)
    return path


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("safety-server")
    with live_server(model, folder, data=False) as (url, process):
        yield url, process, folder


def raw_request(url, head, body=b""):
    """Send bytes exactly as given (no client normalising the path); (status, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def alive(url):
    return httpx.get(url + "/api/model", timeout=30).status_code == 200


# ---- listening address --------------------------------------------------------------

def test_serve_defaults_to_localhost():
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def test_serve_hands_uvicorn_localhost(model, monkeypatch, tmp_path):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.chdir(tmp_path)
    assert main(["serve", str(model), "--data", str(MNIST)]) == 0
    assert seen["host"] == "127.0.0.1"


def listening_addresses(port):
    """Local addresses with a listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_running_server_listens_on_loopback_only(server):
    url, _, _ = server
    addresses = listening_addresses(urlsplit(url).port)
    assert addresses == ["0100007F"]  # 127.0.0.1, little-endian hex; no 0.0.0.0, no IPv6


# ---- request bodies ---------------------------------------------------------------------

def test_five_megabyte_body_is_refused_and_server_lives(server):
    url, process, _ = server
    response = httpx.post(url + "/api/predict", content=b"[" + b"0," * (5 << 19) + b"0]",
                          headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413
    assert "request body over" in response.json()["detail"]
    assert alive(url) and process.poll() is None


def test_streamed_body_without_length_is_cut_off(server):
    url, process, _ = server

    def chunks():
        for _ in range(80):
            yield b" " * 65536  # 5 MiB in all, sent without a Content-Length

    response = httpx.post(url + "/api/predict", content=chunks(), headers={"content-type": "application/json"},
                          timeout=60)
    assert response.status_code == 413
    assert "request body over" in response.json()["detail"]
    assert alive(url) and process.poll() is None


def test_lying_content_length_is_refused(server):
    url, process, _ = server
    status, body = raw_request(url, "POST /api/predict HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                                    "Content-Length: 99999999999\nConnection: close\n")
    assert status == 413 and b"request body over" in body
    assert alive(url) and process.poll() is None


# ---- static files ----------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../../etc/passwd",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/....//....//etc/passwd",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/../server.py",
    "/static/%2e%2e/server.py",
    "/static/..%5c..%5cserver.py",
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_gets_404_and_no_file(server, path):
    url, process, _ = server
    status, body = raw_request(url, f"GET {path} HTTP/1.1\nHost: x\nConnection: close\n")
    assert status == 404, (path, status, body[:200])
    assert b"root:" not in body and b"import" not in body and b"def " not in body
    assert process.poll() is None


def test_static_files_are_served(server):
    # the refusals above are not because nothing is served at all
    url, _, _ = server
    status, body = raw_request(url, "GET /static/app.js HTTP/1.1\nHost: x\nConnection: close\n")
    assert status == 200 and body


# ---- files the server writes ----------------------------------------------------------------

def test_save_writes_only_its_own_file(server, tmp_path):
    url, _, folder = server
    target = tmp_path / "elsewhere.npz"
    response = httpx.post(url + "/api/save", json={"path": str(target)}, params={"path": str(target)},
                          timeout=30)
    assert response.status_code == 200
    assert not target.exists()
    saved = folder / response.json()["path"]
    assert saved.parent == folder and saved.name == "model-web.npz"
    Network.load(saved)  # a complete model, written atomically
    assert sorted(p.name for p in folder.iterdir()) == ["model-web.npz", "server.log"]


def test_busy_port_is_a_one_line_error(model, tmp_path):
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "digitnet", "serve", str(model), "--port", str(port)],
                                cwd=tmp_path, env={**os.environ, "DIGITNET_DATA": str(MNIST)},
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("digitnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert str(port) in result.stderr and "Traceback" not in result.stderr
