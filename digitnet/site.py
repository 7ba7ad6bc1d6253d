"""The page as a static site: a folder any static host serves, in which the browser runs the
network itself (web/static's network.js, through local.js) instead of asking a server.

This module writes the folder's files; what goes in them (the network's description, the
experiments' results, the dreams) is worked out by ``digitnet site`` (commands/site.py).
The folder holds:

- ``index.html`` and ``static/``: the served page's own files, unchanged except for one mark
  in ``index.html`` that tells the page to use the browser's engine (ENGINE_MARK);
- ``data/site.json``: the network's shape and names, the registry's names and what the page
  needs of them, the Train panel's choices, the experiments' results and the dreams;
- ``data/model.f32``: the parameters, float32 little-endian, laid out as ``network.layout``;
- ``data/{train,test}-images.u8.gz``: MNIST images, one byte a pixel, row by row, gzipped
  (the browser's DecompressionStream opens them); ``data/{train,test}-labels.u8``: one byte each.

Everything is written into a new folder beside OUT and renamed into place at the end, so OUT is
never half written.
"""

import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import DigitnetError

# The served page says "server" here; the exported one "browser": the only difference between them.
ENGINE_MARK = '<meta name="digitnet-engine" content="server">'
BROWSER_MARK = '<meta name="digitnet-engine" content="browser">'
MAX_BYTES = 8 << 20  # what a phone on a slow line should have to load, at most


def check_out(out, force=False):
    """OUT may be new, an empty folder, or (with ``force``) a folder to replace; nothing else."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DigitnetError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DigitnetError(f"{out}: the folder is not empty (use --force to replace it)")
    if not out.resolve().parent.is_dir():
        raise DigitnetError(f"{out.parent}: no such folder")
    return out


def sample(images, labels, n, rng):
    """``n`` of the images (all if fewer), chosen by ``rng``, as uint8 rows and their labels."""
    chosen = np.sort(rng.permutation(len(labels))[:n])
    pixels = np.asarray(images[chosen])
    if pixels.dtype != np.uint8:
        pixels = np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    return pixels.reshape(len(chosen), -1), np.asarray(labels[chosen], dtype=np.uint8)


def write(out, static, about, params, train, test, force=False):
    """Write the site into ``out``: the page's files from ``static`` (a folder), ``about``
    (data/site.json's content), the float32 ``params`` and the (images, labels) pairs ``train``
    and ``test`` from ``sample``. Returns the folder's size in bytes."""
    out = check_out(out, force)
    page = (Path(static) / "index.html").read_text(encoding="utf-8")
    if page.count(ENGINE_MARK) != 1:
        raise DigitnetError(f"{static}/index.html does not name its engine once ({ENGINE_MARK})")
    parent = out.resolve().parent
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=parent))
    try:
        (building / "static").mkdir()
        for f in sorted(Path(static).iterdir()):
            if f.is_file() and f.name != "index.html":
                shutil.copyfile(f, building / "static" / f.name)
        (building / "index.html").write_text(page.replace(ENGINE_MARK, BROWSER_MARK), encoding="utf-8")
        data = building / "data"
        data.mkdir()
        (data / "site.json").write_text(json.dumps(about, separators=(",", ":"), allow_nan=False),
                                        encoding="utf-8")
        np.asarray(params, dtype="<f4").tofile(data / "model.f32")
        for name, (images, labels) in (("train", train), ("test", test)):
            (data / f"{name}-images.u8.gz").write_bytes(gzip.compress(images.tobytes(), 9, mtime=0))
            (data / f"{name}-labels.u8").write_bytes(labels.tobytes())
        size = sum(f.stat().st_size for f in building.rglob("*") if f.is_file())
        if size > MAX_BYTES:
            raise DigitnetError(f"the site would be {size / 2**20:.1f} MB, more than {MAX_BYTES >> 20} MB: "
                                "use fewer --train-images")
        os.chmod(building, 0o755)
        replace(building, out)
        return size
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def replace(new, out):
    """Put the folder ``new`` at ``out``, moving whatever was there aside first and removing it after."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=new.parent))
        os.rename(out, old / "site")
    os.rename(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
