"""The web page's server: the API's routes, its hardening and the page's static
files, wired into one FastAPI app around a ``Lab``."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .hardening import harden
from .lab import Lab
from .routes import router
from .schema import MAX_BODY

STATIC = Path(__file__).parent / "static"


def create_app(net, dataset=None, save_path="model-web.npz"):
    """The FastAPI app for ``net``; ``dataset`` (digitnet.data.Dataset) adds test
    accuracy, test images and training. Saving always writes ``save_path``."""
    app = FastAPI(title="digitnet", version="1", docs_url=None, redoc_url=None,
                  description="Draw a digit and watch the network read it; look inside, tweak, retrain.")
    app.state.lab = Lab(net, dataset)
    app.state.save_path = save_path
    harden(app, MAX_BODY)
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    # StaticFiles serves only files inside STATIC: it refuses paths that leave it.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
