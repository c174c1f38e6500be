"""The file format of a saved model: ``model.json`` (the class's name and module, its
hyperparameters and fitted metadata, standard JSON) plus ``arrays.eqx`` (Equinox-serialised
arrays, which Equinox reads with ``numpy.load``, whose ``allow_pickle`` is False): loading never
unpickles or executes anything but hybridlab's own modules.

:func:`load` finds the class by the module recorded in the file (imported only if it is a
module of hybridlab), so that this room depends on none of the rooms whose models it reads.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import re
import stat
from typing import Any

import equinox as eqx
import jax
import numpy as np

from hybridlab.estimators.base import LOADABLE, Estimator, _json_object
from hybridlab.files import new_directory, not_regular, open_regular, replace_atomically, write_json

#: 3: the predictive interval's arrays in arrays.eqx, its kind and shapes in model.json (2 held it
#: as JSON lists, in a schema per kind).
FORMAT_VERSION = 3
#: The deepest nesting of a model.json read: a record's hyperparameters, physics and
#: diagnostics nest a few levels; a hostile one must not be walked down a thousand.
MAX_DEPTH = 32
#: The largest model.json read, in bytes: a record holds hyperparameters and diagnostics (the
#: arrays are in arrays.eqx), some kilobytes; a hostile file must not fill the memory.
MAX_RECORD_BYTES = 16 * 2**20
_MODULE_NAME = re.compile(r"hybridlab(\.[a-z_][a-z0-9_]*)+")


def save(model: Estimator, directory: str | os.PathLike) -> None:
    """Write ``model.json`` and ``arrays.eqx`` into ``directory`` (created if needed)."""
    model._check_fitted()
    os.makedirs(directory, exist_ok=True)
    record = model.record()
    replace_atomically(os.path.join(directory, "arrays.eqx"),
                       lambda path: eqx.tree_serialise_leaves(path, model._arrays()))
    write_json(os.path.join(directory, "model.json"), record)


def save_new(model: Estimator, directory: str | os.PathLike) -> None:
    """Save ``model`` into a new ``directory``: written under a temporary name, then renamed,
    so that a failure leaves nothing behind. ValueError if ``directory`` exists.

    Parameters
    ----------
    model : Estimator
        A fitted model.
    directory : str or os.PathLike
        The directory to create (with ``model.json`` and ``arrays.eqx`` in it); its parent must exist.

    Raises
    ------
    ValueError
        If ``directory`` exists, is not a new directory's name (empty, ``.``, ``..``) or its parent does not
        exist, or the model is not fitted.
    """
    with new_directory(directory) as work:
        model.save(work)


def estimator_class(name, module=None) -> type[Estimator]:
    """The loadable class called ``name``, from the hybridlab ``module`` that defines it
    (imported if need be, with its parent packages, which are hybridlab's too; a module outside
    hybridlab, or a ``__main__``, is refused unimported). ValueError for any other name or module."""
    if not isinstance(name, str):
        raise ValueError(f"unknown model {name!r}")
    module = module if module is not None else "hybridlab.models"  # a record written by hand: a rung
    if name not in LOADABLE:
        if not (isinstance(module, str) and _MODULE_NAME.fullmatch(module) and "__main__" not in module
                and _found(module)):
            raise ValueError(f"unknown model {name!r} in module {str(module)[:80]!r}")
        importlib.import_module(module)
    cls = LOADABLE.get(name)
    if cls is None:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(LOADABLE))}")
    return cls


def _found(module: str) -> bool:
    """Whether ``module`` (a dotted name under hybridlab) is a module that exists."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that is not a package, or does not exist
        return False


def from_params(record: dict[str, Any]) -> Estimator:
    """The unfitted estimator ``{"model": name, "module": ..., "params": {...}}`` describes (as saved).

    Parameters
    ----------
    record : dict
        ``model`` (the class's name), ``module`` (the hybridlab module defining it; optional) and ``params``
        (its hyperparameters; JSON lists are read as tuples).

    Returns
    -------
    estimator : Estimator
        The unfitted estimator.

    Raises
    ------
    ValueError
        If the name or module is unknown (a module outside hybridlab is never imported), ``params`` is not a
        dict, or a hyperparameter breaks its constraint.
    TypeError
        If ``params`` names an argument the class does not take.
    """
    cls = estimator_class(record.get("model"), record.get("module"))
    params = record.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"model {cls.name!r}: 'params' must be a JSON object")
    # JSON has no tuples: a sequence hyperparameter (saved from a tuple) is read back as one.
    return cls(**{name: _tuples(value) for name, value in params.items()})


