"""digitnet train: learn from the training images, report on the test images, save."""

import argparse
import contextlib
import shutil
import signal
import sys
import threading
from pathlib import Path

from ..augment import AUGMENTATIONS, augmentation, describe
from ..errors import DigitnetError
from ..files import atomic_write
from ..functions import ACTIVATIONS, COSTS
from ..modelfile import load, load_checkpoint, save, save_checkpoint
from ..negatives import KINDS, mix
from ..negatives import describe as counts_text
from ..optimizers import OPTIMIZERS, SCHEDULES
from ..recipes import NOT_A_DIGIT, RECIPES
from ..training import ENGINES, Trainer, epoch_line, network_for
from ..validation import check_seed
from . import check_fits, class_names, finite_float, layer_sizes, load_data, positive_int, yes_no

DEFAULT_VALIDATION, DEFAULT_SEED = 5000, 0
DEFAULT_OUT = "model.npz"


def add_parser(sub):
    d, v, w = RECIPES["default"], RECIPES["video"], RECIPES["wide"]
    p = sub.add_parser(
        "train", help="train a network on MNIST (or any IDX data set)",
        description="Train a network and save it. With no options: the 784-16-16-10 network and the default "
                    f"recipe ({'every image deskewed, ' if d['deskew'] else ''}{d['activation']} hidden layers, "
                    f"{d['cost']} cost, {d['optimizer']} with a "
                    f"{d['schedule']} learning rate, {d['epochs']} epochs of batches of {d['batch_size']}, "
                    f"images shifted by up to {d['shift']} pixel, augment {d['augment']}), which passes 97% on "
                    f"the test images in seconds. Options not given take the recipe's value. --recipe video is "
                    f"the videos' network exactly ({v['activation']}, {v['cost']} "
                    f"cost, plain SGD, η = {v['lr']:g}, batches of {v['batch_size']}, {v['epochs']} epochs); "
                    f"--recipe wide has one hidden layer of {w['layers'][1]} and reaches about 98.5%.",
        epilog="Ctrl-C stops after the current epoch and saves the best network so far to --out. Long runs: "
               "--checkpoint FILE saves everything after every epoch, and --resume FILE carries on from it to "
               "exactly the weights an uninterrupted run gives.")
    add_training_options(p)
    p.add_argument("--out", help=f"where to save the trained model (default {DEFAULT_OUT})")
    p.add_argument("--data", metavar="DIR", help="folder with the four IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.add_argument("--classes", type=class_names, metavar="NAME,NAME,...",
                   help="the classes' names, in label order, which the model keeps (default: the data folder's "
                        "classes.txt, one name a line; Fashion-MNIST's are known; else the digits)")
    p.add_argument("--checkpoint", metavar="FILE", help="save the whole training state here after every epoch")
    p.add_argument("--resume", metavar="FILE", help="carry on from this checkpoint, with its settings "
                                                    "(and its data folder and --out unless given)")
    p.add_argument("--overwrite", action="store_true",
                   help="start again over an existing --checkpoint file (which --resume would carry on from)")
    p.set_defaults(run=run)


def add_training_options(p):
    """The options that say what to train and how: train's, and sweep's (each as a list of values)."""
    d = RECIPES["default"]
    p.add_argument("--recipe", choices=RECIPES, default="default",
                   help="a set of the options below; flags given alongside override it")
    p.add_argument("--layers", type=layer_sizes, help=f"layer sizes, input first (default "
                                                      f"{','.join(map(str, d['layers']))})")
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden layers' activation")
    p.add_argument("--cost", choices=COSTS, help="; ".join(f"{c.name}: {c.about}" for c in COSTS.values()))
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="how each step follows the gradient")
    p.add_argument("--epochs", type=positive_int, help="passes over the training images")
    p.add_argument("--batch-size", type=positive_int, help="examples in each step of gradient descent")
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
    p.add_argument("--deskew", type=yes_no, metavar="yes|no",
                   help="shear each image upright and centre it on its ink before the network sees it, in "
                        "training and ever after: LeCun's preprocessing; the model file records it (default "
                        f"{'yes' if d['deskew'] else 'no'})")
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


