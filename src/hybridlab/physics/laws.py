"""The built-in drag laws as plain data: each law's name, title and coefficients (unit,
default value, a fit's starting guess; all SI).

Free of JAX, so that the command line prints its help (its ``--drag`` choices and coefficient
options) without importing it. :mod:`hybridlab.physics.drag` gives each law its force and how
its motion is solved, and reads its title and coefficients from here.
"""

from __future__ import annotations

from typing import NamedTuple


class Coefficient(NamedTuple):
    """A drag coefficient's unit, its default value and the starting guess a fit uses when the
    value is unknown (all SI).

    Attributes
    ----------
    unit : str
        The coefficient's SI unit, e.g. ``"kg/s"`` (linear drag's k) or ``"kg/m"`` (quadratic drag's c).
    default : float
        The value a law takes when none is given, in ``unit``.
    start : float
        The starting guess of a fit that leaves the coefficient unknown, in ``unit``.
    """

    unit: str
    default: float
    start: float


class Law(NamedTuple):
    """A drag law's title, its coefficients by name, and the class in
    :mod:`hybridlab.physics.drag` that computes it."""

    title: str
    coefficients: dict[str, Coefficient]
    class_name: str


#: The law of a projectile (and of the command line's ``--drag``) that names none.
NO_DRAG = "none"
#: The built-in laws by the name a spec and the command line's ``--drag`` use.
LAWS: dict[str, Law] = {
    NO_DRAG: Law("no drag", {}, "NoDrag"),
    "linear": Law("linear drag", {"k": Coefficient("kg/s", default=0.45, start=1.0)}, "LinearDrag"),
    "quadratic": Law("quadratic drag", {"c": Coefficient("kg/m", default=9e-4, start=1e-3)}, "QuadraticDrag"),
    "polynomial": Law("polynomial drag", {"b": Coefficient("N", default=0.0, start=1e-2),
                                          "k": Coefficient("kg/s", default=0.0, start=1.0),
                                          "c": Coefficient("kg/m", default=0.0, start=1e-3),
                                          "d": Coefficient("kg s/m^2", default=0.0, start=1e-5)},
                      "PolynomialDrag"),
}

#: The polynomial law's terms: each coefficient's term in words and its power of |v| in the
#: force's magnitude b + k|v| + c|v|² + d|v|³.
TERMS: dict[str, tuple[str, int]] = {"b": ("constant", 0), "k": ("linear", 1), "c": ("quadratic", 2),
                                     "d": ("cubic", 3)}
#: A law named by its terms: polynomial drag with only these terms, their words joined by "+"
#: in the order of :data:`TERMS` ("linear+quadratic": k|v| + c|v|²), or "none" for no term.
NO_TERMS = "none"
#: The laws a fit from tracks names and chooses among (``learn-drag --law``), by their terms.
FITTED_LAWS = (NO_TERMS, "linear", "quadratic", "linear+quadratic")


def term_law(coefficients) -> str:
    """The name of the polynomial law with these coefficients' terms ("k", "c" → "linear+quadratic";
    none → "none"). ValueError naming a coefficient the polynomial law does not have."""
    if isinstance(coefficients, str):
        raise ValueError(f"coefficients = {coefficients!r}: must be a collection of names, such as ('k', 'c')")
    coefficients = set(coefficients)
    for name in coefficients:
        if name not in TERMS:
            raise ValueError(f"coefficient {name!r}: the polynomial law's are {', '.join(TERMS)}")
    return "+".join(word for name, (word, _) in TERMS.items() if name in coefficients) or NO_TERMS


def term_coefficients(law: str) -> tuple[str, ...]:
    """The coefficients of the polynomial law named by its terms, in the order of :data:`TERMS`
    ("linear+quadratic" → ("k", "c"); "none" → ()): the inverse of :func:`term_law`.
    ValueError naming a word that is no term, or a name :func:`term_law` does not write (a term
    twice, or out of order)."""
    if law == NO_TERMS:
        return ()
    words = {word: name for name, (word, _) in TERMS.items()}
    given = law.split("+") if isinstance(law, str) else [law]
    for word in given:
        if word not in words:
            raise ValueError(f"law = {law!r}: {word!r} is not one of the terms {', '.join(words)}")
    coefficients = tuple(name for word, name in words.items() if word in given)
    if term_law(coefficients) != law:
        raise ValueError(f"law = {law!r}: write it {term_law(coefficients)!r} (each term once, in the order "
                         f"{'+'.join(words)})")
    return coefficients
