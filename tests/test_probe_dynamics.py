"""Issue 28, round three of the reliability probe: the dynamics paths.

A law with nothing fitted (no drag, g known) goes through every path — fit, predict, the
interval, learn-drag, drops — and is checked against free fall in closed form: with the drag
gone and g known, a track's positions are linear in its starting state, so the fit is ordinary
least squares of y + g t²/2 on (1, t − t₀) per coordinate, and the predictive variance the
textbook σ̂²(1 + kᵀ(KᵀK)⁻¹k). Then the refusals of learn-drag and drops, one line each."""

import json

import numpy as np
import pytest

from test_reliability import assert_refused

from hybridlab.cli import main
from hybridlab.data import Tracks, split_time, write_tracks
from hybridlab.dynamics.learning import NESTED_TESTS, law_fit
from hybridlab.models import load

G = 9.80665
NOISE = 2e-3


def free_fall(heights=(20.0, 25.0), points=12, seed=0) -> Tracks:
    """Drops from rest, h(t) = h₀ − g t²/2 at 15 Hz, with Gaussian noise of :data:`NOISE` m."""
    rng = np.random.default_rng(seed)
    t = np.arange(points) / 15.0
    y = np.concatenate([h - G * t**2 / 2 for h in heights]) + NOISE * rng.standard_normal(points * len(heights))
    return Tracks("drop", tuple(f"ball/{i + 1}" for i in range(len(heights))), np.repeat(np.arange(len(heights)),
                  points), np.tile(t, len(heights)), y[:, None])


