"""Recovering a wind from a track: the forward map against the Green's function integrated by
SciPy and the closed forms, each solver against an independent statement of its optimum, and
what the issue asks each method to show (least squares blows up; TV wins on a step; Tikhonov
on a smooth gust; the learned regulariser beats no regulariser on held-out problems)."""

import json

import jax
import numpy as np
import pytest
from scipy.integrate import quad

from hybridlab.cli import main
from hybridlab.experiments.gust import aim_conditioning, forward_maps, gust_family, learned_for
from hybridlab.inverse.regularisation import (DEFAULT_RULES, Path, difference, least_squares, regularisation_path,
                                              total_variation)
from hybridlab.inverse.wind import (WindProblem, choose_weight, cross_validation, recover, refine, relative_error,
                                    wind_problem)
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag

BALL = Projectile(LinearDrag(k=0.1), mass=0.43, g=9.81)
BETA = 0.1 / 0.43
SPEED, ANGLE, POINTS, SIGMA, SAMPLES = 25.0, np.deg2rad(45.0), 120, 0.01, 21
FLIGHT = float(BALL.flight_time(SPEED, ANGLE))
T = np.linspace(FLIGHT / POINTS, FLIGHT, POINTS)
STEP = lambda t: np.where(t < 1.7, -2.0, 4.0)  # noqa: E731
SMOOTH = lambda t: 3.0 + 4.0 * np.exp(-(((t - 1.5) / 0.5) ** 2))  # noqa: E731


@pytest.fixture(scope="module")
def maps():
    return forward_maps(BALL, T, SAMPLES)


def _problem(maps, shape, seed=0, **options) -> tuple[WindProblem, np.ndarray]:
    (a, c, b), fine = maps
    fine_grid = np.linspace(0.0, T[-1], fine.shape[1])
    clean = fine @ shape(fine_grid) + c @ (SPEED * np.array([np.cos(ANGLE), np.sin(ANGLE)])) + b
    noisy = clean + SIGMA * np.random.default_rng(seed).standard_normal(clean.shape)
    problem = wind_problem(BALL, T, noisy.reshape(2, -1).T, SAMPLES, maps=(a, c, b), **options)
    return problem, shape(problem.grid)


def test_forward_map_is_the_greens_function(maps):
    """x(t) = u_x (1 − e^{−βt})/β + ∫₀ᵗ (1 − e^{−β(t−s)}) w(s) ds: each column of A is that
    integral of a hat function (SciPy's quad), C the launch terms, b the fall from rest."""
    _, fine = maps
    a, c, b = maps[0]
    grid = np.linspace(0.0, T[-1], fine.shape[1])
    for i in (0, 37, 119):
        for j in (0, 40, 80):
            hat = np.eye(fine.shape[1])[j]
            expected = quad(lambda s: (1 - np.exp(-BETA * (T[i] - s))) * np.interp(s, grid, hat), 0.0, T[i],
                            points=grid[(grid > 0) & (grid < T[i])], limit=400, epsabs=1e-15, epsrel=1e-13)[0]
            assert fine[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-15)
    assert not np.any(fine[POINTS:])  # the heights do not feel a horizontal wind
    shape = (1 - np.exp(-BETA * T)) / BETA
    np.testing.assert_allclose(c[:POINTS, 0], shape, rtol=1e-12)
    np.testing.assert_allclose(c[POINTS:, 1], shape, rtol=1e-12)
    np.testing.assert_allclose(b[POINTS:], -9.81 * (T - shape) / BETA, rtol=1e-10)
    np.testing.assert_allclose(a, fine @ refine(SAMPLES, 4), rtol=0, atol=0)


def test_refine_interpolates_linearly():
    coarse = np.random.default_rng(1).standard_normal(6)
    fine = np.linspace(0.0, 1.0, 21)
    np.testing.assert_allclose(refine(6, 4) @ coarse, np.interp(fine, np.linspace(0, 1, 6), coarse), atol=1e-15)


def test_least_squares_blows_up_and_regularisers_do_not(maps):
    problem, truth = _problem(maps, STEP)
    pa, pd = problem.projected()
    assert relative_error(least_squares(pa, pd), truth) > 2.0
    for method in ("tikhonov", "tv"):
        assert relative_error(recover(problem, method).wind, truth) < 0.35


def test_tv_wins_on_a_step_and_tikhonov_on_a_smooth_gust(maps):
    errors = {}
    for name, shape in (("step", STEP), ("smooth", SMOOTH)):
        problem, truth = _problem(maps, shape, seed=3)
        errors[name] = {m: relative_error(recover(problem, m).wind, truth) for m in ("tikhonov", "tv")}
    assert errors["step"]["tv"] < errors["step"]["tikhonov"]
    assert errors["smooth"]["tikhonov"] < 1.1 * errors["smooth"]["tv"]


