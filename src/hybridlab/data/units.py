"""The one place that converts between the library's units and a person's: inside the library
an angle is in radians; in a file, on the command line and in what a person reads, in degrees.
Every other quantity is SI in both places (speed m/s, distance and height m). A test
(``tests/test_architecture.py``) checks that no other module converts an angle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def from_degrees(angle: ArrayLike) -> np.ndarray | np.float64:
    """θ = θ° · π/180: an angle (or array of them) in degrees as float64 radians (a NumPy
    scalar for a scalar, bit for bit ``math.radians``). ValueError for what is not numbers."""
    return np.deg2rad(_numbers(angle, "degrees"))


def to_degrees(angle: ArrayLike) -> np.ndarray | np.float64:
    """θ° = θ · 180/π: an angle (or array of them) in radians as float64 degrees (a NumPy
    scalar for a scalar, bit for bit ``math.degrees``). ValueError for what is not numbers."""
    return np.rad2deg(_numbers(angle, "radians"))


def _numbers(angle: ArrayLike, unit: str) -> np.ndarray:
    """``angle`` as float64, refusing text, None and booleans (NumPy would make them NaN or 1)."""
    array = np.asarray(angle)
    if array.dtype.kind not in "fiu":
        raise ValueError(f"angle = {angle!r}: must be a number (or numbers) in {unit}")
    return array.astype(np.float64)


def to_file_units(columns: Mapping[str, ArrayLike]) -> dict[str, ArrayLike]:
    """The columns as a file holds them: a copy with ``angle`` (if any) in degrees, θ° = θ · 180/π.

    Parameters
    ----------
    columns : mapping of str to array_like
        Columns in the library's units (``angle`` in rad).

    Returns
    -------
    columns : dict of str to array_like
        A new dict: ``angle`` as float64 degrees, every other column as given (the same objects).
    """
    return _angle_converted(columns, to_degrees)


def from_file_units(columns: Mapping[str, ArrayLike]) -> dict[str, ArrayLike]:
    """The columns as the library uses them: a copy with ``angle`` (if any) in radians, θ = θ° · π/180.

    Parameters
    ----------
    columns : mapping of str to array_like
        Columns in a file's units (``angle`` in degrees).

    Returns
    -------
    columns : dict of str to array_like
        A new dict: ``angle`` as float64 radians, every other column as given (the same objects).
    """
    return _angle_converted(columns, from_degrees)


def _angle_converted(columns: Mapping[str, ArrayLike], convert) -> dict[str, ArrayLike]:
    """A copy of ``columns`` with ``angle`` (if any) converted."""
    columns = dict(columns)
    if "angle" in columns:
        columns["angle"] = convert(columns["angle"])
    return columns


def in_file_units(result: Any) -> Any:
    """A result for a person: a copy of nested dicts and lists in which every value under a key
    ``angle`` (radians) is in degrees, as :func:`to_file_units` gives a file's columns; a
    scalar stays a scalar (a float), everything else is as given."""
    if isinstance(result, Mapping):
        converted = {key: in_file_units(value) for key, value in result.items()}
        if "angle" in converted and converted["angle"] is not None:
            degrees = to_degrees(converted["angle"])
            converted["angle"] = float(degrees) if np.ndim(degrees) == 0 else degrees.tolist()
        return converted
    if isinstance(result, list | tuple):
        return type(result)(in_file_units(value) for value in result)
    return result
