"""What the web API accepts and what it answers, as pydantic models.

Every input has limits, so /openapi.json describes exactly what is accepted; the
choices of activation, cost and optimizer are the registries' names
(functions.ACTIVATIONS and COSTS, optimizers.OPTIMIZERS), and the experiments' options
are made from their declaration (experiments.EXPERIMENTS), never a copy of them.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from ..experiments import EXPERIMENTS
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


class Request(BaseModel):
    """What a request's JSON body may hold: a field it does not know is refused (422), not ignored,
    so that a misspelt option ({"switched_off": true}) cannot look as if it had been taken."""
    model_config = ConfigDict(extra="forbid")


class Drawing(Request):
    pixels: list[Pixel] = Field(
        min_length=DRAWN * DRAWN, max_length=DRAWN * DRAWN,
        description=f"a {DRAWN}×{DRAWN} drawing, row by row: 0 = blank, 255 = full ink (light ink on dark)")


class Image(Request):
    pixels: list[Pixel] = Field(min_length=SIDE * SIDE, max_length=SIDE * SIDE,
                                description=f"a {SIDE}×{SIDE} image, row by row: 0 = blank, 255 = full ink")


class Edit(Request):
    model_config = ConfigDict(strict=True)  # JSON numbers and booleans only, as the schema says

    bias_shift: float = Field(0.0, ge=-50, le=50, allow_inf_nan=False, description="added to the trained bias")
    weight_scale: float = Field(1.0, ge=-10, le=10, allow_inf_nan=False,
                                description="multiplies the trained incoming weights")
    off: bool = Field(False, description="cut the neuron's outgoing weights")


# ---- teaching: one step downhill on one example --------------------------------------

LR_RANGE = (1e-5, 100)  # the learning rates η a teaching step may take


# A label is a digit, or "not a digit" for a network with that output, after the ten digits.
NOT_A_DIGIT_LABEL = 10


def digit(label):
    if not 0 <= label <= NOT_A_DIGIT_LABEL:
        raise ValueError(f"a label is a digit, 0 to 9, or {NOT_A_DIGIT_LABEL} for not a digit, not {label}")
    return label


# The limits in the schema, and a message that names the label when it is out of them.
Digit = Annotated[int, Whole, AfterValidator(digit),
                  Field(description=f"the digit it should be ({NOT_A_DIGIT_LABEL}: not a digit, for a network "
                                    "with that output)",
                        json_schema_extra={"minimum": 0, "maximum": NOT_A_DIGIT_LABEL})]
LearningRate = Annotated[float, Field(ge=LR_RANGE[0], le=LR_RANGE[1], strict=True, allow_inf_nan=False,
                                      description="learning rate η: every weight and bias moves by −η ∂C/∂w "
                                                  "(default: the network's teaching_rate, see /api/model)")]


class Lesson(Request):
    label: Digit
    lr: LearningRate | None = None


class TeachDrawing(Drawing, Lesson):
    """A step on a drawing, sent as /api/predict takes it."""


class TeachImage(Image, Lesson):
    """A step on a 28×28 image, fed to the network as it is (as /api/look takes it)."""


class TeachTest(Request):
    index: Annotated[int, Field(ge=0, le=9999, description="which test image"), Whole]
    label: Digit | None = Field(None, description="the digit it should be (default: its true label)")
    lr: LearningRate | None = None


class TeachBatch(Request):
    images: Annotated[int, Field(ge=1, le=1000, description="random training images, a step on each in turn"),
                      Whole] = 100
    lr: LearningRate | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1, description="which images (default: fresh ones each time)"),
                    Whole] | None = None


# ---- the experiments of chapter 2, run live --------------------------------------------

class ExperimentRequest(Request):
    model_config = ConfigDict(strict=True)  # and, as for every Request, an option of another experiment is refused


def odd(steps):
    if steps % 2 == 0:
        raise ValueError(f"the surface needs an odd number of steps, so that the network is its centre; got {steps}")
    return steps


def field(option):
    """An experiment's option (experiments.Option) as a field of its request: its type, default,
    the range the page accepts, and what it means."""
    default, about = option.default, option.about
    if isinstance(default, bool):
        return bool, Field(default, description=about)
    least, most = option.page
    if isinstance(default, tuple):  # a list of whole numbers
        each = Annotated[int, Field(ge=least, le=most), Whole]
        fewest, most_of_them = option.length
        return list[each], Field(list(default), min_length=fewest, max_length=most_of_them, description=about)
    if isinstance(default, float):
        return float, Field(default, gt=least, le=most, allow_inf_nan=False, description=about)
    checks = (Whole, AfterValidator(odd)) if option.odd else (Whole,)
    return Annotated[(int, *checks)], Field(default, ge=least, le=most, description=about)


def request_for(name, experiment):
    """The body /api/experiments/NAME takes: the options the page offers, in the ranges it accepts."""
    fields = {key: field(option) for key, option in experiment.options.items() if option.page is not None}
    title = "".join(word.capitalize() for word in name.split("-"))  # sigmoid-vs-relu: SigmoidVsRelu
    return create_model(f"{title}Request", __base__=ExperimentRequest, __doc__=experiment.about, **fields)


EXPERIMENT_REQUESTS = {name: request_for(name, experiment) for name, experiment in EXPERIMENTS.items()}


class TrainRequest(Request):
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


class CostOfOne(BaseModel):
    """The cost of one example laid out as in the video (lesson.cost_of_one)."""
    cost_kind: str = Field(description="quadratic: C = ½ Σ (a − y)²; cross-entropy: C = −ln a of the right digit")
    label: int = Field(description="the digit it should be")
    outputs: list[float] = Field(description="the output activations a")
    desired: list[float] = Field(description="the desired outputs y: 1 for the right digit, 0 elsewhere")
    squared_differences: list[float] = Field(description="(a − y)² for each output")
    sum_of_squares: float = Field(description="Σ (a − y)², the video's cost")
    terms: list[float | None] = Field(description="each output's part of the cost (None: infinite)")
    cost: float | None = Field(description="C of this example, the terms added up (None: infinite)")


class Prediction(BaseModel):
    input: list[float] = Field(description="the 784 pixels the network sees, ink = 1 (deskewed, for a network "
                                           "that deskews)")
    layers: list[list[float]] = Field(description="each layer's activations after the input")
    zs: list[list[float]] = Field(description="each layer's weighted sums z = W a + b")
    prediction: int = Field(description="the brightest output")
    answer: str = Field(description="what that output stands for: the digit, or \"not a digit\"")
    probabilities: list[float]
    label: int | None = Field(None, description="the true digit, for a test image")
    index: int | None = Field(None, description="which test image, for a test image")
    cost_of_one: CostOfOne | None = Field(None, description="its cost as the digit asked for (?label=D)")
    image: list[float] | None = Field(None, description="an example's 784 pixels as they are, before the network "
                                                        "deskews them: what to look at again")


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
    not_a_digit: bool = Field(description="whether the last output means \"not a digit\"")
    deskew: bool = Field(description="whether the network deskews each image before its first layer")
    outputs: list[str] = Field(description="what each output stands for: \"0\" to \"9\", and \"not a digit\"")
    test_accuracy: float | None
    average_cost: float | None = Field(description="the cost averaged over the test images (None: no data, or "
                                                   "infinite)")
    test_images: int = Field(description="how many test images the accuracy and average cost are taken on")
    teaching_rate: float = Field(description="a learning rate η for teaching one example that suits this cost")
    undo_steps: int = Field(description="teaching steps that Undo can take back")
    taught: bool = Field(description="taught since it was trained: Reset goes back")
    has_data: bool
    edits: list[NeuronEdit] = Field(description="the hidden neurons changed by hand")
    connections: list[list[list[float]]] = Field(
        description="per layer, the strongest weights as [from neuron, to neuron, weight]")
    drawing_side: int = Field(DRAWN, description="the side of the drawings /api/predict takes")
    save_to: str | None = Field(None, description="the server's model file that Save also writes, for a "
                                                  "visitor at the server's own computer")
    editing: bool = Field(True, description="whether this visitor can change the network: not when the class is "
                                            "full, nor without a session (given by loading the page)")
    notice: str | None = Field(None, description="why not, when editing is off")


class Choice(BaseModel):
    name: str
    about: str


class Options(BaseModel):
    """What the Train panel offers, from the registries the command line uses too, and the
    teaching and experiment panels' ranges and defaults."""
    activations: list[Choice]
    costs: list[Choice]
    optimizers: list[Choice]
    defaults: TrainRequest = Field(description="the values the Train panel starts with")
    learning_rates: list[float] = Field(description="the least and greatest learning rate a teaching step takes")
    batch: int = Field(description="the examples the batch button teaches")
    experiments: dict[str, dict] = Field(description="each experiment's defaults")


