"""Designs, measurement noise, splits and scenarios against their definitions.

References: SciPy's Kolmogorov–Smirnov test for the uniform design, NumPy's linspace grid,
the closed-form no-drag range, the chi-square interval of a sample standard deviation, and for
the scenarios' truth the solves of tests/reference.py (mpmath, SciPy).
"""

import os

import jax
import numpy as np
import pytest
import scipy.stats
from reference import linear_drag, quadratic_scipy

import hybridlab  # noqa: F401  (float64)
from hybridlab import LinearDrag, Projectile
from hybridlab.data import grid_design, holdout, measure, simulate_shots, uniform_design
from hybridlab.experiments.scenarios import SCENARIOS

G = 9.81

#: The range (m) for speed (m/s) and angle (rad) of each scenario's projectile, from the
#: constants its description states: the closed form without drag, mpmath's Lambert-W solution
#: for linear drag (shot put: k = 1.8 kg/s, m = 7.26 kg), SciPy's DOP853 for quadratic drag
#: (baseball: c = 9e-4 kg/m, m = 0.145 kg).
REFERENCE_RANGE = {
    "cannon": lambda speed, angle: speed**2 * np.sin(2 * angle) / G,
    "shotput": lambda speed, angle: float(linear_drag(speed, angle, 1.8, 7.26)["range"]),
    "baseball": lambda speed, angle: quadratic_scipy(speed, angle, 9e-4, 0.145)[1],
}


def test_uniform_design_is_uniform_in_its_box_and_seeded():
    v, theta = uniform_design(4000, (5.0, 85.0), (0.1, 1.4), jax.random.key(7))
    assert v.min() >= 5 and v.max() <= 85 and theta.min() >= 0.1 and theta.max() <= 1.4
    assert scipy.stats.kstest(v, scipy.stats.uniform(5, 80).cdf).pvalue > 1e-3
    assert scipy.stats.kstest(theta, scipy.stats.uniform(0.1, 1.3).cdf).pvalue > 1e-3
    assert abs(scipy.stats.pearsonr(v, theta).statistic) < 4 / np.sqrt(4000)  # independent axes
    again = uniform_design(4000, (5.0, 85.0), (0.1, 1.4), jax.random.key(7))
    other = uniform_design(4000, (5.0, 85.0), (0.1, 1.4), jax.random.key(8))
    assert np.array_equal(v, again[0]) and not np.array_equal(v, other[0])


def test_grid_design_is_the_lectures_grid():
    v, theta = grid_design((5.0, 85.0), (np.deg2rad(5), np.deg2rad(85)), 100, 100)
    V, T = np.meshgrid(np.linspace(5, 85, 100), np.linspace(np.deg2rad(5), np.deg2rad(85), 100), indexing="ij")
    assert np.array_equal(v, V.ravel()) and np.array_equal(theta, T.ravel())


@pytest.mark.parametrize("call,message", [
    (lambda: uniform_design(0, (0, 1), (0, 1), jax.random.key(0)), "n = 0"),
    (lambda: uniform_design(10, (2, 1), (0, 1), jax.random.key(0)),
     r"speed = \(2, 1\): the lower end must not exceed the upper"),
    (lambda: grid_design((0, 1), (0, 1), 3, 2.5), "n_angle = 2.5"),
    (lambda: measure(Projectile(), 1.0, 0.5, -0.1, jax.random.key(0)), "noise = -0.1"),
    (lambda: measure(Projectile(), 1.0, 0.5, 0.1, jax.random.key(0), relative=np.nan), "relative = nan"),
    (lambda: holdout(10, 1.0, 0), "fraction = 1.0"),
])
def test_bad_design_arguments_name_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_measure_without_noise_is_the_physics():
    v, theta = uniform_design(50, (1.0, 20.0), (0.05, 1.5), jax.random.key(1))
    d = measure(Projectile(), v, theta, 0.0, jax.random.key(2))
    np.testing.assert_allclose(d, v**2 * np.sin(2 * theta) / G, rtol=1e-14)


@pytest.mark.parametrize("noise,relative", [(0.5, 0.0), (0.0, 0.05)])
def test_measurement_noise_has_the_stated_size(noise, relative):
    n = 20_000
    v, theta = np.full(n, 30.0), np.full(n, 0.6)
    true = 30.0**2 * np.sin(1.2) / G
    d = measure(Projectile(), v, theta, noise, jax.random.key(3), relative=relative)
    sigma = noise if noise else relative * true
    low, high = scipy.stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1)
    sample_variance = np.var(d, ddof=1)
    assert (n - 1) * sample_variance / high <= sigma**2 <= (n - 1) * sample_variance / low
    assert abs(np.mean(d) - true) < 5 * sigma / np.sqrt(n)


