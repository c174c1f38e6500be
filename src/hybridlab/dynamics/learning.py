"""Learning a drag law from tracks, the whole workflow behind ``hybridlab learn-drag``: a
grey-box fit of a named law, a UDE read back by :func:`discover_drag`, a neural ODE, or ``auto``
— the law, and whether g is fitted, chosen by nested F-tests on the fitted part alone; then the
error on the held-out part."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hybridlab.data import Tracks, split_time
from hybridlab.dynamics.base import Dynamics
from hybridlab.dynamics.discovery import discover_drag, fewest_adequate, nested_f_tests
from hybridlab.dynamics.learned import UDE, NeuralODE
from hybridlab.dynamics.trajectory_fit import TrajectoryFit
from hybridlab.physics import PolynomialDrag, QuadraticDrag
from hybridlab.physics.constants import STANDARD_GRAVITY
from hybridlab.physics.laws import FITTED_LAWS, TERMS, term_coefficients
from hybridlab.uncertainty import intervals

METHODS = ("fit", "ude", "neural-ode", "auto")
#: The laws a fit may name (:data:`hybridlab.physics.laws.FITTED_LAWS`), each the coefficients
#: of :class:`hybridlab.physics.PolynomialDrag` it keeps (k|v| in kg/s, c|v|² in kg/m).
LAWS = {name: term_coefficients(name) for name in FITTED_LAWS}
#: The coefficient (kg/m) that gives the drag coefficient C_d = 2c/(ρA).
(_QUADRATIC,) = QuadraticDrag.coefficients
#: The level of the F-tests by which ``auto`` chooses a law (:func:`choose_law`): a candidate is
#: adequate unless its misfit beyond the fullest candidate's is significant at this level.
LEVEL = 0.01
#: Air density (kg/m³) for the drag coefficient C_d = 2c/(ρA) of a ball of known diameter.
AIR_DENSITY = 1.225
#: The starting drag of a fit, as a share of the weight m·g at the tracks' fastest speed.
_START_SHARE = 0.05


@dataclass(frozen=True)
class LearnedDrag:
    """What :func:`learn_drag` found: ``law`` the kept terms in words (``"black-box"`` for a
    neural ODE), ``fit_g`` whether g was fitted, ``model`` the fitted model whose errors are
    given (a :class:`TrajectoryFit`, or the :class:`NeuralODE`), ``network`` the UDE or neural
    ODE trained (None for ``fit`` and ``auto``), the mean squared position errors (m²) on the
    fitted and held-out parts, and where a law or g was chosen each candidate's p-value
    against the fullest candidate (:func:`nested_tests`), and the coverage and
    width of the model's 90 % predictive interval on the held-out part. ``estimates``: the law's
    parameters {name: value} where a method other than the grey-box fit found them (a PINN,
    which gives no standard errors; ``model`` is then the law at those values, its starting
    states fitted).

    Attributes
    ----------
    method : str
        How it was learned: ``"fit"``, ``"ude"``, ``"neural-ode"``, ``"auto"`` (or ``"pinn"``).
    law : str
        ``"none"``, ``"linear"``, ``"quadratic"``, ``"linear+quadratic"`` (the terms a UDE's force kept, joined
        by ``+``), or ``"black-box"``.
    fit_g : bool
        Whether g (m/s²) was fitted.
    model : Dynamics
        The fitted model whose errors are given: a ``TrajectoryFit`` of the law, or the ``NeuralODE``.
    network : Dynamics or None
        The UDE or neural ODE trained; None for ``fit`` and ``auto``.
    mse_train : float
        Mean squared position error on the fitted part, in m² (per coordinate).
    mse_test : float or None
        The same on the held-out part, in m²; None without one.
    diameter : float or None
        The body's diameter in m, if given (for C_d).
    scores : dict of str to float
        Each candidate's p-value against the fullest candidate, where a law or g was chosen (e.g.
        ``"quadratic, g fitted"``).
    estimates : dict of str to float
        The law's parameters {name: value} (SI) where a method other than the grey-box fit found them.
    coverage_test : float or None
        Share of the held-out coordinates inside the nominal 90 % predictive interval; None without a held-out
        part.
    width_test : float or None
        That interval's mean width in m; None without a held-out part.
    chosen : dict of str to str
        How the law and g were settled: ``{"law": rule, "g": rule}``.
    """

    method: str
    law: str
    fit_g: bool
    model: Dynamics
    network: Dynamics | None
    mse_train: float
    mse_test: float | None
    diameter: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, float] = field(default_factory=dict)
    #: The share of the held-out coordinates inside the model's nominal 90 % predictive
    #: interval, and the interval's mean width (m); None without a held-out part.
    coverage_test: float | None = None
    width_test: float | None = None
    #: How the law and g were settled: {"law": rule, "g": rule}, each "given" or the rule that
    #: chose it (see :func:`choose_law`).
    chosen: dict[str, str] = field(default_factory=dict)
    #: The last time (s) of the fitted part; None where every point was fitted.
    train_until: float | None = None

    def parameters(self) -> dict[str, dict[str, float | None]]:
        """{name: {"value", "stderr"}}: the law's coefficients as in ``hybridlab.physics``
        (k in kg/s, c in kg/m), g (m/s²) where fitted, ``drag_coefficient`` C_d where the
        diameter is known and c was fitted, and each track's starting state (``h0``, ``v0`` for
        a drop; ``x0``, ``y0``, ``vx0``, ``vy0`` for a shot; ``[name]`` after them for several
        tracks). A standard error is None where none was computed, inf where the data cannot
        determine the parameter (JSON: null, as ``hybridlab.files`` writes every non-finite
        value).

        Returns
        -------
        parameters : dict of str to dict
            Each parameter's ``{"value": float, "stderr": float or None}`` in its SI unit: ``k`` (kg/s), ``c``
            (kg/m), ``g`` (m/s²), ``drag_coefficient`` (dimensionless), starting positions (m) and velocities
            (m/s).
        """
        out = {}
        if isinstance(self.model, TrajectoryFit):
            out.update(self.model.physics_estimates())
        out.update({name: {"value": value, "stderr": None} for name, value in self.estimates.items()})
        if _QUADRATIC in out and self.diameter:
            area = math.pi * self.diameter**2 / 4
            out["drag_coefficient"] = {key: None if value is None else 2 * value / (AIR_DENSITY * area)
                                       for key, value in out[_QUADRATIC].items()}
        out.update(_start_parameters(self.model))
        return out

    def to_json(self) -> dict:
        """The result as ``learn-drag --json`` prints it.

        Returns
        -------
        result : dict
            ``law``, ``parameters`` (see :meth:`parameters`), ``mse_train`` and ``mse_test`` (m²),
            ``coverage_test``, ``width_test`` (m), ``method``, ``fit_g``, ``chosen_by`` and ``p_values`` (None
            where empty).
        """
        return {"law": self.law, "parameters": self.parameters(), "mse_train": self.mse_train,
                "mse_test": self.mse_test, "coverage_test": self.coverage_test, "width_test": self.width_test,
                "method": self.method, "fit_g": self.fit_g, "chosen_by": self.chosen or None,
                "p_values": self.scores or None, "train_until": self.train_until}


def law_fit(law: str, mass: float, g: float, fit_g: bool, tracks: Tracks) -> TrajectoryFit:
    """The (unfitted) grey box of ``law`` (a key of :data:`LAWS`) for a body of ``mass`` (kg)
    under gravity ``g`` (m/s², fitted if ``fit_g``): every law is a
    :class:`~hybridlab.physics.PolynomialDrag`, so that all of them share one compiled fit.
    Each coefficient starts where its term alone would be 5 % of the weight at the tracks'
    fastest speed (finite differences), a scale-free guess."""
    if law not in LAWS:
        raise ValueError(f"law = {law!r}: must be one of {tuple(LAWS)}")
    speed = _fastest(tracks)
    start = {name: _START_SHARE * mass * g / speed ** TERMS[name][1] for name in LAWS[law]}
    physics = {"drag": {"law": PolynomialDrag.name, **start}, "mass": mass, "g": g}
    return TrajectoryFit(physics, unknown=LAWS[law] + (("g",) if fit_g else ()))


def nested_tests(tracks: Tracks, mass: float, g: float, candidates) -> dict[tuple[str, bool], float]:
    """{(law, fit_g): p-value} of each candidate against the fullest one (the most parameters,
    which nests every other) by :func:`nested_f_tests`: each fitted by Levenberg–Marquardt on
    all of ``tracks``, with q_M parameters (the law's coefficients, g where fitted, every
    track's starting state) and its residual sum of squares over the n coordinates. A fit that
    fails scores 0."""
    n = tracks.t.size * tracks.dim
    rss = {}
    for law, fit_g in candidates:
        try:
            check_points(tracks, law_parameters(law, fit_g), None)
            residual = law_fit(law, mass, g, fit_g, tracks).fit(tracks).predict(tracks) - tracks.position
            rss[law, fit_g] = float(np.sum(residual**2))
        except ValueError:
            rss[law, fit_g] = np.inf
    parameters = {candidate: law_parameters(*candidate) for candidate in candidates}
    return nested_f_tests(rss, parameters, n, 2 * tracks.dim * len(tracks))  # the starting states too


def learn_drag(tracks: Tracks, mass: float, diameter: float | None = None, method: str = "auto",
               train_until: float | None = None, law: str | None = None, fit_g: bool | None = None,
               g: float = STANDARD_GRAVITY, epochs: int = 1500, seed: int = 0) -> LearnedDrag:
    """Learn the drag on a body of ``mass`` (kg) from ``tracks``, fitted on t ≤ ``train_until``
    (s; all of it if None) and scored on the rest.

    ``method``: ``fit`` — the grey box of ``law`` (g fitted if ``fit_g``), Levenberg–Marquardt
    through the ODE with free starting states; ``auto`` — the same, with whatever of ``law`` and
    ``fit_g`` is None chosen by :func:`choose_law` (``fit`` chooses it so too: no law is assumed);
    ``ude`` — a :class:`UDE` (``epochs`` of Adam, ``seed``) whose learned force
    :func:`discover_drag` reads back as a law, refitted with g fitted if ``fit_g`` (None: as
    :func:`_discover` chooses); ``neural-ode`` — the black box (no law, g not fitted).
    ``diameter`` (m) adds the drag coefficient C_d to the parameters. ValueError for a ``law``
    or ``fit_g`` the method does not use. The result's ``chosen`` says how each was settled.

    Parameters
    ----------
    tracks : Tracks
        Observed positions (m) at times (s).
    mass : float
        The body's mass in kg, finite and > 0.
    diameter : float, optional
        The body's diameter in m, finite and > 0: adds C_d = 2c/(ρA), ρ = 1.225 kg/m³.
    method : str
        ``"fit"``, ``"ude"``, ``"neural-ode"`` or ``"auto"``.
    train_until : float, optional
        Fit on the points at t ≤ ``train_until`` (s) and score on the rest; None: fit on all.
    law : str, optional
        ``"none"``, ``"linear"``, ``"quadratic"`` or ``"linear+quadratic"`` (``fit``, ``auto``); None: chosen.
    fit_g : bool, optional
        Whether g is fitted; None: chosen.
    g : float
        Gravitational acceleration in m/s² (the start where fitted), finite and > 0.
    epochs : int
        Adam epochs of the UDE or the neural ODE.
    seed : int
        Seed of the UDE or the neural ODE.

    Returns
    -------
    learned : LearnedDrag
        The law, whether g was fitted, the fitted model, the network (``ude``, ``neural-ode``), the mean squared
        position errors (m²) on both parts, the held-out coverage and width (m) of the 90 % interval, the
        candidates' p-values and how the law and g were chosen.

    Raises
    ------
    ValueError
        If ``method`` or ``law`` is unknown, ``law`` or ``fit_g`` is given to a method that does not use it,
        ``mass``, ``diameter``, ``g`` or ``train_until`` is not as above, a track keeps fewer than 2 points to
        fit, the points do not outnumber the parameters, or no candidate law can be fitted.
    """
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: must be one of {METHODS}")
    _check_choices(method, law, fit_g)
    # Every method fits the starting states; the grey box its law's unknowns too (at least none).
    train, test = split_checked(tracks, mass, diameter, train_until, g,
                                given_parameters(law, fit_g) if method == "fit" else 0)
    network, scores = None, {}
    if method == "ude":
        network = UDE({"mass": mass, "g": g}, epochs=epochs, seed=seed).fit(train)
        discovery, fit_g, g_rule = _discover(network, train, g, fit_g)
        model, law, chosen = discovery.fit, discovery.law, {"law": DISCOVERY, "g": g_rule}
    elif method == "neural-ode":
        network = model = NeuralODE({"mass": mass, "g": g}, epochs=epochs, seed=seed).fit(train)
        law, fit_g, chosen = "black-box", False, {"law": "none: the network is the whole vector field",
                                                  "g": "not fitted: the network is the whole vector field"}
    else:
        (law, fit_g), chosen, scores = choose_law(train, mass, g, law, fit_g)
        model = law_fit(law, mass, g, fit_g, train).fit(train)
    return LearnedDrag(method, law, fit_g, model, network, diameter=diameter, scores=labelled(scores), chosen=chosen,
                       train_until=train_until, **scored(model, train, test))


#: How ``choose_law`` chooses, in words (result.json's ``chosen_by``).
NESTED_TESTS = ("nested F-tests on the fitted part: each candidate against the fullest (linear+quadratic, with g "
                "fitted where g is open), the noise estimated from the fullest's residuals; the fewest parameters "
                f"among the candidates not rejected at the {LEVEL:g} level")
#: How the UDE's law is found, in words.
DISCOVERY = ("read back from the UDE's learned force: every set of drag terms, from none up to as many as sparse "
             "regression on the learned force keeps (more only while the tracks reject every smaller set), refitted "
             "on the tracks from the learned force; nested F-tests against all the terms together keep the fewest "
             f"not rejected at the {LEVEL:g} level")
#: A fitted g this many standard errors from the given one is kept fitted (a Wald test at about 95 %).
G_SIGNIFICANCE = 2.0


def choose_law(tracks: Tracks, mass: float, g: float, law: str | None = None, fit_g: bool | None = None):
    """((law, fit_g), {"law": rule, "g": rule}, p-values): ``law`` and ``fit_g`` as given, or where
    None chosen among :data:`LAWS` (and g fitted or not) by :func:`nested_tests`: the candidate
    with the fewest parameters whose p-value is at least :data:`LEVEL` (the least misfit breaks
    a tie). The p-values are empty when nothing was chosen."""
    if law is not None and fit_g is not None:
        return (law, fit_g), {"law": "given", "g": "given"}, {}
    candidates = [(name, free) for name in ([law] if law is not None else LAWS)
                  for free in ([fit_g] if fit_g is not None else (False, True))]
    tests = nested_tests(tracks, mass, g, candidates)
    chosen = _choose(tests)
    rules = {"law": "given" if law is not None else NESTED_TESTS,
             "g": "given" if fit_g is not None else NESTED_TESTS}
    return chosen, rules, tests


def given_parameters(law: str | None, fit_g: bool | None) -> int:
    """The law's parameters that a fit will certainly have (:func:`law_parameters`) where the law
    and g are both given; 0 where :func:`choose_law` is still to choose (at least none)."""
    return law_parameters(law, fit_g) if law is not None and fit_g is not None else 0


def labelled(scores: dict[tuple[str, bool], float]) -> dict[str, float]:
    """Each candidate's p-value (:func:`nested_tests`) keyed for people: "quadratic",
    "quadratic, g fitted", …"""
    return {f"{name}{', g fitted' if free else ''}": s for (name, free), s in scores.items()}


def _discover(network, tracks: Tracks, g: float, fit_g: bool | None):
    """(discovery, fit_g, rule) for a fitted UDE: its law read back and refitted with g fitted
    if ``fit_g``; where None, refitted with g fitted, and kept so only where the fitted g lies
    :data:`G_SIGNIFICANCE` standard errors or more from the given ``g`` (the data tell them apart),
    else refitted with g at ``g``."""
    if fit_g is not None:
        return discover_drag(network, tracks, refit_unknown=("g",) if fit_g else ()), fit_g, "given"
    discovery = discover_drag(network, tracks, refit_unknown=("g",))
    estimate = discovery.fit.physics_estimates()["g"]
    distance = abs(estimate["value"] - g) / estimate["stderr"] if estimate["stderr"] > 0 else np.inf
    rule = (f"fitted g is {distance:.3g} standard errors from the given {g:g} m/s² "
            f"({'at least' if distance >= G_SIGNIFICANCE else 'below'} {G_SIGNIFICANCE:g}: "
            f"{'kept fitted' if distance >= G_SIGNIFICANCE else 'kept at the given value'})")
    if distance >= G_SIGNIFICANCE:
        return discovery, True, rule
    return discover_drag(network, tracks), False, rule


def _check_choices(method: str, law: str | None, fit_g: bool | None) -> None:
    """ValueError for a ``law`` or ``fit_g`` that ``method`` does not use."""
    if law is not None:
        law_parameters(law, False)  # a known law
        if method in ("ude", "neural-ode"):
            raise ValueError(f"law = {law!r}: method {method!r} does not take a law "
                             f"({'it reads one back from its network' if method == 'ude' else 'it has none'}); "
                             "a law applies to fit, auto and pinn")
    if fit_g is not None and method == "neural-ode":
        raise ValueError("fit_g: method 'neural-ode' has no g to fit or keep (its network is the whole vector field)")


def scored(model: Dynamics, train: Tracks, test: Tracks | None) -> dict[str, float | None]:
    """{"mse_train", "mse_test", "coverage_test", "width_test"} of a fitted model: the mean
    squared position errors (m²), and the share of the held-out coordinates inside its nominal
    90 % predictive interval with the interval's mean width (m) — None without a held-out part."""
    out = {"mse_train": model.mse(train), "mse_test": None, "coverage_test": None, "width_test": None}
    if test is not None:
        low, high = model.predict_interval(test, intervals.NOMINAL)
        out["mse_test"] = float(np.mean(((low + high) / 2 - test.position) ** 2))
        out["coverage_test"] = float(np.mean((low <= test.position) & (test.position <= high)))
        out["width_test"] = float(np.mean(high - low))
    return out


def split_checked(tracks: Tracks, mass: float, diameter: float | None, train_until: float | None,
                  g: float, unknowns: int = 0) -> tuple[Tracks, Tracks | None]:
    """(the part fitted, t ≤ ``train_until``; the held-out rest or None), after checking the
    body, g, and that the part fitted can fit ``unknowns`` parameters of a law with every
    track's starting state (:func:`check_points`): a ValueError naming the first bad one."""
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"mass = {mass!r}: must be a finite mass > 0 (kg)")
    if diameter is not None and not (np.isfinite(diameter) and diameter > 0):
        raise ValueError(f"diameter = {diameter!r}: must be a finite diameter > 0 (m)")
    if not (np.isfinite(g) and g > 0):
        raise ValueError(f"g = {g!r}: must be finite and > 0 (m/s²)")
    if train_until is not None and not np.isfinite(train_until):
        raise ValueError(f"train_until = {train_until!r}: must be a finite time (s)")
    train, test = (tracks, None) if train_until is None else split_time(tracks, train_until)
    if len(train) < len(tracks):
        raise ValueError(f"train_until = {train_until:g} s leaves no point of track "
                         f"{next(n for n in tracks.names if n not in train.names)!r} to fit")
    check_points(train, unknowns, train_until)
    return train, test