def test_tv_solution_meets_its_optimality_conditions(maps):
    """½‖PAw − Pd‖² + λ‖∇w‖₁ is minimal iff PAᵀ(PAw − Pd) = −λ ∇ᵀs with |s| ≤ 1, s = sign(∇w)
    where ∇w ≠ 0 (subgradient); s is solved for independently."""
    problem, _ = _problem(maps, STEP, seed=4)
    pa, pd = problem.projected()
    weight = 1e-3 * np.linalg.norm(pa, 2) ** 2
    wind, jumps_counted = total_variation(pa, pd, weight)
    gradient = pa.T @ (pa @ wind - pd)
    differences = np.diff(np.eye(SAMPLES), axis=0)
    s = np.linalg.lstsq(differences.T, -gradient / weight, rcond=None)[0]
    np.testing.assert_allclose(differences.T @ s, -gradient / weight, atol=1e-6 * np.abs(gradient / weight).max())
    assert np.all(np.abs(s) <= 1 + 1e-3)
    jumps = np.abs(differences @ wind) > 1e-3
    assert jumps.any() and not jumps.all() and jumps.sum() == jumps_counted
    np.testing.assert_allclose(s[jumps], np.sign(differences @ wind)[jumps], atol=1e-3)


def test_tikhonov_path_against_svd_filter_factors(maps):
    """B = I: w_λ = Σ σᵢ/(σᵢ² + λ) (uᵢᵀPd) vᵢ and the hat matrix's trace Σ σᵢ²/(σᵢ² + λ)."""
    problem, _ = _problem(maps, SMOOTH, seed=5)
    pa, pd = problem.projected()
    path = regularisation_path(pa, pd, "tikhonov-identity")
    u, sigma, vt = np.linalg.svd(pa, full_matrices=False)
    for i in (4, 16, 30):
        filters = sigma / (sigma**2 + path.weights[i])
        np.testing.assert_allclose(path.winds[i], vt.T @ (filters * (u.T @ pd)), rtol=1e-8, atol=1e-10)
        assert path.dof_used[i] == pytest.approx(np.sum(sigma**2 / (sigma**2 + path.weights[i])), rel=1e-9)
    gcv = path.residuals**2 / (problem.dof - path.dof_used) ** 2
    assert path.choose("gcv", problem.dof, problem.sigma) == int(np.argmin(gcv))


def test_modified_gcv_against_svd_filter_factors(maps):
    """Modified GCV: the least ‖r‖² / (dof − 2 Σ σᵢ²/(σᵢ² + λ))², ‖r‖ from the filter factors."""
    problem, _ = _problem(maps, SMOOTH, seed=9)
    pa, pd = problem.projected()
    path = regularisation_path(pa, pd, "tikhonov-identity")
    u, sigma, _ = np.linalg.svd(pa, full_matrices=False)
    coefficients = u.T @ pd
    outside = pd @ pd - coefficients @ coefficients  # the part of Pd outside PA's range
    scores = []
    for weight in path.weights:
        kept = weight / (sigma**2 + weight)
        scores.append((outside + np.sum((kept * coefficients) ** 2))
                      / (problem.dof - 2.0 * np.sum(sigma**2 / (sigma**2 + weight))) ** 2)
    assert path.choose("modified-gcv", problem.dof, problem.sigma) == int(np.argmin(scores))
    assert path.choose("quasi", problem.dof, problem.sigma) == int(np.argmin(
        [np.linalg.norm(path.winds[i + 1] - path.winds[i]) for i in range(len(path.weights) - 1)]))


