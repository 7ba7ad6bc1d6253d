"""What a "not a digit" output turns away, on things its training never drew, and what it costs.

    python bench/not_a_digit.py          # seeds 0-2, the default and wide recipes, about half an hour
    python bench/not_a_digit.py --runs default:default default:letters=6000,noise=500 --seeds 0

Trains a recipe (5,000 training images held out for validation, as `digitnet train` does) once
for each run (RECIPE:MIX) and seed. MIX "none" is the plain 10-output network; any other is
`digitnet train --recipe RECIPE --not-a-digit MIX`'s 11 outputs ("default" is recipes.NOT_A_DIGIT;
noise=3000,scribbles=3000 is what --not-a-digit drew before it learnt from letters). For each it
prints the share turned away (called "not a digit") of:

- letters and of symbols and doodles: tests/data/not-digits-* (bench/not_digits.py: other fonts,
  the Hershey fonts' strokes, doodles drawn from formulas; nothing the training draws from);
- uniform noise and scribbles: 1,000 fresh images of each (`digitnet show noise`'s, from a
  random stream the training never draws from);
- the 10,000 MNIST test digits, and the 1,710 digits by other hands (tests/data/other-hands-*,
  bench/other_hands.py);

and the share of the other hands and of the MNIST test digits read right (a digit turned away is
wrong), with the seconds the epochs took and the seconds drawing the negatives took. The table, its
means and the share turned away of each part of the check set are also written to bench/not_a_digit.txt.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402
from hands import other_hands  # noqa: E402
from not_digits import PARTS  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.figures import noise_experiment  # noqa: E402
from digitnet.negatives import describe, mix  # noqa: E402
from digitnet.recipes import NOT_A_DIGIT, RECIPES  # noqa: E402
from digitnet.training import Trainer, network_for  # noqa: E402

LETTERS, SYMBOLS_AND_DOODLES = (0, 1, 2), (3, 4, 5)  # the check set's parts
COLUMNS = ("letters", "symbols+doodles", "uniform", "scribbles", "MNIST digits", "other hands",
           "other hands read", "MNIST test", "train s", "draw s")


def not_digits(folder):
    folder = Path(folder)
    images = data.read_idx(folder / "not-digits-images.idx.gz")
    return images.reshape(len(images), -1), data.read_idx(folder / "not-digits-kinds.idx.gz")


def trained(mnist, recipe, negatives, seed):
    """The recipe trained with ``negatives`` ({kind: count}), and the seconds its epochs and its
    negatives' drawing took."""
    net, options = network_for(dict(RECIPES[recipe], not_a_digit=negatives), seed)
    start = time.perf_counter()
    trainer = Trainer(net, mnist.train_images, mnist.train_labels, validation=5000, seed=seed, **options)
    drawing = time.perf_counter() - start
    history = trainer.run()
    return net, sum(history.column("seconds")), drawing


def measured(net, mnist, hands, checks):
    """The row of figures for one trained network (None where it has no "not a digit" output)."""
    (hand_images, hand_labels), (check_images, check_kinds) = hands, checks

    def away(images):
        return float(np.mean(net.predict(images) == net.digits)) if net.not_a_digit else None

    parts = [away(check_images[check_kinds == k]) for k in range(len(PARTS))]
    uniform, scribbles = (noise_experiment(net, 1000, kind, seed=0)["not_a_digit_share"]
                          for kind in ("uniform", "scribble"))
    row = {"letters": away(check_images[np.isin(check_kinds, LETTERS)]),
           "symbols+doodles": away(check_images[np.isin(check_kinds, SYMBOLS_AND_DOODLES)]),
           "uniform": uniform, "scribbles": scribbles, "MNIST digits": away(mnist.test_images),
           "other hands": away(hand_images), "other hands read": net.score(hand_images, hand_labels),
           "MNIST test": net.score(mnist.test_images, mnist.test_labels)}
    return row, parts


def cell(value, column):
    if value is None:
        return "-"
    return f"{value:.1f}" if column.endswith(" s") else f"{value:.1%}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", metavar="RECIPE:MIX",
                        default=["default:none", "default:noise=3000,scribbles=3000", "default:default", "wide:none",
                                 "wide:default"],
                        help="recipes and negatives to try: MIX is none, default, N, or kinds and counts like "
                             "letters=4000,noise=500")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--check", default=str(ROOT / "tests" / "data"),
                        help="the folder of the not-digits and other-hands files: another draw of them "
                             "(bench/not_digits.py and bench/other_hands.py --seed S --out DIR) is a validation set")
    parser.add_argument("--out", default=str(Path(__file__).with_name("not_a_digit.txt")))
    args = parser.parse_args(argv)
    runs = [(recipe, mix(None if m == "none" else NOT_A_DIGIT if m == "default" else m, NOT_A_DIGIT))
            for recipe, m in (run.split(":", 1) for run in args.runs)]
    seeds = [int(s) for s in args.seeds.split(",")]
    mnist, hands, checks = data.load(data_folder()), other_hands(args.check), not_digits(args.check)
    report = Report(args.out)
    say = report.say
    report.machine(f"not a digit: seeds {args.seeds}; turned away of {len(checks[0]):,} "
                   f"things no digit (tests/data/not-digits), 1,000 fresh noise images of each kind, the "
                   f"MNIST test digits and {len(hands[0]):,} digits by other hands")
    header = f"{'recipe':<8} {'negatives':<62} {'seed':>4} " + " ".join(f"{c:>{max(len(c), 6)}}" for c in COLUMNS)
    say(header)
    means = []
    for recipe, negatives in runs:
        rows, part_rows = [], []
        for seed in seeds:
            net, training, drawing = trained(mnist, recipe, negatives, seed)
            row, parts = measured(net, mnist, hands, checks)
            row.update({"train s": training, "draw s": drawing if negatives else None})
            rows.append(row)
            part_rows.append(parts)
            say(f"{recipe:<8} {describe(negatives):<62} {seed:>4} "
                + " ".join(f"{cell(row[c], c):>{max(len(c), 6)}}" for c in COLUMNS))
        means.append((recipe, negatives, rows, part_rows))
    say()
    say(f"means over seeds {args.seeds}")
    say(header)
    for recipe, negatives, rows, _ in means:
        mean = {c: None if rows[0][c] is None else float(np.mean([r[c] for r in rows])) for c in COLUMNS}
        say(f"{recipe:<8} {describe(negatives):<62} {'mean':>4} "
            + " ".join(f"{cell(mean[c], c):>{max(len(c), 6)}}" for c in COLUMNS))
    say()
    say("turned away, by part of the check set (mean over the seeds)")
    say(f"{'recipe':<8} {'negatives':<62} " + " ".join(f"{p:>26}" for p in PARTS))
    for recipe, negatives, _, part_rows in means:
        if negatives:
            say(f"{recipe:<8} {describe(negatives):<62} "
                + " ".join(f"{np.mean(col):>26.1%}" for col in zip(*part_rows, strict=True)))
    report.write()


if __name__ == "__main__":
    main()
