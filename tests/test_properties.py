"""Physical laws that must hold everywhere: drag never lengthens a shot from the ground, and
more drag shortens it."""

import jax
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hybridlab import LinearDrag, Projectile, QuadraticDrag

speeds = st.floats(0.0, 120.0)
angles = st.floats(0.0, np.pi / 2)
drag_rates = st.floats(0.0, 50.0)


@jax.jit
def linear_range(k, speed, angle):
    return Projectile(LinearDrag(k=k), mass=7.26).range(speed, angle)


@jax.jit
def quadratic_range(c, speed, angle):
    return Projectile(QuadraticDrag(c=c), mass=0.145).range(speed, angle)


@given(speeds, angles, drag_rates, drag_rates)
def test_linear_range_decreases_as_k_grows(speed, angle, k1, k2):
    lo, hi = sorted((k1, k2))
    vacuum = Projectile().range(speed, angle)
    r_lo, r_hi = linear_range(lo, speed, angle), linear_range(hi, speed, angle)
    slack = 1e-12 * (1.0 + float(vacuum))
    assert float(r_hi) <= float(r_lo) + slack <= float(vacuum) + 2 * slack
    assert float(r_hi) >= 0.0


@given(st.floats(1.0, 60.0), st.floats(0.05, 1.5), st.floats(0.0, 0.05), st.floats(0.0, 0.05))
def test_quadratic_range_decreases_as_c_grows(speed, angle, c1, c2):
    lo, hi = sorted((c1, c2))
    vacuum = float(Projectile().range(speed, angle))
    r_lo, r_hi = float(quadratic_range(lo, speed, angle)), float(quadratic_range(hi, speed, angle))
    assert r_hi <= r_lo * (1 + 1e-10) and r_lo <= vacuum * (1 + 1e-10)
