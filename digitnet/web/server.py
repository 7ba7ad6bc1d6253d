"""The web page's server: a small JSON API over ``Lab`` and the page's static files.

Every input is a pydantic model with limits, so /openapi.json describes exactly
what is accepted; anything else is a 4xx with a one-line ``detail``.
"""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import modelfile
from ..errors import DigitnetError
from ..functions import ACTIVATIONS, COSTS
from ..optimizers import OPTIMIZERS
from .lab import Busy, Lab

STATIC = Path(__file__).parent / "static"
MAX_BODY = 1 << 20  # 1 MiB: a drawing (112×112 pixels) is at most 50 kB of JSON
SIDE = 28  # the network's images are SIDE × SIDE
DRAWN = 112  # the page sends its canvas at DRAWN × DRAWN: detail enough for to_mnist, small to send
STREAM_SECONDS = 60  # an event stream ends after this long; a client still interested opens another


# ---- what the API accepts ------------------------------------------------------

# Grey values as JSON numbers only: strict, so neither "12" nor true passes for a pixel.
Pixel = Annotated[float, Field(ge=0, le=255, strict=True, allow_inf_nan=False)]


def whole(value):
    """JSON Schema counts 46.0 as an integer, so accept it; strings and booleans are not numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected a whole number")
    return value


Whole = BeforeValidator(whole)


class Drawing(BaseModel):
    pixels: list[Pixel] = Field(
        min_length=DRAWN * DRAWN, max_length=DRAWN * DRAWN,
        description=f"a {DRAWN}×{DRAWN} drawing, row by row: 0 = blank, 255 = full ink (light ink on dark)")


class Image(BaseModel):
    pixels: list[Pixel] = Field(min_length=SIDE * SIDE, max_length=SIDE * SIDE,
                                description=f"a {SIDE}×{SIDE} image, row by row: 0 = blank, 255 = full ink")


class Edit(BaseModel):
    model_config = ConfigDict(strict=True)  # JSON numbers and booleans only, as the schema says

    bias_shift: float = Field(0.0, ge=-50, le=50, allow_inf_nan=False, description="added to the trained bias")
    weight_scale: float = Field(1.0, ge=-10, le=10, allow_inf_nan=False,
                                description="multiplies the trained incoming weights")
    off: bool = Field(False, description="cut the neuron's outgoing weights")


class TrainRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    hidden: list[Annotated[int, Field(ge=1, le=128), Whole]] = Field([16, 16], min_length=1, max_length=4,
                                                            description="hidden layer sizes")
    activation: Literal[tuple(ACTIVATIONS)] = "relu"
    cost: Literal[tuple(COSTS)] = "cross-entropy"
    optimizer: Literal[tuple(OPTIMIZERS)] = "adam"
    lr: float = Field(0.003, gt=0, le=100, allow_inf_nan=False, description="learning rate η")
    batch_size: Annotated[int, Whole] = Field(128, ge=1, le=10000)
    epochs: Annotated[int, Whole] = Field(10, ge=1, le=100)
    images: Annotated[int, Whole] = Field(60000, ge=100, le=60000, description="training images to learn from")
    paused: bool = Field(False, description="set up the run but wait for step or resume")


# ---- what it answers -------------------------------------------------------------

class Error(BaseModel):
    detail: str


class Prediction(BaseModel):
    input: list[float] = Field(description="the 784 pixels the network sees, ink = 1")
    layers: list[list[float]] = Field(description="each layer's activations after the input")
    zs: list[list[float]] = Field(description="each layer's weighted sums z = W a + b")
    prediction: int
    probabilities: list[float]
    label: int | None = Field(None, description="the true digit, for a test image")


class Neuron(BaseModel):
    layer: int
    neuron: int
    pattern: list[float] = Field(description="28×28: the incoming weights, or for deeper layers the combined "
                                             "pattern of pixels that drives the neuron")
    bias: float
    trained_bias: float
    bias_shift: float
    weight_scale: float
    off: bool
    test_accuracy: float | None


class NeuronEdit(BaseModel):
    layer: int
    neuron: int
    bias_shift: float
    weight_scale: float
    off: bool


class Model(BaseModel):
    sizes: list[int]
    activation: str
    cost: str
    test_accuracy: float | None
    has_data: bool
    edits: list[NeuronEdit] = Field(description="the hidden neurons changed by hand")
    connections: list[list[list[float]]] = Field(
        description="per layer, the strongest weights as [from neuron, to neuron, weight]")


class TrainStatus(BaseModel):
    state: Literal["idle", "running", "paused", "done", "error"]
    epoch: int
    epochs: int
    busy: bool = Field(description="an epoch is running now")
    message: str
    history: list[dict]
    version: int


class Saved(BaseModel):
    path: str


def errors(*codes):
    """OpenAPI entries for the error answers a route can give."""
    text = {400: "bad input (a body that is not UTF-8 JSON)",
            404: "no such neuron", 409: "not possible now (no data, wrong training state, cannot write)",
            413: "request body over 1 MiB"}
    return {code: {"model": Error, "description": text[code]} for code in codes}


# ---- the app -------------------------------------------------------------------

def create_app(net, dataset=None, save_path="model-web.npz"):
    """The FastAPI app for ``net``; ``dataset`` (digitnet.data.Dataset) adds test
    accuracy, test images and training. Saving always writes ``save_path``."""
    lab = Lab(net, dataset)
    app = FastAPI(title="digitnet", version="1", docs_url=None, redoc_url=None,
                  description="Draw a digit and watch the network read it; look inside, tweak, retrain.")
    app.state.lab = lab
    app.add_middleware(BodyLimit, limit=MAX_BODY)

    @app.exception_handler(DigitnetError)
    async def bad_input(request, e):
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, e):
        # FastAPI's own answer echoes the input back, which fails on NaN and
        # repeats huge bodies: keep only where and what the problem is.
        problems = [{"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"]} for p in e.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, e):
        if e.status_code == 405:  # Starlette's Allow names only the first route on the path: name them all
            methods = {m for r in app.routes if isinstance(r, APIRoute)
                       and r.matches(request.scope)[0] == Match.PARTIAL for m in r.methods}
            e.headers = {**(e.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, e)

    @app.exception_handler(LookupError)
    async def not_found(request, e):
        return JSONResponse({"detail": str(e.args[0])}, status_code=404)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    # StaticFiles serves only files inside STATIC: it refuses paths that leave it.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/model", response_model=Model)
    def model():
        """The network's shape, test accuracy, hand edits and strongest connections."""
        return lab.describe()

    @app.post("/api/predict", response_model=Prediction, responses=errors(400, 413))
    def predict(drawing: Drawing):
        """A drawing, centred and scaled as MNIST's digits were (digitnet.images.to_mnist), then
        what the network sees, every layer's activations and its answer."""
        from ..images import to_mnist

        image = np.asarray(drawing.pixels, dtype=np.float32).reshape(DRAWN, DRAWN) / 255
        try:
            seen = to_mnist(image, invert=False)
        except DigitnetError:  # a well-formed drawing with no ink to find (blank or too faint): nothing to read
            seen = np.zeros(SIDE * SIDE)
        return lab.look(seen)

    @app.post("/api/look", response_model=Prediction, responses=errors(400, 413))
    def look(image: Image):
        """A 28×28 image fed to the network exactly as it is: every layer's activations and its answer."""
        return lab.look(np.asarray(image.pixels) / 255)

    Layer = Annotated[int, PathParam(ge=0, le=64, description="hidden layer, 0 = the first")]
    Index = Annotated[int, PathParam(ge=0, le=1 << 16, description="neuron in that layer")]

    def neuron_info(layer, neuron):
        from ..figures import neuron_pattern

        with lab.lock:
            lab.check_neuron(layer, neuron)
            n = len(lab.net.weights)
            pattern = np.asarray(neuron_pattern(lab.net, layer, neuron), dtype=np.float64)
            return {"layer": layer, "neuron": neuron, "pattern": np.round(pattern.ravel(), 5).tolist(),
                    "bias": float(lab.net.biases[layer][neuron]),
                    "trained_bias": float(lab.pristine[n + layer][neuron]),
                    **lab.edit_of(layer, neuron), "test_accuracy": lab.accuracy}

    @app.get("/api/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(404))
    def neuron(layer: Layer, neuron: Index):
        """One hidden neuron: its weights as a 28×28 picture, its bias and hand edit."""
        return neuron_info(layer, neuron)

    @app.put("/api/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(400, 404, 413))
    def edit_neuron(layer: Layer, neuron: Index, edit: Edit):
        """Shift a neuron's bias, scale its weights or switch it off; the answer has the new test accuracy."""
        lab.edit(layer, neuron, edit.bias_shift, edit.weight_scale, edit.off)
        return neuron_info(layer, neuron)

    @app.post("/api/reset", response_model=Model)
    def reset():
        """Undo every hand edit."""
        lab.reset()
        return lab.describe()

    def need_data():
        if lab.dataset is None:
            raise HTTPException(409, "no MNIST test images: start the server with --data DIR or DIGITNET_DATA")

    @app.get("/api/examples/test", response_model=Prediction, responses=errors(409))
    def test_image(index: Annotated[int | None, Query(ge=0, le=9999)] = None):
        """A test image (a random one unless ``index`` is given), its label and the network's answer."""
        need_data()
        images, labels = lab.dataset.test_images, lab.dataset.test_labels
        i = int(np.random.default_rng().integers(len(images))) if index is None else index
        if i >= len(images):
            raise HTTPException(409, f"there are only {len(images)} test images")
        return {**lab.look(images[i] / 255), "label": int(labels[i])}

    @app.get("/api/examples/noise", response_model=Prediction)
    def noise(seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None):
        """Random pixels, and the network's (often confident) answer."""
        return lab.look(np.random.default_rng(seed).random(SIDE * SIDE))

    @app.get("/api/examples/dream/{digit}", response_model=Prediction)
    def dream(digit: Annotated[int, PathParam(ge=0, le=9)],
              steps: Annotated[int, Query(ge=1, le=1000)] = 200,
              seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0):
        """The image the network finds most like ``digit``, by gradient ascent on the input."""
        from ..figures import dream

        with lab.lock:
            image = dream(lab.net, digit, steps=steps, seed=seed)
            return lab.look(np.asarray(image))

    @app.post("/api/train", response_model=TrainStatus, status_code=202, responses=errors(400, 409, 413))
    def train(request: TrainRequest):
        """Train a new network in the background; its events stream from /api/train/events."""
        need_data()
        options = request.model_dump()
        sizes = [SIDE * SIDE, *options.pop("hidden"), 10]
        try:
            lab.training.start(sizes, **options)
        except Busy as e:
            raise HTTPException(409, str(e)) from None
        return lab.training.status()

    @app.get("/api/train", response_model=TrainStatus)
    def train_status():
        """Where training is: state, epoch and each epoch's cost and accuracy."""
        return lab.training.status()

    def control(action):
        def act():
            try:
                getattr(lab.training, action)()
            except DigitnetError as e:
                raise HTTPException(409, str(e)) from None
            return lab.training.status()

        act.__doc__ = getattr(lab.training, action).__doc__.splitlines()[0]
        return act

    for action in ("pause", "resume", "step", "stop"):
        app.post(f"/api/train/{action}", response_model=TrainStatus, responses=errors(409),
                 summary=f"Training: {action}", name=f"train_{action}")(control(action))

    @app.get("/api/train/events", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}, "description": "training status events"}})
    async def train_events(request: Request):
        """Server-sent events: the training status each time it changes, until training stops running
        (or for at most a minute: the page then listens again)."""
        async def events():
            seen, end = -1, asyncio.get_running_loop().time() + STREAM_SECONDS
            while not await request.is_disconnected() and asyncio.get_running_loop().time() < end:
                status = lab.training.status()
                if status["version"] != seen:
                    seen = status["version"]
                    yield f"data: {json.dumps(status)}\n\n"
                if status["state"] != "running" and not status["busy"] and not lab.training.steps:
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/api/save", response_model=Saved, responses=errors(400, 409))
    def save():
        """Save the network as it is now (trained and edited) to the server's model file."""
        try:
            with lab.lock:
                modelfile.save(lab.net, save_path, recipe="web", test_accuracy=lab.accuracy)
        except OSError as e:
            raise HTTPException(409, f"cannot write {save_path}: {e.strerror or e}") from None
        return {"path": str(save_path)}

    return app


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes: at once if Content-Length says
    so, else as soon as the streamed body passes the limit."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await too_large(send, self.limit) if length.isdigit() else await bad_length(send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


async def too_large(send, limit):
    await answer(send, 413, f"request body over {limit} bytes")


async def bad_length(send):
    await answer(send, 400, "bad Content-Length header")


async def answer(send, status, detail):
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
