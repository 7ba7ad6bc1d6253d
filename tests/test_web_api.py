"""The web page's JSON API, through FastAPI's TestClient: every endpoint, checked
against the package's own answers, and bad requests answered with a 4xx."""

import copy
import json
import re

import numpy as np
import pytest

from digitnet import Network
from digitnet.lesson import cost_of_one
from digitnet.web import create_app
from digitnet.web.schema import MAX_BODY
from digitnet.web.server import STATIC

from .conftest import browser, eventually, wait_for


@pytest.fixture
def save_path(tmp_path):
    return tmp_path / "web.npz"


LOCAL = ("127.0.0.1", 50000)  # a visitor at the server's own computer


@pytest.fixture
def client(trained_net, mnist, save_path):
    return browser(create_app(trained_net, mnist, save_path=save_path), client=LOCAL)


@pytest.fixture
def dataless(trained_net):
    return browser(create_app(trained_net, None))


def drawing(image):
    """A 28×28 image drawn four times larger, as the page sends its 112×112 canvas."""
    return {"pixels": np.kron(image, np.ones((4, 4), dtype=np.uint8)).ravel().tolist()}


def pixels(image):
    """A 28×28 image for /api/look."""
    return {"pixels": np.ravel(image).tolist()}


BLANK = {"pixels": [0] * 112 * 112}


def events(client):
    """Every training status from the event stream, which ends when training stops."""
    with client.stream("GET", "/api/train/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[len("data: "):]) for line in stream.iter_lines() if line.startswith("data: ")]


# ---- the page and its files -----------------------------------------------------------

def test_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    # ES modules, no build step; relative addresses, so that the same page works under any path (digitnet site)
    assert '<script type="module" src="static/app.js">' in page.text
    for name in ("app.js", "style.css"):
        assert f'"static/{name}"' in page.text
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200
        assert answer.text == (STATIC / name).read_text()


def test_the_pages_modules_are_all_served(client):
    """app.js and the ES modules it imports, and those they import, and the browser's engine (network.js and
    optimizers.js, which the static site trains with), loaded by import() or as a worker: every one is there."""
    seen, todo = set(), ["app.js", "network.js", "optimizers.js"]
    while todo:
        name = todo.pop()
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and "javascript" in answer.headers["content-type"], name
        seen.add(name)
        todo += set(re.findall(r'(?:from |import\(|new URL\()"\./([\w-]+\.js)"', answer.text)) - seen
    assert seen == {p.name for p in STATIC.glob("*.js")}


def test_every_id_on_the_page_is_its_own():
    """The modules find the page's parts by id: two parts with one id would be one part."""
    ids = re.findall(r'\bid="([^"]+)"', (STATIC / "index.html").read_text())
    assert len(ids) > 50 and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_nothing_the_page_needs_comes_from_another_server():
    for path in STATIC.iterdir():
        name = path.name
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", (STATIC / name).read_text()))
        assert urls <= {"http://www.w3.org/2000/svg"}, f"{name} loads {urls}"


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py",
                                  "/static/%2e%2e%2f%2e%2e%2fnetwork.py", "/static//etc/passwd"])
