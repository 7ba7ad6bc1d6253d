"""Chapter 2 in the web API: the cost of one example with any prediction, and "Teach it",
a step of gradient descent on one example taken on the visitor's own network, checked
against backprop and finite differences through the API; undo, reset, test images, the
batch of 100 steps; bad input answered with a 4xx."""

import numpy as np
import pytest

from digitnet import Network
from digitnet.functions import one_hot
from digitnet.lesson import TEACHING_RATE, average_cost, cost_of_one, teach_many
from digitnet.network import parameter_views
from digitnet.web import create_app, lab
from digitnet.web.routes import seen

from .conftest import browser


@pytest.fixture
def client(app):
    return browser(app)


def drawing(image):
    """A 28×28 image drawn four times larger, as the page sends its 112×112 canvas."""
    return np.kron(image, np.ones((4, 4), dtype=np.uint8)).ravel().tolist()


def seen_by_network(pixels):
    """The 784 inputs the server makes of a drawing (as /api/predict does)."""
    return seen(np.asarray(pixels, dtype=np.float32))


@pytest.fixture
def network_of(tmp_path):
    def download(client):
        """The visitor's network as it is now, downloaded as Save does."""
        answer = client.get("/api/download")
        assert answer.status_code == 200
        path = tmp_path / "downloaded.npz"
        path.write_bytes(answer.content)
        return Network.load(path)

    return download


def runner_up(net, x):
    """The digit the network thinks second most likely: a plausible wrong answer."""
    return int(np.argsort(-net.forward(x)[0])[1])


# ---- the cost of one example, with a prediction ----------------------------------------------

def test_a_prediction_asked_for_a_label_has_the_cost_laid_out(client, trained_net, mnist):
    pixels = drawing(mnist.test_images[0])
    x = seen_by_network(pixels)
    answer = client.post("/api/predict?label=3", json={"pixels": pixels}).json()
    expected = cost_of_one(trained_net, x, 3)
    laid_out = answer["cost_of_one"]
    assert laid_out["label"] == 3 and laid_out["cost_kind"] == trained_net.cost.name
    for key in ("outputs", "desired", "squared_differences", "terms"):
        np.testing.assert_allclose(laid_out[key], expected[key], rtol=1e-6, atol=1e-12)
    assert laid_out["cost"] == pytest.approx(expected["cost"]) == pytest.approx(sum(laid_out["terms"]))
    assert laid_out["desired"] == [float(d == 3) for d in range(10)]
    # The bytes the page sends give the same, and without a label there is no cost.
    as_bytes = bytes(np.asarray(pixels, dtype=np.uint8))
    assert client.post("/api/predict/bytes?label=3", content=as_bytes).json()["cost_of_one"] == laid_out
    assert client.post("/api/predict", json={"pixels": pixels}).json()["cost_of_one"] is None


def test_a_test_image_has_its_cost_as_its_true_label_unless_asked_otherwise(client, trained_net, mnist):
    i = next(i for i in range(8, 100) if trained_net.predict(mnist.test_images[i:i + 1])[0] == mnist.test_labels[i])
    answer = client.get(f"/api/examples/test?index={i}").json()  # a digit the network reads right
    label = int(mnist.test_labels[i])
    assert answer["index"] == i and answer["label"] == label == answer["cost_of_one"]["label"]
    assert answer["cost_of_one"]["cost"] == pytest.approx(cost_of_one(trained_net, mnist.test_images[i], label)["cost"])
    other = (label + 1) % 10
    asked = client.get(f"/api/examples/test?index={i}&label={other}").json()
    assert asked["label"] == label and asked["cost_of_one"]["label"] == other
    assert asked["cost_of_one"]["cost"] > answer["cost_of_one"]["cost"]
    looked = client.post(f"/api/look?label={other}", json={"pixels": mnist.test_images[i].ravel().tolist()}).json()
    assert looked["cost_of_one"] == asked["cost_of_one"]


def test_the_model_has_its_average_cost_on_the_test_images(client, trained_net, mnist):
    model = client.get("/api/model").json()
    assert model["average_cost"] == pytest.approx(average_cost(trained_net, mnist.test_images, mnist.test_labels),
                                                  rel=1e-5)
    assert model["teaching_rate"] == TEACHING_RATE[trained_net.cost.name]
    assert (model["undo_steps"], model["taught"]) == (0, False)


# ---- one step downhill --------------------------------------------------------------------------

