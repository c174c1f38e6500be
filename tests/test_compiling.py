"""How programs that carry an ODE solve are compiled (hybridlab.physics.compiling)."""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hybridlab.physics import LinearDrag, NoDrag, Projectile, QuadraticDrag, Wind
from hybridlab.physics.compiling import SOLVE_OPTIONS, by_motion, compiled, solve_jit
from reference import quadratic_scipy


def test_xla_accepts_the_solve_options():
    # A jaxlib that no longer knows the option refuses it at compile time: this says so.
    program = jax.jit(lambda x: jnp.sin(x) * 2.0, compiler_options=SOLVE_OPTIONS)
    assert float(program(jnp.asarray(0.5))) == pytest.approx(2 * np.sin(0.5), rel=1e-15)
    with pytest.raises(Exception, match="xla_cpu_no_such_option"):
        jax.jit(lambda x: x + 1.0, compiler_options={"xla_cpu_no_such_option": False})(jnp.asarray(1.0))


def test_solve_jit_works_eagerly_and_inside_another_program():
    @solve_jit
    def cube(x):
        return x**3

    assert float(cube(jnp.asarray(2.0))) == 8.0
    # JAX takes compile options only at the top level: nested, the function must not pass them.
    assert float(jax.jit(lambda x: cube(x) + 1.0)(jnp.asarray(2.0))) == 9.0
    assert float(jax.grad(lambda x: cube(x))(jnp.asarray(2.0))) == pytest.approx(12.0, rel=1e-15)
    assert np.allclose(jax.vmap(cube)(jnp.arange(3.0)), [0.0, 1.0, 8.0], rtol=0, atol=0)


def test_one_compiled_wrapper_per_function_and_kind():
    traces = []

    def double(x):
        traces.append(1)  # runs once per trace
        return 2 * x

    for _ in range(3):
        assert float(compiled(double, True)(jnp.asarray(1.5))) == 3.0
    assert len(traces) == 1
    assert float(compiled(double, False)(jnp.asarray(1.5))) == 3.0
    assert len(traces) == 2


@pytest.mark.parametrize(("projectile", "solved"), [
    (Projectile(NoDrag()), False),  # the parabola
    (Projectile(LinearDrag(k=0.1), mass=0.4), False),  # Lambert W
    (Projectile(LinearDrag(k=0.1), mass=0.4, wind=3.0), False),  # still closed in a constant wind
    (Projectile(LinearDrag(k=0.1), mass=0.4, wind=Wind(np.array([0.0, 2.0, 1.0]), 2.0)), True),
    (Projectile(QuadraticDrag(c=9e-4), mass=0.145), True),  # no closed form in 2-D
])
def test_a_program_is_compiled_as_a_solve_exactly_where_the_motion_has_no_closed_form(projectile, solved):
    assert projectile.solved_numerically() is solved
    kinds = []

    @by_motion
    def weight(p, mass):
        kinds.append(p.solved_numerically())  # at trace time: which program was compiled
        return mass * p.g

    assert float(weight(projectile, jnp.asarray(2.0))) == pytest.approx(2 * float(projectile.g), rel=1e-15)
    assert kinds == [solved]


def test_the_physics_fit_program_under_an_ode_law_holds_no_host_callback_so_the_disk_cache_keeps_it():
    # JAX's persistent cache writes no program that calls back into Python (Equinox's runtime
    # checks, Diffrax's throw=True): a runtime check lowers to a callback, which this looks for.
    from hybridlab.models.physics_fit import _range_jacobian

    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145)
    X = jnp.array([[30.0, 0.6], [40.0, 0.3]])
    assert "callback" not in _range_jacobian.lower(p, ("c",), jnp.array([9e-4]), X).as_text()
    checked = jax.jit(lambda x: eqx.error_if(x, x < 0, "negative")).lower(1.0).as_text()
    assert "callback" in checked  # what the test looks for is there when a check is