def test_cross_validation_against_refits_with_the_launch_as_unknowns(maps):
    """Each fold refitted as one least-squares problem in (w, u): [A C; √λ' B 0] (w, u) ≈
    [d − b; 0] on the kept times (λ' = 4λ/5), its held-out positions predicted — not projected."""
    problem, _ = _problem(maps, STEP, seed=10)
    weights = np.array([1e-2, 1e-4]) * np.linalg.norm(problem.projected()[0], 2) ** 2
    scores = cross_validation(problem, "tikhonov", weights)
    fold = np.tile(np.arange(POINTS) % 5, 2)
    operator = difference(SAMPLES)
    design = np.hstack([problem.A, problem.C])
    for j, weight in enumerate(weights):
        expected = 0.0
        for k in range(5):
            kept = fold != k
            stacked = np.vstack([design[kept], np.hstack([np.sqrt(0.8 * weight) * operator,
                                                          np.zeros((SAMPLES - 1, 2))])])
            target = np.r_[problem.data[kept] - problem.b[kept], np.zeros(SAMPLES - 1)]
            solution = np.linalg.lstsq(stacked, target, rcond=None)[0]
            expected += np.sum((problem.data[~kept] - problem.b[~kept] - design[~kept] @ solution) ** 2)
        assert scores[j] == pytest.approx(expected, rel=1e-7)
    path = regularisation_path(*problem.projected(), "tikhonov")
    assert choose_weight(problem, "tikhonov", path, "cv") == int(np.argmin(cross_validation(problem, "tikhonov",
                                                                                           path.weights)))


def test_lcurve_corner_of_a_known_curve():
    """(log ‖r‖, log R) = (s, (s − 0.5)²) along s = log λ has its greatest curvature at
    s = 0.5; a flat tail (neither moving, rounding only) is not taken for a corner."""
    s = np.round(np.linspace(2.0, -2.0, 41), 12)
    tail = np.full(6, -2.0)
    weights = np.exp(np.r_[s, -2.1 - 0.1 * np.arange(6)])
    residuals = np.exp(np.r_[s, tail + 1e-13 * np.arange(6)])
    penalties = np.exp(np.r_[(s - 0.5) ** 2, (tail - 0.5) ** 2 - 1e-13 * np.arange(6)])
    path = Path(weights, np.zeros((47, 2)), residuals, penalties, np.ones(47))
    assert path.choose("lcurve", 100, 1.0) == int(np.argmin(np.abs(s - 0.5)))


def test_learned_path_at_its_trained_strength(maps):
    """At λ = σ² the learned path's wind is the regulariser's own estimate (the normal equations,
    solved by JAX) — the path's is LAPACK's stacked least squares."""
    (_, _, _), fine = maps
    problem, _ = _problem(maps, SMOOTH, seed=11)
    learned = learned_for(problem, fine, seed=0, count=20)
    pa, pd = problem.projected()
    path = regularisation_path(pa, pd, "learned", learned=learned, sigma=problem.sigma)
    middle = int(np.argmin(np.abs(np.log(path.weights / problem.sigma**2))))
    assert path.weights[middle] == pytest.approx(problem.sigma**2, rel=1e-12)
    np.testing.assert_allclose(path.winds[middle], np.asarray(learned.estimate(pa, pd, problem.sigma)),
                               rtol=1e-7, atol=1e-9)
    found = recover(problem, "learned", learned)
    assert found.rule == DEFAULT_RULES["learned"] and found.weight in path.weights


def test_discrepancy_rule_and_noise_estimate(maps):
    problem, _ = _problem(maps, SMOOTH, seed=6)
    assert problem.sigma_estimated and problem.sigma == pytest.approx(SIGMA, rel=0.2)
    path = regularisation_path(*problem.projected(), "tikhonov")
    chosen = path.choose("discrepancy", problem.dof, problem.sigma)
    target = problem.dof * problem.sigma**2
    assert path.residuals[chosen] ** 2 <= target < path.residuals[chosen - 1] ** 2
    given, _ = _problem(maps, SMOOTH, seed=6, noise=0.02)
    assert given.sigma == 0.02 and not given.sigma_estimated


def test_launch_is_fitted_and_a_given_launch_is_used(maps):
    problem, truth = _problem(maps, SMOOTH, seed=7)
    speed, angle = recover(problem, "tikhonov").launch
    assert speed == pytest.approx(SPEED, rel=0.01) and angle == pytest.approx(ANGLE, abs=0.01)
    known, _ = _problem(maps, SMOOTH, seed=7, launch=(SPEED, ANGLE))
    found = recover(known, "tikhonov")
    assert found.launch is None and known.C.shape[1] == 0 and known.dof == 2 * POINTS
    assert relative_error(found.wind, truth) < 0.1


def test_learned_regulariser_on_held_out_problems(maps):
    (a, c, b), fine = maps
    problem, _ = _problem(maps, SMOOTH)
    learned = learned_for(problem, fine, seed=0, count=60)
    winds = gust_family(6, np.linspace(0.0, T[-1], fine.shape[1]), jax.random.key(99))
    errors = {"learned": [], "least-squares": []}
    for i, wind in enumerate(winds):
        shape = lambda grid, w=wind: np.interp(grid, np.linspace(0, T[-1], len(w)), w)  # noqa: E731
        held, truth = _problem(maps, shape, seed=50 + i)
        for method in errors:
            errors[method].append(relative_error(recover(held, method, learned).wind, truth))
    assert np.median(errors["learned"]) < 0.5 < np.median(errors["least-squares"])
    with pytest.raises(ValueError, match="needs a LearnedRegulariser"):
        recover(problem, "learned")


