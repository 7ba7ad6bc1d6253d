"""A class at `digitnet serve`, for locust (run by bench/classroom.py, and small by
tests/test_classroom_load.py).

Every visitor is a browser session of its own (its own cookies) drawing digits at
ten predictions a second, as the page sends them (/api/predict/bytes). One of them,
the editor, first switches off half the first layer's neurons, then trains a
network of its own. Every answer is checked against the answer worked out here:

- a drawer must get exactly what the server's model answers: anything else is
  cross-talk from the editor;
- the editor must see its own edits, and after training its own trained network
  (downloaded, and checked the same way).

A wrong answer is a locust failure, named for what went wrong. Settings come from
the environment: DIGITNET_MODEL (the model file the server was started with) and
DIGITNET_DATA (MNIST).
"""

import os
import tempfile
import time

import numpy as np
from locust import FastHttpUser, constant_throughput, task

from digitnet import Network
from digitnet.data import load
from digitnet.images import to_mnist

DRAWINGS = 40  # test digits drawn 4x larger, as if on the page's canvas
OFF = range(8)  # the first-layer neurons the editor switches off
TRAINING = {"hidden": [12], "epochs": 2, "images": 2000, "batch_size": 50, "lr": 0.01}
TOLERANCE = 2e-4  # the server rounds to 4 decimals

MODEL = Network.load(os.environ["DIGITNET_MODEL"])
MNIST = load(os.environ["DIGITNET_DATA"])


def drawings():
    """(bytes as sent, the 784 pixels the network sees) for DRAWINGS test digits."""
    out = []
    for image in MNIST.test_images[:DRAWINGS]:
        drawn = np.kron(image, np.ones((4, 4), np.uint8))
        out.append((drawn.tobytes(), to_mnist(drawn / np.float32(255), invert=False, even=True).ravel()))
    return out


DRAWINGS_SEEN = drawings()


def expected(net):
    """What ``net`` answers for each drawing: probabilities that add up to 1."""
    outputs = net.forward(np.array([seen for _, seen in DRAWINGS_SEEN]))
    return outputs / outputs.sum(axis=1, keepdims=True)


BASE = expected(MODEL)


class Visitor(FastHttpUser):
    abstract = True
    wait_time = constant_throughput(10)  # ten predictions a second, as the page sends while drawing

    def on_start(self):
        self.client.get("/", name="page")  # the session cookie
        self.k = 0

    def predict(self, answers, name):
        """One drawing; the answer must be ``answers``'s for it."""
        self.k = (self.k + 1) % len(DRAWINGS_SEEN)
        body, _ = DRAWINGS_SEEN[self.k]
        with self.client.post("/api/predict/bytes", data=body, name=name, catch_response=True,
                              headers={"content-type": "application/octet-stream"}) as response:
            if response.status_code != 200:
                return response.failure(f"status {response.status_code}: {response.text[:200]}")
            got = np.array(response.json()["probabilities"])
            if np.abs(got - answers[self.k]).max() > TOLERANCE:
                response.failure(f"{name}: not this visitor's network's answer")


class Drawer(Visitor):
    @task
    def draw(self):
        self.predict(BASE, "predict")
        if self.k == 0:  # now and then, the page reloads its model: nobody else's edits may show
            with self.client.get("/api/model", name="model", catch_response=True) as response:
                model = response.json()
                if model["edits"] or model["sizes"] != list(MODEL.sizes):
                    response.failure("cross-talk: another visitor's edits or training show")


class Editor(Visitor):
    fixed_count = 1

    def on_start(self):
        super().on_start()
        for j in OFF:
            self.client.put(f"/api/neurons/0/{j}", json={"off": True}, name="edit")
        edited = MODEL.copy()
        edited.weights[1][:, list(OFF)] = 0
        self.answers, self.stage, self.since = expected(edited), "edited", time.monotonic()

    @task
    def draw(self):
        if self.stage == "edited" and time.monotonic() - self.since > 2:
            self.start_training()
        elif self.stage == "training":
            self.follow_training()
        else:
            self.predict(self.answers, f"predict ({self.stage}, editor)")

    def start_training(self):
        with self.client.post("/api/train", json=TRAINING, name="train", catch_response=True) as response:
            if response.status_code != 202:
                return response.failure(f"status {response.status_code}: {response.text[:200]}")
        self.stage = "training"

    def follow_training(self):
        status = self.client.get("/api/train", name="train status").json()
        if status["state"] in ("queued", "running") or status["busy"]:
            return
        with self.client.get("/api/download", name="download", catch_response=True) as response:
            net = loaded(response.content)
            if status["state"] != "done" or list(net.sizes) != [784, *TRAINING["hidden"], 10]:
                return response.failure(f"the editor's training ended {status['state']}: {status['message']}")
        self.answers, self.stage = expected(net), "trained"


def loaded(content):
    """A model file's bytes as a Network (Network.load reads a path)."""
    with tempfile.NamedTemporaryFile(suffix=".npz") as f:
        f.write(content)
        f.flush()
        return Network.load(f.name)
