"""digitnet's NetworkClassifier beside scikit-learn's MLPClassifier on MNIST.

    python bench/mlp.py               # 25 epochs, the default recipe's; a minute or two
    python bench/mlp.py --epochs 10

Both fit the same 784-16-16-10 network (ReLU hidden layers, softmax outputs with the
cross-entropy cost, Adam with η = 0.005, batches of 128, no L2 penalty) for the same number
of epochs on the 60,000 MNIST training images ($DIGITNET_DATA, else ../shared/data/mnist),
one after the other in this process, each once, and are scored on the 10,000 test images.
MLPClassifier gets the pixels as float32 in [0, 1] and is kept from stopping before its
last epoch; NetworkClassifier gets them as the uint8 they are. A third row is
NetworkClassifier() with the default recipe as it is (a cosine schedule for η, images
moved by up to a pixel, and every image deskewed): what ``digitnet train`` does.

Each runs in its own usual way: scikit-learn's NumPy with as many BLAS threads as it
likes, digitnet with its compiled epoch (kernels.c, built when digitnet is installed).
The table is printed and written to bench/results-mlp.txt.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sklearn  # noqa: E402
from common import Report, data_folder  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from digitnet import data  # noqa: E402
from digitnet.sklearn import NetworkClassifier  # noqa: E402

LR, BATCH = 0.005, 128


def contenders(epochs):
    """(name, classifier, inputs as uint8 pixels?) for each row."""
    same = dict(hidden_layer_sizes=(16, 16), activation="relu", learning_rate_init=LR, batch_size=BATCH,
                max_iter=epochs, alpha=0.0, random_state=0)
    return [
        ("MLPClassifier (adam)", MLPClassifier(solver="adam", tol=0.0, n_iter_no_change=epochs + 1, **same), False),
        ("NetworkClassifier, the same settings", NetworkClassifier(optimizer="adam", schedule="constant", shift=0,
                                                                   deskew=False, **same), True),
        ("NetworkClassifier(), the default recipe", NetworkClassifier(max_iter=epochs, random_state=0), True),
    ]


def warm_up(mnist):
    """Load (or compile) digitnet's loops for ReLU, cross-entropy and Adam, outside the timings."""
    NetworkClassifier(max_iter=1).fit(mnist.train_images[:256], mnist.train_labels[:256])


def timed_fit(classifier, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # MLPClassifier's note that max_iter ended it
        classifier.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-mlp.txt")))
    args = parser.parse_args(argv)
    mnist = data.load(data_folder())
    pixels = {True: (mnist.train_images.reshape(len(mnist.train_images), -1),
                     mnist.test_images.reshape(len(mnist.test_images), -1))}
    pixels[False] = tuple(X.astype(np.float32) / 255 for X in pixels[True])
    report = Report(args.out)
    say = report.say
    report.machine("digitnet beside scikit-learn", f", scikit-learn {sklearn.__version__}")
    say(f"784-16-16-10, ReLU, softmax + cross-entropy, Adam (η = {LR:g}), batches of {BATCH}, {args.epochs} epochs "
        f"on 60,000 MNIST images, one fit each")
    say()
    warm_up(mnist)
    say(f"{'classifier':<40}  {'test accuracy':>13}  {'fit seconds':>11}  {'MLPClassifier / this':>20}")
    baseline = None
    for name, classifier, as_pixels in contenders(args.epochs):
        train, test = pixels[as_pixels]
        seconds = timed_fit(classifier, train, mnist.train_labels)
        accuracy = classifier.score(test, mnist.test_labels)
        baseline = baseline or seconds
        say(f"{name:<40}  {accuracy:13.2%}  {seconds:11.2f}  {baseline / seconds:19.1f}x")
    report.write()


if __name__ == "__main__":
    main()
