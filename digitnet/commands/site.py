"""digitnet site: the web page as a static folder, in which the browser runs the network.

What depends on the network as it is now (the answer, the layers, a neuron and its edits, the
cost of one example, teaching, training) runs in the visitor's browser; what needs more than a
browser should do (the experiments of chapter 2, the dreams, the letters) is worked out here,
once, for the exported network, and the page says so."""

import time
from pathlib import Path

import numpy as np

from ..errors import DigitnetError
from . import check_fits, load_data, load_model, positive_int

# The experiments as the site shows them: the page's defaults, made cheaper where they take long.
EXPERIMENTS = {"memorize": {"images": 500, "epochs": 100}, "landscape": {"steps": 21},
               "sigmoid-vs-relu": {"depths": [2, 4, 6], "images": 5000, "epochs": 10}}
LETTERS = 12  # letters to show for "A letter"


def add_parser(sub):
    p = sub.add_parser(
        "site", help="write the web page as a static folder that runs the network in the browser",
        description="Write OUT, a folder any static web server can serve (from any path, with no digitnet "
                    "process): the page, MODEL, a seeded sample of MNIST, and the experiments of chapter 2 and "
                    "the dreams worked out for MODEL now. Drawing, teaching and training run in the visitor's "
                    "browser. Browsers refuse Web Workers from file://: serve it, e.g. python -m http.server "
                    "in OUT.")
    p.add_argument("model", metavar="MODEL", help="a model file saved by digitnet train")
    p.add_argument("out", metavar="OUT", help="the folder to write (new, or empty)")
    p.add_argument("--force", action="store_true", help="replace OUT if it is a folder with files in it")
    p.add_argument("--train-images", type=positive_int, default=10000, help="MNIST training images in the site")
    p.add_argument("--test-images", type=positive_int, default=2000, help="MNIST test images in the site")
    p.add_argument("--seed", type=int, default=0, help="which images are chosen")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.set_defaults(run=run)


def run(args):
    from .. import site

    site.check_out(args.out, args.force)  # before the slow part: a mistake is said at once
    if not Path(args.model).is_file():
        raise DigitnetError(f"{args.model}: no such model file")
    net = load_model(args.model)
    dataset = load_data(args)
    check_fits(net, dataset)
    if net.sizes[0] != 784:
        raise DigitnetError(f"the page draws 28x28 images: the network takes {net.sizes[0]} inputs")
    started = time.monotonic()
    about = describe(net, dataset, Path(args.model).name, args.seed)
    rng = np.random.default_rng(args.seed)
    train = site.sample(dataset.train_images, dataset.train_labels, args.train_images, rng)
    test = site.sample(dataset.test_images, dataset.test_labels, args.test_images, rng)
    about["data"] = {"train": len(train[1]), "test": len(test[1]), "seed": args.seed}
    about["options"]["defaults"]["images"] = min(about["options"]["defaults"]["images"], len(train[1]))
    about["options"]["images"] = len(train[1])  # the most the Train panel can take
    size = site.write(args.out, static_folder(), about, net.params, train, test, args.force)
    print(f"wrote {args.out}: {size / 2**20:.1f} MB, in {time.monotonic() - started:.0f} s. "
          f"Serve it (python -m http.server, in {args.out}) and open it in a browser.")


def static_folder():
    from ..web.server import STATIC

    return STATIC


def describe(net, dataset, name, seed):
    """data/site.json: what the browser's engine and the page need besides the parameters."""
    from .. import figures, lesson, negatives
    from ..functions import registry
    from ..modelfile import FORMAT
    from ..version import __version__
    from ..web.lab import MAX_PARAMETER, STRONGEST
    from ..web.schema import DRAWN, TrainRequest, options

    header = getattr(net, "header", None) or {}
    choices = options()
    choices["precomputed"] = (f"worked out by digitnet {__version__} for the exported network ({name}) when this "
                              "site was made: Run shows those results")
    letters, _ = negatives.draw("letters", LETTERS, np.random.default_rng(seed))
    return {
        "model": {**net.config, "outputs": net.output_names, "drawing_side": DRAWN, "name": name},
        "header": {"format": FORMAT, "version": __version__, "recipe": header.get("recipe"),
                   "options": header.get("options")},  # for the model the page downloads
        "registry": registry(),
        "teaching_rate": lesson.TEACHING_RATE,
        "max_parameter": MAX_PARAMETER,
        "strongest": STRONGEST,
        "options": choices,
        "train_request": TrainRequest.model_json_schema(),  # what the Train panel may ask, with its bounds
        "experiments": experiments(net, dataset, choices["experiments"]),
        "dreams": [rounded(figures.dream(net, d, seed=seed)) for d in range(net.digits)],
        "letters": [rounded(image) for image in letters],
        "version": __version__,
    }


def experiments(net, dataset, defaults):
    """Each experiment run to its end on ``net``, as the page's /api/experiments would report it."""
    from ..web.experiments import Experiment, Run
    from ..web.lab import Lab, Trained
    from ..web.runs import Queue

    done = {}
    for kind, cheaper in EXPERIMENTS.items():
        options = {**defaults[kind], **cheaper}
        experiment = Experiment(Lab(Trained(net, dataset), dataset), Queue(1))
        experiment.run, experiment.watchers = Run(kind, options, net, dataset), 1
        experiment.take_seat(experiment.run)
        status = experiment.status()
        if status["state"] != "done":
            raise DigitnetError(f"the {kind} experiment failed: {status['message']}")
        done[kind] = status
        defaults[kind] = options  # the page's fields show what was run
    return done


def rounded(image):
    return np.round(np.asarray(image, dtype=np.float64).ravel(), 3).tolist()
