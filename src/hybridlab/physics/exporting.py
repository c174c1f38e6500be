"""Traced programs kept between processes: an eager solve's program, traced once, serialised by
``jax.export`` beside JAX's persistent compilation cache and read back by a later process
instead of tracing it again.

The compilation cache keeps what XLA compiled, but a fresh process still traces the program
(Diffrax's solve: 2.7 s of a `range` under quadratic drag, benchmarks/RESULTS.md, "Cold start,
part 9") to find the key it looks it up by. A kept program skips the trace: its StableHLO is
deserialised (tens of ms) and compiled, which the compilation cache answers.

A program is kept only where nothing outside this room can change what it computes: its inputs
are arrays and PyTrees of this room's classes (a built-in drag law, ``Projectile``, ``Wind``; a
user's own law is traced every time), and its key holds the sources of this room, the versions
of JAX and of the libraries traced through, the shapes and dtypes, and the backend. An entry
that cannot be read (truncated, foreign) is traced and written again; one that cannot be
written is not kept. Only the ``hybridlab`` process keeps programs, in ``exported/`` of its
compilation cache (:data:`ENVIRONMENT`; about 130 kB a program, one per solve, drag law type and
batch size used; not bounded by the cache's eviction).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import pathlib
import tempfile

import equinox as eqx
import jax

#: The environment variable that names the directory programs are kept in; the ``hybridlab``
#: process sets it beside its compilation cache (``hybridlab.compilation.configure``). Unset
#: (a program of the user's that imports the library, or ``HYBRIDLAB_CACHE=off``): nothing kept.
ENVIRONMENT = "HYBRIDLAB_EXPORTED"
#: The kept programs loaded in this process, by key: each is lowered and compiled once.
_LOADED: dict[str, object] = {}
#: The libraries whose code a kept program was traced through.
_TRACED_THROUGH = ("jax", "jaxlib", "equinox", "diffrax", "optimistix", "lineax")


def call(function, name: str, options: dict, *args):
    """``function(*args)`` compiled with XLA ``options``, its traced program kept between
    processes where it can be (see the module), else None (the caller compiles it as usual).

    Parameters
    ----------
    function : callable
        A pure function of ``args``, the same for the same ``name``.
    name : str
        What ``function`` is, stable across processes (not an object's address).
    options : dict
        XLA's compile options for the program.
    *args
        PyTrees whose leaves are all arrays.

    Returns
    -------
    result : PyTree of jax.Array or None
        What ``function(*args)`` returns, bit for bit as its own compiled program gives it, or
        None where no program can be kept.
    """
    directory = _directory()
    leaves, treedef = jax.tree.flatten(args)
    if directory is None or not all(eqx.is_array(leaf) for leaf in leaves) or not _ours(treedef):
        return None
    key = _key(name, treedef, leaves)
    program = _LOADED.get(key)
    if program is None:
        def pure(*leaves):
            return function(*jax.tree.unflatten(treedef, leaves))

        exported = _read(directory / key) or _export(pure, leaves, directory / key)
        if exported is None:
            return None
        program = _LOADED[key] = jax.jit(exported.call, compiler_options=options)
    return program(*leaves)


def name_of(function) -> str:
    """A function's name stable across processes: module, qualified name and, for a
    ``functools.partial``, its fixed keywords."""
    if isinstance(function, functools.partial):
        return f"{name_of(function.func)}{sorted(function.keywords.items())}"
    return f"{function.__module__}.{function.__qualname__}"


def _directory() -> pathlib.Path | None:
    """Where programs are kept (:data:`ENVIRONMENT`), or None: not kept."""
    chosen = os.environ.get(ENVIRONMENT)
    return pathlib.Path(chosen) if chosen else None


def _ours(treedef) -> bool:
    """Whether every class in ``treedef`` is of this room (whose sources are in the key)."""
    kind = treedef.node_data()  # None for a leaf, else (the node's type, its static data)
    module = kind[0].__module__ if kind is not None and isinstance(kind[0], type) else "builtins"
    if module != "builtins" and not module.startswith("hybridlab.physics."):
        return False
    return all(_ours(child) for child in treedef.children())


def _key(name: str, treedef, leaves) -> str:
    """The program's key: what it is, its inputs' structure, shapes and dtypes, and what it was
    traced with."""
    parts = (name, str(treedef), [(leaf.shape, str(leaf.dtype)) for leaf in leaves], jax.default_backend(),
             jax.config.jax_enable_x64, _environment())
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.cache
def _environment() -> str:
    """This room's sources and the versions of the libraries a program is traced through."""
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    for library in _TRACED_THROUGH:
        try:
            digest.update(f"{library} {importlib.metadata.version(library)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{library} -".encode())
    return digest.hexdigest()


def _read(path: pathlib.Path):
    """The program kept at ``path``, or None where there is none or it cannot be read."""
    try:
        return jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception:  # noqa: BLE001 (missing, truncated, foreign, or no serialiser: trace it)
        return None


def _export(pure, leaves, path: pathlib.Path):
    """``pure`` traced and exported; written to ``path`` (atomically) where it can be."""
    try:
        exported = jax.export.export(jax.jit(pure))(*leaves)
        data = exported.serialize()
    except Exception:  # noqa: BLE001 (no serialiser installed, or a program export refuses)
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    except OSError:
        pass  # not kept: the next process traces it again
    return exported