def test_static_files_never_leave_the_static_folder(client, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert "def " not in answer.text and "root:" not in answer.text


def test_openapi_schema_describes_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/model", "/api/options", "/api/predict", "/api/predict/bytes", "/api/look",
                 "/api/neurons/{layer}/{neuron}", "/api/reset",
                 "/api/examples/test", "/api/examples/noise", "/api/examples/dream/{digit}", "/api/train",
                 "/api/train/pause", "/api/train/resume", "/api/train/step", "/api/train/stop", "/api/train/events",
                 "/api/save", "/api/download", "/api/teach", "/api/teach/image", "/api/teach/test", "/api/teach/batch",
                 "/api/teach/undo", "/api/teach/reset", "/api/experiments", "/api/experiments/memorize",
                 "/api/experiments/landscape", "/api/experiments/sigmoid-vs-relu", "/api/experiments/stop",
                 "/api/experiments/events"):
        assert path in paths
    drawn = schema["components"]["schemas"]["Drawing"]["properties"]["pixels"]
    assert drawn["minItems"] == drawn["maxItems"] == 112 * 112 and drawn["items"]["maximum"] == 255
    image = schema["components"]["schemas"]["Image"]["properties"]["pixels"]
    assert image["minItems"] == image["maxItems"] == 784
    hidden = schema["components"]["schemas"]["TrainRequest"]["properties"]["hidden"]["items"]
    assert hidden == {"type": "integer", "minimum": 1, "maximum": 128}
    assert "413" in paths["/api/predict"]["post"]["responses"]
    assert "404" in paths["/api/neurons/{layer}/{neuron}"]["get"]["responses"]
    assert client.get("/docs").status_code == 404  # it would load its scripts from a CDN


def test_a_wrong_method_gets_a_405_naming_every_allowed_one(client):
    for method, path, allowed in (("DELETE", "/api/train", {"GET", "POST"}), ("GET", "/api/predict", {"POST"}),
                                  ("POST", "/api/neurons/0/0", {"GET", "PUT"})):
        answer = client.request(method, path)
        assert answer.status_code == 405 and set(answer.headers["allow"].split(", ")) == allowed


# ---- predictions ---------------------------------------------------------------------------

def test_model_describes_the_network_and_its_strongest_connections(client, trained_net, mnist):
    model = client.get("/api/model").json()
    assert model["sizes"] == list(trained_net.sizes)
    assert model["test_accuracy"] == pytest.approx(trained_net.score(mnist.test_images, mnist.test_labels))
    assert model["edits"] == [] and model["has_data"]
    for W, layer in zip(trained_net.weights, model["connections"], strict=True):
        assert 0 < len(layer) <= 300
        strongest = np.sort(np.abs(W).ravel())[::-1][:len(layer)]
        assert sorted((abs(w) for _, _, w in layer), reverse=True) == pytest.approx(strongest, abs=1e-4)
        for i, j, w in layer[:20]:
            assert W[int(j), int(i)] == pytest.approx(w, abs=1e-4)


def test_predict_reads_drawn_test_digits_as_the_package_does(client, trained_net, mnist):
    from digitnet.images import to_mnist

    right = 0
    for image, label in zip(mnist.test_images[:20], mnist.test_labels[:20], strict=True):
        body = drawing(image)
        answer = client.post("/api/predict", json=body).json()
        seen = to_mnist(np.kron(image, np.ones((4, 4), dtype=np.uint8)), invert=False, even=True)  # a black canvas
        assert answer["input"] == pytest.approx(trained_net.inputs(seen.reshape(1, -1))[0], abs=1e-4)  # deskewed
        as_bytes = client.post("/api/predict/bytes", content=np.kron(image, np.ones((4, 4), np.uint8)).tobytes(),
                               headers={"content-type": "application/octet-stream"}).json()
        assert as_bytes == answer
        assert answer["prediction"] == trained_net.predict(seen.reshape(1, -1))[0]
        right += answer["prediction"] == label
    assert right >= 16  # the default network reads the test digits, drawn four times larger


def test_predict_returns_every_layer(client, trained_net, mnist):
    answer = client.post("/api/look", json=pixels(mnist.test_images[0])).json()
    x = mnist.test_images[0].ravel() / 255
    assert answer["input"] == pytest.approx(trained_net.inputs(x.reshape(1, -1))[0], abs=1e-4)  # as the network sees it
    assert trained_net.deskew and answer["input"] != pytest.approx(x, abs=1e-2)
    expected = trained_net.forward(x.reshape(1, -1), all_layers=True)[1:]
    assert [len(a) for a in answer["layers"]] == list(trained_net.sizes[1:])
    for got, want in zip(answer["layers"], expected, strict=True):
        assert got == pytest.approx(want[0], abs=1e-3)
    # Each layer's z gives its a: ReLU for the hidden layers, softmax at the output.
    for z, a in zip(answer["zs"][:-1], answer["layers"][:-1], strict=True):
        assert np.maximum(z, 0) == pytest.approx(a, abs=1e-3)
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=1e-3)
    assert answer["prediction"] == int(np.argmax(answer["probabilities"])) == trained_net.predict(x[None])[0]


