"""The "not a digit" output: images of no digit (negatives.py) added to the training images with its
label, the model file that says what the output means and what it learned from, and everything that
shows an answer naming it."""

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from digitnet import Network
from digitnet.cli import main
from digitnet.errors import DigitnetError
from digitnet.figures import noise_experiment
from digitnet.negatives import mix, training_images
from digitnet.noise import scribble_noise
from digitnet.recipes import NOT_A_DIGIT, RECIPES
from digitnet.training import Trainer, network_for
from digitnet.web import create_app

from .conftest import MNIST, OLD_MODEL, browser


@pytest.fixture
def model(not_a_digit_model):
    return not_a_digit_model


@pytest.fixture
def net(not_a_digit_net):
    return not_a_digit_net


# ---- training ------------------------------------------------------------------------------------

@pytest.mark.parametrize("not_a_digit", [300, "letters=200,scribbles=100", {"symbols": 150, "noise": 150}])
def test_the_option_adds_images_of_no_digit_labelled_not_a_digit_to_an_11_output_network(mnist, not_a_digit):
    net, options = network_for(dict(RECIPES["default"], not_a_digit=not_a_digit), seed=0)
    assert net.sizes == (784, 16, 16, 11) and net.not_a_digit and net.digits == 10
    assert net.output_names == [*"0123456789", "not a digit"]
    X, y = mnist.train_images[:1000], mnist.train_labels[:1000]
    trainer = Trainer(net, X, y, validation=100, seed=0, **options)
    counts = mix(not_a_digit, NOT_A_DIGIT)
    assert trainer.options["not_a_digit"] == counts and sum(counts.values()) == 300
    assert len(trainer.X) == 1300 and len(trainer.rows) == 900 + 300
    added = trainer.rows[-300:]
    assert (trainer.y[added] == 10).all() and (trainer.y[trainer.rows[:-300]] < 10).all()
    assert (trainer.X[added] == trainer.seen(training_images(counts, 0))).all()  # as the network sees them
    assert (trainer.validation[1] < 10).all()  # the best epoch is chosen on digits alone


def test_without_the_option_the_recipe_trains_the_network_it_always_did():
    net, options = network_for(RECIPES["default"], seed=0)
    assert net.sizes == (784, 16, 16, 10) and not net.not_a_digit
    assert (net.params == Network((784, 16, 16, 10), "relu", "cross-entropy", seed=0).params).all()


@pytest.mark.parametrize("sizes, count, problem", [((784, 10), 10, "needs a network with a 'not a digit' output"),
                                                   ((784, 11), -1, "0 to 1,000,000"),
                                                   ((784, 11), 2.5, "whole number"),
                                                   ((784, 11), True, "whole number"),
                                                   ((784, 11), "letters=x", "whole number"),
                                                   ((784, 11), "digits=5", "no kind")])
def test_bad_noise_options_are_one_line_errors(mnist, sizes, count, problem):
    net = Network(sizes, not_a_digit=sizes[-1] == 11)
    with pytest.raises(DigitnetError, match=problem):
        Trainer(net, mnist.train_images[:100], mnist.train_labels[:100], not_a_digit=count)


def test_noise_for_images_that_are_not_square_is_a_one_line_error():
    net = Network((10, 3), not_a_digit=True)
    with pytest.raises(DigitnetError, match=r"what is no digit \(--not-a-digit\) needs square images, not 10"):
        Trainer(net, np.zeros((20, 10), np.uint8), np.zeros(20, int), not_a_digit=5)


def test_a_not_a_digit_output_needs_a_digit_beside_it():
    with pytest.raises(DigitnetError, match="at least one more output"):
        Network((784, 1), not_a_digit=True)
    with pytest.raises(DigitnetError, match="True or False"):
        Network((784, 11), not_a_digit="yes")