def test_measurements_are_clipped_at_zero():
    d = measure(Projectile(), np.zeros(1000), np.full(1000, 0.7), 0.1, jax.random.key(4))
    assert d.min() == 0 and np.mean(d == 0) == pytest.approx(0.5, abs=0.05)


def test_simulate_shots_is_reproducible():
    p = Projectile(LinearDrag(1.8), mass=7.26)
    a = simulate_shots(p, 100, (5, 85), (0.1, 1.4), 0.1, jax.random.key(5))
    b = simulate_shots(p, 100, (5, 85), (0.1, 1.4), 0.1, jax.random.key(5))
    assert all(np.array_equal(a[k], b[k]) for k in ("speed", "angle", "distance"))


def test_holdout_is_a_seeded_partition():
    kept, held = holdout(1000, 0.2, 3)
    assert len(held) == 200 and len(kept) == 800
    assert np.array_equal(np.sort(np.concatenate([kept, held])), np.arange(1000))
    assert np.array_equal(held, holdout(1000, 0.2, 3)[1]) and not np.array_equal(held, holdout(1000, 0.2, 4)[1])


@pytest.mark.parametrize("name", ["cannon", "shotput", pytest.param("baseball", marks=pytest.mark.slow)])
def test_scenario_splits_lie_where_they_say(name):
    spec = SCENARIOS[name]
    splits = spec.splits(0, quick=True)
    train, extrap = splits["train"].X, splits["extrap"].X
    for X, (speed, angle) in ((train, (spec.speed, spec.angle)), (splits["interp"].X, (spec.speed, spec.angle)),
                              (extrap, (spec.extrap_speed, spec.extrap_angle))):
        assert speed[0] <= X[:, 0].min() and X[:, 0].max() <= speed[1]
        assert np.deg2rad(angle[0]) <= X[:, 1].min() and X[:, 1].max() <= np.deg2rad(angle[1])
    assert extrap[:, 0].min() >= train[:, 0].max()  # outside the training region: faster shots
    # The noise-free truth is the physics the scenario's description states, solved independently.
    for split in ("train", "extrap"):
        X, true = splits[split].X[:4], splits[split].true[:4]
        reference = [REFERENCE_RANGE[name](speed, angle) for speed, angle in X]
        np.testing.assert_allclose(true, reference, rtol=1e-9, atol=1e-12)
    assert np.std(splits["train"].y - splits["train"].true) == pytest.approx(spec.noise, rel=0.2)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_shots_streamed_in_chunks_are_the_shots_written_at_once(tmp_path, suffix):
    from hybridlab.data import read_shots, simulate_shot_chunks, write_shot_chunks, write_shots

    p = Projectile(LinearDrag(k=1.8), mass=7.26)
    key = jax.random.key(3)
    # n within one chunk: exactly simulate_shots' draws; beyond it, chunk i draws from fold_in(key, i).
    (one,) = simulate_shot_chunks(p, 20, (5, 85), (0.1, 1.4), 0.1, key, chunk=20)
    whole = simulate_shots(p, 20, (5, 85), (0.1, 1.4), 0.1, key)
    assert all(np.array_equal(one[name], whole[name]) for name in whole)
    chunks = list(simulate_shot_chunks(p, 20, (5, 85), (0.1, 1.4), 0.1, key, chunk=7))
    assert [len(c["speed"]) for c in chunks] == [7, 7, 6]
    assert np.array_equal(chunks[0]["speed"], simulate_shots(p, 7, (5, 85), (0.1, 1.4), 0.1, key)["speed"])
    assert np.array_equal(chunks[2]["distance"],
                          simulate_shots(p, 6, (5, 85), (0.1, 1.4), 0.1, jax.random.fold_in(key, 2))["distance"])
    write_shot_chunks(tmp_path / f"streamed{suffix}", iter(chunks))
    together = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
    write_shots(tmp_path / f"together{suffix}", together)
    streamed, at_once = read_shots(tmp_path / f"streamed{suffix}"), read_shots(tmp_path / f"together{suffix}")
    assert all(np.array_equal(streamed[name], at_once[name]) for name in at_once)
    if suffix == ".csv":
        assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "together.csv").read_bytes()
    # A bad chunk after good ones: nothing is written, and the error names the file.
    bad = dict(chunks[1], speed=-chunks[1]["speed"])
    with pytest.raises(ValueError, match=f"cannot write .*bad{suffix}.*speed"):
        write_shot_chunks(tmp_path / f"bad{suffix}", iter([chunks[0], bad]))
    assert sorted(os.listdir(tmp_path)) == [f"streamed{suffix}", f"together{suffix}"]