def test_aim_sensitivity_against_the_vacuum_closed_form():
    """No drag: θ_low = ½ arcsin(g d / v²), so dθ/dd = g / (2 v² √(1 − (g d / v²)²)); the high
    arc moves the other way by as much."""
    vacuum, speed = Projectile(mass=1.0, g=9.81), 20.0
    metrics = aim_conditioning(vacuum, speed, points=6)
    gap = np.array(metrics["gap"])
    d = speed**2 / 9.81 - gap
    expected = np.rad2deg(9.81 / (2 * speed**2 * np.sqrt(1 - (9.81 * d / speed**2) ** 2)))
    np.testing.assert_allclose(metrics["low"], expected, rtol=1e-6)
    np.testing.assert_allclose(metrics["high"], -expected, rtol=1e-6)


def test_bad_problems_are_refused():
    with pytest.raises(ValueError, match="linear drag"):
        wind_problem(Projectile(QuadraticDrag(c=1e-3), mass=0.4), T, np.zeros((POINTS, 2)))
    with pytest.raises(ValueError, match="increasing"):
        wind_problem(BALL, T[::-1], np.zeros((POINTS, 2)))
    with pytest.raises(ValueError, match="shape"):
        wind_problem(BALL, T, np.zeros((POINTS, 3)), maps=(np.zeros((2 * POINTS, 3)),) * 3)


def test_recover_wind_command(tmp_path, capsys, maps):
    track = tmp_path / "track.csv"
    problem, truth = _problem(maps, SMOOTH, seed=8)
    columns = np.column_stack([T, problem.data[:POINTS], problem.data[POINTS:], SMOOTH(T)])
    np.savetxt(track, columns, delimiter=",", header="t,x,y,wind", comments="")
    out = tmp_path / "out"
    status = main(["recover-wind", str(track), "--mass", "0.43", "--k", "0.1", "--method", "tikhonov",
                   "--samples", str(SAMPLES), "--out", str(out), "--json"])
    printed, err = capsys.readouterr()
    assert status == 0 and err == ""
    result = json.loads(printed)
    entry = result["methods"]["tikhonov"]
    np.testing.assert_allclose(entry["wind"], recover(problem, "tikhonov").wind, rtol=1e-9, atol=1e-9)
    # The truth is the file's wind column, read at the grid's times (held before the first row).
    truth = np.interp(problem.grid, T, SMOOTH(T))
    assert entry["relative_error"] == pytest.approx(relative_error(np.array(entry["wind"]), truth), rel=1e-9)
    assert result["launch"]["angle"] == pytest.approx(45.0, abs=0.5) and result["launch"]["fitted"]
    assert (out / "wind.csv").read_text().splitlines()[0] == "t,true,tikhonov"
    assert (out / "figures" / "wind.png").stat().st_size > 0 and (out / "figures" / "lcurve.png").exists()
    assert entry["rule"] == DEFAULT_RULES["tikhonov"] and "λ benchmark" in entry["rule_why"]
    status = main(["recover-wind", str(track), "--mass", "0.43", "--k", "0.1", "--method", "tikhonov", "--rule", "cv",
                   "--samples", str(SAMPLES), "--out", str(tmp_path / "cv"), "--json"])
    entry = json.loads(capsys.readouterr()[0])["methods"]["tikhonov"]
    assert status == 0 and entry["rule"] == "cv" and entry["rule_why"].endswith("given (--rule)")


