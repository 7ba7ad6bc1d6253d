"""Fuzzing the three readers of outside input (IDX files, model files, images):
whatever bytes or arrays they get, they return a well-formed result or raise
DigitnetError, never anything else, and never hang."""

import contextlib
import functools
import gzip
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw

from digitnet import Network, data, modelfile
from digitnet.errors import DigitnetError

# Bounded so the whole file runs in well under a minute; a generous deadline per
# example (the machine is shared) and a timeout per test catch hangs.
# DIGITNET_FUZZ_EXAMPLES=2000 runs a deeper search by hand.
FUZZ = settings(max_examples=int(os.environ.get("DIGITNET_FUZZ_EXAMPLES", 150)), deadline=5000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.timeout(int(os.environ.get("DIGITNET_FUZZ_EXAMPLES", 150)))

SCRATCH = Path(tempfile.mkdtemp(prefix="digitnet-fuzz-"))


class Blob(bytes):
    """Generated file contents, shown by length only: a model file's bytes would fill
    the screen (hypothesis keeps failing examples in its database to replay them)."""

    def __repr__(self):
        return f"<{len(self)} bytes>"


@pytest.fixture(scope="module", autouse=True)
def remove_scratch():
    yield
    shutil.rmtree(SCRATCH, ignore_errors=True)


def scratch_file(content, name="input"):
    path = SCRATCH / name
    path.write_bytes(content)
    return path


def mutated(seed_bytes):
    """Bytes derived from ``seed_bytes`` by flips, truncation, insertion and deletion."""
    @st.composite
    def build(draw):
        b = bytearray(seed_bytes)
        for _ in range(draw(st.integers(1, 6))):
            kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
            at = draw(st.integers(0, max(len(b) - 1, 0)))
            if kind == "flip" and b:
                b[at] ^= 1 << draw(st.integers(0, 7))
            elif kind == "set" and b:
                b[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
            elif kind == "truncate":
                del b[at:]
            elif kind == "insert":
                b[at:at] = draw(st.binary(min_size=1, max_size=64))
            elif kind == "delete":
                del b[at:at + draw(st.integers(1, 64))]
        return Blob(b)

    return build()


# ---- IDX ---------------------------------------------------------------------------

def check_idx(result):
    assert isinstance(result, np.ndarray) and result.dtype == np.uint8 and 1 <= result.ndim <= 4


IDX_SEED = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(range(24))


@st.composite
def idx_like(draw):
    """Mostly-plausible IDX: the right magic, a random ndim, sizes and body."""
    ndim = draw(st.integers(0, 6))
    dims = draw(st.lists(st.one_of(st.integers(0, 6), st.integers(0, 2**32 - 1)), min_size=ndim, max_size=ndim))
    head = bytes([0, 0, draw(st.sampled_from([8, 8, 8, 9, 13])), ndim])
    body = b"".join(d.to_bytes(4, "big") for d in dims)
    return head + body + draw(st.binary(max_size=300))


@FUZZ
@given(st.one_of(st.binary(max_size=300), idx_like(), mutated(IDX_SEED)))
def test_parse_idx(content):
    try:
        result = data.parse_idx(content)
    except DigitnetError as e:
        assert "\n" not in str(e)
    else:
        check_idx(result)
        assert result.size == len(content) - 4 - 4 * result.ndim


@FUZZ
@given(st.one_of(st.binary(max_size=300), idx_like(), mutated(IDX_SEED), mutated(gzip.compress(IDX_SEED))),
       st.booleans())
def test_read_idx(content, compress):
    path = scratch_file(gzip.compress(content) if compress else content, "input.idx")
    try:
        check_idx(data.read_idx(path))
    except DigitnetError as e:
        assert "\n" not in str(e)


# ---- model files -----------------------------------------------------------------------

def model_bytes(compressed=False):
    from digitnet.training import History

    net = Network((784, 16, 16, 10), "relu", "cross-entropy", seed=3)
    net.history = History([{"epoch": 1, "lr": 0.1, "cost": 0.5, "train_accuracy": 0.9, "seconds": 1.0}])
    path = SCRATCH / "seed.npz"
    net.save(path)
    if compressed:
        with np.load(path) as npz:
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **dict(npz))
            return buffer.getvalue()
    return path.read_bytes()


MODEL = model_bytes()
with zipfile.ZipFile(io.BytesIO(MODEL)) as _z:
    MEMBERS = {name: _z.read(name) for name in _z.namelist()}


@st.composite
def rezipped(draw, members=None):
    """A valid zip (right CRCs) whose members are mutated: reaches the .npy and JSON
    checks that byte flips in the archive would mostly stop at the CRC."""
    original = members or MEMBERS
    members = dict(original)
    for name in draw(st.lists(st.sampled_from(sorted(members)), min_size=1, max_size=3)):
        members[name] = draw(mutated(members[name][:400])) + members[name][400:]
    if draw(st.booleans()):
        members.pop(draw(st.sampled_from(sorted(members))))
    if draw(st.booleans()):  # a header with random JSON values in its fields
        header = json.loads(np.load(io.BytesIO(original["header.npy"])).tobytes())
        json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                                  lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                                                inner, max_size=3),
                                  max_leaves=6)
        fields = header.get("checkpoint") if "checkpoint" in header and draw(st.booleans()) else header
        fields[draw(st.sampled_from(sorted(fields)))] = draw(json_value)
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(json.dumps(header).encode(), np.uint8))
        members["header.npy"] = buffer.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return Blob(buffer.getvalue())


