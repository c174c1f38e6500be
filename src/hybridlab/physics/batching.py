"""Batches that reuse compiled programs: a vectorised solve is compiled once per array shape,
so a batch of n shots (or targets) is solved padded to one of a few sizes, :func:`bucket` (n),
with copies of its first element, and the results are cut back to n. A fresh process that
answers batches of 3, 5 and 7 shots compiles one program, not three (each a few seconds under
an ODE law). Costlier maps (sensitivities, Jacobians) go :func:`in_blocks` of a fixed size."""

from __future__ import annotations

import jax
import numpy as np

from hybridlab.physics.validation import array_module, is_traced

#: Up to this size a batch is padded to the next power of two; beyond it, to the next multiple
#: of an eighth of the power of two below it (at most 1/8 extra work).
_SMALL = 64


def bucket(n: int) -> int:
    """The padded size of a batch of ``n``: n up to 1, the next power of two up to 64, then
    the next multiple of 2^(k−3) for 2^k < n ≤ 2^(k+1) (104 for 100, 832 for 800)."""
    if n <= 1:
        return n
    power = 1 << (n - 1).bit_length()
    if power <= _SMALL:
        return power
    step = power >> 4
    return -(-n // step) * step


def padded(function, *arrays, shape: tuple[int, ...] | None = None):
    """``function(*arrays)`` for arrays of one shape S (n elements), solved on the arrays
    flattened and padded to :func:`bucket` (n) with copies of their first element; every result
    (a PyTree of arrays whose leading axis is the batch's) cut back to n and shaped ``shape``
    (default S) along that axis. Traced arrays go in as they are (the caller's program is
    compiled for their shape anyway), and ``function`` must then take them as they are."""
    if is_traced(*arrays):
        result = function(*arrays)
        return result if shape is None else jax.tree.map(lambda r: shaped(r, shape), result)
    # Flattened, padded, cut and shaped in NumPy: each JAX reshape or slice of a new shape would
    # compile a program of its own.
    arrays = [np.asarray(a) for a in arrays]
    shape, n = arrays[0].shape if shape is None else shape, arrays[0].size
    flat = [a.reshape(-1) for a in arrays]
    flat = [np.concatenate([a, np.repeat(a[:1], bucket(n) - n)]) for a in flat]
    return jax.tree.map(lambda r: shaped(np.asarray(r)[:n], shape), function(*flat))


def lanes(shape: tuple[int, ...], *arrays) -> list:
    """Each array broadcast to ``shape`` and flattened: in NumPy when all are concrete (a JAX
    operation of a new shape compiles a program of its own), else in the trace."""
    xp = array_module(arrays)
    return [xp.broadcast_to(xp.asarray(a), shape).reshape(-1) for a in arrays]


def shaped(array, shape: tuple[int, ...]):
    """``array`` (n, …) shaped ``shape`` along its leading axis (its other axes kept): a
    concrete one in NumPy, then on the device (a JAX reshape of a new shape compiles a program
    of its own), a traced one in the trace."""
    if is_traced(array):
        return array.reshape(shape + array.shape[1:])
    array = np.asarray(array)
    return jax.device_put(array.reshape(shape + array.shape[1:]))


#: Sensitivities (and other costly compiled maps) are computed in blocks of this many rows
#: (the last padded): one compiled Jacobian per model serves the training set and every set
#: of predictions.
BLOCK = 256


def in_blocks(sensitivities, X: np.ndarray) -> np.ndarray:
    """``sensitivities`` (a function of an (BLOCK, d) array) over all rows of X, block by block
    (the last padded with copies of the last row, which are dropped)."""
    count = len(X)
    padded = np.concatenate([X, np.repeat(X[-1:], -count % BLOCK, axis=0)])
    return np.concatenate([np.asarray(sensitivities(block)) for block in np.split(padded, len(padded) // BLOCK)])[:count]
