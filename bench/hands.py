"""Which augmentation helps a network read hands unlike MNIST's, and what it costs.

    python bench/hands.py                            # the default 16-16 recipe, about ten minutes
    python bench/hands.py --recipe wide --seeds 0    # another recipe
    python bench/hands.py --augment "none" "rotate=10,thickness=0.5"
    python bench/hands.py --augment none --set epochs=50 lr=0.003 --hands DIR   # other changes, another draw
    python bench/hands.py --augment none --self-teacher --hands DIR
    python bench/hands.py --augment none --set deskew=no --seeds 0,1,2,3,4,5

``--set`` changes the recipe's options; ``--hands`` reads the other hands from another folder (a
validation draw: bench/other_hands.py --seed S --out DIR); ``--self-teacher`` first trains the
recipe itself, seed for seed, and then a network of it (its weights from seed + 10) that learns
also the first one's softened outputs (distillation from a teacher no wider than the student).
``--set deskew=no`` trains the recipe's network without deskewing (deskew.py), which the default
recipe's network does to every image it sees, the other hands' too.

For each augmentation (always with the recipe's whole-pixel shifts), trains the recipe with
seeds 0, 1 and 2 and prints its accuracy on the 10,000 MNIST test images and on the check
set of other hands (tests/data/other-hands-*, made by bench/other_hands.py: digits drawn as
pen strokes and in handwriting fonts), with the seconds an epoch takes compiled and with
NumPy alone (what a machine's first run trains with). The table is also written to
bench/hands.txt.
"""

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.recipes import RECIPES  # noqa: E402
from digitnet.training import Trainer, network_for  # noqa: E402

CANDIDATES = ("none", "thickness=0.5", "rotate=10", "scale=0.1", "rotate=10,scale=0.1",
              "rotate=10,scale=0.1,thickness=0.5", "elastic=20,sigma=4", "elastic=34,sigma=4",
              "rotate=10,scale=0.1,thickness=0.5,elastic=20")


def other_hands(folder=ROOT / "tests" / "data"):
    """The other hands' digits as rows of pixels, and their labels (from ``folder``)."""
    folder = Path(folder)
    images = data.read_idx(folder / "other-hands-images.idx.gz")
    return images.reshape(len(images), -1), data.read_idx(folder / "other-hands-labels.idx.gz")


def option(default, value):
    """--set's value as the recipe's option of that name takes it: yes or no for deskew."""
    if isinstance(default, bool):
        return value.lower() in ("yes", "true", "1")
    return type(default)(value)


def trained(mnist, recipe, augment, seed, compiled=True, epochs=None, changes=None, teacher=None):
    options = dict(RECIPES[recipe], augment=augment, engine="compiled" if compiled else "numpy", **(changes or {}))
    if epochs is not None:
        options["epochs"] = epochs
    net, options = network_for(options, seed if teacher is None else seed + 10)
    trainer = Trainer(net, mnist.train_images, mnist.train_labels, validation=5000, seed=seed, teacher=teacher,
                      **options)
    trainer.run()
    return net, trainer.history


def epoch_seconds(mnist, recipe, augment, compiled, changes):
    """The median seconds of three epochs."""
    _, history = trained(mnist, recipe, augment, 0, compiled, epochs=3, changes=changes)
    return statistics.median(history.column("seconds"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="default", choices=RECIPES)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--augment", nargs="+", default=CANDIDATES)
    parser.add_argument("--set", nargs="+", default=[], metavar="OPTION=VALUE", help="change the recipe's options")
    parser.add_argument("--self-teacher", action="store_true", help="distillation from the recipe itself")
    parser.add_argument("--hands", default=str(ROOT / "tests" / "data"), help="the folder of the other hands")
    parser.add_argument("--out", default=str(Path(__file__).with_name("hands.txt")))
    args = parser.parse_args(argv)
    changes = {key: option(RECIPES[args.recipe][key], value) for key, value in (s.split("=", 1) for s in args.set)}
    seeds = [int(s) for s in args.seeds.split(",")]  # before the slow part: a slip fails at once
    mnist, (hands, hand_labels) = data.load(data_folder()), other_hands(args.hands)
    report = Report(args.out)
    say = report.say
    shift = RECIPES[args.recipe]["shift"]
    where = Path(args.hands).resolve()
    where = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
    changed = "".join(f" {change}" for change in args.set) + (" taught by itself" if args.self_teacher else "")
    report.machine(f"other hands ({len(hands):,} digits in {where}), recipe {args.recipe} (shift {shift})"
                   f"{changed}, seeds {args.seeds}")
    say(f"{'--augment':<44} {'MNIST test %':<24} {'mean':>6}  {'other hands %':<24} {'mean':>6}  "
        f"{'s/epoch':>7} {'NumPy':>6}")
    for augment in args.augment:
        tests, others = [], []
        for seed in seeds:
            teacher = trained(mnist, args.recipe, augment, seed, changes=changes)[0] if args.self_teacher else None
            net, _ = trained(mnist, args.recipe, augment, seed, changes=changes, teacher=teacher)
            tests.append(100 * net.score(mnist.test_images, mnist.test_labels))
            others.append(100 * net.score(hands, hand_labels))
        fast, slow = (epoch_seconds(mnist, args.recipe, augment, compiled, changes) for compiled in (True, False))
        say(f"{augment:<44} {' '.join(f'{a:.2f}' for a in tests):<24} {np.mean(tests):6.2f}  "
            f"{' '.join(f'{a:.2f}' for a in others):<24} {np.mean(others):6.2f}  {fast:7.3f} {slow:6.2f}")
    report.write()


if __name__ == "__main__":
    main()