def test_a_short_run_rejects_most_fresh_noise_and_keeps_reading_digits(net, mnist):
    uniform, scribbles = (noise_experiment(net, 500, kind, seed=7) for kind in ("uniform", "scribble"))
    assert uniform["not_a_digit_share"] > 0.95 and uniform["confident_share"] < 0.02
    assert scribbles["not_a_digit_share"] > 0.5
    predicted = net.predict(mnist.test_images)
    assert np.mean(predicted == net.digits) < 0.02
    assert net.score(mnist.test_images, mnist.test_labels) > 0.94


def test_a_ten_output_network_has_no_share_to_report(trained_net):
    assert noise_experiment(trained_net, 50)["not_a_digit_share"] is None


# ---- model files ----------------------------------------------------------------------------------

def header_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(np.lib.format.read_array(archive.open("header.npy")).tobytes())


def test_the_model_file_says_what_the_last_output_means_and_what_it_learned_from(net, model, tmp_path, capsys):
    header = header_of(model)
    assert header["not_a_digit"] is True and header["sizes"][-1] == 11
    assert header["options"]["not_a_digit"] == header["negatives"] == NOT_A_DIGIT
    assert net.negatives == NOT_A_DIGIT
    net.save(tmp_path / "again.npz")
    again = Network.load(tmp_path / "again.npz")
    assert again.not_a_digit and again.output_names == net.output_names and again.negatives == NOT_A_DIGIT
    assert (again.params == net.params).all()
    assert main(["info", str(model)]) == 0
    assert "negatives   3,500 letters, 1,500 symbols, 1,500 doodles, 500 noise, 1,000 scribbles" in \
        capsys.readouterr().out
    plain = Network((784, 16, 16, 11))  # 11 outputs alone mean nothing more
    plain.save(tmp_path / "plain.npz")
    assert not Network.load(tmp_path / "plain.npz").not_a_digit


def test_old_model_files_load_with_digits_only():
    old = Network.load(OLD_MODEL)
    assert "not_a_digit" not in old.header and not old.not_a_digit and old.digits == old.sizes[-1]
    assert old.negatives is None


@pytest.mark.parametrize("negatives", [{"letters": 40, "noise": 10}, "doodles=25"])
def test_a_network_trained_through_the_api_records_its_kinds_and_counts(mnist, tmp_path, negatives):
    net = Network((784, 8, 11), "relu", "cross-entropy", not_a_digit=True)
    net.fit(mnist.train_images[:500], mnist.train_labels[:500], optimizer="adam", lr=0.01, epochs=1,
            not_a_digit=negatives)
    counts = mix(negatives, NOT_A_DIGIT)
    assert net.negatives == counts
    net.save(tmp_path / "m.npz")
    assert header_of(tmp_path / "m.npz")["negatives"] == counts
    assert Network.load(tmp_path / "m.npz").negatives == counts


def test_a_model_trained_before_kinds_existed_learned_from_noise_and_scribbles(net, tmp_path):
    """Its options hold a number: --not-a-digit N drew half uniform noise, half scribbles."""
    from digitnet import modelfile

    net.save(tmp_path / "old.npz", options={"not_a_digit": 6001})
    header = header_of(tmp_path / "old.npz")
    assert header["negatives"] == NOT_A_DIGIT  # the network's own record comes first...
    old = dict(header, negatives=None)
    assert modelfile.negatives_of(old) == {"noise": 3001, "scribbles": 3000}  # ...then the number
    assert modelfile.negatives_of(dict(old, not_a_digit=False)) is None