def test_a_blank_canvas_is_all_zeros(client):
    answer = client.post("/api/predict", json=BLANK)
    assert answer.status_code == 200 and not any(answer.json()["input"])
    answer = client.post("/api/predict/bytes", content=bytes(112 * 112),
                         headers={"content-type": "application/octet-stream"})
    assert answer.status_code == 200 and not any(answer.json()["input"])


@pytest.mark.parametrize("size, problem", [(0, "Field required"), (112 * 112 - 1, "at least 12544"),
                                           (112 * 112 + 1, "at most 12544"), (784, "at least 12544")])
def test_a_drawing_of_the_wrong_number_of_bytes_gets_a_422(client, size, problem):
    answer = client.post("/api/predict/bytes", content=bytes(size),
                         headers={"content-type": "application/octet-stream"})
    assert answer.status_code == 422 and problem in json.dumps(answer.json()["detail"])


def test_a_drawing_too_faint_to_read_is_as_good_as_blank(client):
    answer = client.post("/api/predict", json={"pixels": [1] * 112 * 112})
    assert answer.status_code == 200 and not any(answer.json()["input"])


def test_grey_values_need_not_be_whole_numbers(client, mnist):
    image = np.kron(mnist.test_images[0], np.ones((4, 4)))
    whole = client.post("/api/predict", json={"pixels": image.ravel().tolist()}).json()
    halves = client.post("/api/predict", json={"pixels": (image.ravel() * 0.999).tolist()}).json()
    assert whole["prediction"] == halves["prediction"]
    assert halves["input"] == pytest.approx(whole["input"], abs=0.02)


def test_probabilities_stay_numbers_when_every_output_is_zero():
    net = Network((784, 4, 10), "sigmoid", "quadratic", seed=0)
    net.biases[-1][:] = -200  # σ(-200) is 0 in float32
    answer = browser(create_app(net)).post("/api/look", json={"pixels": [0] * 784}).json()
    assert answer["layers"][-1] == [0] * 10 and answer["probabilities"] == [0.1] * 10


N = 112 * 112


@pytest.mark.parametrize("path, body, problem", [
    ("/api/predict", {"pixels": [0] * (N - 1)}, f"at least {N}"),
    ("/api/predict", {"pixels": [0] * (N + 1)}, f"at most {N}"),
    ("/api/predict", {"pixels": [0] * 784}, f"at least {N}"),
    ("/api/predict", {"pixels": [0] * (N - 1) + [256]}, "less than or equal to 255"),
    ("/api/predict", {"pixels": [0] * (N - 1) + [-1]}, "greater than or equal to 0"),
    ("/api/predict", {"pixels": [0] * (N - 1) + ["ink"]}, "valid number"),
    ("/api/predict", {"pixels": [0] * (N - 1) + ["12"]}, "valid number"),
    ("/api/predict", {"pixels": [0] * (N - 1) + [True]}, "valid number"),
    ("/api/predict", {"pixels": "0" * N}, "valid list"),
    ("/api/predict", {"size": 112}, "Field required"),
    ("/api/predict", [0] * N, "valid dictionary"),
    ("/api/look", {"pixels": [0] * N}, "at most 784"),
    ("/api/look", {"pixels": [0] * 783 + [300]}, "less than or equal to 255"),
])
def test_bad_drawings_get_a_422_naming_the_problem(client, path, body, problem):
    answer = client.post(path, json=body)
    assert answer.status_code == 422
    assert problem in " ".join(e["msg"] for e in answer.json()["detail"])


