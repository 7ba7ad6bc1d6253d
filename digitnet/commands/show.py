"""digitnet show KIND MODEL: pictures of what the network learned and how it fails, and
the experiments of chapter 2 (whose ``--json`` prints their numbers instead)."""

import json
import sys

import numpy as np

from ..errors import DigitnetError
from ..experiments import EXPERIMENTS
from ..strictjson import strict
from ..validation import check_seed
from . import check_fits, finite_float, layer_sizes, load_data, load_model, positive_int

MAX_DPI = 600  # beyond this a figure is hundreds of megapixels

KINDS = {
    "weights": "each neuron's incoming weights as a 28x28 tile (deeper layers: the combined pattern)",
    "activations": "the network diagram for one image: neurons lit by their activation",
    "training": "cost and accuracy per epoch, from the model's stored history",
    "confusion": "the confusion matrix on the test images",
    "mistakes": "misclassified test images, most confident first",
    "noise": "what it says about random noise, and how sure it is",
    "dream": "the image each output neuron likes best, by gradient descent on the pixels",
    "gradient": "the gradient of the cost for one training example",
    "cost": "the cost of one test image, output by output, and the network's average cost",
    **{name: experiment.about for name, experiment in EXPERIMENTS.items()},
}


def add_parser(sub):
    p = sub.add_parser("show", help="draw what the network learned and how it fails (PNG)",
                       description="Draw a picture of a model as a PNG file (KIND.png unless --out).")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    parsers = {kind: kinds.add_parser(kind, help=text, description=text[0].upper() + text[1:] + ".")
               for kind, text in KINDS.items()}
    for kind, k in parsers.items():
        k.add_argument("model", help="a model file saved by digitnet train")
        k.add_argument("--out", metavar="FILE.png", help=f"where to write the picture (default {kind}.png)")
        k.add_argument("--dpi", type=positive_int, default=100, help="pixels per inch of the picture")
        if kind in ("activations", "confusion", "mistakes", "gradient", "cost", *EXPERIMENTS):
            k.add_argument("--data", metavar="DIR",
                           help="folder with the IDX files (else $DIGITNET_DATA or the cache)")
        if kind in ("cost", *EXPERIMENTS):
            k.add_argument("--json", action="store_true", help="print the numbers instead of drawing")
        k.set_defaults(run=run)
    parsers["weights"].add_argument("--layer", type=int, default=0,
                                    help="0: first hidden layer; deeper layers show W_l ... W_0 combined")
    source = parsers["activations"].add_mutually_exclusive_group()
    source.add_argument("--image", type=int, default=0, help="index of a test image")
    source.add_argument("--file", metavar="IMAGE", help="an image file (photo, scan, drawing) instead")
    parsers["mistakes"].add_argument("--n", type=positive_int, default=40, help="how many to show")
    parsers["noise"].add_argument("--n", type=positive_int, default=1000, help="noise images of each kind")
    parsers["noise"].add_argument("--seed", type=int, default=0, help="random seed: the same seed, the same noise")
    dream = parsers["dream"]
    dream.add_argument("--digit", type=int, help="one digit (default: all ten)")
    dream.add_argument("--steps", type=positive_int, default=200, help="gradient steps on the pixels")
    dream.add_argument("--lr", type=finite_float, default=0.2,
                       help="pixel change per step (root-mean-square), shrinking to 0 by the last step")
    dream.add_argument("--smoothness", type=finite_float, default=0.0,
                       help="penalty on differences between neighbouring pixels (0: none)")
    dream.add_argument("--start", choices=("grey", "black", "noise"), default="grey",
                       help="the image to start from")
    dream.add_argument("--seed", type=int, default=0, help="random seed for --start noise")
    parsers["gradient"].add_argument("--image", type=int, default=0, help="index of a training image")
    parsers["cost"].add_argument("--image", type=int, default=0, help="index of a test image")
    parsers["cost"].add_argument("--label", type=int, help="the digit it should be (default: its true label)")
    parsers["sigmoid-vs-relu"].description += (" The model gives the input and output layers; every network is "
                                               "trained alike.")
    for name, experiment in EXPERIMENTS.items():
        for key, option in experiment.options.items():
            if option.command_line:
                parsers[name].add_argument(f"--{key.replace('_', '-')}", **argument(option))


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


def run(args):
    from ..plots import save_png

    if args.dpi > MAX_DPI:
        raise DigitnetError(f"--dpi {args.dpi} is too large: at most {MAX_DPI}")
    with Progress(args.kind) as progress:
        progress.stage("reading the model")
        net = load_model(args.model)
        fig, message = DRAW[args.kind](net, args, progress)
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
        try:
            from ..images import to_mnist
        except ImportError:
            raise DigitnetError("reading image files is not available in this version") from None
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


# ---- the experiments of chapter 2 ------------------------------------------------------------------


def run_experiment(net, args, progress):
    """The numbers of experiment ``args.kind``, with the options given (the landscape always with its random slice)."""
    experiment = EXPERIMENTS[args.kind]
    options = {key: getattr(args, key) for key, option in experiment.options.items() if option.command_line}
    if args.kind == "landscape":
        options["random"] = True
    dataset = data_for(net, args, progress)
    progress.stage(experiment.doing, experiment.reports(net, **options))
    return experiment.run(net, dataset, progress, **options)


def draw_memorize(net, args, progress):
    from ..plots import memorize_figure

    result = run_experiment(net, args, progress)
    if args.json:
        return None, as_json(result)
    lines = [f"{name} labels: {run['train_accuracy'][-1]:.1%} of the {args.images:,} training images right after "
             f"{args.epochs} epochs (cost {run['cost'][-1]:.4f}); {run['test_accuracy']:.1%} of the test images"
             for name, run in result.items()]
    return memorize_figure(result, args.images), "\n".join(lines)


def draw_landscape(net, args, progress):
    from ..plots import landscape_figure

    result = run_experiment(net, args, progress)
    if args.json:
        return None, as_json(result)
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


def draw_sigmoid_vs_relu(net, args, progress):
    from ..plots import sigmoid_vs_relu_figure

    runs = run_experiment(net, args, progress)
    if args.json:
        return None, as_json(runs)
    lines = [f"{run['activation']:7s} {run['hidden_layers']} hidden layers: cost {run['cost'][-1]:.3f} after "
             f"{args.epochs} epochs, test {run['test_accuracy']:.1%}; gradient reaching layer 1 at the start "
             f"{run['gradients'][0][0]:.1e}" for run in runs]
    return sigmoid_vs_relu_figure(runs), "\n".join(lines)


DRAW = {"weights": draw_weights, "activations": draw_activations, "training": draw_training,
        "confusion": draw_confusion, "mistakes": draw_mistakes, "noise": draw_noise, "dream": draw_dream,
        "gradient": draw_gradient, "cost": draw_cost, "memorize": draw_memorize, "landscape": draw_landscape,
        "sigmoid-vs-relu": draw_sigmoid_vs_relu}