def test_range_valid_is_scipys_range_and_the_launches_are_checked_before():
    c, mass, height = 9e-4, 0.145, 2.0
    p = Projectile(QuadraticDrag(c=c), mass=mass, height=height)
    speed, angle = p.launches([10.0, 35.0, 50.0], [-0.3, 0.4, 1.2])
    expected = [quadratic_scipy(v, a, c, mass, float(p.g), height)[1] for v, a in zip(speed, angle)]
    assert np.allclose(p.range_valid(speed, angle, "forward"), expected, rtol=1e-10, atol=0)
    linear = Projectile(LinearDrag(k=0.1), mass=0.4)
    assert np.array_equal(linear.range_valid(*linear.launches(20.0, 0.7)), linear.range(20.0, 0.7))
    with pytest.raises(ValueError, match=r"angle\[1\] = 1.7: must be in \[0, pi/2\]"):
        linear.launches([20.0, 20.0], [0.5, 1.7])
    with pytest.raises(ValueError, match="mode"):
        p.range_valid(speed, angle, "sideways")


def test_an_eager_solve_runs_its_program_without_host_callbacks_which_gives_the_checked_values(monkeypatch):
    # JAX's persistent cache keeps no program that calls back into Python (Equinox's runtime checks,
    # Diffrax's throw=True): an eager flight, apex or trajectory under an ODE law runs the unchecked
    # program of numerical.UNCHECKED, which must give the checked program's values bit for bit.
    from hybridlab.physics import numerical
    from hybridlab.physics.projectile import _vectorised

    p = Projectile(QuadraticDrag(9e-4), mass=0.145, height=1.0)
    speed, angle = jax.device_put(np.linspace(5.0, 80.0, 8)), jax.device_put(np.linspace(-0.3, 1.4, 8))
    times = jax.device_put(np.linspace(0.1, 3.0, 8))
    program = compiled(_vectorised, True)
    values = {}
    for checked, unchecked in numerical.UNCHECKED.items():
        args = (p, speed, angle) + ((times,) if checked is numerical.trajectory else ())
        assert "callback" not in program.lower(unchecked, *args).as_text(), checked.__name__
        if checked is numerical.landing_forward:  # what an eager range runs
            assert "callback" in program.lower(checked, *args).as_text()  # what is looked for is there
            values[checked] = jax.tree.leaves(program(checked, *args))
            for ours, reference in zip(jax.tree.leaves(program(unchecked, *args)), values[checked]):
                np.testing.assert_array_equal(np.asarray(ours), np.asarray(reference))
    # And an eager range goes through it.
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return numerical.landing_forward_unchecked(*args, **kwargs)

    monkeypatch.setitem(numerical.UNCHECKED, numerical.landing_forward, counted)
    np.testing.assert_array_equal(np.asarray(p.range(speed, angle)), np.asarray(values[numerical.landing_forward][1]))
    assert calls


def test_a_kept_traced_program_is_read_back_in_place_of_a_trace_and_a_broken_one_is_traced_again(monkeypatch,
                                                                                                  tmp_path):
    # hybridlab.physics.exporting: what a later process reads instead of tracing gives what the
    # program gives; a truncated entry is traced and written again; a user's own law, or no
    # directory, is not kept.
    from hybridlab.physics import ballistic, exporting

    p, speed, angle = Projectile(QuadraticDrag(9e-4), mass=0.145), jax.device_put(np.linspace(1.0, 50.0, 7)), 0.6
    angle = jax.device_put(np.full(7, angle))
    reference = np.asarray(jax.jit(ballistic.landing)(p, speed, angle)[1])
    monkeypatch.delenv(exporting.ENVIRONMENT, raising=False)
    assert exporting.call(ballistic.landing, {}, p, speed, angle) is None
    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    np.testing.assert_array_equal(np.asarray(exporting.call(ballistic.landing, {}, p, speed, angle)[1]),
                                  reference)
    (entry,) = tmp_path.iterdir()
    monkeypatch.setattr(exporting, "_LOADED", {})  # as a new process
    monkeypatch.setattr(exporting, "_export", lambda *args: pytest.fail("traced again"))
    np.testing.assert_array_equal(np.asarray(exporting.call(ballistic.landing, {}, p, speed, angle)[1]),
                                  reference)
    monkeypatch.undo()
    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    entry.write_bytes(entry.read_bytes()[:100])  # truncated
    np.testing.assert_array_equal(np.asarray(exporting.call(ballistic.landing, {}, p, speed, angle)[1]),
                                  reference)
    assert entry.stat().st_size > 100  # written again

    class Own(QuadraticDrag):
        pass

    assert exporting.call(ballistic.landing, {}, Projectile(Own(9e-4), mass=0.145), speed, angle) is None


