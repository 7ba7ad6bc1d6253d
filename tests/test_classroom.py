"""A classroom on one server: every browser session has its own network, edits, teaching
steps and training run; nothing one visitor does changes another's page; sessions and
training are bounded."""

import io
import os
import threading
import time
from collections import Counter

import numpy as np
import pytest
from fastapi.testclient import TestClient

from digitnet import Network
from digitnet.web import create_app
from digitnet.web.classroom import MAX_SESSIONS
from digitnet.web.lab import UNDO_BYTES, Lab, Trained
from digitnet.web.runs import Training
from digitnet.web.sessions import COOKIE

from .conftest import browser, eventually
from .conftest import wait_for as until

TINY = {"hidden": [8], "epochs": 2, "images": 600, "batch_size": 30, "lr": 0.01}


def visitors(app, n, **options):
    """``n`` browsers, each with its own cookie jar, that have loaded the page."""
    return [browser(app, **options) for _ in range(n)]


def image(mnist, i=0):
    return {"pixels": mnist.test_images[i].ravel().tolist()}


def wait_for(client, done, seconds=60):
    return until(client, "/api/train", done, seconds)


# ---- sessions ------------------------------------------------------------------------------

def test_only_a_page_load_gives_a_browser_its_http_only_same_site_session_cookie(app):
    client = TestClient(app)
    assert "set-cookie" not in client.get("/api/model").headers  # a stranger's request: nothing given
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "set-cookie" not in client.get("/").headers  # known from now on, also on the next page load
    assert "set-cookie" not in client.get("/api/model").headers


def test_a_session_key_the_server_did_not_sign_is_replaced_only_by_a_page_load(app):
    client = TestClient(app, cookies={COOKIE: "made-up.key"})
    assert client.get("/api/model").status_code == 200 and "set-cookie" not in client.get("/api/model").headers
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "made-up" not in cookie


@pytest.mark.parametrize("method, path, body", [("POST", "/api/reset", None),
                                                ("PUT", "/api/neurons/0/1", {"off": True}),
                                                ("POST", "/api/teach/test", {"index": 0, "label": 3}),
                                                ("POST", "/api/train", TINY),
                                                ("POST", "/api/experiments/memorize", {"epochs": 1})])
def test_a_change_without_a_session_keeps_nothing_and_says_reload_the_page(app, method, path, body):
    stranger = TestClient(app)
    answer = stranger.request(method, path, json=body)
    assert answer.status_code == 403 and "reload the page" in answer.json()["detail"]
    assert "set-cookie" not in answer.headers and len(app.state.classroom) == 0
    model = stranger.get("/api/model").json()  # looking is open to all, on the served network
    assert model["edits"] == [] and model["editing"] is False and "reload the page" in model["notice"]


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
    editor = browser(app)
    editor.put("/api/neurons/1/2", json={"bias_shift": 3.0})
    assert len(classroom) == 1
    shared = classroom.model.net
    assert not shared.params.flags.writeable and not shared.weights[0].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        shared.biases[0][0] = 1
    assert np.array_equal(shared.params, trained_net.params)


def test_when_the_class_is_full_a_newcomer_can_look_but_not_edit_and_nobody_is_dropped(trained_net, mnist):
    app = create_app(trained_net, mnist, max_sessions=3)
    clients = visitors(app, 4)
    answers = [client.put(f"/api/neurons/0/{k}", json={"bias_shift": 1.0}) for k, client in enumerate(clients)]
    assert [a.status_code for a in answers] == [200, 200, 200, 409]
    assert answers[3].json()["detail"].startswith("the class is full (3 visitors are working): you can draw and look")
    assert [len(c.get("/api/model").json()["edits"]) for c in clients] == [1, 1, 1, 0]  # the first three kept
    model = clients[3].get("/api/model").json()
    assert model["editing"] is False and model["notice"] == answers[3].json()["detail"]
    assert clients[3].post("/api/look", json=image(mnist)).status_code == 200  # looking still works
    assert clients[0].get("/api/model").json()["editing"] is True and len(app.state.classroom) == 3


def test_a_place_comes_free_when_a_session_has_been_idle_too_long(trained_net, mnist):
    app = create_app(trained_net, mnist, max_sessions=1, idle_minutes=0.3 / 60)
    first, second = visitors(app, 2)
    first.put("/api/neurons/0/0", json={"off": True})
    assert second.put("/api/neurons/0/1", json={"off": True}).status_code == 409
    time.sleep(0.4)  # the first visitor has been away longer than the idle time
    assert second.put("/api/neurons/0/1", json={"off": True}).status_code == 200
    assert second.get("/api/model").json()["edits"][0]["neuron"] == 1


