"""What a "not a digit" output buys, and what it costs.

    python bench/not_a_digit.py                      # the default recipe with and without, about a minute
    python bench/not_a_digit.py --images 0 1000 3000 6000 12000   # how many images of noise to add

Trains the default recipe (seed 0, 5,000 training images held out for validation, as
`digitnet train` does) once for each number of noise images: 0 is the plain 10-output
network, any other number `digitnet train --not-a-digit N`'s 11 outputs, learnt from the
60,000 training images and N images of noise. For each it prints the accuracy on the
10,000 MNIST test images (a digit called "not a digit" is wrong), the share of the test
digits called "not a digit", and, of 1,000 fresh images of uniform noise and 1,000 fresh
scribbles (`digitnet show noise`'s, from a random stream the training noise never draws
from), the share called "not a digit" and the share called some digit with more than 90 %
confidence. The table is also written to bench/not_a_digit.txt.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Report, data_folder  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.figures import noise_experiment  # noqa: E402
from digitnet.recipes import NOT_A_DIGIT_IMAGES, RECIPES  # noqa: E402
from digitnet.training import Trainer, network_for  # noqa: E402


def trained(mnist, images, seed):
    net, options = network_for(dict(RECIPES["default"], not_a_digit=images), seed)
    Trainer(net, mnist.train_images, mnist.train_labels, validation=5000, seed=seed, **options).run()
    return net


def share(value):
    return "-" if value is None else f"{value:.1%}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[0, NOT_A_DIGIT_IMAGES],
                        help="numbers of noise images to try (0: no 'not a digit' output)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("not_a_digit.txt")))
    args = parser.parse_args(argv)
    mnist = data.load(data_folder())
    report = Report(args.out)
    say = report.say
    report.machine(f"not a digit: the default recipe, seed {args.seed}, 1,000 fresh noise images of each kind")
    say(f"{'noise images':>12} {'outputs':>7} {'MNIST test':>10} {'digits rejected':>15}  "
        f"{'uniform: rejected':>17} {'digit > 90 %':>12}  {'scribbles: rejected':>19} {'digit > 90 %':>12}")
    for images in args.images:
        net = trained(mnist, images, args.seed)
        accuracy = net.score(mnist.test_images, mnist.test_labels)
        rejected = float(np.mean(net.predict(mnist.test_images) == net.digits)) if net.not_a_digit else None
        noise = [noise_experiment(net, 1000, kind, seed=0) for kind in ("uniform", "scribble")]
        say(f"{images:>12,} {net.sizes[-1]:>7} {accuracy:>10.2%} {share(rejected):>15}  "
            f"{share(noise[0]['not_a_digit_share']):>17} {noise[0]['confident_share']:>12.1%}  "
            f"{share(noise[1]['not_a_digit_share']):>19} {noise[1]['confident_share']:>12.1%}")
    report.write()


if __name__ == "__main__":
    main()
