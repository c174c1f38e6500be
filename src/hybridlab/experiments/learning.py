"""The jobs of ``hybridlab learn-drag`` and ``hybridlab drops``: learn a drag law from a
trajectories file, or run the real-drop benchmark against its published results."""

from __future__ import annotations

import os

import numpy as np

from hybridlab.data import (Tracks, benchmark_split, join_tracks, load_drops, read_tracks, renamed, resampled,
                            write_table, write_tracks)
from hybridlab.dynamics import TrajectoryFit, learn_drag
from hybridlab.dynamics.learning import (METHODS, LearnedDrag, choose_law, given_parameters, labelled, law_fit,
                                        scored, split_checked)
from hybridlab.physics import Projectile, QuadraticDrag
from hybridlab.physics.constants import STANDARD_GRAVITY
from hybridlab.physics.laws import term_law
from hybridlab.solvers import inverse
from hybridlab.files import check_new_directory, new_directory, write_json
from hybridlab.forecasting import LSTM, EchoStateNetwork
from hybridlab.report.learning import draw_learned

#: Test MSE (m²) on the benchmark split (drop 1, fitted on t ≤ 2 s, predicted for t > 2 s) of
#: the Symbolic Physics Learner (Sun et al., ICLR 2023) and its cubic polynomial in t, from the
#: outputs of its public notebook (isds-neu/SymbolicPhysicsLearner,
#: physics_task/balldrop_tasks.ipynb), for the nine balls shipped here. Over all eleven balls of
#: the source their medians are 0.41 and 0.51 m².
PUBLISHED = {"baseball": (0.3, 2.798), "blue_basketball": (0.62, 0.513), "green_basketball": (0.088, 0.1),
             "volleyball": (0.111, 0.574), "bowling_ball": (0.413, 0.33), "golf_ball": (0.009, 0.214),
             "tennis_ball": (0.091, 0.246), "whiffle_ball_1": (1.58, 1.903), "yellow_whiffle_ball": (0.428, 17.341)}
PUBLISHED_MEDIANS = {"spl": 0.41, "cubic": 0.51}
#: Points per second of the model's lines in the figures.
_DENSE = 200


def learn_drag_file(path: str, mass: float, out: str, *, diameter: float | None = None, method: str = "auto",
                    train_until: float | None = None, law: str | None = None, fit_g: bool | None = None,
                    g: float = STANDARD_GRAVITY,
                    epochs: int = 1500, seed: int = 0) -> LearnedDrag:
    """:func:`~hybridlab.dynamics.learn_drag` on the tracks in ``path`` (CSV or Parquet); the
    new directory ``out`` receives ``result.json``, the fitted model(s) under ``models/`` and
    the figures ``tracks.png`` (measured vs model) and, where a drag force was fitted or
    learned, ``force.png`` (learned force vs speed, the law over it), drawn from the files
    beside them (:func:`hybridlab.report.learning.draw_learned`): ``tracks.csv`` (the tracks
    read), ``model.csv`` (the model's tracks from each fitted start, the first six) and
    ``force.csv`` (speed, then each force in N). Nothing is written on an error."""
    check_new_directory(out, "out")  # before a fit that may take minutes
    tracks = read_tracks(path)
    learner = learn_drag_pinn if method == "pinn" else learn_drag
    result = learner(tracks, mass, diameter, method, train_until, law, fit_g, g, epochs, seed)
    with new_directory(out) as work:
        write_json(os.path.join(work, "result.json"), result.to_json())
        result.model.save(os.path.join(work, "models", result.model.name))
        if result.network is not None and result.network is not result.model:
            result.network.save(os.path.join(work, "models", result.network.name))
        write_tracks(os.path.join(work, "tracks.csv"), tracks)
        dense = _dense(result.model, tracks)
        if dense.names:  # none where every solve failed: the figure shows the measurements alone
            write_tracks(os.path.join(work, "model.csv"), dense)
        curves = _force_curves(result, tracks)
        if curves:
            write_table(os.path.join(work, "force.csv"), {"speed": curves[0], **curves[1]})
        draw_learned(work)
    return result


