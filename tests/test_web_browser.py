"""The web page in real headless Chromium, driven by Playwright, against a real
uvicorn server: draw, look inside, tweak, experiment and train as a person would; and
chapter 2: the cost of a drawing as it is drawn, teaching it a wrong answer until the
network changes its mind, and the experiments run live."""

import math
import socket
import threading
import time
from pathlib import Path

import pytest

from digitnet import Network
from digitnet.functions import ACTIVATIONS, COSTS
from digitnet.optimizers import OPTIMIZERS
from digitnet.web import create_app

CHROMIUM = "/usr/bin/chromium"
DARK = "rgb(11,22,38)"  # an unlit neuron

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}")


@pytest.fixture
def served(request, trained_net):
    """The network the server starts with: the trained default, or, for a test parametrized
    indirectly, the fixture of that name's."""
    return request.getfixturevalue(request.param) if hasattr(request, "param") else trained_net


@pytest.fixture
def web_app(served, mnist, tmp_path):
    return create_app(served, mnist, save_path=tmp_path / "web.npz")


@pytest.fixture
def server(web_app):
    """The app under uvicorn on a free port of 127.0.0.1, in a thread, stopped afterwards."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = web_app
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """The page, loaded; afterwards, no script errors and nothing fetched from elsewhere."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems, elsewhere = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))

    def only_ours(route):
        if route.request.url.startswith((server, "data:")):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto(server)
    page.wait_for_selector("#net circle.hidden")
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    yield page
    context.close()
    assert not problems, problems
    assert not elsewhere, elsewhere


def draw(page, points):
    """One pen stroke through ``points``, given as fractions of the canvas."""
    box = page.locator("#canvas").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:  # one event a point: the page joins them with straight lines, and each event waits a frame
        page.mouse.move(x, y)
    page.mouse.up()


ONE = [(0.52, 0.15 + 0.7 * t / 20) for t in range(21)]
THREE = ([(0.5 + 0.22 * math.cos(a), 0.32 + 0.14 * math.sin(a))
          for a in (-math.pi * 0.8 + t / 40 * math.pi * 1.3 for t in range(41))] +
         [(0.5 + 0.24 * math.cos(a), 0.64 + 0.17 * math.sin(a))
          for a in (-math.pi * 0.5 + t / 40 * math.pi * 1.3 for t in range(41))])


# No prediction on its way or waiting to go. Once the stroke has ended (the mouse's or finger's last event is
# handled before Playwright's call returns), the page has asked, or is waiting to ask, about the finished
# drawing: settled after that, the answer shown is the finished drawing's.
SETTLED = "!digitnet.inFlight && !digitnet.timer"


def answer_after_drawing(page, points):
    """Draw, then wait for the prediction of the finished stroke, and return it."""
    page.evaluate("window.before = digitnet.look")
    draw(page, points)
    page.wait_for_function(f"digitnet.look !== window.before && {SETTLED} && digitnet.look.input.some(v => v > 0)")
    return page.evaluate("digitnet.look")


def test_drawing_a_digit_shows_the_answer_and_lights_neurons(page, output_dir):
    assert page.locator("#digit").text_content() == "?"
    look = answer_after_drawing(page, THREE)
    assert look["prediction"] == 3
    assert page.locator("#digit").text_content() == "3"
    assert page.locator(".bar.best").get_attribute("data-digit") == "3"
    assert page.locator("#net circle.output.best").get_attribute("data-neuron") == "3"
    assert page.locator("#net .label.best").text_content() == "3"
    fills = page.eval_on_selector_all("#net circle.hidden", "cs => cs.map(c => c.getAttribute('fill'))")
    lit = [f for f in fills if f != DARK]
    assert len(fills) == 32 and 0 < len(lit) < 32
    assert page.locator("#input-image").get_attribute("href").startswith("data:image/png")
    assert page.locator("#input-caption").text_content() == "what the network sees: 28×28, deskewed"
    page.screenshot(path=output_dir / "web-drawn-3.png", full_page=True)

    page.click("#clear")
    look = answer_after_drawing(page, ONE)
    assert look["prediction"] == 1 and page.locator("#digit").text_content() == "1"


