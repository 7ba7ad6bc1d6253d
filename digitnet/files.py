"""Where digitnet keeps files, and how it writes them.

Caches (MNIST's download) live in the user's cache
folder, never inside the installed package: the install may be read-only, and
files the installer does not own would stay behind after ``pip uninstall``.
Everything digitnet writes is written atomically.
"""

import errno
import os
import tempfile
from pathlib import Path


def cache_dir(*parts):
    """``$DIGITNET_CACHE``, else the user's cache folder for digitnet (``~/.cache/digitnet``
    on Linux, honouring ``$XDG_CACHE_HOME``), with ``parts`` below it."""
    root = os.environ.get("DIGITNET_CACHE")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("digitnet", appauthor=False)
    return Path(root, *parts)


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over
    ``path``: a crash midway leaves the old file, never a half-written one."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:  # named after the folder, not the temporary file the user never asked for
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(path.parent)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp makes the file private (0600); the saved file should be as readable
            # as the one it replaces, or as any new file the user's umask allows
            os.fchmod(f.fileno(), path.stat().st_mode & 0o7777 if path.exists() else new_file_mode())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_file_mode():
    """0666 less the umask, the mode open() gives a new file. Linux shows the umask in
    /proc; elsewhere setting it is the only way to read it, so put it straight back."""
    try:
        umask = int(next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                         if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask
