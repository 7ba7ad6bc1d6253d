"""A class of 30 at one `digitnet serve`: 29 visitors drawing at ten predictions a second
each, one editing its network and training its own, for 20 seconds, driven by locust
(bench/classroom_locustfile.py checks every answer). Prints, and writes to
bench/classroom-results.txt: requests, failures, predictions a second and their
latency percentiles, with the machine's load and the server's CPU time.

    python bench/classroom.py [--users 30] [--seconds 20] [--model model.npz]

Without --model it trains one first with `digitnet train` (a few seconds). The
server and locust share this machine's cores, as a teacher's laptop would not.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "classroom_locustfile.py"
sys.path.insert(0, str(HERE))  # also when tests/test_classroom_load.py loads this file

from common import Report, data_folder, model_file  # noqa: E402


def locust(url, model, folder, users, seconds, data=None):
    """Run the class with locust, headless; (exit status, {request name: its row of locust's stats})."""
    prefix = Path(folder) / "class"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
               "-r", str(users), "-t", f"{seconds}s", "--stop-timeout", "5", "-H", url, "--csv", str(prefix),
               "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "DIGITNET_MODEL": str(model), "DIGITNET_DATA": str(data or data_folder())}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    return done.returncode, stats, done.stdout + done.stderr


def serve(model, folder, port):
    """`digitnet serve MODEL` on 127.0.0.1:port, in a subprocess; waits until it answers."""
    import httpx

    env = {**os.environ, "DIGITNET_DATA": str(data_folder())}
    server = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", str(model), "--port", str(port)],
                              cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/model", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    sys.exit("digitnet serve did not start")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(stats, load_after, cpu):
    """The run's numbers, each line printed and kept for classroom-results.txt."""
    predict, total = stats["predict"], stats["Aggregated"]
    yield (f"requests: {total['Request Count']}, failures: {total['Failure Count']}, "
           f"{float(total['Requests/s']):.0f} a second in all; load average {load_after:.2f} after, "
           f"the server used {cpu:.1f} s of CPU")
    yield (f"drawers' predictions: {predict['Request Count']} ({float(predict['Requests/s']):.0f} a second), "
           f"latency ms: p50 {predict['50%']}, p90 {predict['90%']}, p99 {predict['99%']}, max {predict['100%']}")
    for name in ("predict (edited, editor)", "predict (trained, editor)", "train", "download"):
        if name in stats:
            yield f"editor, {name}: {stats[name]['Request Count']} requests, {stats[name]['Failure Count']} failures"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--model", help="the model to serve (default: train one)")
    args = parser.parse_args()
    results = Report(HERE / "classroom-results.txt")
    results.machine(f"classroom: {args.users} visitors for {args.seconds} s at one `digitnet serve`, locust on "
                    "the same machine")
    with tempfile.TemporaryDirectory() as folder:
        model = model_file(args.model, folder)
        port = free_port()
        server = serve(model, folder, port)
        try:
            cpu_before = cpu_seconds(server.pid)
            status, stats, output = locust(f"http://127.0.0.1:{port}", model, folder, args.users, args.seconds)
            load_after, cpu = os.getloadavg()[0], cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(15)
    for line in report(stats, load_after, cpu):
        results.say(line)
    results.write()
    if status != 0:
        print(output, file=sys.stderr)
        sys.exit(f"locust reported failures (exit status {status})")


if __name__ == "__main__":
    main()