def _tuples(value):
    """A JSON array as a tuple (its arrays too); anything else as it is."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def restore(record) -> Estimator:
    """The model :meth:`Estimator.record` describes, with its fitted facts but not yet its
    arrays. ValueError (or KeyError, TypeError) for a record that is not one.

    Parameters
    ----------
    record : dict
        What ``model.json`` holds: ``format``, ``model``, ``module``, ``params``, ``n_features``, ``context``
        (its launch ``height`` in m, if any) and ``fitted``.

    Returns
    -------
    model : Estimator
        The model of the class the record names, its hyperparameters and fitted facts set; its fitted arrays
        are still to be read (as :func:`load` reads them from ``arrays.eqx``).

    Raises
    ------
    ValueError
        If the record is not a dict of this format version, ``fitted`` or ``context`` is not a JSON object, the
        context's height is not a finite number, or the class or its parameters are unknown or invalid.
    KeyError
        If ``n_features`` or a fitted fact of the class is missing.
    TypeError
        If ``n_features`` is not a number or a string of one, or ``params`` names an argument the class does
        not take.
    """
    if not isinstance(record, dict) or record.get("format") != FORMAT_VERSION:
        raise ValueError("unknown model file format")
    if not isinstance(record.get("fitted"), dict):
        raise ValueError("'fitted' must be a JSON object")
    model = from_params(record)
    model.n_features_ = int(record["n_features"])
    model.context_ = _json_object("context", record.get("context", {}))
    height = model.context_.get("height", 0.0)
    if isinstance(height, bool) or not isinstance(height, (int, float)) or not math.isfinite(height):
        raise ValueError(f"context height = {str(height)[:40]}: must be a finite number (m)")
    model._set_metadata(record["fitted"])
    return model


def load(directory: str | os.PathLike) -> Estimator:
    """The model saved in ``directory`` by ``save``. Reads JSON and arrays only.

    Parameters
    ----------
    directory : str or os.PathLike
        A directory holding ``model.json`` and ``arrays.eqx``.

    Returns
    -------
    model : Estimator
        The fitted model, of the class the file names.

    Raises
    ------
    ValueError
        If ``model.json`` cannot be read, is not JSON, exceeds 16 MiB, nests more than 32 levels, is of another
        format version or is damaged, or ``arrays.eqx`` is missing or does not match it.
    """
    path = os.path.join(directory, "model.json")
    try:
        with open_regular(path, MAX_RECORD_BYTES) as file:
            record = json.loads(file.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a saved hybridlab model ({error})") from None
    except RecursionError:  # Python's json parser recurses once per level of nesting
        raise ValueError(f"{path}: not a saved hybridlab model (nested too deeply)") from None
    if _depth(record) > MAX_DEPTH:
        raise ValueError(f"{path}: not a saved hybridlab model (nested more than {MAX_DEPTH} levels deep)")
    version = record.get("format") if isinstance(record, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version != FORMAT_VERSION:
        raise ValueError(f"{path}: a model saved in format {version}; this hybridlab reads format {FORMAT_VERSION}: "
                         "fit it again with this version")
    try:
        model = restore(record)
        shapes = eqx.filter_eval_shape(model._saved_like)  # what model.json promises, nothing allocated
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:  # written by hand or elsewhere
        cause = f"{error}" if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        raise ValueError(f"{path}: damaged model record ({cause})") from None
    arrays_path = os.path.join(directory, "arrays.eqx")
    _check_size(arrays_path, shapes)
    like = model._saved_like()
    try:
        arrays = eqx.tree_deserialise_leaves(arrays_path, like)
    except (OSError, RuntimeError, ValueError) as error:  # Equinox reports a shape mismatch as RuntimeError
        raise ValueError(f"{arrays_path}: does not match model.json ({error})") from None
    for got, want in zip(jax.tree.leaves(arrays), jax.tree.leaves(like)):
        if np.shape(got) != np.shape(want):
            raise ValueError(f"{arrays_path}: does not match model.json")
    model._set_arrays(arrays)
    return model


def _depth(value, depth: int = 0) -> int:
    """How deeply JSON ``value`` nests (a scalar: 0), looked at no deeper than MAX_DEPTH + 1."""
    if depth > MAX_DEPTH or not isinstance(value, (dict, list)):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(item, depth + 1) for item in items), default=depth + 1)


def _check_size(arrays_path: str, shapes) -> None:
    """ValueError unless the arrays file is large enough for the arrays model.json describes:
    a damaged or hostile model.json must not make the loader allocate gigabytes."""
    needed = sum(math.prod(leaf.shape) * leaf.dtype.itemsize  # Python integers: no overflow
                 for leaf in jax.tree.leaves(shapes) if hasattr(leaf, "shape"))
    try:
        status = os.stat(arrays_path)
    except OSError as error:
        raise ValueError(f"{arrays_path}: cannot read ({error})") from None
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(f"{arrays_path}: cannot read: {not_regular(status)}")
    size = status.st_size
    if needed > size:
        raise ValueError(f"{arrays_path}: does not match model.json ({needed} bytes of arrays described, "
                         f"the file has {size})")
