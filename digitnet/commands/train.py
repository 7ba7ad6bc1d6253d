"""digitnet train: learn from the training images, report on the test images, save."""

import argparse

from ..network import DEFAULT_SIZES
from ..training import OPTIMIZERS, RECIPES, SCHEDULES, Trainer
from . import check_fits, finite_float, layer_sizes, load_data, positive_int


def add_parser(sub):
    p = sub.add_parser("train", help="train a network on MNIST (or any IDX data set)",
                       description="Train a network and save it. With no options: the 784-16-16-10 "
                                   "network and the default recipe, which passes 96%% on the test images.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--recipe", choices=RECIPES, default="default",
                   help="a set of the options below: 'video' is the videos' network exactly "
                        "(sigmoid, quadratic cost, plain SGD); flags given alongside override it")
    p.add_argument("--layers", type=layer_sizes, default=list(DEFAULT_SIZES), help="layer sizes, input first")
    p.add_argument("--activation", choices=("sigmoid", "relu", "tanh"), help="hidden layers' activation")
    p.add_argument("--cost", choices=("quadratic", "cross-entropy"),
                   help="quadratic (sigmoid outputs) or cross-entropy (softmax outputs)")
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=finite_float, help="learning rate η")
    p.add_argument("--momentum", type=finite_float, help="momentum μ for sgd")
    p.add_argument("--l2", type=finite_float, help="L2 weight decay λ")
    p.add_argument("--schedule", choices=SCHEDULES, help="learning rate over the epochs")
    p.add_argument("--shift", type=int, help="shift training images at random by up to this many pixels")
    p.add_argument("--validation", type=int, default=5000,
                   help="training images held out to choose the best epoch")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same network")
    p.add_argument("--out", default="model.npz", help="where to save the trained model")
    p.add_argument("--data", metavar="DIR", help="folder with the four IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.set_defaults(run=run)


def recipe_options(args):
    """The recipe's settings, overridden by any flag given on the command line."""
    options = dict(RECIPES[args.recipe])
    for key in options:
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    return options


def print_epoch(record, epochs):
    parts = [f"epoch {record['epoch']:3d}/{epochs}", f"cost {record['cost']:.4f}",
             f"train {record['train_accuracy']:.2%}"]
    if "validation_accuracy" in record:
        parts.append(f"validation {record['validation_accuracy']:.2%}")
    parts.append(f"{record['seconds']:.2f} s")
    print("  ".join(parts), flush=True)


def run(args):
    from ..network import Network

    options = recipe_options(args)
    dataset = load_data(args)
    net = Network(args.layers, options.pop("activation"), options.pop("cost"), seed=args.seed)
    check_fits(net, dataset)
    print(f"training {net} ({net.n_parameters:,} weights and biases) on {len(dataset.train_images):,} images, "
          f"recipe {args.recipe}", flush=True)
    trainer = Trainer(net, dataset.train_images, dataset.train_labels, validation=args.validation,
                      seed=args.seed, **options)
    history = trainer.run(lambda record: print_epoch(record, options["epochs"]))
    accuracy = net.score(dataset.test_images, dataset.test_labels)
    seconds = sum(history.column("seconds"))
    best = f" (kept epoch {history.best_epoch}, best on validation)" if history.best_epoch else ""
    print(f"test accuracy {accuracy:.2%} on {len(dataset.test_images):,} unseen images, "
          f"after {seconds:.1f} s of training{best}")
    net.save(args.out, recipe=args.recipe, options={**options, "validation": args.validation, "seed": args.seed},
             test_accuracy=accuracy, training_seconds=seconds)
    print(f"saved {args.out}")
