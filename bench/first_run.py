"""The first `digitnet train` on a machine against the next one, from an empty cache.

    python bench/first_run.py             # three rounds, about a minute
    python bench/first_run.py --rounds 5

Each round gives `digitnet train` (its defaults) an empty cache folder (DIGITNET_CACHE)
and times it, checks that no digitnet process is left 2 s after it returned, waits, and
times a second run with the same cache. The two must save the same network to the bit.
Wall times and peak resident memory come from a small starter process that reads its
finished child's resource usage; medians are printed.
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
from common import ROOT, data_folder

STARTER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "print(done.returncode, time.perf_counter() - t, "
           "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
           "print(done.stdout); print(done.stderr, file=sys.stderr)")


def timed(command, env):
    """(wall seconds, peak resident MB, output) of ``command`` run to its end."""
    done = subprocess.run([sys.executable, "-c", STARTER, *map(str, command)], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    status, wall, peak = done.stdout.split("\n", 1)[0].split()
    if status != "0":
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    return float(wall), float(peak), done.stdout


def left_running(folder):
    """Processes whose command line names ``folder``: what a run left behind."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in line:
            found.append(line)
    return found


def same_bits(a, b):
    """Whether two model files hold the same weights and biases, to the bit."""
    with np.load(a) as first, np.load(b) as second:
        weights = [k for k in first.files if k != "header"]  # the header records each epoch's seconds too
        return first.files == second.files and all(np.array_equal(first[k], second[k]) for k in weights)


def one_round(folder, tmp, pause):
    tmp = Path(tmp)
    env = {**os.environ, "DIGITNET_CACHE": str(tmp / "cache")}

    def train(out):
        return timed([sys.executable, "-m", "digitnet", "train", "--data", folder, "--out", tmp / out], env)

    first = train("first.npz")
    time.sleep(2)
    leftovers = left_running(tmp)
    time.sleep(pause)
    second = train("second.npz")
    return first, second, leftovers, same_bits(tmp / "first.npz", tmp / "second.npz")


def measure(folder, rounds=3, pause=5):
    """Lines of text: the medians over ``rounds`` of first and second runs, and what they left."""
    firsts, seconds, leftovers, same = [], [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            first, second, left, identical = one_round(folder, tmp, pause)
        firsts.append(first)
        seconds.append(second)
        leftovers += left
        same.append(identical)
    first_wall, second_wall = statistics.median(f[0] for f in firsts), statistics.median(s[0] for s in seconds)
    accuracy = [line for line in firsts[0][2].splitlines() if line.startswith("test accuracy")][0]
    return [
        f"first `digitnet train` from an empty cache: {first_wall:.2f} s wall, peak resident memory "
        f"{max(f[1] for f in firsts):.0f} MB",
        f"  {accuracy}",
        f"the same command {pause} s later: {second_wall:.2f} s wall, peak resident memory "
        f"{max(s[1] for s in seconds):.0f} MB",
        f"first / later: {first_wall / second_wall:.2f}x (medians of {rounds} rounds); the same network to the "
        f"bit: {'yes' if all(same) else 'NO'} ({sum(same)} of {rounds}); digitnet processes left 2 s after "
        f"the first returned: {len(leftovers)}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=5, help="seconds between the first run and the second")
    args = parser.parse_args(argv)
    for line in measure(data_folder(), args.rounds, args.pause):
        print(line, flush=True)


if __name__ == "__main__":
    main()
