"""digitnet show KIND MODEL: pictures of what the network learned and how it fails, and
the experiments of chapter 2 (whose ``--json`` prints their numbers instead)."""

import json
import sys
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..errors import DigitnetError
from ..experiments import EXPERIMENTS
from ..strictjson import strict
from ..validation import check_seed
from . import check_fits, finite_float, layer_sizes, load_data, load_model, positive_int

MAX_DPI = 600  # beyond this a figure is hundreds of megapixels


class Kind(NamedTuple):
    """One picture ``digitnet show`` draws: adding a kind is one entry in ``KINDS``.

    ``draw(net, args, progress)`` works out what the picture shows and draws it: (the figure,
    a message to print), or (None, the numbers) with --json. ``options`` are the kind's own
    flags, each a function that adds itself to the kind's parser (``flag``, ``one_of``);
    ``data``: it reads the images (--data); ``json``: --json prints its numbers instead of
    drawing; ``more``: said after ``help`` in the kind's own --help."""

    name: str
    help: str
    draw: Callable
    options: tuple = ()
    data: bool = False
    json: bool = False
    more: str = ""


def flag(*names, **settings):
    """One of a kind's own options, as argparse's add_argument takes it."""
    return lambda parser: parser.add_argument(*names, **settings)


def one_of(*flags):
    """Options of which at most one may be given."""
    def add(parser):
        group = parser.add_mutually_exclusive_group()
        for add_flag in flags:
            add_flag(group)
    return add


def add_parser(sub):
    p = sub.add_parser("show", help="draw what the network learned and how it fails (PNG)",
                       description="Draw a picture of a model as a PNG file (KIND.png unless --out).")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind in KINDS.values():
        add_kind(kinds, kind)


def add_kind(kinds, kind):
    k = kinds.add_parser(kind.name, help=kind.help, description=f"{kind.help[0].upper()}{kind.help[1:]}.{kind.more}")
    k.add_argument("model", help="a model file saved by digitnet train")
    k.add_argument("--out", metavar="FILE.png", help=f"where to write the picture (default {kind.name}.png)")
    k.add_argument("--dpi", type=positive_int, default=100, help="pixels per inch of the picture")
    if kind.data:
        k.add_argument("--data", metavar="DIR", help="folder with the IDX files (else $DIGITNET_DATA or the cache)")
    if kind.json:
        k.add_argument("--json", action="store_true", help="print the numbers instead of drawing")
    for add_option in kind.options:
        add_option(k)
    k.set_defaults(run=run)


def run(args):
    from ..plots import save_png

    if args.dpi > MAX_DPI:
        raise DigitnetError(f"--dpi {args.dpi} is too large: at most {MAX_DPI}")
    with Progress(args.kind) as progress:
        progress.stage("reading the model")
        net = load_model(args.model)
        fig, message = KINDS[args.kind].draw(net, args, progress)
        out = args.out or f"{args.kind}.png"
        if fig is not None:
            progress.stage(f"writing {out}")
            save_png(fig, out, dpi=args.dpi)
    if fig is None:  # --json: the numbers alone
        print(message)
        return
    if message:
        print(message)
    print(f"wrote {out}")


