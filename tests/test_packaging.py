"""Packaging and installing as a user does: the wheel and sdist build, the wheel works
from a fresh virtual environment (train, show, serve with its static files), and the
installed package is never written to, so reinstalling and uninstalling leave nothing
behind. Each test makes its own venv; the dependencies come from the test environment's
site-packages (a .pth file), so nothing is downloaded. (tests/test_readme.py installs each
extra in such a venv that sees the core's dependencies alone.)"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import urllib.request
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import numpy as np
from packaging.requirements import Requirement

from digitnet.files import cache_dir
from digitnet.version import __version__

from .conftest import MNIST, ROOT


def source_tree(tmp_path):
    """The files git tracks, copied: what a fresh clone holds, without build leftovers."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    tree = tmp_path / "src"
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    return tree


def build(tmp_path):
    """The wheel and the sdist built from a copy of the source tree, as a release would be."""
    tree = source_tree(tmp_path)
    dist = tmp_path / "dist"
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return distributions(dist)


def distributions(dist):
    wheel, = dist.glob(f"digitnet-{__version__}-*.whl")
    sdist, = dist.glob(f"digitnet-{__version__}.tar.gz")
    return wheel, sdist


def dependencies(wheel, *extras):
    """The installed distributions that the ``wheel``'s dependencies (and those of its ``extras``)
    bring, theirs included, as pip would install them: their names, normalised."""
    with zipfile.ZipFile(wheel) as archive:
        info = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        wanted = [(["", *extras], r) for r in Parser().parsestr(archive.read(info).decode()).get_all("Requires-Dist")]
    found = set()
    while wanted:
        asked_with, requirement = wanted.pop()
        requirement = Requirement(requirement)
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in asked_with):
            continue
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name not in found:
            found.add(name)
            wanted += [(["", *requirement.extras], r) for r in metadata.distribution(name).requires or []]
    return found


def only(distributions, folder):
    """``folder``, holding links to the files of the installed ``distributions`` alone: a
    site-packages in which only they are installed."""
    folder.mkdir()
    for name in distributions:
        distribution = metadata.distribution(name)
        site = Path(distribution.locate_file(""))
        for top in {f.parts[0] for f in distribution.files if f.parts[0] != ".."}:
            if not (folder / top).exists():
                (folder / top).symlink_to(site / top)
    return folder


