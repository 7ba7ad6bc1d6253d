"""A class that trains and pauses: 200 visitors at one `digitnet serve`, each pausing a run of the
largest network the page trains (4 hidden layers of 128, 100 epochs, on 100 images) after 99 of its
epochs, as late as a pause can come. Prints, and writes to bench/classroom_memory.txt, the server's
resident memory before the class, after it, and at its peak (VmHWM, the most it ever held), against
a target of 1 GB.

    python bench/classroom_memory.py [--visitors 200] [--epochs 99] [--quick E] [--model model.npz]

Each visitor loads the page, starts its run paused and asks for its epochs one step at a time, as the
page's Step button does, and looks at its network (/api/model) once paused, as the page does after an
epoch. The server trains as many runs at once as this machine has cores (its --max-training), so the
visitors come that many at a time, each next pair when the last has paused: the class takes 20,000
epochs, a quarter of an hour on this 2-core machine when it is quiet, many hours when it is busy (the
runs train at a lower priority than anything else). ``--quick E`` pauses all but the last visitors
after E epochs: what a paused run keeps is the same after 5 epochs as after 99 but for its history (less
than a kilobyte an epoch), and the last ones still go the full --epochs, so that the peak has two of the
longest runs training, with all their path's snapshots, on top of the others.
The runs train as the server trains them, with the compiled engine (kernels.c).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from classroom import free_port, serve  # noqa: E402
from common import Report, model_file  # noqa: E402

LARGEST = {"hidden": [128] * 4, "epochs": 100, "images": 100, "paused": True}
TARGET_MB = 1024


def memory_mb(pid, field):
    """A line of /proc/PID/status in MB: VmRSS (resident now) or VmHWM (the most it has been)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def arrive(url, epochs):
    """A visitor: the page, a run of the largest network started paused, and ``epochs`` steps asked for
    (the first takes a free seat, where the others add up: a visitor waiting in line cannot step)."""
    client = httpx.Client(base_url=url, timeout=120)
    client.get("/").raise_for_status()
    client.post("/api/train", json=LARGEST).raise_for_status()
    for _ in range(epochs):
        client.post("/api/train/step").raise_for_status()
    return client


def paused(client, epochs):
    status = client.get("/api/train").json()
    if status["state"] == "error":
        sys.exit(f"a run failed: {status['message']}")
    return status["state"] == "paused" and status["epoch"] == epochs and not status["busy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=99, help="epochs each run takes before it stays paused")
    parser.add_argument("--quick", type=int, metavar="E", help="all but the last visitors pause after E epochs")
    parser.add_argument("--model", help="the model to serve (default: train one)")
    args = parser.parse_args()
    results = Report(HERE / "classroom_memory.txt")
    seats = os.cpu_count() or 1  # the server's --max-training, by default
    quick = "" if args.quick is None else f" (all but the last {seats} after {args.quick})"
    results.machine(f"classroom memory: {args.visitors} visitors each pausing a run of 784-128-128-128-128-10 after "
                    f"{args.epochs}{quick} of 100 epochs")
    with tempfile.TemporaryDirectory() as folder:
        model = model_file(args.model, folder)
        port = free_port()
        server = serve(model, folder, port)
        url = f"http://127.0.0.1:{port}"
        try:
            httpx.get(url + "/", timeout=60).raise_for_status()
            before = memory_mb(server.pid, "VmRSS")
            start, clients = time.monotonic(), []
            while len(clients) < args.visitors:
                last = len(clients) + seats >= args.visitors
                epochs = args.epochs if args.quick is None or last else args.quick
                arriving = [arrive(url, epochs) for _ in range(min(seats, args.visitors - len(clients)))]
                while not all(paused(client, epochs) for client in arriving):
                    time.sleep(0.5)
                for client in arriving:  # the page looks at its network after each epoch
                    client.get("/api/model").raise_for_status()
                clients += arriving
                print(f"{len(clients)} paused, {memory_mb(server.pid, 'VmRSS'):.0f} MB", flush=True)
            minutes = (time.monotonic() - start) / 60
            after, peak = memory_mb(server.pid, "VmRSS"), memory_mb(server.pid, "VmHWM")
            for client in clients:
                client.close()
        finally:
            server.terminate()
            server.wait(15)
    results.say(f"server before the class: {before:.0f} MB; with {args.visitors} paused runs: {after:.0f} MB "
                f"({(after - before) / args.visitors:.1f} MB a visitor); peak {peak:.0f} MB, target {TARGET_MB} MB; "
                f"{minutes:.0f} minutes of training")
    results.write()
    if peak > TARGET_MB:
        sys.exit(f"the peak, {peak:.0f} MB, is over {TARGET_MB} MB")


if __name__ == "__main__":
    main()
