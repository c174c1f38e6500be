"""Traced programs kept between processes: a solve's program, traced once, serialised by
``jax.export`` beside JAX's persistent compilation cache and read back by a later process
instead of tracing it again.

The compilation cache keeps what XLA compiled, but a fresh process still traces the program
(Diffrax's solve: 2.7 s of a `range` under quadratic drag, benchmarks/RESULTS.md, "Cold start,
part 9") to find the key it looks it up by. A kept program skips the trace: its StableHLO is
deserialised (tens of ms) and compiled, which the compilation cache answers. Kept: an eager
solve's program (``Projectile``'s methods) and every program compiled ``by_motion`` under an ODE
law (``aim``'s searches, the physics fit's sensitivities; :mod:`~hybridlab.physics.compiling`).

A program is kept only where its key says everything that can change what it computes: its
inputs are arrays, plain values compiled in (numbers, strings, module-level functions, by value
and name) and PyTrees of hybridlab's classes or of the libraries traced through (a user's own
drag law is traced every time; so is any input shown by its address, such as a network's
activation), and its key holds hybridlab's sources, the versions of JAX and of the libraries
traced through, the shapes and dtypes, the values compiled in, and the backend. An entry that
cannot be read (truncated, foreign) is traced and written again; one that cannot be written is
not kept; a program that cannot be exported (a call back into Python) leaves an empty entry,
so that a later process traces it once, not twice. Only the ``hybridlab`` process keeps
programs, in ``exported/`` of its compilation cache (:data:`ENVIRONMENT`; about 130 kB a
solve's program), at most :data:`MAX_BYTES`, the least recently used removed first.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import pathlib
import re
import tempfile
import types

import equinox as eqx
import jax

#: The environment variable that names the directory programs are kept in; the ``hybridlab``
#: process sets it beside its compilation cache (``hybridlab.compilation.configure``). Unset
#: (a program of the user's that imports the library, or ``HYBRIDLAB_CACHE=off``): nothing kept.
ENVIRONMENT = "HYBRIDLAB_EXPORTED"
#: The kept programs loaded in this process, by key: each is lowered and compiled once.
_LOADED: dict[str, object] = {}
#: What ``_LOADED`` holds for a program that cannot be exported (one that calls back into Python,
#: an Equinox runtime check): this process traces it as usual, without trying again.
_REFUSED = object()
#: The kept programs' bound in bytes: beyond it the least recently used are removed.
MAX_BYTES = 256 << 20
#: Static data whose text does not show its value: an object by its address, an array by its
#: shape or summarised (NumPy's ``...``), a module's arrays by their dtype and shape.
_SUMMARISED = re.compile(r" at 0x|array\(|Array\(|\.\.\.|\b[fiu](8|16|32|64)\[|\bbool\[")
#: The libraries whose code a kept program was traced through.
_TRACED_THROUGH = ("jax", "jaxlib", "equinox", "diffrax", "optimistix", "lineax")


def call(function, options: dict, *args, **kwargs):
    """``function(*args, **kwargs)`` compiled with XLA ``options``, its traced program kept
    between processes where it can be (see the module), else None (the caller compiles it as
    usual).

    Parameters
    ----------
    function : callable
        A pure function of its arguments: a module-level function of hybridlab or of a library
        traced through, or a ``functools.partial`` of one with plain keywords (named by it in the
        key; anything else is not kept).
    options : dict
        XLA's compile options for the program.
    *args, **kwargs
        PyTrees whose leaves are arrays (the program's inputs) or plain values (``None``,
        ``bool``, ``int``, ``float``, ``str``, tuples of them, or functions as ``function``:
        compiled in, as ``equinox.filter_jit`` does, and part of the key).

    Returns
    -------
    result : PyTree of jax.Array or None
        What ``function(*args, **kwargs)`` returns, bit for bit as its own compiled program gives
        it, or None where no program can be kept.
    """
    directory, name = _directory(), _plain(function)
    if directory is None or name is None:
        return None
    leaves, treedef = jax.tree.flatten((args, kwargs))
    dynamic = [i for i, leaf in enumerate(leaves) if eqx.is_array(leaf)]
    static = {i: _plain(leaf) for i, leaf in enumerate(leaves) if not eqx.is_array(leaf)}
    if None in static.values() or not _ours(treedef):
        return None
    arrays = [leaves[i] for i in dynamic]
    key = _key(name, treedef, arrays, sorted(static.items()))
    program = _LOADED.get(key)
    if program is None:
        def pure(*arrays):
            full = list(leaves)
            for i, array in zip(dynamic, arrays):
                full[i] = array
            args, kwargs = jax.tree.unflatten(treedef, full)
            return function(*args, **kwargs)

        exported = _read(directory / key) or _export(pure, arrays, directory / key)
        program = _LOADED[key] = exported if exported is _REFUSED else \
            jax.jit(exported.call, compiler_options=options)
    return None if program is _REFUSED else program(*arrays)


def _plain(value) -> str | None:
    """``value``, a static leaf of a program's inputs, as text stable across processes (its
    type and exact ``repr``; a module-level function by its name), or None where it has none
    (an object, a closure: what it would compile in is not in the key)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, tuple):
        plain = [_plain(item) for item in value]
        return None if None in plain else f"({', '.join(plain)})"
    if isinstance(value, functools.partial):  # its function and its fixed keywords
        function, keywords = _plain(value.func), [(name, _plain(v)) for name, v in sorted(value.keywords.items())]
        plain = not value.args and function is not None and all(text is not None for _, text in keywords)
        return f"{function}{keywords}" if plain else None
    # A function by its name: one of hybridlab's or of a library traced through (their code is in
    # the key), at module level, closing over nothing (not a bound method: its object is not).
    if isinstance(value, types.FunctionType) and value.__closure__ is None and "<" not in value.__qualname__ \
            and value.__module__.split(".")[0] in ("hybridlab", *_TRACED_THROUGH):
        return f"{value.__module__}.{value.__qualname__}"
    return None


