"""Predictive intervals of the ladder's rungs against independent statements of the textbook
constructions: the least-squares prediction interval written out, the delta method with a
central-difference derivative and the fit's own standard error, Bayesian linear regression on
a network's hidden features, a leave-one-out loop; and their coverage where the model is right."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from hybridlab.models import MLP, LinearRegression, NearestNeighbour, PhysicsFit, load
from hybridlab.physics import LinearDrag, Projectile

RNG = np.random.default_rng(0)
X_LINE = np.column_stack([RNG.uniform(0, 10, 80), RNG.uniform(-1, 1, 80)])
Y_LINE = 1.5 + 0.7 * X_LINE[:, 0] - 2.0 * X_LINE[:, 1] + 0.3 * RNG.standard_normal(80)
X_NEW = np.array([[5.0, 0.0], [12.0, 1.5], [-3.0, -2.0]])


def test_linear_interval_is_the_textbook_one():
    """ŷ ± t_{n−p, 0.95} s √(1 + x₀ᵀ(XᵀX)⁻¹x₀), s² = RSS/(n − p), with the intercept column."""
    low, high = LinearRegression().fit(X_LINE, Y_LINE).predict_interval(X_NEW, 0.9)
    design = np.column_stack([np.ones(80), X_LINE])
    beta, rss, *_ = np.linalg.lstsq(design, Y_LINE, rcond=None)
    s2 = rss[0] / (80 - 3)
    x0 = np.column_stack([np.ones(3), X_NEW])
    half = stats.t.ppf(0.95, 77) * np.sqrt(s2 * (1 + np.einsum("ij,jk,ik->i", x0, np.linalg.inv(design.T @ design),
                                                                   x0)))
    np.testing.assert_allclose(low, x0 @ beta - half, rtol=1e-10)
    np.testing.assert_allclose(high, x0 @ beta + half, rtol=1e-10)


def test_linear_interval_covers_where_the_model_is_right():
    X = np.column_stack([RNG.uniform(0, 10, 4000), RNG.uniform(-1, 1, 4000)])
    y = 1.5 + 0.7 * X[:, 0] - 2.0 * X[:, 1] + 0.3 * RNG.standard_normal(4000)
    low, high = LinearRegression().fit(X_LINE, Y_LINE).predict_interval(X, 0.9)
    assert np.mean((low <= y) & (y <= high)) == pytest.approx(0.9, abs=0.03)


def test_physics_interval_is_the_delta_method():
    """s² = (∂R/∂k)² se(k)² + σ̂², ∂R/∂k by central differences, se(k) the fit's standard error."""
    truth = Projectile(LinearDrag(k=0.45), mass=7.26)
    X = np.column_stack([RNG.uniform(5, 20, 60), RNG.uniform(0.2, 1.3, 60)])
    y = np.asarray(truth.range(X[:, 0], X[:, 1])) + 0.1 * RNG.standard_normal(60)
    model = PhysicsFit(physics={"drag": {"law": "linear"}, "mass": 7.26}, unknown=("k",)).fit(X, y)
    _, std = model.predict(X_NEW[:1] * [3, 0] + [0, 0.7], return_std=True)
    k, se = float(model.values_[0]), model.stderr_[0]
    speed, angle, h = 15.0, 0.7, 1e-6
    slope = (float(Projectile(LinearDrag(k=k + h), mass=7.26).range(speed, angle))
             - float(Projectile(LinearDrag(k=k - h), mass=7.26).range(speed, angle))) / (2 * h)
    noise2 = np.sum((model.predict(X) - y) ** 2) / (60 - 1)
    assert std[0] == pytest.approx(np.sqrt(slope**2 * se**2 + noise2), rel=1e-6)


