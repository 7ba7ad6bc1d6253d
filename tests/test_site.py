"""The page as a static site (digitnet site): the folder it writes, and that folder served by a
plain static server, under a sub-path, with no digitnet process, in real headless Chromium: drawing
with the mouse and a finger, teaching a step and undoing it, training in a Web Worker; never a
request to /api/ nor outside the folder, and no script error."""

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from digitnet import Network
from digitnet.cli import main

from .test_web_browser import CHROMIUM, ONE, THREE, answer_after_drawing, draw_with_a_finger

SEVEN = [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2)] + [(0.75 - 0.3 * t / 10, 0.2 + 0.65 * t / 10) for t in range(1, 11)]


@pytest.fixture(scope="module")
def site(tmp_path_factory, default_model):
    """`digitnet site` of the default model, inside a folder the static server serves as its root."""
    root = tmp_path_factory.mktemp("host")
    out = root / "some" / "path"
    out.parent.mkdir()
    assert main(["site", str(default_model), str(out)]) == 0
    return out


def test_the_folder_is_small_and_self_contained(site, default_model):
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "static/app.js", "static/local.js", "static/trainer.js", "data/site.json",
            "data/model.f32", "data/train-images.u8.gz", "data/test-labels.u8"} <= files
    assert sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) <= 8 << 20
    page = (site / "index.html").read_text()
    assert 'content="browser"' in page and 'content="server"' not in page
    for f in site.rglob("*.js"):  # relative addresses only: the folder works under any path
        text = f.read_text()
        assert "http://" not in text.replace("http://www.w3.org", "").replace('"http://page"', "") and \
            "https://" not in text, f
    served = (Path(__file__).parent.parent / "digitnet" / "web" / "static")
    assert (site / "static" / "app.js").read_bytes() == (served / "app.js").read_bytes()  # one page, not a fork
    net = Network.load(default_model)
    np.testing.assert_array_equal(np.fromfile(site / "data" / "model.f32", "<f4"), net.params)
    about = json.loads((site / "data" / "site.json").read_text())
    assert about["data"] == {"train": 10000, "test": 2000, "seed": 0}
    assert set(about["experiments"]) == {"memorize", "landscape", "sigmoid-vs-relu"}
    assert all(e["state"] == "done" for e in about["experiments"].values())
    assert len(about["dreams"]) == 10 and len(about["dreams"][3]) == 784


