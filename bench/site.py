"""How fast the static site (`digitnet site`) is in the browser: headless Chromium on this machine,
the folder served by a plain `http.server` from localhost, no digitnet process.

    python bench/site.py                    # about a minute
    python bench/site.py --model model.npz

It trains the default model first (`digitnet train`, its defaults) unless given one, writes the site,
and measures, against its targets:

- the first answer: from opening the page to the answer to its blank canvas drawn (at most 2 s);
- a prediction: the browser engine's answer to a drawing (digitize.js and a forward pass, every
  layer's a and z), median of 200 (at most 5 ms);
- a teaching step: one step on a test image with its nudges and the test scores after it, then
  undone (not timed), median of 50 (at most 20 ms);
- an epoch of the 16-16 network (the Train panel's defaults) on the site's 10,000 training images in
  the Web Worker (at most 1.5 s), as the worker times it, and the whole epoch with its test scores;
- the longest gap between the page's frames while it trains (at most 100 ms).

Figures go to stdout and bench/site.txt; the exit status is 1 if a median misses its target.
With --screenshot PATH it also draws a 7 with a finger on a 390×844 phone screen and saves the
page as the phone shows it (the README's docs/site-phone.png).
"""

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, Report, data_folder, model_file  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TARGETS = {"first answer (ms)": 2000, "prediction (ms, median)": 5, "teaching step (ms, median)": 20,
           "16-16 epoch on 10,000 images in the worker (ms)": 1500, "longest frame while training (ms)": 100}

MEASURE = """async () => {
  const engine = await import(new URL("static/local.js", location.href));
  const drawing = new Uint8Array(112 * 112);
  for (let r = 20; r < 92; r++) for (let c = 52; c < 60; c++) drawing[r * 112 + c] = 255;  // a 1
  const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const predictions = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await engine.request("POST", "/api/predict/bytes", drawing);
    predictions.push(performance.now() - t);
  }
  const steps = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await engine.request("POST", "/api/teach/test", { index: i, label: (i * 7) % 10 });
    steps.push(performance.now() - t);
    await engine.request("POST", "/api/teach/undo");
  }
  return { prediction: median(predictions), teach: median(steps) };
}"""

TRAIN = """async () => {
  const f = document.getElementById("train-form").elements;
  f.hidden.value = "16,16";
  f.epochs.value = "1";
  f.images.value = "10000";
  let last = performance.now(), longest = 0, going = true;
  const frame = (now) => {
    longest = Math.max(longest, now - last);
    last = now;
    if (going) requestAnimationFrame(frame);
  };
  requestAnimationFrame((now) => { last = now; requestAnimationFrame(frame); });
  const t = performance.now();
  document.getElementById("start").click();
  while (digitnet.training.state !== "done" && digitnet.training.state !== "error") {
    await new Promise((r) => setTimeout(r, 20));
  }
  going = false;
  return { wall: performance.now() - t, record: digitnet.training.history[0], longest, state: digitnet.training.state,
    message: digitnet.training.message };
}"""


SEVEN = [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2)] + [(0.75 - 0.3 * t / 10, 0.2 + 0.65 * t / 10) for t in range(1, 11)]


def phone(browser, address, path):
    """A 7 drawn with a finger on a 390×844 screen, and the screen saved to ``path``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.goto(address)
    page.wait_for_function("window.digitnet && digitnet.look !== null")
    box, cdp = page.locator("#canvas").bounding_box(), context.new_cdp_session(page)
    points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in SEVEN]
    for kind, (x, y) in [("touchStart", points[0])] + [("touchMove", p) for p in points[1:]]:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("digitnet.look.input.some(v => v > 0) && !digitnet.inFlight && !digitnet.timer")
    page.wait_for_timeout(500)
    page.screenshot(path=path)
    context.close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a model file (default: train one with digitnet train's defaults)")
    parser.add_argument("--screenshot", metavar="PATH", help="save the page on a phone-sized screen here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    report = Report(HERE / "site.txt")
    with tempfile.TemporaryDirectory() as folder:
        model = model_file(args.model, folder)
        out = Path(folder) / "site"
        subprocess.run([sys.executable, "-m", "digitnet", "site", str(model), str(out), "--data", str(data_folder())],
                       check=True, cwd=ROOT)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            started = time.perf_counter()
            page.goto(address)
            page.wait_for_function("window.digitnet && digitnet.look !== null", polling=5)
            first = 1000 * (time.perf_counter() - started)
            measured = page.evaluate(MEASURE)
            trained = page.evaluate(TRAIN)
            if args.screenshot:
                phone(browser, address, args.screenshot)
            browser.close()
        server.shutdown()
    if trained["state"] != "done":
        raise SystemExit(f"training failed: {trained['message']}")
    figures = {"first answer (ms)": first, "prediction (ms, median)": measured["prediction"],
               "teaching step (ms, median)": measured["teach"],
               "16-16 epoch on 10,000 images in the worker (ms)": 1000 * trained["record"]["seconds"],
               "longest frame while training (ms)": trained["longest"]}
    report.machine(f"digitnet site in headless Chromium ({CHROMIUM}), served by http.server from localhost")
    report.say(f"site size: {size / 2**20:.2f} MB")
    missed = []
    for name, value in figures.items():
        target = TARGETS[name]
        report.say(f"{name:<50} {value:8.1f}   target ≤ {target}   {'ok' if value <= target else 'MISSED'}")
        if value > target:
            missed.append(name)
    report.say(f"the epoch with its test scores, start to finish, as the page saw it: {trained['wall']:.0f} ms; "
               f"test accuracy after it {100 * trained['record']['test_accuracy']:.1f} %")
    report.write()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