class Progress:
    """What a show command is doing, as a bar on stderr when that is a terminal (tqdm decides, as
    for MNIST's download): each stage in turn, and through the long ones (an experiment's epochs,
    a surface's rows, the dreams) how far it has got. Called, it counts one step of the stage."""

    def __init__(self, kind):
        from tqdm import tqdm

        self.kind = kind
        self.bar = tqdm(total=1, desc=kind, file=sys.stderr, disable=None, leave=False, dynamic_ncols=True,
                        bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")

    def stage(self, what, steps=1):
        self.bar.reset(total=steps)
        self.bar.set_description(f"{self.kind}: {what}")  # shown at once, however quick the stage before

    def __call__(self, *record):
        self.bar.update()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()


def as_json(numbers):
    """Numbers (an experiment's, a cost laid out) as strict JSON: a cost that overflowed to infinity becomes null."""
    return json.dumps(strict(numbers), allow_nan=False)


def cost_text(cost):
    """A cost as printed: ∞ for None, which is how an infinite one is kept."""
    return "∞" if cost is None else f"{cost:.3f}"


def pick(images, labels, index, which):
    if not 0 <= index < len(images):
        raise DigitnetError(f"--image {index} is out of range: the {which} set has images 0 to {len(images) - 1}")
    return images[index], int(labels[index])


def data_for(net, args, progress):
    progress.stage("reading the images")
    dataset = load_data(args)
    check_fits(net, dataset)
    return dataset


def test_set(net, args, progress):
    dataset = data_for(net, args, progress)
    return dataset.test_images, dataset.test_labels


def draw_weights(net, args, progress):
    from ..plots import weights_figure

    return weights_figure(net, args.layer), None


def draw_activations(net, args, progress):
    from ..plots import activations_figure

    if args.file:
        from ..images import to_mnist

        return activations_figure(net, to_mnist(args.file), title=args.file), None
    x, label = pick(*test_set(net, args, progress), args.image, "test")
    return activations_figure(net, x, title=f"test image {args.image} (a {net.output_names[label]})"), None


def draw_training(net, args, progress):
    from ..plots import training_figure

    if not net.history:
        raise DigitnetError(f"{args.model}: the model holds no training history")
    test_accuracy = net.header.get("test_accuracy")
    if not isinstance(test_accuracy, (int, float)):
        test_accuracy = None
    return training_figure(net.history, getattr(net.history, "best_epoch", None), test_accuracy), None


def draw_confusion(net, args, progress):
    from ..evaluate import confusion_matrix
    from ..plots import confusion_figure
    from ..plots import labels as names_of

    images, labels = test_set(net, args, progress)
    progress.stage("scoring the test images")
    return confusion_figure(confusion_matrix(labels, net.predict(images), net.sizes[-1]), names_of(net)), None


def draw_mistakes(net, args, progress):
    from ..figures import mistakes
    from ..plots import mistakes_figure

    images, labels = test_set(net, args, progress)
    progress.stage("scoring the test images")
    found = mistakes(net, images, labels)
    figure = mistakes_figure(images, found, args.n, net.output_names if net.classes else None)
    return figure, f"{len(found['indices'])} of {len(labels)} test images misclassified"


def draw_noise(net, args, progress):
    from ..figures import noise_experiment
    from ..plots import noise_figure

    kinds = ("uniform", "scribble")
    progress.stage("showing it noise", len(kinds))
    results = []
    for kind in kinds:
        results.append(noise_experiment(net, args.n, kind, check_seed(args.seed)))
        progress()
    lines = [f"{r['kind']} noise: {r['confident_share']:.1%} of {args.n} images called some digit "
             f"with > {r['threshold']:.0%} confidence (most often {most_often(r)})" + rejected(r) for r in results]
    accuracy = net.header.get("test_accuracy")  # as digitnet train measured it; a model made in code has none
    if accuracy is not None:
        lines.append(f"MNIST test accuracy {accuracy:.2%}")
    return noise_figure(results, accuracy), "\n".join(lines)


def most_often(result):
    """The digit the network called the noise most often ("none" if it called none a digit)."""
    digits = result["predictions"][result["called_digit"]]
    return result["outputs"][np.bincount(digits).argmax()] if len(digits) else "none"


def rejected(result):
    share = result["not_a_digit_share"]
    return "" if share is None else f"; {share:.1%} called not a digit"


def draw_dream(net, args, progress):
    from ..figures import check_digit, dream
    from ..plots import dream_figure

    digits = range(net.sizes[-1]) if args.digit is None else [args.digit]
    for d in digits:
        check_digit(net, d)
    options = dict(steps=args.steps, lr=args.lr, smoothness=args.smoothness, start=args.start,
                   seed=check_seed(args.seed))
    progress.stage("dreaming", len(digits))
    dreams = {}
    for d in digits:
        dreams[d] = dream(net, d, **options)
        progress()
    return dream_figure(net, dreams), None


def draw_gradient(net, args, progress):
    from ..figures import cost_gradient
    from ..plots import gradient_figure

    dataset = data_for(net, args, progress)
    x, label = pick(dataset.train_images, dataset.train_labels, args.image, "training")
    progress.stage("backpropagating")
    return gradient_figure(net, x, label, *cost_gradient(net, x, label)), None


def draw_cost(net, args, progress):
    from ..lesson import average_cost, cost_of_one
    from ..plots import cost_figure
    from ..plots import labels as names_of

    images, labels = test_set(net, args, progress)
    x, label = pick(images, labels, args.image, "test")
    wanted = label if args.label is None else args.label
    progress.stage("the cost on the test images")
    laid_out = cost_of_one(net, x, wanted)
    average = average_cost(net, images, labels)
    if args.json:
        return None, as_json({**laid_out, "image": args.image, "true_label": label, "average_cost": average})
    name = names_of(net)
    title = f"test image {args.image}, a {name[label]}" + (f"\nasked to be a {name[wanted]}" if wanted != label else "")
    return cost_figure(net, x, laid_out, average, title), None


# ---- the experiments of chapter 2 (experiments.EXPERIMENTS) ---------------------------------------


def experiment(name, picture, more="", **fixed):
    """The kind that runs experiment ``name`` with the options it declares (and the ``fixed``
    ones), and draws its numbers with ``picture(result, args)``: (the figure, a message)."""
    declared = EXPERIMENTS[name]
    given = [key for key, option in declared.options.items() if option.command_line]

    def draw(net, args, progress):
        options = {**{key: getattr(args, key) for key in given}, **fixed}
        dataset = data_for(net, args, progress)
        progress.stage(declared.doing, declared.reports(net, **options))
        result = declared.run(net, dataset, progress, **options)
        return (None, as_json(result)) if args.json else picture(result, args)

    flags = [flag(f"--{key.replace('_', '-')}", **argument(declared.options[key])) for key in given]
    return Kind(name, declared.about, draw, flags, data=True, json=True, more=more)


def argument(option):
    """An experiment's option (experiments.Option) as add_argument's settings: the type it is read as,
    its default, and its help, which says the default as the user types it."""
    default = option.default
    if option.choices:
        read = dict(choices=option.choices)
    elif isinstance(default, tuple):
        read = dict(type=depths)
    elif isinstance(default, float):
        read = dict(type=finite_float)
    else:  # a count, or a seed (checked where it is used, which says the seed's limits)
        read = dict(type=positive_int if option.least == 1 else int)
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else f"{default:g}" \
        if isinstance(default, float) else default
    return {**read, "default": default, "help": f"{option.about} (default {shown})"}


def depths(text):
    return layer_sizes("1," + text)[1:]  # the same rules as layer sizes: positive whole numbers


def memorize_picture(result, args):
    from ..plots import memorize_figure

    lines = [f"{name} labels: {run['train_accuracy'][-1]:.1%} of the {args.images:,} training images right after "
             f"{args.epochs} epochs (cost {run['cost'][-1]:.4f}); {run['test_accuracy']:.1%} of the test images"
             for name, run in result.items()]
    return memorize_figure(result, args.images), "\n".join(lines)


def landscape_picture(result, args):
    from ..plots import landscape_figure

    lines = [f"cost at the trained weights: {result['cost']:.4f} on {args.images:,} training images"]
    path = result["path"]
    lines.append("no path: the model was saved before training recorded it" if path is None else
                 f"the path of {len(path['epochs'])} epochs, {path['share']:.1%} of it in the plane drawn, "
                 f"goes down from a cost of {path['path_cost'][0]:.3f} to {path['path_cost'][-1]:.3f} in that plane")
    if path is not None and path["epoch_cost"] is not None:
        start, end = strict([path["epoch_cost"][0], path["epoch_cost"][-1]])
        lines.append(f"at the epochs' own weights, off the plane, the cost went from {cost_text(start)} to "
                     f"{cost_text(end)} (on {path['epoch_cost_images']:,} of the images it trained on)")
    return landscape_figure(result, args.images), "\n".join(lines)


def sigmoid_vs_relu_picture(runs, args):
    from ..plots import sigmoid_vs_relu_figure

    lines = [f"{run['activation']:7s} {run['hidden_layers']} hidden layers: cost {run['cost'][-1]:.3f} after "
             f"{args.epochs} epochs, test {run['test_accuracy']:.1%}; gradient reaching layer 1 at the start "
             f"{run['gradients'][0][0]:.1e}" for run in runs]
    return sigmoid_vs_relu_figure(runs), "\n".join(lines)


# ---- every kind ------------------------------------------------------------------------------------

KINDS = {kind.name: kind for kind in [
    Kind("weights", "each neuron's incoming weights as a 28x28 tile (deeper layers: the combined pattern)",
         draw_weights, [flag("--layer", type=int, default=0,
                             help="0: first hidden layer; deeper layers show W_l ... W_0 combined")]),
    Kind("activations", "the network diagram for one image: neurons lit by their activation", draw_activations,
         [one_of(flag("--image", type=int, default=0, help="index of a test image"),
                 flag("--file", metavar="IMAGE", help="an image file (photo, scan, drawing) instead"))], data=True),
    Kind("training", "cost and accuracy per epoch, from the model's stored history", draw_training),
    Kind("confusion", "the confusion matrix on the test images", draw_confusion, data=True),
    Kind("mistakes", "misclassified test images, most confident first", draw_mistakes,
         [flag("--n", type=positive_int, default=40, help="how many to show")], data=True),
    Kind("noise", "what it says about random noise, and how sure it is", draw_noise,
         [flag("--n", type=positive_int, default=1000, help="noise images of each kind"),
          flag("--seed", type=int, default=0, help="random seed: the same seed, the same noise")]),
    Kind("dream", "the image each output neuron likes best, by gradient descent on the pixels", draw_dream,
         [flag("--digit", type=int, help="one digit (default: all ten)"),
          flag("--steps", type=positive_int, default=200, help="gradient steps on the pixels"),
          flag("--lr", type=finite_float, default=0.2,
               help="pixel change per step (root-mean-square), shrinking to 0 by the last step"),
          flag("--smoothness", type=finite_float, default=0.0,
               help="penalty on differences between neighbouring pixels (0: none)"),
          flag("--start", choices=("grey", "black", "noise"), default="grey", help="the image to start from"),
          flag("--seed", type=int, default=0, help="random seed for --start noise")]),
    Kind("gradient", "the gradient of the cost for one training example", draw_gradient,
         [flag("--image", type=int, default=0, help="index of a training image")], data=True),
    experiment("memorize", memorize_picture),
    experiment("landscape", landscape_picture, random=True),  # the picture has room for both slices
    experiment("sigmoid-vs-relu", sigmoid_vs_relu_picture,
               more=" The model gives the input and output layers; every network is trained alike."),
    Kind("cost", "the cost of one test image, output by output, and the network's average cost", draw_cost,
         [flag("--image", type=int, default=0, help="index of a test image"),
          flag("--label", type=int, help="the digit it should be (default: its true label)")], data=True, json=True),
]}
