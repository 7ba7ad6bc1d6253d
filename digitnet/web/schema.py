"""What the web API accepts and what it answers, as pydantic models.

Every input has limits, so /openapi.json describes exactly what is accepted; the
choices of activation, cost and optimizer are the registries' names
(functions.ACTIVATIONS and COSTS, optimizers.OPTIMIZERS), never a copy of them.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..functions import ACTIVATIONS, COSTS
from ..optimizers import OPTIMIZERS

MAX_BODY = 1 << 20  # 1 MiB: a drawing (112×112 pixels) is at most 50 kB of JSON
SIDE = 28  # the network's images are SIDE × SIDE
DRAWN = 112  # the page sends its canvas at DRAWN × DRAWN: detail enough for to_mnist, small to send


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

# What the Train panel suggests: the defaults, on a third of the images, for a run of a few seconds.
SUGGESTED = TrainRequest(images=20000)


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
    drawing_side: int = Field(DRAWN, description="the side of the drawings /api/predict takes")
    save_to: str | None = Field(None, description="the server's model file that Save also writes, for a "
                                                  "visitor at the server's own computer")


class Choice(BaseModel):
    name: str
    about: str


class Options(BaseModel):
    """What the Train panel offers, from the registries the command line uses too."""
    activations: list[Choice]
    costs: list[Choice]
    optimizers: list[Choice]
    defaults: TrainRequest = Field(description="the values the Train panel starts with")


class TrainStatus(BaseModel):
    state: Literal["idle", "queued", "running", "paused", "done", "error"]
    epoch: int
    epochs: int
    busy: bool = Field(description="an epoch is running now")
    message: str
    history: list[dict]
    version: int
    place: int | None = Field(None, description="while queued: the place in the queue, 1 = next to train")


class Saved(BaseModel):
    path: str


def errors(*codes):
    """OpenAPI entries for the error answers a route can give."""
    text = {400: "bad input (a body that is not UTF-8 JSON)",
            403: "not for visitors from other computers", 404: "no such neuron",
            409: "not possible now (no data, wrong training state, cannot write)",
            413: "request body over 1 MiB"}
    return {code: {"model": Error, "description": text[code]} for code in codes}


def options():
    """The Train panel's menus: each registry's names with its one-line ``about``."""
    def choices(registry):
        return [{"name": name, "about": entry.about} for name, entry in registry.items()]

    return {"activations": choices(ACTIVATIONS), "costs": choices(COSTS), "optimizers": choices(OPTIMIZERS),
            "defaults": SUGGESTED.model_dump()}