def learn_drag_pinn(tracks: Tracks, mass: float, diameter: float | None = None, method: str = "pinn",
                    train_until: float | None = None, law: str | None = None, fit_g: bool | None = None,
                    g: float = STANDARD_GRAVITY, epochs: int = 1500, seed: int = 0) -> LearnedDrag:
    """:func:`~hybridlab.dynamics.learn_drag`'s ``pinn`` method: the parameters of ``law`` (and g
    if ``fit_g``; whichever is None chosen first as ``auto`` chooses it, by
    :func:`~hybridlab.dynamics.learning.choose_law`) by the inverse PINN
    (:func:`hybridlab.solvers.inverse.learn`: ``epochs`` of
    Adam, as many L-BFGS steps) on t ≤ ``train_until``; the errors are those of the exact ODE
    at those parameters, from starting states fitted to the same points (Levenberg–Marquardt
    with the parameters held), so that the held-out part is a forecast of the law, not of the
    path network (which knows nothing beyond its training window)."""
    if method != "pinn":
        raise ValueError(f"method = {method!r}: learn_drag_pinn runs 'pinn'")
    train, test = split_checked(tracks, mass, diameter, train_until, g, given_parameters(law, fit_g))
    (law, fit_g), chosen, scores = choose_law(train, mass, g, law, fit_g)
    # The grey box of the law gives its starting values and the unknowns' names.
    grey = law_fit(law, mass, g, fit_g, train)
    found = inverse.learn(train, Projectile.from_spec(grey.physics), grey.unknown, epochs=epochs, polish=epochs,
                          seed=seed)
    physics = Projectile.from_spec(grey.physics).replace(tuple(found.parameters), list(found.parameters.values()))
    model = TrajectoryFit(physics.to_spec(), unknown=()).fit(train)
    return LearnedDrag("pinn", law, fit_g, model, None, diameter=diameter, estimates=found.parameters,
                       scores=labelled(scores), chosen=chosen, train_until=train_until, **scored(model, train, test))


#: What the benchmark's methods are given (the rest, auto chooses): ``fit`` is the published
#: comparison's grey box, quadratic drag with g fitted; the UDE's law is refitted with g fitted.
DROPS_CHOICES = {"fit": {"law": term_law(QuadraticDrag.coefficients), "fit_g": True}, "ude": {"fit_g": True}}


def drops_benchmark(methods=("fit", "auto"), train_until: float = 2.0, epochs: int = 1500) -> list[dict]:
    """The literature's benchmark on the shipped drops: per ball and method, the test MSE (m²)
    on t > ``train_until`` s of a fit on t ≤ ``train_until`` s of drop 1, the law and the
    parameters with standard errors, beside :data:`PUBLISHED`. The volleyball's mass is not
    known: its coefficients are per kilogram (fitted with m = 1 kg, which leaves the motion the
    same). The data-only forecasters (:data:`FORECASTERS`) learn from every drop 2 and every drop
    1 up to ``train_until``, and continue each drop 1 from there."""
    known = (*METHODS, *FORECASTERS)
    if not methods or set(methods) - set(known):
        raise ValueError(f"methods = {','.join(methods)!r}: must name one or more of {', '.join(known)}, "
                         "comma-separated")
    repeated = sorted({name for name in methods if list(methods).count(name) > 1})
    if repeated:
        raise ValueError(f"methods = {','.join(methods)!r}: names {', '.join(repeated)} more than once")
    if not np.isfinite(train_until):
        raise ValueError(f"train_until = {train_until!r}: must be a finite time (s)")
    drops, balls = load_drops()
    splits = benchmark_split(drops, train_until)
    _check_split(splits, train_until)
    forecasts = {method: _forecast_drops(FORECASTERS[method](), drops, splits) for method in methods
                 if method in FORECASTERS}
    rows = []
    for ball, (train, test) in splits.items():
        whole = drops.select([f"{ball}/1"])
        known = np.isfinite(balls[ball].mass)
        row = {"ball": ball, "mass_known": bool(known), "published": dict(zip(("spl", "cubic"), PUBLISHED.get(ball,
                                                                                                          (None, None))))}
        row["cubic"] = _cubic_mse(train, test)
        for method in (m for m in methods if m in FORECASTERS):
            row[method] = forecasts[method][ball]
        for method in (m for m in methods if m not in FORECASTERS):
            result = learn_drag(whole, balls[ball].mass if known else 1.0,
                                balls[ball].diameter if np.isfinite(balls[ball].diameter) else None, method,
                                train_until, epochs=epochs, **DROPS_CHOICES.get(method, {}))
            row[method] = {"mse_test": result.mse_test, "mse_train": result.mse_train, "law": result.law,
                           "fit_g": result.fit_g, "parameters": result.parameters(),
                           "coverage_test": result.coverage_test, "width_test": result.width_test}
        rows.append(row)
    return rows


