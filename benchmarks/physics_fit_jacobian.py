"""Per-shot Jacobians ∂D_i/∂c through the event-located ODE solve: Diffrax's ForwardMode
against PhysicsFit's per-shot gradients and reverse mode, then the full baseball PhysicsFit.

    python benchmarks/physics_fit_jacobian.py [--shots N] [--reverse-shots M] [--no-fit]

The Jacobian of N baseball ranges (quadratic drag c = 9e-4 kg/m, m = 0.145 kg, the baseball
scenario's training launches: v in [10, 45] m/s, θ in [5°, 60°]) with respect to c, by
(1) ``jax.jacfwd`` through the solve with ``adjoint=diffrax.ForwardMode()``
    (``hybridlab.physics.numerical.FORWARD``): one forward-mode pass of the vmapped solve;
(2) PhysicsFit's former ``_shotwise`` (reproduced here): ``jax.jacfwd`` through a custom JVP
    built from per-shot reverse-mode gradients (one vmapped backward pass);
(3) ``jax.jacrev`` of the batched solve: one backward pass over all shots per output row
    (run on the first M shots, default N).
Each is jitted; "compile" is the time to trace, lower and compile it, "warm" the best of 10
calls of the compiled program (1 call for (3)). The three Jacobians are compared with each
other and with central differences of the ranges (c ± 1e-4 c). The range is x at the ground
crossing, so the crossing time's derivative is in it: numerical.py gets it from its Newton
step; the event time that Diffrax's own event finds is also differentiated under ForwardMode
and checked against central differences. Last, ``PhysicsFit.fit`` on the scenario's training
split (compile included, as a user sees it) and its estimate of c.
"""

from __future__ import annotations

import argparse
import platform
import time

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

import hybridlab as hl
from hybridlab.experiments.scenarios import SCENARIOS
from hybridlab.models import PhysicsFit
from hybridlab.physics import numerical

MASS, C = 0.145, 9e-4
STEP = 1e-4  # relative step of the central differences


def ranges(values, X):
    """The baseball ranges of launches X with c = values[0] (default adjoint: reverse mode)."""
    return hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=MASS).range(X[:, 0], X[:, 1])


def ranges_forward(values, X):
    """The same ranges with Diffrax's ForwardMode adjoint (what PhysicsFit now uses)."""
    return hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=MASS).range(X[:, 0], X[:, 1], mode="forward")


def _range_one(values, x):
    return hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=MASS).range(x[0], x[1])


@jax.custom_jvp
def ranges_shotwise(values, X):
    """PhysicsFit's former batched range (to 0262c4b): a custom JVP built from per-shot
    reverse-mode gradients, ∂D_i = ∇_p D_i · dp + ∇_x D_i · dX_i (one vmapped backward pass)."""
    return jax.vmap(_range_one, in_axes=(None, 0))(values, X)


@ranges_shotwise.defjvp
def _ranges_shotwise_jvp(primals, tangents):
    (values, X), (d_values, d_X) = primals, tangents
    out, (grad_values, grad_X) = jax.vmap(jax.value_and_grad(_range_one, argnums=(0, 1)),
                                          in_axes=(None, 0))(values, X)
    return out, grad_values @ d_values + jnp.sum(grad_X * d_X, axis=1)


def event_time(values, X):
    """Flight times (s) from Diffrax's event alone (accurate controller, ForwardMode): the
    event time is differentiated by Diffrax (implicit function theorem on its interpolant)."""
    p = hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=MASS)
    event = diffrax.Event(numerical._height, root_finder=numerical._ROOT_FINDER, direction=False)

    def one(v, a):
        t, _, (_, time_scale, _) = numerical._solve(p, v, a, numerical._T_MAX, event=event, adjoint=numerical.FORWARD)
        return t * time_scale

    return jax.vmap(one)(X[:, 0], X[:, 1])


def flight_time_forward(values, X):
    """Flight times (s) by numerical.landing (Newton step on the accurate solve), ForwardMode."""
    p = hl.Projectile(drag=hl.QuadraticDrag(c=values[0]), mass=MASS)
    return jax.vmap(lambda v, a: numerical.landing(p, v, a, adjoint=numerical.FORWARD)[0])(X[:, 0], X[:, 1])


def compiled(function, *args):
    """(compiled program, seconds to trace, lower and compile it)."""
    start = time.perf_counter()
    program = jax.jit(function).lower(*args).compile()
    return program, time.perf_counter() - start


def best_time(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function())
        times.append(time.perf_counter() - start)
    return min(times)


def central_differences(function, values, X):
    h = STEP * values
    f = jax.jit(function)
    return (np.asarray(f(values + h, X)) - np.asarray(f(values - h, X))) / (2 * h[0])


