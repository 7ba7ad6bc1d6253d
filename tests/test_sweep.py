"""digitnet sweep: every cell is the network digitnet train makes; a sweep on this machine's processes
and the same sweep on a real Dask cluster (a scheduler and two workers started as processes) give the
same rows; a sweep killed with kill -9 carries on with only the cells it lacked; bad lists and an
unreachable scheduler get one line. And scikit-learn's GridSearchCV on the same cluster, through
joblib's Dask backend, as the README shows it."""

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
from distributed import Client, get_task_stream

from digitnet import Network, figures, sweep
from digitnet.cli import build_parser, main
from digitnet.commands.sweep import plan, values

from .conftest import MNIST, ROOT, ctrl_c_as_in_a_terminal, eventually, run_without
from .test_cli import assert_one_line_error

# The README's sweep, small: 2,000 training images (500 of them held out), 2 epochs.
FOUR_CELLS = ["--layers", "784,8,10", "784,16,16,10", "--seeds", "0,1", "--epochs", "2", "--images", "2000",
              "--validation", "500"]


def digitnet(*args, **how):
    """Run the real `digitnet` program, as a user would (this environment, so this digitnet)."""
    return subprocess.run([sys.executable, "-m", "digitnet", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "DIGITNET_DATA": str(MNIST)}, **how)


