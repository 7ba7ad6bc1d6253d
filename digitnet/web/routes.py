"""The web API's routes: each answers for the visitor asking (``Depends(visitor)``), in JSON.

Routes that change something ask for ``Changing``: that keeps the visitor's session
(classroom.py), and needs one, given by loading the page; the others read, and a
visitor who has changed nothing reads the server's model. A browser whose session
ended with work in it is told so (410) by every route, never answered as if nothing
had been lost.
"""

import asyncio
import io
import ipaddress
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from .. import figures, modelfile, negatives
from ..errors import DigitnetError
from ..images import to_mnist
from .classroom import Full, Visitor
from .lab import TooFar
from .runs import Busy, Training
from .schema import (
    DRAWN,
    EXPERIMENT_REQUESTS,
    NOT_A_DIGIT_LABEL,
    SIDE,
    Drawing,
    Edit,
    ExperimentStatus,
    Image,
    Model,
    Neuron,
    Options,
    Prediction,
    Saved,
    TeachBatch,
    TeachBatchStep,
    TeachDrawing,
    TeachImage,
    TeachStep,
    TeachTest,
    TrainRequest,
    TrainStatus,
    errors,
    options,
)
from .sessions import mark_kept

STREAM_SECONDS = 60  # an event stream ends after this long; a client still interested opens another
TRAINING_EVENTS = 0.2  # seconds between looks at a training run for news: an epoch takes longer
EXPERIMENT_EVENTS = 0.1  # ...and at an experiment, which may report hundreds of epochs a second

router = APIRouter(prefix="/api")


# async: these are quick, and so need no trip to a worker thread
async def visitor(request: Request) -> Visitor:
    return found(request)[0]


async def changing(request: Request, response: Response) -> Visitor:
    """The visitor, kept from now on (they are about to change something): a 403 for a browser that
    has no session (it has not loaded the page), a 409 when the class is full."""
    visitor, session = found(request)
    if visitor is request.app.state.classroom.newcomer:
        if session.key is None:
            raise HTTPException(403, "this browser has no session on this server: reload the page to get one")
        try:
            visitor = request.app.state.classroom.keep(session.key)
        except Full as e:
            raise HTTPException(409, str(e)) from None
    if not session.kept:
        mark_kept(response, session.key)
    return visitor


def found(request):
    """The visitor asking (the newcomer for a session that has kept nothing) and their session;
    a 410 if the browser's session had work kept and has ended since."""
    classroom, session = request.app.state.classroom, request.app.state.sessions.of(request.cookies)
    visitor = classroom.find(session.key)
    if visitor is classroom.newcomer and session.kept:
        raise HTTPException(410, ended(session.signed, classroom.idle))
    return visitor, session


def ended(signed, idle):
    """Why a session with work ended: the server restarted (it no longer knows the key), or it was idle."""
    why = "the server was restarted" if not signed else \
        f"nothing was heard from this page for {idle / 60:g} minutes"
    return (f"your session has ended ({why}): your edits, teaching, training and experiments are gone; "
            "reload the page to start again from the served network")


You = Annotated[Visitor, Depends(visitor)]
Changing = Annotated[Visitor, Depends(changing)]
Layer = Annotated[int, PathParam(ge=0, le=64, description="hidden layer, 0 = the first")]
Index = Annotated[int, PathParam(ge=0, le=1 << 16, description="neuron in that layer")]
Wanted = Annotated[int | None, Query(ge=0, le=NOT_A_DIGIT_LABEL,
                                     description="the digit it should be (10: not a digit, for a network with that "
                                                 "output): the answer then has the cost of this example as that, "
                                                 "laid out")]


@router.get("/model", response_model=Model, responses=errors(410))
def model(request: Request, you: You):
    """The network's shape, test accuracy, hand edits and strongest connections."""
    return described(you, request)


@router.get("/options", response_model=Options)
def train_options():
    """The choices of activation, cost and optimizer, and the training defaults."""
    return options()


