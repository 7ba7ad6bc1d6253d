"""MNIST: the IDX file format, where the files come from, and the data set.

IDX is a big-endian header (two zero bytes, a type byte 0x08 for uint8, the
number of dimensions, then one uint32 per dimension) followed by the raw values.
"""

import gzip
import hashlib
import io
import math
import os
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import DigitnetError
from .files import atomic_write, cache_dir
from .validation import check_classes

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the published .gz files, so a download is known to be the real MNIST.
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MAX_IDX_BYTES = 1 << 31  # no MNIST-like file comes near 2 GiB; refuse headers that claim more
CLASSES_FILE = "classes.txt"  # beside the IDX files: the classes' names, one a line, in label order
DIGITS = 10  # the classes of a data set that does not name them: the digits 0 to 9

# Data sets whose names are known: the SHA-256 of their test labels' values (of the IDX file's body,
# gzipped or not), and their classes. Fashion-MNIST (Xiao, Rasul and Vollgraf 2017), as Debian's
# dataset-fashion-mnist and the authors' download have it.
KNOWN_CLASSES = {
    "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}


class Dataset(NamedTuple):
    train_images: np.ndarray  # uint8, n×28×28
    train_labels: np.ndarray  # uint8, n
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple | None = None  # the classes' names, in label order; None: the digits 0 to 9

    @property
    def arrays(self):
        return self[:4]

    @property
    def class_count(self):
        return len(self.classes) if self.classes else DIGITS


def read_idx(path):
    """The array stored in an IDX file (gzip-compressed or raw), checked against its header.

    The header is read first and the body only up to the size it declares, so a
    corrupt header or a gzip bomb is refused without reading gigabytes."""
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw) if gzipped else raw
            shape = idx_shape(f.read, path.name)
            body = f.read(math.prod(shape) + 1)  # one byte more shows a file that is too long
    except FileNotFoundError:
        raise DigitnetError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as e:  # a corrupt gzip stream raises any of these
        raise DigitnetError(f"{path}: cannot read it ({e})") from None
    return idx_array(body, shape, path.name)


def parse_idx(data, name="IDX data"):
    """The array in the bytes of an IDX file."""
    stream = io.BytesIO(data)
    shape = idx_shape(stream.read, name)
    return idx_array(memoryview(data)[stream.tell():], shape, name)


