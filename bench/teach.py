"""How fast the page's "Teach it" answers: one step of gradient descent on one example, taken
on the visitor's network by a real `digitnet serve`, from request to answer, as the page asks
(the target: a median of at most 50 ms on this 2-core machine).

    python bench/teach.py                    # about half a minute
    python bench/teach.py --steps 200 --model model.npz

It trains the default model first (`digitnet train`, its defaults) unless given one, starts
the server, and times, one request at a time from one visitor: POST /api/teach with a test
digit drawn as the page sends its canvas (112×112 grey levels as JSON numbers), the step by a
test image's index, the batch of 100 steps, Undo, and, for comparison, the prediction the page
asks for while the learner draws. Each teaching step is undone after it is timed (not timed),
so that every step starts from the trained network. Medians, p90 and the slowest are printed
and written to bench/teach.txt; the exit status is 1 if /api/teach's median is over the target.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from classroom import free_port, serve  # noqa: E402
from common import Report, data_folder, model_file  # noqa: E402

from digitnet import data  # noqa: E402

TARGET_MS = 50


def timed(client, method, path, **request):
    start = time.perf_counter()
    answer = client.request(method, path, **request)
    ms = 1000 * (time.perf_counter() - start)
    if answer.status_code >= 300:
        raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    return ms


def measure(url, steps):
    mnist = data.load(data_folder())
    rng = np.random.default_rng(0)
    times = {name: [] for name in ("teach", "teach/test", "teach/batch", "teach/undo", "predict/bytes")}
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/")  # the page gives the session its cookie, as a browser's first visit does
        client.get("/api/model")  # the test scores worked out once
        for k in range(steps):
            i = int(rng.integers(len(mnist.test_images)))
            drawn = np.kron(mnist.test_images[i], np.ones((4, 4), dtype=np.uint8))
            label = int(rng.integers(10))
            times["teach"].append(timed(client, "POST", "/api/teach",
                                        json={"pixels": drawn.ravel().tolist(), "label": label}))
            times["teach/undo"].append(timed(client, "POST", "/api/teach/undo"))
            times["teach/test"].append(timed(client, "POST", "/api/teach/test", json={"index": i}))
            client.post("/api/teach/undo")
            if k % 5 == 0:  # a tenth of a second each: fewer of them
                times["teach/batch"].append(timed(client, "POST", "/api/teach/batch", json={"seed": k}))
                client.post("/api/teach/undo")
            times["predict/bytes"].append(timed(client, "POST", f"/api/predict/bytes?label={label}",
                                                content=drawn.tobytes()))
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="teaching steps to time (default 100)")
    parser.add_argument("--model", help="a model file (default: train one with `digitnet train`)")
    parser.add_argument("--out", default=str(HERE / "teach.txt"))
    args = parser.parse_args(argv)
    report = Report(args.out)
    report.machine(f"digitnet teaching benchmark, {args.steps} steps, one visitor, one request at a time")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = serve(model_file(args.model, tmp), tmp, port)
        try:
            times = measure(f"http://127.0.0.1:{port}", args.steps)
        finally:
            server.terminate()
            server.wait(15)
    for name, ms in times.items():
        ms = sorted(ms)
        p90 = ms[int(0.9 * len(ms))]
        report.say(f"POST /api/{name:14s} median {statistics.median(ms):6.1f} ms, p90 {p90:6.1f} ms, "
                   f"slowest {ms[-1]:6.1f} ms ({len(ms)} requests)")
    median = statistics.median(times["teach"])
    report.say(f"a teaching step answers in {median:.1f} ms (median): {'within' if median <= TARGET_MS else 'OVER'} "
               f"the {TARGET_MS} ms target")
    report.say(f"load average {os.getloadavg()[0]:.1f} at the end")
    report.write()
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
