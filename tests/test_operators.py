"""Neural operators: their data, the linear baseline against an exact linear map, persistence
without pickle, resolution, and input checks. (Their accuracy on the wind problem is measured in
benchmarks/operators.py.)"""

import equinox as eqx
import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from scipy import stats

from hybridlab.models import load
from hybridlab.operators import FNO, DeepONet, LinearOperator, gaussian_profiles, wind_trajectories
from hybridlab.operators import base as operators_base
from hybridlab.physics import Projectile, QuadraticDrag, Wind


def test_gaussian_profiles_have_the_squared_exponential_covariance():
    samples = gaussian_profiles(40000, 6, 2.5, 5.0, 0.5, jax.random.key(0))
    t = np.linspace(0.0, 2.5, 6)
    expected = 25.0 * np.exp(-0.5 * ((t[:, None] - t[None, :]) / 0.5) ** 2)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), expected, atol=0.5)  # 2 % of σ², ~4 standard errors
    assert abs(samples.mean()) < 0.1


@pytest.mark.slow
def test_wind_trajectories_are_the_physics_for_each_profile():
    profiles = gaussian_profiles(3, 16, 2.5, 5.0, 0.5, jax.random.key(1))
    paths = wind_trajectories(Projectile(QuadraticDrag(c=9e-4), mass=0.145), 40.0, 0.5, profiles, 2.5)
    t = np.linspace(0.0, 2.5, 16)
    for profile, path in zip(profiles, paths):
        p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, wind=Wind(profile, 2.5))
        np.testing.assert_allclose(path, np.stack(p.trajectory(40.0, 0.5, t), axis=1), rtol=1e-12, atol=1e-12)


def _linear_data(n, m=16, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, m))
    A = rng.normal(size=(m, 2 * m)) / m
    return W, (W @ A + np.linspace(0.0, 1.0, 2 * m)).reshape(n, m, 2)


def test_the_linear_operator_recovers_a_linear_map_and_reloads(tmp_path):
    W, Y = _linear_data(200)
    model = LinearOperator().fit(W, Y)
    test_W, test_Y = _linear_data(20, seed=1)
    test_Y = (test_W @ np.linalg.lstsq(W, Y.reshape(200, -1) - np.linspace(0, 1, 32), rcond=None)[0]
              + np.linspace(0.0, 1.0, 32)).reshape(20, 16, 2)
    np.testing.assert_allclose(model.predict(test_W), test_Y, rtol=1e-10, atol=1e-10)
    model.save(tmp_path / "linear")
    np.testing.assert_array_equal(load(tmp_path / "linear").predict(test_W), model.predict(test_W))
    # hybridlab.models.load finds the class in a fresh process that never imported the operators.
    import subprocess
    import sys

    code = f"from hybridlab.models import load; print(load({str(tmp_path / 'linear')!r}).name)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "linear-operator"


# Both slow (make test-all): the interval test below trains and reloads both operators.
@pytest.mark.parametrize("make", [pytest.param(lambda: FNO(width=8, modes=6, layers=2, epochs=300, learning_rate=1e-2),
                                               marks=pytest.mark.slow),
                                  pytest.param(lambda: DeepONet(width=16, basis=8, epochs=300, learning_rate=3e-3),
                                               marks=pytest.mark.slow)])
def test_a_network_operator_trains_and_reloads_exactly(tmp_path, make):
    # A smooth operator: (∫₀ᵗ w, w) of smooth profiles.
    W = gaussian_profiles(64, 32, 1.0, 1.0, 0.3, jax.random.key(2))
    Y = np.stack([np.cumsum(W, axis=1) / 32, W], axis=-1)
    model = make().fit(W, Y)
    error = np.linalg.norm(model.predict(W) - Y) / np.linalg.norm(Y - Y.mean(axis=0))
    assert error < 0.5  # it learned the map, not only its mean (which scores 1)
    model.save(tmp_path / model.name)
    np.testing.assert_array_equal(load(tmp_path / model.name).predict(W), model.predict(W))


def test_a_network_operator_trains_by_mini_batches_where_there_are_more_functions():
    W = gaussian_profiles(64, 32, 1.0, 1.0, 0.3, jax.random.key(2))
    Y = np.stack([np.cumsum(W, axis=1) / 32, W], axis=-1)
    make = lambda **batch: DeepONet(width=16, basis=8, epochs=60, learning_rate=1e-2, **batch).fit(W, Y)
    full, whole, mini = make(), make(batch_size=64), make(batch_size=16)
    # A batch at least as large as the data is the full-batch fit, bit for bit; 16 of 64
    # functions take 4 steps an epoch on their own shuffle, and still learn the map.
    np.testing.assert_array_equal(whole.predict(W), full.predict(W))
    assert not np.array_equal(mini.predict(W), full.predict(W))
    for model in (full, mini):
        assert np.linalg.norm(model.predict(W) - Y) / np.linalg.norm(Y - Y.mean(axis=0)) < 0.5
    assert mini.get_params()["batch_size"] == 16
    with pytest.raises(ValueError, match=r"batch_size = 0: must be an integer >= 1 or None"):
        FNO(batch_size=0)
    with pytest.raises(ValueError, match=r"batch_size = 2.5: must be an integer >= 1 or None"):
        DeepONet(batch_size=2.5)


