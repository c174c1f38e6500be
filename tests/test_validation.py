"""Bad input gets a clear ValueError (concrete) or an Equinox runtime error (traced)."""

import equinox as eqx
import jax
import numpy as np
import pytest

from hybridlab import LinearDrag, Projectile, QuadraticDrag
from hybridlab.physics import PolynomialDrag


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: LinearDrag(k=-1.0), r"k = -1\.0: must be finite and >= 0"),
        (lambda: QuadraticDrag(c=float("nan")), r"c = nan"),
        (lambda: LinearDrag(k="abc"), r"k must be a real number, got 'abc'"),
        (lambda: Projectile(mass=0.0), r"mass = 0\.0: must be finite and > 0"),
        (lambda: Projectile(g=-9.81), r"g = -9\.81"),
        (lambda: Projectile(height=-2.0), r"height = -2\.0"),
        (lambda: Projectile(mass=[1.0, 2.0]), r"mass must be a scalar"),
        (lambda: Projectile(drag="linear"), r"drag must be a drag law"),
    ],
)
def test_invalid_parameters_name_themselves(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_invalid_launch_arrays_name_the_first_offender():
    p = Projectile(LinearDrag(k=1.8), mass=7.26)
    with pytest.raises(ValueError, match=r"speed\[2\] = -3\.0"):
        p.range(np.array([1.0, 2.0, -3.0, -4.0]), 0.5)
    with pytest.raises(ValueError, match=r"angle\[1, 0\] = -0\.1: must be in \[0, pi/2\]"):
        p.range(10.0, np.array([[0.1], [-0.1]]))
    with pytest.raises(ValueError, match=r"angle = 2\.0"):
        p.range(10.0, 2.0)
    with pytest.raises(ValueError, match=r"t\[1\] = -1\.0"):
        p.trajectory(10.0, 0.5, np.array([0.0, -1.0]))
    with pytest.raises(ValueError, match=r"speed = inf"):
        p.flight_time(np.inf, 0.5)
    with pytest.raises(ValueError, match=r"must broadcast together"):
        p.range(np.ones(3), np.ones(2))
    # Downward throws are fine from a height.
    assert float(Projectile(height=2.0).range(10.0, -0.5)) > 0


def test_traced_input_is_checked_at_run_time():
    p = Projectile(LinearDrag(k=1.8), mass=7.26)
    # Under jax.jit the error surfaces as a JAX runtime error carrying the message; under
    # eqx.filter_jit as an EquinoxRuntimeError.
    ranged = jax.jit(lambda speed, angle: p.range(speed, angle))
    assert np.isfinite(float(ranged(10.0, 0.5)))
    with pytest.raises(Exception, match="speed must be finite and >= 0"):
        ranged(-10.0, 0.5)
    with pytest.raises(eqx.EquinoxRuntimeError, match="angle must be in"):
        eqx.filter_jit(p.range)(10.0, -0.5)
    built_inside = jax.jit(lambda k: Projectile(LinearDrag(k=k), mass=7.26).range(10.0, 0.5))
    assert np.isfinite(float(built_inside(1.8)))
    with pytest.raises(Exception, match="k must be finite and >= 0"):
        built_inside(-1.8)


def test_compiling_a_method_and_what_a_failed_check_raises():
    from hybridlab.physics.validation import runtime_cause

    p = Projectile(LinearDrag(k=1.8), mass=7.26)
    eager = float(p.range(10.0, 0.5))
    assert float(eqx.filter_jit(p.range)(10.0, 0.5)) == eager
    assert float(jax.jit(lambda s, a: p.range(s, a))(10.0, 0.5)) == eager
    with pytest.raises(TypeError, match="unhashable type"):
        jax.jit(p.range)(10.0, 0.5)
    with pytest.raises(eqx.EquinoxRuntimeError) as filtered:
        eqx.filter_jit(p.range)(-10.0, 0.5)
    with pytest.raises(jax.errors.JaxRuntimeError, match="INTERNAL: CpuCallback error") as plain:
        jax.jit(lambda s, a: p.range(s, a))(-10.0, 0.5)
    for error in (filtered.value, plain.value):
        assert runtime_cause(error) == "speed must be finite and >= 0"
    assert runtime_cause(ValueError("one line\nmore")) == "one line"


class Stiff(eqx.Module):
    """Linear drag k = 1e8 kg/s through the ODE: stiff beyond the solver's step limit."""

    def force(self, vx, vy):
        return -1e8 * vx, -1e8 * vy


def test_a_failed_solve_is_one_line_naming_its_cause():
    with pytest.raises(ValueError) as error:
        Projectile(Stiff(), mass=1.0).range(10.0, 0.5)
    message = str(error.value)
    assert "\n" not in message and "maximum number of solver steps" in message and "speed = 10 m/s" in message


def test_unrepresentable_results_are_refused_in_one_line_naming_the_parameters():
    with pytest.raises(ValueError, match=r"^no drag: range overflows float64 .*speed = 1e\+308 m/s.*g = 9\.81") as error:
        Projectile().range(1e308, np.pi / 4)
    assert "\n" not in str(error.value) and "angle" not in str(error.value)
    with pytest.raises(ValueError, match=r"terminal length mass/c = 1e-600 m is below 1e-300 m.*c = 1e\+300"):
        Projectile(QuadraticDrag(1e300), mass=1e-300, g=9.81).range(10.0, 0.5)


def test_a_failed_rough_solve_is_refused_not_answered_from_mid_flight():
    # The rough solve that finds the landing's time fails (its step limit) on a launch at 1.7e5 m/s
    # into a constant drag of 1 N: the eager call runs the unchecked program first, which must give
    # NaN there (not the accurate solve's crossing at whatever time the rough one stopped: 0.0023 s,
    # where SciPy's Radau lands it at 2.37 s), so that the checked program names the cause.
    p = Projectile(PolynomialDrag(b=1.0, d=1e-5), mass=0.145, height=50.0)
    with pytest.raises(ValueError, match=r"^polynomial drag: The maximum number of solver steps was reached"):
        p.flight_time(169608.51554520664, -0.12819242020842656)