def idx_shape(read, name):
    """The shape an IDX header declares, read with ``read(n)``; refused if it is not
    uint8 IDX or claims more values than any such data set holds."""
    magic = read(4)
    if len(magic) < 4 or magic[:3] != b"\0\0\x08" or not 1 <= magic[3] <= 4:
        raise DigitnetError(f"{name}: not an IDX file of uint8 values (bad magic number)")
    ndim = magic[3]
    dims = read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DigitnetError(f"{name}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    # Python ints, so the product cannot overflow; zero sizes count as one, since NumPy
    # refuses even an empty array whose other sizes multiply past its limit.
    if math.prod(max(n, 1) for n in shape) > MAX_IDX_BYTES:
        raise DigitnetError(f"{name}: header claims shape {shape}, more than any such data set holds")
    return shape


def idx_array(body, shape, name):
    expected = math.prod(shape)
    if len(body) != expected:
        held = "more" if len(body) > expected else len(body)
        raise DigitnetError(f"{name}: header says {expected} values for shape {shape}, file holds {held}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def write_idx(path, array):
    """Write a uint8 array as raw IDX (or gzip-compressed if the name ends in .gz), atomically."""
    array = np.asarray(array)
    if array.dtype != np.uint8 and not (array.size == 0 or (
            np.all(np.isfinite(array)) and array.min() >= 0 and array.max() <= 255 and np.all(array % 1 == 0))):
        raise DigitnetError(f"{path}: IDX holds whole numbers 0-255, got {array.dtype} values outside that")
    if not 1 <= array.ndim <= 4 or max(array.shape) >= 1 << 32:
        raise DigitnetError(f"{path}: IDX holds 1 to 4 dimensions of under 2**32 each, got shape {array.shape}")
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    atomic_write(path, lambda f: f.write(data))


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def has_dataset(folder):
    return folder is not None and all(find_file(folder, stem) for stem in FILES.values())


def locate(data=None):
    """The folder holding the four files: ``data``, else $DIGITNET_DATA, else the
    user's cache, downloading MNIST into the cache if it is not there yet."""
    for folder, origin in ((data, "--data"), (os.environ.get("DIGITNET_DATA"), "DIGITNET_DATA")):
        if folder:
            if not has_dataset(folder):
                missing = [s for s in FILES.values() if not find_file(folder, s)]
                raise DigitnetError(f"{origin} folder {folder} lacks {', '.join(missing)} (.gz or raw)")
            return Path(folder)
    folder = cache_dir("mnist")
    if not has_dataset(folder):
        download(folder)
    return folder


def download(folder, mirrors=None):
    """Fetch the four MNIST files into ``folder``, checking each one's SHA-256.

    pooch writes to a temporary file and moves it into place only once the hash
    matches, so an interrupted or corrupt download never leaves a file behind.
    """
    import pooch

    mirrors = mirrors or os.environ.get("DIGITNET_MIRROR", "").split() or MIRRORS
    for name, sha in SHA256.items():
        if (Path(folder) / name).is_file():
            continue
        errors = []
        for base in mirrors:
            try:
                pooch.retrieve(base.rstrip("/") + "/" + name, known_hash=f"sha256:{sha}", fname=name,
                               path=folder, progressbar=True)
                break
            except Exception as e:  # network errors come in many types; the next mirror may work
                errors.append(f"{base}: {why_not(e)}")
        else:
            raise DigitnetError(
                f"could not download {name} ({'; '.join(errors)}); if offline, put the four MNIST "
                "files in a folder and pass --data DIR or set DIGITNET_DATA")


def why_not(error):
    """A few words on why a download failed, for the one-line error."""
    import requests  # what pooch downloads with

    if isinstance(error, requests.ConnectionError):
        return "cannot connect"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    if isinstance(error, ValueError) and "hash" in str(error).lower():
        return "the file's SHA-256 does not match MNIST's"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def load(data=None, classes=None):
    """The data set in ``data`` (or found as ``locate`` says), as uint8 arrays, with its classes'
    names: ``classes`` if given, else the folder's classes.txt, else those of a data set known by its
    labels (Fashion-MNIST), else None, for the digits."""
    folder = locate(data)
    arrays = {key: read_idx(find_file(folder, stem)) for key, stem in FILES.items()}
    names, named_by = classes_of(folder, arrays["test_labels"], classes)
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DigitnetError(f"{folder}: {part} images {images.shape} and labels {labels.shape} do not match")
        if labels.size and labels.max() >= (len(names) if names else DIGITS):
            raise DigitnetError(f"{named_by}: {len(names)} classes are named, so labels must be 0-{len(names) - 1}; "
                                f"the {part} labels go up to {labels.max()}" if names else
                                f"{folder}: {part} labels must be 0-9, found {labels.max()} (more classes than the "
                                f"digits need names: {CLASSES_FILE} beside the files, or --classes)")
    return Dataset(**arrays, classes=names)


def classes_of(folder, test_labels, given=None):
    """The names of the classes, as ``load`` finds them (None: the digits), and where they came from."""
    listed = Path(folder) / CLASSES_FILE
    if given is not None:
        return checked(given, "--classes"), "--classes"
    if listed.is_file():
        try:
            lines = listed.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise DigitnetError(f"{listed}: cannot read it ({e})") from None
        return checked([line for line in lines if line.strip()], listed), listed
    return KNOWN_CLASSES.get(hashlib.sha256(test_labels.tobytes()).hexdigest()), "Fashion-MNIST"


def checked(names, source):
    if not names:
        raise DigitnetError(f"{source}: names no class")
    try:
        return check_classes(names, len(names))
    except DigitnetError as e:
        raise DigitnetError(f"{source}: {e}") from None
