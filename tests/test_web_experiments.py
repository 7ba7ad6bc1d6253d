"""The experiments of chapter 2 in the web API: each runs live for the visitor through the
training queue, its measurements streamed as they come (a few times a second, however
often it reports), stopped on request, when another starts, when its visitor leaves or when
nobody watches; its numbers are the experiments module's, infinite costs as null."""

import json
import threading
import time

import numpy as np
import pytest

from digitnet import Network, experiments
from digitnet.strictjson import strict
from digitnet.web import create_app
from digitnet.web import experiments as live
from digitnet.web.sessions import COOKIE

from .conftest import browser, eventually
from .conftest import wait_for as until

SMALL = {"memorize": {"images": 200, "epochs": 30}, "landscape": {"images": 200, "steps": 7},
         "sigmoid-vs-relu": {"images": 500, "epochs": 2, "depths": [1, 3], "width": 8}}


@pytest.fixture
def client(app):
    return browser(app)


def strict_json(text):
    """JSON as a browser's JSON.parse reads it: no NaN or Infinity."""
    def refuse(name):
        raise AssertionError(f"{name} in the JSON")

    return json.loads(text, parse_constant=refuse)


def events(client):
    """Every experiment status from the event stream, which ends when the experiment does."""
    with client.stream("GET", "/api/experiments/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        return [strict_json(line[len("data: "):]) for line in stream.iter_lines() if line.startswith("data: ")]


def wait_for(client, done, seconds=60):
    return until(client, "/api/experiments", done, seconds)


def test_memorize_runs_live_and_gives_the_experiments_numbers(client, trained_net, mnist):
    started = client.post("/api/experiments/memorize", json=SMALL["memorize"])
    assert started.status_code == 202 and started.json()["kind"] == "memorize"
    stream = events(client)
    final = stream[-1]
    assert (final["state"], final["done"], final["total"]) == ("done", 60, 60)
    expected = experiments.memorize(trained_net, mnist.train_images, mnist.train_labels,
                                    (mnist.test_images, mnist.test_labels), 200, 30)
    for name in ("real", "shuffled"):
        assert final["result"][name]["cost"] == pytest.approx(expected[name]["cost"])
        assert final["result"][name]["test_accuracy"] == expected[name]["test_accuracy"]
        assert final["parts"][name]["cost"] == final["result"][name]["cost"]  # what was streamed, epoch by epoch
    # The curves grew: each status has at least as much as the one before, and the versions rise.
    lengths = [len(s["parts"].get("real", {}).get("cost", [])) for s in stream]
    assert lengths == sorted(lengths) and [s["version"] for s in stream] == sorted({s["version"] for s in stream})
    assert client.get("/api/experiments").json()["result"] == final["result"]


def test_a_network_trained_on_the_page_keeps_its_recipe_and_memorize_trains_with_it(client, mnist, tmp_path):
    recipe = {"hidden": [8], "epochs": 2, "images": 600, "optimizer": "sgd", "lr": 0.5, "batch_size": 30}
    client.post("/api/train", json=recipe)
    until(client, "/api/train", lambda s: s["state"] == "done")
    (tmp_path / "page.npz").write_bytes(client.get("/api/download").content)
    page_net = Network.load(tmp_path / "page.npz")  # its file says how it was trained, as `digitnet train`'s do
    assert page_net.header["recipe"] == "web"
    assert {k: page_net.header["options"][k] for k in ("optimizer", "lr", "batch_size", "epochs", "images")} == \
        {k: recipe[k] for k in ("optimizer", "lr", "batch_size", "epochs", "images")}
    client.post("/api/experiments/memorize", json={"images": 100, "epochs": 3})
    on_the_page = [s for s in events(client) if s["state"] == "done"][0]["result"]
    args = mnist.train_images, mnist.train_labels, (mnist.test_images, mnist.test_labels), 100, 3
    assert on_the_page["real"]["cost"] == pytest.approx(experiments.memorize(page_net, *args)["real"]["cost"])
    no_recipe = Network(page_net.sizes, "relu", "cross-entropy")  # the default recipe's Adam: another curve
    assert on_the_page["real"]["cost"] != pytest.approx(experiments.memorize(no_recipe, *args)["real"]["cost"])


def test_the_stream_sends_a_few_statuses_a_second_however_often_the_experiment_reports(client):
    start = time.monotonic()
    client.post("/api/experiments/memorize", json={"images": 200, "epochs": 300})
    stream = events(client)
    seconds = time.monotonic() - start
    assert stream[-1]["done"] == 600
    assert len(stream) <= 10 * seconds + 3 < 600


def test_landscape_gives_the_path_plane_and_a_random_slice_when_asked(client, trained_net, mnist):
    client.post("/api/experiments/landscape", json=SMALL["landscape"])
    final = events(client)[-1]
    assert final["state"] == "done" and final["total"] == 7
    X, y = experiments.sample(mnist.train_images, mnist.train_labels, 200, np.random.default_rng(0))
    expected = strict(experiments.landscape(trained_net, X, y, steps=7, random=False))
    assert final["result"]["random"] is None
    assert final["result"]["path"]["path_x"] == pytest.approx(expected["path"]["path_x"])
    assert final["result"]["path"]["epoch_cost"] == pytest.approx(trained_net.path.costs)  # the real costs, beside
    assert final["result"]["path"]["epoch_cost_images"] == 1000
    np.testing.assert_allclose(final["result"]["path"]["cost"], expected["path"]["cost"], rtol=1e-6)
    assert final["parts"]["path"]["cost"] == final["result"]["path"]["cost"]  # row by row
    client.post("/api/experiments/landscape", json=SMALL["landscape"] | {"random": True})
    both = events(client)[-1]
    assert both["total"] == 14 and both["result"]["random"]["cost"][3][3] == pytest.approx(both["result"]["cost"])


def test_infinite_costs_reach_the_page_as_null(client):
    """Far from the trained weights some image gets probability 0: its cost is infinite."""
    client.post("/api/experiments/landscape", json={"images": 200, "steps": 5, "extent": 10, "random": True})
    final = events(client)[-1]
    costs = [c for row in final["result"]["random"]["cost"] for c in row]
    assert None in costs and all(c is None or np.isfinite(c) for c in costs)


def test_sigmoid_vs_relu_reports_each_network_and_can_be_stopped(client):
    client.post("/api/experiments/sigmoid-vs-relu", json=SMALL["sigmoid-vs-relu"])
    final = events(client)[-1]
    assert final["state"] == "done" and final["done"] == final["total"] == 8
    assert set(final["parts"]) == {"sigmoid 1", "relu 1", "sigmoid 3", "relu 3"}
    assert [(r["activation"], r["hidden_layers"]) for r in final["result"]] == [
        ("sigmoid", 1), ("relu", 1), ("sigmoid", 3), ("relu", 3)]
    assert len(final["parts"]["sigmoid 3"]["gradients"][0]) == 4  # |∂C/∂b| of each layer, epoch by epoch

    client.post("/api/experiments/sigmoid-vs-relu", json={})  # the defaults: several seconds
    wait_for(client, lambda s: s["done"] >= 1)
    stopped = client.post("/api/experiments/stop").json()
    assert stopped["state"] == "stopped" and 1 <= stopped["done"] < stopped["total"]
    assert stopped["parts"] and stopped["result"] is None  # what it measured stays to be seen
    time.sleep(0.5)
    assert client.get("/api/experiments").json()["done"] == stopped["done"]  # and it measures no more
    again = client.post("/api/experiments/stop")
    assert again.status_code == 409 and "no experiment is running" in again.json()["detail"]


def test_a_new_experiment_replaces_the_one_running(client):
    client.post("/api/experiments/memorize", json={"epochs": 300})
    wait_for(client, lambda s: s["done"] >= 1)
    client.post("/api/experiments/landscape", json=SMALL["landscape"])
    final = events(client)[-1]
    assert final["kind"] == "landscape" and final["state"] == "done"
    assert "real" not in final["parts"]


def test_experiments_wait_in_the_training_queue(trained_net, mnist, monkeypatch):
    """One seat: while another visitor trains, an experiment waits its turn, knowing its place."""
    from digitnet.training import Trainer

    app = create_app(trained_net, mnist, max_training=1)
    trainer, experimenter = browser(app), browser(app)
    release, run_epoch = threading.Event(), Trainer.run_epoch

    def held(self):
        if self.net.sizes[1] == 8:  # the training run's epochs, not the experiment's
            assert release.wait(30)
        return run_epoch(self)

    monkeypatch.setattr(Trainer, "run_epoch", held)
    trainer.post("/api/train", json={"hidden": [8], "epochs": 1, "images": 600})
    queued = experimenter.post("/api/experiments/landscape", json=SMALL["landscape"]).json()
    assert (queued["state"], queued["place"]) == ("queued", 1)
    release.set()
    final = events(experimenter)[-1]
    assert final["state"] == "done" and final["place"] is None


def test_a_visitor_who_leaves_stops_their_experiment(trained_net, mnist):
    app = create_app(trained_net, mnist, idle_minutes=0.5 / 60)
    first, second = browser(app), browser(app)
    first.post("/api/experiments/sigmoid-vs-relu", json={})
    wait_for(first, lambda s: s["state"] == "running")
    experiment = app.state.classroom.visitors[first.cookies[COOKIE]].experiment
    time.sleep(0.6)  # the first visitor has gone quiet for longer than the idle time...
    second.get("/api/model")  # ...which the next request finds: their session ends
    assert experiment.status()["state"] == "stopped" and experiment.status()["message"] == "the visitor left"


def test_an_experiment_nobody_watches_stops(client, app, monkeypatch):
    monkeypatch.setattr(live, "UNWATCHED", 0.2)
    client.post("/api/experiments/memorize", json={"epochs": 300})
    experiment = app.state.classroom.visitors[client.cookies[COOKIE]].experiment
    eventually(lambda: not experiment.going(), 30)  # nobody asks, no page listens
    status = client.get("/api/experiments").json()
    assert status["state"] == "stopped" and status["message"] == "stopped: nobody was watching"
    assert status["done"] < status["total"]
    # A page listening keeps it going to the end, however long nobody asks.
    client.post("/api/experiments/memorize", json={"epochs": 100})
    assert events(client)[-1]["state"] == "done"


def test_the_landscape_of_a_network_training_live_has_its_path_so_far(client):
    client.post("/api/train", json={"hidden": [8], "epochs": 3, "images": 600, "batch_size": 30, "paused": True})
    for epochs in (1, 2):
        client.post("/api/train/step")
        until(client, "/api/train", lambda s, epochs=epochs: s["epoch"] >= epochs and not s["busy"])
        client.post("/api/experiments/landscape", json=SMALL["landscape"])
        final = events(client)[-1]
        path = final["result"]["path"]
        assert path["epochs"] == list(range(epochs + 1))  # also after a pause, which keeps only its points
        assert len(path["epoch_cost"]) == epochs + 1 and None not in path["epoch_cost"]


@pytest.mark.parametrize("path, body", [("memorize", {"images": 50}), ("memorize", {"epochs": 301}),
                                        ("memorize", {"epochs": "3"}), ("landscape", {"steps": 4}),
                                        ("landscape", {"steps": 43}), ("landscape", {"extent": 0}),
                                        ("landscape", {"random": "yes"}), ("sigmoid-vs-relu", {"depths": []}),
                                        ("sigmoid-vs-relu", {"depths": [2, 4, 6, 8]}),
                                        ("sigmoid-vs-relu", {"depths": [9]}), ("sigmoid-vs-relu", {"epochs": 16})])
def test_bad_experiment_options_get_a_422_and_start_nothing(client, path, body):
    assert client.post(f"/api/experiments/{path}", json=body).status_code == 422
    assert client.get("/api/experiments").json()["state"] == "idle"


def test_the_experiments_are_in_the_schema_and_need_data(client, trained_net):
    paths = client.get("/openapi.json").json()["paths"]
    for kind in SMALL:
        assert "post" in paths[f"/api/experiments/{kind}"]
    assert {"/api/experiments", "/api/experiments/stop", "/api/experiments/events"} <= set(paths)
    options = client.get("/api/options").json()
    assert options["experiments"]["memorize"] == {"images": 1000, "epochs": 300}  # the command line's defaults
    dataless = browser(create_app(trained_net, None))
    answer = dataless.post("/api/experiments/memorize", json={})
    assert answer.status_code == 409 and "--data" in answer.json()["detail"]


def test_a_taught_or_edited_network_has_no_path_but_its_trained_one_has(client):
    """Teaching and hand edits move the weights off the path training took: its plane is not theirs."""
    def landscape():
        client.post("/api/experiments/landscape", json=SMALL["landscape"])
        return events(client)[-1]["result"]

    assert landscape()["path"] is not None
    client.post("/api/teach/test", json={"index": 0})
    taught = landscape()
    assert taught["path"] is None and taught["random"] is not None  # the cost around it alone
    client.post("/api/teach/undo")
    client.put("/api/neurons/0/1", json={"bias_shift": 1.0})
    assert landscape()["path"] is None
    client.post("/api/reset")
    assert landscape()["path"] is not None


def test_an_experiment_that_fails_says_why_and_gives_its_seat_back(trained_net, mnist, monkeypatch):
    client = browser(create_app(trained_net, mnist, max_training=1))

    def broken(*args, **kwargs):
        raise ValueError("something the experiment did not expect")

    monkeypatch.setattr(experiments, "memorize", broken)
    client.post("/api/experiments/memorize", json=SMALL["memorize"])
    failed = events(client)[-1]
    assert (failed["state"], failed["message"]) == ("error", "something the experiment did not expect")
    client.post("/api/experiments/landscape", json=SMALL["landscape"])  # the one seat is free again
    assert events(client)[-1]["state"] == "done"


# ---- the requests are made from the experiments' declaration -------------------------------------------


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_each_experiments_request_takes_the_declared_options_in_the_pages_ranges(name, client):
    declared = {key: option for key, option in experiments.EXPERIMENTS[name].options.items() if option.page is not None}
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    title = "".join(word.capitalize() for word in name.split("-"))
    fields = schema[f"{title}Request"]["properties"]
    assert set(fields) == set(declared)
    for key, option in declared.items():
        field = fields[key]
        assert field["default"] == (list(option.default) if isinstance(option.default, tuple) else option.default)
        assert field["description"] == option.about
        if isinstance(option.page, tuple):
            bounds = field.get("items", field)  # a list's numbers each have the range
            least = bounds.get("minimum", bounds.get("exclusiveMinimum"))
            assert (least, bounds["maximum"]) == option.page
    assert client.get("/api/options").json()["experiments"][name] == {
        key: field["default"] for key, field in fields.items()}


def test_an_option_out_of_the_declared_range_is_refused(client):
    most = experiments.MEMORIZE["epochs"].page[1]
    answer = client.post("/api/experiments/memorize", json={"epochs": most + 1})
    assert answer.status_code == 422 and "epochs" in answer.text


def test_an_option_added_to_the_declaration_is_a_field_of_the_request(monkeypatch):
    from digitnet.web.schema import request_for

    monkeypatch.setitem(experiments.MEMORIZE, "rounds", experiments.Option(3, "rounds of memorising", page=(1, 5)))
    model = request_for("memorize", experiments.EXPERIMENTS["memorize"])
    assert model().rounds == 3 and model.model_json_schema()["properties"]["rounds"]["maximum"] == 5