TRAINING_FLAGS = ("layers", "activation", "cost", "optimizer", "epochs", "batch_size", "lr", "momentum",
                  "l2", "schedule", "shift", "augment", "not_a_digit", "deskew", "teacher", "validation", "seed",
                  "engine", "classes")


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
    out = args.out or DEFAULT_OUT
    check_checkpoint_is_new(args.checkpoint, args.overwrite)  # before anything slow: a slip fails at once
    check_can_write(out)
    options = recipe_options(args)
    validation = DEFAULT_VALIDATION if args.validation is None else args.validation
    seed = DEFAULT_SEED if args.seed is None else args.seed
    check_seed(seed)
    return train_new(load_data(args), options, out, args.recipe, validation, seed, args.teacher, args.engine,
                     args.data, args.checkpoint)


def train_new(dataset, options, out, recipe="default", validation=DEFAULT_VALIDATION, seed=DEFAULT_SEED,
              teacher=None, engine=None, folder=None, checkpoint=None):
    """Train a new network on ``dataset`` (read from ``folder``) with the recipe's ``options``,
    then score and save it to ``out``, as `digitnet train` does; its exit status."""
    options = with_output_layer(options, dataset)
    net, options = network_for(options, seed, dataset.classes)
    check_fits(net, dataset)
    print(f"training {net} ({net.n_parameters:,} weights and biases) on {len(dataset.train_images):,} images, "
          f"recipe {recipe}", flush=True)
    trainer = Trainer(net, dataset.train_images, dataset.train_labels, validation=validation, seed=seed,
                      teacher=teacher_of(teacher), engine=engine, **options)
    if teacher:
        options["teacher"] = teacher
    options["engine"] = trainer.options["engine"]  # the model file says what trained it
    options["not_a_digit"] = trainer.options["not_a_digit"] or 0  # ...and of what kinds its negatives were
    record = {"recipe": recipe, "options": {**options, "validation": validation, "seed": seed},
              "data": folder, "out": out}
    return train(trainer, dataset, record, out, checkpoint)


def resume(args):
    """Rebuild the run saved in the checkpoint (same network, seed and data) and carry on."""
    given = [f"--{flag.replace('_', '-')}" for flag in TRAINING_FLAGS if getattr(args, flag) is not None]
    if given or args.recipe != "default":
        raise DigitnetError(f"--resume takes every setting from the checkpoint; drop {' '.join(given) or '--recipe'}")
    if args.checkpoint and not same_file(args.checkpoint, args.resume):
        check_checkpoint_is_new(args.checkpoint, args.overwrite)
    net, header, arrays = load_checkpoint(args.resume)
    record = {key: header.get(key) for key in ("recipe", "options", "data", "out")}
    options = dict(record["options"])
    validation, seed = options.pop("validation", 0), options.pop("seed", None)
    teacher = options.pop("teacher", None)
    args.data = args.data or record["data"]
    out = args.out or record["out"] or DEFAULT_OUT
    check_can_write(out)
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


def check_checkpoint_is_new(path, overwrite):
    """A run that starts at epoch 1 must not replace a checkpoint, which holds a run's every epoch
    so far, unless asked to."""
    if path and Path(path).exists() and not overwrite:
        raise DigitnetError(f"{path} exists already: carry on from it with digitnet train --resume {path}, "
                            "or start again over it with --overwrite")


def same_file(a, b):
    return Path(a).exists() and Path(b).exists() and Path(a).samefile(b)


def check_can_write(out):
    """Where the model goes must be a file in a folder that exists: found out now, not after training."""
    out = Path(out)
    if out.is_dir():
        raise DigitnetError(f"--out {out} is a folder: name the model file, e.g. {out / 'model.npz'}")
    if not out.parent.is_dir():
        raise DigitnetError(f"--out {out}: no such folder {out.parent}")


def with_output_layer(options, dataset):
    """The options, once the last layer is known to have one output per class of ``dataset``. With
    --not-a-digit, the output it adds may be left out (the recipes' layers are the digits') or counted."""
    n, names = dataset.class_count, dataset.classes
    which = f"{names[0]} to {names[-1]}" if names else f"0 to {n - 1}"
    *layers, last = options["layers"]
    noise = bool(options.get("not_a_digit"))  # a number of images, or their counts by kind
    if noise and last == n + 1:
        return {**options, "layers": [*layers, n]}  # "not a digit" counted in: recorded as the recipes write it
    if last == n:
        return options
    if noise:
        raise DigitnetError(f"--layers ends in {last} outputs, but with --not-a-digit the last layer must be {n} "
                            f"(one per class, {which}; 'not a digit' is added) or {n + 1} (counting it)")
    hint = "; the output after them, 'not a digit', comes with --not-a-digit" if last == n + 1 else ""
    raise DigitnetError(f"--layers ends in {last} outputs, but the labels have {n} classes ({which}): "
                        f"the last layer must be {n}, one output per class{hint}")


