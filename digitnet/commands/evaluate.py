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
    C = confusion_matrix(dataset.test_labels, predicted, n)[:net.digits]  # no test image is "not a digit"
    names = net.output_names
    print(f"accuracy {np.trace(C) / C.sum():.2%} ({np.trace(C):,} of {C.sum():,} test images)")
    if net.not_a_digit:
        print(f"called not a digit: {C[:, -1].sum() / C.sum():.2%} ({C[:, -1].sum():,} test images, all counted wrong)")
    print(f"per {'class' if net.classes else 'digit'}: "
          + "  ".join(f"{name}: {share(a)}" for name, a in zip(names[:net.digits], per_class_accuracy(C), strict=True)))
    print(f"confusion matrix (rows: true {'class' if net.classes else 'digit'}, columns: the network's answer" +
          (", none: not a digit)" if net.not_a_digit else ")"))
    columns = [str(j) for j in range(net.digits)] + ["none"] * net.not_a_digit
    width = max(5, len(str(C.max())) + 1)
    label = max(len(row_label(net, i)) for i in range(net.digits))
    print(" " * (label + 1) + "".join(f"{j:>{width}}" for j in columns))
    for i in range(net.digits):
        print(f"{row_label(net, i):<{label}} " + "".join(f"{c:>{width}}" for c in C[i]))


def share(accuracy):
    """A class's accuracy, or a dash for a class no test image has (the outputs of an old model with
    more outputs than classes), rather than nan%."""
    return "–" if np.isnan(accuracy) else f"{accuracy:.1%}"


def row_label(net, i):
    """A row of the confusion matrix: the digit, or the class's label and name (the columns are labels)."""
    return f"{i} {net.classes[i]}" if net.classes else f"{i:>4}"