def test_a_checkpoint_carries_its_kinds_and_one_from_before_them_is_refused(mnist, tmp_path, capsys):
    """A number in an old checkpoint meant other images than it does now: carrying on would mix the two."""
    from digitnet import data, modelfile

    for name, images in (("train-images-idx3-ubyte", mnist.train_images[:1500]),
                         ("train-labels-idx1-ubyte", mnist.train_labels[:1500]),
                         ("t10k-images-idx3-ubyte", mnist.test_images[:200]),
                         ("t10k-labels-idx1-ubyte", mnist.test_labels[:200])):
        data.write_idx(tmp_path / name, images)
    checkpoint = tmp_path / "run.ckpt.npz"
    assert main(["train", "--data", str(tmp_path), "--validation", "200", "--epochs", "1", "--not-a-digit", "60",
                 "--checkpoint", str(checkpoint), "--out", str(tmp_path / "m.npz")]) == 0
    net, header, arrays = modelfile.load_checkpoint(checkpoint)
    assert header["options"]["not_a_digit"] == mix(60, NOT_A_DIGIT)
    assert main(["train", "--resume", str(checkpoint)]) == 0
    old = tmp_path / "old.ckpt.npz"
    record = {key: header[key] for key in ("recipe", "data", "out", "checkpoint")}
    modelfile.save(net, old, arrays={f"checkpoint_{k}": v for k, v in arrays.items()}, **record,
                   options=dict(header["options"], not_a_digit=60))
    capsys.readouterr()
    assert main(["train", "--resume", str(old)]) == 2
    assert "made before 'not a digit' learned from letters and symbols" in capsys.readouterr().err


def test_a_damaged_not_a_digit_in_the_header_is_refused(net, tmp_path):
    from digitnet import modelfile

    original = modelfile.header_of
    try:
        modelfile.header_of = lambda n, **record: {**original(n, **record), "not_a_digit": "yes"}
        net.save(tmp_path / "bad.npz")
        for bad in ({"letters": -1}, {"digits": 5}, {"noise": 2.5}):
            modelfile.header_of = lambda n, bad=bad, **record: {**original(n, **record), "negatives": bad}
            net.save(tmp_path / "bad-negatives.npz")
            with pytest.raises(DigitnetError, match="'negatives' should be kinds"):
                Network.load(tmp_path / "bad-negatives.npz")
    finally:
        modelfile.header_of = original
    with pytest.raises(DigitnetError, match="'not_a_digit' should be true or false"):
        Network.load(tmp_path / "bad.npz")


# ---- what shows an answer ---------------------------------------------------------------------------

def scribble_files(folder, net, count=12):
    """Scribbles drawn as dark ink on white paper, as a photo would be, with what ``net`` reads in each."""
    files = []
    for k, image in enumerate(scribble_noise(np.random.default_rng(3), count)):
        path = folder / f"scribble-{k}.png"
        Image.fromarray(np.uint8(255 - 255 * image.reshape(28, 28))).resize((112, 112)).save(path)
        files.append((path, net.predict_image(path)))
    return files