def teacher_of(path):
    """The teacher model at ``path`` (None for none)."""
    return None if path is None else load(path)


def train(trainer, dataset, record, out, checkpoint):
    """Run the epochs left (saving a checkpoint after each if asked), then score and save. Ctrl-C
    stops after the current epoch and saves the best network so far, as the whole run would."""
    epochs = trainer.options["epochs"]
    with stop_after_epoch(trainer) as stop:
        try:
            trainer.prepare()
            while not trainer.done and not stop.is_set():
                print_epoch(trainer.run_epoch(), epochs)
                if checkpoint:
                    save_checkpoint(trainer, checkpoint, **record)
        except KeyboardInterrupt:  # a second Ctrl-C, or one before this run's first epoch ended
            if not checkpoint or not stop.is_set():
                raise
            print(f"stopped at once; {checkpoint} holds the last epoch it saved: carry on with: "
                  f"digitnet train --resume {checkpoint}", file=sys.stderr, flush=True)
            return 130
    finish(trainer, dataset, record, out)
    if trainer.done:
        return 0
    kept = f"the best network so far is in {out}"
    print(f"stopped after epoch {trainer.epoch} of {epochs}: " + (
        f"{kept}, and the whole run in {checkpoint}; carry on with: digitnet train --resume {checkpoint}"
        if checkpoint else f"{kept}; to be able to carry on after a stop, add --checkpoint FILE next time"),
        file=sys.stderr, flush=True)
    return 130


def finish(trainer, dataset, record, out):
    """Keep the best epoch, score it on the test images and save it, with the epoch reached if
    the run was stopped early."""
    stopped = {} if trainer.done else {"stopped_after": trainer.epoch}
    history = trainer.finish()
    net = trainer.net
    accuracy = net.score(dataset.test_images, dataset.test_labels)
    seconds = sum(history.column("seconds"))
    best = f" (kept epoch {history.best_epoch}, best on validation)" if history.best_epoch else ""
    print(f"test accuracy {accuracy:.2%} on {len(dataset.test_images):,} unseen images, "
          f"after {seconds:.1f} s of training{best}")
    save_model(net, out, recipe=record["recipe"], options=record["options"], test_accuracy=accuracy,
               training_seconds=seconds, **stopped)


def save_model(net, out, **record):
    """Save ``net`` to ``out``. A file already there is kept beside it (OUT.previous.npz, one
    generation), so that a rerun cannot lose a model; and the user is told, with its accuracy."""
    out = Path(out)
    replaced = about(out) if out.exists() else None
    if replaced is not None:
        kept = out.with_name(f"{out.stem}.previous{out.suffix}")
        with open(out, "rb") as old:
            atomic_write(kept, lambda f: shutil.copyfileobj(old, f))
    save(net, out, **record)
    print(f"saved {out}" + ("" if replaced is None else f", replacing {replaced}, kept as {kept}"))


def about(path):
    """A few words on the model file at ``path``: how well it did, as its header records."""
    try:
        accuracy = load(path).header.get("test_accuracy")
    except DigitnetError:
        return "a file that is not a digitnet model"
    return "a model of unrecorded accuracy" if accuracy is None else f"a model of {accuracy:.2%} on the test images"


@contextlib.contextmanager
def stop_after_epoch(trainer):
    """Ctrl-C asks to stop once the current epoch is done (and checkpointed), setting the Event
    this yields; a second Ctrl-C, or one before this run's first epoch is done (while loading:
    nothing would be kept by waiting), stops at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    first = trainer.epoch

    def interrupted(signum, frame):
        if stop.is_set() or trainer.epoch == first:
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this epoch, to save the best network so far "
              "(Ctrl-C again to stop at once, saving nothing more)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