def test_mistakes_are_one_line(tmp_path, default_model, capsys):
    assert main(["site", str(tmp_path / "missing.npz"), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert main(["site", str(default_model), str(full)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and err.strip().count("\n") == 0
    assert (full / "keep.txt").read_text() == "mine"  # nothing was touched


@pytest.fixture(scope="module")
def host(site):
    """A plain static file server (no digitnet) for the folder above the site; the site's address."""
    handler = functools.partial(Quiet, directory=str(site.parent.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/some/path/"
    server.shutdown()
    thread.join(10)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-background-networking"])
        yield browser
        browser.close()


def opened(browser, host, fragment="", **options):
    """The site's page, loaded; its context, the page, and lists of script errors and of requests
    to /api/ or outside the folder, for the test to check."""
    context = browser.new_context(**({"viewport": {"width": 1280, "height": 900}} | options))
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems, strays = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("request", lambda r: (r.url.startswith(host) and "/api/" not in r.url) or r.url.startswith(
        ("data:", "blob:")) or strays.append(r.url))
    page.goto(host + fragment)
    page.wait_for_selector("#net circle.hidden")
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    return context, page, problems, strays


def answer(page, points):
    answer_after_drawing(page, points)
    return page.locator("#digit").text_content()


def test_drawing_teaching_and_training_in_the_browser(browser, host, output_dir):
    context, page, problems, strays = opened(browser, host)
    assert "in your browser" in page.locator("footer").text_content()
    assert page.locator("#accuracy").text_content().endswith("%")
    assert answer(page, ONE) == "1"
    assert page.locator("#net circle.neuron[fill]").count() > 40  # the layers light up
    page.click("#clear")
    assert answer(page, THREE) == "3"

    # a neuron's weights, and an edit that changes the answer's numbers
    page.locator("#net g.unit").first.click()
    page.wait_for_selector("#neuron-body:not([hidden])")
    assert "incoming weights" in page.locator("#pattern-caption").text_content()
    before = page.evaluate("digitnet.look.probabilities")
    page.check("#off")
    page.wait_for_function("digitnet.model.edits.length === 1")
    page.wait_for_function(f"JSON.stringify(digitnet.look.probabilities) !== '{json.dumps(before)}'")
    page.click("#reset")
    page.wait_for_function("digitnet.model.edits.length === 0")

    # the cost of the example, one teaching step and its undo
    page.click("#labels button[data-digit='8']")
    page.wait_for_function("digitnet.look.cost_of_one && digitnet.look.cost_of_one.label === 8")
    assert "the cost C" in page.locator("#cost-sum").text_content()
    page.click("#teach")
    page.wait_for_selector("#step-result:not([hidden])")
    assert page.locator("#nudges li").count() == 20 and page.locator("#tiles canvas").count() == 16
    step = page.evaluate("digitnet.step")
    assert step["after"]["cost"] < step["before"]["cost"]
    page.wait_for_function("!document.getElementById('undo').disabled")
    page.click("#undo")
    page.wait_for_function("digitnet.model.undo_steps === 0 && !digitnet.model.taught")
    assert "Undone" in page.locator("#teach-status").text_content()

    # the 100-step batch
    page.click("#batch")
    page.wait_for_selector("#batch-chart:not([hidden])")
    assert "100 steps" in page.locator("#teach-status").text_content()

    # an experiment's exported results
    page.click("#memorize-panel summary")
    page.click("#memorize-panel .run")
    page.wait_for_function("document.querySelector('#memorize-panel .status').textContent.startsWith('Done.')")

    # a dream worked out at export, and said to be
    page.click("#dream")
    page.wait_for_function("document.getElementById('caption').textContent.includes('exported network')")

    # training a fresh network in the worker: a request out of the schema's bounds is refused, as the server does
    form = page.locator("#train-form")
    form.locator("[name=hidden]").fill("0")
    page.click("#start")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('hidden:')")
    assert "1 to 128" in page.locator("#train-status").text_content()
    # one epoch, paused after it, then the page uses it
    form.locator("[name=hidden]").fill("16")
    form.locator("[name=epochs]").fill("2")
    form.locator("[name=images]").fill("10000")
    page.click("#step")
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('Paused.')")
    page.wait_for_selector("#chart[data-points='1']")
    page.wait_for_function("document.getElementById('shape').textContent.includes('784-16-10')")
    first = page.evaluate("digitnet.training.history[0]")
    assert first["test_accuracy"] > 0.8  # from a random start's one in ten
    assert page.locator("#accuracy").text_content() == f"{100 * first['test_accuracy']:.2f} %"
    page.click("#pause")  # resume: the second epoch
    page.wait_for_function("document.getElementById('train-status').textContent.startsWith('Done.')")
    with page.expect_download() as download:
        page.click("#save")
    assert download.value.suggested_filename == "digitnet-784-16-10.npz"
    saved = Network.load(download.value.path())
    assert list(saved.sizes) == [784, 16, 10] and len(saved.header["history"]) == 2
    page.screenshot(path=output_dir / "site-trained.png", full_page=True)
    context.close()
    assert not problems, problems
    assert not strays, strays


def test_a_seven_drawn_with_a_finger_on_a_phone(browser, host, output_dir):
    context, page, problems, strays = opened(browser, host, viewport={"width": 390, "height": 844},
                                             has_touch=True, is_mobile=True)
    draw_with_a_finger(context, page, SEVEN)
    assert page.locator("#digit").text_content() == "7"
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=output_dir / "site-phone.png")
    context.close()
    assert not problems, problems
    assert not strays, strays




def test_a_classroom_link_hides_panels_and_sets_the_training(browser, host):
    link = "#hide=neuron,lab&open=memorize&hidden=32,16&activation=sigmoid&cost=quadratic&optimizer=sgd&lr=0.5"
    context, page, problems, strays = opened(browser, host, link)
    assert page.locator("#neuron-panel").is_hidden() and page.locator("#lab").is_hidden()
    assert page.locator("#draw-panel").is_visible() and page.locator("#train-panel").is_visible()
    assert page.evaluate("document.getElementById('memorize-panel').open")
    form = page.locator("#train-form")
    assert [form.locator(f"[name={n}]").input_value() for n in ("hidden", "activation", "cost", "optimizer", "lr")] \
        == ["32,16", "sigmoid", "quadratic", "sgd", "0.5"]
    assert form.locator("[name=images]").input_value() == "10000"  # the default, no more than the site has
    assert "σ(z)" in page.locator("#train-about").text_content()  # the choice in words, with no hover
    page.click("#link")
    assert page.evaluate("location.hash").startswith("#hide=neuron,lab&open=memorize&hidden=32,16&activation=sigmoid")
    page.evaluate("location.hash = 'hide=nope&activation=softsign&epochs=3'")
    page.wait_for_selector("#notice:not([hidden])")
    notice = page.locator("#notice").text_content()
    assert 'no panel "nope"' in notice and 'activation cannot be "softsign"' in notice
    assert page.locator("#neuron-panel").is_visible()
    assert form.locator("[name=epochs]").input_value() == "3"
    context.close()
    assert not problems, problems
    assert not strays, strays


def test_once_loaded_it_works_offline(browser, host):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    with page.expect_response("**/data/train-labels.u8"), page.expect_response("**/data/train-images.u8.gz"):
        page.goto(host)  # the training images follow the first answer on their own
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    context.set_offline(True)
    page.click("#batch")
    page.wait_for_selector("#batch-chart:not([hidden])")
    assert "100 steps" in page.locator("#teach-status").text_content()
    context.close()
    assert not problems, problems


def test_a_site_missing_a_file_says_which(browser, host, site):
    """A host that lost a file: the page says which, in one line, rather than hanging."""
    broken = site.parent / "broken"
    shutil.copytree(site, broken)
    (broken / "data" / "model.f32").unlink()
    context = browser.new_context()
    page = context.new_page()
    page.goto(host.replace("/some/path/", "/some/broken/"))
    page.wait_for_function("document.getElementById('caption').textContent.startsWith('Cannot start')")
    assert page.locator("#caption").text_content() == \
        "Cannot start the network: cannot load model.f32: 404 File not found"
    context.close()
