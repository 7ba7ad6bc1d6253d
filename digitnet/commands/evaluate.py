"""digitnet evaluate: accuracy, per-digit accuracy and confusion matrix on the test images."""

import numpy as np

from . import check_fits, load_data, load_model


def add_parser(sub):
    p = sub.add_parser("evaluate", help="score a saved model on the test images",
                       description="Print a model's accuracy on the test images, per digit, "
                                   "and its confusion matrix.")
    p.add_argument("model", help="a model file saved by digitnet train")
    p.add_argument("--data", metavar="DIR", help="folder with the IDX files (else $DIGITNET_DATA or the cache)")
    p.set_defaults(run=run)


def run(args):
    from ..evaluate import confusion_matrix, per_class_accuracy

    net = load_model(args.model)
    dataset = load_data(args)
    check_fits(net, dataset)
    predicted = net.predict(dataset.test_images)
    n = net.sizes[-1]
    C = confusion_matrix(dataset.test_labels, predicted, n)
    print(f"accuracy {np.trace(C) / C.sum():.2%} ({np.trace(C):,} of {C.sum():,} test images)")
    print("per digit: " + "  ".join(f"{d}: {a:.1%}" for d, a in enumerate(per_class_accuracy(C))))
    print("confusion matrix (rows: true digit, columns: the network's answer)")
    width = max(5, len(str(C.max())) + 1)
    print("     " + "".join(f"{j:>{width}}" for j in range(n)))
    for i in range(n):
        print(f"{i:>4} " + "".join(f"{c:>{width}}" for c in C[i]))
