"""What a grey box shares, whatever it is fitted to (launches in models/, tracks in dynamics/):
the physics with the names of its unknown parameters, their starting values and checks."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics import Projectile
from hybridlab.physics.laws import LAWS, NO_DRAG
from hybridlab.physics.validation import is_traced

#: Every drag coefficient's name: where ``unknown`` is None and a spec names none of its law's,
#: each starts at its guess.
_COEFFICIENTS = tuple({name for law in LAWS.values() for name in law.coefficients})


@jax.jit
def from_log(p0, u):
    """The fitted values p = p₀ eᵘ of a grey box fitted in u = log(p/p₀): in JAX, one program
    (NumPy's exp differs from XLA's in the last bit, which a fit's iterations carry into its
    results)."""
    return p0 * jnp.exp(u)


class FittedPhysics:
    """What a grey box shares, whatever it is fitted to: ``physics`` (a Projectile or its spec,
    the starting values), the names ``unknown`` of its fitted parameters (None: the drag law's
    coefficients, :meth:`unknowns`), their ``values_`` and standard errors ``stderr_``."""

    #: The drag law of the physics when ``physics`` is None, the unknowns that must be named
    #: (at least one?) and the parameters that may not be (a subclass's choice).
    default_law: str
    needs_unknown: bool = True
    never_unknown: tuple[str, ...] = ()

    def start(self) -> Projectile:
        """The Projectile with the starting values: ``physics`` (``{"drag": default_law}`` when
        None), an unknown coefficient it leaves out at its law's starting guess."""
        physics = self._physics()
        if isinstance(physics, Projectile):
            return physics
        if self.unknown is not None:
            return Projectile.from_spec(physics, starting=tuple(self.unknown))
        return Projectile.from_spec(physics, starting=() if _drag_entry(physics)[1] else _COEFFICIENTS)

    def _physics(self):
        """``physics``, or ``{"drag": default_law}`` where it is None."""
        return {"drag": self.default_law} if self.physics is None else self.physics

    def unknowns(self) -> tuple[str, ...]:
        """The names of the fitted parameters: ``unknown``, or where it is None the drag law's
        coefficients that the physics gives a value > 0 (a spec that names none of them: every
        one, from its law's starting guess; a polynomial law's terms left at 0 are absent).
        ValueError where None finds none (no drag): name the parameters to fit."""
        if self.unknown is not None:
            return tuple(self.unknown)
        physics = self._physics()
        # From the spec's plain numbers, not its Projectile: this runs while a load traces the arrays.
        return drag_unknowns(physics) if isinstance(physics, Projectile) else _spec_unknowns(physics)

    def _check_together(self) -> None:
        super()._check_together()
        _check_unknown(self.start(), self.unknowns(), self.needs_unknown, self.never_unknown)

    def fitted(self) -> Projectile:
        """The Projectile with the fitted parameter values."""
        values = self.values_
        if not is_traced(values):  # split in NumPy: iterating a JAX array compiles a program
            values = jax.device_put(list(np.asarray(values)))
        return self.start().replace(self.unknowns(), values)

    def physics_estimates(self) -> dict[str, dict[str, float]]:
        """{name: {"value": estimate, "stderr": standard error}} in SI units."""
        return {name: {"value": float(v), "stderr": float(s)}
                for name, v, s in zip(self.unknowns(), np.asarray(self.values_), self.stderr_)}

    def _set_metadata(self, metadata):
        super()._set_metadata(metadata)
        # JSON has no infinity: an undetermined parameter's stderr is saved as null.
        self.stderr_ = [np.inf if e is None else float(e) for e in self.stderr_]


def drag_unknowns(projectile: Projectile) -> tuple[str, ...]:
    """A grey box's default unknowns: the drag law's coefficients that ``projectile`` gives a
    value > 0 (in the law's order). ValueError where there is none (no drag, or every term 0)."""
    found = tuple(name for name in projectile.drag.coefficients if float(projectile.value(name)) > 0)
    if not found:
        raise ValueError(f"unknown = None: {projectile.label()} has no drag coefficient to fit; name the parameters "
                         "to fit (such as ['g'])")
    return found


def _spec_unknowns(spec) -> tuple[str, ...]:
    """:func:`drag_unknowns` of a spec, read from its plain data: every coefficient of its law
    where its ``"drag"`` names none, else those it gives a value > 0 (an invalid spec gives (),
    and :meth:`FittedPhysics.start` says what is wrong with it)."""
    law, named = _drag_entry(spec)
    if not isinstance(law, str) or law not in LAWS:
        return ()
    found = tuple(name for name in LAWS[law].coefficients if not named or _positive(named.get(name, 0.0)))
    if not found:
        raise ValueError(f"unknown = None: physics ({LAWS[law].title}) has no drag coefficient to fit; name the "
                         "parameters to fit (such as ['g'])")
    return found


def _positive(value) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return True  # not a number: the spec's own check refuses it


def _drag_entry(spec) -> tuple[object, dict]:
    """(the law's name, {coefficient: value} it gives) of a spec's ``"drag"`` (a name, or
    ``{"law": …, "k": …}``), read without checking (:meth:`Projectile.from_spec` checks)."""
    drag = spec.get("drag", NO_DRAG) if isinstance(spec, Mapping) else None
    if isinstance(drag, Mapping):
        return drag.get("law"), {key: value for key, value in drag.items() if key != "law"}
    return drag, {}


def _check_unknown(projectile: Projectile, unknown: tuple[str, ...], required: bool = True,
                   excluded: tuple[str, ...] = ()) -> None:
    """ValueError unless ``unknown`` names distinct parameters of ``projectile`` (at least one
    if ``required``; none of ``excluded``), each with a starting value > 0 (they are fitted in
    log scale)."""
    if required and not unknown:
        raise ValueError("unknown: name at least one parameter to fit")
    if len(set(unknown)) != len(unknown):
        raise ValueError(f"unknown = {unknown}: a parameter is named twice")
    allowed = tuple(name for name in projectile.units() if name not in excluded)
    for name in unknown:
        if name not in allowed:
            raise ValueError(f"unknown parameter {name!r} does not apply to {projectile.label()}; "
                             f"choose from {allowed}")
        value = float(projectile.value(name))
        if not value > 0:
            raise ValueError(f"starting guess {name} = {value:g}: must be > 0 (fitted in log scale)")