def venv(tmp_path, sees=None):
    """A fresh venv that also sees this environment's installed packages (but not its
    digitnet, which is not a plain folder there), or of them only the distributions ``sees``
    names: returns run(*args, cwd=...) and its site-packages."""
    home = tmp_path / "venv"
    # No pip or setuptools of its own: those of the test environment come in through the .pth file
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([home / "bin" / "python", "-c", where], capture_output=True, text=True,
                               check=True).stdout.strip())
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]} if sees is None else \
        {str(only(sees, tmp_path / "outer-site"))}
    (site / "outer.pth").write_text("\n".join(sorted(outer)) + "\n")
    env = {**os.environ, "PATH": f"{home / 'bin'}:{os.environ['PATH']}", "DIGITNET_CACHE": str(tmp_path / "cache"),
           "VIRTUAL_ENV": str(home), "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)

    def run(*args, cwd=tmp_path, check=True):
        done = subprocess.run(list(map(str, args)), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        if check:
            assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
        return done

    return run, site, env


def pip(run, *args):
    return run("python", "-m", "pip", "--disable-pip-version-check", "-q", *args)


def test_cache_dir_is_the_users_and_can_be_moved(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITNET_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("mnist") == tmp_path / "xdg" / "digitnet" / "mnist"
    monkeypatch.setenv("DIGITNET_CACHE", str(tmp_path / "mine"))
    assert cache_dir("mnist") == tmp_path / "mine" / "mnist"


def test_the_wheel_and_sdist_build_and_the_wheel_works_in_a_fresh_venv(built, tmp_path):
    wheel, sdist = built
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.startswith("digitnet/_kernels") and n.endswith(".so")]  # kernels.c, compiled
    for static in ("index.html", "app.js", "style.css"):
        assert f"digitnet/web/static/{static}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith((".nbi", ".nbc"))]
    with tarfile.open(sdist) as archive:
        members = {m.split("/", 1)[1] for m in archive.getnames() if "/" in m}
    assert {"LICENSE", "README.md", "pyproject.toml", "digitnet/web/static/app.js", "digitnet/kernels.c"} <= members

    run, site, env = venv(tmp_path)
    pip(run, "install", "--no-deps", "--no-index", wheel)
    env["PATH"] = str(Path(env["VIRTUAL_ENV"]) / "bin")  # no C compiler from here on: the wheel needs none
    assert shutil.which("gcc", path=env["PATH"]) is None and shutil.which("cc", path=env["PATH"]) is None
    where = run("python", "-c", "import digitnet; print(digitnet.__file__)").stdout.strip()
    assert Path(where).is_relative_to(site)
    assert run("digitnet", "--version").stdout.strip() == f"digitnet {__version__}"
    first_and_second_run(run, tmp_path)
    run("digitnet", "show", "weights", tmp_path / "m.npz", "--out", tmp_path / "w.png")
    assert (tmp_path / "w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page, script = serve_and_fetch(env, tmp_path / "m.npz", "/", "/static/app.js")
    assert "<canvas" in page and "/api/" in script


def first_and_second_run(run, tmp_path):
    """From an empty cache, `digitnet train` twice: the same network to the bit, and no digitnet
    process left behind by the first."""
    assert not (tmp_path / "cache").exists()
    for out in ("m.npz", "again.npz"):
        run("digitnet", "train", "--data", MNIST, "--layers", "784,8,10", "--epochs", "1", "--validation", "0",
            "--out", tmp_path / out)
        assert not digitnet_processes(tmp_path), "a process outlived digitnet train"
    first, again = np.load(tmp_path / "m.npz"), np.load(tmp_path / "again.npz")
    weights = [k for k in first.files if k != "header"]  # the header records each epoch's seconds too
    assert first.files == again.files and all(np.array_equal(first[k], again[k]) for k in weights)
    header = json.loads(bytes(first["header"]).decode())
    assert header["options"]["engine"] == "compiled"


def digitnet_processes(tmp_path):
    """Processes whose command line names this test's folder (its venv, its files)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(tmp_path) in line and proc.name != str(os.getpid()):
            found.append(line)
    return found


def serve_and_fetch(env, model, *paths):
    """Start `digitnet serve MODEL` from the venv, fetch ``paths``, stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(["digitnet", "serve", str(model), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pages = []
    try:
        deadline = time.monotonic() + 60
        for path in paths:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                        pages.append(answer.read().decode())
                        break
                except OSError:
                    assert process.poll() is None, process.stderr.read()
                    assert time.monotonic() < deadline, "the server did not answer"
                    time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return pages


def package_files(site):
    """Every file and folder in site-packages that belongs to digitnet (its package, its
    dist-info, an editable install's finder and .pth)."""
    tops = [p for p in site.iterdir() if "digitnet" in p.name.lower()]
    return sorted(str(p.relative_to(site)) for top in tops for p in [top, *top.rglob("*")])


def test_reinstalling_over_a_used_install_works_and_uninstall_leaves_nothing(tmp_path):
    """pip install ., digitnet train, pip install -e ., then the command from another folder; pip
    uninstall leaves no digitnet file in site-packages."""
    tree = source_tree(tmp_path)
    run, site, env = venv(tmp_path)
    pip(run, "install", "--no-deps", "--no-build-isolation", tree)
    installed = package_files(site)
    run("digitnet", "train", "--data", MNIST, "--layers", "784,8,10", "--epochs", "1", "--validation", "0",
        "--out", tmp_path / "m.npz")
    assert package_files(site) == installed, "the run wrote into the installed package"

    pip(run, "install", "--no-deps", "--no-build-isolation", "-e", tree)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run("digitnet", "--version", cwd=elsewhere).stdout.strip() == f"digitnet {__version__}"
    assert run("python", "-m", "digitnet", "--version", cwd=elsewhere).stdout.strip() == f"digitnet {__version__}"
    where = run("python", "-c", "import digitnet; print(digitnet.__file__)", cwd=elsewhere).stdout.strip()
    assert Path(where) == tree / "digitnet" / "__init__.py"

    pip(run, "uninstall", "-y", "digitnet")
    assert package_files(site) == []