def relative(a, b):
    """The largest relative difference, shot by shot."""
    a, b = np.ravel(a), np.ravel(b)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def normwise(a, b):
    """max |a − b| / max |b|: the difference relative to the Jacobian's scale."""
    a, b = np.ravel(a), np.ravel(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def physics_fit(c):
    try:  # the spec of the redesigned library (5c94b0e), then the earlier one
        return PhysicsFit({"drag": {"law": "quadratic", "c": c}, "mass": MASS}, unknown=["c"])
    except ValueError:
        return PhysicsFit({"drag": "quadratic", "c": c, "mass": MASS}, unknown=["c"])


def flight_times(c, X):
    """The crossing time under forward mode: Diffrax's event, and numerical.landing's Newton step."""
    event_jac = np.asarray(jax.jit(jax.jacfwd(event_time))(c, X))[:, 0]
    newton_jac = np.asarray(jax.jit(jax.jacfwd(flight_time_forward))(c, X))[:, 0]
    event_fd = central_differences(event_time, c, X)
    newton_fd = central_differences(flight_time_forward, c, X)
    print(f"\nflight time dT_i/dc on {len(X)} shots, forward mode (max relative difference: "
          "shot by shot / normwise)")
    for label, a, b in (("Diffrax event time (ForwardMode) vs its central differences", event_jac, event_fd),
                        ("landing's Newton step (ForwardMode) vs its central differences", newton_jac, newton_fd),
                        ("Diffrax event time vs landing's Newton step", event_jac, newton_jac)):
        print(f"  {label:64s}{relative(a, b):9.1e} /{normwise(a, b):8.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=800)
    parser.add_argument("--reverse-shots", type=int, default=None, help="shots for (3) jacrev (default: --shots)")
    parser.add_argument("--no-fit", action="store_true", help="skip the PhysicsFit run")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, jax {jax.__version__}, diffrax {diffrax.__version__} "
          f"on {jax.devices()[0]}")
    splits = SCENARIOS["baseball"].splits(0, quick=False)
    X = jnp.asarray(splits["train"].X[: args.shots])
    X_reverse = X[: args.reverse_shots or args.shots]
    c = jnp.array([C])
    n, n_reverse = len(X), len(X_reverse)

    methods = {
        "(1) jacfwd, ForwardMode": (jax.jacfwd(ranges_forward), X, 10),
        "(2) _shotwise (former PhysicsFit)": (jax.jacfwd(ranges_shotwise), X, 10),
        "(3) jacrev, batched": (jax.jacrev(ranges), X_reverse, 1),
    }
    has_forward = hasattr(numerical, "FORWARD")
    if not has_forward:  # a numerical.py from before the adjoint switch: (2) and (3) only
        del methods["(1) jacfwd, ForwardMode"]
    jacobians, rows = {}, []
    for name, (function, data, repeats) in methods.items():
        program, compile_s = compiled(function, c, data)
        jacobians[name] = np.asarray(program(c, data))[:, 0]  # first call (not timed)
        warm_s = best_time(lambda: program(c, data), repeats)
        rows.append((name, len(data), compile_s, warm_s))
    fd = central_differences(ranges, c, X)

    print(f"\nJacobian dD_i/dc of {n} baseball ranges (c = {C:g} kg/m, m = {MASS} kg)")
    print(f"{'method':30s}{'shots':>6s}{'compile s':>11s}{'warm s':>10s}{'warm ms/shot':>14s}")
    for name, shots, compile_s, warm_s in rows:
        print(f"{name:30s}{shots:6d}{compile_s:11.2f}{warm_s:10.4f}{1e3 * warm_s / shots:14.4f}")
    shotwise, reverse = jacobians["(2) _shotwise (former PhysicsFit)"], jacobians["(3) jacrev, batched"]
    print("max relative differences, shot by shot:")
    print(f"  (3) vs (2)   {relative(reverse, shotwise[:n_reverse]):.1e}")
    print(f"  (2) vs central differences (step {STEP:g} c)   {relative(shotwise, fd):.1e}")
    if not has_forward:
        print("(numerical.py has no FORWARD adjoint: (1) and the event checks skipped)")
    else:
        forward = jacobians["(1) jacfwd, ForwardMode"]
        print(f"  (1) vs (2)   {relative(forward, shotwise):.1e}")
        print(f"  (1) vs central differences                   {relative(forward, fd):.1e}")
        (_, _, _, t1), (_, _, _, t2), (_, _, _, t3) = rows
        print(f"warm: (2) / (1) = {t2 / t1:.2f}x; (3) per shot / (1) per shot = {(t3 / n_reverse) / (t1 / n):.0f}x; "
              f"faster of (1) and (2): {min(rows[:2], key=lambda row: row[3])[0]}")
        flight_times(c, X[:100])


    if args.no_fit:
        return
    start = time.perf_counter()
    model = physics_fit(5e-4)
    model.fit(splits["train"].X, splits["train"].y)
    estimate = model.physics_estimates()["c"]
    print(f"\nPhysicsFit on {len(splits['train'].y)} baseball shots (c from 5e-4, compile included): "
          f"{time.perf_counter() - start:.1f} s, c = {estimate['value']:.6g} ± {estimate['stderr']:.2g} kg/m")


if __name__ == "__main__":
    main()
