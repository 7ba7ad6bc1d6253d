"""Model files and checkpoints: an .npz of plain arrays plus a JSON header, never pickle.

Layout: ``header`` holds UTF-8 JSON bytes (sizes, activation, cost, whether the last
output means "not a digit", the classes' names unless they are digits, recipe, history,
test accuracy, digitnet version; a model saved before "not a digit" or names existed has
no such key, and its outputs are all digits; ``negatives``, what that output learned
from, {kind: images}: a model trained before kinds existed has instead a number in its
options, half uniform noise and half scribbles);
``W0, b0, W1, b1, ...`` hold the
weights and biases. A trained model also has the plane of the path training took
(trajectory.py): ``path_directions``, its two directions, and the header's ``path``,
the epochs and their coordinates in it, with the cost at each epoch's own weights (not
in files saved before those were measured). A model saved before paths were recorded has
neither, and loads with ``net.path`` None. Each array is read with ``allow_pickle=False`` and only after
its .npy header shows the expected shape, so loading a file can never run code
nor allocate what a damaged header claims.

A checkpoint is a model file (the latest weights) whose header also holds the
training run's facts and whose archive also holds its arrays (``checkpoint_*``).
"""

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from .errors import DigitnetError, one_line
from .files import atomic_write
from .negatives import KINDS
from .network import Network, parameter_count
from .recipes import TRAINING_OPTIONS
from .training import History
from .trajectory import MAX_SNAPSHOTS, Plane, finite
from .version import __version__

FORMAT = "digitnet-model"
MAX_HEADER_BYTES = 16 << 20
MAX_PARAMETERS = 1 << 28  # 1 GiB of float32: far beyond any digit network, small enough to refuse a zip bomb


def header_of(net, **record):
    learned = {"negatives": dict(net.negatives)} if getattr(net, "negatives", None) else {}
    return {"format": FORMAT, "version": __version__, **net.config, **learned,
            "history": list(net.history or []), "best_epoch": getattr(net.history, "best_epoch", None),
            "path": path_facts(net.path), **record}


def path_facts(plane):
    """What the header keeps of the path's plane (its directions are an array of their own)."""
    if plane is None:
        return None
    return {"epochs": plane.epochs, "coordinates": [[float(x), float(y)] for x, y in plane.coordinates],
            "share": plane.share, "costs": None if plane.costs is None else [finite(c) for c in plane.costs],
            "cost_images": plane.cost_images}


def save(net, path, arrays=None, **record):
    """Save ``net`` with ``record`` (recipe, test accuracy, ...) in its header, and
    any further ``arrays`` (name: array) beside its weights and biases."""
    atomic_write(path, lambda f: write(f, net, arrays, **record))


def write(file, net, arrays=None, **record):
    """``save`` to an open binary file (a download, say) rather than a path."""
    for W, b in zip(net.weights, net.biases, strict=True):
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise DigitnetError("refusing to save a model whose weights are not all finite numbers")
    header = json.dumps(header_of(net, **record), allow_nan=False).encode()
    files = {"header": np.frombuffer(header, dtype=np.uint8), **(arrays or {})}
    if net.path is not None:
        files["path_directions"] = net.path.directions
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        files[f"W{l}"], files[f"b{l}"] = W, b
    np.savez(file, **files)


