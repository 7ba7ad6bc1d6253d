"""The classic tables, reproduced: each paper's figure next to digitnet's, in one run.

    python bench/papers.py              # all seven rows, some ten minutes on 2 cores
    python bench/papers.py --rows 1,2   # some of them
    python bench/papers.py --seed 1

Each row trains the paper's network (its layer sizes, cost, and as far as the paper says it,
its training) with digitnet, compiled, on the 60,000 MNIST training images less 10,000 held
out to choose the best epoch (as Nielsen's book holds them out), and scores it once on the
10,000 test images. The papers report no training times; digitnet's are the seconds of
training on this machine. Where digitnet falls short of a figure, bench/README.md says why.
The table is printed and written to bench/papers.txt.
"""

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.network import Network  # noqa: E402
from digitnet.training import Trainer  # noqa: E402

NIELSEN = dict(activation="sigmoid", cost="quadratic", optimizer="sgd", lr=3.0, batch_size=10, epochs=30)
MODERN = dict(activation="relu", cost="cross-entropy", optimizer="adam", lr=0.002, batch_size=128,
              schedule="cosine")


class Row(NamedTuple):
    source: str
    network: str
    figure: float  # the paper's test accuracy, %
    layers: tuple
    options: dict
    recipe: str  # how digitnet trains it, in words


ROWS = [
    Row("Nielsen ch. 1", "784-30-10", 95.42, (784, 30, 10), NIELSEN,
        "sigmoid, quadratic cost, SGD η = 3, batches of 10, 30 epochs (as the book)"),
    Row("Nielsen ch. 1", "784-100-10", 96.59, (784, 100, 10), NIELSEN,
        "the same, 100 hidden neurons"),
    Row("Nielsen ch. 3", "784-100-10, cross-entropy + L2", 98.04, (784, 100, 10),
        dict(activation="sigmoid", cost="cross-entropy", optimizer="sgd", lr=0.1, batch_size=10, epochs=60,
             l2=5.0 / 50_000),
        "sigmoid, softmax + cross-entropy, SGD η = 0.1, λ = 5 (per 50,000 images), batches of 10, 60 epochs"),
    Row("LeCun's MNIST table", "2-layer, 300 HU, MSE", 100 - 4.7, (784, 300, 10),
        dict(NIELSEN, lr=1.0),
        "sigmoid, quadratic cost, SGD η = 1, batches of 10, 30 epochs"),
    Row("LeCun's MNIST table", "2-layer, 800 HU, cross-entropy (Simard 2003)", 100 - 1.6, (784, 800, 10),
        dict(MODERN, epochs=30),
        "ReLU, softmax + cross-entropy, Adam η = 0.002 with a cosine schedule, batches of 128, 30 epochs, "
        "no augmentation"),
    Row("LeCun's MNIST table", "2-layer, 800 HU, cross-entropy + elastic distortions (Simard 2003)", 100 - 0.7,
        (784, 800, 10), dict(MODERN, epochs=100, augment="elastic=34,sigma=4"),
        "the same, 100 epochs, each image elastically distorted afresh every epoch (α = 34, σ = 4, Simard's)"),
    Row("LeCun's MNIST table", "3-layer, 500+150 HU", 100 - 2.95, (784, 500, 150, 10),
        dict(NIELSEN, lr=1.0),
        "sigmoid, quadratic cost, SGD η = 1, batches of 10, 30 epochs"),
]


def reproduce(row, mnist, seed):
    """(test accuracy in %, seconds of training) of digitnet's run for ``row``."""
    options = dict(row.options)
    net = Network(row.layers, options.pop("activation"), options.pop("cost"), seed=seed)
    trainer = Trainer(net, mnist.train_images, mnist.train_labels, validation=10_000, seed=seed, **options)
    history = trainer.run()
    return 100 * net.score(mnist.test_images, mnist.test_labels), sum(history.column("seconds"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", help="which rows, counting from 1 (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("papers.txt")))
    args = parser.parse_args(argv)
    chosen = [int(r) for r in args.rows.split(",")] if args.rows else range(1, len(ROWS) + 1)
    mnist = data.load(data_folder())
    report = Report(args.out)
    say = report.say
    report.machine(f"digitnet against the papers, seed {args.seed}")
    say(f"{'#':>2}  {'source':<20} {'network':<68} {'paper':>7} {'digitnet':>9} {'training':>9}")
    for number in chosen:
        row = ROWS[number - 1]
        accuracy, seconds = reproduce(row, mnist, args.seed)
        say(f"{number:>2}  {row.source:<20} {row.network:<68} {row.figure:6.2f}% {accuracy:8.2f}% {seconds:8.1f}s")
        say(f"{'':>24}digitnet: {row.recipe}")
    report.write()


if __name__ == "__main__":
    main()
