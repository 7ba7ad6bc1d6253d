"""A classroom on one server: every browser session has its own network, edits, teaching
steps and training run; nothing one visitor does changes another's page; sessions and
training are bounded."""

import io
import os
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from digitnet import Network
from digitnet.web import create_app
from digitnet.web.lab import UNDO_BYTES, Lab, Trained
from digitnet.web.sessions import COOKIE

from .conftest import wait_for as until

TINY = {"hidden": [8], "epochs": 2, "images": 600, "batch_size": 30, "lr": 0.01}


def visitors(app, n, **options):
    """``n`` browsers, each with its own cookie jar."""
    return [TestClient(app, **options) for _ in range(n)]


def image(mnist, i=0):
    return {"pixels": mnist.test_images[i].ravel().tolist()}


def wait_for(client, done, seconds=60):
    return until(client, "/api/train", done, seconds)


# ---- sessions ------------------------------------------------------------------------------

def test_a_visitor_gets_an_http_only_same_site_session_cookie(app):
    answer = TestClient(app).get("/")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client = TestClient(app)
    client.get("/api/model")
    assert "set-cookie" not in client.get("/api/model").headers  # known from now on


def test_a_session_key_the_server_did_not_sign_is_replaced(app):
    client = TestClient(app, cookies={COOKIE: "made-up.key"})
    answer = client.get("/api/model")
    assert answer.headers["set-cookie"].startswith(f"{COOKIE}=") and "made-up" not in answer.headers["set-cookie"]


def test_one_visitors_edits_change_only_their_own_page(app, trained_net, mnist):
    editor, other = visitors(app, 2)
    before = other.post("/api/look", json=image(mnist)).json()
    accuracy = other.get("/api/model").json()["test_accuracy"]
    for j in range(16):
        assert editor.put(f"/api/neurons/0/{j}", json={"off": True}).status_code == 200
    edited = editor.post("/api/look", json=image(mnist)).json()
    assert edited != before and len(editor.get("/api/model").json()["edits"]) == 16
    # With every first-layer neuron cut off, the layers after it depend on no pixel.
    another = editor.post("/api/look", json=image(mnist, 1)).json()
    assert (edited["layers"][1:], edited["zs"][1:]) == (another["layers"][1:], another["zs"][1:])
    assert other.post("/api/look", json=image(mnist)).json() == before
    model = other.get("/api/model").json()
    assert model["edits"] == [] and model["test_accuracy"] == accuracy
    assert other.get("/api/neurons/0/3").json()["off"] is False


def test_visitors_who_change_nothing_share_the_servers_model_read_only(app, trained_net, mnist):
    classroom = app.state.classroom
    for client in visitors(app, 5):
        client.get("/api/model")
        client.post("/api/look", json=image(mnist))
        client.get("/api/neurons/0/0")
    assert len(classroom) == 0  # nobody changed anything: no session kept
    editor = TestClient(app)
    editor.put("/api/neurons/1/2", json={"bias_shift": 3.0})
    assert len(classroom) == 1
    shared = classroom.model.net
    assert not shared.params.flags.writeable and not shared.weights[0].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        shared.biases[0][0] = 1
    assert np.array_equal(shared.params, trained_net.params)


def test_sessions_are_bounded_least_recently_seen_dropped_first(trained_net, mnist):
    app = create_app(trained_net, mnist, max_sessions=3)
    clients = visitors(app, 4)
    for k, client in enumerate(clients):
        client.put(f"/api/neurons/0/{k}", json={"bias_shift": 1.0})
        if k == 2:
            clients[0].get("/api/model")  # the first visitor comes back: now the second is the oldest
    assert len(app.state.classroom) == 3
    assert [len(c.get("/api/model").json()["edits"]) for c in clients] == [1, 0, 1, 1]


def test_idle_sessions_expire(trained_net, mnist):
    app = create_app(trained_net, mnist, idle_minutes=0.5 / 60)
    stays, goes = visitors(app, 2)
    goes.put("/api/neurons/0/0", json={"off": True})
    stays.put("/api/neurons/0/1", json={"off": True})
    for _ in range(4):
        time.sleep(0.2)
        assert stays.get("/api/model").json()["edits"]  # seen often: kept
    assert goes.get("/api/model").json()["edits"] == []
    assert len(app.state.classroom) == 1


# ---- training -----------------------------------------------------------------------------

def test_each_visitor_trains_their_own_network(app, mnist):
    trainer, other = visitors(app, 2)
    assert trainer.post("/api/train", json=TINY).status_code == 202
    final = wait_for(trainer, lambda s: s["state"] == "done")
    assert final["epoch"] == 2
    assert trainer.get("/api/model").json()["sizes"] == [784, 8, 10]
    assert other.get("/api/model").json()["sizes"] == [784, 16, 16, 10]
    assert other.get("/api/train").json()["state"] == "idle"


def held_epochs(monkeypatch):
    """Training epochs wait until the event returned is set."""
    from digitnet.training import Trainer

    release, run_epoch = threading.Event(), Trainer.run_epoch

    def held(trainer):
        assert release.wait(30)
        return run_epoch(trainer)

    monkeypatch.setattr(Trainer, "run_epoch", held)
    return release