def shots(speeds=(15.0, 20.0), angle=0.8, points=12, seed=1) -> Tracks:
    """2-D shots without drag from the origin, x = v cosθ t, y = v sinθ t − g t²/2, noisy."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 2.0, points)
    xy = np.concatenate([np.c_[v * np.cos(angle) * t, v * np.sin(angle) * t - G * t**2 / 2] for v in speeds])
    return Tracks("shot", tuple(str(i) for i in range(len(speeds))), np.repeat(np.arange(len(speeds)), points),
                  np.tile(t, len(speeds)), xy + NOISE * rng.standard_normal(xy.shape))


def least_squares_reference(train: Tracks, query: Tracks):
    """(positions, predictive std) at ``query``, and {track: standard errors of its starting
    state (positions, velocities)}, of free fall with g known fitted to ``train``: per track
    and coordinate, OLS of position + g t²/2 (on the last axis) on (1, t − t₀), σ̂² pooled over
    everything with n − (2 per track and coordinate) degrees of freedom."""
    lift = np.eye(train.dim)[-1] * G / 2
    fits, rss, dof = {}, 0.0, train.position.size
    for i, name in enumerate(train.names):
        t = train.t[train.track == i]
        K = np.c_[np.ones_like(t), t - t[0]]
        beta, residual, *_ = np.linalg.lstsq(K, train.position[train.track == i] + lift * (t - t[0])[:, None] ** 2,
                                             rcond=None)
        fits[name] = (t[0], beta, np.linalg.inv(K.T @ K))
        rss, dof = rss + residual.sum(), dof - beta.size
    noise2 = rss / dof
    positions, std = np.empty_like(query.position), np.empty_like(query.position)
    for i, name in enumerate(query.names):
        rows = query.track == i
        t0, beta, inverse = fits[name]
        k = np.c_[np.ones(rows.sum()), query.t[rows] - t0]
        positions[rows] = k @ beta - lift * (query.t[rows] - t0)[:, None] ** 2
        std[rows] = np.sqrt(noise2 * (1 + np.einsum("ni,ij,nj->n", k, inverse, k)))[:, None]
    errors = {name: np.sqrt(noise2 * np.diag(inverse)) for name, (_, _, inverse) in fits.items()}
    return positions, std, errors


@pytest.mark.parametrize("method", ["auto", "fit"])
def test_learn_drag_auto_on_free_fall_fits_no_drag_with_g_known_as_least_squares_does(tmp_path, capsys, method):
    """The path of ``hybridlab drops`` where auto chooses a law with nothing fitted, on cheap
    drops from rest: auto (and fit, given no law) chooses no drag, g known (the fewest
    parameters) and says by which rule; the starting
    states, their standard errors, the forecast after --train-until and its predictive std
    (from the starting states and the noise alone) are least squares' in closed form, and the
    saved model reloads to the same."""
    data, out = tmp_path / "fall.csv", tmp_path / "out"
    tracks = free_fall()
    write_tracks(data, tracks)
    assert main(["learn-drag", str(data), "--mass", "1", "--train-until", "0.4", "--method", method, "--out", str(out),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["law"], printed["fit_g"]) == ("none", False), printed["p_values"]
    assert printed["chosen_by"] == {"law": NESTED_TESTS, "g": NESTED_TESTS}
    assert len(printed["p_values"]) == 8  # every law of learn-drag, with g fitted and not
    train, test = split_time(tracks, 0.4)
    expected, expected_std, errors = least_squares_reference(train, test)
    parameters = printed["parameters"]
    assert set(parameters) == {"h0[ball/1]", "v0[ball/1]", "h0[ball/2]", "v0[ball/2]"}
    for name, h in (("ball/1", 20.0), ("ball/2", 25.0)):
        h0, v0 = parameters[f"h0[{name}]"], parameters[f"v0[{name}]"]
        np.testing.assert_allclose([h0["stderr"], v0["stderr"]], errors[name], rtol=1e-5)
        assert abs(h0["value"] - h) < 5 * NOISE and abs(v0["value"]) < 25 * NOISE  # the closed form's truth
    assert printed["mse_test"] == pytest.approx(np.mean((expected - test.position) ** 2), rel=1e-5)
    assert 0 <= printed["coverage_test"] <= 1 and 0 < printed["width_test"] < np.inf
    model = load(out / "models" / "trajectory-fit")
    assert model.unknown == () and model.interval_.covariance.shape == (0, 0)
    predicted, std = model.predict(test, return_std=True)
    np.testing.assert_allclose(predicted, expected, atol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5)
    # The forecast is the noise-free fall to within its own interval.
    assert np.all(np.abs(predicted[:, 0] - (np.repeat([20.0, 25.0], 5) - G * test.t**2 / 2)) < 4 * std[:, 0])


# Slow: a second compiled fit (2-D) of the zero-parameter path the drop above checks in 1-D.
@pytest.mark.slow
def test_a_law_with_nothing_fitted_forecasts_a_shot_as_least_squares_does():
    """2-D shots: the fit of no drag with g known on t ≤ 1 s is the closed form's OLS fit, and
    its forecast to 2 s with its predictive std are the textbook ones."""
    tracks = shots()
    train, _ = split_time(tracks, 1.0)
    model = law_fit("none", 1.0, G, False, train).fit(train)
    predicted, std = model.predict(tracks, return_std=True)
    expected, expected_std, _ = least_squares_reference(train, tracks)
    np.testing.assert_allclose(predicted, expected, atol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5)
    v, t = np.repeat([15.0, 20.0], 12), tracks.t
    assert np.all(np.abs(predicted - np.c_[v * np.cos(0.8) * t, v * np.sin(0.8) * t - G * t**2 / 2]) < 4 * std)
    low, high = model.predict_interval(tracks, 0.9)
    assert np.all(np.isfinite(low)) and np.all(high > low)


@pytest.mark.slow  # 50-70 s: nine balls, two methods; the fast suite runs the same path on one file above
def test_the_drops_command_prints_its_table(capsys):
    assert main(["drops"]) == 0
    out, err = capsys.readouterr()
    assert "median" in out and out.count("90 % interval covers") == 18 and err == ""


@pytest.mark.parametrize("argv, says", [
    (["--train-until", "0"], "--train-until 0 s leaves 1 point of track 'ball/1' to fit"),
    (["--train-until", "0.1", "--method", "fit", "--law", "quadratic", "--fit-g"], "--train-until 0.1 s leaves 4 measured coordinates of the 2 tracks to fit 6 parameters (2 of the "
                                                  "law and g, 4 of the starting states): it needs 7 or more"),
    (["--train-until", "nan"], "--train-until nan: must be a finite time"),
])
def test_learn_drag_refuses_too_few_points_to_fit(tmp_path, capsys, argv, says):
    data = tmp_path / "fall.csv"
    write_tracks(data, free_fall())
    assert_refused(capsys, tmp_path, "learn-drag", data, "--mass", "1", "--out", tmp_path / "out", *argv, says=says)


def test_learn_drag_refuses_tracks_of_one_point(tmp_path, capsys):
    data = tmp_path / "points.csv"
    write_tracks(data, Tracks("drop", ("a/1", "a/2"), np.array([0, 1]), np.zeros(2), np.array([[3.0], [4.0]])))
    assert_refused(capsys, tmp_path, "learn-drag", data, "--mass", "1", "--method", "fit", "--out", tmp_path / "out",
                   says="the tracks hold 1 point of track 'a/1' to fit: its starting position and velocity need 2")


@pytest.mark.parametrize("argv, says", [
    (["--train-until", "-1"], "--train-until -1 s leaves 0 points of the baseball drop"),
    (["--train-until", "nan"], "--train-until nan: must be a finite time"),
    (["--train-until", "1e300"], "end of every drop, which leaves nothing held out to predict: the drops end at 2.77 "
                                 "to 3.805 s"),
    (["--methods", ""], "--methods '': must name one or more of fit, ude, neural-ode, auto"),
    (["--methods", "fit,sindy"], "--methods 'fit,sindy': must name one or more of"),
    (["--methods", "fit,auto,fit"], "--methods 'fit,auto,fit': names fit more than once"),
])
def test_drops_refuses_a_split_or_methods_it_cannot_run(tmp_path, capsys, argv, says):
    assert_refused(capsys, tmp_path, "drops", *argv, says=says)