def test_mlp_interval_is_bayesian_regression_on_its_last_hidden_layer():
    """The last-layer Laplace: J = y_scale · [h(z), 1] with h the last hidden features, computed
    here by running the layers by hand; s² = jᵀ σ̂²(JᵀJ)⁻¹ j + σ̂², σ̂² = RSS/(n − p)."""
    model = MLP(widths=(8,), epochs=200, seed=1).fit(X_LINE, Y_LINE)
    network = model.network_

    def features(X):
        z = np.asarray(model.x_scaler_.forward(jnp.asarray(X)))
        hidden = np.tanh(z @ np.asarray(network.layers[0].weight).T + np.asarray(network.layers[0].bias))
        return float(np.asarray(model.y_scaler_.scale)) * np.column_stack([hidden, np.ones(len(X))])

    J = features(X_LINE)
    noise2 = np.sum((model.predict(X_LINE) - Y_LINE) ** 2) / (80 - J.shape[1])
    j = features(X_NEW)
    expected = np.sqrt(np.einsum("ij,jk,ik->i", j, noise2 * np.linalg.inv(J.T @ J), j) + noise2)
    np.testing.assert_allclose(model.predict(X_NEW, return_std=True)[1], expected, rtol=1e-6)


def test_nearest_interval_is_the_jackknife():
    model = NearestNeighbour(k=2).fit(X_LINE, Y_LINE)
    scaled = (X_LINE - X_LINE.mean(axis=0)) / X_LINE.std(axis=0)
    loo = []
    for i in range(80):
        distance = np.linalg.norm(scaled - scaled[i], axis=1)
        distance[i] = np.inf
        loo.append(Y_LINE[np.argsort(distance)[:2]].mean() - Y_LINE[i])
    _, std = model.predict(X_NEW, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(np.mean(np.square(loo))), rtol=1e-12)
    low, high = model.predict_interval(X_NEW, 0.9)
    np.testing.assert_allclose(high - low, 2 * stats.norm.ppf(0.95) * std, rtol=1e-12)


def test_intervals_survive_saving_and_old_files_say_they_have_none(tmp_path):
    model = LinearRegression().fit(X_LINE, Y_LINE)
    model.save(tmp_path / "linear")
    again = load(tmp_path / "linear")
    np.testing.assert_array_equal(again.predict_interval(X_NEW), model.predict_interval(X_NEW))
    again.interval_ = None  # as a model saved before intervals existed is read
    with pytest.raises(ValueError, match="no predictive interval"):
        again.predict(X_NEW, return_std=True)
    with pytest.raises(ValueError, match="level"):
        model.predict_interval(X_NEW, 1.5)


@pytest.mark.parametrize("q", [4, 0])
def test_the_grouped_delta_method_is_the_full_pseudo_inverse_without_forming_it(q, monkeypatch):
    # Rows in 7 groups of uneven sizes, each depending on 3 shared parameters (columns of very
    # different scales) and on q of its group's own: the blocks give the full Jacobian's Σ_θθ
    # and every row's s, both written out with NumPy's pseudo-inverse of the dense JᵀJ. The
    # groups are worked on 3 at a time (the last chunk short).
    from hybridlab.uncertainty import intervals
    from hybridlab.uncertainty.intervals import Delta, GroupedDelta

    monkeypatch.setattr(intervals, "GROUP_CHUNK", 3)

    rng = np.random.default_rng(3)
    group = np.repeat(np.arange(7), [5, 9, 6, 12, 7, 8, 10])
    J = rng.normal(size=(group.size, 3)) * np.array([1e-3, 1.0, 1e4])
    K = rng.normal(size=(group.size, q))
    residual = rng.normal(size=group.size)
    dense = np.zeros((group.size, 3 + 7 * q))
    dense[:, :3] = J
    for row, g in enumerate(group):
        dense[row, 3 + g * q: 3 + (g + 1) * q] = K[row]
    B = np.stack([J[group == g].T @ K[group == g] for g in range(7)])
    D = np.stack([K[group == g].T @ K[group == g] for g in range(7)])
    grouped = GroupedDelta.from_grams(J.T @ J, B, D, residual, "delta")
    reference = Delta.from_residuals(dense, residual, "delta")
    assert grouped.dof == reference.dof == group.size - 3 - 7 * q
    assert grouped.noise == pytest.approx(reference.noise, rel=1e-12)
    np.testing.assert_allclose(grouped.covariance, np.asarray(reference.covariance)[:3, :3], rtol=1e-8)
    np.testing.assert_allclose(grouped.std(J, K, group), reference.std(dense), rtol=1e-9)


