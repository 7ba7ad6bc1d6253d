"""The pictures in docs/ that the README shows, drawn by the current code: one command for all.

    python bench/figures.py                      # all of them, into docs/ (a few minutes)
    python bench/figures.py noise.png weights.png --model model.npz --out /tmp/figures

It trains the models the README speaks of, as it says (`digitnet train` with its defaults, and
--recipe wide --not-a-digit), unless given them, then runs for each picture the very command the README
shows above it, writing into --out (docs/ by default), and prints what each command printed:
the numbers the README quotes beside the pictures. FIGURES lists what it makes; every other
picture the README shows is in NOT_MADE, with where it comes from (tests/test_readme.py checks
both lists against the README).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # also when a test loads this file

from common import ROOT, data_folder  # noqa: E402

DOCS = ROOT / "docs"
MODEL, NOT_A_DIGIT = "model.npz", "not-a-digit.npz"  # as the README names them
TRAIN = {MODEL: ["train"], NOT_A_DIGIT: ["train", "--recipe", "wide", "--not-a-digit"]}  # as the README trains them

# docs/NAME: the digitnet command that draws it, as the README shows it (--out docs/NAME added).
FIGURES = {
    "activations.png": ["show", "activations", MODEL, "--image", "0"],
    "weights.png": ["show", "weights", MODEL],
    "noise.png": ["show", "noise", MODEL],
    "noise-not-a-digit.png": ["show", "noise", NOT_A_DIGIT],
    "memorize.png": ["show", "memorize", MODEL],
    "landscape.png": ["show", "landscape", MODEL],
    "sigmoid-vs-relu.png": ["show", "sigmoid-vs-relu", MODEL],
    # the enlarged copy of what the network saw, which predict --show writes as NAME-x10.png
    "handwritten-3-seen.png": ["predict", MODEL, "docs/handwritten-3.jpg", "--show", "seen"],
}
NOT_MADE = {
    "handwritten-3.jpg": "a photograph of a ball-point 3: what handwritten-3-seen.png is made from",
    "sweep.png": "drawn by `python bench/sweep.py`: a real sweep of 39 networks, minutes of training "
                 "(its numbers are in bench/sweep.txt)",
    "web.png": "a screenshot of the page `digitnet serve` serves, taken by hand in Chromium",
    "web-teach.png": "a screenshot of the page's Teach it panel, taken by hand in Chromium",
    "site-phone.png": "a screenshot of the static site (`digitnet site`) on a 390×844 phone screen, with a 7 "
                      "drawn with a finger, taken by `python bench/site.py --screenshot docs/site-phone.png`",
    "web-landscape.png": "a screenshot of the page's landscape panel, taken by hand in Chromium "
                         "(tests/test_web_browser.py takes one like it, into test-output/)",
}


def command(name):
    """The arguments of the command that draws docs/``name``, as the README shows it."""
    args = FIGURES[name]
    return args if args[0] == "predict" else [*args, "--out", f"docs/{name}"]


def digitnet(args, cwd):
    """Run `digitnet ARGS` in ``cwd``; what it printed."""
    env = {**os.environ, "DIGITNET_DATA": str(data_folder())}
    done = subprocess.run([sys.executable, "-m", "digitnet", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"digitnet {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def make(names, out, models, work):
    """Draw docs/NAME for each of ``names`` into ``out``, with the model files ``models`` (README
    name: path), running each command in ``work``, where docs/ holds the pictures' inputs."""
    (work / "docs").mkdir(exist_ok=True)
    shutil.copy(DOCS / "handwritten-3.jpg", work / "docs")
    for name, path in models.items():
        shutil.copy(path, work / name)
    for name in names:
        printed = digitnet(command(name), work)
        made = work / "seen" / "handwritten-3-x10.png" if FIGURES[name][0] == "predict" else work / "docs" / name
        shutil.copy(made, Path(out) / name)
        print(f"docs/{name}: digitnet {' '.join(command(name))}\n" + "".join(f"    {line}\n" for line in
                                                                         printed.splitlines()), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"the pictures to draw (default: all): {', '.join(FIGURES)}")
    parser.add_argument("--model", help="the model `digitnet train` makes with its defaults (else trained here)")
    parser.add_argument("--not-a-digit", help="the model `digitnet train --not-a-digit` makes (else trained here)")
    parser.add_argument("--out", default=DOCS, help="the folder to write the pictures into")
    args = parser.parse_args(argv)
    if set(args.names) - set(FIGURES):
        parser.error(f"not made here: {', '.join(sorted(set(args.names) - set(FIGURES)))}")
    names = args.names or list(FIGURES)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        models = {MODEL: args.model, NOT_A_DIGIT: args.not_a_digit}
        for name, given in models.items():
            if not given and any(name in FIGURES[n] for n in names):
                print(f"training {name}: digitnet {' '.join(TRAIN[name])}", flush=True)
                digitnet([*TRAIN[name], "--out", str(work / f"trained-{name}")], work)
                models[name] = work / f"trained-{name}"
        make(names, args.out, {name: path for name, path in models.items() if path}, work)


if __name__ == "__main__":
    main()