def drops_table(rows: list[dict], methods, train_until: float = 2.0) -> str:
    """The benchmark's rows (split at ``train_until`` s) as a text table: test MSE (m²) per
    ball — published (SPL, cubic; at 2 s), the cubic recomputed here, each method — then each
    method's law with g and the drag coefficients ± standard errors; medians last."""
    head = ["ball", "SPL", "cubic", "cubic here", *methods]
    lines = [head]
    for row in rows:
        published = row["published"]
        cells = [row["ball"], _number(published["spl"]), _number(published["cubic"]), _number(row["cubic"])]
        lines.append(cells + [_number(row[m]["mse_test"]) for m in methods])
    medians = ["median", f"{PUBLISHED_MEDIANS['spl']:.3g} (11 balls)", f"{PUBLISHED_MEDIANS['cubic']:.3g} (11 balls)"]
    medians.append(_number(np.median([row["cubic"] for row in rows])))
    lines.append(medians + [_number(np.median([row[m]["mse_test"] for row in rows])) for m in methods])
    nine = ["median, these 9", *(_number(np.median([row["published"][k] for row in rows])) for k in ("spl", "cubic")),
            "", *([""] * len(methods))]
    lines.append(nine)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [f"test MSE (m²), drop 1: fitted on t <= {train_until:g} s, predicted after (published: at 2 s)"]
    text += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    forecasters = [method for method in methods if method in FORECASTERS]
    if forecasters:
        text.append(f"({', '.join(forecasters)}: data only, trained on every drop 2, whole, and each drop 1 up to "
                    f"{train_until:g} s; scored on the part forecast, as far as each was checked)")
    for method in methods:
        text.append(f"\n{method}: law and parameters ± standard errors (SI; * per kg, mass unknown)")
        for row in rows:
            result = row[method]
            entries = [f"{name} = {e['value']:.4g}" + ("" if e["stderr"] is None else f" ± {e['stderr']:.2g}")
                       for name, e in result["parameters"].items() if name not in ("h0", "v0")]
            star = "" if row["mass_known"] else "*"
            law = result["law"] + (", g fitted" if result["fit_g"] else "")
            span = f" to {train_until + result['horizon_s']:.3g} s" if "horizon_s" in result else ""
            covers = f"90 % interval covers {result['coverage_test']:.0%} of t > {train_until:g} s{span}"
            text.append(f"  {row['ball']}{star}: " + "; ".join([law, *entries, covers]))  # a law may fit nothing
    return "\n".join(text)


#: The data-only forecasters the benchmark can run beside the fits (``hybridlab drops --methods``).
FORECASTERS = {"esn": lambda: EchoStateNetwork(), "lstm": lambda: LSTM()}


def _forecast_drops(model, drops: Tracks, splits: dict) -> dict[str, dict]:
    """{ball: row entry} of a forecaster fitted on every drop 2 and each drop 1's part up to the
    split, then run free from there. The drops are resampled onto a grid of their median step
    (a few frames are a half or one and a half steps apart); the forecast, linearly interpolated
    in time, is scored at the measured heights after the split: the test MSE (m²), the 90 %
    interval's coverage and mean width. A ball whose test part runs past the horizon checked is
    scored on the part forecast (``horizon_s`` says how far)."""
    step = float(np.median(np.diff(drops.t)[np.diff(drops.track) == 0]))
    observed = resampled(join_tracks(*(train for train, _ in splits.values())), step)
    others = drops.select([name for name in drops.names if not name.endswith("/1")])
    model.fit(join_tracks(renamed(resampled(others, step), "other/"), observed))
    out = {}
    for ball, (train, test) in splits.items():
        start = resampled(train, step)
        last = start.t.max()
        horizon = int(min(np.ceil((test.t.max() - last) / step - 1e-9), model.horizon_))
        # From the last resampled point (known: no width) to the forecast's last step.
        times, anchor = last + step * np.arange(horizon + 1), start.position[-1, 0]
        low, high = (np.interp(test.t, times, np.r_[anchor, bound[0, :, 0]], right=np.nan)
                     for bound in model.predict_interval(start, horizon, 0.9))
        predicted = np.interp(test.t, times, np.r_[anchor, model.predict(start, horizon)[0, :, 0]], right=np.nan)
        truth, scored_rows = test.position[:, 0], np.isfinite(predicted)
        out[ball] = {"mse_test": float(np.mean((predicted - truth)[scored_rows] ** 2)), "mse_train": None,
                     "law": f"{model.name} (data only)", "fit_g": False, "parameters": {},
                     "coverage_test": float(np.mean(((low <= truth) & (truth <= high))[scored_rows])),
                     "width_test": float(np.mean((high - low)[scored_rows])), "horizon_s": horizon * step}
    return out


