"""How long the experiments of chapter 2 take with their defaults: the target is 5 s each
for `digitnet show memorize` and `digitnet show landscape`, start to end, as a user runs them.

    python bench/experiments.py              # three rounds, about a minute
    python bench/experiments.py --rounds 5 --model model.npz

It trains the default model first (`digitnet train`, its defaults) unless given one, then
times, taking turns so that both meet the same load on a shared machine: each command in
a process of its own (wall time: start-up, reading MNIST, the experiment, drawing and
writing the PNG), and each experiment alone in this process (`experiments.memorize` and
`experiments.landscape`, on the images the command uses). Medians and the slowest round
are printed and written to bench/experiments.txt; the exit status is 1 if a command's
median is over the target. `bench/speed.py` times training itself.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, Report, data_folder, model_file

from digitnet import data, experiments
from digitnet.api import Network

TARGET = 5.0  # seconds, for each command with its defaults


def command(kind, model, folder, out):
    """Wall seconds of `digitnet show KIND MODEL` with its defaults."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "digitnet", "show", kind, str(model), "--data", str(folder),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"digitnet show {kind} failed:\n{done.stderr}")
    return seconds, done.stdout


def alone(kind, net, mnist):
    """Seconds of the experiment itself, with the command's defaults."""
    start = time.perf_counter()
    if kind == "memorize":
        experiments.memorize(net, mnist.train_images, mnist.train_labels, (mnist.test_images, mnist.test_labels))
    else:
        X, y = experiments.sample(mnist.train_images, mnist.train_labels, 1000, np.random.default_rng(0))
        experiments.landscape(net, X, y)
    return time.perf_counter() - start


def measure(model, folder, rounds, tmp):
    mnist = data.load(folder)
    net = Network.load(model)
    kinds = ("memorize", "landscape")
    alone("memorize", net, mnist)  # load the compiled training loop once, outside the timings
    times = {(kind, way): [] for kind in kinds for way in ("command", "alone")}
    outputs = {}
    for _ in range(rounds):
        for kind in kinds:
            seconds, outputs[kind] = command(kind, model, folder, Path(tmp) / f"{kind}.png")
            times[kind, "command"].append(seconds)
            times[kind, "alone"].append(alone(kind, net, mnist))
    lines = []
    for kind in kinds:
        wall, own = times[kind, "command"], times[kind, "alone"]
        verdict = "within" if statistics.median(wall) <= TARGET else "OVER"
        lines += [f"digitnet show {kind} (defaults): {statistics.median(wall):.2f} s wall, slowest {max(wall):.2f} s "
                  f"({verdict} the {TARGET:g} s target); the experiment alone {statistics.median(own):.2f} s",
                  *(f"  {line}" for line in outputs[kind].splitlines() if not line.startswith("wrote"))]
    return lines, all(statistics.median(times[kind, "command"]) <= TARGET for kind in kinds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", help="a model file (default: train one with `digitnet train`)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("experiments.txt")))
    args = parser.parse_args(argv)
    folder = data_folder()
    report = Report(args.out)
    report.machine(f"digitnet experiments benchmark, medians of {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        lines, within = measure(model_file(args.model, tmp), folder, args.rounds, tmp)
    for line in lines:
        report.say(line)
    report.say(f"load average {os.getloadavg()[0]:.1f} at the end")
    report.write()
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
