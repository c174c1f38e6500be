"""What a grey box shares, whatever it is fitted to (launches in models/, tracks in dynamics/):
the physics with the names of its unknown parameters, their starting values and checks."""

from __future__ import annotations

import numpy as np

from hybridlab.physics import Projectile
from hybridlab.physics.laws import LAWS

#: Every drag coefficient's name: where ``unknown`` is None each of the law's starts at its guess.
_COEFFICIENTS = tuple({name for law in LAWS.values() for name in law.coefficients})


class FittedPhysics:
    """What a grey box shares, whatever it is fitted to: ``physics`` (a Projectile or its spec,
    the starting values), the names ``unknown`` of its fitted parameters (None: every
    coefficient of the drag law, :meth:`unknowns`), their ``values_`` and standard errors
    ``stderr_``."""

    #: The drag law of the physics when ``physics`` is None, the unknowns that must be named
    #: (at least one?) and the parameters that may not be (a subclass's choice).
    default_law: str
    needs_unknown: bool = True
    never_unknown: tuple[str, ...] = ()

    def start(self) -> Projectile:
        """The Projectile with the starting values: ``physics`` (``{"drag": default_law}`` when
        None), an unknown coefficient it leaves out at its law's starting guess."""
        physics = {"drag": self.default_law} if self.physics is None else self.physics
        if isinstance(physics, Projectile):
            return physics
        return Projectile.from_spec(physics, starting=_COEFFICIENTS if self.unknown is None else tuple(self.unknown))

    def unknowns(self) -> tuple[str, ...]:
        """The names of the fitted parameters: ``unknown``, or where it is None every
        coefficient of the physics' drag law (in the law's order)."""
        return tuple(self.start().drag.coefficients) if self.unknown is None else tuple(self.unknown)

    def _check_together(self) -> None:
        super()._check_together()
        _check_unknown(self.start(), self.unknowns(), self.needs_unknown, self.never_unknown)

    def fitted(self) -> Projectile:
        """The Projectile with the fitted parameter values."""
        return self.start().replace(self.unknowns(), self.values_)

    def physics_estimates(self) -> dict[str, dict[str, float]]:
        """{name: {"value": estimate, "stderr": standard error}} in SI units."""
        return {name: {"value": float(v), "stderr": float(s)}
                for name, v, s in zip(self.unknowns(), np.asarray(self.values_), self.stderr_)}

    def _set_metadata(self, metadata):
        super()._set_metadata(metadata)
        # JSON has no infinity: an undetermined parameter's stderr is saved as null.
        self.stderr_ = [np.inf if e is None else float(e) for e in self.stderr_]


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