def test_predict_prints_not_a_digit(net, model, tmp_path, capsys):
    rejected = [path for path, answer in scribble_files(tmp_path, net) if answer == 10]
    assert rejected, "the network called every scribble a digit"
    assert main(["predict", str(model), str(rejected[0])]) == 0
    assert capsys.readouterr().out.startswith(f"{rejected[0]}: not a digit  (confidence ")
    assert main(["predict", str(model), str(rejected[0]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["digit"] is None and result["not_a_digit"] is True
    assert result["top3"][0] == {"digit": None, "not_a_digit": True, "probability": result["confidence"]}


def test_evaluate_counts_not_a_digit_as_wrong(net, model, mnist, capsys):
    assert main(["evaluate", str(model), "--data", str(MNIST)]) == 0
    out = capsys.readouterr().out
    accuracy = net.score(mnist.test_images, mnist.test_labels)
    assert out.startswith(f"accuracy {accuracy:.2%}")
    rejected = int(np.sum(net.predict(mnist.test_images) == 10))
    assert f"called not a digit: {rejected / 10000:.2%} ({rejected:,} test images" in out
    assert "none" in out.splitlines()[4] and "10:" not in out  # a column, not a digit


def test_show_noise_draws_and_counts_the_rejections(net, model, tmp_path, capsys):
    out = tmp_path / "noise.png"
    assert main(["show", "noise", str(model), "--n", "300", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    uniform, scribbles = (noise_experiment(net, 300, kind) for kind in ("uniform", "scribble"))
    assert lines[0].endswith(f"; {uniform['not_a_digit_share']:.1%} called not a digit")
    assert lines[1].endswith(f"; {scribbles['not_a_digit_share']:.1%} called not a digit")
    assert lines[2] == f"MNIST test accuracy {net.header['test_accuracy']:.2%}"
    assert Image.open(out).size[0] > 600
    # "most often" names the digit most noise is taken for, not the "not a digit" answer
    digits = scribbles["predictions"][scribbles["called_digit"]]
    assert f"(most often {np.bincount(digits).argmax()})" in lines[1]


def test_export_names_the_outputs(net, model, tmp_path):
    main(["export", str(model), str(tmp_path / "m.json")])
    written = json.loads((tmp_path / "m.json").read_text())
    assert written["outputs"] == net.output_names and len(written["layers"][-1]["b"]) == 11
    onnxruntime = pytest.importorskip("onnxruntime")
    main(["export", str(model), str(tmp_path / "m.onnx")])
    images = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    probabilities, labels = onnxruntime.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"images": images})
    np.testing.assert_allclose(probabilities, net.predict_proba(images), atol=1e-5)
    assert (labels == 10).all()


# ---- the web page's API -------------------------------------------------------------------------------

@pytest.fixture
def client(net, mnist):
    return browser(create_app(net, mnist))


def test_the_api_names_the_not_a_digit_output(client):
    described = client.get("/api/model").json()
    assert described["not_a_digit"] is True and described["outputs"][-1] == "not a digit"
    answer = client.get("/api/examples/noise?seed=1").json()
    assert answer["prediction"] == 10 and answer["answer"] == "not a digit" and len(answer["probabilities"]) == 11
    seen = client.get("/api/examples/test?index=0").json()
    assert seen["answer"] == "7" and seen["label"] == 7


def test_a_drawing_can_be_taught_to_be_not_a_digit(client, mnist):
    pixels = mnist.test_images[0].ravel().tolist()
    looked = client.post("/api/look?label=10", json={"pixels": pixels}).json()
    assert looked["cost_of_one"]["label"] == 10 and looked["cost_of_one"]["desired"][10] == 1
    step = client.post("/api/teach/image", json={"pixels": pixels, "label": 10, "lr": 0.01}).json()
    assert step["after"]["outputs"][10] > step["before"]["outputs"][10]
    for bad in ({"pixels": pixels, "label": 11}, {"pixels": pixels, "label": -1}):
        answer = client.post("/api/teach/image", json=bad)
        assert answer.status_code == 422 and "10 for not a digit" in answer.text
    assert client.post("/api/look?label=11", json={"pixels": pixels}).status_code == 422


def test_a_ten_output_network_refuses_the_label_10(trained_net, mnist):
    client = browser(create_app(trained_net, mnist))
    pixels = mnist.test_images[0].ravel().tolist()
    answer = client.post("/api/teach/image", json={"pixels": pixels, "label": 10})
    assert answer.status_code == 422 and answer.json()["detail"][0]["msg"].endswith("0 to 9, not 10")
    assert client.get("/api/examples/noise?seed=1").json()["answer"] != "not a digit"
    assert client.get("/api/model").json()["not_a_digit"] is False


def test_the_page_shows_a_letter_from_a_seed_and_the_network_turns_it_away(client, trained_net, mnist):
    one, again = (client.get("/api/examples/letter", params={"seed": 5}).json() for _ in range(2))
    assert one["input"] == again["input"] and len(one["input"]) == 784
    assert one["input"] != client.get("/api/examples/letter", params={"seed": 6}).json()["input"]
    answers = [client.get("/api/examples/letter", params={"seed": seed}).json()["answer"] for seed in range(30)]
    assert answers.count("not a digit") >= 15, answers
    assert 'id="letter"' in client.get("/").text
    plain = browser(create_app(trained_net, mnist))  # a network that cannot say so names a digit
    assert plain.get("/api/examples/letter", params={"seed": 5}).json()["answer"] in "0123456789"
