"""Checks of physical parameters and launch conditions.

Concrete values are checked eagerly and raise ``ValueError`` naming the parameter (and, for
arrays, the first offending index) and the value. Traced values (inside ``jit``, ``grad``,
``vmap``) cannot be inspected, so they are guarded with Equinox runtime checks
(``eqx.error_if``), which raise when the compiled function runs: an
``equinox.EquinoxRuntimeError`` under ``eqx.filter_jit`` or eagerly, a
``jax.errors.JaxRuntimeError`` ("INTERNAL: CpuCallback error …") under ``jax.jit``, each with
a multi-line text around the message; :func:`runtime_cause` recovers the message.
"""

from __future__ import annotations

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_traced(*values) -> bool:
    """True when any value is a JAX tracer (we are inside a transformation)."""
    return any(isinstance(v, jax.core.Tracer) for v in values)


def array_module(*values):
    """``jax.numpy`` where any of ``values`` (arrays or PyTrees of them) is traced, else NumPy:
    arithmetic on concrete values done in NumPy compiles no JAX program (each eager JAX
    operation compiles one, 30–50 ms in a fresh process)."""
    return jnp if is_traced(*jax.tree.leaves(values)) else np


def as_float(name: str, value) -> jax.Array:
    """``value`` as a float64 array; a ``ValueError`` naming ``name`` if it is not real."""
    if is_traced(value):
        return jnp.asarray(value, dtype=jnp.float64)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    return jax.device_put(array)  # jnp.asarray would compile a program per shape


def _describe(name: str, array: np.ndarray, bad: np.ndarray) -> str:
    """``name = value`` for a scalar, ``name[i, j] = value`` for the first bad element."""
    if array.ndim == 0:
        return f"{name} = {array.item()!r}"
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = ", ".join(map(str, index))
    return f"{name}[{where}] = {array[index].item()!r}"


def check(name: str, value: jax.Array, bad, requirement: str) -> jax.Array:
    """Raise (concrete) or guard (traced) when ``bad`` holds anywhere in ``value``.

    ``bad`` is an array of the broadcast shape of ``value``, or a function ``bad(xp, value)``
    of the array module and the value: evaluated in NumPy where ``value`` is concrete (a check
    then compiles no JAX program: a fresh process pays 20–50 ms for each), in ``jax.numpy``
    where it is traced. The message says ``"<name>[index] = <value>: must be <requirement>"``.
    """
    if callable(bad):
        bad = bad(jnp, value) if is_traced(value) else bad(np, np.asarray(value))
    if is_traced(value, bad):
        return eqx.error_if(value, bad, f"{name} must be {requirement}")
    bad = np.broadcast_to(np.asarray(bad), np.shape(value))
    if bad.any():
        raise ValueError(f"{_describe(name, np.asarray(value), bad)}: must be {requirement}")
    return value


def parameter(name: str, value, *, positive: bool) -> jax.Array:
    """A scalar physical parameter as float64, checked finite and ``> 0`` or ``>= 0``."""
    x = as_float(name, value)
    if not is_traced(x) and x.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {x.shape}")
    if positive:
        return check(name, x, lambda xp, v: ~xp.isfinite(v) | (v <= 0), "finite and > 0")
    return check(name, x, lambda xp, v: ~xp.isfinite(v) | (v < 0), "finite and >= 0")


# The message line inside an Equinox runtime error's text: "equinox.EquinoxRuntimeError: …"
# (eqx.filter_jit, eager calls) or "_EquinoxRuntimeError: …" inside the traceback that a
# JaxRuntimeError ("INTERNAL: CpuCallback error …") carries under jax.jit.
_EQUINOX_CAUSE = re.compile(r"EquinoxRuntimeError: (.+)")


def runtime_cause(error: BaseException) -> str:
    """The one-line cause of ``error``: the message of an Equinox runtime check (``eqx.error_if``,
    a Diffrax solver failure) from the long text of an ``EquinoxRuntimeError`` or of the
    ``JaxRuntimeError`` that wraps it under ``jax.jit``; the first non-empty line of the message
    of any other exception (its type's name if it has none)."""
    text = str(error)
    found = _EQUINOX_CAUSE.search(text)
    if found:
        return found.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