def test_a_teaching_step_is_exactly_minus_eta_times_backprops_gradient(client, trained_net, mnist, network_of):
    pixels, eta = drawing(mnist.test_images[0]), 0.002
    x = seen_by_network(pixels)
    step = client.post("/api/teach", json={"pixels": pixels, "label": 3, "lr": eta})
    assert step.status_code == 200, step.text
    grad_W, grad_b, _ = trained_net.backprop(trained_net.inputs(x.reshape(1, -1)), one_hot([3], 10, np.float32))
    gradient = np.concatenate([g.ravel() for W, b in zip(grad_W, grad_b, strict=True) for g in (W, b)])
    taught = network_of(client)
    np.testing.assert_allclose(taught.params, trained_net.params - np.float32(eta) * gradient, rtol=0, atol=1e-7)
    assert step.json()["gradient_size"] == pytest.approx(np.linalg.norm(gradient.astype(np.float64)), rel=1e-5)
    assert step.json()["lr"] == eta


def test_the_step_is_the_slope_of_this_examples_cost_by_finite_differences(client, trained_net, mnist):
    """Nudging a weight by ε changes this example's cost by ε ∂C/∂w (in float64, from the
    served network): the largest nudges the API reports are −η times that slope."""
    pixels, eta = drawing(mnist.test_images[1]), 0.001
    x = seen_by_network(pixels)
    nudges = client.post("/api/teach", json={"pixels": pixels, "label": 5, "lr": eta}).json()["nudges"]
    net = Network(trained_net.sizes, trained_net.activation.name, trained_net.cost.name, dtype=np.float64,
                  deskew=trained_net.deskew)
    net.params[...] = trained_net.params
    weights, biases = parameter_views(net.sizes, net.params)
    for nudge in nudges[:6]:
        layer = nudge["layer"] - 1
        where = (weights[layer], (nudge["neuron"], nudge["from"])) if nudge["from"] is not None else \
            (biases[layer], nudge["neuron"])
        array, index = where
        keep, eps = array[index], 1e-5
        array[index] = keep + eps
        up = cost_of_one(net, x, 5)["cost"]
        array[index] = keep - eps
        down = cost_of_one(net, x, 5)["cost"]
        array[index] = keep
        assert nudge["change"] == pytest.approx(-eta * (up - down) / (2 * eps), rel=2e-3)


def test_before_and_after_side_by_side(client, trained_net, mnist, network_of):
    pixels = drawing(mnist.test_images[0])
    x = seen_by_network(pixels)
    wrong = runner_up(trained_net, x)
    step = client.post("/api/teach", json={"pixels": pixels, "label": wrong, "lr": 0.0005}).json()
    taught = network_of(client)
    for side, net in (("before", trained_net), ("after", taught)):
        shown, expected = step[side], cost_of_one(net, x, wrong)
        assert shown["cost"] == pytest.approx(expected["cost"], rel=1e-5)
        np.testing.assert_allclose(shown["outputs"], expected["outputs"], rtol=1e-5, atol=1e-9)
        assert shown["probabilities"] == pytest.approx(list(net.predict_proba(x)[0]), abs=1e-6)
        assert shown["prediction"] == int(net.predict(x)[0])
        assert shown["test_accuracy"] == net.score(mnist.test_images, mnist.test_labels)
        assert shown["average_cost"] == pytest.approx(average_cost(net, mnist.test_images, mnist.test_labels),
                                                      rel=1e-5)
    assert step["after"]["cost"] < step["before"]["cost"]  # a small step goes downhill
    model = client.get("/api/model").json()
    assert model["test_accuracy"] == step["after"]["test_accuracy"] and model["undo_steps"] == 1 and model["taught"]


def test_the_nudges_the_tiles_and_the_layers_shares(client, trained_net, mnist, network_of):
    pixels, eta = drawing(mnist.test_images[2]), 0.001
    step = client.post("/api/teach", json={"pixels": pixels, "label": 4, "lr": eta}).json()
    change = network_of(client).params.astype(np.float64) - trained_net.params
    nudges = step["nudges"]
    assert len(nudges) == 20
    sizes = [abs(n["change"]) for n in nudges]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == pytest.approx(np.abs(change).max(), rel=1e-5)
    W, b = parameter_views(trained_net.sizes, change)
    for n in nudges:
        moved = b[n["layer"] - 1][n["neuron"]] if n["from"] is None else W[n["layer"] - 1][n["neuron"], n["from"]]
        assert moved == pytest.approx(n["change"], rel=1e-4)
        kind = "bias of" if n["from"] is None else "weight into"
        assert n["name"].startswith(f"{kind} layer {n['layer']} neuron {n['neuron']}")
    tiles = np.array(step["first_layer"]["tiles"]) * step["first_layer"]["scale"]
    assert tiles.shape == (16, 784)
    np.testing.assert_allclose(tiles, W[0] / eta, atol=1e-3 * step["first_layer"]["scale"])  # −∂C/∂W = change / η
    shares = step["layer_shares"]
    assert len(shares) == 3 and sum(shares) == pytest.approx(1, abs=1e-3)
    squares = [np.sum(W[l] ** 2) + np.sum(b[l] ** 2) for l in range(3)]
    assert shares == pytest.approx(list(np.array(squares) / sum(squares)), abs=1e-4)


