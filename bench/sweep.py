"""How big must it be? The README's sweep, its time on this machine, and on a cluster of N workers.

    python bench/sweep.py                       # 39 networks: several minutes on 2 busy cores
    python bench/sweep.py --out /tmp/sizes --workers 2

Runs `digitnet sweep` for 1 and 2 hidden layers of 4 to 128 neurons and 3 hidden layers of 16, seeds 0, 1
and 2, each with the default recipe on all of MNIST, into --out (results.csv and sweep.png; run again, it
trains only what is missing, so time a fresh folder), timing the whole, and copies the picture to
docs/sweep.png. Then works out from the measured seconds of training of each network how long the same
sweep takes on a cluster of N one-thread workers: the networks handed out biggest first, each to the first
worker free (as `digitnet sweep` does), plus the time this run spent on anything but training (starting,
loading the data, scoring, the picture), taken as it is. The report is also written to bench/sweep.txt.
"""

import argparse
import csv
import heapq
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402

WIDTHS = (4, 8, 16, 32, 64, 128)
LAYERS = [f"784,{n},10" for n in WIDTHS] + [f"784,{n},{n},10" for n in WIDTHS] + ["784,16,16,16,10"]
SEEDS = "0,1,2"
CLUSTERS = (1, 2, 4, 8, 16, 39)


def makespan(seconds, workers):
    """How long ``workers`` take for jobs of ``seconds``, handed out longest first, each to the first free."""
    free = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="sizes", help="the sweep's folder (default sizes)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes (default one per core)")
    parser.add_argument("--report", default=str(Path(__file__).with_name("sweep.txt")))
    args = parser.parse_args(argv)
    if (Path(args.out) / "results.csv").exists():
        sys.exit(f"{args.out} has results already, and a sweep trains only what is missing: time a fresh --out")
    command = [sys.executable, "-m", "digitnet", "sweep", "--layers", *LAYERS, "--seeds", SEEDS,
               "--data", str(data_folder()), "--out", args.out, "--workers", str(args.workers)]
    report = Report(args.report)
    report.machine("digitnet sweep: 1 and 2 hidden layers of 4 to 128 and 3 of 16, seeds 0-2, default recipe")
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if done.returncode:
        sys.exit(done.stderr)
    for line in done.stdout.splitlines():
        report.say(line)
    shutil.copyfile(Path(args.out) / "sweep.png", ROOT / "docs" / "sweep.png")
    with open(Path(args.out) / "results.csv", newline="") as f:
        seconds = [float(row["training_seconds"]) for row in csv.DictReader(f)]
    other = wall - makespan(seconds, args.workers)
    report.say()
    report.say(f"{len(seconds)} networks in {wall:.0f} s on {args.workers} processes: {sum(seconds):.0f} s of training "
               f"in all, the longest {max(seconds):.1f} s; {other:.0f} s on anything else")
    report.say("on a cluster of N one-thread workers, from those seconds of training (plus the same "
               f"{other:.0f} s on anything else):")
    for workers in CLUSTERS:
        report.say(f"{workers:4d} workers: {makespan(seconds, workers) + other:5.0f} s")
    report.write()


if __name__ == "__main__":
    main()
