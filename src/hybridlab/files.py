"""The ground floor of every room that writes: atomic writes, new run directories, and JSON.

A file is written whole or not at all (:func:`replace_atomically`, :func:`write_bytes`,
:func:`write_json`); a directory appears whole or not at all (:func:`new_directory`). JSON has
no NaN or infinity, so :func:`to_json` writes every non-finite float as ``null``.

Only the standard library and NumPy are imported here, so any room may import this module.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator

_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
#: The temporary files and directories being written now (see :func:`remove_unfinished`).
_UNFINISHED: set[str] = set()


def replace_atomically(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(temporary)`` on a new file beside ``path``, then rename it onto ``path``.

    The rename is atomic, so a reader sees the old file or the whole new one, never a part;
    on any error the temporary file is removed and ``path`` is left as it was. The file gets
    the permissions a plain ``open`` would give (the process's umask applies). ValueError if
    the directory of ``path`` does not exist.
    """
    check_output_file(path)
    directory = os.path.dirname(os.path.abspath(path))
    with _named_as(None, path):
        temporary = _new_name(directory, ".tmp-", os.path.splitext(os.fspath(path))[1],
                              lambda name: os.close(os.open(name, _EXCLUSIVE, 0o666)))
    _UNFINISHED.add(temporary)
    try:
        with _named_as(temporary, path):
            write(temporary)
            os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    finally:
        _UNFINISHED.discard(temporary)


def remove_unfinished() -> None:
    """Remove every temporary file and directory still being written (the clean-up of a
    process that must end before its writers can clean up themselves: a signal that its main
    thread cannot take, see :mod:`hybridlab.stopping`)."""
    for name in list(_UNFINISHED):
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(name)


def check_output_file(path: str | os.PathLike, what: str = "cannot write") -> None:
    """ValueError unless ``path`` names a file that may be written: not empty, not an existing
    directory (nor ``.``, ``..`` or a name ending in a separator), in an existing directory."""
    text = os.fspath(path)
    if not text or os.path.basename(text) in ("", ".", "..") or os.path.isdir(text):
        raise ValueError(f"{what} {text!r}: not a file name")
    directory = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(directory):
        raise ValueError(f"{what} {text}: no directory {directory}")


@contextlib.contextmanager
def _named_as(temporary: str | None, path: str | os.PathLike) -> Iterator[None]:
    """Errors raised inside speak of ``path``, the user's name, never of ``temporary`` (a
    temporary file or directory the user never named): an OSError becomes the ValueError
    ``cannot write <path>: <reason>``, and a ValueError naming ``temporary`` names ``path``."""
    try:
        yield
    except OSError as error:
        raise ValueError(f"cannot write {os.fspath(path)}: {error.strerror or error}") from None
    except ValueError as error:
        if temporary is None or temporary not in str(error):
            raise
        raise ValueError(str(error).replace(temporary, os.fspath(path))) from None


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`replace_atomically`)."""

    def write(temporary: str) -> None:
        with open(temporary, "wb") as file:
            file.write(data)

    replace_atomically(path, write)


@contextlib.contextmanager
def open_regular(path: str | os.PathLike, limit: int) -> Iterator[io.BufferedReader]:
    """``with open_regular(path, limit) as file:`` read the regular file ``path`` (binary).

    ValueError, before anything is read, unless ``path`` (after symbolic links) is a regular
    file of at most ``limit`` bytes: a device such as /dev/zero would be read without end, and
    opening a FIFO for reading waits for a writer (it is opened without waiting, then refused).
    """
    source = os.fspath(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ValueError(f"{source}: cannot read: {error.strerror or error}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{source}: cannot read: {not_regular(status)}")
        if status.st_size > limit:
            raise ValueError(f"{source}: {status.st_size} bytes, more than the {limit} bytes read at most")
        file = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with file:
        yield file


def not_regular(status: os.stat_result) -> str:
    """Why a file of this status is not read: ``not a regular file (a directory)`` etc."""
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    kind = next((name for test, name in kinds.items() if test(status.st_mode)), "not a plain file")
    return f"not a regular file ({kind}); only regular files are read"


def to_json(value, indent: int | None = None) -> str:
    """``value`` as JSON text, with every NaN or infinite float written as ``null``
    (JSON has neither; Python's ``json`` would write the non-standard ``NaN``/``Infinity``)."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, value) -> None:
    """Write :func:`to_json` of ``value`` (indented, UTF-8) to ``path`` atomically."""
    write_bytes(path, (to_json(value, indent=1) + "\n").encode("utf-8"))


def _finite(value):
    """A copy of a JSON-able value with non-finite floats (NumPy ones too) replaced by None."""
    import numpy as np  # here: the command line's help imports this module, and needs no NumPy

    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def check_new_directory(path: str | os.PathLike, what: str = "directory", parent: bool = True) -> None:
    """ValueError unless ``path`` names a directory that does not exist yet (and, with
    ``parent``, whose parent directory does); ``what`` names it in the message (``out``).
    An empty name, ``.``, ``..`` or a name ending in them or in a separator is refused: it
    would name the working directory or one above it."""
    text = os.fspath(path)
    if not text or os.path.basename(os.path.normpath(text)) in ("", ".", "..") or \
            os.path.basename(text.rstrip("/" + os.sep)) in (".", ".."):
        raise ValueError(f"{what} = {text!r}: not a new directory's name")
    if os.path.lexists(path):
        raise ValueError(f"{what} {os.fspath(path)}: already exists; choose a new directory")
    directory = os.path.dirname(os.path.abspath(path))
    if parent and not os.path.isdir(directory):
        raise ValueError(f"{what} {os.fspath(path)}: no directory {directory}")


def run_directory(out: str | None, name: str) -> str:
    """The run directory a run will create: ``out``, or for None ``runs/<name>-<time>``, whose
    missing parent directories are created now. ValueError for an empty name (``--out ''`` is
    a mistake, not a request for the default) or one that exists."""
    if out is None:
        out = os.path.join("runs", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    check_new_directory(out, "out", parent=False)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    return out


@contextlib.contextmanager
def new_directory(path: str | os.PathLike) -> Iterator[str]:
    """``with new_directory(path) as work:`` fill the temporary directory ``work``; on success
    it is renamed to ``path``, on any error removed, so ``path`` appears whole or not at all.

    ValueError if ``path`` exists or its parent directory does not.
    """
    check_new_directory(path)
    given, path = os.fspath(path), os.path.abspath(path)
    with _named_as(None, given):
        work = _new_name(os.path.dirname(path), f".{os.path.basename(path)}.partial-", "",
                         lambda name: os.mkdir(name, 0o777))
    _UNFINISHED.add(work)
    try:
        with _named_as(work, given):
            yield work
            os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        _UNFINISHED.discard(work)


def _new_name(directory: str, prefix: str, suffix: str, create: Callable[[str], None]) -> str:
    """Create a new file or directory (``create(name)`` must fail if ``name`` exists) under a
    random name in ``directory`` and return its path. Unlike ``tempfile``, whose files are
    owner-only, this leaves the permissions to the umask, as ``open`` and ``mkdir`` do."""
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            create(name)
            return name
        except FileExistsError:
            continue
    raise ValueError(f"cannot write in {directory}: no free temporary name")