def test_the_eraser_rubs_out_and_the_answer_goes_back_to_blank(page):
    answer_after_drawing(page, ONE)
    page.click("#eraser")
    draw(page, ONE)  # the eraser is twice as wide as the pen
    page.wait_for_function(f"digitnet.look.input.every(v => v === 0) && {SETTLED}")
    assert page.locator("#digit").text_content() == "?"
    assert page.locator("#net .best").count() == 0


def draw_with_a_finger(context, page, stroke):
    """Draw ``stroke`` (points as fractions of the canvas) with touch events, as a phone sends them, and
    wait for the page's answer."""
    box = page.locator("#canvas").bounding_box()
    cdp = context.new_cdp_session(page)
    points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
    for kind, (x, y) in [("touchStart", points[0])] + [("touchMove", p) for p in points[1:]]:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function(f"digitnet.look.input.some(v => v > 0) && {SETTLED}")


def test_drawing_with_a_finger(browser, server):
    """Touch events, as a phone sends them, draw just as the mouse does."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server)
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    draw_with_a_finger(context, page, ONE)
    assert page.locator("#digit").text_content() == "1"
    assert page.evaluate("window.scrollY") == 0  # the finger drew rather than scrolled the page
    context.close()


def test_clicking_a_neuron_shows_its_weights(page, trained_net):
    page.click('#net circle.hidden[data-layer="0"][data-neuron="4"]')
    page.wait_for_selector("#neuron-body:not([hidden])")
    assert page.locator("#neuron-title").text_content() == "Hidden layer 0, neuron 4"
    assert page.locator("#n-bias").text_content() == f"{trained_net.biases[0][4]:.3f}"
    assert "incoming weights" in page.locator("#pattern-caption").text_content()
    assert "selected" in page.locator('#net circle.hidden[data-layer="0"][data-neuron="4"]').get_attribute("class")
    # The 28×28 picture of its weights: blue where positive, red where negative.
    blue, red = page.evaluate("""() => {
        const d = document.getElementById('pattern').getContext('2d').getImageData(0, 0, 28, 28).data;
        let blue = 0, red = 0;
        for (let i = 0; i < d.length; i += 4) { blue += d[i + 2] > d[i] + 40; red += d[i] > d[i + 2] + 40; }
        return [blue, red];
    }""")
    W = trained_net.weights[0][4]
    assert blue > 0 and red > 0
    assert abs(blue - (W > 0.1 * abs(W).max()).sum()) < 200  # about as many blue pixels as clear positive weights

    page.click('#net circle.hidden[data-layer="1"][data-neuron="0"]')
    page.wait_for_function("document.getElementById('neuron-title').textContent.endsWith('layer 1, neuron 0')")
    assert "multiplied through" in page.locator("#pattern-caption").text_content()


def test_tweaking_a_bias_changes_the_output_and_reset_undoes_it(page):
    before = answer_after_drawing(page, THREE)
    # The most active neuron of the second hidden layer: a bias shift moves its a, so the output moves too.
    j = max(range(16), key=lambda i: before["layers"][1][i])
    neuron = f'#net circle.hidden[data-layer="1"][data-neuron="{j}"]'
    page.click(neuron)
    page.wait_for_selector("#neuron-body:not([hidden])")
    z = before["zs"][1][j]
    assert page.locator("#n-z").text_content() == f"{z:.3f}"

    page.locator("#bias-shift").fill("5")
    page.wait_for_function(f"Math.abs(digitnet.look.zs[1][{j}] - ({z} + 5)) < 1e-3")
    after = page.evaluate("digitnet.look")
    # The output's z moves; its probabilities may not at the 4 decimals shown when the answer is sure.
    assert after["zs"][-1] != before["zs"][-1]
    assert after["layers"][1][j] > before["layers"][1][j]
    assert float(page.locator("#n-z").text_content()) == pytest.approx(z + 5, abs=1.5e-3)  # z is rounded too
    assert page.locator("#bias-out").text_content() == "5.0"
    assert "edited" in page.locator(neuron).get_attribute("class")

    page.locator("#off").check()
    page.wait_for_selector(neuron.replace("hidden", "hidden.off"))
    page.click("#reset")
    page.wait_for_function(f"Math.abs(digitnet.look.zs[1][{j}] - {z}) < 1e-3 && "
                           "!document.querySelector('#net .off')")
    assert page.evaluate("digitnet.look.probabilities") == before["probabilities"]
    assert page.locator("#bias-shift").input_value() == "0"


def test_experiment_buttons(page, mnist):
    page.click("#test-image")
    page.wait_for_function("document.getElementById('caption').textContent.startsWith('A test image labelled')")
    label = page.evaluate("digitnet.look.label")
    assert f"labelled {label}" in page.locator("#caption").text_content()
    page.click("#noise")
    page.wait_for_function("document.getElementById('caption').textContent.startsWith('Pure noise')")
    assert page.evaluate("digitnet.look.input.filter(v => v > 0).length") > 700
    page.select_option("#dream-digit", "6")
    page.click("#dream")
    page.wait_for_function("document.getElementById('caption').textContent.includes('shout \"6\"')")
    assert page.evaluate("digitnet.look.prediction") == 6


@pytest.mark.parametrize("served", ["not_a_digit_net"], indirect=True)
def test_a_network_that_can_say_not_a_digit_says_so(page, output_dir):
    labels = page.eval_on_selector_all("#net .label", "ts => ts.map(t => t.textContent)")
    assert labels == [*"0123456789", "none"]
    assert page.eval_on_selector_all(".bar > span:first-child", "s => s.map(e => e.textContent)")[-1] == "none"
    assert page.locator("#labels button").last.text_content() == "none"
    page.click("#noise")
    page.wait_for_function("document.getElementById('caption').textContent.startsWith('Pure noise')")
    assert page.evaluate("digitnet.look.prediction") == 10
    assert "the network says it is not a digit" in page.locator("#caption").text_content()
    assert page.locator("#digit").text_content() == "none"
    assert page.locator("#confidence").text_content().endswith("sure it is not a digit")
    page.locator("#labels button").last.click()
    assert page.locator("#teach").text_content().startswith("This is not a digit")
    page.screenshot(path=output_dir / "web-not-a-digit.png", full_page=True)
    page.click("#clear")
    assert answer_after_drawing(page, ONE)["prediction"] == 1  # a digit is still a digit


def test_training_live_the_curve_grows(page, output_dir):
    page.fill("#train-form [name=hidden]", "8")
    page.fill("#train-form [name=epochs]", "2")
    page.fill("#train-form [name=images]", "600")
    page.fill("#train-form [name=batch_size]", "30")
    page.fill("#train-form [name=lr]", "0.01")
    page.click("#step")  # one epoch, then pause
    page.wait_for_selector("#chart[data-points='1']")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('Paused.')")
    assert "epoch 1/2" in page.locator("#train-status").text_content()
    page.wait_for_function("document.getElementById('shape').textContent.includes('784-8-10')")
    assert page.locator("#net circle.hidden").count() == 8
    assert page.locator("#input-caption").text_content() == "what the network sees: 28×28"  # trained here, as is
    assert page.locator("#pause").text_content() == "Resume"
    page.click("#pause")
    page.wait_for_selector("#chart[data-points='2']")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('Done.')")
    curve = page.evaluate("""() => {
        const d = document.getElementById('chart').getContext('2d').getImageData(0, 0, 600, 200).data;
        let gold = 0; for (let i = 0; i < d.length; i += 4) gold += d[i] > 200 && d[i + 1] > 150 && d[i + 2] < 150;
        return gold; }""")
    assert curve > 50  # the test accuracy line is drawn
    with page.expect_download() as download:
        page.click("#save")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('Saved')")
    assert page.locator("#train-status").text_content().endswith("web.npz.")  # at the server's computer
    assert download.value.suggested_filename == "digitnet-784-8-10.npz"
    assert list(Network.load(download.value.path()).sizes) == [784, 8, 10]
    page.screenshot(path=output_dir / "web-trained.png", full_page=True)


def test_the_page_fits_a_phone(page, output_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    answer_after_drawing(page, THREE)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    canvas = page.locator("#canvas").bounding_box()
    assert canvas["width"] > 200 and canvas["x"] >= 0
    page.screenshot(path=output_dir / "web-phone.png", full_page=True)


def test_the_train_panels_choices_come_from_the_registries(page):
    for name, registry in (("activation", ACTIVATIONS), ("cost", COSTS), ("optimizer", OPTIMIZERS)):
        shown = page.eval_on_selector_all(f"#train-form [name={name}] option", "os => os.map(o => [o.value, o.title])")
        assert shown == [[key, entry.about] for key, entry in registry.items()]
    assert page.locator("#train-form [name=hidden]").input_value() == "16,16"
    assert page.locator("#dream-digit option").count() == 10


def test_two_visitors_pages_do_not_change_each_other(browser, server):
    """Each browser (its own cookies) has its own network: one switching neurons off leaves the other's alone."""
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        pages.append(context.new_page())
        pages[-1].goto(server)
        pages[-1].wait_for_function("window.digitnet && digitnet.look !== null")
    editor, other = pages
    before = answer_after_drawing(other, THREE)
    editor.click('#net circle.hidden[data-layer="1"][data-neuron="0"]')
    editor.wait_for_selector("#neuron-body:not([hidden])")
    editor.locator("#off").check()
    editor.wait_for_selector('#net circle.hidden.off')
    assert other.evaluate("fetch('/api/model').then(r => r.json()).then(m => m.edits.length)") == 0
    other.click("#clear")
    assert answer_after_drawing(other, ONE)["prediction"] == 1 and other.locator("#net .off").count() == 0
    assert before["prediction"] == 3
    for p in pages:
        p.context.close()