def test_bad_functions_are_named():
    W, Y = _linear_data(8)
    W[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"W\[3, 5\] = nan: must be finite"):
        LinearOperator().fit(W, Y)
    with pytest.raises(ValueError, match=r"Y must have shape \(8, 16, 2\)"):
        LinearOperator().fit(np.zeros((8, 16)), np.zeros((8, 16)))


def test_the_wind_scenario_has_no_models_to_choose(tmp_path, capsys):
    from hybridlab.cli import main

    assert main(["run", "--scenario", "wind", "--models", "fno", "--out", str(tmp_path / "w")]) == 2
    assert "the wind scenario has no model ladder" in capsys.readouterr().err and not (tmp_path / "w").exists()


@pytest.mark.slow
def test_the_wind_scenario_writes_its_run_directory(tmp_path):
    from hybridlab.experiments.wind import run_wind

    metrics = run_wind(str(tmp_path / "w"), quick=True, echo=lambda line: None)
    for name in ("metrics.json", "effects.csv", "report.html", "figures/effects.png", "models/fno/model.json",
                 "models/deeponet/model.json", "models/linear/model.json"):
        assert (tmp_path / "w" / name).is_file(), name
    for entry in metrics["models"].values():  # off the training family every operator does worse
        assert entry["effect_test"] < 0.2 and entry["effect_shifted"] > 2 * entry["effect_test"]
    assert np.isfinite(metrics["models"]["fno"]["effect_fine"])
    assert load(tmp_path / "w" / "models" / "fno").resolution_free
    for entry in metrics["models"].values():
        assert all(0 <= entry[f"coverage_{split}"] <= 1 and entry[f"width_{split}"] > 0 for split in ("test", "shifted"))
    assert "Trust: 90 % predictive intervals" in (tmp_path / "w" / "report.html").read_text()
    for entry in metrics["models"].values():  # the pooled error lies within the spread of the winds' own
        tail = entry["profiles_test"]
        assert tail["median"] <= tail["p90"] <= tail["max"] and tail["mean"] <= tail["max"]
    assert "Error per wind" in (tmp_path / "w" / "report.html").read_text()


def test_each_winds_error_is_its_own_relative_error_and_the_tail_its_distribution():
    from hybridlab.experiments.wind import per_profile

    rng = np.random.default_rng(0)
    calm = rng.normal(size=(16, 2))
    truth = calm + rng.normal(size=(5, 16, 2))
    spread = np.array([0.01, 0.02, 0.03, 0.04, 0.5])
    predicted = truth + spread[:, None, None] * rng.normal(size=(5, 16, 2))
    errors = sorted(np.linalg.norm(predicted[i] - truth[i]) / np.linalg.norm(truth[i] - calm) for i in range(5))
    tail = per_profile(predicted, truth, calm)
    # Five values: the median is the third; the 90th percentile lies 0.6 of the way from the fourth to the fifth.
    assert tail["median"] == pytest.approx(errors[2], rel=1e-12)
    assert tail["p90"] == pytest.approx(errors[3] + 0.6 * (errors[4] - errors[3]), rel=1e-12)
    assert tail["max"] == pytest.approx(errors[4], rel=1e-12)
    assert tail["mean"] == pytest.approx(sum(errors) / 5, rel=1e-12)
    assert tail["max"] > 5 * tail["median"]  # one bad wind: the tail shows it


