"""digitnet train: learn from the training images, report on the test images, save."""

import argparse
import contextlib
import signal
import sys
import threading

from ..augment import AUGMENTATIONS, augmentation, describe
from ..errors import DigitnetError
from ..functions import ACTIVATIONS, COSTS
from ..modelfile import load, load_checkpoint, save, save_checkpoint
from ..negatives import KINDS, mix
from ..negatives import describe as counts_text
from ..optimizers import OPTIMIZERS, SCHEDULES
from ..recipes import NOT_A_DIGIT, RECIPES
from ..training import ENGINES, Trainer, epoch_line, network_for
from ..validation import check_seed
from . import check_fits, finite_float, layer_sizes, load_data, positive_int

DEFAULT_VALIDATION, DEFAULT_SEED = 5000, 0


def add_parser(sub):
    d, v, w = RECIPES["default"], RECIPES["video"], RECIPES["wide"]
    p = sub.add_parser(
        "train", help="train a network on MNIST (or any IDX data set)",
        description="Train a network and save it. With no options: the 784-16-16-10 network and the default "
                    f"recipe ({d['activation']} hidden layers, {d['cost']} cost, {d['optimizer']} with a "
                    f"{d['schedule']} learning rate, {d['epochs']} epochs of batches of {d['batch_size']}, "
                    f"images shifted by up to {d['shift']} pixel, augment {d['augment']}), which passes 96% on "
                    f"the test images in seconds. Options not given take the recipe's value. --recipe video is "
                    f"the videos' network exactly ({v['activation']}, {v['cost']} "
                    f"cost, plain SGD, η = {v['lr']:g}, batches of {v['batch_size']}, {v['epochs']} epochs); "
                    f"--recipe wide has one hidden layer of {w['layers'][1]} and passes 98.5%.",
        epilog="Long runs: --checkpoint FILE saves everything after every epoch; Ctrl-C then stops after the "
               "current epoch, and --resume FILE carries on to exactly the weights an uninterrupted run gives.",
        formatter_class=Formatter)
    p.add_argument("--recipe", choices=RECIPES, default="default",
                   help="a set of the options below; flags given alongside override it")
    p.add_argument("--layers", type=layer_sizes, help=f"layer sizes, input first (default "
                                                      f"{','.join(map(str, d['layers']))})")
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden layers' activation")
    p.add_argument("--cost", choices=COSTS, help="; ".join(f"{c.name}: {c.about}" for c in COSTS.values()))
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=finite_float, help="learning rate η")
    p.add_argument("--momentum", type=finite_float, help="momentum μ for sgd")
    p.add_argument("--l2", type=finite_float, help="L2 weight decay λ")
    p.add_argument("--schedule", choices=SCHEDULES, help="learning rate over the epochs")
    p.add_argument("--shift", type=int, help="shift training images at random by up to this many pixels")
    p.add_argument("--augment", type=augment_spec, metavar="NAME=SIZE,...",
                   help="distort the training images at random, afresh each epoch: "
                        + "; ".join(f"{name} ({about}; {default:g} if no size)"
                                    for name, (about, _, default) in AUGMENTATIONS.items())
                        + ". For example rotate=10,thickness=0.5,elastic=34; none for none")
    p.add_argument("--not-a-digit", type=not_a_digit_spec, nargs="?", const=dict(NOT_A_DIGIT),
                   metavar="N|KIND=N,...",
                   help="an output more, 'not a digit', learnt from images of what is no digit added to the "
                        f"training images: of the kinds {', '.join(KINDS)}; N images in the default mix, "
                        f"or how many of each (default {counts_text(NOT_A_DIGIT)})")
    p.add_argument("--teacher", metavar="MODEL",
                   help="distillation: learn also this trained model's softened outputs (a wider network's, "
                        "with the same inputs and outputs)")
    p.add_argument("--validation", type=int,
                   help=f"training images held out to choose the best epoch (default {DEFAULT_VALIDATION})")
    p.add_argument("--seed", type=int, help=f"random seed: the same seed gives the same network "
                                            f"(default {DEFAULT_SEED})")
    p.add_argument("--engine", choices=ENGINES,
                   help="what runs the epochs: " + "; ".join(f"{name}, {about}" for name, about in ENGINES.items())
                        + " (default compiled)")
    p.add_argument("--out", help="where to save the trained model (default model.npz)")
    p.add_argument("--data", metavar="DIR", help="folder with the four IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.add_argument("--checkpoint", metavar="FILE", help="save the whole training state here after every epoch")
    p.add_argument("--resume", metavar="FILE", help="carry on from this checkpoint, with its settings "
                                                    "(and its data folder and --out unless given)")
    p.set_defaults(run=run)


class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for options whose value comes from the recipe (None here)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


TRAINING_FLAGS = ("layers", "activation", "cost", "optimizer", "epochs", "batch_size", "lr", "momentum",
                  "l2", "schedule", "shift", "augment", "not_a_digit", "teacher", "validation", "seed", "engine")


def augment_spec(text):
    """--augment's value, checked (and written back in augment.describe's form)."""
    try:
        return describe(augmentation(text))
    except DigitnetError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def not_a_digit_spec(text):
    """--not-a-digit's value, checked: {kind: count}."""
    try:
        return mix(text, NOT_A_DIGIT)
    except DigitnetError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def recipe_options(args):
    """The recipe's settings, overridden by any flag given on the command line."""
    options = dict(RECIPES[args.recipe])
    for key in options:
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    return options


def print_epoch(record, epochs):
    print(epoch_line(record, epochs), flush=True)


def run(args):
    if args.resume:
        return resume(args)
    options = recipe_options(args)
    validation = DEFAULT_VALIDATION if args.validation is None else args.validation
    seed = DEFAULT_SEED if args.seed is None else args.seed
    check_seed(seed)  # before the data is loaded: a bad flag fails fast
    dataset = load_data(args)
    net, options = network_for(options, seed)
    check_fits(net, dataset)
    print(f"training {net} ({net.n_parameters:,} weights and biases) on {len(dataset.train_images):,} images, "
          f"recipe {args.recipe}", flush=True)
    trainer = Trainer(net, dataset.train_images, dataset.train_labels, validation=validation, seed=seed,
                      teacher=teacher_of(args.teacher), engine=args.engine, **options)
    if args.teacher:
        options["teacher"] = args.teacher
    options["engine"] = trainer.options["engine"]  # the model file says what trained it
    options["not_a_digit"] = trainer.options["not_a_digit"] or 0  # ...and of what kinds its negatives were
    record = {"recipe": args.recipe, "options": {**options, "validation": validation, "seed": seed},
              "data": args.data, "out": args.out or "model.npz"}
    return train(trainer, dataset, record, args.out or "model.npz", args.checkpoint)


def resume(args):
    """Rebuild the run saved in the checkpoint (same network, seed and data) and carry on."""
    given = [f"--{flag.replace('_', '-')}" for flag in TRAINING_FLAGS if getattr(args, flag) is not None]
    if given or args.recipe != "default":
        raise DigitnetError(f"--resume takes every setting from the checkpoint; drop {' '.join(given) or '--recipe'}")
    net, header, arrays = load_checkpoint(args.resume)
    record = {key: header.get(key) for key in ("recipe", "options", "data", "out")}
    options = dict(record["options"])
    validation, seed = options.pop("validation", 0), options.pop("seed", None)
    teacher = options.pop("teacher", None)
    args.data = args.data or record["data"]
    out = args.out or record["out"] or "model.npz"
    dataset = load_data(args)
    check_fits(net, dataset)
    try:
        trainer = Trainer(net, dataset.train_images, dataset.train_labels, validation=validation, seed=seed,
                          teacher=teacher_of(teacher), **options)
        trainer.restore(arrays, header["checkpoint"])
    except DigitnetError as e:
        raise DigitnetError(f"{args.resume}: {e}") from None
    except (TypeError, ValueError, KeyError) as e:
        raise DigitnetError(f"{args.resume}: damaged checkpoint ({e})") from None
    print(f"resuming {net} after epoch {trainer.epoch} of {options['epochs']} from {args.resume}", flush=True)
    return train(trainer, dataset, {**record, "out": out}, out, args.checkpoint or args.resume)


def teacher_of(path):
    """The teacher model at ``path`` (None for none)."""
    return None if path is None else load(path)


def train(trainer, dataset, record, out, checkpoint):
    """Run the epochs left (saving a checkpoint after each if asked), then score and save."""
    epochs = trainer.options["epochs"]
    trainer.prepare()
    with stop_after_epoch(enabled=checkpoint is not None) as stop:
        try:
            while not trainer.done:
                print_epoch(trainer.run_epoch(), epochs)
                if checkpoint:
                    save_checkpoint(trainer, checkpoint, **record)
                if stop.is_set():
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if not checkpoint or trainer.epoch == 0:
                raise
            print(f"stopped after epoch {trainer.epoch}, saved in {checkpoint}; carry on with: "
                  f"digitnet train --resume {checkpoint}", file=sys.stderr, flush=True)
            return 130
    history = trainer.finish()
    net = trainer.net
    accuracy = net.score(dataset.test_images, dataset.test_labels)
    seconds = sum(history.column("seconds"))
    best = f" (kept epoch {history.best_epoch}, best on validation)" if history.best_epoch else ""
    print(f"test accuracy {accuracy:.2%} on {len(dataset.test_images):,} unseen images, "
          f"after {seconds:.1f} s of training{best}")
    save(net, out, recipe=record["recipe"], options=record["options"], test_accuracy=accuracy,
             training_seconds=seconds)
    print(f"saved {out}")


@contextlib.contextmanager
def stop_after_epoch(enabled):
    """While checkpointing, the first Ctrl-C asks to stop once the current epoch is
    done and saved (set the returned Event); a second one stops at once."""
    stop = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def interrupted(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this epoch (Ctrl-C again to stop now)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
