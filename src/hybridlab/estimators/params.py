"""Declared hyperparameter constraints: each estimator class lists, in ``constraints``, what
every argument of its ``__init__`` may be; :meth:`~hybridlab.estimators.Estimator.check_params`
checks them all in one place (on construction, in ``set_params`` and at the start of ``fit``),
so that the same rule gives the same answer, and the same words, wherever it applies.

A constraint is a callable ``rule(name, value)`` that returns nothing and raises a ValueError
naming the parameter and its value when the value breaks it. Values are stored untouched:
a rule checks, it never converts (``epochs=100.0`` is refused, not rounded).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def _refuse(name: str, value: Any, what: str) -> None:
    shown = repr(value)
    raise ValueError(f"{name} = {shown if len(shown) <= 60 else shown[:57] + '...'}: must be {what}")


def is_integer(value) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), booleans excluded."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """Whether ``value`` is a real number (an integer or a float), booleans excluded."""
    return is_integer(value) or isinstance(value, (float, np.floating))


@dataclass(frozen=True)
class Integer:
    """An integer in [low, high] (high None: no upper bound)."""

    low: int | None = None
    high: int | None = None
    what: str | None = None  # the words, where a class has its own

    def __call__(self, name: str, value) -> None:
        if not (is_integer(value) and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high)):
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        if self.what is not None:
            return self.what
        if self.high is not None:
            return f"an integer in [{self.low}, {self.high}]"
        return "an integer" if self.low is None else f"an integer >= {self.low}"


@dataclass(frozen=True)
class Real:
    """A finite real number above ``low`` (inclusive unless ``open``) and below ``high``
    (exclusive unless ``high_in``; None: no bound)."""

    low: float | None = None
    high: float | None = None
    open: bool = False
    high_in: bool = False  # whether ``high`` itself is allowed

    def __call__(self, name: str, value) -> None:
        try:
            fine = is_real(value) and math.isfinite(value)
        except OverflowError:  # an integer beyond float64's range
            fine = False
        if fine and self.low is not None:
            fine = value > self.low if self.open else value >= self.low
        if fine and self.high is not None:
            fine = value <= self.high if self.high_in else value < self.high
        if not fine:
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"finite and in {'(' if self.open else '['}{self.low:g}, {self.high:g}{']' if self.high_in else ')'}"
        if self.low is not None:
            return f"finite and {'>' if self.open else '>='} {self.low:g}"
        return "finite"


@dataclass(frozen=True)
class OneOf:
    """One of the given values (strings, usually: the choices a registry offers)."""

    choices: tuple

    def __call__(self, name: str, value) -> None:
        if not any(type(value) is type(choice) and value == choice for choice in self.choices):
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        return f"one of {self.choices}"


@dataclass(frozen=True)
class Boolean:
    """True or False."""

    def __call__(self, name: str, value) -> None:
        if not isinstance(value, (bool, np.bool_)):
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Optional:
    """None, or what ``rule`` accepts."""

    rule: Callable[[str, Any], None]

    def __call__(self, name: str, value) -> None:
        if value is None:
            return
        try:
            self.rule(name, value)
        except ValueError:
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        return f"{self.rule.describe()} or None"


@dataclass(frozen=True)
class Items:
    """A list or tuple of ``least`` or more items, each what ``rule`` accepts (``length``: exactly
    that many)."""

    rule: Callable[[str, Any], None]
    least: int = 1
    length: int | None = None

    def __call__(self, name: str, value) -> None:
        count = f"exactly {self.length}" if self.length is not None else f"{self.least} or more"
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) \
                or len(value) < self.least or (self.length is not None and len(value) != self.length):
            _refuse(name, value, f"a list of {count} items, each {self.rule.describe()}")
        for item in value:
            try:
                self.rule(name, item)
            except ValueError:
                _refuse(name, value, f"a list of {count} items, each {self.rule.describe()}")

    def describe(self) -> str:
        return f"a list of {self.least} or more items, each {self.rule.describe()}"


@dataclass(frozen=True)
class Span:
    """A pair (lo, hi) of finite numbers with ``low`` <= lo < hi <= ``high``."""

    low: float = -math.inf
    high: float = math.inf

    def __call__(self, name: str, value) -> None:
        Items(Real(), length=2)(name, value)
        lo, hi = value
        if not self.low <= lo < hi <= self.high:
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        return f"a pair (lo, hi) with {self.low:g} <= lo < hi <= {self.high:g}"


@dataclass(frozen=True)
class Text:
    """A string (non-empty unless ``empty``)."""

    empty: bool = False

    def __call__(self, name: str, value) -> None:
        if not isinstance(value, str) or not (value or self.empty):
            _refuse(name, value, self.describe())

    def describe(self) -> str:
        return "a string" if self.empty else "a non-empty string"


@dataclass(frozen=True)
class Check:
    """A rule written as a function ``check(value)`` that raises a ValueError (in its own
    words, without the name) or returns nothing; for the rules no declaration says."""

    check: Callable[[Any], None]
    what: str

    def __call__(self, name: str, value) -> None:
        try:
            self.check(value)
        except (ValueError, TypeError, KeyError) as error:
            shown = repr(value)
            raise ValueError(f"{name} = {shown if len(shown) <= 60 else shown[:57] + '...'}: {error}") from None

    def describe(self) -> str:
        return self.what


#: What most networks' hyperparameters are, by name: one declaration for every class.
SEED = Integer(0, 2**63 - 1)  # what NumPy's and JAX's generators take
EPOCHS = Integer(1)
STEPS = Integer(0)
RATE = Real(0.0, open=True)
TOLERANCE = Real(0.0, 1.0, open=True)
WIDTHS = Items(Integer(1))
BATCH_SIZE = Optional(Integer(1))
NAMES = Items(Text())
#: Names, possibly none (a fit of the starting states alone).
NAMES_OR_NONE = Items(Text(), least=0)
#: A grey box's unknowns: names, possibly none, or None (every coefficient of its drag law).
UNKNOWN = Optional(NAMES_OR_NONE)


def _physics(value) -> None:
    """A Projectile, a spec of one (a dict, checked when the model builds it), or None."""
    if value is not None and not isinstance(value, dict) and not hasattr(value, "to_spec"):
        raise ValueError("must be a Projectile, its spec (a dict) or None")


PHYSICS = Check(_physics, "a Projectile, its spec or None")