def check_model(content):
    path = scratch_file(content, "model.npz")
    try:
        net = modelfile.load(path)
    except DigitnetError as e:
        assert "\n" not in str(e)
    else:
        assert all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in zip(net.weights, net.biases,
                                                                                  strict=True))
        assert net.forward(np.zeros((1, net.sizes[0]), np.float32)).shape == (1, net.sizes[-1])


@FUZZ
@given(mutated(MODEL))
def test_model_file_mutated_bytes(content):
    check_model(content)


@FUZZ
@given(st.one_of(mutated(model_bytes(compressed=True)), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_model_file_mutated_compressed_and_random(content):
    check_model(content)


@FUZZ
@given(rezipped())
def test_model_file_mutated_members(content):
    check_model(content)


@functools.cache
def checkpoint_members():
    """The members of a checkpoint saved by `digitnet train --checkpoint` on random digits."""
    from digitnet.cli import main

    folder = small_data()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--data", str(folder), "--layers", "784,8,10", "--epochs", "2", "--validation", "20",
                     "--checkpoint", str(SCRATCH / "run.npz"), "--out", str(SCRATCH / "out.npz")]) == 0
    with zipfile.ZipFile(SCRATCH / "run.npz") as z:
        return {name: z.read(name) for name in z.namelist()}


@functools.cache
def small_data():
    """A data folder of 200 random training digits and 20 test digits."""
    folder = SCRATCH / "small-data"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for key, stem in data.FILES.items():
        n = 200 if key.startswith("train") else 20
        data.write_idx(folder / (stem + ".gz"), rng.integers(0, 256, (n, 28, 28)) if key.endswith("images")
                       else np.arange(n) % 10)
    return folder


ANY_INT = st.one_of(st.integers(-3, 300), st.integers(-2**70, 2**70))
ANY_FLOAT = st.one_of(st.floats(-10, 10), st.floats(allow_nan=True, allow_infinity=True))


