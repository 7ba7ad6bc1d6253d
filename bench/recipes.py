"""What each recipe reaches: the README's first table, from `digitnet train` as a user runs it.

    python bench/recipes.py               # the three recipes, seeds 0, 1 and 2: a few minutes
    python bench/recipes.py --recipes default --seeds 0

For each recipe and seed, runs `digitnet train --recipe R --seed S` in a fresh process and
reads its test accuracy, scores the saved model on the other hands (tests/data, made by
bench/other_hands.py), and keeps the seconds of training it reports. Written to
bench/recipes.txt.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402
from hands import other_hands  # noqa: E402

from digitnet import Network  # noqa: E402


def train(recipe, seed, folder):
    """The saved model's header (test accuracy, seconds) and the network, from `digitnet train`."""
    out = Path(folder) / f"{recipe}-{seed}.npz"
    subprocess.run([sys.executable, "-m", "digitnet", "train", "--recipe", recipe, "--seed", str(seed),
                    "--data", str(data_folder()), "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
    with np.load(out) as archive:
        header = json.loads(bytes(archive["header"]).decode())
    return header, Network.load(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default="default,video,wide")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(Path(__file__).with_name("recipes.txt")))
    args = parser.parse_args(argv)
    hands, labels = other_hands()
    report = Report(args.out)
    say = report.say
    report.machine("what each recipe reaches (`digitnet train`)")
    say(f"{'recipe':8} {'test accuracy, by seed':28} {'other hands (mean)':>18} {'training s (first seed)':>24}")
    with tempfile.TemporaryDirectory() as folder:
        for recipe in args.recipes.split(","):
            runs = [train(recipe, int(seed), folder) for seed in args.seeds.split(",")]
            tests = ", ".join(f"{100 * header['test_accuracy']:.2f}" for header, _ in runs)
            others = np.mean([net.score(hands, labels) for _, net in runs])
            say(f"{recipe:8} {tests + ' %':28} {100 * others:17.1f}% {runs[0][0]['training_seconds']:23.1f}")
    report.write()


if __name__ == "__main__":
    main()