def test_the_linear_operators_interval_is_the_textbook_one_for_every_output():
    rng = np.random.default_rng(3)
    n, m = 60, 8
    W = rng.normal(size=(n, m))
    Y = (W @ (rng.normal(size=(m, 2 * m)) / m) + np.linspace(0, 1, 2 * m) + 0.1 * rng.normal(size=(n, 2 * m)))
    model = LinearOperator().fit(W, Y.reshape(n, m, 2))
    new = 3 * rng.normal(size=(5, m))  # also far off the training inputs
    low, high = model.predict_interval(new, 0.8)
    # Ordinary least squares on each output column, written out: σ̂²(1 + x(XᵀX)⁻¹xᵀ), t with n − p dof.
    X, x = np.hstack([W, np.ones((n, 1))]), np.hstack([new, np.ones((5, 1))])
    beta = np.linalg.solve(X.T @ X, X.T @ Y)
    noise2 = np.sum((Y - X @ beta) ** 2, axis=0) / (n - m - 1)
    leverage = np.einsum("ip,pq,iq->i", x, np.linalg.inv(X.T @ X), x)
    half = stats.t.ppf(0.9, n - m - 1) * np.sqrt(noise2 * (1 + leverage[:, None]))
    np.testing.assert_allclose(low.reshape(5, -1), x @ beta - half, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(high.reshape(5, -1), x @ beta + half, rtol=1e-10, atol=1e-10)


def _laplace_by_brute_force(model, train, new, last):
    """s² of each output sample at ``new`` from the full Jacobian J of the outputs with respect
    to the last map's weights θ = ``last(network)`` (every coordinate's together):
    P = Σ JᵀJ/σ̂² over ``train``, s² = jP⁻¹jᵀ + σ̂²."""
    theta, unravel = ravel_pytree(last(model.network_))

    def jacobian(W):
        def outputs(flat):
            return jax.vmap(eqx.tree_at(last, model.network_, unravel(flat)))(W / model.input_scale_)

        return np.asarray(jax.jacfwd(outputs)(theta))  # (n, m, 2, p)

    noise2 = (np.asarray(model.interval_.noise) ** 2)[None]
    J = jacobian(train)
    covariance = np.linalg.pinv(np.einsum("ioap,ioaq->pq", J / noise2[..., None], J), rcond=1e-13)
    J = jacobian(new)
    return (np.einsum("ioap,pq,ioaq->ioa", J, covariance, J) + noise2) * np.asarray(model.output_scale_) ** 2


def test_the_network_operators_intervals_are_the_last_layer_laplace_approximation_and_only_the_fno_regrids(
        tmp_path, monkeypatch):
    # The FNO's per-sample features and DeepONet's Kronecker form (τ ⊗ h) give what the full
    # Jacobian of the outputs gives, on the training grid and on new inputs far off it — with
    # the design's Gram matrices summed over blocks of 16 of the 40 functions (the last short).
    monkeypatch.setattr(operators_base, "BATCH_FUNCTIONS", 16)
    W, Y = _linear_data(40, m=8)
    for model, last in ((FNO(width=4, modes=4, layers=1, epochs=20), lambda n: n.project.layers[-1]),
                        (DeepONet(width=5, basis=3, epochs=20), lambda n: n.branch.layers[-1])):
        model.fit(W, Y)
        dof = 40 - (model.width + 1 if model.name == "deeponet" else 0)
        noise = np.sqrt(np.sum((model.predict(W) - Y) ** 2, axis=0) / dof)
        np.testing.assert_allclose(np.asarray(model.interval_.noise) * model.output_scale_, noise, rtol=1e-8)
        weights = lambda n, last=last: (last(n).weight, last(n).bias)  # noqa: E731
        for inputs in (W[:5], 4 * W[5:10]):
            _, std = model.predict(inputs, return_std=True)
            np.testing.assert_allclose(std**2, _laplace_by_brute_force(model, W, inputs, weights), rtol=1e-6)
        model.save(tmp_path / model.name)
        np.testing.assert_array_equal(load(tmp_path / model.name).predict_interval(W[:3])[1],
                                      model.predict_interval(W[:3])[1])
    # Only the FNO takes another grid (its interval there too: the noise interpolated in time).
    fno, deeponet = (load(tmp_path / name) for name in ("fno", "deeponet"))
    assert fno.predict(np.zeros((3, 64))).shape == (3, 64, 2)
    assert fno.predict_interval(np.zeros((3, 64)))[0].shape == (3, 64, 2)
    with pytest.raises(ValueError, match="W has 6 samples per function: the FNO keeps 4 Fourier modes"):
        fno.predict(np.zeros((3, 6)))
    with pytest.raises(ValueError, match="W has 64 samples per function, the operator was fitted on 8"):
        deeponet.predict(np.zeros((3, 64)))


def test_the_wind_pages_figures_are_the_effects_file_curve_by_curve():
    """report/wind.py's interactive figures: for each held-out wind its wind, then each model's
    effect on x and on y — the file's columns, the truth solid and black, the operators dashed."""
    from hybridlab.report.interactive import DIGITS
    from hybridlab.report.wind import effect_lines

    rng = np.random.default_rng(4)
    t = np.tile(np.linspace(0.0, 2.5, 5), 2)
    table = {"example": np.repeat([0.0, 1.0], 5), "t": t, "wind": rng.normal(size=10)}
    for name in ("truth", "fno", "deeponet"):
        table[f"{name}_dx"], table[f"{name}_dy"] = rng.normal(size=10), rng.normal(size=10)
    figures = effect_lines(table)
    assert [f["title"] for f in figures] == [f"held-out wind {i}{part}" for i in (1, 2)
                                             for part in ("", ": its effect on x", ": its effect on y")]
    second_y = figures[5]["traces"]
    assert [(c["name"], c["dash"], c["colour"]) for c in second_y] == [("truth", False, "black"), ("fno", True, None),
                                                                       ("deeponet", True, None)]
    np.testing.assert_allclose(second_y[1]["y"], table["fno_dy"][5:], rtol=10.0 ** (1 - DIGITS))
    np.testing.assert_allclose(figures[3]["traces"][0]["y"], table["wind"][5:], rtol=10.0 ** (1 - DIGITS))
    np.testing.assert_allclose(figures[3]["traces"][0]["x"], t[5:], rtol=10.0 ** (1 - DIGITS))