def test_a_visitor_whose_session_ended_idle_is_told_so_never_shown_a_blank_slate(trained_net, mnist):
    app = create_app(trained_net, mnist, idle_minutes=0.5 / 60)
    stays, goes = visitors(app, 2)
    goes.put("/api/neurons/0/0", json={"off": True})
    stays.put("/api/neurons/0/1", json={"off": True})
    for _ in range(4):
        time.sleep(0.2)
        assert stays.get("/api/model").json()["edits"]  # seen often: kept
    for method, path in (("GET", "/api/model"), ("POST", "/api/reset"), ("GET", "/api/train")):
        answer = goes.request(method, path)
        assert answer.status_code == 410, (path, answer.text)
        assert answer.json()["detail"] == (f"your session has ended (nothing was heard from this page for {0.5 / 60:g} "
                                           "minutes): your edits, teaching, training and experiments are gone; "
                                           "reload the page to start again from the served network")
    assert len(app.state.classroom) == 1
    reloaded = goes.get("/")  # a fresh session in its place, and the page told why the last one ended
    assert goes.cookies["digitnet-ended"] == "idle" and COOKIE in reloaded.headers["set-cookie"]
    assert goes.get("/api/model").json()["edits"] == [] and goes.get("/").headers.get("set-cookie") is None


def test_after_a_restart_a_visitor_with_work_is_told_it_is_gone_and_one_without_carries_on(trained_net, mnist):
    before = create_app(trained_net, mnist)
    worker, looker = visitors(before, 2)
    worker.put("/api/neurons/0/0", json={"off": True})
    looker.get("/api/model")
    after = create_app(trained_net, mnist)  # the server restarted: a new secret, no sessions
    worker, looker = (TestClient(after, cookies=dict(c.cookies)) for c in (worker, looker))
    answer = worker.get("/api/model")
    assert answer.status_code == 410 and "(the server was restarted)" in answer.json()["detail"]
    assert looker.get("/api/model").json()["edits"] == []  # it had nothing to lose: it looks on as before
    assert looker.put("/api/neurons/0/0", json={"off": True}).status_code == 403  # ...and a change asks for a reload
    worker.get("/")
    assert worker.cookies["digitnet-ended"] == "restarted" and worker.get("/api/model").status_code == 200


