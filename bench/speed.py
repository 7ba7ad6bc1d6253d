"""How fast digitnet trains, next to PyTorch on the same network.

    python bench/speed.py                 # everything, about a minute
    python bench/speed.py --epochs 12     # more epochs per timing (default 8)
    python bench/speed.py --no-torch      # digitnet only

Both train the videos' 784-16-16-10 network (sigmoid, quadratic cost, plain SGD
with η = 3, no augmentation, float32) from the same initial weights on the real
MNIST ($DIGITNET_DATA, else ../shared/data/mnist) for the same number of epochs
at batch sizes 10, 64 and 128, shuffling every epoch. The two take turns epoch
by epoch, so that both meet the same load on a busy machine. Each framework runs in
its fastest way on this machine: digitnet as it is; PyTorch with its data as
one float32 tensor, batches gathered by index, and one thread (torch's default
thread count is slower for these skinny products and, on a busy machine, far
slower; --torch-threads changes it). PyTorch is only needed here, never by
digitnet: `pip install torch==2.13.0` (the CPU wheel).

The last column is digitnet without its compiled loops (kernels.py): the same
mathematics in NumPy alone, as it trains where numba is missing.

A last row trains a big network, 784-800-10 (the same cost, SGD with η = 0.2, batches of
128, no augmentation), where the products are no longer skinny: PyTorch runs it on one thread
and on two (its fastest, on a quiet machine), and the ratio is to the faster of the two.

It also times the default recipe until it first passes 96 % on the test images,
one evaluation of the 10,000 test images, and a whole `digitnet train` run in a
subprocess for its peak resident memory. The table is printed and written to
bench/results.txt.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import first_run  # noqa: E402
from common import Report, data_folder  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.functions import one_hot  # noqa: E402
from digitnet.network import Network  # noqa: E402
from digitnet.recipes import RECIPES  # noqa: E402
from digitnet.training import Trainer  # noqa: E402

SIZES = (784, 16, 16, 10)
BIG = (784, 800, 10)
LR = 3.0
BIG_LR = 0.2  # η = 3 drives 800 sigmoid neurons into saturation: neither network would learn


class DigitnetRun:
    """digitnet as it trains: compiled, or with ``compiled=False`` its NumPy
    mathematics alone (what it does where numba is missing, and on a machine's first run)."""

    def __init__(self, mnist, batch_size, seed=0, compiled=True, sizes=SIZES, lr=LR):
        self.mnist = mnist
        self.net = Network(sizes, "sigmoid", "quadratic", seed=seed)
        os.environ["DIGITNET_COMPILED"] = "wait" if compiled else "0"  # compiled: compiling first if need be
        self.trainer = Trainer(self.net, mnist.train_images, mnist.train_labels, optimizer="sgd", lr=lr,
                               batch_size=batch_size, epochs=10 ** 6, seed=seed)
        self.trainer.prepare()
        del os.environ["DIGITNET_COMPILED"]

    def epoch(self):
        return self.trainer.run_epoch()["seconds"]

    def accuracy(self):
        return self.net.score(self.mnist.test_images, self.mnist.test_labels)


class TorchRun:
    """The same training in PyTorch's usual way, started from digitnet's initial weights."""

    def __init__(self, torch, mnist, batch_size, seed=0, sizes=SIZES, threads=1, lr=LR):
        self.torch, self.mnist, self.batch_size, self.threads = torch, mnist, batch_size, threads
        start = Network(sizes, "sigmoid", "quadratic", seed=seed)
        layers = []
        for W, b in zip(start.weights, start.biases, strict=True):
            linear = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        images = mnist.train_images.reshape(len(mnist.train_images), -1)
        self.X = torch.from_numpy(images.astype(np.float32) / 255)
        self.Y = torch.from_numpy(one_hot(mnist.train_labels, 10))
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self):
        self.torch.set_num_threads(self.threads)
        begin = time.perf_counter()
        X, Y, size = self.X, self.Y, self.batch_size
        order = self.torch.randperm(len(X), generator=self.generator)
        for k in range(0, len(X), size):
            rows = order[k:k + size]
            a = self.model(X[rows])
            cost = 0.5 * ((a - Y[rows]) ** 2).sum(dim=1).mean()
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


def race(runs, epochs):
    """Each run's epoch seconds, the runs taking turns epoch by epoch so that both
    meet the same load on a shared machine."""
    seconds = [[] for _ in runs]
    for _ in range(epochs):
        for run, times in zip(runs, seconds, strict=True):
            times.append(run.epoch())
    return seconds


def big_network(mnist, torch, epochs, say):
    """The 784-800-10 row: digitnet against PyTorch on one thread and on two, taking turns."""
    runs = [DigitnetRun(mnist, 128, compiled=compiled, sizes=BIG, lr=BIG_LR) for compiled in (True, False)]
    if torch is not None:
        runs += [TorchRun(torch, mnist, 128, sizes=BIG, threads=threads, lr=BIG_LR) for threads in (1, 2)]
    seconds = [statistics.median(times) for times in race(runs, epochs)]
    say(f"784-800-10 (636,010 parameters), the same cost, SGD with η = {BIG_LR:g}, batch 128, {epochs} epochs each:")
    say(f"  digitnet {seconds[0]:.3f} s/epoch ({runs[0].accuracy():.2%} test), NumPy only {seconds[1]:.3f} s/epoch")
    if torch is not None:
        fastest = min(seconds[2:])
        say(f"  PyTorch {seconds[2]:.3f} s/epoch on 1 thread, {seconds[3]:.3f} s/epoch on 2 "
            f"({runs[2].accuracy():.2%} test); PyTorch's faster / digitnet: {fastest / seconds[0]:.1f}x")


