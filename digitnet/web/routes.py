"""The web API's routes: each answers for the visitor asking (``Depends(visitor)``), in JSON.

Routes that change something ask for ``Changing``: that keeps the visitor's session
(classroom.py); the others read, and a visitor who has changed nothing reads the
server's model.
"""

import asyncio
import io
import ipaddress
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from .. import figures, modelfile
from ..errors import DigitnetError
from ..images import to_mnist
from .classroom import Visitor
from .runs import Busy, Training
from .schema import (
    DRAWN,
    SIDE,
    Drawing,
    Edit,
    Image,
    Model,
    Neuron,
    Options,
    Prediction,
    Saved,
    TrainRequest,
    TrainStatus,
    errors,
    options,
)

STREAM_SECONDS = 60  # an event stream ends after this long; a client still interested opens another

router = APIRouter(prefix="/api")


# async: these are quick, and so need no trip to a worker thread
async def visitor(request: Request) -> Visitor:
    return request.app.state.classroom.find(request.state.session)


async def changing(request: Request) -> Visitor:
    return request.app.state.classroom.keep(request.state.session)


You = Annotated[Visitor, Depends(visitor)]
Changing = Annotated[Visitor, Depends(changing)]
Layer = Annotated[int, PathParam(ge=0, le=64, description="hidden layer, 0 = the first")]
Index = Annotated[int, PathParam(ge=0, le=1 << 16, description="neuron in that layer")]


@router.get("/model", response_model=Model)
def model(request: Request, you: You):
    """The network's shape, test accuracy, hand edits and strongest connections."""
    return {**you.lab.describe(), "save_to": save_to(request)}


@router.get("/options", response_model=Options)
def train_options():
    """The choices of activation, cost and optimizer, and the training defaults."""
    return options()


# ---- what the network sees ------------------------------------------------------------

@router.post("/predict", response_model=Prediction, responses=errors(400, 413))
async def predict(drawing: Drawing, you: You):
    """A drawing, centred and scaled as MNIST's digits were (digitnet.images.to_mnist), then
    what the network sees, every layer's activations and its answer."""
    return you.lab.look(seen(np.asarray(drawing.pixels, dtype=np.float32)))


@router.post("/predict/bytes", response_model=Prediction, responses=errors(400, 413))
async def predict_bytes(you: You, drawing: Annotated[bytes, Body(
        media_type="application/octet-stream", min_length=DRAWN * DRAWN, max_length=DRAWN * DRAWN,
        description=f"a {DRAWN}×{DRAWN} drawing as {DRAWN * DRAWN} bytes, row by row: 0 = blank, 255 = full ink")]):
    """/api/predict for a drawing sent as bytes, one a pixel: what the page sends, as it is
    read many times a second while a visitor draws and much quicker to read than numbers in JSON."""
    return you.lab.look(seen(np.frombuffer(drawing, dtype=np.uint8)))


def seen(drawing):
    """What the network sees of a drawing (DRAWN² grey levels 0-255, light ink on an even dark
    ground): the drawing in MNIST's form, or nothing if there is no ink to find."""
    try:
        return to_mnist(drawing.reshape(DRAWN, DRAWN) / np.float32(255), invert=False, even=True)
    except DigitnetError:  # blank, or too faint to read
        return np.zeros(SIDE * SIDE, np.float32)


@router.post("/look", response_model=Prediction, responses=errors(400, 413))
def look(image: Image, you: You):
    """A 28×28 image fed to the network exactly as it is: every layer's activations and its answer."""
    return you.lab.look(np.asarray(image.pixels) / 255)


# ---- one neuron: look and tweak ---------------------------------------------------------

def neuron_info(lab, layer, neuron):
    net, trained = lab.net, lab.trained.net  # read once: another request may change them
    lab.check_neuron(layer, neuron)
    pattern = np.asarray(figures.neuron_pattern(net, layer, neuron), dtype=np.float64)
    return {"layer": layer, "neuron": neuron, "pattern": np.round(pattern.ravel(), 5).tolist(),
            "bias": float(net.biases[layer][neuron]), "trained_bias": float(trained.biases[layer][neuron]),
            **lab.edit_of(layer, neuron), "test_accuracy": lab.accuracy}