@pytest.mark.parametrize("text", ['{"pixels": [NaN' + ", 0" * 783 + "]}",
                                  '{"pixels": [Infinity' + ", 0" * 783 + "]}",
                                  '{"pixels": [0, 0', "not json at all"],
                         ids=["NaN", "Infinity", "unfinished", "not JSON"])
def test_nan_and_broken_json_get_a_422(client, text):
    answer = client.post("/api/look", content=text, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] in ("Input should be a finite number", "JSON decode error")


def test_huge_bodies_are_refused_and_the_server_carries_on(client):
    huge = b"[" + b"0," * MAX_BODY + b"0]"
    answer = client.post("/api/predict", content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "over" in answer.json()["detail"]

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        yield b'{"pixels": ['
        for _ in range(64):
            yield b"0," * (MAX_BODY // 64)
        yield b"0]}"

    answer = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "over" in answer.json()["detail"]
    answer = client.post("/api/predict", content=b"{}", headers={"content-length": "abc"})
    assert answer.status_code == 400
    assert client.post("/api/predict", json=BLANK).status_code == 200


# ---- one neuron: look and tweak ----------------------------------------------------------

def test_a_first_layer_neuron_shows_its_weights(client, trained_net):
    info = client.get("/api/neurons/0/5").json()
    assert info["pattern"] == pytest.approx(trained_net.weights[0][5], abs=1e-4)
    assert info["bias"] == pytest.approx(trained_net.biases[0][5]) == pytest.approx(info["trained_bias"])
    assert (info["bias_shift"], info["weight_scale"], info["off"]) == (0, 1, False)


def test_a_deeper_neuron_shows_its_combined_pattern(client, trained_net):
    from digitnet.figures import neuron_pattern

    info = client.get("/api/neurons/1/2").json()
    assert info["pattern"] == pytest.approx(np.ravel(neuron_pattern(trained_net, 1, 2)), abs=1e-4)


@pytest.mark.parametrize("path, status, problem", [
    ("/api/neurons/2/0", 404, "no hidden layer 2"),  # layer 2 of 784-16-16-10 is the output
    ("/api/neurons/0/16", 404, "neurons 0 to 15"),
    ("/api/neurons/-1/0", 422, "greater than or equal to 0"),
    ("/api/neurons/0/x", 422, "valid integer"),
])
def test_unknown_neurons_are_refused(client, path, status, problem):
    for answer in (client.get(path), client.put(path, json={"bias_shift": 1})):
        assert answer.status_code == status
        assert problem in json.dumps(answer.json()["detail"])


def edited_copy(net, layer, neuron, bias_shift=0.0, weight_scale=1.0, off=False):
    """The edit done by hand on a copy, to check the server against."""
    net = copy.deepcopy(net)
    net.biases[layer][neuron] += bias_shift
    net.weights[layer][neuron] *= weight_scale
    if off:
        net.weights[layer + 1][:, neuron] = 0
    return net


def test_edits_change_the_answer_and_accuracy_and_reset_undoes_them(client, trained_net, mnist):
    image = pixels(mnist.test_images[0])
    x = mnist.test_images[:1] / 255
    before = client.post("/api/look", json=image).json()
    accuracy = client.get("/api/model").json()["test_accuracy"]
    # The second layer's neuron that adds most to the answer's z, switched off, and another one pushed up.
    l, answer = 1, before["prediction"]
    strongest = int(np.argmax(np.array(before["layers"][l]) * trained_net.weights[l + 1][answer]))
    edits = [(l, strongest, {"off": True}), (0, 3, {"bias_shift": 5.0, "weight_scale": -0.5})]
    expected = trained_net
    for layer, neuron, edit in edits:
        info = client.put(f"/api/neurons/{layer}/{neuron}", json=edit).json()
        expected = edited_copy(expected, layer, neuron, **edit)
        assert info["bias"] == pytest.approx(expected.biases[layer][neuron], abs=1e-5)
        assert info["test_accuracy"] == pytest.approx(expected.score(mnist.test_images, mnist.test_labels))
        assert {k: info[k] for k in edit} == edit
    after = client.post("/api/look", json=image).json()
    assert after["probabilities"] == pytest.approx(expected.predict_proba(x)[0], abs=1e-3)
    assert after["probabilities"][answer] < before["probabilities"][answer]
    assert after["zs"][0][3] == pytest.approx(before["zs"][0][3] * -0.5 + 5 + 1.5 * trained_net.biases[0][3], abs=1e-3)
    model = client.get("/api/model").json()
    assert model["test_accuracy"] != accuracy
    assert [(e["layer"], e["neuron"], e["off"]) for e in model["edits"]] == sorted(
        [(0, 3, False), (l, strongest, True)])

    reset = client.post("/api/reset").json()
    assert reset["edits"] == [] and reset["test_accuracy"] == accuracy
    assert client.post("/api/look", json=image).json() == before


def test_an_edit_back_to_the_trained_values_is_no_edit(client):
    client.put("/api/neurons/0/1", json={"bias_shift": 2})
    client.put("/api/neurons/0/1", json={"bias_shift": 0, "weight_scale": 1, "off": False})
    assert client.get("/api/model").json()["edits"] == []


@pytest.mark.parametrize("edit", [{"bias_shift": 51}, {"weight_scale": "big"}, {"weight_scale": 11},
                                  {"off": "maybe"}, {"off": 0}, {"bias_shift": None}, {"bias_shift": "1"}])
def test_bad_edits_get_a_422(client, edit):
    assert client.put("/api/neurons/0/0", json=edit).status_code == 422


@pytest.mark.parametrize("field", ["bias_shift", "weight_scale"])
def test_a_non_finite_edit_is_called_that(client, field):
    answer = client.put("/api/neurons/0/0", content=f'{{"{field}": NaN}}',
                        headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "finite number" in answer.text


# ---- experiments ------------------------------------------------------------------------------

def test_test_images_come_with_their_label(client, trained_net, mnist):
    answer = client.get("/api/examples/test", params={"index": 7}).json()
    assert answer["label"] == mnist.test_labels[7]
    assert answer["image"] == pytest.approx(mnist.test_images[7].ravel() / 255, abs=1e-4)
    assert answer["input"] == pytest.approx(trained_net.inputs(mnist.test_images[7:8])[0], abs=1e-4)
    assert answer["prediction"] == trained_net.predict(mnist.test_images[7:8])[0]
    random = client.get("/api/examples/test").json()
    assert 0 <= random["label"] <= 9 and len(random["input"]) == 784
    assert client.get("/api/examples/test", params={"index": 10000}).status_code == 422


def test_noise_gets_an_answer_all_the_same(client, trained_net):
    one, again = (client.get("/api/examples/noise", params={"seed": 4}).json() for _ in range(2))
    assert one == again
    x = np.array(one["image"])
    assert 0 <= x.min() and x.max() <= 1 and x.std() > 0.2
    assert one["prediction"] == trained_net.predict(x[None])[0]
    assert one["cost_of_one"] is None
    as_a_seven = client.get("/api/examples/noise", params={"seed": 4, "label": 7}).json()["cost_of_one"]
    assert as_a_seven["label"] == 7
    assert as_a_seven["cost"] == pytest.approx(cost_of_one(trained_net, x, 7)["cost"], rel=1e-3)
    assert client.get("/api/examples/noise", params={"seed": -1}).status_code == 422
    assert client.get("/api/examples/noise", params={"label": 10}).status_code == 422  # no such output here


def test_a_dream_is_what_the_figures_module_dreams(client, trained_net):
    from digitnet.figures import dream

    answer = client.get("/api/examples/dream/4", params={"steps": 30, "seed": 2}).json()
    assert answer["image"] == pytest.approx(np.ravel(dream(trained_net, 4, steps=30, seed=2)), abs=1e-4)
    assert answer["prediction"] == trained_net.predict(np.array([answer["image"]]))[0]
    labelled = client.get("/api/examples/dream/4", params={"steps": 30, "seed": 2, "label": 4}).json()
    assert labelled["input"] == answer["input"] and labelled["cost_of_one"]["label"] == 4
    for bad in ("/api/examples/dream/10", "/api/examples/dream/3?steps=0", "/api/examples/dream/x",
                "/api/examples/dream/3?label=-1"):
        assert client.get(bad).status_code == 422


def test_without_mnist_the_page_still_predicts(dataless):
    model = dataless.get("/api/model").json()
    assert model["test_accuracy"] is None and not model["has_data"]
    answer = dataless.post("/api/predict", json=drawing(np.eye(28, dtype=np.uint8) * 255))
    assert answer.status_code == 200 and answer.json()["prediction"] in range(10)
    for answer in (dataless.get("/api/examples/test"), dataless.post("/api/train", json={})):
        assert answer.status_code == 409 and "--data" in answer.json()["detail"]


# ---- training -----------------------------------------------------------------------------------

TINY = {"hidden": [8], "epochs": 2, "images": 600, "batch_size": 30, "lr": 0.01}


def test_training_streams_each_epoch_and_the_page_then_uses_the_new_network(client, mnist):
    started = client.post("/api/train", json=TINY | {"epochs": 2.0})  # JSON Schema's integers include 2.0
    assert started.status_code == 202 and started.json()["state"] in ("running", "done")
    stream = events(client)
    final = stream[-1]
    assert final["state"] == "done" and final["epoch"] == final["epochs"] == 2
    assert [r["epoch"] for r in final["history"]] == [1, 2]
    assert all(r["cost"] > 0 and 0 <= r["test_accuracy"] <= 1 for r in final["history"])
    assert [s["version"] for s in stream] == sorted({s["version"] for s in stream})  # each status once
    model = client.get("/api/model").json()
    assert model["sizes"] == [784, 8, 10]
    assert model["test_accuracy"] == pytest.approx(final["history"][-1]["test_accuracy"])
    assert len(client.post("/api/predict", json=BLANK).json()["layers"][0]) == 8
    assert client.get("/api/train").json() == final


def test_pause_step_and_resume(client):
    paused = client.post("/api/train", json=TINY | {"epochs": 3, "paused": True}).json()
    assert (paused["state"], paused["epoch"]) == ("paused", 0)
    assert events(client)[-1]["epoch"] == 0  # paused: the stream says so and ends
    assert client.post("/api/train/step").status_code == 200
    after_step = events(client)[-1]
    assert (after_step["state"], after_step["epoch"]) == ("paused", 1)
    assert client.get("/api/model").json()["sizes"] == [784, 8, 10]
    assert client.post("/api/train/pause").status_code == 409  # already paused
    assert client.post("/api/train/resume").json()["state"] == "running"
    assert events(client)[-1]["state"] == "done"
    for action in ("pause", "resume", "step", "stop"):
        answer = client.post(f"/api/train/{action}")
        assert answer.status_code == 409 and "training is done" in answer.json()["detail"]


def test_stop_forgets_the_run(client):
    client.post("/api/train", json=TINY | {"paused": True})
    stopped = client.post("/api/train/stop").json()
    assert (stopped["state"], stopped["message"]) == ("idle", "stopped")
    assert client.get("/api/model").json()["sizes"] == [784, 16, 16, 10]  # no epoch ran: the old network stays


def test_starting_again_mid_epoch_drops_the_old_run_and_never_piles_up_threads(trained_net, mnist, monkeypatch):
    import threading

    from digitnet.training import Trainer

    client = browser(create_app(trained_net, mnist, max_training=2))  # seats for both runs below
    release, run_epoch = threading.Event(), Trainer.run_epoch

    def held(trainer):  # the first two runs' epochs wait until released
        if trainer.net.sizes[1] != 4:
            assert release.wait(30)
        return run_epoch(trainer)

    monkeypatch.setattr(Trainer, "run_epoch", held)
    client.post("/api/train", json=TINY)
    wait_for(client, "/api/train", lambda s: s["busy"])
    client.post("/api/train", json=TINY | {"hidden": [6]})  # the first run is forgotten mid-epoch
    wait_for(client, "/api/train", lambda s: s["busy"])
    # Both earlier runs are still in their epochs: a third start must wait its turn.
    busy = client.post("/api/train", json=TINY | {"hidden": [4]})
    assert busy.status_code == 409 and "try again" in busy.json()["detail"]
    release.set()
    assert events(client)[-1]["state"] == "done"  # the second run, carried on to its end
    assert client.post("/api/train", json=TINY | {"hidden": [4]}).status_code == 202
    final = events(client)[-1]
    assert final["state"] == "done" and len(final["history"]) == 2
    assert client.get("/api/model").json()["sizes"] == [784, 4, 10]  # earlier runs' epochs were never used
    eventually(lambda: "digitnet-training" not in [t.name for t in threading.enumerate()], 10,
               why=lambda: "training threads linger")


@pytest.mark.parametrize("change", [{"hidden": []}, {"hidden": [0]}, {"hidden": [8] * 5}, {"hidden": [500]},
                                    {"lr": 0}, {"lr": -1}, {"activation": "softsign"}, {"cost": "hinge"},
                                    {"epochs": 0}, {"epochs": 1000}, {"images": 10}, {"batch_size": 0},
                                    {"optimizer": "rmsprop"}, {"paused": 0}, {"epochs": "2"}, {"lr": "0.1"},
                                    {"epochs": True}, {"epochs": 2.5}, {"hidden": ["8"]}])
def test_bad_training_options_get_a_422(client, change):
    assert client.post("/api/train", json=TINY | change).status_code == 422
    assert client.get("/api/train").json()["state"] == "idle"


def test_a_training_error_stops_the_run_with_its_message(client, monkeypatch):
    from digitnet.errors import DigitnetError
    from digitnet.training import Trainer

    def diverge(trainer):
        raise DigitnetError(f"training diverged in epoch {trainer.epoch + 1}: try a smaller learning rate")

    monkeypatch.setattr(Trainer, "run_epoch", diverge)
    client.post("/api/train", json=TINY)
    final = events(client)[-1]
    assert (final["state"], final["message"]) == ("error", "training diverged in epoch 1: try a smaller learning rate")
    assert client.get("/api/model").json()["sizes"] == [784, 16, 16, 10]  # the page keeps its network


# ---- saving ---------------------------------------------------------------------------------------

def test_save_writes_the_network_as_edited_to_the_servers_path_only(client, save_path, tmp_path):
    client.put("/api/neurons/0/2", json={"bias_shift": 1.5})
    other = tmp_path / "chosen-by-client.npz"
    saved = client.post("/api/save", json={"path": str(other)})
    assert saved.status_code == 200 and saved.json()["path"] == str(save_path)
    assert not other.exists()
    net = Network.load(save_path)
    info = client.get("/api/neurons/0/2").json()
    assert net.biases[0][2] == pytest.approx(info["bias"]) and info["bias_shift"] == 1.5


def test_save_to_an_unwritable_place_is_a_409(trained_net, tmp_path):
    client = browser(create_app(trained_net, None, save_path=tmp_path / "missing" / "web.npz"), client=LOCAL)
    answer = client.post("/api/save")
    assert answer.status_code == 409 and "cannot write" in answer.json()["detail"]


# ---- the command ------------------------------------------------------------------------------

@pytest.fixture
def served(monkeypatch):
    """What `digitnet serve` hands to uvicorn, without starting a server."""
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.update(app=app, **options))
    return calls


def test_serve_runs_the_app_on_localhost_and_prints_the_url(served, default_model, capsys, monkeypatch):
    from digitnet.cli import main

    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    assert main(["serve", str(default_model), "--port", "8123", "--data", "/nonexistent"]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in out and "without test images" in out and "warning" not in out
    assert browser(served["app"]).get("/api/model").json()["has_data"] is False


def test_serve_for_a_class_prints_the_network_address_and_warns(served, default_model, capsys, monkeypatch):
    import ipaddress

    from digitnet.cli import main
    from digitnet.commands import serve

    ipaddress.ip_address(serve.lan_address())  # a real address, whatever this machine's network is
    monkeypatch.setattr(serve, "lan_address", lambda: "192.168.1.20")
    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    assert main(["serve", str(default_model), "--host", "0.0.0.0", "--port", "8124", "--data", "/nonexistent",
                 "--max-sessions", "30", "--idle-minutes", "5", "--max-training", "1"]) == 0
    out = capsys.readouterr().out
    assert "the class opens http://192.168.1.20:8124/" in out
    assert "warning: the page is open to the network" in out
    assert served["host"] == "0.0.0.0"
    classroom = served["app"].state.classroom
    assert (classroom.max_sessions, classroom.idle, classroom.queue.seats) == (30, 300, 1)


def small_mnist(folder, mnist, n_train=6000):
    """A copy of MNIST with fewer training images, as IDX files in ``folder``."""
    from digitnet.data import FILES, write_idx

    folder.mkdir()
    for key, stem in FILES.items():
        write_idx(folder / stem, getattr(mnist, key)[:n_train if key.startswith("train") else None])
    return folder


def test_serve_uses_model_npz_in_the_current_folder(served, default_model, tmp_path, monkeypatch, mnist):
    from digitnet.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.npz").write_bytes(default_model.read_bytes())
    small_mnist(tmp_path / "data", mnist)
    assert main(["serve", "--data", "data", "--port", "8001"]) == 0
    model = browser(served["app"]).get("/api/model").json()
    assert model["has_data"] and model["sizes"] == [784, 16, 16, 10]
    assert model["test_accuracy"] == Network.load("model.npz").score(mnist.test_images, mnist.test_labels)


def test_serve_without_a_model_trains_one_first_and_keeps_it(served, tmp_path, monkeypatch, mnist, capsys):
    from digitnet.cli import main
    from digitnet.recipes import RECIPES

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(RECIPES, "default", RECIPES["default"] | {"epochs": 2})  # the real recipe takes minutes
    small_mnist(tmp_path / "data", mnist)
    assert main(["serve", "--data", "data"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "saved model.npz" in out
    saved = Network.load(tmp_path / "model.npz")
    model = browser(served["app"]).get("/api/model").json()
    assert model["sizes"] == list(saved.sizes) and model["activation"] == "relu"
    assert model["test_accuracy"] == pytest.approx(saved.header["test_accuracy"])


@pytest.mark.parametrize("argv, problem", [(["serve", "missing.npz"], "missing.npz"),
                                           (["serve", "--port", "70000", "x.npz"], "--port")])
def test_serve_refuses_bad_input_in_one_line(served, argv, problem, capsys):
    from digitnet.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitnet: error:") and problem in err and "\n" not in err
    assert not served


def test_a_model_that_names_its_classes_answers_with_the_names(trained_net, mnist):
    """The page writes what /api/model and the answers say each output stands for."""
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    named = Network(trained_net.sizes, trained_net.activation.name, trained_net.cost.name, classes=names)
    named.params[...] = trained_net.params
    client = browser(create_app(named, mnist))
    assert client.get("/api/model").json()["outputs"] == list(names)
    answer = client.post("/api/look", json=pixels(mnist.test_images[0])).json()
    assert answer["answer"] == names[answer["prediction"]]