@settings(FUZZ, max_examples=FUZZ.max_examples // 5)  # each example trains a (tiny) network
@given(st.fixed_dictionaries({}, optional={
    "--seed": ANY_INT, "--lr": ANY_FLOAT, "--momentum": ANY_FLOAT, "--l2": ANY_FLOAT, "--batch-size": ANY_INT,
    "--shift": ANY_INT, "--validation": ANY_INT, "--epochs": st.integers(-2, 2),
    "--optimizer": st.sampled_from(["sgd", "adam"]), "--schedule": st.sampled_from(["constant", "cosine"])}))
def test_train_flags(flags):
    """Whatever numbers the training flags get, `digitnet train` trains or exits 2 with one line."""
    from digitnet.cli import main

    argv = ["train", "--data", str(small_data()), "--layers", "784,8,10", "--out", str(SCRATCH / "flags.npz")]
    argv += [f"{flag}={value}" for flag, value in flags.items()]
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse refusing a value
            code = e.code
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert "error: " in err.getvalue() and "Traceback" not in err.getvalue()


@FUZZ
@given(st.data())
def test_checkpoint_mutated_members(draw):
    from digitnet.modelfile import load_checkpoint

    path = scratch_file(draw.draw(rezipped(checkpoint_members())), "checkpoint.npz")
    try:
        load_checkpoint(path)
    except DigitnetError as e:
        assert "\n" not in str(e)


# ---- images ----------------------------------------------------------------------------

def digit_picture(mode="L"):
    """A hand-drawn-looking 7: dark ink on white paper."""
    im = Image.new("L", (120, 160), 255)
    draw = ImageDraw.Draw(im)
    draw.line([(20, 25), (100, 25), (55, 140)], fill=20, width=12)
    return im.convert(mode)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


PNG = encoded(digit_picture(), "PNG")
PNG_RGBA = encoded(digit_picture("RGBA"), "PNG")
JPEG = encoded(digit_picture("RGB"), "JPEG", quality=80)
GIF = encoded(digit_picture("P"), "GIF")


def check_image(result):
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert np.isfinite(result).all() and result.min() >= 0 and result.max() <= 1


def to_mnist_or_error(image, invert=None):
    from digitnet.images import to_mnist

    try:
        check_image(to_mnist(image, invert=invert))
    except DigitnetError as e:
        assert "\n" not in str(e)


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutated(PNG), mutated(PNG_RGBA), mutated(JPEG), mutated(GIF)),
       st.sampled_from([None, True, False]))
def test_image_file_bytes(content, invert):
    to_mnist_or_error(scratch_file(content, "image"), invert)


@FUZZ
@given(st.one_of(mutated(PNG), mutated(JPEG)))
def test_image_opened_by_the_caller(content):
    # A PIL image handed over already open: decoding happens inside to_mnist.
    try:
        image = Image.open(io.BytesIO(content))
    except Exception:  # noqa: BLE001 - Pillow refusing it is the caller's business
        return
    to_mnist_or_error(image)


DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_,
          np.complex64]


def elements(dtype):
    """Values of ``dtype`` including out-of-range pixels, NaN and infinity."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -3), min(info.max, 70000))
    if dtype.kind == "f":
        return hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True)
    return None


@FUZZ
@given(st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(
    dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40), elements=elements(dtype))),
    st.sampled_from([None, True, False]))
def test_image_arrays(array, invert):
    to_mnist_or_error(array, invert)


@settings(FUZZ, max_examples=FUZZ.max_examples // 3)  # each example is up to 600x600: a third as many
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 600), st.integers(1, 600)),
                  elements=st.floats(0, 1), fill=st.sampled_from([0.0, 1.0])),
       st.sampled_from([None, True, False]))
def test_image_arrays_of_odd_aspect(array, invert):
    # thin strips and large sides exercise the shrinking and cropping
    to_mnist_or_error(array, invert)


@pytest.mark.parametrize("value", [None, 5, "", [[1, 2], [3]], [[0.5] * 3] * 3, object(), {"a": 1}, b"\0"])
def test_image_odd_python_values(value):
    from digitnet.images import to_mnist

    try:
        check_image(to_mnist(value))
    except DigitnetError as e:
        assert "\n" not in str(e)


# ---- the network's own input ----------------------------------------------------------------

NET = Network((784, 16, 10), "relu", "cross-entropy", seed=0)


@FUZZ
@given(st.one_of(
    st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(
        dtype, st.one_of(st.tuples(st.integers(0, 3), st.just(784)), st.tuples(st.integers(0, 3), st.just(28),
                                                                                   st.just(28)),
                         hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=30)),
        elements=elements(dtype))),
    st.just([[0.5] * 784, [0.5] * 10]), st.just(None), st.just("text")))
def test_network_predict(X):
    """A batch of the right size gives one digit per example; anything else, including
    NaN or infinite pixels, is a DigitnetError."""
    try:
        predicted = NET.predict(X)
    except DigitnetError as e:
        assert "\n" not in str(e)
        return
    X = np.asarray(X)
    assert X.dtype.kind in "buif" and np.isfinite(X).all(), "bad input gave an answer instead of an error"
    assert predicted.shape == (len(X) if X.ndim > 1 else 1,) and ((0 <= predicted) & (predicted <= 9)).all()