def test_steps_go_downhill_until_it_changes_its_mind_then_undo_and_reset(client, trained_net, mnist, network_of):
    pixels = drawing(mnist.test_images[0])
    x = seen_by_network(pixels)
    wrong = runner_up(trained_net, x)
    costs, networks = [], []
    for _ in range(30):
        step = client.post("/api/teach", json={"pixels": pixels, "label": wrong}).json()  # the network's own η
        costs.append(step["after"]["cost"])
        networks.append(network_of(client).params)
        if step["after"]["prediction"] == wrong:
            break
    assert step["after"]["prediction"] == wrong and len(costs) > 1
    assert costs == sorted(costs, reverse=True)
    assert step["after"]["test_accuracy"] < step["before"]["test_accuracy"] <= trained_net.score(
        mnist.test_images, mnist.test_labels)  # what one example taught cost the others
    undone = client.post("/api/teach/undo").json()
    assert undone["undo_steps"] == len(costs) - 1 and undone["taught"]
    np.testing.assert_array_equal(network_of(client).params, networks[-2])
    reset = client.post("/api/teach/reset").json()
    assert (reset["undo_steps"], reset["taught"]) == (0, False)
    np.testing.assert_array_equal(network_of(client).params, trained_net.params)
    for action, problem in (("undo", "no teaching step to undo"), ("reset", "has not been taught")):
        refused = client.post(f"/api/teach/{action}")
        assert refused.status_code == 409 and problem in refused.json()["detail"]


def test_reset_keeps_the_hand_edits_made_before_teaching(client, mnist, network_of):
    client.put("/api/neurons/0/3", json={"off": True})
    edited = network_of(client).params
    client.post("/api/teach/test", json={"index": 0})
    assert client.get("/api/model").json()["edits"] == []  # the step was taken on the edited network
    client.post("/api/teach/reset")
    assert client.get("/api/model").json()["edits"][0]["off"]
    np.testing.assert_array_equal(network_of(client).params, edited)


def test_teach_a_test_image_its_true_label_or_another(client, trained_net, mnist):
    i = 8
    label = int(mnist.test_labels[i])
    true = client.post("/api/teach/test", json={"index": i}).json()
    assert true["before"]["label"] == label
    assert true["before"]["cost"] == pytest.approx(cost_of_one(trained_net, mnist.test_images[i], label)["cost"])
    other = client.post("/api/teach/test", json={"index": i, "label": (label + 3) % 10, "lr": 0.0001}).json()
    assert other["before"]["label"] == (label + 3) % 10 and other["lr"] == 0.0001
    # The same as the 28×28 image sent as it is.
    client.post("/api/teach/reset")
    as_image = client.post("/api/teach/image", json={"pixels": mnist.test_images[i].ravel().tolist(), "label": label})
    assert as_image.json()["after"] == true["after"]


def test_a_hundred_steps_on_a_hundred_random_training_images(client, trained_net, mnist, network_of):
    batch = client.post("/api/teach/batch", json={"seed": 7, "lr": 0.001}).json()
    assert len(batch["costs"]) == 100 and batch["undo_steps"] == 1 and batch["lr"] == 0.001
    chosen = np.random.default_rng(7).choice(len(mnist.train_images), 100, replace=False)
    expected = trained_net.copy()
    costs = teach_many(expected, mnist.train_images[chosen], mnist.train_labels[chosen], 0.001)
    assert batch["costs"] == pytest.approx(costs.tolist(), rel=1e-5)
    np.testing.assert_allclose(network_of(client).params, expected.params, rtol=0, atol=1e-6)
    assert batch["after"]["test_accuracy"] == expected.score(mnist.test_images, mnist.test_labels)
    client.post("/api/teach/undo")  # all hundred steps, taken back as one
    np.testing.assert_array_equal(network_of(client).params, trained_net.params)