# ---- chapter 2: the cost of one example, a step downhill, the experiments --------------------------


def text(page, selector):
    return page.locator(selector).text_content()


def pick(page, digit):
    page.click(f"#labels button[data-digit='{digit}']")
    page.wait_for_function(f"digitnet.look.cost_of_one && digitnet.look.cost_of_one.label === {digit} && {SETTLED}")


def shown_cost(page):
    """The cost of this example as the table's sum line shows it."""
    return float(text(page, "#cost-sum strong"))


def test_the_cost_of_a_drawing_changes_as_it_is_drawn(page, output_dir):
    pick(page, 3)
    assert "Pick" not in text(page, "#cost-sum")
    draw(page, THREE[:41])  # the top half of a 3
    page.wait_for_function(f"digitnet.look.input.some(v => v > 0) && {SETTLED}")
    half = page.evaluate("digitnet.look.cost_of_one")
    assert shown_cost(page) == pytest.approx(half["cost"], abs=1e-4)
    draw(page, THREE[41:])
    page.wait_for_function(f"digitnet.look.cost_of_one.cost !== {half['cost']} && {SETTLED}")
    whole = page.evaluate("digitnet.look.cost_of_one")
    assert whole["cost"] < half["cost"]  # a whole 3 is a cheaper 3
    rows = page.locator("#cost-table tbody tr")
    assert rows.count() == 10 and "right" in rows.nth(3).get_attribute("class")
    outputs = [float(rows.nth(d).locator("td").nth(1).text_content()) for d in range(10)]
    assert outputs == pytest.approx(whole["outputs"], abs=1e-4)
    assert "test images" in text(page, "#average-cost")
    page.locator("#lesson-panel").screenshot(path=output_dir / "web-cost-of-a-drawing.png")
    page.click("#clear")  # a new drawing: which digit it should be is asked again
    page.wait_for_function("digitnet.label === null")
    assert text(page, "#teach").startswith("Pick")