def _spd(rng, p):
    a = rng.normal(size=(p, p))
    return a @ a.T + p * np.eye(p)


def _kinds(rng):
    """One interval of each kind, its arrays random, and what its ``variance`` is asked at."""
    from hybridlab.operators.intervals import Pointwise, Separable, pointwise, separable
    from hybridlab.uncertainty.intervals import ByHorizon, Delta, GroupedDelta, NoiseOnly

    noise = rng.uniform(0.1, 1.0)
    return {
        "noise": (NoiseOnly(method="jackknife", dof=None, noise=noise), ()),
        "delta": (Delta(method="delta", dof=5, noise=noise, covariance=_spd(rng, 3)), (rng.normal(size=(4, 3)),)),
        "grouped-delta": (GroupedDelta(method="delta", dof=7, noise=noise, covariance=_spd(rng, 3),
                                       gain=rng.normal(size=(2, 3, 2)), start=np.stack([_spd(rng, 2)] * 2)),
                          (rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), np.array([0, 1, 1, 0]))),
        "by-horizon": (ByHorizon(method="empirical", dof=None, spread=rng.uniform(0.1, 1, size=(5, 2))), (3,)),
        "separable-laplace": (Separable(method="laplace", dof=4, noise=rng.uniform(0.1, 1, (6, 2)),
                                        features_inverse=_spd(rng, 3), basis_inverse=np.stack([_spd(rng, 4)] * 2)),
                              (separable(rng.normal(size=(2, 3)), rng.normal(size=(6, 4))),)),
        "pointwise-laplace": (Pointwise(method="laplace", dof=None, noise=rng.uniform(0.1, 1, (6, 2)),
                                        precision_inverse=np.stack([_spd(rng, 3)] * 2)),
                              (pointwise(rng.normal(size=(2, 6, 3))),)),
    }


def test_every_kind_of_interval_is_its_arrays_in_the_arrays_file_and_its_kind_in_json(tmp_path):
    import json

    import equinox as eqx

    from hybridlab.uncertainty.intervals import Interval

    kinds = _kinds(np.random.default_rng(5))
    assert sorted(kinds) == sorted(Interval.kinds)  # a new kind is tested here too
    for kind, (interval, at) in kinds.items():
        description = json.loads(json.dumps(interval.describe()))
        assert description["kind"] == kind and set(description) == {"kind", "method", "dof", "shapes"}
        eqx.tree_serialise_leaves(tmp_path / kind, interval)
        back = eqx.tree_deserialise_leaves(tmp_path / kind, Interval.like(description))
        assert type(back) is type(interval) and (back.method, back.dof) == (interval.method, interval.dof)
        np.testing.assert_array_equal(back.variance(*at), interval.variance(*at))
        np.testing.assert_array_equal(back.std(*at), np.sqrt(interval.variance(*at)))
        assert np.all(interval.variance(*at) > 0)
        expected = stats.norm.ppf(0.95) if interval.dof is None else stats.t.ppf(0.95, interval.dof)
        assert back.quantile(0.9) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("damage", [
    {"kind": "gaussian-process"}, {"method": 3}, {"dof": 0}, {"dof": 2.5}, {"shapes": {"noise": []}},
    {"shapes": {"noise": [], "covariance": [-1, 2]}}, {"shapes": {"noise": [], "covariance": "3x3"}}])
def test_a_damaged_interval_description_is_refused(damage):
    from hybridlab.uncertainty.intervals import Delta, Interval

    description = {**Delta(method="delta", dof=3, noise=1.0, covariance=np.eye(2)).describe(), **damage}
    with pytest.raises(ValueError, match="interval"):
        Interval.like(description)


def test_a_model_of_the_earlier_file_format_is_refused_in_one_line_naming_it(tmp_path):
    import json

    model = LinearRegression().fit(X_LINE, Y_LINE)
    model.save(tmp_path / "linear")
    record = json.loads((tmp_path / "linear" / "model.json").read_text())
    assert record["format"] == 3 and record["fitted"]["interval"]["kind"] == "delta"
    record["format"] = 2
    (tmp_path / "linear" / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="saved in format 2; this hybridlab reads format 3") as error:
        load(tmp_path / "linear")
    assert "\n" not in str(error.value)
