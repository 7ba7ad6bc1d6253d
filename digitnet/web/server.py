"""The web page's server: the API's routes, its hardening, the visitors' sessions and
the page's static files, wired into one FastAPI app around a ``Classroom``."""

import ctypes
import ctypes.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .classroom import IDLE_MINUTES, MAX_SESSIONS, Classroom
from .hardening import harden
from .routes import router
from .schema import MAX_BODY
from .sessions import IDLE, RESTARTED, Sessions, forget, give

STATIC = Path(__file__).parent / "static"
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter: blocks this large or larger are mapped alone, unmapped when freed


def create_app(net, dataset=None, save_path="model-web.npz", max_sessions=MAX_SESSIONS,
               idle_minutes=IDLE_MINUTES, max_training=None):
    """The FastAPI app for ``net``; ``dataset`` (digitnet.data.Dataset) adds test
    accuracy, test images and training. Each visitor (browser session) starts from
    ``net`` and changes only their own copy; at most ``max_sessions`` are kept, for
    ``idle_minutes`` after their last request, and at most ``max_training`` runs (the
    number of cores) train at once. Save writes ``save_path`` for a visitor at this
    computer; every visitor can download their network."""
    app = FastAPI(title="digitnet", version="1", docs_url=None, redoc_url=None,
                  description="Draw a digit and watch the network read it; look inside, tweak, retrain.")
    app.state.classroom = Classroom(net, dataset, max_sessions, idle_minutes, max_training)
    app.state.save_path = save_path
    app.state.sessions = Sessions()
    harden(app, MAX_BODY)
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def page(request: Request):
        return welcome(request, FileResponse(STATIC / "index.html"))

    # StaticFiles serves only files inside STATIC: it refuses paths that leave it.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def welcome(request, response):
    """The page's ``response``, giving the browser a session if it has none, or a fresh one in
    place of a session that ended with work in it (saying why, for the page to tell)."""
    sessions, classroom = request.app.state.sessions, request.app.state.classroom
    session = sessions.of(request.cookies)
    ended = session.kept and classroom.find(session.key) is classroom.newcomer
    if session.key is None or ended:
        give(response, sessions.new_key())
    if ended:
        forget(response, IDLE if session.signed else RESTARTED)
    return response


def give_memory_back(threshold=128 << 10):
    """Have glibc's malloc give every block of ``threshold`` bytes or more back to the system as soon
    as it is freed, for the whole process. By default glibc raises that threshold as it goes, to the
    largest block freed so far, and then keeps the arrays a training run frees (its snapshots of the path,
    its images as floats) as free space scattered among the arrays the visitors keep, in a pool for each
    training thread: a server's memory grew by 13 MB for each paused run of the page's largest network,
    of which 3 MB were live. Returns whether it could (elsewhere than glibc there is nothing to set)."""
    try:
        return bool(ctypes.CDLL(ctypes.util.find_library("c")).mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError, TypeError):  # no C library found, or one without mallopt
        return False
