"""digitnet.sklearn.NetworkClassifier: scikit-learn's own estimator checks, labels of any
kind, warm starts and partial fits, and the same network as `digitnet train`."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from digitnet import Network
from digitnet.cli import main
from digitnet.sklearn import NetworkClassifier

from .conftest import ROOT, run_without

# The default, the videos' network, and early stopping with another activation and optimiser.
CONFIGURATIONS = ["NetworkClassifier()", "NetworkClassifier(recipe='video')",
                  "NetworkClassifier(early_stopping=True, activation='tanh', optimizer='sgd', momentum=0.9, "
                  "learning_rate_init=0.1, batch_size=16)"]

CHECK = """
import json, sys
from sklearn.utils.estimator_checks import check_estimator
from digitnet.sklearn import NetworkClassifier
results = check_estimator({estimator}, on_fail=None, on_skip=None)
print(json.dumps([[r["check_name"], r["status"], str(r["exception"])[:2000]] for r in results]))
"""


@pytest.mark.parametrize("estimator", CONFIGURATIONS)
def test_it_passes_scikit_learns_check_estimator_with_nothing_skipped(estimator):
    """Every check of check_estimator, in a process of its own: scikit-learn runs its array API
    check only with SCIPY_ARRAY_API=1 set before SciPy is first imported, which would change
    SciPy for the rest of the test run. pandas is in the test environment, so the checks with
    DataFrames run too."""
    done = subprocess.run([sys.executable, "-c", CHECK.format(estimator=estimator)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "SCIPY_ARRAY_API": "1"})
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.splitlines()[-1])
    assert len(results) > 50
    not_passed = [r for r in results if r[1] != "passed"]
    assert not not_passed, "\n".join(" ".join(r) for r in not_passed)


def test_it_is_a_scikit_learn_classifier_with_mlpclassifiers_parameter_names():
    clf = clone(NetworkClassifier(hidden_layer_sizes=(32,), alpha=1e-4, random_state=3))
    assert clf.get_params()["hidden_layer_sizes"] == (32,) and clf.random_state == 3
    shared = set(NetworkClassifier().get_params()) & set(MLPClassifier().get_params())
    assert {"hidden_layer_sizes", "activation", "alpha", "batch_size", "learning_rate_init", "max_iter",
            "random_state", "shuffle", "momentum", "validation_fraction", "early_stopping", "n_iter_no_change",
            "tol", "warm_start", "verbose"} <= shared
    assert {"cost", "optimizer", "schedule", "shift", "recipe"} <= set(NetworkClassifier().get_params())


def test_it_raises_not_fitted_error_before_fit():
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError):
            getattr(NetworkClassifier(), method)(np.zeros((2, 4)))
    with pytest.raises(NotFittedError):
        NetworkClassifier().score(np.zeros((2, 4)), [0, 1])


def blobs(n=300, features=5, classes=3, seed=0):
    X, y = make_blobs(n_samples=n, n_features=features, centers=classes, random_state=seed)
    return X, y


def test_labels_of_any_kind_come_back_through_classes():
    X, y = blobs()
    for labels in (np.array(["cat", "dog", "emu"]), np.array([-7, 10, 1000]), np.array([2.0, 3.0, 9.0])):
        clf = NetworkClassifier(random_state=0).fit(X, labels[y])
        assert list(clf.classes_) == sorted(labels)
        assert clf.predict(X).dtype == labels.dtype
        assert clf.score(X, labels[y]) > 0.95
        assert clf.predict_proba(X).shape == (len(X), 3)
        np.testing.assert_array_equal(clf.classes_[clf.predict_proba(X).argmax(axis=1)], clf.predict(X))
    assert clf.n_features_in_ == 5 and clf.net_.sizes == (5, 16, 16, 3)


def test_fitted_attributes_record_the_training(capsys):
    X, y = blobs()
    clf = NetworkClassifier(max_iter=7, random_state=0, verbose=True).fit(X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ == 7
    assert capsys.readouterr().out.count("\nepoch ") == 6  # verbose: one line per epoch, as digitnet train prints
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.validation_scores_ is None
    stopped = NetworkClassifier(max_iter=200, early_stopping=True, n_iter_no_change=3, random_state=0).fit(X, y)
    assert len(stopped.validation_scores_) == stopped.n_iter_ < 200  # blobs are learnt long before 200 epochs
    assert stopped.best_validation_score_ == max(stopped.validation_scores_)


def test_values_outside_0_1_are_scaled_by_what_fit_saw():
    """Min-max scaling learnt in fit: multiplying every value by 4 (exactly, in floating point)
    changes nothing; without the scaling, the values above 1 would all be clipped alike."""
    X, y = blobs()
    a = NetworkClassifier(random_state=0).fit(X, y)
    b = NetworkClassifier(random_state=0).fit(4 * X, y)
    assert a.data_min_ is not None
    np.testing.assert_array_equal(a.net_.params, b.net_.params)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(4 * X))


def test_pixels_and_numbers_in_0_1_go_to_the_network_as_they_are(mnist):
    X, y = mnist.train_images[:500], mnist.train_labels[:500]
    assert NetworkClassifier(max_iter=1).fit(X, y).data_min_ is None
    assert NetworkClassifier(max_iter=1).fit(X / 255, y).data_min_ is None


def test_it_trains_exactly_the_network_digitnet_train_does(mnist, trained_net):
    """The same seed, the same 5,000 images held out and the best of 25 epochs kept: the very
    weights `digitnet train` saved, bit for bit (both train compiled here)."""
    clf = NetworkClassifier(random_state=0, early_stopping=True, validation_fraction=5000 / 60000,
                            n_iter_no_change=None).fit(mnist.train_images, mnist.train_labels)
    assert clf.net_.sizes == trained_net.sizes
    np.testing.assert_array_equal(clf.net_.params, trained_net.params)
    assert clf.score(mnist.test_images, mnist.test_labels) == trained_net.score(mnist.test_images, mnist.test_labels)


def test_net_saves_a_model_the_command_line_uses(mnist, tmp_path):
    clf = NetworkClassifier(max_iter=2, random_state=0).fit(mnist.train_images[:5000], mnist.train_labels[:5000])
    path = tmp_path / "from-sklearn.npz"
    clf.net_.save(path)
    np.testing.assert_array_equal(Network.load(path).predict(mnist.test_images), clf.predict(mnist.test_images))
    assert main(["show", "weights", str(path), "--out", str(tmp_path / "w.png")]) == 0
    assert main(["export", str(path), str(tmp_path / "m.json")]) == 0


def test_warm_start_carries_on_from_the_last_fit():
    X, y = blobs()
    clf = NetworkClassifier(max_iter=3, random_state=0).fit(X, y)
    before = clf.net_.params.copy()
    clf.set_params(warm_start=True, learning_rate_init=1e-9, random_state=1).fit(X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ == 6
    np.testing.assert_allclose(clf.net_.params, before, atol=1e-6)  # steps of 1e-9 from where it was
    cold = NetworkClassifier(max_iter=3, learning_rate_init=1e-9, random_state=1).fit(X, y)
    assert np.abs(cold.net_.params - before).max() > 0.1  # a new network
    with pytest.raises(ValueError, match="not in classes_"):
        clf.fit(X, y + 5)


def test_partial_fit_learns_a_batch_at_a_time(mnist):
    clf = NetworkClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(mnist.train_images[:100], mnist.train_labels[:100])
    for k in range(0, 20000, 2000):
        clf.partial_fit(mnist.train_images[k:k + 2000], mnist.train_labels[k:k + 2000], classes=np.arange(10))
    assert clf.n_iter_ == len(clf.loss_curve_) == 10
    assert clf.score(mnist.test_images, mnist.test_labels) > 0.85
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(mnist.train_images[:10], mnist.train_labels[:10], classes=np.arange(5))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(mnist.train_images[:10, :5], mnist.train_labels[:10])


def test_partial_fit_keeps_the_optimisers_memory():
    """Adam's running means carry over from call to call: two calls on halves of the data
    differ from one call on each half with the memory forgotten."""
    X, y = blobs()
    kept = NetworkClassifier(random_state=0)
    for half in (slice(0, 150), slice(150, 300)):
        kept.partial_fit(X[half], y[half], classes=[0, 1, 2])
    forgot = NetworkClassifier(random_state=0).partial_fit(X[:150], y[:150], classes=[0, 1, 2])
    forgot._optimizer_state = None
    forgot.partial_fit(X[150:], y[150:])
    assert not np.allclose(kept.net_.params, forgot.net_.params)


def test_it_works_in_pipelines_grid_searches_and_cross_validation():
    X, y = blobs(n=200, features=8, classes=4)
    scores = cross_val_score(make_pipeline(StandardScaler(), NetworkClassifier(batch_size=16, random_state=0)),
                             X, y, cv=3)
    assert scores.min() > 0.9
    search = GridSearchCV(NetworkClassifier(batch_size=16, random_state=0), {"hidden_layer_sizes": [(4,), (16, 16)]},
                          cv=2)
    assert search.fit(X, y).best_score_ > 0.9


def test_a_pickled_classifier_still_trains_through_one_vector():
    X, y = blobs()
    clf = pickle.loads(pickle.dumps(NetworkClassifier(max_iter=2, random_state=0).fit(X, y)))
    assert all(np.shares_memory(W, clf.net_.params) for W in clf.net_.weights)
    before = clf.net_.predict_proba(X)
    clf.set_params(warm_start=True).fit(X, y)
    assert not np.allclose(clf.net_.predict_proba(X), before)


def test_bad_settings_are_one_line_value_errors():
    X, y = blobs()
    for settings, message in (({"activation": "swish"}, "unknown activation 'swish'"),
                              ({"recipe": "fast"}, "unknown recipe 'fast'"),
                              ({"batch_size": "auto"}, "batch_size must be a whole number"),
                              ({"learning_rate_init": -1.0}, "learning rate must be a positive number"),
                              ({"shift": 1}, "needs square images"),
                              ({"early_stopping": True, "validation_fraction": 1.5}, "validation_fraction")):
        with pytest.raises(ValueError, match=message) as error:
            NetworkClassifier(**settings).fit(X, y)
        assert "\n" not in str(error.value)


WITHOUT = """
import digitnet, digitnet.api, digitnet.cli, digitnet.export
digitnet.cli.build_parser()
assert "sklearn" not in sys.modules
try:
    from digitnet.sklearn import NetworkClassifier
except ImportError as e:
    print(type(e).__name__, e)
"""


def test_without_scikit_learn_the_core_works_and_the_estimator_says_what_to_install():
    done = run_without(["sklearn"], WITHOUT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "MissingExtra scikit-learn is not installed: pip install 'digitnet[sklearn]'\n"


def test_scikit_learn_and_onnx_are_optional_extras():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert "scikit-learn" not in core and "onnx" not in core
    extras = project["optional-dependencies"]
    assert any(d.startswith("scikit-learn") for d in extras["sklearn"])
    assert any(d.startswith("onnx") for d in extras["onnx"])
    assert {"scikit-learn", "onnx", "onnxruntime"} <= {d.split(">")[0].split("=")[0] for d in extras["test"]}