def load(path, cls=Network):
    """The network saved in ``path`` (a ``cls``), its header in ``net.header``; every shape,
    dtype and value is checked, and any problem is a DigitnetError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DigitnetError(f"{path}: no such model file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise DigitnetError(f"{path}: cannot read it ({e.strerror or e})") from None
    if magic != b"PK\x03\x04":  # every .npz is a zip archive
        raise DigitnetError(f"{path}: not a digitnet model file (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            header = read_header(path, read_array(path, archive, "header", None))
            arrays = read_layers(path, archive, header["sizes"])
            plane = read_path(path, archive, header)
    except DigitnetError:
        raise
    except Exception as e:  # zipfile, zlib and NumPy's .npy header parser fail in many ways on damaged bytes
        raise DigitnetError(f"{path}: not a digitnet model file ({one_line(e)})") from None
    try:
        net = cls(header["sizes"], header["activation"], header["cost"], not_a_digit=header.get("not_a_digit", False),
                  classes=header.get("classes"), deskew=header.get("deskew", False))  # older files: as they were
    except DigitnetError as e:
        raise DigitnetError(f"{path}: {e}") from None
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        W[...], b[...] = arrays[f"W{l}"], arrays[f"b{l}"]
    net.header = header
    net.negatives = negatives_of(header)
    net.history = History(header.get("history") or [])
    net.history.best_epoch = header.get("best_epoch")
    net.path = plane
    return net


def negatives_of(header):
    """What the "not a digit" output learned from, {kind: images} (None if nothing): the header's
    ``negatives``, or for a model trained before kinds existed, its options' number of images of
    noise, of which training drew half uniform and half scribbles."""
    if header.get("negatives") or not header.get("not_a_digit"):
        return header.get("negatives") or None
    n = (header.get("options") or {}).get("not_a_digit")
    return {"noise": n - n // 2, "scribbles": n // 2} if type(n) is int and n > 0 else None


def read_layers(path, archive, sizes):
    """W0, b0, W1, ... as float32, each checked against the layer sizes in the header."""
    arrays = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        for name, shape in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out,))):
            with np.errstate(over="ignore"):  # a float64 too big for float32 becomes inf, refused below
                array = read_array(path, archive, name, shape).astype(np.float32)
            if not np.isfinite(array).all():
                raise DigitnetError(f"{path}: {name} holds NaN or infinite values")
            arrays[name] = array
    return arrays


def read_path(path, archive, header):
    """The plane of the path training took, checked; None if the model has none."""
    facts = header.get("path")
    if facts is None:
        return None
    epochs, coordinates, share = facts.get("epochs"), facts.get("coordinates"), facts.get("share")
    costs, cost_images = facts.get("costs"), facts.get("cost_images")  # None in files saved before they were
    if not (isinstance(epochs, list) and 2 <= len(epochs) <= MAX_SNAPSHOTS and all(type(e) is int for e in epochs)
            and isinstance(coordinates, list) and len(coordinates) == len(epochs)
            and all(isinstance(c, list) and len(c) == 2 and all(map(finite_number, c)) for c in coordinates)
            and finite_number(share)
            and (costs is None or isinstance(costs, list) and len(costs) == len(epochs)
                 and all(c is None or finite_number(c) for c in costs))
            and (cost_images is None or type(cost_images) is int and cost_images > 0)):
        raise DigitnetError(f"{path}: the model header's 'path' is damaged")
    directions = read_array(path, archive, "path_directions", (2, parameter_count(header["sizes"])))
    with np.errstate(over="ignore"):
        directions = directions.astype(np.float32)
    if not np.isfinite(directions).all():
        raise DigitnetError(f"{path}: path_directions holds NaN or infinite values")
    return Plane(epochs, directions, np.array(coordinates, dtype=np.float64), float(share), costs,
                 cost_images if costs is not None else None)


def finite_number(value):
    return isinstance(value, NUMBER) and not isinstance(value, bool) and math.isfinite(value)


def read_array(path, archive, name, shape):
    """The array stored as ``name``.npy, read only once its .npy header shows the
    expected ``shape`` of floats (None: the 1-D uint8 bytes of the JSON header), so a
    file that claims enormous arrays is refused without allocating them."""
    try:
        member = archive.getinfo(name + ".npy")
    except KeyError:
        member = None
    if member is not None:
        with archive.open(member) as f:
            version = np.lib.format.read_magic(f)
            read_header_of = {(1, 0): np.lib.format.read_array_header_1_0,
                              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            found = read_header_of(f) if read_header_of else None
    if shape is None:
        if member is None or found is None or found[2] != np.uint8 or len(found[0]) != 1 or \
                found[0][0] > MAX_HEADER_BYTES:
            raise DigitnetError(f"{path}: not a digitnet model file (no header)")
    elif member is None or found is None or found[0] != shape or found[2].kind != "f":
        what = "missing" if member is None else "unreadable" if found is None else \
            f"{found[2]}{list(found[0])}"
        raise DigitnetError(f"{path}: {name} should be float {list(shape)}, found {what}")
    with archive.open(member) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


# What a header may hold, and what type each field must be (None: optional and may be null).
NUMBER = (int, float)
HEADER_TYPES = {"activation": (str, "text"), "cost": (str, "text"), "version": (str, "text"),
                "recipe": (str, "text"), "data": (str, "a folder name"), "out": (str, "a file name"),
                "options": (dict, "a mapping"), "history": (list, "a list"), "best_epoch": (int, "a whole number"),
                "test_accuracy": (NUMBER, "a number"), "checkpoint": (dict, "a mapping"), "path": (dict, "a mapping"),
                "not_a_digit": (bool, "true or false"), "stopped_after": (int, "a whole number"),
                "classes": (list, "a list of names"), "negatives": (dict, "a mapping")}
RECORD_KEYS = ("epoch", "cost", "train_accuracy", "seconds")  # training writes these for every epoch


def read_header(path, raw):
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise DigitnetError(f"{path}: the model header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DigitnetError(f"{path}: not a digitnet model file (wrong format tag)")
    for key in ("sizes", "activation", "cost"):
        if key not in header:
            raise DigitnetError(f"{path}: the model header lacks {key!r}")
    if not isinstance(header["sizes"], list) or not 2 <= len(header["sizes"]) <= 64 or \
            not all(type(n) is int and 0 < n <= 1 << 16 for n in header["sizes"]):
        raise DigitnetError(f"{path}: the model header has bad layer sizes")
    sizes = header["sizes"]
    n = parameter_count(sizes)
    if n > MAX_PARAMETERS:
        raise DigitnetError(f"{path}: the model header claims {n:,} weights and biases, more than digitnet loads "
                            f"({MAX_PARAMETERS:,})")
    for key, (kind, what) in HEADER_TYPES.items():
        value = header.get(key)
        # JSON's true and false are Python's bool, which is an int too: a number must not be one
        if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
            raise DigitnetError(f"{path}: the model header's {key!r} should be {what}, found {value!r:.40}")
    negatives = header.get("negatives") or {}
    if not all(kind in KINDS and type(count) is int and count >= 0 for kind, count in negatives.items()):
        raise DigitnetError(f"{path}: the model header's 'negatives' should be kinds ({', '.join(KINDS)}) and "
                            f"counts, found {negatives!r:.60}")
    for record in header.get("history") or []:
        if not isinstance(record, dict) or not all(
                isinstance(record.get(key), NUMBER) and not isinstance(record.get(key), bool) for key in RECORD_KEYS):
            raise DigitnetError(f"{path}: the model header's history has a record without {', '.join(RECORD_KEYS)}")
    return header


# ---- checkpoints ---------------------------------------------------------------------------

def save_checkpoint(trainer, path, **record):
    """Write the trainer's state after its last epoch to ``path``, atomically: a model file
    (``load`` reads it: the latest weights) whose header also holds ``checkpoint`` (the
    facts of ``Trainer.state``) and whose archive also holds the state's arrays as
    ``checkpoint_<name>``."""
    arrays, facts = trainer.state()
    trainer.net.history = trainer.history
    save(trainer.net, path, arrays={f"checkpoint_{name}": array for name, array in arrays.items()},
         **record, checkpoint=facts, best_epoch=None if facts["best"] is None else facts["best"]["epoch"])


def load_checkpoint(path):
    """(network, header, arrays) from a checkpoint file; a DigitnetError naming the
    file if it is not one or is damaged."""
    net = load(path)  # checks the header and the weights
    facts = net.header.get("checkpoint")
    if not isinstance(facts, dict) or not isinstance(net.header.get("options"), dict):
        raise DigitnetError(f"{path}: a model file but not a checkpoint (train with --checkpoint to make one)")
    options = net.header["options"]
    # "augment" and "not_a_digit" came later than the others: checkpoints made before them had none
    missing = [key for key in (*TRAINING_OPTIONS, "validation", "seed")
               if key not in options and key not in ("augment", "not_a_digit")]
    if missing:
        raise DigitnetError(f"{path}: damaged checkpoint (its options lack {', '.join(missing)})")
    if type(options.get("not_a_digit")) is int and options["not_a_digit"] > 0:
        raise DigitnetError(f"{path}: made before 'not a digit' learned from letters and symbols, by a digitnet "
                            f"that drew other images for it: train afresh, or resume with that version")
    for key in ("data", "out"):
        if not isinstance(net.header.get(key), (str, type(None))):
            raise DigitnetError(f"{path}: damaged checkpoint (its {key!r} is not a path)")
    kinds = {"epoch": int, "images": int, "rng": dict, "optimizer": dict, "history": list, "best": (dict, type(None))}
    for key, kind in kinds.items():
        if not isinstance(facts.get(key), kind) or isinstance(facts.get(key), bool):
            raise DigitnetError(f"{path}: damaged checkpoint (its {key!r} is missing or of the wrong type)")
    n = net.params.size
    try:
        with zipfile.ZipFile(path) as archive:
            names = [m[:-len(".npy")] for m in archive.namelist() if m.startswith("checkpoint_") and m.endswith(".npy")]
            # read_array checks each member's shape before reading it
            arrays = {name[len("checkpoint_"):]: read_array(path, archive, name, (n,)).astype(net.dtype)
                      for name in names}
    except DigitnetError:
        raise
    except Exception as e:  # zipfile, zlib and NumPy fail in many ways on damaged bytes
        raise DigitnetError(f"{path}: damaged checkpoint ({one_line(e)})") from None
    if "params" not in arrays or not all(np.isfinite(a).all() for a in arrays.values()):
        raise DigitnetError(f"{path}: damaged checkpoint (parameters missing or not finite)")
    return net, net.header, arrays