def test_teach_a_drawing_a_wrong_answer_until_it_changes_its_mind(page, output_dir):
    look = answer_after_drawing(page, THREE)
    assert look["prediction"] == 3
    accuracy = text(page, "#accuracy")
    probabilities = look["probabilities"]
    wrong = max((d for d in range(10) if d != 3), key=lambda d: probabilities[d])  # the runner-up
    pick(page, wrong)
    assert text(page, "#teach") == f"This is a {wrong}"
    steps = []
    for _ in range(30):
        page.evaluate("window.before = digitnet.step")
        page.click("#teach")
        page.wait_for_function(f"digitnet.step !== window.before && digitnet.step !== null && {SETTLED} && "
                               "!document.getElementById('teach').disabled")
        steps.append(page.evaluate("digitnet.step"))
        if text(page, "#digit") == str(wrong):
            break
    assert text(page, "#digit") == str(wrong), [s["after"]["probabilities"] for s in steps]
    assert all(s["after"]["cost"] < s["before"]["cost"] for s in steps)  # every step downhill
    assert steps[-1]["after"]["prediction"] == wrong and "changed its mind" in text(page, "#teach-status")
    # Before and after side by side, and the nudges.
    table = page.locator("#before-after")
    assert table.locator("td[data-side=after][data-is=answer]").text_content().startswith(str(wrong))
    assert page.locator("#nudges li").count() == 20 and page.locator("#tiles canvas").count() == 16
    assert page.locator("#shares .share").count() == 3
    assert text(page, "#accuracy") != accuracy  # what teaching one example did to the test accuracy
    page.screenshot(path=output_dir / "web-taught.png", full_page=True)
    page.locator("#lesson-panel").screenshot(path=output_dir / "web-taught-lesson.png")

    page.click("#undo")
    page.wait_for_function(f"digitnet.model.undo_steps === {len(steps) - 1} && {SETTLED}")
    assert page.evaluate("digitnet.look.prediction") == steps[-1]["before"]["prediction"]
    page.click("#start-over")
    page.wait_for_function(f"!digitnet.model.taught && {SETTLED}")
    assert text(page, "#accuracy") == accuracy and text(page, "#digit") == "3"
    assert page.locator("#undo").is_disabled() and page.locator("#start-over").is_disabled()


