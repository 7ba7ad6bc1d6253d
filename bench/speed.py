"""How fast digitnet trains, next to PyTorch doing the same work in the same run.

    python bench/speed.py                 # everything, a few minutes
    python bench/speed.py --epochs 12     # more epochs per timing (default 8)
    python bench/speed.py --no-torch      # digitnet only

What users run, like for like: each row trains one network with digitnet and with
PyTorch 2.13 on the CPU, from the same initial weights, on the real MNIST
($DIGITNET_DATA, else ../shared/data/mnist), for the same epochs, the two taking turns
epoch by epoch so that both meet the same load on a busy machine:

- the default recipe's network and optimiser: 784-16-16-10, ReLU hidden layers, softmax
  outputs with cross-entropy, Adam (η = 0.005, β = 0.9, 0.999, ε = 1e-8), on the images
  deskewed (once, before the first epoch, for both), at batch sizes
  10, 64 and 128, and the same for 784-800-10 at batch 128; no shifts, no validation
  split, a constant η (the recipe's shifts and cosine schedule cost nothing measurable,
  and PyTorch has neither built in);
- the videos' recipe: 784-16-16-10, sigmoid, quadratic cost, plain SGD with η = 3, at
  batch sizes 10, 64 and 128.

PyTorch runs in its fastest way here: its data as one float32 tensor, batches gathered
by index, Adam's default (foreach) implementation, and both one thread and two; the
ratio is to the faster. digitnet runs as `digitnet train` does: on one core, or on two for a
wide first layer (kernels.threads). Each row
gives the median epoch and the slowest, and the slowest over the first (an epoch must
never slow down as training goes on). The last column is digitnet's NumPy reference
(``--engine numpy``), the same mathematics as written to be read.

It also times the default recipe until it first passes 96 % on the test images, one
scoring of the 10,000 test images, and `digitnet train` with its defaults in a fresh
process, twice from an empty cache (bench/first_run.py). PyTorch is only needed here,
never by digitnet: `pip install torch==2.13.0` (the CPU wheel). The table is printed
and written to bench/results.txt.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import first_run  # noqa: E402
from common import Report, data_folder  # noqa: E402

from digitnet import data, kernels  # noqa: E402
from digitnet.functions import one_hot  # noqa: E402
from digitnet.network import Network  # noqa: E402
from digitnet.recipes import RECIPES  # noqa: E402
from digitnet.training import Trainer, network_for  # noqa: E402

SMALL, BIG = (784, 16, 16, 10), (784, 800, 10)
DEFAULT = dict(activation="relu", cost="cross-entropy", optimizer="adam", lr=RECIPES["default"]["lr"],
               deskew=RECIPES["default"]["deskew"])
VIDEO = dict(activation="sigmoid", cost="quadratic", optimizer="sgd", lr=RECIPES["video"]["lr"],
             deskew=RECIPES["video"]["deskew"])
ROWS = [("default", SMALL, 10), ("default", SMALL, 64), ("default", SMALL, 128), ("default", BIG, 128),
        ("video", SMALL, 10), ("video", SMALL, 64), ("video", SMALL, 128)]
TARGETS = {("default", SMALL, 10): 10, ("default", SMALL, 64): 8, ("default", BIG, 128): 1.5}


class DigitnetRun:
    """digitnet as `digitnet train` trains, with the engine given."""

    def __init__(self, mnist, sizes, recipe, batch_size, engine="compiled", seed=0):
        self.mnist = mnist
        self.net = Network(sizes, recipe["activation"], recipe["cost"], seed=seed, deskew=recipe["deskew"])
        self.trainer = Trainer(self.net, mnist.train_images, mnist.train_labels, optimizer=recipe["optimizer"],
                               lr=recipe["lr"], batch_size=batch_size, epochs=10 ** 6, seed=seed, engine=engine)
        self.trainer.prepare()

    def epoch(self):
        return self.trainer.run_epoch()["seconds"]

    def accuracy(self):
        return self.net.score(self.mnist.test_images, self.mnist.test_labels)


class TorchRun:
    """The same training in PyTorch's usual way, from digitnet's initial weights."""

    def __init__(self, torch, mnist, sizes, recipe, batch_size, threads, seed=0):
        mnist = as_the_network_sees(mnist, recipe)
        self.torch, self.mnist, self.batch_size, self.threads = torch, mnist, batch_size, threads
        start = Network(sizes, recipe["activation"], recipe["cost"], seed=seed)
        hidden = torch.nn.ReLU if recipe["activation"] == "relu" else torch.nn.Sigmoid
        layers = []
        for W, b in zip(start.weights, start.biases, strict=True):
            linear = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, hidden()]
        self.quadratic = recipe["cost"] == "quadratic"
        if not self.quadratic:
            layers.pop()  # cross-entropy takes the last layer's z: softmax is inside it
        self.model = torch.nn.Sequential(*layers)
        parameters = self.model.parameters()
        self.optimizer = (torch.optim.Adam(parameters, lr=recipe["lr"]) if recipe["optimizer"] == "adam"
                          else torch.optim.SGD(parameters, lr=recipe["lr"]))
        images = mnist.train_images.reshape(len(mnist.train_images), -1)
        self.X = torch.from_numpy(images.astype(np.float32) / 255)
        self.labels = torch.from_numpy(mnist.train_labels.astype(np.int64))
        self.Y = torch.from_numpy(one_hot(mnist.train_labels, 10))
        self.generator = torch.Generator().manual_seed(seed)

    def cost(self, rows):
        out = self.model(self.X[rows])
        if self.quadratic:
            return 0.5 * ((out - self.Y[rows]) ** 2).sum(dim=1).mean()
        return self.torch.nn.functional.cross_entropy(out, self.labels[rows])

    def epoch(self):
        self.torch.set_num_threads(self.threads)
        begin = time.perf_counter()
        order = self.torch.randperm(len(self.X), generator=self.generator)
        for k in range(0, len(self.X), self.batch_size):
            cost = self.cost(order[k:k + self.batch_size])
            self.optimizer.zero_grad(set_to_none=True)
            cost.backward()
            self.optimizer.step()
        return time.perf_counter() - begin

    def accuracy(self):
        torch, mnist = self.torch, self.mnist
        with torch.no_grad():
            images = mnist.test_images.reshape(len(mnist.test_images), -1)
            predicted = self.model(torch.from_numpy(images.astype(np.float32) / 255)).argmax(dim=1).numpy()
        return float(np.mean(predicted == mnist.test_labels))


SEEN = {}  # deskewed MNIST, made once


def as_the_network_sees(mnist, recipe):
    """MNIST as the recipe's network takes it: deskewed once, as digitnet's Trainer deskews its images before
    the first epoch, if the recipe deskews. PyTorch learns from the same images."""
    if not recipe["deskew"]:
        return mnist
    if "mnist" not in SEEN:
        SEEN["mnist"] = mnist._replace(**{part: kernels.deskew(images, 28).reshape(images.shape)
                                          for part, images in (("train_images", mnist.train_images),
                                                               ("test_images", mnist.test_images))})
    return SEEN["mnist"]


def race(runs, epochs):
    """Each run's epoch seconds, the runs taking turns epoch by epoch so that all meet the
    same load on a shared machine."""
    seconds = [[] for _ in runs]
    for _ in range(epochs):
        for run, times in zip(runs, seconds, strict=True):
            times.append(run.epoch())
    return seconds


def row(mnist, torch, recipe_name, sizes, batch_size, epochs, numpy_epochs):
    """One line of the table: digitnet's median, slowest and slowest / first epoch, PyTorch's
    faster median, their ratio, the test accuracies, and the NumPy reference's median."""
    recipe = DEFAULT if recipe_name == "default" else VIDEO
    ours = DigitnetRun(mnist, sizes, recipe, batch_size)
    theirs = [TorchRun(torch, mnist, sizes, recipe, batch_size, threads) for threads in (1, 2)] if torch else []
    times = race([ours, *theirs], epochs)
    reference = DigitnetRun(mnist, sizes, recipe, batch_size, engine="numpy")
    numpy_median = statistics.median(reference.epoch() for _ in range(numpy_epochs))
    median, slowest = statistics.median(times[0]), max(times[0])
    network = "-".join(map(str, sizes))
    line = (f"{recipe_name:7}  {network:12}  {batch_size:5d}  {median:8.3f}  {slowest:8.3f}  "
            f"{slowest / times[0][0]:6.2f}x")
    if theirs:
        medians = [statistics.median(t) for t in times[1:]]
        best = int(np.argmin(medians))
        target = TARGETS.get((recipe_name, sizes, batch_size))
        line += (f"  {medians[best]:8.3f} ({best + 1} thr)  {medians[best] / median:7.1f}x"
                 f"{'' if target is None else f' (target {target:g}x)':>14}"
                 f"  {ours.accuracy():7.2%}  {theirs[best].accuracy():7.2%}")
    else:
        line += f"  {'-':>16}  {'-':>8}{'':>14}  {ours.accuracy():7.2%}  {'-':>7}"
    return line + f"  {numpy_median:8.3f}"


