"""Reading a drag law back out of a learned drag: sparse regression over candidate terms, then a
grey-box refit with standard errors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.stats

from hybridlab.data import Tracks
from hybridlab.dynamics.trajectory_fit import TrajectoryFit
from hybridlab.sparse import stlsq
from hybridlab.physics import DRAG_LAWS, PolynomialDrag, Projectile
from hybridlab.physics.laws import term_law

#: The candidate terms of the drag force's magnitude F(|v|), by name: the power of |v| and the
#: coefficient of :class:`hybridlab.physics.PolynomialDrag` that multiplies it.
TERMS = {word: (power, name) for name, (word, power) in PolynomialDrag.terms.items()}


@dataclass(frozen=True)
class Discovery:
    """A drag law read from a learned force: ``law`` names the kept terms (``"none"``,
    ``"quadratic"``, ``"linear+quadratic"`` …), ``terms`` their refitted coefficients
    (SI: N·(s/m)^power), ``fit`` the law refitted on the tracks (its ``physics_estimates()``
    give each coefficient with its standard error), ``speeds`` (m/s) the speeds at which the
    learned force was read.

    Attributes
    ----------
    law : str
        The kept terms joined by ``+`` (``"constant"``, ``"linear"``, ``"quadratic"``, ``"cubic"``), or ``"none"``.
    terms : dict of str to float
        Each kept term's refitted coefficient: ``"constant"`` in N, ``"linear"`` in kg/s, ``"quadratic"`` in
        kg/m, ``"cubic"`` in kg·s/m².
    fit : TrajectoryFit
        The law (a ``PolynomialDrag`` of the kept terms) refitted on the tracks.
    speeds : tuple of float
        (slowest, fastest) speed in m/s at which the learned force was read.
    """

    law: str
    terms: dict[str, float]
    fit: TrajectoryFit
    speeds: tuple[float, float]

    def parameters(self) -> dict[str, dict[str, float]]:
        """{name as in hybridlab.physics: {"value", "stderr"}} of the refitted law.

        Returns
        -------
        parameters : dict of str to dict
            Each parameter the refit left unknown (the kept terms' coefficients ``b`` N, ``k`` kg/s, ``c`` kg/m,
            ``d`` kg·s/m², and those of ``refit_unknown``, such as ``g`` m/s²): its value and standard error
            in its SI unit.
        """
        return self.fit.physics_estimates()


def discover_drag(model, tracks: Tracks, threshold: float = 0.05, library=tuple(TERMS), level: float = 0.01,
                  refit_unknown: tuple[str, ...] = ()) -> Discovery:
    """The drag law in ``model``'s force (a fitted :class:`UDE`, or any dynamics model with
    ``states(tracks)``, ``force(speed)`` and ``physics``), refitted on ``tracks`` (those it was
    fitted on): the learned force gives each candidate its start and the sizes tried first, the
    tracks choose.

    1. The force F(|v|) (N) is read at the speeds the fitted tracks pass through, and
       sequentially thresholded least squares (:func:`hybridlab.sparse.stlsq`) fits
       F ≈ Σ ξ_j |v|^{p_j} over the ``library`` terms, every column and F scaled to unit RMS,
       so that ``threshold`` is the smallest share of the force a kept term may carry (a term
       with ξ_j ≤ 0 would push, not drag, and is dropped): it keeps m terms.
    2. Over a narrow range of speeds powers of |v| are nearly collinear, so the learned curve is
       matched about as well by several sets of terms (|v|² by a constant and |v|³): the tracks
       choose. Every set of at most m library terms (no drag included; more, one size at a time,
       only while the tracks reject every smaller set) is refitted on the tracks by
       :class:`TrajectoryFit` from its fit to the learned force (every starting state and
       ``refit_unknown``, such as ``("g",)``, fitted too) and tested against all the library's
       terms together by :func:`nested_f_tests`; the law is the set with the fewest terms not
       rejected at ``level`` (:func:`fewest_adequate`).

    Parameters
    ----------
    model : Dynamics
        A fitted model with ``states(tracks)``, ``force(speed)`` (N at m/s) and ``physics`` (a Projectile, its
        spec or None, giving its mass in kg and g in m/s²), such as a ``UDE``.
    tracks : Tracks
        The tracks the model was fitted on: positions (m) at times (s).
    threshold : float
        STLSQ's threshold: the smallest share of the force a kept term may carry, in (0, 1).
    library : sequence of str
        The candidate terms: any of ``"constant"`` (N), ``"linear"`` (kg/s), ``"quadratic"`` (kg/m),
        ``"cubic"`` (kg·s/m²).
    level : float
        Significance level of the F-tests, in (0, 1).
    refit_unknown : tuple of str
        Other parameters fitted with the law's coefficients, such as ``("g",)``.

    Returns
    -------
    discovery : Discovery
        The law's name, its coefficients (N·(s/m)^power), the refitted ``TrajectoryFit`` and the range of
        speeds (m/s) the force was read at.

    Raises
    ------
    ValueError
        If a library term is unknown, ``threshold`` or ``level`` is not in (0, 1), ``model`` cannot predict
        ``tracks`` (unfitted, or other tracks), or no candidate law can be fitted or every one is rejected.
    """
    unknown = [name for name in library if name not in TERMS]
    if unknown:
        raise ValueError(f"library term {unknown[0]!r} is not one of {tuple(TERMS)}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold = {threshold!r}: must lie in (0, 1)")
    if not 0 < level < 1:
        raise ValueError(f"level = {level!r}: must lie in (0, 1)")
    library = list(library)
    states = model.states(tracks)
    speed = np.linalg.norm(states[:, tracks.dim:], axis=1)
    force = np.asarray(model.force(speed))
    size = len(_sparse_terms(speed, force, library, threshold))
    fits, rss = {}, {}

    def refit(key):
        try:
            fits[key] = _refit(_spec(model.physics), _starts(speed, force, key), refit_unknown, tracks)
            rss[key] = float(np.sum((fits[key].predict(tracks) - tracks.position) ** 2))
        except ValueError:  # a start where the solve fails: that candidate cannot be fitted
            fits[key], rss[key] = None, np.inf

    chosen = _fewest_terms(refit, rss, library, size, level, len(refit_unknown), tracks)
    fit = fits[chosen]
    estimates = fit.physics_estimates()
    terms = {name: estimates[TERMS[name][1]]["value"] for name in chosen}
    return Discovery(term_law(TERMS[name][1] for name in terms), terms, fit, (float(speed.min()), float(speed.max())))


def _fewest_terms(refit, rss: dict, library, size: int, level: float, extra: int, tracks: Tracks) -> tuple:
    """The set of terms :func:`discover_drag` keeps: ``refit(key)`` fits a set into ``rss``;
    all the terms first (the test's reference, with ``extra`` other unknowns and the starting
    states), then the sets of each size from none up — to ``size`` at least, beyond it only
    while the tracks reject every smaller set."""
    refit(tuple(library))
    tests, count = {}, 0
    while count <= len(library):
        for key in itertools.combinations(library, count):
            if key not in rss:
                refit(key)
        tests = nested_f_tests(rss, {key: len(key) + extra for key in rss}, tracks.t.size * tracks.dim,
                               2 * tracks.dim * len(tracks))
        if count >= size and any(p >= level for key, p in tests.items() if len(key) <= count):
            break
        count += 1
    tried = {key: p for key, p in tests.items() if len(key) <= count}
    return fewest_adequate(tried, {key: len(key) for key in tried}, level)


def nested_f_tests(rss: dict, parameters: dict, n: int, common: int = 0) -> dict:
    """{candidate: p-value} of each candidate model M against the one with the most parameters,
    F, which nests every other: q_M = ``parameters[M]`` + ``common`` (parameters all share,
    such as starting states), RSS_M its residual sum of squares over ``n`` numbers (inf: it
    could not be fitted, p = 0); the noise variance σ̂² = RSS_F/(n − q_F) and the p-value of
    F = (RSS_M − RSS_F)/((q_F − q_M) σ̂²) under F(q_F − q_M, n − q_F), the classical test of a
    nested model (p = 1 for F itself). RSS_F is the least RSS of all (F nests them: a lower RSS
    elsewhere is a local minimum F's fit stopped in). All 0 where n ≤ q_F or nothing fitted."""
    full = max(parameters, key=parameters.get)
    q_full = parameters[full] + common
    floor = min(rss.values())
    if not np.isfinite(floor) or n <= q_full:
        return {c: 0.0 for c in rss}
    variance = max(floor, np.finfo(float).tiny) / (n - q_full)
    tests = {}
    for candidate, value in rss.items():
        extra = parameters[full] - parameters[candidate]
        statistic = max(value - floor, 0.0) / (extra * variance) if extra else 0.0
        tests[candidate] = (0.0 if not np.isfinite(value) else
                            1.0 if not extra else float(scipy.stats.f.sf(statistic, extra, n - q_full)))
    return tests


def fewest_adequate(tests: dict, parameters: dict, level: float):
    """The candidate with the fewest ``parameters`` among those whose p-value is at least
    ``level`` (the highest p-value, the least misfit, breaks a tie); ValueError if none could
    be fitted."""
    if not max(tests.values()) > 0:
        raise ValueError("no candidate law could be fitted to the tracks (too few points, or every fit failed); give "
                         "the law and whether g is fitted, or more points")
    adequate = [c for c, p in tests.items() if p >= level]
    if not adequate:
        raise ValueError(f"every candidate law that could be fitted is rejected at the {level:g} level (the fullest's "
                         "fit failed); give the law")
    return min(adequate, key=lambda c: (parameters[c], -tests[c]))


def _refit(physics: dict, terms: dict[str, float], refit_unknown, tracks: Tracks) -> TrajectoryFit:
    return TrajectoryFit(_law_spec(physics, terms),
                         unknown=tuple(TERMS[n][1] for n in terms) + tuple(refit_unknown)).fit(tracks)


def _starts(speed, force, names) -> dict[str, float]:
    """{term: starting coefficient} of the terms ``names``: their non-negative least-squares fit
    (SciPy's NNLS) to the learned ``force``; a term NNLS sets to 0 starts at 1 % of its fit alone."""
    columns = _powers(speed, names)
    values = scipy.optimize.nnls(columns, force)[0] if names else np.zeros(0)
    alone = [max(float(column @ force / (column @ column)), 0.0) for column in columns.T]
    return {name: float(value) if value > 0 else 0.01 * single or 1e-9
            for name, value, single in zip(names, values, alone)}


def _powers(speed, names) -> np.ndarray:
    """(len(speed), len(names)): the library terms |v|^p of ``names`` at each speed."""
    return np.column_stack([speed ** TERMS[name][0] for name in names]) if names else np.zeros((speed.size, 0))


def _sparse_terms(speed, force, library, threshold) -> dict[str, float]:
    """{term: coefficient} of the sparse regression of ``force`` on powers of ``speed``."""
    columns = _powers(speed, library)
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


def _spec(physics) -> dict:
    """A model's ``physics`` (a Projectile, its spec, or None: the defaults) as a spec."""
    if physics is None:
        return {}
    return physics.to_spec() if isinstance(physics, Projectile) else dict(physics)


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