def test_a_test_image_taught_its_label_and_the_batch(page, mnist):
    page.click("#test-image")
    page.wait_for_function("digitnet.testIndex !== null && digitnet.look.cost_of_one !== null")
    look = page.evaluate("digitnet.look")
    assert look["cost_of_one"]["label"] == look["label"] == page.evaluate("digitnet.label")
    assert page.locator("#labels button.on").text_content() == str(look["label"])
    assert text(page, "#teach") == f"This is a {look['label']} (its label)"
    page.click("#teach")
    page.wait_for_function("digitnet.step !== null")
    step = page.evaluate("digitnet.step")
    assert step["before"]["label"] == int(mnist.test_labels[look["index"]])
    page.click("#batch")
    page.wait_for_function("document.getElementById('teach-status').textContent.startsWith('100 steps')")
    page.wait_for_function("digitnet.model.undo_steps === 2")  # the model is asked for again after the batch
    assert page.locator("#batch-chart").is_visible()


def open_experiment(page, kind):
    page.click(f"#{kind}-panel summary")
    page.wait_for_selector(f"#{kind}-panel .run")


def test_the_memorize_panel_grows_its_two_cost_curves(page, output_dir):
    open_experiment(page, "memorize")
    assert "training images" in text(page, "#memorize-explain")
    page.fill("#memorize-images", "300")
    page.fill("#memorize-epochs", "100")
    page.click("#memorize-panel .run")
    page.wait_for_selector("#memorize-panel[data-state=done]")
    assert page.locator("#memorize-panel .plot").get_attribute("data-epochs") == "100,100"
    assert "test images" in text(page, "#memorize-panel .status")
    page.locator("#memorize-panel").screenshot(path=output_dir / "web-memorize.png")


