"""What the benchmark scripts share: where MNIST is, and a report that is printed as it
goes and written to a file at the end."""

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def data_folder():
    """$DIGITNET_DATA, else ../shared/data/mnist beside the repository."""
    return Path(os.environ.get("DIGITNET_DATA") or ROOT.parent / "shared" / "data" / "mnist")


def model_file(given, folder):
    """The model file ``given``, or one that `digitnet train` makes with its defaults in ``folder``."""
    if given:
        return Path(given).resolve()
    model = Path(folder) / "model.npz"
    subprocess.run([sys.executable, "-m", "digitnet", "train", "--data", str(data_folder()), "--out", str(model)],
                   check=True, capture_output=True, cwd=ROOT)
    return model


class Report:
    """Lines printed as they come, and written to ``path`` by ``write``."""

    def __init__(self, path):
        self.path, self.lines = Path(path), []

    def say(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def machine(self, title, versions=""):
        """The first line: what, when, on what machine, under what load, with which NumPy (and
        ``versions`` of what else)."""
        self.say(f"{title}, {time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, NumPy {np.__version__}{versions}")

    def write(self):
        self.path.write_text("\n".join(self.lines) + "\n")
        print(f"\nwritten to {self.path}")
