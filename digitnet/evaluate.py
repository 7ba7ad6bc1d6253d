"""Scoring a trained network on labelled images: accuracy and the confusion matrix."""

import numpy as np


def confusion_matrix(true, predicted, n=10):
    """C[i, j] = how many images of digit i the network called j."""
    C = np.zeros((n, n), dtype=np.int64)
    np.add.at(C, (np.asarray(true), np.asarray(predicted)), 1)
    return C


def per_class_accuracy(C):
    """Of the images of each digit, the share called right (NaN where there are none)."""
    totals = C.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(C) / totals