def test_kept_programs_key_their_plain_arguments_refuse_callbacks_and_closures_and_stay_bounded(monkeypatch,
                                                                                                tmp_path):
    # hybridlab.physics.exporting with plain arguments compiled in (as eqx.filter_jit does): each
    # value is a program of its own (an int and a float apart), read back as it was; a program
    # that calls back into Python (an Equinox check) is refused once, and an empty entry tells a
    # later process so without a trace; a closure, a bound method, a function outside hybridlab
    # and its libraries are never kept; the directory stays within its bound, least recent first.
    from hybridlab.physics import ballistic, exporting

    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    p, speed, angle = Projectile(mass=0.145), jax.device_put(np.linspace(1.0, 50.0, 7)), jax.device_put(np.full(7, 0.6))
    references = {}
    for t in (0.5, 1, 1.0):
        references[t] = np.asarray(eqx.filter_jit(ballistic.trajectory)(p, speed, angle, t))
        np.testing.assert_array_equal(np.asarray(exporting.call(ballistic.trajectory, {}, p, speed, angle, t)),
                                      references[t])
    assert len(list(tmp_path.iterdir())) == 3
    np.testing.assert_allclose(references[0.5][1], speed * np.sin(0.6) * 0.5 - 9.81 / 8, rtol=1e-14)
    monkeypatch.setattr(exporting, "_LOADED", {})  # as a new process: read back, none traced
    monkeypatch.setattr(exporting, "_export", lambda *args: pytest.fail("traced again"))
    np.testing.assert_array_equal(np.asarray(exporting.call(ballistic.trajectory, {}, p, speed, angle, 0.5)),
                                  references[0.5])
    monkeypatch.undo()
    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    assert exporting.call(eqx.error_if, {}, speed, speed < 0, "negative") is None
    (refused,) = [path for path in tmp_path.iterdir() if path.stat().st_size == 0]
    monkeypatch.setattr(exporting, "_LOADED", {})
    monkeypatch.setattr(exporting, "_export", lambda *args: pytest.fail("traced again"))
    assert exporting.call(eqx.error_if, {}, speed, speed < 0, "negative") is None
    offset = jnp.ones(7)

    def shifted(x):
        return x + offset

    class Shift(eqx.Module):
        by: float

        def apply(self, x):
            return x + self.by

    assert shifted.__closure__ and exporting.call(shifted, {}, speed) is None
    assert exporting.call(Shift(1.0).apply, {}, speed) is None
    assert exporting.call(ballistic.trajectory, {}, p, speed, angle, Shift(1.0).apply) is None
    assert exporting.call(_outside, {}, speed) is None
    monkeypatch.undo()
    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    oldest = min((path for path in tmp_path.iterdir() if path.stat().st_size), key=lambda path: path.stat().st_mtime)
    os.utime(oldest, (1.0, 1.0))
    bound = sum(max(path.stat().st_size, 4096) for path in tmp_path.iterdir())
    monkeypatch.setattr(exporting, "MAX_BYTES", bound)
    before = set(tmp_path.iterdir())
    exporting.call(ballistic.trajectory, {}, p, speed, angle, 2.0)  # one more: the least recent go
    (new,) = set(tmp_path.iterdir()) - before
    assert not oldest.exists() and refused.exists() and new.exists()
    assert sum(max(path.stat().st_size, 4096) for path in tmp_path.iterdir()) <= bound


def _outside(x):
    return 2.0 * x


def test_by_motion_keeps_a_solves_trace_only_where_asked(monkeypatch, tmp_path):
    # A function compiled by_motion(keep=True) under an ODE law goes through the kept programs
    # (one entry written; the answer the compiled program's, bit for bit); by default nothing is kept.
    from hybridlab.physics import exporting, numerical

    monkeypatch.setenv(exporting.ENVIRONMENT, str(tmp_path))
    monkeypatch.setattr(exporting, "_LOADED", {})
    p, speed, angle = Projectile(QuadraticDrag(9e-4), mass=0.145), jnp.asarray(40.0), jnp.asarray(0.6)
    plain = by_motion(numerical.landing_unchecked)(p, speed, angle)
    assert not list(tmp_path.iterdir())
    kept = by_motion(keep=True)(numerical.landing_unchecked)(p, speed, angle)
    assert len(list(tmp_path.iterdir())) == 1
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(kept)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