def test_runs_beyond_max_training_wait_in_a_queue_and_know_their_place(trained_net, mnist, monkeypatch):
    release = held_epochs(monkeypatch)
    app = create_app(trained_net, mnist, max_training=1)
    first, second, third = visitors(app, 3)
    assert first.post("/api/train", json=TINY).json()["state"] == "running"
    second_status = second.post("/api/train", json=TINY | {"hidden": [6]}).json()
    third_status = third.post("/api/train", json=TINY | {"hidden": [4]}).json()
    assert (second_status["state"], second_status["place"]) == ("queued", 1)
    assert (third_status["state"], third_status["place"]) == ("queued", 2)
    assert third.post("/api/train/stop").json()["state"] == "idle"  # leaving the queue
    assert third.post("/api/train", json=TINY | {"hidden": [4]}).json()["place"] == 2  # back at the end
    release.set()
    for client, hidden in ((first, 8), (second, 6), (third, 4)):
        assert wait_for(client, lambda s: s["state"] == "done")["place"] is None
        assert client.get("/api/model").json()["sizes"] == [784, hidden, 10]


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads threads' nice values from /proc")
def test_training_runs_at_a_lower_priority_than_the_answers(app, monkeypatch):
    release = held_epochs(monkeypatch)
    client = TestClient(app)
    client.post("/api/train", json=TINY)
    wait_for(client, lambda s: s["busy"])
    trainer, = [t for t in threading.enumerate() if t.name == "digitnet-training"]
    stat = open(f"/proc/self/task/{trainer.native_id}/stat").read().rsplit(")", 1)[1].split()
    me = open(f"/proc/self/task/{threading.get_native_id()}/stat").read().rsplit(")", 1)[1].split()
    release.set()
    assert int(stat[16]) == min(int(me[16]) + 10, 19)  # the nice value, field 19 of stat
    wait_for(client, lambda s: s["state"] == "done")


def test_a_paused_run_gives_up_its_seat_and_carries_on_exactly_later(trained_net, mnist):
    app = create_app(trained_net, mnist, max_training=1)
    pauser, other = visitors(app, 2)
    pauser.post("/api/train", json=TINY | {"epochs": 3, "paused": True})
    pauser.post("/api/train/step")
    wait_for(pauser, lambda s: s["epoch"] == 1 and not s["busy"] and s["state"] == "paused")
    # The only seat is free again: another visitor trains at once.
    assert other.post("/api/train", json=TINY).json()["state"] in ("running", "done")
    wait_for(other, lambda s: s["state"] == "done")
    pauser.post("/api/train/resume")
    final = wait_for(pauser, lambda s: s["state"] == "done")
    assert [r["epoch"] for r in final["history"]] == [1, 2, 3]
    # The same run without a pause ends at the same network: the seat was given up with nothing lost.
    straight = TestClient(app)
    straight.post("/api/train", json=TINY | {"epochs": 3})
    assert wait_for(straight, lambda s: s["state"] == "done")["history"][-1]["cost"] == final["history"][-1]["cost"]
    assert straight.get("/api/model").json()["connections"] == pauser.get("/api/model").json()["connections"]


def test_a_dropped_visitors_run_is_stopped(trained_net, mnist, monkeypatch):
    release = held_epochs(monkeypatch)
    app = create_app(trained_net, mnist, max_sessions=1, max_training=1)
    leaver, newcomer = visitors(app, 2)
    leaver.post("/api/train", json=TINY)
    newcomer.put("/api/neurons/0/0", json={"off": True})  # the one session left: the leaver is dropped
    assert leaver.get("/api/train").json()["state"] == "idle"
    release.set()
    assert newcomer.post("/api/train", json=TINY).status_code == 202  # the seat comes free after that epoch
    assert wait_for(newcomer, lambda s: s["state"] == "done")["epoch"] == 2


# ---- saving ---------------------------------------------------------------------------------

def test_every_visitor_downloads_their_own_network(app, mnist):
    editor, other = visitors(app, 2, client=("192.168.1.20", 5000))  # from another computer
    editor.put("/api/neurons/0/2", json={"bias_shift": 1.5})
    answer = editor.get("/api/download")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/octet-stream"
    assert 'attachment; filename="digitnet-784-16-16-10.npz"' == answer.headers["content-disposition"]
    path = app.state.save_path.parent / "downloaded.npz"
    path.write_bytes(answer.content)
    net = Network.load(path)
    assert net.biases[0][2] == pytest.approx(editor.get("/api/neurons/0/2").json()["bias"])
    assert net.header["test_accuracy"] == editor.get("/api/model").json()["test_accuracy"]
    theirs = np.load(io.BytesIO(other.get("/api/download").content))["b0"]
    assert theirs[2] == pytest.approx(other.get("/api/neurons/0/2").json()["trained_bias"]) != net.biases[0][2]


def test_only_the_servers_own_computer_saves_to_its_file(app):
    remote = TestClient(app, client=("192.168.1.20", 5000))
    assert remote.get("/api/model").json()["save_to"] is None
    answer = remote.post("/api/save")
    assert answer.status_code == 403 and "download" in answer.json()["detail"]
    assert not app.state.save_path.exists()
    local = TestClient(app, client=("127.0.0.1", 5000))
    assert local.get("/api/model").json()["save_to"] == str(app.state.save_path)
    assert local.post("/api/save").status_code == 200 and app.state.save_path.exists()


# ---- teaching steps: each visitor's own, undone one by one -----------------------------------

def test_teaching_steps_can_be_undone_and_are_bounded(trained_net):
    lab = Lab(Trained(trained_net))
    lab.edit(0, 1, bias_shift=2.0)
    first = lab.net
    taught = trained_net.copy()
    taught.biases[1][:] += 1
    lab.teach(taught)
    assert np.array_equal(lab.net.params, taught.params) and lab.edits == {}
    assert not lab.net.params.flags.writeable
    assert lab.undo() and lab.net is first and lab.edit_of(0, 1)["bias_shift"] == 2.0
    assert not lab.undo()
    steps = UNDO_BYTES // trained_net.params.nbytes + 5
    for _ in range(steps):
        lab.teach(taught)
    assert sum(lab.undo() for _ in range(steps)) < steps  # the oldest were forgotten
    assert len(lab.taught) == 0