class TrainStatus(BaseModel):
    state: Literal["idle", "queued", "running", "paused", "done", "error"]
    epoch: int
    epochs: int
    busy: bool = Field(description="an epoch is running now, or has just ended and its run is giving up its seat")
    message: str
    history: list[dict]
    version: int
    place: int | None = Field(None, description="while queued: the place in the queue, 1 = next to train")


class Saved(BaseModel):
    path: str


class Scores(BaseModel):
    test_accuracy: float | None = Field(description="the share of the test images it gets right")
    average_cost: float | None = Field(description="its cost averaged over the test images (None: infinite)")


class TeachSide(CostOfOne, Scores):
    """The network on this example, and on the test images, before or after the step."""
    probabilities: list[float]
    prediction: int


class Nudge(BaseModel):
    layer: int = Field(description="the layer the weight leads into: 1 = the first after the input")
    neuron: int
    source: int | None = Field(alias="from", description="the neuron (or pixel) it comes from; None for a bias")
    change: float = Field(description="how much the step moved it: −η ∂C/∂w")
    name: str


class Tiles(BaseModel):
    scale: float = Field(description="the largest |∂C/∂w| of the first layer: the tiles are divided by it")
    tiles: list[list[float]] = Field(description="one per first-layer neuron: −∂C/∂W of its 784 weights, ÷ scale")


