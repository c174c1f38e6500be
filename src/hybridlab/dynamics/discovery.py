"""Reading a drag law back out of a learned drag: sparse regression over candidate terms, then a
grey-box refit with standard errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridlab.data import Tracks
from hybridlab.dynamics.trajectory_fit import TrajectoryFit
from hybridlab.models.basis import stlsq
from hybridlab.physics import DRAG_LAWS, PolynomialDrag

#: The candidate terms of the drag force's magnitude F(|v|), by name: the power of |v| and the
#: coefficient of :class:`hybridlab.physics.PolynomialDrag` that multiplies it.
TERMS = {word: (power, name) for name, (word, power) in PolynomialDrag.terms.items()}


@dataclass(frozen=True)
class Discovery:
    """A drag law read from a learned force: ``law`` names the kept terms (``"none"``,
    ``"quadratic"``, ``"linear+quadratic"`` …), ``terms`` their refitted coefficients
    (SI: N·(s/m)^power), ``fit`` the law refitted on the tracks (its ``physics_estimates()``
    give each coefficient with its standard error), ``speeds`` (m/s) the speeds at which the
    learned force was read."""

    law: str
    terms: dict[str, float]
    fit: TrajectoryFit
    speeds: tuple[float, float]

    def parameters(self) -> dict[str, dict[str, float]]:
        """{name as in hybridlab.physics: {"value", "stderr"}} of the refitted law."""
        return self.fit.physics_estimates()


def discover_drag(model, tracks: Tracks, threshold: float = 0.05, library=tuple(TERMS), significance: float = 2.0,
                  refit_unknown: tuple[str, ...] = ()) -> Discovery:
    """The drag law in ``model``'s force (a fitted :class:`UDE`, or any dynamics model with
    ``states(tracks)``, ``force(speed)`` and ``physics``), refitted on ``tracks`` (those it was
    fitted on).

    1. The force F(|v|) (N) is read at the speeds the fitted tracks pass through, and
       sequentially thresholded least squares (:func:`hybridlab.models.basis.stlsq`) fits
       F ≈ Σ ξ_j |v|^{p_j} over the ``library`` terms, every column and F scaled to unit RMS,
       so that ``threshold`` is the smallest share of the force a kept term may carry; a term
       with ξ_j ≤ 0 would push, not drag, and is dropped.
    2. The kept terms become a drag law — ``linear`` (k) or ``quadratic`` (c) alone, else
       :class:`~hybridlab.physics.PolynomialDrag` — refitted by :class:`TrajectoryFit` from the
       regression's coefficients, with every starting state and ``refit_unknown`` (such as
       ``("g",)``).
    3. While a kept term's estimate is within ``significance`` standard errors of 0 (the data
       cannot tell it from no term), the least significant is dropped and the law refitted
       (backward elimination): collinear powers of |v| over a narrow range of speeds let a
       learned curve spread over several terms that the trajectories do not need.
    """
    unknown = [name for name in library if name not in TERMS]
    if unknown:
        raise ValueError(f"library term {unknown[0]!r} is not one of {tuple(TERMS)}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold = {threshold!r}: must lie in (0, 1)")
    library = list(library)
    states = model.states(tracks)
    speed = np.linalg.norm(states[:, tracks.dim:], axis=1)
    terms = _sparse_terms(speed, model.force(speed), library, threshold)
    while True:
        fit = TrajectoryFit(_law_spec(model.physics, terms),
                            unknown=tuple(TERMS[n][1] for n in terms) + tuple(refit_unknown)).fit(tracks)
        estimates = fit.physics_estimates()
        ratio = {name: estimates[TERMS[name][1]]["value"] / estimates[TERMS[name][1]]["stderr"] for name in terms}
        weakest = min(ratio, key=ratio.get, default=None)
        if weakest is None or ratio[weakest] >= significance:
            break
        terms = {name: estimates[TERMS[name][1]]["value"] for name in terms if name != weakest}
    terms = {name: estimates[TERMS[name][1]]["value"] for name in terms}
    return Discovery("+".join(terms) or "none", terms, fit, (float(speed.min()), float(speed.max())))


def _sparse_terms(speed, force, library, threshold) -> dict[str, float]:
    """{term: coefficient} of the sparse regression of ``force`` on powers of ``speed``."""
    columns = np.column_stack([speed ** TERMS[name][0] for name in library])
    scale, size = np.sqrt(np.mean(columns**2, axis=0)), np.sqrt(np.mean(force**2)) or 1.0
    xi = stlsq(columns / scale, force / size, threshold)
    active, values = xi > 0, np.zeros(0)
    while active.any():
        values = np.linalg.lstsq(columns[:, active] / scale[active], force / size, rcond=None)[0]
        if np.all(values > 0):
            break
        active[np.flatnonzero(active)[values <= 0]] = False
    kept = [name for name, a in zip(library, active) if a]
    return {name: float(v) for name, v in zip(kept, values * size / scale[active])} if kept else {}


def _law_spec(physics: dict, terms: dict[str, float]) -> dict:
    """The projectile spec ``physics`` with the law of the kept ``terms`` (their coefficients
    as starting values)."""
    spec = dict(physics)
    coefficients = {TERMS[name][1]: value for name, value in terms.items()}
    # A law of its own where one has exactly these coefficients (linear: k, quadratic: c; none:
    # no coefficient), else the polynomial law.
    law = next((law for law in DRAG_LAWS.values() if set(law.coefficients) == set(coefficients)), PolynomialDrag)
    spec["drag"] = {"law": law.name, **coefficients}
    return spec
