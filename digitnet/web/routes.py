"""The web API's routes: each asks the lab (``Depends(lab)``) and answers in JSON."""

import asyncio
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from .. import figures, modelfile
from ..errors import DigitnetError
from ..images import to_mnist
from .lab import Busy, Lab, Training
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


def lab(request: Request) -> Lab:
    return request.app.state.lab


TheLab = Annotated[Lab, Depends(lab)]
Layer = Annotated[int, PathParam(ge=0, le=64, description="hidden layer, 0 = the first")]
Index = Annotated[int, PathParam(ge=0, le=1 << 16, description="neuron in that layer")]


@router.get("/model", response_model=Model)
def model(lab: TheLab):
    """The network's shape, test accuracy, hand edits and strongest connections."""
    return lab.describe()


@router.get("/options", response_model=Options)
def train_options():
    """The choices of activation, cost and optimizer, and the training defaults."""
    return options()


# ---- what the network sees ------------------------------------------------------------

@router.post("/predict", response_model=Prediction, responses=errors(400, 413))
def predict(drawing: Drawing, lab: TheLab):
    """A drawing, centred and scaled as MNIST's digits were (digitnet.images.to_mnist), then
    what the network sees, every layer's activations and its answer."""
    image = np.asarray(drawing.pixels, dtype=np.float32).reshape(DRAWN, DRAWN) / 255
    try:
        seen = to_mnist(image, invert=False)
    except DigitnetError:  # a well-formed drawing with no ink to find (blank or too faint): nothing to read
        seen = np.zeros(SIDE * SIDE)
    return lab.look(seen)


@router.post("/look", response_model=Prediction, responses=errors(400, 413))
def look(image: Image, lab: TheLab):
    """A 28×28 image fed to the network exactly as it is: every layer's activations and its answer."""
    return lab.look(np.asarray(image.pixels) / 255)


# ---- one neuron: look and tweak ---------------------------------------------------------

def neuron_info(lab, layer, neuron):
    with lab.lock:
        lab.check_neuron(layer, neuron)
        n = len(lab.net.weights)
        pattern = np.asarray(figures.neuron_pattern(lab.net, layer, neuron), dtype=np.float64)
        return {"layer": layer, "neuron": neuron, "pattern": np.round(pattern.ravel(), 5).tolist(),
                "bias": float(lab.net.biases[layer][neuron]),
                "trained_bias": float(lab.pristine[n + layer][neuron]),
                **lab.edit_of(layer, neuron), "test_accuracy": lab.accuracy}


@router.get("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(404))
def neuron(layer: Layer, neuron: Index, lab: TheLab):
    """One hidden neuron: its weights as a 28×28 picture, its bias and hand edit."""
    return neuron_info(lab, layer, neuron)


@router.put("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(400, 404, 413))
def edit_neuron(layer: Layer, neuron: Index, edit: Edit, lab: TheLab):
    """Shift a neuron's bias, scale its weights or switch it off; the answer has the new test accuracy."""
    lab.edit(layer, neuron, edit.bias_shift, edit.weight_scale, edit.off)
    return neuron_info(lab, layer, neuron)


@router.post("/reset", response_model=Model)
def reset(lab: TheLab):
    """Undo every hand edit."""
    lab.reset()
    return lab.describe()


# ---- experiments ------------------------------------------------------------------------------

def need_data(lab):
    if lab.dataset is None:
        raise HTTPException(409, "no MNIST test images: start the server with --data DIR or DIGITNET_DATA")


@router.get("/examples/test", response_model=Prediction, responses=errors(409))
def test_image(lab: TheLab, index: Annotated[int | None, Query(ge=0, le=9999)] = None):
    """A test image (a random one unless ``index`` is given), its label and the network's answer."""
    need_data(lab)
    images, labels = lab.dataset.test_images, lab.dataset.test_labels
    i = int(np.random.default_rng().integers(len(images))) if index is None else index
    if i >= len(images):
        raise HTTPException(409, f"there are only {len(images)} test images")
    return {**lab.look(images[i] / 255), "label": int(labels[i])}


@router.get("/examples/noise", response_model=Prediction)
def noise(lab: TheLab, seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None):
    """Random pixels, and the network's (often confident) answer."""
    return lab.look(np.random.default_rng(seed).random(SIDE * SIDE))


@router.get("/examples/dream/{digit}", response_model=Prediction)
def dream(lab: TheLab, digit: Annotated[int, PathParam(ge=0, le=9)],
          steps: Annotated[int, Query(ge=1, le=1000)] = 200,
          seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0):
    """The image the network finds most like ``digit``, by gradient ascent on the input."""
    with lab.lock:
        image = figures.dream(lab.net, digit, steps=steps, seed=seed)
        return lab.look(np.asarray(image))


# ---- training ---------------------------------------------------------------------------------

@router.post("/train", response_model=TrainStatus, status_code=202, responses=errors(400, 409, 413))
def train(request: TrainRequest, lab: TheLab):
    """Train a new network in the background; its events stream from /api/train/events."""
    need_data(lab)
    options = request.model_dump()
    sizes = [SIDE * SIDE, *options.pop("hidden"), 10]
    try:
        lab.training.start(sizes, **options)
    except Busy as e:
        raise HTTPException(409, str(e)) from None
    return lab.training.status()


@router.get("/train", response_model=TrainStatus)
def train_status(lab: TheLab):
    """Where training is: state, epoch and each epoch's cost and accuracy."""
    return lab.training.status()


def control(action):
    def act(lab: TheLab):
        try:
            getattr(lab.training, action)()
        except DigitnetError as e:
            raise HTTPException(409, str(e)) from None
        return lab.training.status()

    act.__doc__ = getattr(Training, action).__doc__.splitlines()[0]
    return act


for action in ("pause", "resume", "step", "stop"):
    router.post(f"/train/{action}", response_model=TrainStatus, responses=errors(409),
                summary=f"Training: {action}", name=f"train_{action}")(control(action))


@router.get("/train/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "training status events"}})
async def train_events(request: Request, lab: TheLab):
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


# ---- saving -----------------------------------------------------------------------------------

@router.post("/save", response_model=Saved, responses=errors(400, 409))
def save(request: Request, lab: TheLab):
    """Save the network as it is now (trained and edited) to the server's model file."""
    save_path = request.app.state.save_path
    try:
        with lab.lock:
            modelfile.save(lab.net, save_path, recipe="web", test_accuracy=lab.accuracy)
    except OSError as e:
        raise HTTPException(409, f"cannot write {save_path}: {e.strerror or e}") from None
    return {"path": str(save_path)}
