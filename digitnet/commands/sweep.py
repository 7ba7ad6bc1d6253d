"""digitnet sweep: train a network for every combination of the settings and seeds given, on this
machine's cores or on a Dask cluster; a table, OUT/results.csv and OUT/sweep.png."""

import argparse
import itertools
import os
import sys
from pathlib import Path

from .. import data, figures, sweep
from ..errors import DigitnetError
from ..optimizers import OPTIMIZERS, SCHEDULES
from ..training import network_for
from ..validation import check_training
from . import check_fits, positive_int
from .train import DEFAULT_SEED, DEFAULT_VALIDATION, add_training_options, recipe_options, teacher_of

# Options whose one value holds commas already: several values are given as several words.
SPACED = ("--layers", "--augment")


def add_parser(sub):
    p = sub.add_parser(
        "sweep", help="train a network for every combination of settings and seeds; a table and a picture",
        description="Train a network for every combination of the values given, each exactly the network "
                    "digitnet train makes with those options and seed, and print a table of their test "
                    "accuracies. Each of train's options takes a comma-separated list (--lr 0.001,0.003); "
                    "--layers and --augment take several values apart (--layers 784,8,10 784,16,16,10). "
                    "Options not given take the recipe's value, as for train.",
        epilog="Writes OUT/results.csv (a row per network: its options, seed, parameter count, test accuracy, "
               "best epoch and seconds of training), after each network, and OUT/sweep.png. Run the same "
               "command again to train only the networks not in results.csv yet: after a crash, or with more "
               "seeds or sizes.")
    lists = Lists(p)
    add_training_options(lists)
    p.add_argument("--images", type=positive_int, metavar="N", help="train on the first N training images only "
                                                                    "(default all)")
    p.add_argument("--out", metavar="DIR", default="sweep", help="folder for results.csv and sweep.png "
                                                                 "(default sweep)")
    p.add_argument("--data", metavar="DIR", help="folder with the four IDX files (else $DIGITNET_DATA, "
                                                 "else the cache, downloading MNIST once)")
    p.add_argument("--workers", type=positive_int, help="processes training on this machine (default one per core)")
    p.add_argument("--cluster", metavar="tcp://HOST:PORT",
                   help="train on the workers of this Dask scheduler instead (pip install 'digitnet[cluster]'); "
                        "each needs digitnet installed, not the data")
    p.set_defaults(run=run, list_options=lists.options)


class Lists:
    """Stands in for the parser while ``train.add_training_options`` adds train's options: adds
    each to sweep's parser as a list of values, kept as text, for ``Reader`` to read one by one."""

    def __init__(self, parser):
        self.parser = parser
        self.options = []  # (flag, dest) of each, in train's order

    def add_argument(self, flag, **how):
        dest = flag[2:].replace("-", "_")
        self.options.append((flag, dest))
        flags = ("--seeds", "--seed") if flag == "--seed" else (flag,)
        metavar = how.get("metavar") or (",".join(how["choices"]) if "choices" in how else dest.upper())
        if flag in SPACED:
            self.parser.add_argument(*flags, dest=dest, nargs="*", metavar=metavar, help=how.get("help"))
        else:
            const = str(how["const"]) if "const" in how else None  # --not-a-digit alone: train's number of images
            self.parser.add_argument(*flags, dest=dest, nargs=how.get("nargs"), const=const,
                                     metavar=f"{metavar}[,...]", help=how.get("help"))


class Reader(argparse.ArgumentParser):
    """Train's options (``add_training_options``) read one value at a time, as train reads them:
    a bad value is a one-line DigitnetError, as argparse words it."""

    def __init__(self):
        super().__init__(prog="digitnet sweep", add_help=False)
        add_training_options(self)

    def error(self, message):
        raise DigitnetError(message)

    def value(self, flag, dest, given):
        return getattr(self.parse_args([f"{flag}={given}"]), dest)


def values(args):
    """{dest: [values]} for each training option given, each value read and checked as train reads it."""
    reader, found = Reader(), {}
    for flag, dest in args.list_options:
        given = getattr(args, dest)
        if given is None:
            continue
        words = given if flag in SPACED else given.split(",")
        words = [word.strip() for word in words]
        if not words or "" in words:
            shown = "--seeds" if flag == "--seed" else flag
            if flag in SPACED:
                raise DigitnetError(f"{shown}: expected one value or more, none of them empty")
            raise DigitnetError(f"{shown} {given!r}: expected a list of values separated by commas, none of them empty")
        read = (reader.value(flag, dest, word) for word in words)
        found[dest] = list(dict.fromkeys(tuple(v) if isinstance(v, list) else v for v in read))  # once each
    return found


def plan(found, folder, images):
    """A cell for every combination of the values ``found`` (seeds last, so that one setting's seeds
    come together): the options digitnet train would use, with the same flags."""
    found = dict(found)
    seeds = found.pop("seed", [DEFAULT_SEED])
    cells = {}
    for combination in itertools.product(*found.values(), seeds):
        chosen = dict(zip([*found, "seed"], combination, strict=True))
        given = argparse.Namespace(**{"recipe": "default", **chosen})
        cell = {"recipe": given.recipe, **recipe_options(given), "teacher": chosen.get("teacher"),
                "validation": chosen.get("validation", DEFAULT_VALIDATION),
                "engine": chosen.get("engine") or "compiled",  # what Trainer chooses for train's float32 networks
                "data": str(folder), "images": images, "seed": chosen["seed"]}
        cells.setdefault(sweep.key(cell), cell)
    return list(cells.values())