def test_the_landscape_panel_rolls_the_ball_and_follows_training(page, output_dir):
    open_experiment(page, "landscape")
    page.click("#landscape-panel .run")
    page.wait_for_selector("#landscape-panel .plot[data-rolled]")
    path = page.evaluate("digitnet.experiment.result.path")
    assert page.locator("#landscape-panel .plot").get_attribute("data-epoch") == str(path["epochs"][-1])
    status = text(page, "#landscape-panel .status")
    assert "goes down on the plane from a cost of" in status and "at the epochs' own weights, off the plane" in status
    page.locator("#landscape-panel").screenshot(path=output_dir / "web-landscape.png")
    # Follow a live training run: the path grows epoch by epoch.
    page.fill("#train-form [name=hidden]", "8")
    page.fill("#train-form [name=epochs]", "3")
    page.fill("#train-form [name=images]", "600")
    page.fill("#train-form [name=batch_size]", "30")
    page.click("#start")
    page.wait_for_function("digitnet.training.state === 'done' && digitnet.experiment.kind === 'landscape' && "
                           "digitnet.experiment.state === 'done' && digitnet.experiment.result.path && "
                           "digitnet.experiment.result.path.epochs.length === 4", timeout=60_000)
    page.wait_for_selector("#landscape-panel .plot[data-rolled][data-epoch='3']")
    page.locator("#landscape-panel").screenshot(path=output_dir / "web-landscape-followed.png")


def test_the_sigmoid_vs_relu_panel_shows_progress_and_stops(page, output_dir):
    open_experiment(page, "sigmoid-vs-relu")
    page.click("#sigmoid-vs-relu-panel .run")
    page.wait_for_function("digitnet.experiment && digitnet.experiment.done >= 8")  # more than an epoch of each
    assert text(page, "#sigmoid-vs-relu-panel .status").startswith("Running:")
    assert int(page.locator("#sigmoid-vs-relu-panel .plot").get_attribute("data-networks")) == 6
    page.locator("#sigmoid-vs-relu-panel").screenshot(path=output_dir / "web-sigmoid-vs-relu.png")
    page.click("#sigmoid-vs-relu-panel .stop")
    page.wait_for_selector("#sigmoid-vs-relu-panel[data-state=stopped]")
    assert text(page, "#sigmoid-vs-relu-panel .status").startswith("Stopped (stopped) after")
    assert page.locator("#sigmoid-vs-relu-panel .stop").is_disabled()


FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@pytest.fixture
def named_net(trained_net):
    """The default network, its outputs named as a Fashion-MNIST model's are."""
    named = Network(trained_net.sizes, trained_net.activation.name, trained_net.cost.name, classes=FASHION)
    named.params[...] = trained_net.params
    return named


@pytest.mark.parametrize("served", ["named_net"], indirect=True)
def test_a_model_that_names_its_classes_is_shown_with_the_names(page):
    assert page.eval_on_selector_all("#net .label", "ts => ts.map(t => t.textContent)") == list(FASHION)
    assert page.eval_on_selector_all(".bar > span:first-child", "s => s.map(e => e.textContent)") == list(FASHION)
    assert page.eval_on_selector_all("#dream-digit option", "os => os.map(o => o.textContent)") == list(FASHION)
    page.click("#test-image")
    page.wait_for_function("document.getElementById('caption').textContent.startsWith('A test image')")
    look = page.evaluate("digitnet.look")
    assert f"labelled {FASHION[look['label']]}: the network says {FASHION[look['prediction']]}" in \
        page.locator("#caption").text_content()
    assert page.locator("#digit").text_content() == FASHION[look["prediction"]]
    page.locator("#labels button").nth(5).click()
    assert page.locator("#teach").text_content().startswith("This is a Sandal")


# ---- sessions: a full class, and a session that ended -------------------------------------------