def _directory() -> pathlib.Path | None:
    """Where programs are kept (:data:`ENVIRONMENT`), or None: not kept."""
    chosen = os.environ.get(ENVIRONMENT)
    return pathlib.Path(chosen) if chosen else None


def _ours(treedef) -> bool:
    """Whether every class in ``treedef`` is hybridlab's (whose sources are in the key), built in,
    or of a library traced through (whose version is), and its static data is shown by value (an
    object shown by its address, such as a network's activation function, is not)."""
    kind = treedef.node_data()  # None for a leaf, else (the node's type, its static data)
    module = kind[0].__module__ if kind is not None and isinstance(kind[0], type) else "builtins"
    if module.split(".")[0] not in ("builtins", "hybridlab", *_TRACED_THROUGH) or _SUMMARISED.search(repr(kind)):
        return False
    return all(_ours(child) for child in treedef.children())


def _key(name: str, treedef, arrays, static) -> str:
    """The program's key: what it is, its inputs' structure, shapes and dtypes, the values
    compiled in, and what it was traced with."""
    inputs = [(array.shape, str(array.dtype), bool(getattr(array, "weak_type", False))) for array in arrays]
    parts = (name, str(treedef), inputs, static,
             jax.default_backend(), jax.config.jax_enable_x64, _environment())
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.cache
def _environment() -> str:
    """hybridlab's sources (a kept program may be a function of another room's that calls this
    one) and the versions of the libraries a program is traced through."""
    digest = hashlib.sha256()
    package = pathlib.Path(__file__).parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    # Equinox's error mode decides whether a runtime check is a host callback or a NaN.
    digest.update(f"EQX_ON_ERROR {os.environ.get('EQX_ON_ERROR', 'raise')}".encode())
    for library in _TRACED_THROUGH:
        try:
            digest.update(f"{library} {importlib.metadata.version(library)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{library} -".encode())
    return digest.hexdigest()


def _read(path: pathlib.Path):
    """The program kept at ``path``; :data:`_REFUSED` where an empty file says that it cannot be
    exported; None where there is none or it cannot be read."""
    try:
        data = path.read_bytes()
        exported = jax.export.deserialize(bytearray(data)) if data else _REFUSED
    except Exception:  # noqa: BLE001 (missing, truncated, foreign, or no serialiser: trace it)
        return None
    try:
        os.utime(path)  # used now: the last to be removed (_bounded)
    except OSError:
        pass
    return exported


def _export(pure, arrays, path: pathlib.Path):
    """``pure`` traced and exported, written to ``path`` (atomically) where it can be; a program
    that cannot be exported (a call back into Python) is :data:`_REFUSED`, and an empty file
    says so to later processes, which then trace it once, not twice."""
    try:
        exported = jax.export.export(jax.jit(pure))(*arrays)
        data = exported.serialize()
    except ImportError:  # no serialiser installed: nothing kept, nothing said
        return _REFUSED
    except Exception:  # noqa: BLE001 (a program that export refuses)
        exported, data = _REFUSED, b""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
        _bounded(path.parent)
    except OSError:
        pass  # not kept: the next process traces it again
    return exported


def _bounded(directory: pathlib.Path) -> None:
    """The kept programs in ``directory`` within :data:`MAX_BYTES`: the least recently used
    (written or read) removed first. Another process may remove the same file: not an error."""
    entries = []
    for path in directory.iterdir():
        try:
            stat = path.stat()  # an empty entry (a refusal) counts as a file system block
            entries.append((stat.st_mtime, max(stat.st_size, 4096), path))
        except OSError:
            continue
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total <= MAX_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= size