def time_to_96(mnist, seed=0):
    """The default recipe, scoring the test images after every epoch: the training
    seconds and the wall-clock seconds (with set-up and scoring) until it first passes 96 %."""
    os.environ["DIGITNET_COMPILED"] = "wait"
    options = dict(RECIPES["default"])
    begin = time.perf_counter()
    net = Network(options.pop("layers"), options.pop("activation"), options.pop("cost"), seed=seed)
    trainer = Trainer(net, mnist.train_images, mnist.train_labels, validation=5000, seed=seed,
                      test=(mnist.test_images, mnist.test_labels), **options)
    training = 0.0
    while not trainer.done:
        record = trainer.run_epoch()
        training += record["seconds"]
        if record["test_accuracy"] >= 0.96:
            return record["epoch"], training, time.perf_counter() - begin, record["test_accuracy"]
    return None, training, time.perf_counter() - begin, record["test_accuracy"]


def time_evaluation(net, mnist, repeats=30):
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        net.predict(mnist.test_images)
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def default_train_process(folder):
    """`digitnet train` with its defaults in a subprocess (first_run.timed: a small process
    starts it and reads its peak memory, which a child of this process, with PyTorch loaded,
    would be charged for too): its wall time, summary line and peak resident memory in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "digitnet", "train", "--data", folder, "--out", Path(tmp) / "model.npz"]
        wall, peak, output = first_run.timed(command, os.environ)
    summary = next(line for line in output.splitlines() if line.startswith("test accuracy"))
    return wall, summary, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8, help="epochs per timing (the median epoch is shown)")
    parser.add_argument("--batch-sizes", default="10,64,128")
    parser.add_argument("--no-torch", action="store_true", help="time digitnet only")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--no-big", action="store_true", help="leave out the 784-800-10 row")
    parser.add_argument("--first-run-rounds", type=int, default=3,
                        help="rounds of first and warm `digitnet train` from an empty cache (bench/first_run.py)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.txt")))
    args = parser.parse_args(argv)
    folder = data_folder()
    mnist = data.load(folder)
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.torch_threads)
        except ImportError:
            print("PyTorch is not installed (pip install torch==2.13.0): timing digitnet only")
    report = Report(args.out)
    say = report.say
    report.machine("digitnet training benchmark",
                   f", PyTorch {torch.__version__} ({torch.get_num_threads()} thread)" if torch else "")
    say(f"784-16-16-10, sigmoid, quadratic cost, plain SGD (η = {LR:g}), float32, 60,000 MNIST images, "
        f"{args.epochs} epochs each")
    say()
    say(f"{'batch':>5}  {'digitnet s/epoch':>16}  {'PyTorch s/epoch':>15}  {'PyTorch/digitnet':>16}  "
        f"{'digitnet test':>13}  {'PyTorch test':>12}  {'digitnet, NumPy only':>20}")
    for size in (int(s) for s in args.batch_sizes.split(",")):
        runs = [DigitnetRun(mnist, size), DigitnetRun(mnist, size, compiled=False)]
        runs += [TorchRun(torch, mnist, size, threads=args.torch_threads)] if torch is not None else []
        seconds = [statistics.median(times) for times in race(runs, args.epochs)]
        accuracy = [run.accuracy() for run in runs]
        if torch is not None:
            theirs = f"{seconds[2]:15.3f}  {seconds[2] / seconds[0]:15.1f}x  {accuracy[0]:13.2%}  {accuracy[2]:12.2%}"
        else:
            theirs = f"{'-':>15}  {'-':>16}  {accuracy[0]:13.2%}  {'-':>12}"
        say(f"{size:5d}  {seconds[0]:16.3f}  {theirs}  {seconds[1]:14.3f} s/epoch")
    say()
    if not args.no_big:
        big_network(mnist, torch, args.epochs, say)
        say()
    epoch, training, wall, accuracy = time_to_96(mnist)
    if epoch:
        say(f"default recipe: first reached 96% test accuracy ({accuracy:.2%}) after epoch {epoch}: "
            f"{training:.2f} s of training, {wall:.2f} s wall clock with set-up and scoring")
    else:
        say(f"default recipe: did not reach 96% ({accuracy:.2%} at the end, {training:.2f} s of training)")
    net = Network(SIZES, "relu", "cross-entropy", seed=0)
    say(f"evaluating the 10,000 test images: {time_evaluation(net, mnist) * 1000:.1f} ms (median of 30)")
    wall, summary, peak = default_train_process(folder)
    say(f"`digitnet train` (defaults) in a subprocess: {wall:.1f} s wall, peak resident memory {peak:.0f} MB")
    say(f"  {summary}")
    say()
    for line in first_run.measure(folder, args.first_run_rounds):  # a machine's first run, from an empty cache
        say(line)
    report.write()


if __name__ == "__main__":
    main()