@router.get("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(404))
def neuron(layer: Layer, neuron: Index, you: You):
    """One hidden neuron: its weights as a 28×28 picture, its bias and hand edit."""
    return neuron_info(you.lab, layer, neuron)


@router.put("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(400, 404, 413))
def edit_neuron(layer: Layer, neuron: Index, edit: Edit, you: Changing):
    """Shift a neuron's bias, scale its weights or switch it off; the answer has the new test accuracy."""
    you.lab.edit(layer, neuron, edit.bias_shift, edit.weight_scale, edit.off)
    return neuron_info(you.lab, layer, neuron)


@router.post("/reset", response_model=Model)
def reset(request: Request, you: Changing):
    """Undo every hand edit."""
    you.lab.reset()
    return {**you.lab.describe(), "save_to": save_to(request)}


# ---- experiments ------------------------------------------------------------------------------

def need_data(lab):
    if lab.dataset is None:
        raise HTTPException(409, "no MNIST test images: start the server with --data DIR or DIGITNET_DATA")


@router.get("/examples/test", response_model=Prediction, responses=errors(409))
def test_image(you: You, index: Annotated[int | None, Query(ge=0, le=9999)] = None):
    """A test image (a random one unless ``index`` is given), its label and the network's answer."""
    need_data(you.lab)
    images, labels = you.lab.dataset.test_images, you.lab.dataset.test_labels
    i = int(np.random.default_rng().integers(len(images))) if index is None else index
    if i >= len(images):
        raise HTTPException(409, f"there are only {len(images)} test images")
    return {**you.lab.look(images[i] / 255), "label": int(labels[i])}


@router.get("/examples/noise", response_model=Prediction)
def noise(you: You, seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None):
    """Random pixels, and the network's (often confident) answer."""
    return you.lab.look(np.random.default_rng(seed).random(SIDE * SIDE))


@router.get("/examples/dream/{digit}", response_model=Prediction)
def dream(you: You, digit: Annotated[int, PathParam(ge=0, le=9)],
          steps: Annotated[int, Query(ge=1, le=1000)] = 200,
          seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0):
    """The image the network finds most like ``digit``, by gradient ascent on the input."""
    image = figures.dream(you.lab.net, digit, steps=steps, seed=seed)
    return you.lab.look(np.asarray(image))


# ---- training ---------------------------------------------------------------------------------

@router.post("/train", response_model=TrainStatus, status_code=202, responses=errors(400, 409, 413))
def train(request: TrainRequest, you: Changing):
    """Train a new network in the background; its events stream from /api/train/events."""
    need_data(you.lab)
    options = request.model_dump()
    sizes = [SIDE * SIDE, *options.pop("hidden"), 10]
    try:
        you.training.start(sizes, **options)
    except Busy as e:
        raise HTTPException(409, str(e)) from None
    return you.training.status()


@router.get("/train", response_model=TrainStatus)
def train_status(you: You):
    """Where training is: state, place in the queue, epoch and each epoch's cost and accuracy."""
    return you.training.status()


def control(action):
    def act(you: Changing):
        try:
            getattr(you.training, action)()
        except DigitnetError as e:
            raise HTTPException(409, str(e)) from None
        return you.training.status()

    act.__doc__ = getattr(Training, action).__doc__.splitlines()[0]
    return act


for action in ("pause", "resume", "step", "stop"):
    router.post(f"/train/{action}", response_model=TrainStatus, responses=errors(409),
                summary=f"Training: {action}", name=f"train_{action}")(control(action))


@router.get("/train/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "training status events"}})
async def train_events(request: Request, you: You):
    """Server-sent events: the training status each time it changes, until training stops running
    (or for at most a minute: the page then listens again)."""
    training = you.training

    async def events():
        seen, end = -1, asyncio.get_running_loop().time() + STREAM_SECONDS
        while not await request.is_disconnected() and asyncio.get_running_loop().time() < end:
            going, status = training.going(), training.status()
            if status["version"] != seen:
                seen = status["version"]
                yield f"data: {json.dumps(status)}\n\n"
            if not going:
                return
            await asyncio.sleep(0.2)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# ---- saving -----------------------------------------------------------------------------------

def save_to(request):
    """The server's model file, for a visitor at the server's own computer; None for the others."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    return str(request.app.state.save_path) if local else None


@router.get("/download", response_class=Response, responses={200: {
    "content": {"application/octet-stream": {}}, "description": "the visitor's network as a model file (.npz)"}})
def download(you: You):
    """The network as it is now (trained and edited), as a model file for ``digitnet`` and
    ``Network.load``: Save on the page downloads it."""
    lab = you.lab
    net, accuracy = lab.net, lab.accuracy
    file = io.BytesIO()
    modelfile.write(file, net, recipe="web", test_accuracy=accuracy)
    name = "digitnet-" + "-".join(map(str, net.sizes)) + ".npz"
    return Response(file.getvalue(), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/save", response_model=Saved, responses=errors(400, 403, 409))
def save(request: Request, you: You):
    """Save the network as it is now (trained and edited) to the server's model file: only
    for a visitor at the server's own computer (the others download it)."""
    path = save_to(request)
    if path is None:
        raise HTTPException(403, "only the server's own computer saves to its model file: download it instead")
    lab = you.lab
    net, accuracy = lab.net, lab.accuracy
    try:
        modelfile.save(net, path, recipe="web", test_accuracy=accuracy)
    except OSError as e:
        raise HTTPException(409, f"cannot write {path}: {e.strerror or e}") from None
    return {"path": path}