# ---- what the network sees ------------------------------------------------------------

@router.post("/predict", response_model=Prediction, responses=errors(400, 410, 413))
async def predict(drawing: Drawing, you: You, label: Wanted = None):
    """A drawing, centred and scaled as MNIST's digits were (digitnet.images.to_mnist), then
    what the network sees, every layer's activations and its answer."""
    return you.lab.look(seen(np.asarray(drawing.pixels, dtype=np.float32)), wanted(you.lab, label))


@router.post("/predict/bytes", response_model=Prediction, responses=errors(400, 410, 413))
async def predict_bytes(you: You, drawing: Annotated[bytes, Body(
        media_type="application/octet-stream", min_length=DRAWN * DRAWN, max_length=DRAWN * DRAWN,
        description=f"a {DRAWN}×{DRAWN} drawing as {DRAWN * DRAWN} bytes, row by row: 0 = blank, 255 = full ink")],
        label: Wanted = None):
    """/api/predict for a drawing sent as bytes, one a pixel: what the page sends, as it is
    read many times a second while a visitor draws and much quicker to read than numbers in JSON."""
    return you.lab.look(seen(np.frombuffer(drawing, dtype=np.uint8)), wanted(you.lab, label))


def seen(drawing):
    """What the network sees of a drawing (DRAWN² grey levels 0-255, light ink on an even dark
    ground): the drawing in MNIST's form, or nothing if there is no ink to find."""
    try:
        return to_mnist(drawing.reshape(DRAWN, DRAWN) / np.float32(255), invert=False, even=True)
    except DigitnetError:  # blank, or too faint to read
        return np.zeros(SIDE * SIDE, np.float32)


def wanted(lab, label):
    """``label``, if the network has an output for it; if not, a 422 of the schema's form, as for
    any label out of bounds (10, "not a digit", is in them, and not every network has it)."""
    outputs = lab.net.sizes[-1]
    if label is not None and label >= outputs:
        raise RequestValidationError([{"loc": ["label"], "type": "value_error",
                                       "msg": f"a label is one of the network's {outputs} outputs, 0 to {outputs - 1}, "
                                              f"not {label}"}])
    return label


@router.post("/look", response_model=Prediction, responses=errors(400, 410, 413))
def look(image: Image, you: You, label: Wanted = None):
    """A 28×28 image fed to the network exactly as it is: every layer's activations and its answer."""
    return you.lab.look(np.asarray(image.pixels) / 255, wanted(you.lab, label))


# ---- one neuron: look and tweak ---------------------------------------------------------

