"""Gradients of every observable with respect to every input, against central differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hybridlab import LinearDrag, NoDrag, Projectile, QuadraticDrag

# name, drag-law constructor (None for no drag), its parameter, mass, relative FD step.
# The ODE results carry ~1e-12 solver error, so they take a larger step than the closed forms.
LAWS = [
    ("none", None, 0.0, 7.26, 1e-6),
    ("linear", LinearDrag, 1.8, 7.26, 1e-6),
    # ~80 s (the Jacobian of every observable through the ODE); quadratic-drag gradients are also
    # checked by test_height_at and the fits.
    pytest.param("quadratic", QuadraticDrag, 9e-4, 0.145, 1e-4, marks=pytest.mark.slow),
]
NAMES = ["speed", "angle", "mass", "g", "height", "drag"]


def observables(params, law):
    speed, angle, mass, g, height, drag = params
    drag_law = NoDrag() if law is None else law(drag)
    p = Projectile(drag_law, mass=mass, g=g, height=height)
    apex, impact = p.apex(speed, angle), p.impact(speed, angle)
    return jnp.stack([p.range(speed, angle), p.flight_time(speed, angle), *apex, *impact])


# Module-level and compiled once per law (static): the two launches of a law share the program.
_observables = jax.jit(observables, static_argnums=1)
_jacobian = jax.jit(jax.jacrev(observables), static_argnums=1)


def central_differences(f, x, step):
    columns = []
    for i in range(len(x)):
        h = step * (abs(x[i]) or 1.0)
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        columns.append((np.asarray(f(up)) - np.asarray(f(down))) / (2 * h))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("name,law,drag,mass,step", LAWS, ids=["none", "linear", "quadratic"])
@pytest.mark.parametrize("speed,angle,height", [(25.0, 0.6, 2.0), (18.0, -0.3, 10.0)])
def test_jacobian_matches_central_differences(name, law, drag, mass, step, speed, angle, height):
    x = np.array([speed, angle, mass, 9.81, height, drag])
    jacobian = np.asarray(_jacobian(x, law))
    fd = central_differences(lambda params: _observables(params, law), x, step)
    if law is None:  # the drag column is a dummy
        jacobian, fd = jacobian[:, :5], fd[:, :5]
    assert np.isfinite(jacobian).all()
    # Row by row: each observable's gradient, relative to that gradient's size.
    for row, (got, want) in enumerate(zip(jacobian, fd)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max(), err_msg=f"row {row}")


def test_gradient_through_construction_inside_grad():
    # The example: the drag law is built from a traced k.
    g = jax.grad(lambda k: Projectile(drag=LinearDrag(k=k), mass=7.26).range(30.0, 0.6))(1.8)
    h = 1e-6
    fd = (
        Projectile(LinearDrag(k=1.8 + h), mass=7.26).range(30.0, 0.6)
        - Projectile(LinearDrag(k=1.8 - h), mass=7.26).range(30.0, 0.6)
    ) / (2 * h)
    assert float(g) == pytest.approx(float(fd), rel=1e-7)
    assert float(g) < 0


@pytest.mark.parametrize("height", [0.0, 2.0])
def test_reverse_mode_through_the_ode_is_finite_and_central_differences(height):
    """The fast suite's reverse-mode check of an ODE law (the full Jacobian above is slow): a
    ground launch once gave NaN here (0 × ∞ from the brief-flight branch it does not take)."""
    def distance(v, c):
        return Projectile(QuadraticDrag(c=c), mass=0.145, height=height).range(v, 0.6)

    grads = np.asarray(jax.grad(distance, argnums=(0, 1))(40.0, 9e-4))
    fd = [(distance(40.0 + 1e-4, 9e-4) - distance(40.0 - 1e-4, 9e-4)) / 2e-4,
          (distance(40.0, 9e-4 + 1e-8) - distance(40.0, 9e-4 - 1e-8)) / 2e-8]
    np.testing.assert_allclose(grads, fd, rtol=1e-5)


@pytest.mark.slow
def test_filter_grad_over_a_projectile():
    import equinox as eqx

    p = Projectile(QuadraticDrag(c=9e-4), mass=0.145, height=1.0)
    grads = eqx.filter_grad(lambda q: q.range(40.0, 0.5))(p)
    assert float(grads.drag.c) < 0 and float(grads.height) > 0 and float(grads.g) < 0
