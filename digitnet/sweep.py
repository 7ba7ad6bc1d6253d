"""Sweeps: one network trained for every combination of settings and seeds, on this machine's
cores or on a Dask cluster, each "cell" exactly the network ``digitnet train`` makes with the
same options and seed, and the results kept in a CSV file that grows a row at a time.

A cell is a dict of the options that make its network (``KEY``); ``train_cell`` trains it
and returns its row: the cell and what came of it (``RESULTS``). ``Results`` keeps the rows in
``results.csv``, rewritten atomically after each cell, so that a sweep killed midway loses only
the cells it was training, and knows which cells are done, so that the same sweep run again
trains only the others.
"""

import asyncio
import csv
import io
import multiprocessing
import numbers
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import data
from .blas import one_blas_thread
from .errors import DigitnetError, missing, one_line
from .files import atomic_write
from .modelfile import load
from .recipes import RECIPES
from .training import Trainer, network_for

# What makes a cell's network: the recipe's options (layers, activation, ..., not_a_digit) as
# training resolves them, and the rest of digitnet train's, the data and the seed.
NETWORK = tuple(RECIPES["default"])
KEY = ("recipe", *NETWORK, "teacher", "validation", "engine", "data", "images", "seed")
# What came of it. note: why there is no test accuracy (the training diverged).
RESULTS = ("parameters", "test_accuracy", "best_epoch", "training_seconds", "note")
COLUMNS = KEY + RESULTS

# A scheduler answers within milliseconds; five seconds of silence mean it is not there.
CONNECT_SECONDS = 5


def text(value):
    """A value as results.csv holds it: the same value always the same text, so that a cell
    planned now is recognised in the rows an earlier run wrote (layers as --layers takes them)."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return ",".join(text(v) for v in value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):  # NumPy's floats too
        return repr(float(value))
    return str(value)


def key(cell):
    """What tells cells apart (a planned cell, or a row of the file): its KEY, as text."""
    return tuple(text(cell[column]) for column in KEY)


def subset(dataset, images=None):
    """The data set with only its first ``images`` training images (all if None)."""
    if images is None:
        return dataset
    return dataset._replace(train_images=dataset.train_images[:images], train_labels=dataset.train_labels[:images])


def trainer_for(dataset, cell):
    """The Trainer of the cell's network on ``dataset``, made as ``digitnet train`` makes it with
    the same options and seed (network_for, then Trainer with the validation images held out)."""
    net, options = network_for({name: cell[name] for name in NETWORK}, cell["seed"])
    teacher = None if cell["teacher"] is None else load(cell["teacher"])
    return Trainer(net, dataset.train_images, dataset.train_labels, validation=cell["validation"],
                   seed=cell["seed"], teacher=teacher, engine=cell["engine"], **options)


def train_cell(dataset, cell):
    """Train the cell's network and score it on the test images: the cell's row. A cell whose
    training diverges is a result too, with a note instead of an accuracy; any other error
    (a setting the Trainer refuses) is raised."""
    trainer = trainer_for(dataset, cell)
    net = trainer.net
    row = {**cell, "parameters": net.n_parameters}
    try:
        history = trainer.run()
    except DigitnetError as e:  # raised by an epoch: the settings were accepted, and diverged
        return {**row, "note": str(e)}
    with one_blas_thread():  # the workers share the cores; the bits are the same with any number of threads
        accuracy = net.score(dataset.test_images, dataset.test_labels)
    return {**row, "test_accuracy": accuracy, "best_epoch": history.best_epoch,
            "training_seconds": round(sum(history.column("seconds")), 3)}


# ---- on this machine: a pool of processes, each loading the data once --------------------------------

_dataset = None  # in each process of the pool: the data set, loaded by _load_data when it starts


def _load_data(folder, images):
    # Ctrl-C reaches every process of the terminal's group: the pool's is for the sweep to handle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    global _dataset
    _dataset = subset(data.load(folder), images)


def _exit_with(parent):
    """End this process once the sweep that started it is gone (killed with kill -9, say): the
    pool's processes hold their own ends of its queues, so they would wait for more cells forever."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _train(cell):
    return train_cell(_dataset, cell)