@router.get("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(404, 410))
def neuron(layer: Layer, neuron: Index, you: You):
    """One hidden neuron: its weights as a 28×28 picture, its bias and hand edit."""
    return you.lab.neuron(layer, neuron)


@router.put("/neurons/{layer}/{neuron}", response_model=Neuron, responses=errors(400, 403, 404, 409, 410, 413))
def edit_neuron(layer: Layer, neuron: Index, edit: Edit, you: Changing):
    """Shift a neuron's bias, scale its weights or switch it off; the answer has the new test accuracy."""
    you.lab.edit(layer, neuron, edit.bias_shift, edit.weight_scale, edit.off)
    return you.lab.neuron(layer, neuron)


@router.post("/reset", response_model=Model, responses=errors(403, 409, 410))
def reset(request: Request, you: Changing):
    """Undo every hand edit."""
    you.lab.reset()
    return described(you, request)


# ---- examples to look at: test images, noise, letters, dreams ----------------------------------

def need_data(lab):
    if lab.dataset is None:
        raise HTTPException(409, "no MNIST test images: start the server with --data DIR or DIGITNET_DATA")


@router.get("/examples/test", response_model=Prediction, responses=errors(409, 410))
def test_image(you: You, index: Annotated[int | None, Query(ge=0, le=9999)] = None, label: Wanted = None):
    """A test image (a random one unless ``index`` is given), its label, the network's answer,
    and its cost as its true label (or as ``label``)."""
    i, true_label = test_example(you.lab, index)
    return {**you.lab.example(test_pixels(you.lab, i), wanted(you.lab, true_label if label is None else label)),
            "label": true_label, "index": i}


def test_example(lab, index=None):
    """A test image's index (a random one if None) and true label."""
    need_data(lab)
    labels = lab.dataset.test_labels
    i = int(np.random.default_rng().integers(len(labels))) if index is None else index
    if i >= len(labels):
        raise HTTPException(409, f"there are only {len(labels)} test images")
    return i, int(labels[i])


def test_pixels(lab, i):
    return lab.dataset.test_images[i] / 255


@router.get("/examples/noise", response_model=Prediction, responses=errors(410))
def noise(you: You, seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None, label: Wanted = None):
    """Random pixels, and the network's answer: often a confident digit, unless it has learnt to say
    "not a digit"; with a ``label``, its cost as that."""
    return you.lab.example(np.random.default_rng(seed).random(SIDE * SIDE), wanted(you.lab, label))


@router.get("/examples/letter", response_model=Prediction)
def letter(you: You, seed: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None, label: Wanted = None):
    """A letter, drawn as a "not a digit" output's letters are (negatives.py, from a stream training
    never draws from), and the network's answer; with a ``label``, its cost as that."""
    images, _ = negatives.draw("letters", 1, np.random.default_rng(seed))
    return you.lab.example(images[0], wanted(you.lab, label))


@router.get("/examples/dream/{digit}", response_model=Prediction, responses=errors(410))
def dream(you: You, digit: Annotated[int, PathParam(ge=0, le=9)],
          steps: Annotated[int, Query(ge=1, le=1000)] = 200,
          seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0, label: Wanted = None):
    """The image the network finds most like ``digit``, by gradient ascent on the input; with a
    ``label``, its cost as that."""
    image = figures.dream(you.lab.net, digit, steps=steps, seed=seed)
    return you.lab.example(np.asarray(image), wanted(you.lab, label))


# ---- teaching: one step downhill on one example ---------------------------------------------------

@router.post("/teach", response_model=TeachStep, responses=errors(400, 403, 409, 410, 413))
def teach(example: TeachDrawing, you: Changing):
    """One step of gradient descent on a drawing (as /api/predict takes it) as the digit ``label``:
    every weight and bias of the visitor's network moves by −η ∂C/∂w, from backprop on this one
    example. Answers the outputs, this example's cost and the test scores before and after, and
    the nudges. /api/teach/undo takes it back."""
    return step(you.lab, seen(np.asarray(example.pixels, dtype=np.float32)), example.label, example.lr)


@router.post("/teach/image", response_model=TeachStep, responses=errors(400, 403, 409, 410, 413))
def teach_image(example: TeachImage, you: Changing):
    """/api/teach for a 28×28 image fed to the network as it is (as /api/look takes it)."""
    return step(you.lab, np.asarray(example.pixels) / 255, example.label, example.lr)


@router.post("/teach/test", response_model=TeachStep, responses=errors(400, 403, 409, 410, 413))
def teach_test(example: TeachTest, you: Changing):
    """/api/teach for test image ``index``, as its true label unless ``label`` says otherwise."""
    i, true_label = test_example(you.lab, example.index)
    return step(you.lab, test_pixels(you.lab, i), true_label if example.label is None else example.label, example.lr)


def step(lab, x, label, lr):
    return taken(lab.teach_one, x, wanted(lab, label), lr)


def taken(teach, *args):
    """A teaching step, or a 409 if it would take the weights too far."""
    try:
        return teach(*args)
    except TooFar as e:
        raise HTTPException(409, str(e)) from None


@router.post("/teach/batch", response_model=TeachBatchStep, responses=errors(400, 403, 409, 410, 413))
def teach_batch(batch: TeachBatch, you: Changing):
    """A step downhill on each of ``images`` random training images in turn: stochastic
    gradient descent, one example at a time, kept as one teaching step that Undo takes back."""
    need_data(you.lab)
    images, labels = you.lab.dataset.train_images, you.lab.dataset.train_labels
    chosen = np.random.default_rng(batch.seed).choice(len(images), min(batch.images, len(images)), replace=False)
    return taken(you.lab.teach_many, images[chosen], labels[chosen], batch.lr)


@router.post("/teach/undo", response_model=Model, responses=errors(403, 409, 410))
def undo(request: Request, you: Changing):
    """Take back the last teaching step."""
    if not you.lab.undo():
        raise HTTPException(409, "there is no teaching step to undo")
    return described(you, request)


@router.post("/teach/reset", response_model=Model, responses=errors(403, 409, 410))
def start_over(request: Request, you: Changing):
    """Back to the network as it was before the first teaching step."""
    if not you.lab.start_over():
        raise HTTPException(409, "the network has not been taught: there is nothing to reset")
    return described(you, request)


# ---- training ---------------------------------------------------------------------------------

@router.post("/train", response_model=TrainStatus, status_code=202,
             responses=errors(400, 403, 409, 410, 413))
def train(request: TrainRequest, you: Changing):
    """Train a new network in the background; its events stream from /api/train/events."""
    need_data(you.lab)
    options = request.model_dump()
    net = you.lab.net  # a new network reads what the visitor's reads: its inputs, and an output per class
    sizes = [net.sizes[0], *options.pop("hidden"), net.digits]
    try:
        you.training.start(sizes, **options)
    except Busy as e:
        raise HTTPException(409, str(e)) from None
    return you.training.status()


@router.get("/train", response_model=TrainStatus, responses=errors(410))
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
    router.post(f"/train/{action}", response_model=TrainStatus, responses=errors(403, 409, 410),
                summary=f"Training: {action}", name=f"train_{action}")(control(action))


@router.get("/train/events", response_class=StreamingResponse,
            responses={**errors(410), 200: {"content": {"text/event-stream": {}},
                                             "description": "training status events"}})
async def train_events(request: Request, you: You):
    """Server-sent events: the training status each time it changes, until training stops running
    (or for at most a minute: the page then listens again)."""
    return event_stream(request, you.training, TRAINING_EVENTS)


def event_stream(request, source, pause, watched=False):
    """Server-sent events of ``source``'s status (a Training or an Experiment): looked at every
    ``pause`` seconds and sent when its version has changed, until it stops going (or for
    STREAM_SECONDS), so however often it changes, the page hears at most 1/pause times a second.
    A ``watched`` source is told while the stream is open (``source.watch``)."""
    async def events():
        seen, end = -1, asyncio.get_running_loop().time() + STREAM_SECONDS
        if watched:
            source.watch(+1)
        try:
            while not await request.is_disconnected() and asyncio.get_running_loop().time() < end:
                going, status = source.going(), source.status()
                if status["version"] != seen:
                    seen = status["version"]
                    yield f"data: {json.dumps(status, allow_nan=False)}\n\n"
                if not going:
                    return
                await asyncio.sleep(pause)
        finally:  # also when the page has gone and the stream is closed mid-way
            if watched:
                source.watch(-1)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# ---- the experiments of chapter 2, run live -----------------------------------------------------

def experiment(name, request_model):
    """The route that starts experiment ``name``, whose options come in a ``request_model``."""
    def begin(options: request_model, you: Changing):
        need_data(you.lab)
        you.experiment.start(name, options.model_dump())
        return you.experiment.status()

    about = request_model.__doc__
    begin.__doc__ = (f"{about[0].upper()}{about[1:]}. It runs on the visitor's network, in a seat of the training "
                     "queue; what it measures streams from /api/experiments/events as it comes.")
    return begin


for name, request_model in EXPERIMENT_REQUESTS.items():
    router.post(f"/experiments/{name}", response_model=ExperimentStatus, status_code=202,
                responses=errors(400, 403, 409, 410, 413), summary=f"Experiment: {name}",
                name=f"experiment_{name.replace('-', '_')}")(experiment(name, request_model))


@router.get("/experiments", response_model=ExperimentStatus, responses=errors(410))
def experiment_status(you: You):
    """The visitor's experiment: which, its state, place in the queue, and what it has measured."""
    return you.experiment.status()


@router.post("/experiments/stop", response_model=ExperimentStatus, responses=errors(403, 409, 410))
def stop_experiment(you: Changing):
    """Stop the experiment; what it measured so far stays."""
    try:
        you.experiment.stop()
    except DigitnetError as e:
        raise HTTPException(409, str(e)) from None
    return you.experiment.status()


@router.get("/experiments/events", response_class=StreamingResponse,
            responses={**errors(410), 200: {"content": {"text/event-stream": {}},
                                             "description": "experiment status events"}})
async def experiment_events(request: Request, you: You):
    """Server-sent events: the experiment's status as it measures, at most ten a second, until it
    ends (or for at most a minute). An experiment with no page listening and nobody asking stops."""
    return event_stream(request, you.experiment, EXPERIMENT_EVENTS, watched=True)


# ---- saving -----------------------------------------------------------------------------------

def described(you, request):
    """The visitor's network as /api/model describes it, with where Save writes and whether they can edit it."""
    return {**you.lab.describe(), "save_to": save_to(request), **may_edit(you, request)}


def may_edit(you, request):
    """Whether the visitor can change things ("editing"), and if not, why ("notice")."""
    classroom = request.app.state.classroom
    if you is not classroom.newcomer:
        return {"editing": True, "notice": None}
    if request.app.state.sessions.of(request.cookies).key is None:
        return {"editing": False, "notice": "this browser has no session on this server: reload the page to edit"}
    if not classroom.has_room():
        return {"editing": False, "notice": classroom.full()}
    return {"editing": True, "notice": None}


def save_to(request):
    """The server's model file, for a visitor at the server's own computer; None for the others."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    return str(request.app.state.save_path) if local else None


@router.get("/download", response_class=Response, responses={**errors(410), 200: {
    "content": {"application/octet-stream": {}}, "description": "the visitor's network as a model file (.npz)"}})
def download(you: You):
    """The network as it is now (trained and edited), as a model file for ``digitnet`` and
    ``Network.load``: Save on the page downloads it."""
    lab = you.lab
    net, accuracy = lab.net, lab.accuracy
    file = io.BytesIO()
    modelfile.write(file, net, **recorded(net), test_accuracy=accuracy)
    name = "digitnet-" + "-".join(map(str, net.sizes)) + ".npz"
    return Response(file.getvalue(), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def recorded(net):
    """How ``net`` was trained, for its model file's header: its recipe and options, as the file it
    was loaded from or the page's training run recorded them ("web" and none if neither did)."""
    header = getattr(net, "header", None) or {}
    return {"recipe": header.get("recipe") or "web", "options": header.get("options")}


@router.post("/save", response_model=Saved, responses=errors(400, 403, 409, 410))
def save(request: Request, you: You):
    """Save the network as it is now (trained and edited) to the server's model file: only
    for a visitor at the server's own computer (the others download it)."""
    path = save_to(request)
    if path is None:
        raise HTTPException(403, "only the server's own computer saves to its model file: download it instead")
    lab = you.lab
    net, accuracy = lab.net, lab.accuracy
    try:
        modelfile.save(net, path, **recorded(net), test_accuracy=accuracy)
    except OSError as e:
        raise HTTPException(409, f"cannot write {path}: {e.strerror or e}") from None
    return {"path": path}
