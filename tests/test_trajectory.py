"""The path training takes: snapshots kept few on long runs, the plane that shows the path,
and what a model file keeps of it (a model saved before paths were recorded still loads)."""

import json

import numpy as np
import pytest

from digitnet import Network, modelfile
from digitnet import trajectory as trajectory_module
from digitnet.cli import main
from digitnet.errors import DigitnetError
from digitnet.training import Trainer
from digitnet.trajectory import MAX_SNAPSHOTS, Steps, Trajectory, principal_directions

from .conftest import OLD_MODEL
from .test_modelfile import arrays_of, trained_like_net, write_npz


def test_a_long_run_keeps_every_other_snapshot_then_every_fourth():
    trajectory = Trajectory(n_parameters=10)
    assert trajectory.keep == MAX_SNAPSHOTS
    for epoch in range(301):
        trajectory.record(epoch, np.full(10, epoch, np.float32))
    trajectory.record(300, np.zeros(10))  # the same epoch twice is kept once
    assert len(trajectory.snapshots) <= MAX_SNAPSHOTS
    assert trajectory.epochs == list(range(0, 301, trajectory.every)) and trajectory.every == 8
    assert all(s[0] == e for s, e in zip(trajectory.snapshots, trajectory.epochs, strict=True))
    trajectory.record(301, np.full(10, 301, np.float32), last=True)  # where training ended is always kept
    assert trajectory.epochs[-1] == 301 and trajectory.snapshots[-1][0] == 301


def test_a_large_network_keeps_fewer_snapshots():
    assert Trajectory(n_parameters=4_000_000).keep == 4  # 64 MB of float32 snapshots at most
    assert Trajectory(n_parameters=10**9).keep == 3  # the start, the middle and the end