def fresh_page(browser, server):
    """A page in a browser of its own (its own cookies), loaded; script errors go in ``page.errors``.
    Unlike ``page``'s, the console may log the 409s and 410s these tests provoke."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server)
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    return page


def switch_off(page, layer, neuron):
    page.click(f'#net circle.hidden[data-layer="{layer}"][data-neuron="{neuron}"]')
    page.wait_for_selector("#neuron-body:not([hidden])")
    page.locator("#off").check()


def test_a_visitor_whose_session_ended_is_told_so_and_what_was_lost(browser, server, web_app, output_dir):
    from digitnet.web.sessions import Sessions

    page = fresh_page(browser, server)
    page.fill("#train-form [name=hidden]", "8")
    page.fill("#train-form [name=epochs]", "3")
    page.fill("#train-form [name=images]", "600")
    page.click("#step")  # one epoch of a run, then paused
    page.wait_for_function("digitnet.training.state === 'paused' && digitnet.training.history.length === 1 && "
                           "!digitnet.training.busy")
    page.wait_for_function("digitnet.model.sizes.join() === '784,8,10'")
    switch_off(page, 0, 3)
    page.wait_for_function("digitnet.model.edits.length === 1")
    assert page.locator("#notice").is_hidden()

    web_app.state.sessions = Sessions()  # the server restarts: it no longer knows this browser's key
    page.locator("#canvas").scroll_into_view_if_needed()
    draw(page, ONE)  # the visitor comes back and draws
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert notice.text_content().startswith("Your session has ended (the server was restarted): your edits, "
                                            "teaching, training and experiments are gone; reload the page")
    assert "Lost with it: your 1 hand edit and your training run (paused at epoch 1 of 3)." in notice.text_content()
    notice.screenshot(path=output_dir / "web-session-ended.png")

    notice.locator("button", has_text="Reload").click()  # a fresh start, and still told why
    page.wait_for_function("window.digitnet && digitnet.look !== null && digitnet.model !== null")
    notice.wait_for(state="visible")
    assert notice.text_content() == ("Your last session on this server ended before this page was loaded (the server "
                                     "was restarted), and its work with it: your 1 hand edit and your training run "
                                     "(paused at epoch 1 of 3). This page starts afresh from the served network.")
    assert page.evaluate("digitnet.model.edits.length") == 0 and page.evaluate("digitnet.model.editing")
    assert page.evaluate("document.cookie") == ""  # told once: the server's note is gone
    page.reload()
    page.wait_for_function("window.digitnet && digitnet.model !== null")
    assert page.locator("#notice").is_hidden()
    assert not page.errors, page.errors
    page.context.close()


def test_a_newcomer_to_a_full_class_can_draw_and_is_told_why_editing_is_off(browser, server, web_app):
    web_app.state.classroom.max_sessions = 1
    first = fresh_page(browser, server)
    switch_off(first, 0, 1)
    first.wait_for_function("digitnet.model.edits.length === 1")
    late = fresh_page(browser, server)
    notice = late.locator("#notice")
    notice.wait_for(state="visible")
    assert notice.text_content().startswith("The class is full (1 visitors are working): you can draw and look, "
                                            "but editing is off")
    assert answer_after_drawing(late, ONE)["prediction"] == 1  # drawing works, on the served network
    switch_off(late, 0, 2)
    late.wait_for_function("document.querySelector('#caption').textContent.startsWith('the class is full')")
    assert late.evaluate("digitnet.model.edits.length") == 0 and first.evaluate("digitnet.model.edits.length") == 1
    assert not first.errors and not late.errors, first.errors + late.errors
    for page in (first, late):
        page.context.close()


def test_a_classroom_link_sets_up_the_served_page_too(browser, server):
    """The address's fragment (link.js) hides panels and sets the Train panel's options on the served page as on
    the static site (tests/test_site.py)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/#hide=lab,neuron&epochs=3&optimizer=sgd")
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    assert page.locator("#lab").is_hidden() and page.locator("#neuron-panel").is_hidden()
    assert page.locator("#answer-panel").is_visible()
    form = page.locator("#train-form")
    assert form.locator("[name=epochs]").input_value() == "3"
    assert form.locator("[name=optimizer]").input_value() == "sgd"
    assert page.locator("#notice").is_hidden()
    context.close()