def run_locally(cells, folder, images, workers, dataset=None):
    """Train ``cells`` in ``workers`` processes, each loading the data (``folder``, its first
    ``images`` training images) once; yield each cell's row as it finishes. One worker trains
    in this process, on ``dataset`` if given."""
    if workers == 1:
        dataset = dataset or subset(data.load(folder), images)
        for cell in cells:
            yield train_cell(dataset, cell)
        return
    # spawned, not forked: a fork copies whatever threads the parent has mid-flight (tqdm's, BLAS's)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_load_data,
                               initargs=(str(folder), images))
    futures = [pool.submit(_train, cell) for cell in cells]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        stop(pool)


def stop(pool):
    """Cancel the cells not started and end the pool at once: the cells it is training are
    lost either way, and before Python 3.14 shutdown() can only wait for them to finish."""
    processes = list((pool._processes or {}).values())  # shutdown() forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


# ---- on a Dask cluster ------------------------------------------------------------------------------------


def connect(address):
    """A Dask client of the scheduler at ``address`` (tcp://HOST:PORT); a one-line DigitnetError
    within CONNECT_SECONDS if none answers there."""
    try:
        from distributed import Client
    except ModuleNotFoundError as e:
        raise missing(e, "distributed", "distributed", "cluster") from None
    try:
        # A Client that fails to connect is left half made, and spends ten seconds closing when it is
        # collected: a plain connection first says whether there is a scheduler to make one for.
        asyncio.run(_hello(address))
    except Exception as e:  # refused, timed out, a malformed address, or something there that speaks no Dask
        why = one_line(e) if isinstance(e, (OSError, ValueError)) else "something answered that is not a Dask scheduler"
        raise DigitnetError(f"cannot reach a Dask scheduler at {address}: {why}") from None
    return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)


async def _hello(address):
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_SECONDS)
    await comm.close()


def run_on_cluster(client, cells, dataset):
    """Train ``cells`` on the cluster's workers; yield each cell's row as it finishes.

    The data set goes to every worker once, before the cells (a cell then names it, and
    each worker reads its own copy). The scheduler gives a lost worker's cells to the others,
    so a worker lost midway costs only the cells it was training."""
    from distributed import as_completed as finished

    [shared] = client.scatter([dataset], broadcast=True)  # in a list: a tuple would be scattered item by item
    futures = [client.submit(train_cell, shared, cell, pure=False) for cell in cells]
    try:
        for future in finished(futures, loop=client.loop):
            try:
                yield future.result()
            except ImportError as e:
                raise DigitnetError(f"a worker of the cluster cannot run digitnet ({one_line(e)}): install the "
                                    f"same digitnet on every worker") from None
    finally:
        client.cancel(futures)


# ---- the results file -----------------------------------------------------------------------------------


class Results:
    """``results.csv``: a row per trained cell, in COLUMNS, rewritten whole and atomically
    after each cell, so that a crash leaves the file as it was before that cell, never half
    a row. Rows are kept as text, as the file holds them."""

    def __init__(self, path):
        self.path = Path(path)
        self.rows = {}
        if self.path.exists():
            self.read()

    def read(self):
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise DigitnetError(f"{self.path} is not the results of a sweep of this digitnet (other columns): "
                                    f"choose another --out")
            for row in reader:
                if None in row or None in row.values():
                    raise DigitnetError(f"{self.path}, line {reader.line_num}: not {len(COLUMNS)} values")
                self.rows[key(row)] = row

    def __contains__(self, cell):
        return key(cell) in self.rows

    def __len__(self):
        return len(self.rows)

    def of(self, cells):
        """The rows of those ``cells`` that are done, in their order."""
        return [self.rows[key(cell)] for cell in cells if cell in self]

    def add(self, row):
        """Keep the row of a cell just trained, and write the file with it."""
        self.rows[key(row)] = {column: text(row.get(column)) for column in COLUMNS}
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows.values())
        content = buffer.getvalue().encode()
        atomic_write(self.path, lambda f: f.write(content))