def _check_split(splits: dict[str, tuple[Tracks, Tracks | None]], train_until: float) -> None:
    """A ValueError unless every ball's drop keeps, at ``train_until`` s, 4 points or more before
    (the cubic baseline's coefficients; each method checks its own needs) and one after it."""
    before = {ball: len(train.t) for ball, (train, _) in splits.items()}
    ball = min(before, key=before.get)
    if before[ball] < 4:
        raise ValueError(f"train_until = {train_until:g} s leaves {before[ball]} points of the {ball} drop before it: "
                         "the cubic baseline needs 4 or more")
    ended = [ball for ball, (_, test) in splits.items() if test is None]
    if ended:
        ends = [(train if test is None else test).t.max() for train, test in splits.values()]
        which = "every drop" if len(ended) == len(splits) else f"the {ended[0]} drop"
        raise ValueError(f"train_until = {train_until:g} s is at or after the end of {which}, which leaves nothing "
                         f"held out to predict: the drops end at {min(ends):g} to {max(ends):g} s, so it must be "
                         f"less than {min(ends):g} s")


def _number(value) -> str:
    return "-" if value is None else f"{value:.3g}"


def _cubic_mse(train: Tracks, test: Tracks) -> float:
    """Test MSE (m²) of a least-squares cubic in t fitted on ``train`` — the published
    baseline, recomputed as a check that the split is the same."""
    coefficients = np.polynomial.polynomial.polyfit(train.t, train.position[:, 0], 3)
    return float(np.mean((np.polynomial.polynomial.polyval(test.t, coefficients) - test.position[:, 0]) ** 2))


def _dense(model, tracks: Tracks) -> Tracks:
    """The tracks of ``model`` from each track's fitted start to its last time, at
    :data:`_DENSE` points a second (the first six tracks: a figure of more is unreadable); the
    times where its solve gave no finite state (it ran out of steps) are left out."""
    times, positions, names = [], [], []
    for i, name in enumerate(model.tracks_[:6]):
        t = np.linspace(model.t0_[i], tracks.t[tracks.rows(name)].max(),
                        max(2, int(_DENSE * (tracks.t[tracks.rows(name)].max() - model.t0_[i]))))
        position = np.asarray(model.simulate(np.asarray(model.starts_)[i], t))[:, :tracks.dim]
        finite = np.all(np.isfinite(position), axis=1)
        if finite.any():
            times.append(t[finite])
            positions.append(position[finite])
            names.append(name)
    index = np.concatenate([np.full(len(t), i) for i, t in enumerate(times)]) if times else np.zeros(0, int)
    return Tracks(tracks.kind, tuple(names), index, np.concatenate(times) if times else np.zeros(0),
                  np.concatenate(positions) if positions else np.zeros((0, tracks.dim)))


def _force_curves(result: LearnedDrag, tracks: Tracks):
    """(speeds, {label: |F|}) for the force figure: the UDE's learned force and the law read
    from it, or the fitted law alone; None for a neural ODE (it has no force of its own)."""
    if result.law == "black-box":
        return None
    states = result.model.states(tracks.select(result.model.tracks_))
    top = float(np.max(np.linalg.norm(states[:, tracks.dim:], axis=1))) * 1.1 or 1.0
    speed = np.linspace(0.0, top, 200)
    curves = {}
    if result.network is not None:
        curves["learned (UDE network)"] = result.network.force(speed)
    curves[f"law: {result.law}"] = result.model.force(speed)
    return speed, curves


__all__ = ["PUBLISHED", "PUBLISHED_MEDIANS", "drops_benchmark", "drops_table", "learn_drag_file"]
