"""The first `digitnet train` on a machine against a warm one, from an empty cache.

    python bench/first_run.py             # three rounds, about a minute
    python bench/first_run.py --rounds 5

Each round gives `digitnet train` (its defaults) an empty cache folder (DIGITNET_CACHE)
and times it: that first run trains with NumPy and then has the compiled loops made,
in a process of their own, for later runs. The round waits for them, then times a
second, warm run, which trains compiled. It also times making the compiled loops in
the foreground, as that background process does, with its peak memory. Wall times and
peak resident memory come from a small starter process that reads its finished
child's resource usage. The two kinds of run take turns, so that both meet the same
load on a shared machine; medians are printed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def wait_until_compiled(cache, timeout=300):
    """The background compile is done when it marks the loops ready."""
    deadline = time.monotonic() + timeout
    while not list(Path(cache).glob("numba/*/ready-*")):
        if time.monotonic() > deadline:
            raise SystemExit("the compiled loops were not ready after five minutes")
        time.sleep(0.2)
    while list(Path(cache).glob("numba/*/compiling-*")):  # and has let go of its lock
        time.sleep(0.1)


def one_round(folder, tmp):
    train = [sys.executable, "-m", "digitnet", "train", "--data", folder, "--out", Path(tmp) / "model.npz"]
    cache = Path(tmp) / "cache"
    env = {**os.environ, "DIGITNET_CACHE": str(cache)}
    env.pop("DIGITNET_COMPILED", None)
    first = timed(train, env)
    wait_until_compiled(cache)
    warm = timed(train, env)
    compile_env = {**env, "DIGITNET_CACHE": str(Path(tmp) / "compile-cache")}
    making = timed([sys.executable, "-c", "from digitnet import kernels; "
                    "kernels.compile_now('relu', 'cross-entropy', 'adam')"], compile_env)
    return first, warm, making


def measure(folder, rounds=3):
    """Lines of text: the medians over ``rounds`` of first and warm runs and of compiling."""
    firsts, warms, makings = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            first, warm, making = one_round(folder, tmp)
        firsts.append(first)
        warms.append(warm)
        makings.append(making)
    first_wall, warm_wall = statistics.median(f[0] for f in firsts), statistics.median(w[0] for w in warms)
    accuracy = [line for line in firsts[0][2].splitlines() if line.startswith("test accuracy")][0]
    warm_accuracy = [line for line in warms[0][2].splitlines() if line.startswith("test accuracy")][0]
    return [
        f"first `digitnet train` from an empty cache (NumPy, then compiling for later runs): {first_wall:.2f} s "
        f"wall, peak resident memory {max(f[1] for f in firsts):.0f} MB",
        f"  {accuracy}",
        f"warm `digitnet train` (compiled, from the cache): {warm_wall:.2f} s wall, peak resident memory "
        f"{max(w[1] for w in warms):.0f} MB",
        f"  {warm_accuracy}",
        f"first / warm: {first_wall / warm_wall:.2f}x (medians of {rounds} rounds, taking turns)",
        f"compiling the loops for the default recipe, in their own process: "
        f"{statistics.median(m[0] for m in makings):.1f} s, peak resident memory {max(m[1] for m in makings):.0f} MB",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    for line in measure(data_folder(), args.rounds):
        print(line, flush=True)


if __name__ == "__main__":
    main()