@pytest.mark.parametrize("argv, message", [
    (["--speed", "25"], "--speed and --angle: give both"),
    (["--noise", "-1"], "--noise -1.0: must be > 0"),
    (["--method", "magic"], "invalid choice"),
])
def test_recover_wind_bad_options(tmp_path, capsys, argv, message):
    track = tmp_path / "track.csv"
    track.write_text("t,x,y\n0,0,0\n0.1,1,1\n0.2,2,1.8\n")
    out = tmp_path / "out"
    status = main(["recover-wind", str(track), "--mass", "0.43", "--k", "0.1", "--out", str(out), *argv])
    _, err = capsys.readouterr()
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_track_file_names_line_and_column(tmp_path, capsys):
    track = tmp_path / "track.csv"
    track.write_text("t,x,y\n0,0,0\n0.2,1,1\n0.1,2,1.8\n")
    status = main(["recover-wind", str(track), "--mass", "0.43", "--k", "0.1", "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert status == 2 and "line 4, column 't'" in err and "increase" in err


def test_the_command_offers_every_method_and_rule():
    from hybridlab.cli import build_parser
    from hybridlab.inverse.regularisation import METHODS, RULES

    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["recover-wind"]._actions}
    assert tuple(actions["method"].choices) == METHODS + ("all",)
    assert tuple(actions["rule"].choices) == RULES and actions["rule"].default is None


def test_trajectory_writes_a_windy_noisy_track(tmp_path, capsys):
    out = tmp_path / "track.csv"
    status = main(["trajectory", "--drag", "linear", "--k", "0.1", "--mass", "0.43", "--speed", "25", "--angle", "45",
                   "--wind", "3", "--points", "50", "--noise", "0.01", "--out", str(out)])
    assert status == 0
    t, x, y, wind = np.loadtxt(out, delimiter=",", skiprows=1).T
    calm = Projectile(LinearDrag(k=0.1), mass=0.43, g=9.81, wind=3.0)
    assert np.all(wind == 3.0) and t[-1] == pytest.approx(float(calm.flight_time(25.0, ANGLE)), rel=1e-12)
    expected = np.stack(calm.trajectory(25.0, ANGLE, t))
    assert 0.005 < np.std(np.stack([x, y]) - expected) < 0.015  # the noise asked for
    assert main(["trajectory", "--speed", "25", "--angle", "45", "--wind", "0,4", "--out", str(out)]) == 2
    assert "--wind-until" in capsys.readouterr().err


@pytest.mark.slow  # the whole scenario (about a minute); its parts are tested above
def test_the_gust_scenario_writes_its_report(tmp_path):
    from hybridlab.experiments.gust import run_gust

    metrics = run_gust(str(tmp_path / "gust"), quick=True, echo=lambda line: None)
    out = tmp_path / "gust"
    for name in ("metrics.json", "winds.csv", "lcurve.csv", "report.html", "figures/winds.png",
                 "figures/lcurve.png", "figures/singular_values.png", "figures/aim_conditioning.png"):
        assert (out / name).is_file(), name
    examples = metrics["examples"]
    assert examples["step"]["tv"]["relative_error"] < examples["step"]["tikhonov"]["relative_error"]
    assert examples["smooth"]["tikhonov"]["relative_error"] < examples["smooth"]["tv"]["relative_error"]
    assert min(family["least-squares"]["median"] for family in metrics["families"].values()) > 2.0


def test_the_gust_pages_lcurves_and_conditioning_are_the_files_numbers():
    """report/gust.py's interactive figures: an L-curve per method (its own penalty's unit), a
    curve per example and the chosen λ as a lone point; the singular values and the aim's
    conditioning, from metrics.json."""
    from hybridlab.report.gust import conditioning_lines, lcurve_lines

    residual, penalty = np.geomspace(0.1, 1.0, 4), np.geomspace(100.0, 1.0, 4)
    curves = {"example": np.array(["smooth"] * 4 + ["step"] * 4 + ["smooth"] * 4),
              "method": np.array(["tikhonov"] * 8 + ["tv"] * 4), "residual": np.tile(residual, 3),
              "penalty": np.tile(penalty, 3), "lambda": np.tile([1e-2, 1e-3, 1e-4, 1e-5], 3),
              "chosen": np.array([0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0])}
    tikhonov, tv = lcurve_lines(curves)
    assert (tikhonov["title"], tv["y_label"], tv["log_x"], tv["log_y"]) == ("L-curve: tikhonov", "‖∇w‖₁ (m/s)", True,
                                                                            True)
    names = [trace["name"] for trace in tikhonov["traces"]]
    assert names == ["smooth", "smooth: chosen λ = 0.001", "step", "step: chosen λ = 0.0001"]
    chosen = tikhonov["traces"][3]
    assert not chosen["joined"] and chosen["x"] == [pytest.approx(residual[2])] and chosen["y"] == [
        pytest.approx(penalty[2])]
    values, aim = conditioning_lines({"singular_values": [4.0, 2.0, 0.5], "aim": {
        "speed": 25.0, "reach": 40.0, "gap": [0.1, 1.0], "low": [-3.0, -1.0], "high": [2.0, 0.5]}})
    assert values["title"].endswith("condition number 8") and values["traces"][0]["x"] == [1, 2, 3]
    assert [t["y"] for t in aim["traces"]] == [[3.0, 1.0], [2.0, 0.5]] and aim["traces"][1]["dash"]