def check(cells, dataset):
    """Every cell's settings, before any training: a bad one fails the sweep at once, not midway."""
    n = len(dataset.train_images)
    images = cells[0]["images"]
    if images is not None and images > n:
        raise DigitnetError(f"--images {images}: the data has only {n:,} training images")
    for teacher in {cell["teacher"] for cell in cells} - {None}:
        teacher_of(teacher)
    for cell in cells:
        net, options = network_for({name: cell[name] for name in sweep.NETWORK}, cell["seed"])
        check_fits(net, dataset)
        check_training(**{k: v for k, v in options.items() if k != "augment"}, optimizers=OPTIMIZERS,
                       schedules=SCHEDULES, validation=cell["validation"], n=n)


def varied(cells):
    """The options whose values differ between the cells (the seed aside)."""
    return [name for name in sweep.KEY if name != "seed" and len({sweep.text(cell[name]) for cell in cells}) > 1]


def described(cell, names):
    return ", ".join([*(f"{name} {sweep.text(cell[name])}" for name in names), f"seed {cell['seed']}"])


def run(args):
    if args.cluster and args.workers:
        raise DigitnetError("--workers is for this machine; with --cluster the cluster's workers train")
    found = values(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = sweep.Results(out / "results.csv")
    folder = data.locate(args.data).resolve()  # the same folder the same text, from any working folder
    cells = plan(found, folder, args.images)
    todo = [cell for cell in cells if cell not in results]
    names = varied(cells)
    if todo:
        train(args, todo, results, folder, names)
    rows = results.of(cells)
    lines = figures.sweep_lines(rows, names)
    print_table(lines, names, rows)
    from .. import plots  # matplotlib takes 0.4 s to import: only for the command that draws

    plots.save_png(plots.sweep_figure(lines), out / "sweep.png")
    print(f"wrote {out / 'results.csv'} and {out / 'sweep.png'}")


def train(args, todo, results, folder, names):
    """Train the cells ``todo``, adding each one's row to ``results`` as it finishes."""
    from tqdm import tqdm

    # the biggest first: the last cells to finish are then small ones, and no worker waits long for another
    todo = sorted(todo, key=work, reverse=True)
    client = sweep.connect(args.cluster) if args.cluster else None  # before loading: a wrong address fails fast
    try:
        dataset = sweep.subset(data.load(folder), args.images)
        check(todo, dataset)
        rows, where = start(args, client, todo, dataset, folder)
        before = f" ({len(results)} in results.csv already)" if len(results) else ""
        print(f"training {plural(len(todo), 'network')} on {where}{before}", flush=True)
        with tqdm(total=len(todo), unit="network", desc="sweep", file=sys.stderr, dynamic_ncols=True) as bar:
            for row in rows:
                results.add(row)
                bar.update()
                bar.write(f"{described(row, names)}: {outcome(row)}", file=sys.stdout)
    finally:
        if client:
            client.close()


def start(args, client, todo, dataset, folder):
    """Start training the cells on the cluster or on this machine: their rows as they finish, and where."""
    if client:
        return sweep.run_on_cluster(client, todo, dataset), \
            f"the Dask cluster at {args.cluster} ({plural(len(client.nthreads()), 'worker')} now)"
    workers = min(args.workers or cores(), len(todo))
    return sweep.run_locally(todo, folder, args.images, workers, dataset), \
        f"{plural(workers, 'process', 'processes')} of this machine"


def plural(n, one, many=None):
    return f"{n} {one if n == 1 else many or one + 's'}"


def work(cell):
    """How long a cell takes, roughly: its weights times the images times the epochs."""
    sizes = cell["layers"]
    return sum(a * b for a, b in itertools.pairwise(sizes)) * cell["epochs"] * (cell["images"] or 60000)


def cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def outcome(row):
    if row.get("test_accuracy") is None:
        return row["note"]
    return f"test accuracy {row['test_accuracy']:.2%} after {row['training_seconds']:.1f} s of training"


def print_table(lines, names, rows):
    """A row per setting: its parameters, and its test accuracy and seconds over the seeds."""
    shown = [name for name in names if name != "layers"]
    header = ["layers", *shown, "parameters", "seeds", "test accuracy: mean (least-greatest)", "seconds"]
    table = [header]
    for line in lines:
        for k, layers in enumerate(line["layers"]):
            accuracy = f"{line['mean'][k]:.2%} ({100 * line['low'][k]:.2f}-{100 * line['high'][k]:.2f})"
            table.append([layers, *(line["setting"][name] for name in shown), f"{line['parameters'][k]:,}",
                          str(len(line["each"][k])), accuracy, f"{line['seconds'][k]:.1f}"])
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for row in rows:
        if row["note"]:
            print(f"{described(row, names)}: {row['note']}")