def test_the_plane_of_a_flat_path_holds_all_of_it():
    rng = np.random.default_rng(0)
    n = 500
    u, v = np.linalg.qr(rng.standard_normal((n, 2)))[0].T  # two orthonormal directions
    centre = rng.standard_normal(n)
    ab = np.array([[-9, 4], [-6, 1], [-3, -1], [-1, -0.5], [0, 0], [0.2, 0.1]])
    trajectory = Trajectory(n)
    for epoch, (a, b) in enumerate(ab):
        trajectory.record(epoch, centre + a * u + b * v)
    plane = trajectory.plane(centre)
    assert plane.share == pytest.approx(1)
    assert plane.directions.shape == (2, n) and plane.directions.dtype == np.float32
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-6)
    # the directions span u and v, and each point keeps its distance from the centre
    np.testing.assert_allclose(np.linalg.norm(plane.directions @ np.stack([u, v]).T, axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(plane.coordinates, axis=1), np.linalg.norm(ab, axis=1), atol=1e-6)
    x0, y0 = plane.coordinates[0]
    assert x0 < 0 < y0  # the start on the left, above the end
    assert plane.epochs == list(range(len(ab)))


def test_the_plane_is_the_same_worked_out_in_blocks_of_parameters(monkeypatch):
    rng = np.random.default_rng(2)
    trajectory = Trajectory(1000)
    for epoch in range(9):
        trajectory.record(epoch, rng.standard_normal(1000).astype(np.float32) * (9 - epoch))
    centre = trajectory.snapshots[-1]
    whole = trajectory.plane(centre)
    monkeypatch.setattr(trajectory_module, "CHUNK", 37)  # 28 blocks, the last one short
    blocks = trajectory.plane(centre)
    np.testing.assert_allclose(blocks.directions, whole.directions, atol=1e-6)
    np.testing.assert_allclose(blocks.coordinates, whole.coordinates, rtol=1e-10, atol=1e-9)
    assert blocks.share == pytest.approx(whole.share, rel=1e-12)


def test_a_path_of_one_point_has_no_plane():
    trajectory = Trajectory(5)
    trajectory.record(0, np.ones(5))
    assert trajectory.plane(np.ones(5)) is None


def test_training_records_the_path_from_the_random_start(mnist):
    X, y = mnist.train_images[:2000], mnist.train_labels[:2000]
    net = Network(activation="relu", cost="cross-entropy", seed=3)
    start = net.params.copy()
    trainer = Trainer(net, X, y, optimizer="adam", lr=0.005, batch_size=64, epochs=6, validation=500, seed=3)
    trainer.run()
    plane = net.path
    assert plane.epochs == list(range(7))
    # the kept epoch is the centre; the start is where the random weights project
    kept = trainer.history.best_epoch
    np.testing.assert_allclose(plane.coordinates[kept], 0, atol=1e-4)
    np.testing.assert_allclose(plane.coordinates[0], plane.directions.astype(np.float64) @ (start - net.params),
                               rtol=1e-4)
    assert 0.5 < plane.share <= 1


def test_the_path_keeps_the_real_cost_at_each_epochs_weights_which_lie_off_the_plane(mnist):
    X, y = mnist.train_images[:1500], mnist.train_labels[:1500]
    net = Network(activation="relu", cost="cross-entropy", seed=5)
    trainer = Trainer(net, X, y, optimizer="adam", lr=0.005, batch_size=64, epochs=5, seed=5)
    probe = trainer.X[trainer.rows[:1000]], trainer.y[trainer.rows[:1000]]  # the first 1,000 images it trains on
    weights = [net.params.copy()]
    trainer.run(progress=lambda record: weights.append(net.params.copy()))
    twin = net.copy()
    real = []
    for params in weights:
        twin.params[...] = params
        real.append(twin.total_cost(*probe))
    plane = net.path
    assert plane.costs == pytest.approx(real, rel=1e-5) and plane.cost_images == 1000
    on_the_plane = []
    for point in plane.points(net.params):  # each epoch's weights projected onto the plane
        twin.params[...] = point
        on_the_plane.append(twin.total_cost(*probe))
    assert on_the_plane[-1] == pytest.approx(real[-1], rel=1e-4)  # the end is the centre: on the plane
    assert on_the_plane[0] != pytest.approx(real[0], rel=1e-3)  # the start lies off it: another height


def test_a_paused_paths_points_in_its_plane_carry_it_on(mnist):
    """What a paused run on the page keeps of its path: its plane, from which its points come back."""
    X, y = mnist.train_images[:500], mnist.train_labels[:500]
    trainer = Trainer(Network(seed=1), X, y, lr=3.0, epochs=3, seed=1)
    for _ in range(2):
        trainer.run_epoch()
    plane = trainer.trajectory.plane(trainer.net.params)
    points = plane.points(trainer.net.params)
    assert points.shape == (3, trainer.net.params.size) and points.dtype == np.float32
    np.testing.assert_allclose(points[-1], trainer.net.params, atol=1e-5)  # the end, the centre, is on the plane
    steps = np.array(trainer.trajectory.snapshots, np.float64) - trainer.net.params
    np.testing.assert_allclose((points - trainer.net.params) @ plane.directions.T, plane.coordinates, atol=1e-4)
    assert plane.share == pytest.approx(1)  # three points and the centre: all in one plane...
    np.testing.assert_allclose(points, np.array(trainer.trajectory.snapshots), atol=1e-4 * np.abs(steps).max())


# ---- model files ----------------------------------------------------------------------------


def with_path(net, epochs=3):
    trajectory = Trajectory(net.params.size)
    rng = np.random.default_rng(1)
    for epoch in range(epochs):
        trajectory.record(epoch, net.params + rng.standard_normal(net.params.size).astype(np.float32))
    net.path = trajectory.plane(net.params)
    return net


def test_a_model_file_keeps_the_plane_of_its_path(tmp_path):
    net = with_path(trained_like_net())
    net.path = net.path._replace(costs=[2.3, float("inf"), 0.4], cost_images=1000)
    net.save(tmp_path / "model.npz")
    back = Network.load(tmp_path / "model.npz")
    assert back.path.epochs == net.path.epochs and back.path.share == net.path.share
    assert back.path.costs == [2.3, None, 0.4] and back.path.cost_images == 1000  # JSON's null for infinity
    np.testing.assert_array_equal(back.path.directions, net.path.directions)
    np.testing.assert_array_equal(back.path.coordinates, net.path.coordinates)
    without = trained_like_net()
    without.save(tmp_path / "plain.npz")
    assert Network.load(tmp_path / "plain.npz").path is None


def test_info_tells_of_the_path(tmp_path, capsys):
    with_path(trained_like_net()).save(tmp_path / "model.npz")
    assert main(["info", str(tmp_path / "model.npz")]) == 0
    assert "epochs 0 to 2 recorded" in capsys.readouterr().out
    assert main(["info", str(OLD_MODEL)]) == 0
    assert "path" not in capsys.readouterr().out


def test_a_model_saved_before_paths_were_recorded_still_loads():
    net = Network.load(OLD_MODEL)
    assert net.header["version"] == "0.2.0" and "path" not in net.header
    assert net.path is None and net.sizes == (784, 8, 10) and len(net.history) == 3


def damaged(folder, name, **changes):
    """A model file with a path whose header or directions are changed."""
    net = with_path(trained_like_net())
    arrays, header = arrays_of(net)
    arrays["path_directions"] = net.path.directions
    header["path"] = {**header["path"], **{k: v for k, v in changes.items() if k != "directions"}}
    if "directions" in changes:
        arrays["path_directions"] = changes["directions"]
        if changes["directions"] is None:
            del arrays["path_directions"]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    return write_npz(folder / name, arrays)


@pytest.mark.parametrize("name, changes, words", [
    ("epochs-text.npz", {"epochs": "0-2"}, ["'path' is damaged"]),
    ("one-epoch.npz", {"epochs": [0], "coordinates": [[0, 0]]}, ["'path' is damaged"]),
    ("coordinates-short.npz", {"coordinates": [[0, 0]]}, ["'path' is damaged"]),
    ("coordinates-text.npz", {"coordinates": [["a", 1], [0, 0], [0, 0]]}, ["'path' is damaged"]),
    ("share-missing.npz", {"share": None}, ["'path' is damaged"]),
    ("costs-short.npz", {"costs": [1.0]}, ["'path' is damaged"]),
    ("costs-text.npz", {"costs": ["high", 1.0, 0.5]}, ["'path' is damaged"]),
    ("cost-images-zero.npz", {"costs": [2.0, 1.0, 0.5], "cost_images": 0}, ["'path' is damaged"]),
    ("no-directions.npz", {"directions": None}, ["path_directions", "missing"]),
    ("directions-shape.npz", {"directions": np.zeros((3, 13002), np.float32)}, ["path_directions", "[2, 13002]"]),
    ("directions-nan.npz", {"directions": np.full((2, 13002), np.nan, np.float32)}, ["path_directions", "NaN"]),
])
def test_a_damaged_path_is_refused_in_one_line(tmp_path, name, changes, words):
    with pytest.raises(DigitnetError) as error:
        modelfile.load(damaged(tmp_path, name, **changes))
    message = str(error.value)
    assert "\n" not in message and name in message
    for word in words:
        assert word in message


def test_a_checkpoint_from_before_paths_carries_on_with_the_path_from_there(mnist):
    X, y = mnist.train_images[:500], mnist.train_labels[:500]

    def trainer():
        return Trainer(Network(activation="relu", cost="cross-entropy", seed=0), X, y, optimizer="adam", lr=0.005,
                       batch_size=50, epochs=4, seed=0)

    first = trainer()
    first.run_epoch()
    first.run_epoch()
    arrays, facts = first.state()
    old_arrays = {k: v for k, v in arrays.items() if not k.startswith("path_")}
    old_facts = {k: v for k, v in facts.items() if k != "path"}
    later = trainer()
    later.restore(old_arrays, old_facts)
    later.run()
    assert later.net.path.epochs == [2, 3, 4]
    resumed = trainer()
    resumed.restore(arrays, facts)
    resumed.run()
    assert resumed.net.path.epochs == [0, 1, 2, 3, 4]
    straight = trainer()
    straight.run()
    assert resumed.net.path.costs == straight.net.path.costs  # the costs before the checkpoint came with it
    assert later.net.path.costs == straight.net.path.costs[2:]


def test_a_model_saved_before_costs_were_measured_has_its_path_without_them(tmp_path):
    net = with_path(trained_like_net())
    arrays, header = arrays_of(net)
    arrays["path_directions"] = net.path.directions
    del header["path"]["costs"], header["path"]["cost_images"]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    back = Network.load(write_npz(tmp_path / "before-costs.npz", arrays))
    assert back.path.epochs == [0, 1, 2] and back.path.costs is None and back.path.cost_images is None


def test_the_directions_are_the_singular_vectors():
    rng = np.random.default_rng(4)
    steps = rng.standard_normal((7, 300)) * np.arange(7, 0, -1)[:, None]
    lengths, directions = principal_directions(Steps(list(steps), np.zeros(300)))
    _, s, vt = np.linalg.svd(steps, full_matrices=False)
    np.testing.assert_allclose(lengths, s, rtol=1e-9)
    np.testing.assert_allclose(np.abs(np.sum(directions * vt[:2], axis=1)), 1, rtol=1e-9)  # the same, up to sign


def test_a_straight_path_has_a_plane_and_a_path_that_never_moved_has_none():
    centre = np.zeros(6)
    straight = Trajectory(6)
    for epoch in range(3):
        straight.record(epoch, centre + (2 - epoch) * np.array([3.0, 4, 0, 0, 0, 0]))
    plane = straight.plane(centre)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(plane.coordinates, [[-10, 0], [-5, 0], [0, 0]], atol=1e-9)
    still = Trajectory(6)
    still.record(0, centre)
    still.record(1, centre)
    assert still.plane(centre) is None