def flood_the_school(app, strangers, school):
    """``strangers`` requests from ``school``'s one address: half with no cookie at all (changes and
    resets), half from new browsers that load the page and change a neuron. Their answers."""
    no_cookie = [("POST", "/api/reset", None), ("PUT", "/api/neurons/0/0", {"off": True}),
                 ("POST", "/api/teach/test", {"index": 1, "label": 0}), ("POST", "/api/train/stop", None),
                 ("POST", "/api/teach/undo", None)]
    answers = []
    for k in range(strangers // 2):
        method, path, body = no_cookie[k % len(no_cookie)]
        answers.append(("no cookie", TestClient(app, client=school).request(method, path, json=body)))
        answers.append(("new browser", browser(app, client=school).put(f"/api/neurons/1/{k % 16}",
                                                                       json={"bias_shift": 2.0})))
    return answers


@pytest.mark.parametrize("max_sessions", [50, MAX_SESSIONS])
def test_a_flood_of_strangers_leaves_a_visitors_work_intact(trained_net, mnist, max_sessions):
    school = ("10.20.30.40", 40000)  # a school's one address, as NAT shows it to the server
    app = create_app(trained_net, mnist, max_sessions=max_sessions)
    visitor = browser(app, client=school)
    visitor.post("/api/train", json=TINY | {"epochs": 3, "paused": True})
    visitor.post("/api/train/step")
    wait_for(visitor, lambda s: s["epoch"] == 1 and not s["busy"] and s["state"] == "paused")
    assert visitor.post("/api/teach/test", json={"index": 0, "label": 3}).status_code == 200
    assert visitor.put("/api/neurons/0/2", json={"off": True}).status_code == 200
    before, weights_before = visitor.get("/api/model").json(), weights(visitor)

    answers = flood_the_school(app, 400, school)

    # The visitor's page: its edit, its taught network and its paused run, as they were.
    assert visitor.get("/api/model").json() == before
    assert all(np.array_equal(a, b) for a, b in zip(weights(visitor), weights_before, strict=True))
    assert (before["edits"][0]["neuron"], before["taught"], before["undo_steps"]) == (2, True, 1)
    assert visitor.get("/api/train").json()["state"] == "paused"
    # The strangers: each answered at once, in one line, with what to do.
    said = Counter((who, answer.status_code, answer.json().get("detail")) for who, answer in answers)
    kept = max_sessions - 1  # the visitor holds one place
    assert said == {("no cookie", 403, "this browser has no session on this server: reload the page to get one"): 200,
                    ("new browser", 200, None): kept,
                    ("new browser", 409, app.state.classroom.full()): 200 - kept}
    assert len(app.state.classroom) == max_sessions
    # And the paused run carries on, to the end, once the visitor asks.
    visitor.post("/api/train/resume")
    assert [r["epoch"] for r in wait_for(visitor, lambda s: s["state"] == "done")["history"]] == [1, 2, 3]


def weights(client):
    """The visitor's network as its download holds it: each layer's W and b."""
    arrays = np.load(io.BytesIO(client.get("/api/download").content))
    return [arrays[name] for name in sorted(arrays.files) if name[0] in "Wb" and name[1:].isdigit()]


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
    client = browser(app)
    client.post("/api/train", json=TINY)
    wait_for(client, lambda s: s["busy"])
    trainer, = [t for t in threading.enumerate() if t.name == "digitnet-training"]
    stat = open(f"/proc/self/task/{trainer.native_id}/stat").read().rsplit(")", 1)[1].split()
    me = open(f"/proc/self/task/{threading.get_native_id()}/stat").read().rsplit(")", 1)[1].split()
    release.set()
    assert int(stat[16]) == min(int(me[16]) + 10, 19)  # the nice value, field 19 of stat
    wait_for(client, lambda s: s["state"] == "done")


def test_a_run_seen_out_of_its_epoch_has_given_up_its_seat(trained_net, mnist, monkeypatch):
    """A paused run's status says it is out of its epoch (not busy) only once its seat is free: a loaded
    machine, here a seat's thread slow to hand the seat back, keeps it busy until then."""
    take_seat = Training.take_seat

    def slow_to_stand_up(training, run):
        take_seat(training, run)
        time.sleep(0.3)

    monkeypatch.setattr(Training, "take_seat", slow_to_stand_up)
    pause_then_train_another(create_app(trained_net, mnist, max_training=1))


def pause_then_train_another(app):
    """One visitor's run stepped one epoch and paused, then another visitor's run started, on ``app`` of one
    seat: the other trains at once, as the paused run has given its seat up. The two visitors."""
    pauser, other = visitors(app, 2)
    pauser.post("/api/train", json=TINY | {"epochs": 3, "paused": True})
    pauser.post("/api/train/step")
    wait_for(pauser, lambda s: s["epoch"] == 1 and not s["busy"] and s["state"] == "paused")
    assert other.post("/api/train", json=TINY).json()["state"] in ("running", "done")
    return pauser, other


def test_a_paused_run_gives_up_its_seat_and_carries_on_exactly_later(trained_net, mnist):
    app = create_app(trained_net, mnist, max_training=1)
    pauser, other = pause_then_train_another(app)
    wait_for(other, lambda s: s["state"] == "done")
    pauser.post("/api/train/resume")
    final = wait_for(pauser, lambda s: s["state"] == "done")
    assert [r["epoch"] for r in final["history"]] == [1, 2, 3]
    # The same run without a pause ends at the same network: the seat was given up with nothing lost.
    straight = browser(app)
    straight.post("/api/train", json=TINY | {"epochs": 3})
    assert wait_for(straight, lambda s: s["state"] == "done")["history"][-1]["cost"] == final["history"][-1]["cost"]
    assert straight.get("/api/model").json()["connections"] == pauser.get("/api/model").json()["connections"]


LARGEST = {"hidden": [128] * 4, "epochs": 100, "images": 100, "paused": True}  # the largest network the page trains


def paused_after(client, app, epochs):
    """Step the client's paused run to ``epochs``; what its Run keeps once it has left its seat."""
    while (epoch := client.get("/api/train").json()["epoch"]) < epochs:
        client.post("/api/train/step")
        wait_for(client, lambda s, epoch=epoch: s["epoch"] == epoch + 1 and not s["busy"])
    run = app.state.classroom.visitors[client.cookies[COOKIE]].training.run
    eventually(lambda: not run.seated)
    return run


def test_a_paused_run_keeps_the_optimisers_memory_and_shares_the_rest_with_the_pages_network(app):
    client = browser(app)
    client.post("/api/train", json=LARGEST)
    run = paused_after(client, app, 2)
    arrays, _ = run.saved
    n = run.reached.params.nbytes  # 151,306 float32 parameters
    assert sorted(arrays) == ["optimizer_m", "optimizer_v"] and sum(a.nbytes for a in arrays.values()) == 2 * n
    run = paused_after(client, app, 7)
    assert sum(a.nbytes for a in run.saved[0].values()) == 2 * n  # however far it has gone
    assert run.reached.path.epochs == list(range(8))  # its path: the points the page shows, in their plane
    model = app.state.classroom.visitors[client.cookies[COOKIE]].lab.trained.net
    assert model.params is run.reached.params and model.path is run.reached.path  # one copy of each
    client.post("/api/train/step")
    wait_for(client, lambda s: s["epoch"] == 8 and not s["busy"])
    assert app.state.classroom.visitors[client.cookies[COOKIE]].lab.net.path.epochs == list(range(9))


def test_the_run_of_a_session_that_ended_is_stopped(trained_net, mnist, monkeypatch):
    release = held_epochs(monkeypatch)
    # Idle for a second: the newcomer, asking every few hundredths of a second while it trains, must never seem
    # away, even when a loaded machine holds one of its requests up for a few tenths.
    app = create_app(trained_net, mnist, max_sessions=1, max_training=1, idle_minutes=1 / 60)
    leaver, newcomer = visitors(app, 2)
    leaver.post("/api/train", json=TINY)
    training = next(iter(app.state.classroom.visitors.values())).training
    time.sleep(1.1)  # the leaver has gone quiet for longer than the idle time
    newcomer.put("/api/neurons/0/0", json={"off": True})  # the one place: the leaver's session is let go
    assert training.status()["state"] == "idle" and training.status()["message"] == "stopped"
    assert leaver.get("/api/train").status_code == 410
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
