"""Batches padded to a few sizes: the answers of every shot as SciPy's, and no new compile for a
batch of another size in the same bucket."""

import logging
import re

import jax
import numpy as np
import pytest
from reference import quadratic_scipy

from hybridlab import Projectile
from hybridlab.inverse import aim
from hybridlab.physics import LinearDrag, QuadraticDrag
from hybridlab.physics.batching import bucket

@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 63, 64, 65, 100, 129, 800, 1000, 100_000])
def test_a_bucket_holds_the_batch_with_at_most_an_eighth_more_beyond_64(n):
    size = bucket(n)
    assert size >= n
    if n <= 64:
        assert size == (n if n <= 1 else 1 << (n - 1).bit_length())
    else:
        assert size <= n * 9 / 8


def _compiles(call, caplog):
    """(call's result, the names of the programs it compiled)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING), jax.log_compiles():
        result = call()
    return result, [m.group(1) for m in (re.search(r"Compiling jit\((\w+)\)", r.getMessage()) for r in caplog.records) if m]


def test_batches_of_one_bucket_share_a_compiled_solve_and_give_scipys_ranges(caplog):
    p = Projectile(QuadraticDrag(0.0009), mass=0.145)
    speeds = np.linspace(15.0, 45.0, 27)
    angles = np.linspace(0.2, 1.2, 27)
    first, _ = _compiles(lambda: p.range(speeds[:19], angles[:19]), caplog)
    second, compiled = _compiles(lambda: p.range(speeds, angles), caplog)
    assert "_vectorised" not in compiled  # 19 and 27 shots are both solved as 32
    assert first.shape == (19,) and second.shape == (27,)
    expected = [quadratic_scipy(v, a, 0.0009, 0.145)[1] for v, a in zip(speeds, angles)]
    np.testing.assert_allclose(second, expected, rtol=1e-10)
    np.testing.assert_array_equal(first, second[:19])
    grid, compiled = _compiles(lambda: p.range(speeds[:21].reshape(3, 7), angles[:21].reshape(3, 7)), caplog)
    assert "_vectorised" not in compiled
    np.testing.assert_array_equal(grid, second[:21].reshape(3, 7))


def _linear_drag_height(speed, angle, distance, k, mass, g=9.81):
    """y(x = d) from the ground under F = −k v: t = −ln(1 − b d/v_x)/b, y = (v_y + g/b)(1 − e^{−bt})/b − g t/b."""
    b = k / mass
    vx, vy = speed * np.cos(angle), speed * np.sin(angle)
    t = -np.log1p(-b * distance / vx) / b
    return (vy + g / b) * -np.expm1(-b * t) / b - g / b * t


def test_aims_at_targets_of_one_bucket_share_a_compiled_search(caplog):
    p = Projectile(LinearDrag(0.45), mass=7.26)
    distances = np.linspace(20.0, 60.0, 13)
    eleven, _ = _compiles(lambda: aim(p, distances[:11], speed=30.0), caplog)
    thirteen, compiled = _compiles(lambda: aim(p, distances, speed=30.0), caplog)
    assert "_hits" not in compiled  # 11 and 13 targets are both searched as 16
    np.testing.assert_array_equal(eleven.low, thirteen.low[:11])
    # Each arc lands on its target: the closed-form height there is the ground's.
    for arc in (thirteen.low, thirteen.high):
        assert np.isfinite(arc).all()
        np.testing.assert_allclose(_linear_drag_height(30.0, arc, distances, 0.45, 7.26), 0.0, atol=1e-9)