def rows(out):
    with open(out / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def by_cell(found):
    """The rows by cell, without the seconds of training (which the machine's load decides)."""
    return {sweep.key(row): {k: v for k, v in row.items() if k != "training_seconds"} for row in found}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The four-cell sweep on two processes of this machine: its folder and what it printed."""
    out = tmp_path_factory.mktemp("local") / "d"
    done = digitnet("sweep", *FOUR_CELLS, "--workers", 2, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_a_sweep_writes_a_row_per_cell_a_table_and_a_picture(local_sweep):
    out, printed = local_sweep
    found = rows(out)
    assert len(found) == 4
    assert {(row["layers"], row["seed"]) for row in found} == {(layers, seed) for layers in ("784,8,10", "784,16,16,10")
                                                             for seed in ("0", "1")}
    for row in found:
        assert row["epochs"] == "2" and row["images"] == "2000" and row["validation"] == "500" and not row["note"]
        assert int(row["parameters"]) == Network([int(n) for n in row["layers"].split(",")]).n_parameters
        assert 0.2 < float(row["test_accuracy"]) < 1 and 1 <= int(row["best_epoch"]) <= 2
        assert float(row["training_seconds"]) > 0
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = printed.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("layers") and "parameters" in line)
    for line, layers in zip(lines[header + 1:header + 3], ("784,8,10", "784,16,16,10"), strict=True):
        shares = [float(row["test_accuracy"]) for row in found if row["layers"] == layers]
        accuracies, mean = sorted(100 * a for a in shares), f"{np.mean(shares):.2%}"  # as the table rounds it
        assert line.split()[0] == layers and mean in line and f"({accuracies[0]:.2f}-{accuracies[1]:.2f})" in line


def test_running_a_finished_sweep_again_trains_nothing(local_sweep):
    out, _ = local_sweep
    before = (out / "results.csv").read_bytes()
    done = digitnet("sweep", *FOUR_CELLS, "--workers", 2, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "training" not in done.stdout and "784,16,16,10" in done.stdout
    assert (out / "results.csv").read_bytes() == before


@pytest.mark.parametrize("flags", [["--layers", "784,8,10", "--seed", "1", "--lr", "0.01"],
                                   ["--recipe", "video", "--layers", "784,12,10", "--batch-size", "100"]])
def test_each_cell_is_the_network_digitnet_train_makes(flags, tmp_path, mnist):
    """The same flags to train and to sweep: the same weights, bit for bit, and the same test accuracy."""
    flags = [*flags, "--epochs", "2"]
    assert main(["train", *flags, "--data", str(MNIST), "--out", str(tmp_path / "model.npz")]) == 0
    model = Network.load(tmp_path / "model.npz")
    assert main(["sweep", *flags, "--data", str(MNIST), "--out", str(tmp_path / "d"), "--workers", "1"]) == 0
    [row] = rows(tmp_path / "d")
    assert float(row["test_accuracy"]) == model.header["test_accuracy"]
    assert int(row["parameters"]) == model.n_parameters
    args = build_parser().parse_args(["sweep", *flags])
    [cell] = plan(values(args), MNIST, None)
    trainer = sweep.trainer_for(mnist, cell)
    trainer.run()
    assert trainer.net.sizes == model.sizes and np.array_equal(trainer.net.params, model.params)


def test_a_diverging_cell_is_a_row_with_a_note(tmp_path):
    done = digitnet("sweep", "--lr", "0.001,1e6", "--epochs", 1, "--images", 2000, "--validation", 500,
                    "--workers", 1, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    found = {row["lr"]: row for row in rows(tmp_path)}
    assert found["0.001"]["test_accuracy"] and not found["0.001"]["note"]
    assert not found["1000000.0"]["test_accuracy"] and "diverged" in found["1000000.0"]["note"]
    assert "diverged" in done.stdout


# ---- on a Dask cluster ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Dask cluster started as a user starts one: `dask scheduler` and two `dask worker`, processes
    on 127.0.0.1, told where the scheduler is by its file (it chooses its own port). Its address."""
    folder = tmp_path_factory.mktemp("cluster")
    where = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    started = []

    def start(*args, name):
        log = open(folder / f"{name}.log", "w")
        started.append(subprocess.Popen([*dask, *args, "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT,
                                        env=os.environ.copy()))  # its PYTHONPATH: the workers import this digitnet
        log.close()

    def address():
        try:
            return json.loads(where.read_text())["address"]
        except (OSError, ValueError, KeyError):  # not written yet, or half
            return None

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", where, name="scheduler")
        eventually(address, 60, why=lambda: (folder / "scheduler.log").read_text())
        for k in range(2):
            start("worker", "--scheduler-file", where, "--host", "127.0.0.1", "--nthreads", "1", "--name", f"w{k}",
                  name=f"worker-{k}")
        with Client(address(), timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
        yield address()
    finally:
        # One at a time, the workers first: a worker whose scheduler has already gone spends seconds
        # trying to reach it again before it ends (2 s here, 8 s on a busy machine).
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_same_sweep_on_a_dask_cluster_gives_the_same_rows(cluster, local_sweep, tmp_path):
    done = digitnet("sweep", *FOUR_CELLS, "--cluster", cluster, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"on the Dask cluster at {cluster} (2 workers now)" in done.stdout
    assert "Traceback" not in done.stderr
    local, _ = local_sweep
    assert by_cell(rows(tmp_path)) == by_cell(rows(local))


def test_gridsearchcv_on_the_cluster_through_joblibs_dask_backend(cluster, monkeypatch):
    """The README's example, run as written, but against the test's cluster."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## How big must it be?\n", 1)[1].split("\n## ", 1)[0]
    [code] = [block for block in re.findall(r"^```python\n(.*?)^```$", section, flags=re.S | re.M)
              if "GridSearchCV" in block]
    assert 'Client("tcp://127.0.0.1:8786")' in code
    monkeypatch.setenv("DIGITNET_DATA", str(MNIST))
    namespace = {}
    with Client(cluster) as watcher, get_task_stream(watcher) as stream:
        exec(compile(code.replace("tcp://127.0.0.1:8786", cluster), "README.md", "exec"), namespace)
        namespace["client"].close()
        workers = set(watcher.nthreads())
    search = namespace["search"]
    assert len(search.cv_results_["params"]) * search.n_splits_ == 18 and search.best_score_ > 0.8
    assert {task["worker"] for task in stream.data} == workers  # the fits ran on both workers


def test_an_unreachable_scheduler_is_one_line_within_ten_seconds(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: bound, never listening, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.monotonic()
    done = digitnet("sweep", *FOUR_CELLS, "--cluster", f"tcp://127.0.0.1:{port}", "--out", tmp_path / "d")
    took = time.monotonic() - began
    assert_one_line_error(done, "cannot reach a Dask scheduler", f"127.0.0.1:{port}")
    assert took < 10 + 5, took  # it waits 5 s (sweep.CONNECT_SECONDS); the rest is for a busy machine
    assert not (tmp_path / "d" / "results.csv").exists()


# ---- long sweeps are safe ------------------------------------------------------------------------------


def test_after_kill_9_the_same_command_trains_only_the_missing_cells(tmp_path):
    flags = ["sweep", "--layers", "784,16,10", "--seeds", "0,1,2,3,4,5", "--epochs", 6, "--images", 10000,
             "--validation", 1000, "--workers", 2, "--out", tmp_path]
    sweeping = subprocess.Popen([sys.executable, "-m", "digitnet", *map(str, flags)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, "DIGITNET_DATA": str(MNIST)})
    try:
        eventually(lambda: (tmp_path / "results.csv").exists() or sweeping.poll() is not None, 300, pause=0.01)
        pool = psutil.Process(sweeping.pid).children(recursive=True)
        sweeping.send_signal(signal.SIGKILL)
    finally:
        sweeping.kill()
        sweeping.wait()
    kept = rows(tmp_path)
    assert 1 <= len(kept) < 6, "the sweep finished before it could be killed: give its cells more to do"
    # the pool's processes end once the sweep is gone, rather than wait for cells forever
    eventually(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in pool), 60)

    done = digitnet(*flags)
    assert done.returncode == 0, done.stderr
    assert f"training {6 - len(kept)} networks on 2 processes of this machine ({len(kept)} in results.csv" \
           f" already)" in done.stdout
    after = rows(tmp_path)
    assert sorted(row["seed"] for row in after) == [str(seed) for seed in range(6)]
    assert after[:len(kept)] == kept  # the rows from before, seconds and all: not trained again


def test_ctrl_c_stops_the_sweep_and_its_processes_keeping_the_rows_done(tmp_path):
    flags = ["sweep", "--layers", "784,16,10", "--seeds", "0,1,2,3,4,5", "--epochs", 6, "--images", 10000,
             "--validation", 1000, "--workers", 2, "--out", tmp_path]
    # a session of its own, as a terminal's job, with Ctrl-C's SIGINT as a terminal's command has it
    sweeping = subprocess.Popen([sys.executable, "-m", "digitnet", *map(str, flags)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "DIGITNET_DATA": str(MNIST)},
                                start_new_session=True, preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        eventually(lambda: (tmp_path / "results.csv").exists() or sweeping.poll() is not None, 300, pause=0.01)
        pool = psutil.Process(sweeping.pid).children(recursive=True)
        os.killpg(sweeping.pid, signal.SIGINT)  # what Ctrl-C does: every process of the terminal's job
        _, stderr = sweeping.communicate(timeout=120)
    finally:
        sweeping.kill()
    assert sweeping.returncode == 130
    said = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and not line.startswith("sweep:")]
    assert said == ["digitnet: interrupted"]
    assert 1 <= len(rows(tmp_path)) < 6
    assert pool  # and every one of them gone within seconds (a busy machine may take a moment to end them)
    eventually(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in pool), 10,
               why=lambda: f"still running: {[p for p in pool if p.is_running()]}")


# ---- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags, words", [
    (["--activation", "relu,softsign"], ["--activation", "softsign"]),
    (["--lr", ""], ["--lr", "separated by commas"]),
    (["--lr", "0.1,,0.3"], ["--lr", "0.1,,0.3"]),
    (["--seeds", ","], ["--seeds"]),
    (["--layers"], ["--layers", "one value or more"]),
    (["--layers", "784,x,10"], ["784,x,10"]),
    (["--augment", "rotate=10", "spin=3"], ["spin"]),
    (["--seeds", "0,-1"], ["seed", "-1"]),
    (["--layers", "784,8,10", "100,10"], ["100 inputs"]),
    (["--images", "100", "--validation", "500"], ["validation"]),
    (["--cluster", "tcp://127.0.0.1:8786", "--workers", "2"], ["--workers"]),
])
def test_bad_lists_are_one_line(flags, words, tmp_path):
    done = digitnet("sweep", *flags, "--epochs", 1, "--out", tmp_path / "d")
    assert_one_line_error(done, *words)
    assert not (tmp_path / "d" / "results.csv").exists()


def test_results_of_something_else_are_refused(tmp_path):
    (tmp_path / "results.csv").write_text("name,score\nx,1\n")
    assert_one_line_error(digitnet("sweep", *FOUR_CELLS, "--out", tmp_path), "results.csv", "--out")


# ---- the picture's numbers ------------------------------------------------------------------------------


def test_sweep_lines_are_a_line_per_depth_of_means_over_the_seeds():
    def row(layers, seed, accuracy, lr="0.005", seconds=1.0):
        sizes = [int(n) for n in layers.split(",")]
        return {"layers": layers, "seed": str(seed), "lr": lr, "test_accuracy": "" if accuracy is None else
                str(accuracy), "parameters": str(Network(sizes).n_parameters), "training_seconds": str(seconds)}

    found = [row("784,16,10", 0, 0.94, seconds=2), row("784,8,10", 0, 0.90), row("784,16,10", 1, 0.96, seconds=4),
             row("784,8,10", 1, None), row("784,16,16,10", 0, 0.95), row("784,8,10", 2, 0.92),
             row("784,8,10", 0, 0.5, lr="1.0")]
    lines = figures.sweep_lines(found, ["layers", "lr"])
    assert [(line["depth"], line["setting"]) for line in lines] == [(1, {"lr": "0.005"}), (1, {"lr": "1.0"}),
                                                                    (2, {"lr": "0.005"})]
    one = lines[0]
    assert one["layers"] == ["784,8,10", "784,16,10"]  # fewest parameters first
    assert one["parameters"].tolist() == [6370, 12730]
    np.testing.assert_allclose(one["mean"], [0.91, 0.95])
    np.testing.assert_allclose(one["low"], [0.90, 0.94])
    np.testing.assert_allclose(one["high"], [0.92, 0.96])
    np.testing.assert_allclose(one["seconds"], [1, 3])
    assert [sorted(each.tolist()) for each in one["each"]] == [[0.90, 0.92], [0.94, 0.96]]  # the diverged left out
    assert lines[2]["layers"] == ["784,16,16,10"] and lines[2]["mean"].tolist() == [0.95]
    assert figures.sweep_lines(found)[0]["setting"] == {}  # nothing varied: a line per depth alone
    assert len(figures.sweep_lines(found)) == 2


# ---- Dask is an optional extra ---------------------------------------------------------------------------


def test_without_distributed_a_sweep_trains_here_and_cluster_says_what_to_install(tmp_path):
    code = "import sys; from digitnet.cli import main; sys.exit(main(sys.argv[1:]))"
    one = ["sweep", "--layers", "784,8,10", "--epochs", "1", "--images", "2000", "--validation", "500",
           "--data", str(MNIST), "--workers", "1"]
    here = run_without(["distributed", "dask"], code, *one, "--out", str(tmp_path / "here"))
    assert here.returncode == 0, here.stderr
    assert len(rows(tmp_path / "here")) == 1
    there = run_without(["distributed", "dask"], code, *one[:-2], "--cluster", "tcp://127.0.0.1:8786",
                        "--out", str(tmp_path / "there"))
    assert_one_line_error(there, "distributed is not installed: pip install 'digitnet[cluster]'")


def test_distributed_is_the_cluster_extra_and_the_tests_have_it():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "distributed" not in " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("distributed") for d in extras["cluster"])
    assert any(d.startswith("distributed") for d in extras["test"])