def time_to_96(mnist, seed=0):
    """The default recipe, scoring the test images after every epoch: the training
    seconds and the wall-clock seconds (with set-up and scoring) until it first passes 96 %."""
    begin = time.perf_counter()
    net, options = network_for(RECIPES["default"], seed=seed)
    trainer = Trainer(net, mnist.train_images, mnist.train_labels, validation=5000, seed=seed,
                      test=(mnist.test_images, mnist.test_labels), **options)
    training = 0.0
    while not trainer.done:
        record = trainer.run_epoch()
        training += record["seconds"]
        if record["test_accuracy"] >= 0.96:
            return record["epoch"], training, time.perf_counter() - begin, record["test_accuracy"]
    return None, training, time.perf_counter() - begin, record["test_accuracy"]


def median_seconds(work, repeats):
    """The median seconds ``work()`` takes, of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8, help="epochs per timing (the median epoch is shown)")
    parser.add_argument("--numpy-epochs", type=int, default=2, help="epochs of the NumPy reference per row")
    parser.add_argument("--no-torch", action="store_true", help="time digitnet only")
    parser.add_argument("--first-run-rounds", type=int, default=3,
                        help="rounds of two `digitnet train` from an empty cache (bench/first_run.py)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.txt")))
    args = parser.parse_args(argv)
    folder = data_folder()
    mnist = data.load(folder)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed (pip install torch==2.13.0): timing digitnet only")
    report = Report(args.out)
    say = report.say
    report.machine("digitnet training benchmark", f", PyTorch {torch.__version__}" if torch else "")
    say(f"seconds per epoch on 60,000 MNIST images, {args.epochs} epochs each, taking turns; default: ReLU, "
        f"softmax + cross-entropy, Adam η = {DEFAULT['lr']:g}; video: sigmoid, quadratic cost, SGD η = {VIDEO['lr']:g}")
    say()
    say(f"{'recipe':7}  {'network':12}  {'batch':>5}  {'median':>8}  {'slowest':>8}  {'/first':>7}  "
        f"{'PyTorch':>16}  {'PyTorch/digitnet':>22}  {'test':>7}  {'PyTorch':>7}  {'NumPy ref':>8}")
    for recipe_name, sizes, batch_size in ROWS:
        say(row(mnist, torch, recipe_name, sizes, batch_size, args.epochs, args.numpy_epochs))
    say()
    epoch, training, wall, accuracy = time_to_96(mnist)
    if epoch:
        say(f"default recipe: first reached 96% test accuracy ({accuracy:.2%}) after epoch {epoch}: "
            f"{training:.2f} s of training, {wall:.2f} s wall clock with set-up and scoring")
    else:
        say(f"default recipe: did not reach 96% ({accuracy:.2%} at the end, {training:.2f} s of training)")
    net = Network(SMALL, "relu", "cross-entropy", seed=0, deskew=DEFAULT["deskew"])
    deskewing = median_seconds(lambda: net.inputs(mnist.test_images), 10) if net.deskew else 0.0
    scoring = median_seconds(lambda: net.predict(mnist.test_images), 30)
    say(f"scoring the 10,000 test images: {scoring * 1000:.1f} ms (median of 30), of which {deskewing * 1000:.1f} ms "
        f"deskewing them (network.py's NumPy)")
    say()
    for line in first_run.measure(folder, args.first_run_rounds):
        say(line)
    report.write()


if __name__ == "__main__":
    main()