def law_parameters(law: str, fit_g: bool) -> int:
    """How many parameters the grey box of ``law`` (a key of :data:`LAWS`) fits besides the
    starting states: its coefficients, and g if ``fit_g``."""
    if law not in LAWS:
        raise ValueError(f"law = {law!r}: must be one of {tuple(LAWS)}")
    return len(LAWS[law]) + bool(fit_g)


def check_points(train: Tracks, unknowns: int, train_until: float | None) -> None:
    """A ValueError unless ``train`` (the points t ≤ ``train_until`` s; all if None) can fit
    ``unknowns`` parameters and each track's starting state (2·dim: position and velocity):
    every track needs 2 points, and all together more coordinates n than parameters p, so
    that the noise σ̂² = ‖r‖²/(n − p) and the standard errors are determined."""
    where = "the tracks hold" if train_until is None else f"train_until = {train_until:g} s leaves"
    counts = np.bincount(train.track, minlength=len(train))
    if counts.min() < 2:
        name = train.names[int(np.argmin(counts))]
        raise ValueError(f"{where} 1 point of track {name!r} to fit: its starting position and velocity need 2 "
                         "or more")
    starts = 2 * train.dim * len(train)
    n, p = train.t.size * train.dim, unknowns + starts
    if n <= p:
        of = f"track {train.names[0]!r}" if len(train) == 1 else f"the {len(train)} tracks"
        parts = ([f"{unknowns} of the law and g"] if unknowns else []) + [f"{starts} of the starting states"]
        raise ValueError(f"{where} {n} measured coordinates of {of} to fit {p} parameters ({', '.join(parts)}): "
                         f"it needs {p + 1} or more")