def test_one_visitors_teaching_leaves_the_others_network_alone(app, trained_net, mnist):
    teacher, other = browser(app), browser(app)
    image = {"pixels": mnist.test_images[0].ravel().tolist()}
    before = other.post("/api/look", json=image).json()
    for _ in range(3):
        teacher.post("/api/teach/test", json={"index": 0, "label": 2})
    assert other.post("/api/look", json=image).json() == before
    assert other.get("/api/model").json()["undo_steps"] == 0
    assert other.post("/api/teach/undo").status_code == 409
    assert teacher.get("/api/model").json()["undo_steps"] == 3


def test_a_step_too_far_is_refused_and_changes_nothing(client, trained_net, monkeypatch, network_of):
    monkeypatch.setattr(lab, "MAX_PARAMETER", float(np.abs(trained_net.params).max()) + 1e-3)
    refused = client.post("/api/teach/test", json={"index": 0, "label": 1, "lr": 100})
    assert refused.status_code == 409 and "smaller learning rate" in refused.json()["detail"]
    assert client.get("/api/model").json()["undo_steps"] == 0
    np.testing.assert_array_equal(network_of(client).params, trained_net.params)


# ---- bad requests -------------------------------------------------------------------------------

def test_the_teaching_routes_are_in_the_schema_and_bounded(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/teach", "/api/teach/image", "/api/teach/test", "/api/teach/batch", "/api/teach/undo",
                 "/api/teach/reset"):
        assert "post" in schema["paths"][path]
    parts = schema["components"]["schemas"]
    drawn = parts["TeachDrawing"]["properties"]
    assert drawn["pixels"]["minItems"] == drawn["pixels"]["maxItems"] == 112 * 112
    assert (drawn["label"]["minimum"], drawn["label"]["maximum"]) == (0, 10)  # 10: not a digit, for a network with it
    lr = drawn["lr"]["anyOf"][0]
    assert lr["minimum"] > 0 and lr["maximum"] == 100
    assert parts["TeachBatch"]["properties"]["images"]["maximum"] == 1000
    assert "from" in parts["Nudge"]["properties"]


BAD = [({"label": 11}, "10 for not a digit, not 11"), ({"label": -1}, "10 for not a digit, not -1"),
       ({"label": 3.5}, "whole number"), ({"label": "3"}, "whole number"), ({"label": True}, "whole number"),
       ({"label": None}, "whole number"),
       ({"lr": 0}, "greater than or equal"), ({"lr": -1}, "greater than or equal"), ({"lr": 1000}, "less than"),
       ({"lr": "0.1"}, "number"), ({"pixels": [0] * 784}, "at least"), ({"pixels": [300] * 112 * 112}, "less than")]


@pytest.mark.parametrize("change, problem", BAD)
def test_bad_teaching_requests_get_a_422_saying_what_is_wrong(client, mnist, change, problem):
    answer = client.post("/api/teach", json={"pixels": drawing(mnist.test_images[0]), "label": 3} | change)
    assert answer.status_code == 422
    assert problem in " ".join(p["msg"] for p in answer.json()["detail"])
    assert client.get("/api/model").json()["undo_steps"] == 0


@pytest.mark.parametrize("path, body", [("/api/teach/test", {"index": 10000}), ("/api/teach/test", {}),
                                        ("/api/teach/test", {"index": 1, "label": 11}),
                                        ("/api/teach/batch", {"images": 0}), ("/api/teach/batch", {"images": 1001}),
                                        ("/api/teach/batch", {"seed": -1}), ("/api/teach/image", {"label": 3})])
def test_bad_test_image_and_batch_requests_get_a_422(client, path, body):
    assert client.post(path, json=body).status_code == 422


def test_a_label_the_network_has_no_output_for_gets_a_422(mnist):
    small = browser(create_app(Network((784, 8, 5), "relu", "cross-entropy", seed=0), mnist))
    answer = small.post("/api/teach/test", json={"index": 0, "label": 7})
    assert answer.status_code == 422 and answer.json()["detail"] == [  # the schema's form of a 422
        {"loc": ["label"], "msg": "a label is one of the network's 5 outputs, 0 to 4, not 7", "type": "value_error"}]
    assert small.get("/api/examples/test?index=0&label=7").status_code == 422


def test_without_mnist_drawings_are_taught_but_test_images_and_batches_are_not(trained_net, mnist):
    dataless = browser(create_app(trained_net, None))
    step = dataless.post("/api/teach", json={"pixels": drawing(mnist.test_images[0]), "label": 3}).json()
    assert step["after"]["test_accuracy"] is None and step["after"]["cost"] is not None
    for path, body in (("/api/teach/test", {"index": 0}), ("/api/teach/batch", {})):
        answer = dataless.post(path, json=body)
        assert answer.status_code == 409 and "--data" in answer.json()["detail"]