class TeachStep(BaseModel):
    lr: float = Field(description="the learning rate η the step took")
    before: TeachSide
    after: TeachSide
    nudges: list[Nudge] = Field(description="the 20 weights and biases the step moved most")
    first_layer: Tiles
    layer_shares: list[float] = Field(description="each layer's share of |∇C|², adding up to 1")
    gradient_size: float = Field(description="|∇C|, the length of the gradient")
    undo_steps: int


class TeachBatchStep(BaseModel):
    lr: float = Field(description="the learning rate η of every step")
    before: Scores
    after: Scores
    costs: list[float | None] = Field(description="each example's cost just before its step")
    undo_steps: int


class ExperimentStatus(BaseModel):
    kind: Literal[tuple(EXPERIMENTS)] | None
    state: Literal["idle", "queued", "running", "done", "stopped", "error"]
    message: str
    version: int
    place: int | None = Field(None, description="while queued: the place in the queue, 1 = next")
    done: int = Field(description="epochs (or rows of a surface) measured so far")
    total: int = Field(description="epochs (or rows) in all")
    options: dict = Field(description="what was asked for")
    parts: dict = Field(description="what has been measured so far, by part (run, slice), as columns")
    result: dict | list | None = Field(description="the experiment's numbers, once done (infinite costs as None)")


def errors(*codes):
    """OpenAPI entries for the error answers a route can give."""
    text = {400: "bad input (a body that is not UTF-8 JSON)",
            403: "not allowed: a change from a browser with no session (loading the page gives one), "
                 "or saving from another computer", 404: "no such neuron",
            409: "not possible now (the class is full, no data, wrong training state, cannot write)",
            410: "this browser's session has ended (idle too long, or the server restarted): its work is gone",
            413: "request body over 1 MiB"}
    return {code: {"model": Error, "description": text[code]} for code in codes}


def options():
    """The Train panel's menus: each registry's names with its one-line ``about``."""
    def choices(registry):
        return [{"name": name, "about": entry.about} for name, entry in registry.items()]

    return {"activations": choices(ACTIVATIONS), "costs": choices(COSTS), "optimizers": choices(OPTIMIZERS),
            "defaults": SUGGESTED.model_dump(), "learning_rates": list(LR_RANGE),
            "batch": TeachBatch.model_fields["images"].default,
            "experiments": {name: request().model_dump() for name, request in EXPERIMENT_REQUESTS.items()}}