def _choose(tests: dict[tuple[str, bool], float]) -> tuple[str, bool]:
    """The candidate with the fewest fitted parameters among those not rejected at
    :data:`LEVEL` (the highest p-value, the least misfit, breaks a tie)."""
    return fewest_adequate(tests, {c: law_parameters(*c) for c in tests}, LEVEL)


def _fastest(tracks: Tracks) -> float:
    """The fastest speed (m/s) between consecutive points of a track (1 m/s if all rest)."""
    same = tracks.track[1:] == tracks.track[:-1]
    step = np.linalg.norm(np.diff(tracks.position, axis=0), axis=1) / np.diff(tracks.t)
    return float(np.max(step[same], initial=0.0)) or 1.0


def _start_parameters(model: Dynamics) -> dict[str, dict[str, float]]:
    """Each track's fitted starting state, named as :meth:`LearnedDrag.parameters` says."""
    dim = model.n_features_
    names = ("h0", "v0") if dim == 1 else ("x0", "y0", "vx0", "vy0")
    errors = getattr(model, "start_stderr_", None)
    out = {}
    for i, track in enumerate(model.tracks_):
        suffix = f"[{track}]" if len(model.tracks_) > 1 else ""
        for j, name in enumerate(names):
            stderr = errors[i][j] if errors is not None else None
            out[name + suffix] = {"value": float(np.asarray(model.starts_)[i, j]), "stderr": stderr}
    return out


__all__ = ["LAWS", "LEVEL", "METHODS", "LearnedDrag", "check_points", "nested_tests", "law_fit", "learn_drag",
           "law_parameters", "scored", "split_checked"]
